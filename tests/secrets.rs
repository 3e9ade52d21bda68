//! A recognisable fake key through every path that could leak it: chat,
//! models, the org sync, the console with exports, and the log. Nothing
//! llmdeck writes or prints may hold it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::mock_server::Mock;
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
        for key in ["Escape", "m", "x", "C-q"] {
            t.keys(&[key]);
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        drop(t);
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
