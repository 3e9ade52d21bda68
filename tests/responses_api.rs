//! Both wire APIs end to end against the mock: the bodies we send validate
//! against OpenAI's schemas, the Responses stream's named events become the
//! same events as Chat Completions, and a function call goes round trip.

mod support;

use support::text;

use std::time::Instant;

use chrono::Utc;
use llmdeck::chat::attachment::Attachment;
use llmdeck::chat::conversation::{AnswerStatus, Role};
use llmdeck::chat::machine::{Effect, Input, Machine};
use llmdeck::chat::params::{Api, ReasoningEffort, ReasoningSummary};
use llmdeck::chat::request::ChatRequest;
use llmdeck::chat::tools::{self, ToolChoice};
use llmdeck::provider::event::{FinishReason, ProviderError, StreamEvent};
use llmdeck::provider::http::{HttpClient, Timeouts};
use serde_json::{Value, json};
use support::mock_server::{Mock, Reply};
use support::openapi::validate;

fn client(mock: &Mock, api: Api) -> HttpClient {
    let endpoint = support::endpoint(&mock.base_url, "test-key-responses", api);
    let t = Timeouts {
        connect_secs: 2,
        first_byte_secs: 5,
        idle_secs: 2,
        max_attempts: 1,
        max_retry_wait_secs: 1,
    };
    HttpClient::new(endpoint, t).unwrap()
}

const WEATHER: &str = r#"{"type":"function","function":{"name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"],"additionalProperties":false}},"canned_results":["{\"temp\": 21}"]}"#;

/// A 1024×768 PNG header: enough for type and size sniffing.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(1024u32.to_be_bytes());
    b.extend(768u32.to_be_bytes());
    b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

async fn run(client: &HttpClient, req: &ChatRequest) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    client.stream_chat(req, &mut |e| events.push(e)).await;
    events
}

/// Feeds every started request's events to the machine until it is idle.
async fn drive(m: &mut Machine, client: &HttpClient, mut effects: Vec<Effect>) {
    loop {
        let Some((id, req)) = effects.iter().find_map(|e| match e {
            Effect::Start {
                request_id,
                request,
                ..
            } => Some((*request_id, request.clone())),
            _ => None,
        }) else {
            return;
        };
        effects.clear();
        for ev in run(client, &req).await {
            effects.extend(m.handle(Input::Stream(id, ev), Instant::now(), Utc::now()));
        }
    }
}

/// A conversation exercising everything a body can carry.
fn rich_machine() -> Machine {
    let mut m = support::machine("gpt-5-mini");
    m.conv.system = "Be brief.".into();
    m.conv.tools = tools::parse(WEATHER).unwrap();
    let p = &mut m.conv.params;
    p.tool_choice = Some(ToolChoice::Required);
    p.parallel_tool_calls = Some(true);
    p.reasoning_effort = Some(ReasoningEffort::Low);
    p.reasoning_summary = Some(ReasoningSummary::Auto);
    p.max_output_tokens = Some(500);
    m.handle(
        Input::Attach(Attachment::from_bytes("chart.png", &png()).unwrap()),
        Instant::now(),
        Utc::now(),
    );
    m.handle(
        Input::Attach(
            Attachment::from_bytes("paper.pdf", b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\n")
                .unwrap(),
        ),
        Instant::now(),
        Utc::now(),
    );
    m
}

#[tokio::test]
async fn bodies_of_both_apis_validate_against_openais_schemas() {
    for api in [Api::Responses, Api::Chat] {
        let mock = Mock::start().await;
        mock.push(Reply::Calls(vec![(
            "get_weather".into(),
            r#"{"city":"Paris"}"#.into(),
        )]));
        let client = client(&mock, api);
        let mut m = rich_machine();
        let first = m.handle(
            Input::Send("Weather in this chart's city?".into()),
            Instant::now(),
            Utc::now(),
        );
        drive(&mut m, &client, first).await;
        let call = m.conv.pending_calls().remove(0);
        let effects = m.handle(
            Input::ToolResult {
                call_id: call.id.clone(),
                output: r#"{"temp": 21}"#.into(),
            },
            Instant::now(),
            Utc::now(),
        );
        drive(&mut m, &client, effects).await;
        let sent: Vec<Value> = mock
            .received()
            .iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.json())
            .collect();
        assert_eq!(
            sent.len(),
            2,
            "{api:?}: the call, then the answer to its result"
        );
        let schema = match api {
            Api::Responses => "CreateResponse",
            Api::Chat => "CreateChatCompletionRequest",
        };
        for body in &sent {
            if let Err(e) = validate(schema, body) {
                panic!("{api:?} body breaks {schema}:\n{e}\n{body:#}");
            }
        }
        // And the validator is not a rubber stamp.
        let mut broken = sent[1].clone();
        broken["tools"][0]["type"] = json!("not_a_tool_type");
        assert!(
            validate(schema, &broken).is_err(),
            "{api:?}: a broken body must fail"
        );
    }
}

