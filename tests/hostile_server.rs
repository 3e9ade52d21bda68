//! A hostile or broken server against the client: it cannot crash it, make
//! it hold more than the caps of `provider::limits`, or stall it past the
//! timeouts. Each test performs the attack on a mock at 127.0.0.1.

mod support;

use std::time::{Duration, Instant};

use llmdeck::chat::params::{Api, Params};
use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::config::Secret;
use llmdeck::provider::event::StreamEvent;
use llmdeck::provider::http::{HttpClient, Timeouts};
use support::mock_server::{Hostile, Mock, Reply, chunk};
use support::{llmdeck, text};

const FLOOD: usize = 64 * 1024 * 1024;

fn client(mock: &Mock, api: Api) -> HttpClient {
    let endpoint = support::endpoint(&mock.base_url, "sk-test-123", api);
    let timeouts = Timeouts {
        connect_secs: 2,
        first_byte_secs: 5,
        idle_secs: 1,
        max_attempts: 1,
        max_retry_wait_secs: 1,
    };
    HttpClient::new(endpoint, timeouts).unwrap()
}

async fn ask(client: &HttpClient) -> Vec<StreamEvent> {
    let req = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![WireMessage::text(WireRole::User, "Hi")],
        params: Params::default(),
        tools: Vec::new(),
    };
    let mut events = Vec::new();
    client.stream_chat(&req, &mut |e| events.push(e)).await;
    events
}

fn flood(status: u16, content_type: &str, prefix: &str, unit: &str) -> Hostile {
    Hostile::Flood {
        status,
        content_type: content_type.into(),
        prefix: prefix.as_bytes().to_vec(),
        unit: unit.as_bytes().to_vec(),
        total: FLOOD,
    }
}

/// How much of the flood the server got out before the client hung up.
async fn flooded(mock: &Mock) -> usize {
    for _ in 0..200 {
        if let Some(n) = *mock.flooded.lock().unwrap() {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the flood never ended");
}

fn last_error(events: &[StreamEvent]) -> String {
    match events.last() {
        Some(StreamEvent::Error(e)) => e.to_string(),
        other => panic!("no error at the end: {other:?}"),
    }
}

#[test]
fn a_huge_tool_call_index_is_a_malformed_stream_and_keeps_the_partial_answer() {
    let mock = Mock::start_in_background();
    let text = chunk("gpt-4o", r#"{"content":"Half an answer"}"#, "null");
    let call = chunk(
        "gpt-4o",
        r#"{"tool_calls":[{"index":4294967295,"id":"call_x","type":"function","function":{"name":"f","arguments":""}}]}"#,
        "null",
    );
    mock.push(Reply::Raw(
        format!("data: {text}\n\ndata: {call}\n\ndata: [DONE]\n\n").into_bytes(),
    ));
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o", "--json", "go"],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], "Half an answer", "the partial answer is kept");
    assert_eq!(v["status"], "interrupted");
    let said = format!("{stderr}{}", v["error"]);
    assert!(
        said.contains("tool call index 4294967295 is out of range"),
        "{said}"
    );
}

#[tokio::test]
async fn too_many_responses_function_calls_end_as_malformed() {
    let mock = Mock::start().await;
    let mut body = String::from(
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"so far\"}\n\n",
    );
    for i in 0..200 {
        body.push_str(&format!(
            "event: response.output_item.added\ndata: {{\"type\":\"response.output_item.added\",\"output_index\":{i},\"item\":{{\"type\":\"function_call\",\"call_id\":\"c{i}\",\"name\":\"f\",\"arguments\":\"\"}}}}\n\n"
        ));
    }
    mock.push(Reply::Raw(body.into_bytes()));
    let events = ask(&client(&mock, Api::Responses)).await;
    assert_eq!(text(&events), "so far");
    assert!(
        last_error(&events).contains("tool call index 128 is out of range"),
        "{events:?}"
    );
}

#[tokio::test]
async fn endless_data_lines_in_one_event_stop_at_the_event_cap() {
    let mock = Mock::start().await;
    let first = format!(
        "data: {}\n\n",
        chunk("gpt-4o-mini", r#"{"content":"kept"}"#, "null")
    );
    mock.misbehave(flood(200, "text/event-stream", &first, "data: xxxxxxxx\n"));
    let events = ask(&client(&mock, Api::Chat)).await;
    assert_eq!(text(&events), "kept");
    assert_eq!(
        last_error(&events),
        "malformed chunk from the server: stream event longer than 16777216 bytes"
    );
    assert!(flooded(&mock).await < FLOOD, "the client read it all");
}

#[tokio::test]
async fn an_oversized_whole_response_is_refused_without_reading_it_all() {
    let mock = Mock::start().await;
    let start = r#"{"choices":[{"message":{"content":""#;
    mock.misbehave(flood(200, "application/json", start, "x"));
    let events = ask(&client(&mock, Api::Chat)).await;
    assert_eq!(
        last_error(&events),
        "the response is larger than 16 MiB — refused"
    );
    assert!(flooded(&mock).await < FLOOD, "the client read it all");
}

#[tokio::test]
async fn an_oversized_model_list_is_refused_without_reading_it_all() {
    let mock = Mock::start().await;
    mock.misbehave(flood(
        200,
        "application/json",
        r#"{"data":["#,
        r#"{"id":"m"},"#,
    ));
    let err = client(&mock, Api::Chat).list_models().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the model list is larger than 8 MiB — refused"
    );
    assert!(flooded(&mock).await < FLOOD, "the client read it all");
}

#[tokio::test]
async fn an_oversized_error_body_is_cut_and_its_start_shown() {
    let mock = Mock::start().await;
    mock.misbehave(flood(400, "text/plain", "Bad request: ", "x"));
    let events = ask(&client(&mock, Api::Chat)).await;
    let message = last_error(&events);
    assert!(
        message.starts_with("HTTP 400: Bad request: xxx"),
        "{message}"
    );
    assert!(flooded(&mock).await < FLOOD, "the client read it all");
}

#[tokio::test]
async fn an_error_body_that_stalls_ends_within_the_idle_timeout() {
    let mock = Mock::start().await;
    mock.misbehave(Hostile::StallBody {
        status: 503,
        start: r#"{"error":{"message":"overloa"#.into(),
    });
    let started = Instant::now();
    let events = tokio::time::timeout(Duration::from_secs(10), ask(&client(&mock, Api::Chat)))
        .await
        .expect("the client waited for the error body forever");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        last_error(&events),
        "HTTP 503: the error body did not arrive within 1 s"
    );
}

#[tokio::test]
async fn an_oversized_usage_page_is_refused_without_reading_it_all() {
    let mock = Mock::start().await;
    mock.misbehave(flood(
        200,
        "application/json",
        r#"{"data":["#,
        r#"{"results":[]},"#,
    ));
    let dir = tempfile::tempdir().unwrap();
    let err = llmdeck::usage::sync::sync(
        &mock.base_url,
        Secret::new("sk-admin-test").unwrap(),
        &dir.path().join("ledger.sqlite3"),
        chrono::Utc::now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        "usage API: a page of /organization/usage/completions is larger than 8 MiB — refused"
    );
    assert!(flooded(&mock).await < FLOOD, "the client read it all");
}
