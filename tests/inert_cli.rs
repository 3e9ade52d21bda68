//! A hostile server (and a hostile teammate's ledger rows) against the
//! command line on a real terminal: escape sequences (CSI, OSC 52 with BEL
//! and ST, DCS), C1 controls as characters and as raw bytes, and bidi
//! overrides and isolates go through every field the CLI prints: model ids,
//! tool-call names and ids, finish reasons, HTTP error bodies, in-stream
//! errors and usage keys. The binary runs on a pseudo-terminal (its stdout
//! and stderr), and nothing hostile may come out on it.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// Everything a terminal obeys or reorders text for, in one string.
const HOSTILE: &str = "\u{1b}]52;c;cHduZWQ=\u{7}|\u{1b}]0;t\u{1b}\\|\u{1b}[2J|\u{1b}P1$qm\u{1b}\\|\u{9b}31m|\u{9d}0;t\u{9c}|\u{90}q\u{9c}|\u{202e}rev\u{202c}|\u{2066}iso\u{2069}|\u{7}\u{8}";

/// Runs llmdeck with stdout and stderr on a terminal; what the terminal received.
fn on_tty(home: &std::path::Path, base_url: &str, args: &[&str]) -> Vec<u8> {
    let support::pty::Pty { mut master, slave } = support::pty::pty();
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home)
        .env("OPENAI_BASE_URL", base_url)
        .env("OPENAI_API_KEY", "sk-inert-test")
        .args(args)
        .stdin(Stdio::null())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux answers EIO once the last slave descriptor is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    child.wait().unwrap();
    reader.join().unwrap()
}

/// What is wrong with `out` on a terminal: invalid UTF-8 (raw 8-bit C1),
/// controls but CR/LF (the terminal's own line ending), C1, bidi controls;
/// or the hostile text was not shown at all (the field was not exercised).
fn problem(what: &str, out: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(out) else {
        return Some(format!("{what}: raw bytes on the terminal: {out:?}"));
    };
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\r')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    if !bad.is_empty() {
        return Some(format!("{what}: {bad:?} reached the terminal:\n{text}"));
    }
    (!text.contains("␛]52")).then(|| format!("{what}: the hostile text was not shown:\n{text}"))
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A server that answers `/models` with `models` and everything else with
/// the next of `replies` (status, content type, body), in order.
fn hostile_server(models: String, replies: Vec<(u16, &'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let replies = Arc::new(Mutex::new(replies));
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let mut reader = BufReader::new(sock.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, kind, bytes) = if first.contains("/models") {
                (200, "application/json", models.clone().into_bytes())
            } else {
                replies.lock().unwrap().remove(0)
            };
            let mut sock = sock;
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = sock.write_all(head.as_bytes());
            let _ = sock.write_all(&bytes);
        }
    });
    base
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn sse(chunks: &[String]) -> (u16, &'static str, Vec<u8>) {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    (200, "text/event-stream", body.into_bytes())
}

fn chunk(model: &str, delta: &str, finish: &str) -> String {
    format!(
        r#"{{"id":"c","object":"chat.completion.chunk","model":{},"choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#,
        js(model)
    )
}

