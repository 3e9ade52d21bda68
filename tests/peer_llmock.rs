//! The client against a third-party peer nobody on the team wrote: LLMock
//! (PyPI), started as a real server on 127.0.0.1, with faults scripted over
//! its HTTP API. `.ci/run` installs it into target/llmock-venv.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::provider::event::{FinishReason, ProviderError, StreamEvent};
use llmdeck::provider::http::{HttpClient, Timeouts};

struct Llmock {
    child: Child,
    port: u16,
}

impl Drop for Llmock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/llmock-venv/bin/llmock");
    if venv.exists() {
        return Some(venv);
    }
    let on_path = Command::new("llmock")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    on_path
        .is_ok_and(|s| s.success())
        .then(|| PathBuf::from("llmock"))
}

impl Llmock {
    fn start() -> Option<Self> {
        let Some(bin) = binary() else {
            support::skip("llmock is not installed (.ci/run installs it into target/llmock-venv)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llmock starts");
        let me = Self { child, port };
        let start = Instant::now();
        while me.http("GET", "/_llmock/scenario", "").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "llmock did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(me)
    }

    /// A tiny HTTP/1.1 client for llmock's admin API.
    fn http(&self, method: &str, path: &str, body: &str) -> Option<String> {
        let mut sock = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(req.as_bytes()).ok()?;
        let mut out = String::new();
        sock.read_to_string(&mut out).ok()?;
        out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
    }

    fn scenario(&self, behaviours: &str) {
        let answer = self.http(
            "POST",
            "/_llmock/scenario",
            &format!(r#"{{"behaviors": [{behaviours}]}}"#),
        );
        assert!(
            answer.is_some_and(|a| a.contains("queued")),
            "llmock refused the scenario"
        );
    }

    /// Codes of the verdict's findings, e.g. `error:retry_after_ignored`. A
    /// verdict that cannot be had or read fails the test: it is never "no findings".
    fn findings(&self) -> Vec<String> {
        let body = self
            .http("GET", "/_llmock/verdict", "")
            .expect("llmock answered the verdict request");
        // The body may come chunked: the JSON object is from the first '{' to the last '}'.
        let json = match (body.find('{'), body.rfind('}')) {
            (Some(a), Some(b)) if a < b => &body[a..=b],
            _ => panic!("llmock's verdict is not a JSON object: {body:?}"),
        };
        let v: serde_json::Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("llmock's verdict does not parse ({e}): {json}"));
        let findings = v["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("llmock's verdict has no findings list: {v}"));
        findings
            .iter()
            .map(|f| match (f["severity"].as_str(), f["code"].as_str()) {
                (Some(severity), Some(code)) => format!("{severity}:{code}"),
                _ => panic!("a finding without severity and code: {f}"),
            })
            .collect()
    }

    fn client(&self, timeouts: Timeouts) -> HttpClient {
        let endpoint = support::endpoint(
            &format!("http://127.0.0.1:{}/v1", self.port),
            "sk-llmock",
            llmdeck::chat::params::Api::Chat,
        );
        HttpClient::new(endpoint, timeouts).unwrap()
    }
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect_secs: 5,
        first_byte_secs: 10,
        idle_secs: 5,
        max_attempts: 3,
        max_retry_wait_secs: 5,
    }
}

/// Asks `prompt`; LLMock groups attempts by body, so each separate question differs.
async fn ask(client: &HttpClient, prompt: &str) -> Vec<StreamEvent> {
    let req = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![WireMessage::text(WireRole::User, prompt)],
        params: Default::default(),
        tools: Vec::new(),
    };
    let mut events = Vec::new();
    client.stream_chat(&req, &mut |e| events.push(e)).await;
    events
}

fn text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| {
            if let StreamEvent::TextDelta(t) = e {
                Some(t.as_str())
            } else {
                None
            }
        })
        .collect()
}

