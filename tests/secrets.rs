//! A recognisable fake key through every path that could leak it: chat,
//! models, the org sync, the console with exports, and the log. Nothing
//! llmdeck writes or prints may hold it. Then the other secrets a profile
//! holds (a gateway header, a query `code`, a short header value) and a
//! server that echoes them all back, in an error body and in the stream.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::mock_server::{Mock, Reply};
use support::tmux::Tmux;

const KEY: &str = "sk-FAKE.llmdeck.leak.canary.0123456789";
const ADMIN: &str = "sk-admin.FAKE.leak.canary.9876543210";

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
}

#[test]
fn no_key_reaches_a_file_a_log_an_export_or_the_output() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    // A profile whose key comes from a command, with a stray newline.
    std::fs::write(
        home.path().join("config/config.toml"),
        format!(
            "default_profile = \"mock\"\n[profiles.mock]\nbase_url = \"{0}\"\nadmin_base_url = \"{0}\"\napi_key_command = \"printf '%s\\\\n' \\\"$CANARY\\\"\"\nmodel = \"gpt-4o\"\n",
            mock.base_url
        ),
    )
    .unwrap();
    let log = home.path().join("llmdeck.log");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LLMDECK_HOME", home.path())
            .env("LLMDECK_LOG", &log)
            .env("OPENAI_ADMIN_KEY", ADMIN)
            .env("CANARY", KEY)
            .args(args)
            .output()
            .unwrap();
        let mut all = out.stdout.clone();
        all.extend(&out.stderr);
        (out.status.success(), all)
    };
    let mut outputs = Vec::new();
    for args in [
        &["chat", "--json", "hello"][..],
        &["chat", "hello again"][..],
        &["models", "--json"][..],
        &["usage", "sync", "--since", "3d"][..],
        &["usage", "--by", "profile", "--csv"][..],
        &["pricing", "--json"][..],
    ] {
        let (ok, out) = run(args);
        assert!(ok, "{args:?}: {}", String::from_utf8_lossy(&out));
        outputs.push(out);
    }
    // The console too, with both exports, when tmux is here to run it.
    let log_arg = log.display().to_string();
    let env = [
        ("LLMDECK_LOG", log_arg.as_str()),
        ("CANARY", KEY),
        ("OPENAI_ADMIN_KEY", ADMIN),
    ];
    if let Some(t) = Tmux::start(home.path(), &env, &[]) {
        t.wait_for("Prompt");
        t.type_text("hi from the console");
        t.keys(&["Enter"]);
        let screen = t.wait_for("Hello from the mock.");
        assert!(!screen.contains(KEY));
        // To the transcript, where m and x export (Tab, not Escape: an ESC
        // arriving with the next key would read as Alt-m).
        t.keys(&["Tab"]);
        // Each export is waited for on disk, however slow the machine.
        for (n, key) in [(1, "m"), (2, "x")] {
            t.keys(&[key]);
            let start = std::time::Instant::now();
            while files(&home.path().join("data/exports")).len() < n {
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(20),
                    "export {key} never written"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        t.keys(&["C-q"]);
        t.wait_exit();
        let exports: Vec<_> = files(&home.path().join("data/exports"));
        assert_eq!(exports.len(), 2, "both exports were written: {exports:?}");
    }
    // The key was really used.
    let sent = mock.chat_requests();
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    // The log exists and says what happened, with credentials redacted.
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("authorization: [redacted]"), "{log_text}");
    assert!(log_text.contains("HTTP 200"), "{log_text}");
    for (i, out) in outputs.iter().enumerate() {
        assert!(
            !holds(out, KEY) && !holds(out, ADMIN),
            "output {i} leaks a key"
        );
    }
    let written = files(home.path());
    assert!(written.len() >= 3, "{written:?}");
    for f in written {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!holds(&bytes, KEY), "key in {}", f.display());
        assert!(!holds(&bytes, ADMIN), "admin key in {}", f.display());
    }
}

