//! What the tests of `prompts test --batch` share: a home whose library holds
//! `evals/ask.md` (four cases), the binary run against the mock, and readers of
//! its JSON, the ledger and what was uploaded.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use serde_json::Value;

use super::llmdeck;
use super::mock_server::Mock;

pub const TESTS: &str = "[[tests]]\nname = \"one\"\nvars = { q = \"a\" }\n\n[[tests]]\nname = \"two\"\nvars = { q = \"b\" }\n\n[[tests]]\nname = \"three\"\nvars = { q = \"c\" }\n\n[[tests]]\nname = \"four\"\nvars = { q = \"d\" }\nassert = [{ contains = \"Paris\" }]";

/// A home whose library holds `evals/ask.md`: four cases (`four` expects Paris).
pub fn home(config: &str) -> tempfile::TempDir {
    let home = super::home_with_config(config);
    let dir = home.path().join("data/prompts/evals");
    std::fs::create_dir_all(&dir).unwrap();
    let prompt = format!(
        "+++\nname = \"ask\"\nmodel = \"gpt-4o-mini\"\nassert = [{{ contains = \"mock\" }}]\n{TESTS}\n\n[[variables]]\nname = \"q\"\n+++\n\n# System\n\nBe brief.\n\n# User\n\nQuestion: {{{{q}}}}\n"
    );
    std::fs::write(dir.join("ask.md"), prompt).unwrap();
    home
}

pub fn run(home: &tempfile::TempDir, mock: &Mock, args: &[&str]) -> (Option<i32>, String, String) {
    let out = llmdeck(home.path(), Some(mock), args, None);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

pub fn json(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

pub fn result<'a>(v: &'a Value, case: &str) -> &'a Value {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == case)
        .unwrap_or_else(|| panic!("no case {case} in {v}"))
}

/// (service_tier, tags, status) of each ledger row.
pub fn ledger(home: &tempfile::TempDir) -> Vec<(Option<String>, String, String)> {
    let db = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    db.prepare("SELECT service_tier, tags, status FROM requests ORDER BY ts, id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The lines of the JSONL llmdeck uploaded.
pub fn uploaded(mock: &Mock) -> Vec<Value> {
    let upload = mock
        .batch_requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v1/files")
        .expect("a file was uploaded");
    let text = String::from_utf8_lossy(&upload.body).to_string();
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What a user compares between two reports of the same run.
pub fn cells(v: &Value) -> Vec<Value> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::json!([
                r["case"],
                r["target"],
                r["pass"],
                r["errored"],
                r["answer"],
                r["cost_micros"],
                r["failures"],
                r["latency_ms"]
            ])
        })
        .collect()
}

pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The binary started with `args`, once it polls the batch it created (and kept:
/// that happens first).
pub fn polled(home: &tempfile::TempDir, mock: &Mock, args: &[&str]) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home.path())
        .env("OPENAI_BASE_URL", &mock.base_url)
        .env("OPENAI_API_KEY", "sk-cli-test")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the batch to be polled", || {
        mock.batch_requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.starts_with("/v1/batches/"))
    });
    child
}
