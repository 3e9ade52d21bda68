//! The client against our mock server: the exact bodies and headers we send,
//! and how every kind of answer is normalised into stream events.

mod support;

use support::text;

use llmdeck::chat::params::{Params, ResponseFormat};
use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::config::profile::{AuthStyle, HttpEndpoint};
use llmdeck::provider::event::{FinishReason, ProviderError, StreamEvent, Usage, UsageSource};
use llmdeck::provider::http::{HttpClient, Timeouts};
use support::mock_server::{Mock, Reply};

fn endpoint(mock: &Mock) -> HttpEndpoint {
    support::endpoint(
        &mock.base_url,
        "sk-test-123\n",
        llmdeck::chat::params::Api::Chat,
    )
}

fn request(params: Params) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            WireMessage::text(WireRole::System, "Be brief."),
            WireMessage::text(WireRole::User, "Hi"),
        ],
        params,
        tools: Vec::new(),
    }
}

async fn collect(client: &HttpClient, req: &ChatRequest) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    client.stream_chat(req, &mut |e| events.push(e)).await;
    events
}

fn fast() -> Timeouts {
    Timeouts {
        connect_secs: 2,
        first_byte_secs: 5,
        idle_secs: 1,
        max_attempts: 3,
        max_retry_wait_secs: 2,
    }
}

#[tokio::test]
async fn default_parameters_are_not_sent_and_usage_is_requested() {
    let mock = Mock::start().await;
    let client = HttpClient::new(endpoint(&mock), fast()).unwrap();
    collect(&client, &request(Params::default())).await;
    let body = mock.chat_requests()[0].json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["messages", "model", "stream", "stream_options"]);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(
        body["messages"][0],
        serde_json::json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        body["messages"][1],
        serde_json::json!({"role": "user", "content": "Hi"})
    );
}

#[tokio::test]
async fn chosen_parameters_are_sent_in_openai_names() {
    let mock = Mock::start().await;
    let client = HttpClient::new(endpoint(&mock), fast()).unwrap();
    let params = Params {
        temperature: Some(0.3),
        top_p: Some(0.9),
        max_output_tokens: Some(100),
        seed: Some(7),
        stop: vec!["END".into()],
        presence_penalty: Some(0.5),
        response_format: ResponseFormat::JsonObject,
        ..Params::default()
    };
    collect(&client, &request(params)).await;
    let body = mock.chat_requests()[0].json();
    assert_eq!(body["temperature"], serde_json::json!(0.3));
    assert_eq!(body["top_p"], serde_json::json!(0.9));
    // A compatible endpoint (not api.openai.com) gets the widely understood name.
    assert_eq!(body["max_tokens"], 100);
    assert!(body.get("max_completion_tokens").is_none());
    assert_eq!(body["seed"], 7);
    assert_eq!(body["stop"], serde_json::json!(["END"]));
    assert_eq!(body["presence_penalty"], serde_json::json!(0.5));
    assert_eq!(
        body["response_format"],
        serde_json::json!({"type": "json_object"})
    );
    assert!(body.get("frequency_penalty").is_none());
}