#[test]
fn model_ids_tool_calls_finish_reasons_and_errors_reach_a_terminal_inert() {
    let home = tempfile::tempdir().unwrap();
    let evil = js(&format!("evil{HOSTILE}"));
    let models = format!(r#"{{"object":"list","data":[{{"id":"gpt-4o"}},{{"id":{evil}}}]}}"#);
    let call = format!(
        r#"{{"tool_calls":[{{"index":0,"id":{},"type":"function","function":{{"name":{},"arguments":"{{}}"}}}}]}}"#,
        js(&format!("call{HOSTILE}")),
        js(&format!("fn{HOSTILE}"))
    );
    let mut raw_body = b"bad gateway \x9b2J \x1b]52;c;eA==\x07".to_vec();
    raw_body.extend_from_slice(b" \x90dcs\x9c");
    let base = hostile_server(
        models,
        vec![
            // chat: a function call with a hostile name and id.
            sse(&[
                chunk("gpt-4o", &call, "null"),
                chunk("gpt-4o", "{}", r#""tool_calls""#),
            ]),
            // chat compare: a hostile reported model and finish reason, twice.
            sse(&[chunk(&format!("m{HOSTILE}"), r#"{"content":"ok"}"#, &evil)]),
            sse(&[chunk(&format!("m{HOSTILE}"), r#"{"content":"ok"}"#, &evil)]),
            // chat: an HTTP error with the message in JSON.
            (
                401,
                "application/json",
                format!(r#"{{"error":{{"message":{evil},"type":"x"}}}}"#).into_bytes(),
            ),
            // chat: an HTTP error body that is not JSON, with raw 8-bit C1 bytes.
            (400, "text/plain", raw_body),
            // chat: an error inside the stream.
            sse(&[
                chunk("gpt-4o", r#"{"content":"partial"}"#, "null"),
                format!(r#"{{"error":{{"message":{evil}}}}}"#),
            ]),
        ],
    );
    let cases: [(&str, &[&str]); 6] = [
        ("models", &["models"]),
        ("tool call", &["chat", "--model", "gpt-4o", "hi"]),
        (
            "compare",
            &["chat", "--model", "gpt-4o", "--model", "gpt-4o-mini", "hi"],
        ),
        ("HTTP error", &["chat", "--model", "gpt-4o", "hi"]),
        ("raw HTTP body", &["chat", "--model", "gpt-4o", "hi"]),
        ("in-stream error", &["chat", "--model", "gpt-4o", "hi"]),
    ];
    let problems = cases
        .iter()
        .filter_map(|(what, args)| problem(what, &on_tty(home.path(), &base, args)))
        .collect();
    assert_none(problems);
}

#[test]
fn usage_keys_written_by_others_reach_a_terminal_inert() {
    use llmdeck::usage::ledger::{Ledger, LedgerRow, Status};
    let home = tempfile::tempdir().unwrap();
    // A row as a teammate's client (or a shared ledger) could have written it.
    let mut ledger = Ledger::open(&home.path().join("data/ledger.sqlite3")).unwrap();
    ledger
        .insert(&LedgerRow {
            id: "r1".into(),
            ts: chrono::Utc::now(),
            source: "cli".into(),
            profile: format!("p{HOSTILE}"),
            host: "h".into(),
            api: "chat".into(),
            model_requested: format!("m{HOSTILE}"),
            model_reported: None,
            service_tier: None,
            usage: Default::default(),
            cost_micros: Some(5),
            cost_source: None,
            rates: None,
            ttft_ms: None,
            duration_ms: None,
            status: Status::Ok,
            error_kind: None,
            conversation_id: None,
            prompt: Some((format!("n{HOSTILE}"), "v1".into())),
            tags: vec![format!("t{HOSTILE}")],
        })
        .unwrap();
    drop(ledger);
    let mut problems = Vec::new();
    for by in ["profile", "model", "prompt", "tag"] {
        for format in [&[][..], &["--csv"][..]] {
            let mut args = vec!["usage", "--by", by, "--since", "3d"];
            args.extend_from_slice(format);
            let out = on_tty(home.path(), "http://127.0.0.1:9/v1", &args);
            problems.extend(problem(&format!("usage --by {by} {format:?}"), &out));
        }
        // JSON stays JSON: the same value, with the controls escaped.
        let out = on_tty(
            home.path(),
            "http://127.0.0.1:9/v1",
            &["usage", "--by", by, "--since", "3d", "--json"],
        );
        let text = String::from_utf8(out).unwrap();
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            problems.push(format!("usage --by {by} --json: controls in\n{text}"));
        }
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(rows[0]["key"].as_str().unwrap().contains(HOSTILE), "{rows}");
    }
    assert_none(problems);
}