#[test]
fn a_config_with_a_key_header_readable_by_others_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let config = home.path().join("config/config.toml");
    std::fs::write(
        &config,
        "[profiles.x]\nheaders = { \"api-key\" = \"pasted\" }\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("LLMDECK_HOME", home.path())
        .args(["--demo", "chat", "hi"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("readable by others"), "{err}");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("LLMDECK_HOME", home.path())
        .args(["--demo", "chat", "hi"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("readable by others"));
}

const HEADER: &str = "apim-FAKE.header.canary.5555";
const QUERY: &str = "fncode-FAKE.query.canary.7777";
const SHORT: &str = "x7Kp2q";

#[test]
fn header_query_short_and_echoed_secrets_reach_no_file_log_or_screen() {
    let mock = Mock::start_in_background();
    let echo =
        format!("Incorrect API key provided: {KEY}; header {HEADER}; pin {SHORT}; code {QUERY}.");
    for _ in 0..2 {
        mock.push(Reply::Status {
            status: 401,
            body: serde_json::json!({"error": {"message": echo, "type": "invalid_request_error"}})
                .to_string(),
            headers: vec![],
        });
        mock.push(Reply::Failed {
            pieces: vec![format!("partial, and the pin is {SHORT} ")],
            message: echo.clone(),
        });
    }
    let home = support::home_with_config(&format!(
        r#"default_profile = "gateway"
[profiles.gateway]
base_url = "{}"
api_key_command = "printf '%s' \"$CANARY\""
model = "gpt-4o"
headers = {{ "Ocp-Apim-Subscription-Key" = "{HEADER}", "X-Pin" = "{SHORT}", "X-Title" = "llmdeck canary" }}
query = {{ code = "{QUERY}", "api-version" = "2024-10-21" }}
"#,
        mock.base_url
    ));
    let log = home.path().join("llmdeck.log");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LLMDECK_HOME", home.path())
            .env("LLMDECK_LOG", &log)
            .env("CANARY", KEY)
            .args(args)
            .output()
            .unwrap();
        let mut all = out.stdout.clone();
        all.extend(&out.stderr);
        all
    };
    let mut outputs = vec![
        run(&["chat", "the 401"]),
        run(&["chat", "--json", "the stream error"]),
        run(&["models", "--json"]),
    ];
    assert!(
        String::from_utf8_lossy(&outputs[0])
            .contains("HTTP 401: Incorrect API key provided: [redacted]"),
        "{}",
        String::from_utf8_lossy(&outputs[0])
    );
    // The console: the same two echoes, stored in a conversation, and view code.
    let env = [("LLMDECK_LOG", log.to_str().unwrap()), ("CANARY", KEY)];
    if let Some(t) = Tmux::start(home.path(), &env, &[]) {
        t.wait_for("Prompt");
        t.type_text("hi from the console");
        t.keys(&["Enter"]);
        outputs.push(t.wait_for("HTTP 401").into_bytes());
        t.type_text("and again");
        t.keys(&["Enter"]);
        outputs.push(t.wait_for("partial, and the pin").into_bytes());
        outputs.push(t.screen().into_bytes());
        t.keys(&["C-g"]);
        outputs.push(
            t.wait_for("LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY")
                .into_bytes(),
        );
        t.keys(&["Escape"]);
        t.wait_gone("LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY");
        t.keys(&["C-q"]);
        // Everything is saved once it has exited.
        t.wait_exit();
        // The echoes were stored, scrubbed.
        let stored: String = files(&home.path().join("data/conversations"))
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect();
        assert!(
            stored.contains("Incorrect API key provided: [redacted]"),
            "{stored}"
        );
    }
    // The secrets were really sent.
    let sent = mock.chat_requests();
    assert_eq!(sent[0].header("ocp-apim-subscription-key"), Some(HEADER));
    assert_eq!(sent[0].header("x-pin"), Some(SHORT));
    assert!(
        sent[0].path.contains(&format!("code={QUERY}")),
        "{}",
        sent[0].path
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("HTTP 401"), "{log_text}");
    let secrets = [KEY, HEADER, QUERY, SHORT];
    for (i, out) in outputs.iter().enumerate() {
        for s in secrets {
            assert!(
                !holds(out, s),
                "output {i} holds {s}:\n{}",
                String::from_utf8_lossy(out)
            );
        }
    }
    let written = files(home.path());
    assert!(
        written
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "json")),
        "{written:?}"
    );
    // Only the user's own config may hold them.
    for f in written
        .iter()
        .filter(|f| !f.ends_with("config/config.toml"))
    {
        let bytes = std::fs::read(f).unwrap();
        for s in secrets {
            assert!(!holds(&bytes, s), "{s} in {}", f.display());
        }
    }
}

/// Presenter mode: a server's error that names the endpoint and the project
/// is shown without them, and so is view code.
#[test]
fn presenter_mode_shows_no_host_or_project_id_even_in_server_errors() {
    let mock = Mock::start_in_background();
    let host = mock
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    mock.push(Reply::Status {
        status: 429,
        body: serde_json::json!({"error": {"message": format!(
            "Rate limit reached at {} for project proj_canary42 in organization org-canary42",
            mock.base_url
        ), "type": "requests", "code": "insufficient_quota"}})
        .to_string(),
        headers: vec![],
    });
    let home = support::home_with_config(&format!(
        "default_profile = \"p\"\n[profiles.p]\nbase_url = \"{}\"\napi_key_env = \"K\"\nmodel = \"gpt-4o\"\nproject = \"proj_canary42\"\norganization = \"org-canary42\"\n",
        mock.base_url
    ));
    let Some(t) = Tmux::start(home.path(), &[("K", "sk-presenter-test")], &["--presenter"]) else {
        return;
    };
    t.wait_for("Prompt");
    t.type_text("hi");
    t.keys(&["Enter"]);
    let mut screens = vec![t.wait_for("HTTP 429")];
    t.keys(&["C-g"]);
    screens.push(t.wait_for("curl"));
    for screen in screens {
        for hidden in [host.as_str(), "proj_canary42", "org-canary42"] {
            assert!(!screen.contains(hidden), "{hidden} shown:\n{screen}");
        }
    }
}

/// A query `code` is a secret too; a secret too short to scrub is named.
#[test]
fn a_secret_query_value_or_a_too_short_secret_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let config = home.path().join("config/config.toml");
    std::fs::write(
        &config,
        "default_profile = \"x\"\n[profiles.x]\nbase_url = \"http://127.0.0.1:9/v1\"\nquery = { code = \"az-func-code-123\", \"api-version\" = \"1\" }\nheaders = { \"X-Pin\" = \"42\", \"X-Title\" = \"t\" }\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("LLMDECK_HOME", home.path())
        .args(["pricing", "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("readable by others"), "{err}");
    assert!(
        err.contains("header \"X-Pin\" is shorter than 4 characters"),
        "{err}"
    );
    assert!(
        !err.contains("X-Title") && !err.contains("api-version"),
        "{err}"
    );
}