#[tokio::test]
async fn responses_request_is_stateless_with_the_conversation_as_input_items() {
    let mock = Mock::start().await;
    mock.push(Reply::Calls(vec![
        ("get_weather".into(), r#"{"city":"Paris"}"#.into()),
        ("get_weather".into(), r#"{"city":"Oslo","unit":"c"}"#.into()),
    ]));
    let client = client(&mock, Api::Responses);
    let mut m = rich_machine();
    let first = m.handle(
        Input::Send("Compare Paris and Oslo".into()),
        Instant::now(),
        Utc::now(),
    );
    drive(&mut m, &client, first).await;
    let body = mock.responses_requests()[0].json();
    assert_eq!(
        body["store"],
        json!(false),
        "stateless unless the profile stores"
    );
    assert_eq!(body["instructions"], json!("Be brief."));
    assert_eq!(
        body["reasoning"],
        json!({"effort": "low", "summary": "auto"})
    );
    assert_eq!(body["tool_choice"], json!("required"));
    assert_eq!(body["max_output_tokens"], json!(500));
    assert_eq!(body["tools"][0]["type"], json!("function"));
    assert_eq!(body["tools"][0]["name"], json!("get_weather"));
    let content = &body["input"][0]["content"];
    assert_eq!(
        content[0],
        json!({"type": "input_text", "text": "Compare Paris and Oslo"})
    );
    assert_eq!(content[1]["type"], json!("input_image"));
    assert!(
        content[1]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGgo")
    );
    assert_eq!(content[2]["type"], json!("input_file"));
    assert_eq!(content[2]["filename"], json!("paper.pdf"));
    assert!(
        content[2]["file_data"]
            .as_str()
            .unwrap()
            .starts_with("data:application/pdf;base64,JVBERi0")
    );

    // Two parallel calls, streamed argument by argument, both complete.
    let pending = m.conv.pending_calls();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[1].arguments, r#"{"city":"Oslo","unit":"c"}"#);
    assert_eq!(pending[0].id, "call_mock_0");
    let answer = m.conv.last();
    assert_eq!(
        m.conv.nodes[answer].meta.as_ref().unwrap().finish,
        Some(FinishReason::ToolCalls)
    );

    // One result does not send yet; the second does, with both outputs.
    let t = Instant::now();
    assert_eq!(
        m.handle(
            Input::ToolResult {
                call_id: "call_mock_1".into(),
                output: "cold".into()
            },
            t,
            Utc::now()
        ),
        vec![Effect::Save]
    );
    mock.push(Reply::Stream {
        pieces: vec!["Paris is warmer.".into()],
        finish: "stop".into(),
        gap_ms: 0,
    });
    let effects = m.handle(
        Input::ToolResult {
            call_id: "call_mock_0".into(),
            output: "warm".into(),
        },
        t,
        Utc::now(),
    );
    drive(&mut m, &client, effects).await;
    let second = mock.responses_requests()[1].json();
    let items = second["input"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "message",
            "function_call",
            "function_call",
            "function_call_output",
            "function_call_output"
        ]
    );
    assert_eq!(items[1]["call_id"], json!("call_mock_0"));
    assert_eq!(
        items[3],
        json!({"type": "function_call_output", "call_id": "call_mock_1", "output": "cold"})
    );
    assert_eq!(m.conv.nodes[m.conv.last()].content, "Paris is warmer.");
    assert!(m.conv.pending_calls().is_empty());
}

#[tokio::test]
async fn chat_completions_round_trip_sends_tool_messages() {
    let mock = Mock::start().await;
    mock.push(Reply::Calls(vec![(
        "get_weather".into(),
        r#"{"city":"Paris"}"#.into(),
    )]));
    let client = client(&mock, Api::Chat);
    let mut m = support::machine("gpt-4o-mini");
    m.conv.tools = tools::parse(WEATHER).unwrap();
    m.conv.params.tool_choice = Some(ToolChoice::Function("get_weather".into()));
    let first = m.handle(
        Input::Send("Weather in Paris?".into()),
        Instant::now(),
        Utc::now(),
    );
    drive(&mut m, &client, first).await;
    let body = mock.chat_requests()[0].json();
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
    let call = m.conv.pending_calls().remove(0);
    assert_eq!(call.name, "get_weather");
    assert!(call.check(&m.conv.tools).unwrap().is_valid());
    let effects = m.handle(
        Input::ToolResult {
            call_id: call.id.clone(),
            output: "21 C".into(),
        },
        Instant::now(),
        Utc::now(),
    );
    drive(&mut m, &client, effects).await;
    let messages = mock.chat_requests()[1].json()["messages"].clone();
    assert_eq!(messages[1]["role"], json!("assistant"));
    assert_eq!(
        messages[1]["tool_calls"][0]["function"]["arguments"],
        json!(r#"{"city":"Paris"}"#)
    );
    assert_eq!(
        messages[2],
        json!({"role": "tool", "content": "21 C", "tool_call_id": call.id})
    );
    assert_eq!(m.conv.nodes[m.conv.last()].content, "Hello from the mock.");
    // The path reads question, call, result, answer.
    let roles: Vec<Role> = m
        .conv
        .path()
        .iter()
        .map(|id| m.conv.nodes[id].role)
        .collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
    );
}

#[tokio::test]
async fn responses_stream_normalises_text_reasoning_and_usage() {
    let mock = Mock::start().await;
    mock.push(Reply::Think {
        summary: vec!["First I look.".into(), "Then I answer.".into()],
        pieces: vec!["Forty".into(), "-two.".into()],
    });
    let events = run(&client(&mock, Api::Responses), &question("o4-mini")).await;
    assert_eq!(text(&events), "Forty-two.");
    let reasoning: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ReasoningDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "First I look.\n\nThen I answer.");
    assert!(events.contains(&StreamEvent::Started {
        model: Some("o4-mini".into())
    }));
    let usage = events.iter().find_map(|e| match e {
        StreamEvent::Usage(u) => Some(*u),
        _ => None,
    });
    let u = usage.expect("usage from response.completed");
    assert_eq!(
        (u.input, u.cached_input, u.output, u.reasoning),
        (1200, 1000, 300, 120)
    );
    assert!(events.contains(&StreamEvent::ServiceTier("default".into())));
    assert_eq!(
        events.last(),
        Some(&StreamEvent::End),
        "the unknown event type was skipped"
    );
    assert_eq!(mock.responses_requests()[0].path, "/v1/responses");
}