#[tokio::test]
async fn headers_follow_the_profile() {
    let mock = Mock::start().await;
    let mut ep = endpoint(&mock);
    ep.organization = Some("org-abc".into());
    ep.project = Some("proj_xyz".into());
    ep.headers
        .insert("HTTP-Referer".into(), "https://example.test".into());
    collect(
        &HttpClient::new(ep.clone(), fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    let r = &mock.chat_requests()[0];
    // The key's trailing newline was trimmed, not sent (and not a panic).
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-123"));
    assert_eq!(r.header("openai-organization"), Some("org-abc"));
    assert_eq!(r.header("openai-project"), Some("proj_xyz"));
    assert_eq!(r.header("http-referer"), Some("https://example.test"));

    // Azure style: the key in `api-key`, the API version as a query parameter.
    ep.auth = AuthStyle::ApiKey;
    ep.organization = None;
    ep.query.insert("api-version".into(), "2024-10-21".into());
    collect(
        &HttpClient::new(ep, fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    let r = &mock.chat_requests()[1];
    assert_eq!(r.header("api-key"), Some("sk-test-123"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.path, "/v1/chat/completions?api-version=2024-10-21");
}

#[tokio::test]
async fn a_stream_becomes_text_usage_and_finish() {
    let mock = Mock::start().await;
    let client = HttpClient::new(endpoint(&mock), fast()).unwrap();
    let events = collect(&client, &request(Params::default())).await;
    assert_eq!(text(&events), "Hello from the mock.");
    let models: Vec<&StreamEvent> = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Started { model: Some(_) }))
        .collect();
    assert_eq!(
        models,
        [&StreamEvent::Started {
            model: Some("gpt-4o-mini".into())
        }],
        "the model every chunk repeats is reported once"
    );
    assert!(events.contains(&StreamEvent::Finish(FinishReason::Stop)));
    assert!(events.contains(&StreamEvent::Usage(Usage {
        input: 1200,
        cached_input: 1000,
        cache_write: 0,
        output: 300,
        reasoning: 120,
        input_audio: 0,
        output_audio: 0,
        source: UsageSource::Reported,
    })));
    assert_eq!(events.last(), Some(&StreamEvent::End));
}

#[tokio::test]
async fn an_http_error_shows_the_servers_message() {
    let mock = Mock::start().await;
    mock.push(Reply::Status {
        status: 401,
        body: r#"{"error":{"message":"Incorrect API key provided: sk-test***123.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#.into(),
        headers: vec![],
    });
    let events = collect(
        &HttpClient::new(endpoint(&mock), fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    match events.last() {
        Some(StreamEvent::Error(ProviderError::Http {
            status: 401,
            message,
            code,
        })) => {
            assert!(message.starts_with("Incorrect API key"));
            assert_eq!(code.as_deref(), Some("invalid_api_key"));
        }
        other => panic!("expected a 401 error, got {other:?}"),
    }
    assert_eq!(mock.chat_requests().len(), 1, "401 is not retried");
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_the_server_asks() {
    let mock = Mock::start().await;
    mock.push(Reply::Status {
        status: 429,
        body: r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
        headers: vec![("retry-after-ms".into(), "50".into())],
    });
    let events = collect(
        &HttpClient::new(endpoint(&mock), fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    assert!(
        matches!(
            events[0],
            StreamEvent::Retrying {
                attempt: 2,
                of: 3,
                wait_ms: 50,
                ..
            }
        ),
        "{events:?}"
    );
    assert_eq!(text(&events), "Hello from the mock.");
    let sent = mock.chat_requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, sent[1].body, "the retry sends the same body");
    let body: serde_json::Value = serde_json::from_slice(&sent[1].body).unwrap();
    assert!(body["messages"].as_array().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn insufficient_quota_is_not_retried() {
    let mock = Mock::start().await;
    mock.push(Reply::Status {
        status: 429,
        body: r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#.into(),
        headers: vec![],
    });
    let events = collect(
        &HttpClient::new(endpoint(&mock), fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error(ProviderError::Http { status: 429, .. }))
    ));
    assert_eq!(mock.chat_requests().len(), 1);
}

#[tokio::test]
async fn stream_faults_end_in_clear_errors_after_the_partial_text() {
    let mock = Mock::start().await;
    let client = HttpClient::new(endpoint(&mock), fast()).unwrap();
    let one = format!(
        "data: {}\n\n",
        support::mock_server::chunk("gpt-4o-mini", r#"{"content":"partial"}"#, "null")
    );

    // Cut after one chunk: no finish_reason, no [DONE].
    mock.push(Reply::Raw(one.clone().into_bytes()));
    let events = collect(&client, &request(Params::default())).await;
    assert_eq!(text(&events), "partial");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Interrupted))
    );

    // A malformed chunk is reported, never skipped.
    mock.push(Reply::Raw(
        format!("{one}data: {{not json\n\n").into_bytes(),
    ));
    let events = collect(&client, &request(Params::default())).await;
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Error(ProviderError::Malformed(_)))
        ),
        "{events:?}"
    );

    // An error object inside a 200 stream shows the server's own message.
    mock.push(Reply::Raw(
        format!("{one}data: {{\"error\":{{\"message\":\"The server had an error\",\"type\":\"server_error\"}}}}\n\n").into_bytes(),
    ));
    let events = collect(&client, &request(Params::default())).await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Server(
            "The server had an error".into()
        )))
    );

    // Keep-alive comments and Azure's empty-choices chunks are ignored.
    let azure = r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"#;
    let done = support::mock_server::chunk("gpt-4o-mini", "{}", "\"length\"");
    mock.push(Reply::Raw(
        format!(": keep-alive\n\ndata: {azure}\n\n{one}data: {done}\n\ndata: [DONE]\n\n")
            .into_bytes(),
    ));
    let events = collect(&client, &request(Params::default())).await;
    assert_eq!(text(&events), "partial");
    assert!(events.contains(&StreamEvent::Finish(FinishReason::Length)));
    assert_eq!(events.last(), Some(&StreamEvent::End));
}

