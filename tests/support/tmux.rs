//! Driving the real binary in a real terminal: tmux runs it, `send-keys`
//! types, `capture-pane` reads the screen.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// tmux on a server of this test process's own (its own socket, no config
/// file): a developer's tmux, its settings and its sessions take no part.
pub fn tmux() -> Command {
    let mut cmd = Command::new("tmux");
    cmd.args(["-L", &format!("llmdeck-tests-{}", std::process::id())])
        .args(["-f", "/dev/null"]);
    cmd
}

/// Starts this process's tmux server once, with a session that lives as long as
/// the test process: tmux exits when its last session ends, and a test's
/// `new-session` racing another test's last exit met a server on its way out
/// ("tmux could not start", seen on a loaded machine).
fn keep_server() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let pid = std::process::id();
        let watch = format!("while kill -0 {pid} 2>/dev/null; do sleep 1; done");
        let ok = tmux()
            .args(["new-session", "-d", "-s", "keep-server", &watch])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux could not start its server");
    });
}

pub struct Tmux {
    pub session: String,
}

impl Tmux {
    /// Starts `llmdeck` with `env` in a 100x30 pane; `None` when tmux is missing.
    pub fn start(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            super::skip("tmux is not installed (.ci/run installs it)");
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
        Some(Self::run(session, &cmd))
    }

    /// Runs a shell command line in a new 100x30 session.
    pub fn run(session: String, cmd: &str) -> Self {
        keep_server();
        let ok = tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "100",
                "-y",
                "30",
                cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux could not start");
        Self { session }
    }

    /// The process running in the pane (`env` execs, so it is llmdeck itself).
    pub fn pid(&self) -> String {
        let out = tmux()
            .args(["display", "-p", "-t", &self.session, "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        assert!(tmux().args(&args).status().unwrap().success());
    }

    pub fn type_text(&self, text: &str) {
        assert!(
            tmux()
                .args(["send-keys", "-t", &self.session, "-l", text])
                .status()
                .unwrap()
                .success()
        );
    }

    pub fn screen(&self) -> String {
        let out = tmux()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn alive(&self) -> bool {
        tmux()
            .args(["has-session", "-t", &self.session])
            .output()
            .unwrap()
            .status
            .success()
    }

    /// Waits for the program to exit (its session ends with it); panics if it
    /// is still running after 20 s.
    pub fn wait_exit(&self) {
        let start = Instant::now();
        while self.alive() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the program never exited; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen no longer shows `text` (a popup closed). After
    /// Escape, wait for its effect before the next key: an ESC that reaches the
    /// program together with the next key reads as Alt plus that key.
    pub fn wait_gone(&self, text: &str) {
        let start = Instant::now();
        while self.screen().contains(text) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{text:?} never went; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen shows `text`; panics with the screen if it never does.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    /// Waits until one capture shows every one of `texts`: tmux applies a
    /// frame as it reads it, in pieces, so a capture may show part of a frame
    /// (a table's first row new, its second still the last frame's).
    pub fn wait_for_all(&self, texts: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(20) {
                panic!("never saw all of {texts:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux().args(["kill-session", "-t", &self.session]).output();
    }
}