/// A one-question request to `model`.
fn question(model: &str) -> ChatRequest {
    let mut conv = support::machine(model).conv;
    let user = conv.append(0, Role::User, "What is six times seven?");
    ChatRequest::for_node(&conv, user)
}

#[tokio::test]
async fn failures_and_cut_answers_are_clear_and_keep_the_text() {
    let mock = Mock::start().await;
    let c = client(&mock, Api::Responses);
    let req = question("gpt-4o-mini");

    mock.push(Reply::Failed {
        pieces: vec!["Half an ans".into()],
        message: "The model crashed".into(),
    });
    let events = run(&c, &req).await;
    assert_eq!(text(&events), "Half an ans");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Server(
            "The model crashed (server_error)".into()
        )))
    );

    mock.push(Reply::Incomplete {
        pieces: vec!["Cut".into()],
        reason: "max_output_tokens".into(),
    });
    let events = run(&c, &req).await;
    assert_eq!(text(&events), "Cut");
    assert!(events.contains(&StreamEvent::Finish(FinishReason::Length)));
    assert_eq!(events.last(), Some(&StreamEvent::End));

    // An `error` event mid-stream.
    let raw = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"model\":\"gpt-4o-mini\"}}\n\nevent: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Par\"}\n\nevent: error\ndata: {\"type\":\"error\",\"sequence_number\":2,\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\",\"param\":null}\n\n";
    mock.push(Reply::Raw(raw.as_bytes().to_vec()));
    let events = run(&c, &req).await;
    assert_eq!(text(&events), "Par");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Server(
            "Slow down (rate_limit_exceeded)".into()
        )))
    );

    // Closed before response.completed: interrupted, not finished.
    let raw = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Tru\"}\n\n";
    mock.push(Reply::Raw(raw.as_bytes().to_vec()));
    let events = run(&c, &req).await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error(ProviderError::Interrupted))
    );

    // In the machine, a failed answer keeps its text and says why.
    let mut m = support::machine("gpt-4o-mini");
    mock.push(Reply::Failed {
        pieces: vec!["Kept".into()],
        message: "boom".into(),
    });
    let first = m.handle(Input::Send("hi".into()), Instant::now(), Utc::now());
    drive(&mut m, &c, first).await;
    let node = &m.conv.nodes[m.conv.last()];
    assert_eq!(node.content, "Kept");
    let meta = node.meta.as_ref().unwrap();
    assert_eq!(meta.status, AnswerStatus::Interrupted);
    assert!(meta.error.as_deref().unwrap().contains("boom"));
}

