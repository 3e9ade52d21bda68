//! The organization admin key goes only to OpenAI (or to the admin endpoint a
//! profile names), never over plain http but to this machine, and no
//! credential follows a redirect to another origin. Every server is a mock
//! on 127.0.0.1.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::mock_server::{Hostile, Mock};

const ADMIN: &str = "sk-admin-canary-7f3a";
const KEY: &str = "sk-gateway-canary-91c2";
const GATEWAY: &str = "gateway-header-canary-55d0";

/// Runs llmdeck with `profile` (TOML lines) as the default profile.
fn run(home: &Path, profile: &str, args: &[&str]) -> Output {
    std::fs::create_dir_all(home.join("config")).unwrap();
    std::fs::write(
        home.join("config/config.toml"),
        format!("default_profile = \"p\"\n[profiles.p]\n{profile}\n"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home)
        .env("OPENAI_ADMIN_KEY", ADMIN)
        .env("GATEWAY_KEY", KEY)
        // A request that would leave this machine dies at a dead local proxy.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn holds_a_credential(mock: &Mock) -> bool {
    mock.received().iter().any(|r| {
        r.headers
            .iter()
            .any(|(_, v)| v.contains(ADMIN) || v.contains(KEY) || v.contains(GATEWAY))
    })
}

#[test]
fn usage_sync_sends_no_admin_key_to_a_profiles_gateway() {
    let gateway = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let profile = format!(
        "base_url = \"{}\"\napi_key_env = \"GATEWAY_KEY\"",
        gateway.base_url
    );
    let out = run(home.path(), &profile, &["usage", "sync", "--since", "3d"]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("admin key goes only to api.openai.com"),
        "{said}"
    );
    assert!(said.contains("admin_base_url"), "{said}");
    assert!(gateway.received().is_empty(), "the gateway was asked");
}

#[test]
fn usage_sync_goes_to_an_explicit_admin_endpoint_on_loopback() {
    let admin = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let profile = format!(
        "base_url = \"http://127.0.0.1:9/v1\"\nadmin_base_url = \"{}\"",
        admin.base_url
    );
    let out = run(home.path(), &profile, &["usage", "sync", "--since", "3d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let org = admin.received();
    assert!(!org.is_empty());
    assert!(org.iter().all(|r| r.path.starts_with("/v1/organization/")));
    assert_eq!(
        org[0].header("authorization"),
        Some(format!("Bearer {ADMIN}").as_str())
    );
}

#[test]
fn an_admin_endpoint_over_plain_http_elsewhere_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let profile = "admin_base_url = \"http://admin.example.com/v1\"";
    let out = run(home.path(), profile, &["usage", "sync"]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("http://admin.example.com is plain http"),
        "{said}"
    );
}

#[test]
fn usage_sync_follows_no_redirect_to_another_origin() {
    let (first, second) = (Mock::start_in_background(), Mock::start_in_background());
    first.misbehave(Hostile::Redirect(
        second.base_url.trim_end_matches("/v1").into(),
    ));
    let home = tempfile::tempdir().unwrap();
    let profile = format!("admin_base_url = \"{}\"", first.base_url);
    let out = run(home.path(), &profile, &["usage", "sync", "--since", "3d"]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("redirect not followed"), "{said}");
    assert!(second.received().is_empty(), "the redirect was followed");
}

#[test]
fn a_chat_redirect_to_another_origin_carries_no_key_or_header() {
    let (first, second) = (Mock::start_in_background(), Mock::start_in_background());
    first.misbehave(Hostile::Redirect(
        second.base_url.trim_end_matches("/v1").into(),
    ));
    let home = tempfile::tempdir().unwrap();
    // Azure-style: the key in `api-key`, a gateway key in its own header.
    let profile = format!(
        "base_url = \"{}\"\napi_key_env = \"GATEWAY_KEY\"\nauth = \"api-key\"\nmodel = \"gpt-4o\"\nheaders = {{ \"Ocp-Apim-Subscription-Key\" = \"{GATEWAY}\" }}",
        first.base_url
    );
    let out = run(home.path(), &profile, &["chat", "hello"]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("redirect not followed"), "{said}");
    assert!(said.contains("another origin"), "{said}");
    assert!(!holds_a_credential(&second), "a credential crossed origins");
    assert!(second.received().is_empty(), "the redirect was followed");
    assert_eq!(
        first.received().len(),
        1,
        "a refused redirect is not retried"
    );
}