#[tokio::test]
async fn rate_limits_are_retried_after_retry_after_and_the_verdict_is_clean() {
    let Some(mock) = Llmock::start() else { return };
    mock.scenario(r#"{"type": "fail", "status": 429, "retry_after": 1, "times": 2}"#);
    let start = Instant::now();
    let events = ask(&mock.client(timeouts()), "question 7").await;
    let waits: Vec<u64> = events
        .iter()
        .filter_map(|e| {
            if let StreamEvent::Retrying { wait_ms, .. } = e {
                Some(*wait_ms)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(waits, [1000, 1000], "{events:?}");
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert_eq!(events.last(), Some(&StreamEvent::End));
    assert!(!text(&events).is_empty());
    assert_eq!(mock.findings(), Vec::<String>::new());
}

#[tokio::test]
async fn an_outage_gives_up_after_the_attempts_and_a_401_is_never_retried() {
    let Some(mock) = Llmock::start() else { return };
    mock.scenario(r#"{"type": "fail", "status": 503, "times": 3}"#);
    let events = ask(&mock.client(timeouts()), "question 8").await;
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Error(ProviderError::Http { status: 503, .. }))
        ),
        "{events:?}"
    );
    mock.scenario(r#"{"type": "fail", "status": 401, "times": 1}"#);
    let events = ask(&mock.client(timeouts()), "question 9").await;
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error(ProviderError::Http { status: 401, .. }))
    ));
    let findings = mock.findings();
    assert!(
        !findings.iter().any(|f| f.starts_with("error:")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn stream_faults_are_errors_that_keep_the_partial_text() {
    let Some(mock) = Llmock::start() else { return };
    let client = mock.client(Timeouts {
        idle_secs: 1,
        ..timeouts()
    });

    mock.scenario(r#"{"type": "stream_fault", "kind": "disconnect", "after_chunks": 2}"#);
    let events = ask(&client, "question 1").await;
    assert!(!text(&events).is_empty());
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Interrupted)),
        "{events:?}"
    );

    mock.scenario(r#"{"type": "stream_fault", "kind": "truncate", "after_chunks": 2}"#);
    let events = ask(&client, "question 2").await;
    assert!(!text(&events).is_empty());
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Interrupted)),
        "truncation is not accepted"
    );

    mock.scenario(r#"{"type": "stream_fault", "kind": "malformed", "after_chunks": 2}"#);
    let events = ask(&client, "question 3").await;
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Error(ProviderError::Malformed(_)))
        ),
        "{events:?}"
    );

    mock.scenario(
        r#"{"type": "stream_fault", "kind": "stall", "after_chunks": 2, "stall_seconds": 5}"#,
    );
    let started = Instant::now();
    let events = ask(&client, "question 4").await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Stalled(1)))
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the idle timeout ended it, not the server"
    );

    // LLMock cannot see a client stop reading, only whether it retried: a dropped,
    // truncated or malformed stream that is not retried is graded "gave up", "accepted",
    // "ignored". llmdeck reports each and keeps the partial answer instead, on purpose:
    // retries happen only before the first byte, so an answer is never silently restarted
    // and paid for twice. Those are the only findings expected; the stall was cut by our
    // idle timeout (no `no_read_timeout`), and nothing was retried without backoff.
    let mut findings = mock.findings();
    findings.sort();
    assert_eq!(
        findings,
        [
            "error:truncated_stream_accepted",
            "warning:gave_up",
            "warning:malformed_chunk_ignored"
        ]
    );
}

#[tokio::test]
async fn finish_reasons_and_a_slow_first_token() {
    let Some(mock) = Llmock::start() else { return };
    mock.scenario(r#"{"type": "reply", "text": "cut short", "finish_reason": "length"}"#);
    let client = mock.client(timeouts());
    let events = ask(&client, "question 5").await;
    assert_eq!(text(&events), "cut short");
    assert!(
        events.contains(&StreamEvent::Finish(FinishReason::Length)),
        "{events:?}"
    );
    mock.scenario(r#"{"type": "reply", "text": "no", "finish_reason": "content_filter"}"#);
    let events = ask(&client, "question 6").await;
    assert!(
        events.contains(&StreamEvent::Finish(FinishReason::ContentFilter)),
        "{events:?}"
    );

    mock.scenario(r#"{"type": "slow_first_token", "seconds": 3}"#);
    let events = ask(
        &mock.client(Timeouts {
            first_byte_secs: 1,
            ..timeouts()
        }),
        "question 10",
    )
    .await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::FirstByteTimeout(1))),
        "{events:?}"
    );
}