#[tokio::test]
async fn servers_that_ignore_stream_true_are_read_whole() {
    for api in [Api::Responses, Api::Chat] {
        let mock = Mock::start().await;
        mock.push(Reply::Calls(vec![(
            "get_weather".into(),
            r#"{"city":"Rome"}"#.into(),
        )]));
        // Force a non-streamed reply by answering as if stream were false.
        let c = client(&mock, api);
        let mut req = question("gpt-4o-mini");
        req.tools = tools::parse(WEATHER).unwrap();
        let events = whole_reply(&mock, &c, &req).await;
        let calls: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallDelta {
                    name, arguments, ..
                } => Some((name.clone(), arguments.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            calls,
            [(Some("get_weather".into()), r#"{"city":"Rome"}"#.into())],
            "{api:?}"
        );
        assert!(
            events.contains(&StreamEvent::Finish(FinishReason::ToolCalls)),
            "{api:?}"
        );
        assert_eq!(events.last(), Some(&StreamEvent::End));
    }
}

/// Sends `req` with `stream` off (as a server that ignores it would answer).
async fn whole_reply(mock: &Mock, c: &HttpClient, req: &ChatRequest) -> Vec<StreamEvent> {
    mock.force_whole(true);
    let events = run(c, req).await;
    mock.force_whole(false);
    events
}

#[test]
fn attachments_are_sniffed_measured_and_limited() {
    let a = Attachment::from_bytes("chart.png", &png()).unwrap();
    assert_eq!(
        (a.mime.as_str(), a.width, a.height),
        ("image/png", Some(1024), Some(768))
    );
    // 1024×768 at high detail: 2×2 tiles of 512 → 85 + 4 × 170.
    assert_eq!(a.estimated_tokens(), 765);
    assert!(a.summary().contains("1024×768"), "{}", a.summary());
    let err = Attachment::from_bytes("notes.txt", b"hello").unwrap_err();
    assert!(err.contains("not a PNG, JPEG, WebP, GIF or PDF"), "{err}");
    let mut big = png();
    big.resize(21 * 1024 * 1024, 0);
    let err = Attachment::from_bytes("huge.png", &big).unwrap_err();
    assert!(
        err.contains("larger than the 20.0 MB the API accepts"),
        "{err}"
    );
    let pdf = b"%PDF-1.4 /Type /Pages /Count 2 /Type /Page  x /Type/Page\n";
    assert_eq!(
        Attachment::from_bytes("two.pdf", pdf).unwrap().pages,
        Some(2)
    );
}