#[tokio::test]
async fn a_stalled_stream_says_it_stalled() {
    let mock = Mock::start().await;
    mock.push(Reply::Stall {
        pieces: vec!["so far".into()],
    });
    let events = collect(
        &HttpClient::new(endpoint(&mock), fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    assert_eq!(text(&events), "so far");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Stalled(1)))
    );
}

#[tokio::test]
async fn cancelling_closes_the_connection() {
    let mock = Mock::start().await;
    mock.push(Reply::Stall {
        pieces: vec!["thinking".into()],
    });
    let client = HttpClient::new(
        endpoint(&mock),
        Timeouts {
            idle_secs: 60,
            ..fast()
        },
    )
    .unwrap();
    let task = tokio::spawn(async move {
        let req = request(Params::default());
        client.stream_chat(&req, &mut |_| {}).await;
    });
    // Cancel once the request is under way, however slow the machine.
    while mock.chat_requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    task.abort();
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(20) {
        if *mock.closed_early.lock().unwrap() == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the mock server never saw the connection close");
}

#[tokio::test]
async fn models_are_listed_and_sorted() {
    let mock = Mock::start().await;
    let models = HttpClient::new(endpoint(&mock), fast())
        .unwrap()
        .list_models()
        .await
        .unwrap();
    assert_eq!(models, ["gpt-4o", "gpt-4o-mini", "o4-mini"]);
}

#[tokio::test]
async fn a_retry_wait_is_cancelled_at_once() {
    let mock = Mock::start().await;
    mock.push(Reply::Status {
        status: 503,
        body: r#"{"error":{"message":"overloaded","type":"server_error"}}"#.into(),
        headers: vec![("retry-after".into(), "20".into())],
    });
    let client = HttpClient::new(
        endpoint(&mock),
        Timeouts {
            max_retry_wait_secs: 60,
            ..fast()
        },
    )
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let req = request(Params::default());
        client.stream_chat(&req, &mut |e| drop(tx.send(e))).await;
    });
    let first = rx.recv().await.unwrap();
    assert!(
        matches!(
            first,
            StreamEvent::Retrying {
                wait_ms: 20_000,
                ..
            }
        ),
        "{first:?}"
    );
    let started = std::time::Instant::now();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(
        mock.chat_requests().len(),
        1,
        "no second attempt after the cancel"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_reported_not_waited() {
    let mock = Mock::start().await;
    mock.push(Reply::Status {
        status: 429,
        body: r#"{"error":{"message":"slow down","type":"requests"}}"#.into(),
        headers: vec![("retry-after".into(), "3600".into())],
    });
    let started = std::time::Instant::now();
    let events = collect(
        &HttpClient::new(endpoint(&mock), fast()).unwrap(),
        &request(Params::default()),
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    match events.last() {
        Some(StreamEvent::Error(ProviderError::Other(m))) => {
            assert!(
                m.contains("retry in 3600 s, longer than the 2 s cap"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn invalid_utf8_and_an_endless_line_are_reported_not_buffered() {
    let mock = Mock::start().await;
    let client = HttpClient::new(endpoint(&mock), fast()).unwrap();
    let one = format!(
        "data: {}\n\n",
        support::mock_server::chunk("gpt-4o-mini", r#"{"content":"ok so far"}"#, "null")
    );
    let mut bad = one.clone().into_bytes();
    bad.extend_from_slice(b"data: {\"choices\":[{\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n");
    mock.push(Reply::Raw(bad));
    let events = collect(&client, &request(Params::default())).await;
    assert_eq!(text(&events), "ok so far");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Malformed(
            "invalid UTF-8 in stream line".into()
        )))
    );

    let mut endless = one.into_bytes();
    endless.extend(std::iter::repeat_n(b'x', 17 * 1024 * 1024));
    mock.push(Reply::Raw(endless));
    let events = collect(&client, &request(Params::default())).await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Malformed(
            "stream line longer than 16777216 bytes".into()
        )))
    );
}
