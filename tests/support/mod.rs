//! Test helpers shared by the integration tests.

#![allow(dead_code)]

pub mod batch_run;
pub mod console;
pub mod emulator;
pub mod heap;
pub mod mock_batch;
pub mod mock_responses;
pub mod mock_server;
pub mod openapi;
pub mod postgres;
pub mod pty;
pub mod snippets;
pub mod team;
pub mod tmux;

use std::sync::Arc;

use chrono::Utc;
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Effect, Machine, Origin};
use llmdeck::usage::PriceTable;

/// A test that cannot run on this machine. Under `LLMDECK_REQUIRE_ALL=1`
/// (what `.ci/run` sets) that fails it with the reason; elsewhere the reason goes
/// straight to the terminal's stderr, which `cargo test` does not capture, so a
/// developer sees every skip.
pub fn skip(reason: &str) {
    if std::env::var_os("LLMDECK_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("LLMDECK_REQUIRE_ALL=1, but this test cannot run here: {reason}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
}

/// A plain HTTP endpoint at `base_url` with `key`, speaking `api`: what the
/// client tests talk to (a bearer key, no organization, no extra headers).
pub fn endpoint(
    base_url: &str,
    key: &str,
    api: llmdeck::chat::params::Api,
) -> llmdeck::config::profile::HttpEndpoint {
    llmdeck::config::profile::HttpEndpoint {
        base_url: base_url.into(),
        key: llmdeck::config::Secret::new(key),
        key_env: "OPENAI_API_KEY".into(),
        auth: llmdeck::config::profile::AuthStyle::Bearer,
        organization: None,
        project: None,
        headers: Default::default(),
        query: Default::default(),
        public: Default::default(),
        api,
        store: false,
    }
}

/// A fresh LLMDECK_HOME holding `config` as its config.toml.
pub fn home_with_config(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(home.path().join("config/config.toml"), config).unwrap();
    home
}

/// A state machine over a new conversation with `model`, priced with the embedded table.
pub fn machine(model: &str) -> Machine {
    let origin = Origin {
        source: "test".into(),
        profile: "p".into(),
        host: "h".into(),
        api: "chat".into(),
    };
    Machine::new(
        Conversation::new(model, Utc::now()),
        origin,
        Arc::new(PriceTable::embedded()),
    )
}

/// The id of the request an input started.
pub fn started(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Start { request_id, .. } => Some(*request_id),
            _ => None,
        })
        .expect("a request was started")
}

/// The real binary with only PATH and LLMDECK_HOME (and the mock's endpoint
/// and a fake key) in its environment.
pub fn llmdeck_command(
    home: &std::path::Path,
    mock: Option<&mock_server::Mock>,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_llmdeck"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home)
        .args(args);
    if let Some(m) = mock {
        cmd.env("OPENAI_BASE_URL", &m.base_url)
            .env("OPENAI_API_KEY", "sk-cli-test");
    }
    cmd
}

/// Runs the binary of `llmdeck_command`, with `stdin` piped in.
pub fn llmdeck(
    home: &std::path::Path,
    mock: Option<&mock_server::Mock>,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut cmd = llmdeck_command(home, mock, args);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// The answer's text in a list of stream events.
pub fn text(events: &[llmdeck::provider::event::StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            llmdeck::provider::event::StreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}
