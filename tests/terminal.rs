//! The real binary in a real terminal: tmux runs it, `send-keys` types,
//! `capture-pane` reads the screen — as a new user would see it.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::mock_server::Mock;

struct Tmux {
    session: String,
}

impl Tmux {
    /// Starts `llmdeck` with `env` in a 100x30 pane; `None` when tmux is missing.
    fn start(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("skipped: tmux is not installed (.ci/run installs it)");
            return None;
        }
        // tmux session names cannot hold '.' or ':'.
        let tag: String = home
            .file_name()?
            .to_str()?
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let session = format!("llmdeck-test-{}-{tag}", std::process::id());
        let mut cmd = format!(
            "env -u OPENAI_API_KEY -u OPENAI_BASE_URL LLMDECK_HOME={} TERM=xterm-256color",
            home.display()
        );
        for (k, v) in env {
            cmd.push_str(&format!(" {k}={v}"));
        }
        cmd.push_str(&format!(" {}", env!("CARGO_BIN_EXE_llmdeck")));
        for a in args {
            cmd.push_str(&format!(" {a}"));
        }
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "100",
                "-y",
                "30",
                &cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux could not start");
        Some(Self { session })
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn type_text(&self, text: &str) {
        assert!(
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, "-l", text])
                .status()
                .unwrap()
                .success()
        );
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.session])
            .output()
            .unwrap()
            .status
            .success()
    }

    /// Waits until the screen shows `text`; panics with the screen if it never does.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("never saw {text:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}

fn home_with_config(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(home.path().join("config/config.toml"), config).unwrap();
    home
}

#[test]
fn demo_mode_answers_a_typed_prompt_and_quits_cleanly() {
    let home = home_with_config("[demo]\ntokens_per_second = 400\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    let screen = t.wait_for("DEMO");
    assert!(
        screen.contains("no API key or endpoint is configured"),
        "{screen}"
    );
    t.type_text("show me some rust code");
    t.keys(&["Enter"]);
    let screen = t.wait_for("tok/s");
    assert!(screen.contains("best for random access"), "{screen}");
    assert!(
        screen.contains("$0.0"),
        "the answer shows its cost: {screen}"
    );
    // The conversation was saved and a ledger row written.
    t.keys(&["C-c"]);
    let start = Instant::now();
    while t.alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!t.alive(), "Ctrl-C quits");
    let saved: Vec<_> = std::fs::read_dir(home.path().join("data/conversations"))
        .unwrap()
        .collect();
    assert_eq!(saved.len(), 1);
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (status, api): (String, String) = ledger
        .query_row("SELECT status, api FROM requests", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((status.as_str(), api.as_str()), ("ok", "demo"));
}

#[test]
fn esc_stops_a_stream_and_keeps_the_partial_answer() {
    let home = home_with_config("[demo]\ntokens_per_second = 20\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("hello");
    t.keys(&["Enter"]);
    t.wait_for("You are in the offline demo");
    t.keys(&["Escape"]);
    let screen = t.wait_for("stopped");
    assert!(
        screen.contains("≈"),
        "usage of a stopped answer is estimated: {screen}"
    );
    assert!(
        !screen.contains("every key of this pane"),
        "the stream really stopped: {screen}"
    );
}

#[test]
fn a_real_endpoint_streams_and_the_key_never_shows() {
    let mock = Mock::start_in_background();
    let home = home_with_config("");
    let key = "sk-llmdeck-test-SECRET-0123456789";
    let Some(t) = Tmux::start(
        home.path(),
        &[("OPENAI_BASE_URL", &mock.base_url), ("OPENAI_API_KEY", key)],
        &["--model", "gpt-4o-mini"],
    ) else {
        return;
    };
    let screen = t.wait_for("Prompt");
    assert!(!screen.contains("DEMO"), "{screen}");
    assert!(
        screen.contains("127.0.0.1"),
        "the status bar names the host: {screen}"
    );
    t.type_text("hi there");
    t.keys(&["Enter"]);
    let screen = t.wait_for("Hello from the mock.");
    assert!(screen.contains("1200 in (1000 cached)"), "{screen}");
    assert!(!screen.contains("SECRET"), "{screen}");
    let sent = mock.chat_requests();
    assert_eq!(
        sent[0].header("authorization"),
        Some(&*format!("Bearer {key}"))
    );
    t.keys(&["C-q"]);
    std::thread::sleep(Duration::from_millis(500));
    // Nothing llmdeck wrote holds the key.
    for entry in walk(home.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "key found in {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
