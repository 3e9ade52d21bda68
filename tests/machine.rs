//! The conversation state machine with no I/O: send, stream, cancel, edit,
//! branch and regenerate, checking the effects it asks for.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use llmdeck::chat::conversation::{AnswerStatus, Role};
use llmdeck::chat::machine::{Effect, Input, Machine};
use llmdeck::chat::request::WireRole;
use llmdeck::provider::event::{FinishReason, ProviderError, StreamEvent, Usage, UsageSource};
use llmdeck::usage::ledger::Status;
use support::heap;
use support::started;

fn machine() -> Machine {
    support::machine("gpt-4o-mini")
}

/// Feeds an input at `ms` milliseconds after `t0`.
fn at(m: &mut Machine, t0: Instant, ms: u64, input: Input) -> Vec<Effect> {
    m.handle(input, t0 + Duration::from_millis(ms), Utc::now())
}

fn record(effects: &[Effect]) -> &llmdeck::usage::LedgerRow {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Record(r) => Some(r.as_ref()),
            _ => None,
        })
        .expect("a ledger row")
}

fn texts(m: &Machine) -> Vec<String> {
    m.conv
        .path()
        .iter()
        .map(|id| m.conv.nodes[id].content.to_string())
        .collect()
}

#[test]
fn send_streams_and_finishes_with_numbers_and_a_ledger_row() {
    let mut m = machine();
    let t0 = Instant::now();
    let fx = at(&mut m, t0, 0, Input::Send("Hi".into()));
    assert_eq!(
        fx[0],
        Effect::Save,
        "the user message is saved before the request goes out"
    );
    let id = started(&fx);
    assert!(m.is_streaming());
    assert_eq!(
        at(
            &mut m,
            t0,
            300,
            Input::Stream(id, StreamEvent::TextDelta("Hel".into()))
        ),
        [Effect::Journal {
            node: m.conv.last(),
            at: 0,
            text: "Hel".into()
        }]
    );
    assert_eq!(
        at(
            &mut m,
            t0,
            400,
            Input::Stream(id, StreamEvent::TextDelta("lo".into()))
        ),
        [Effect::Journal {
            node: m.conv.last(),
            at: 3,
            text: "lo".into()
        }],
        "each delta says where in the answer it starts"
    );
    at(
        &mut m,
        t0,
        500,
        Input::Stream(id, StreamEvent::Finish(FinishReason::Stop)),
    );
    let usage = Usage {
        input: 2000,
        cached_input: 1000,
        output: 500,
        ..Usage::default()
    };
    at(
        &mut m,
        t0,
        500,
        Input::Stream(id, StreamEvent::Usage(usage)),
    );
    let fx = at(&mut m, t0, 1300, Input::Stream(id, StreamEvent::End));
    assert!(!m.is_streaming());
    assert_eq!(texts(&m), ["Hi", "Hello"]);
    let meta = m.conv.nodes[m.conv.last()].meta.clone().unwrap();
    assert_eq!(meta.status, AnswerStatus::Done);
    assert_eq!(meta.ttft_ms, Some(300));
    assert_eq!(meta.duration_ms, Some(1300));
    assert_eq!(meta.cost_micros, Some(525));
    assert_eq!(meta.tokens_per_second(), Some(500.0));
    let row = record(&fx);
    assert_eq!(
        (row.status, row.cost_micros, row.usage.cached_input),
        (Status::Ok, Some(525), 1000)
    );
    assert_eq!(row.conversation_id.as_deref(), Some(m.conv.id.as_str()));
}

#[test]
fn sending_while_streaming_is_refused() {
    let mut m = machine();
    let t0 = Instant::now();
    at(&mut m, t0, 0, Input::Send("one".into()));
    assert!(at(&mut m, t0, 1, Input::Send("two".into())).is_empty());
    assert_eq!(texts(&m), ["one", ""]);
}

#[test]
fn cancel_keeps_the_partial_answer_and_estimates_usage() {
    let mut m = machine();
    let t0 = Instant::now();
    let id = started(&at(&mut m, t0, 0, Input::Send("Tell me a story".into())));
    at(
        &mut m,
        t0,
        100,
        Input::Stream(id, StreamEvent::TextDelta("Once upon a time".into())),
    );
    let fx = at(&mut m, t0, 200, Input::Cancel);
    assert_eq!(fx[0], Effect::Abort { request_id: id });
    let meta = m.conv.nodes[m.conv.last()].meta.clone().unwrap();
    assert_eq!(meta.status, AnswerStatus::Stopped);
    assert_eq!(texts(&m)[1], "Once upon a time");
    let usage = meta.usage.unwrap();
    assert_eq!(usage.source, UsageSource::Estimated);
    assert_eq!(usage.output, 4, "counted with the o200k tokenizer");
    assert_eq!(record(&fx).status, Status::Cancelled);
    // Late events of the cancelled request change nothing.
    assert!(
        at(
            &mut m,
            t0,
            300,
            Input::Stream(id, StreamEvent::TextDelta(" more".into()))
        )
        .is_empty()
    );
    assert_eq!(texts(&m)[1], "Once upon a time");
}

#[test]
fn a_fault_mid_stream_is_interrupted_and_keeps_the_text() {
    let mut m = machine();
    let t0 = Instant::now();
    let id = started(&at(&mut m, t0, 0, Input::Send("Hi".into())));
    at(
        &mut m,
        t0,
        10,
        Input::Stream(id, StreamEvent::TextDelta("half".into())),
    );
    let fx = at(
        &mut m,
        t0,
        20,
        Input::Stream(id, StreamEvent::Error(ProviderError::Interrupted)),
    );
    let meta = m.conv.nodes[m.conv.last()].meta.clone().unwrap();
    assert_eq!(meta.status, AnswerStatus::Interrupted);
    assert_eq!(
        meta.error.as_deref(),
        Some("connection closed before the answer finished")
    );
    assert_eq!(record(&fx).status, Status::Interrupted);
    assert_eq!(record(&fx).error_kind.as_deref(), Some("interrupted"));
}

#[test]
fn editing_an_earlier_message_branches_and_the_old_branch_stays() {
    let mut m = machine();
    let t0 = Instant::now();
    for (i, q) in ["first", "second"].iter().enumerate() {
        let id = started(&at(&mut m, t0, 0, Input::Send(q.to_string())));
        at(
            &mut m,
            t0,
            1,
            Input::Stream(id, StreamEvent::TextDelta(format!("answer {i}"))),
        );
        at(&mut m, t0, 2, Input::Stream(id, StreamEvent::End));
    }
    let first = m.conv.path().first().unwrap();
    let fx = at(
        &mut m,
        t0,
        3,
        Input::Edit {
            node: first,
            text: "FIRST".into(),
        },
    );
    // The request carries only the new branch.
    let Some(Effect::Start { request, .. }) = fx.iter().find(|e| matches!(e, Effect::Start { .. }))
    else {
        panic!("no request")
    };
    assert_eq!(request.messages.len(), 1);
    assert_eq!(
        (
            request.messages[0].role,
            request.messages[0].content.as_str()
        ),
        (WireRole::User, "FIRST")
    );
    let id = started(&fx);
    at(
        &mut m,
        t0,
        4,
        Input::Stream(id, StreamEvent::TextDelta("new".into())),
    );
    at(&mut m, t0, 5, Input::Stream(id, StreamEvent::End));
    assert_eq!(texts(&m), ["FIRST", "new"]);
    let edited = m.conv.path().first().unwrap();
    assert_eq!(m.conv.branch_of(edited), (2, 2));
    // Switch back: the whole old branch is there.
    at(
        &mut m,
        t0,
        6,
        Input::SwitchBranch {
            node: edited,
            delta: -1,
        },
    );
    assert_eq!(texts(&m), ["first", "answer 0", "second", "answer 1"]);
}

#[test]
fn regenerate_adds_a_sibling_answer_to_the_same_question() {
    let mut m = machine();
    let t0 = Instant::now();
    let id = started(&at(&mut m, t0, 0, Input::Send("q".into())));
    at(
        &mut m,
        t0,
        1,
        Input::Stream(id, StreamEvent::TextDelta("one".into())),
    );
    at(&mut m, t0, 2, Input::Stream(id, StreamEvent::End));
    let fx = at(&mut m, t0, 3, Input::Regenerate);
    let Some(Effect::Start { request, .. }) = fx.iter().find(|e| matches!(e, Effect::Start { .. }))
    else {
        panic!("no request")
    };
    assert_eq!(
        request.messages.last().unwrap().content,
        "q",
        "the answer being replaced is not sent"
    );
    let id = started(&fx);
    at(
        &mut m,
        t0,
        4,
        Input::Stream(id, StreamEvent::TextDelta("two".into())),
    );
    at(&mut m, t0, 5, Input::Stream(id, StreamEvent::End));
    let answer = m.conv.last();
    assert_eq!(m.conv.nodes[answer].role, Role::Assistant);
    assert_eq!(m.conv.branch_of(answer), (2, 2));
    assert_eq!(texts(&m), ["q", "two"]);
    at(
        &mut m,
        t0,
        6,
        Input::SwitchBranch {
            node: answer,
            delta: -1,
        },
    );
    assert_eq!(texts(&m), ["q", "one"]);
}

#[test]
fn a_system_prompt_and_parameters_go_into_the_request() {
    let mut m = machine();
    m.conv.system = "You are terse.".into();
    m.conv.params.temperature = Some(0.2);
    let fx = at(&mut m, Instant::now(), 0, Input::Send("Hi".into()));
    let Some(Effect::Start { request, .. }) = fx.iter().find(|e| matches!(e, Effect::Start { .. }))
    else {
        panic!("no request")
    };
    assert_eq!(request.messages[0].role, WireRole::System);
    assert_eq!(request.params.temperature, Some(0.2));
    assert_eq!(request.model, "gpt-4o-mini");
}

#[test]
fn an_unpriced_model_is_unpriced_not_free() {
    let mut m = machine();
    m.conv.model = "llama3.2:3b".into();
    let t0 = Instant::now();
    let id = started(&at(&mut m, t0, 0, Input::Send("Hi".into())));
    at(
        &mut m,
        t0,
        1,
        Input::Stream(
            id,
            StreamEvent::Usage(Usage {
                input: 10,
                output: 5,
                ..Usage::default()
            }),
        ),
    );
    let fx = at(&mut m, t0, 2, Input::Stream(id, StreamEvent::End));
    assert_eq!(record(&fx).cost_micros, None);
    assert_eq!(
        m.conv.nodes[m.conv.last()]
            .meta
            .as_ref()
            .unwrap()
            .cost_micros,
        None
    );
}

#[test]
fn a_retry_is_announced_with_its_wait_and_attempt() {
    let mut m = machine();
    let t0 = Instant::now();
    let id = started(&at(&mut m, t0, 0, Input::Send("Hi".into())));
    let retry = StreamEvent::Retrying {
        attempt: 2,
        of: 3,
        wait_ms: 1500,
        reason: "HTTP 429: Rate limit".into(),
    };
    at(&mut m, t0, 10, Input::Stream(id, retry));
    assert_eq!(
        m.notice.as_deref(),
        Some("HTTP 429: Rate limit — retrying in 2 s (attempt 2 of 3), Esc cancels")
    );
    at(
        &mut m,
        t0,
        1600,
        Input::Stream(id, StreamEvent::Started { model: None }),
    );
    assert_eq!(m.notice, None, "the notice goes once the server answers");
}

#[test]
fn compare_streams_each_model_as_a_sibling_answer_and_records_each() {
    let mut m = machine();
    let t0 = Instant::now();
    let fx = at(
        &mut m,
        t0,
        0,
        Input::Compare {
            text: "Which?".into(),
            targets: vec!["gpt-4o".into(), "o4-mini".into()],
        },
    );
    let starts: Vec<(u64, String)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Start {
                request_id,
                request,
                ..
            } => Some((*request_id, request.model.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["gpt-4o", "o4-mini"]
    );
    let (a, b) = (starts[0].0, starts[1].0);
    at(
        &mut m,
        t0,
        100,
        Input::Stream(b, StreamEvent::TextDelta("second".into())),
    );
    at(
        &mut m,
        t0,
        150,
        Input::Stream(a, StreamEvent::TextDelta("first".into())),
    );
    let fx_b = at(
        &mut m,
        t0,
        200,
        Input::Stream(b, StreamEvent::Error(ProviderError::Interrupted)),
    );
    assert!(m.is_streaming(), "one answer still streams");
    let fx_a = at(&mut m, t0, 300, Input::Stream(a, StreamEvent::End));
    assert!(!m.is_streaming());
    assert_eq!(
        (record(&fx_a).model_requested.as_str(), record(&fx_a).status),
        ("gpt-4o", Status::Ok)
    );
    assert_eq!(
        (record(&fx_b).model_requested.as_str(), record(&fx_b).status),
        ("o4-mini", Status::Interrupted)
    );
    // The first model's answer is the one the conversation continues with; the other is a branch.
    assert_eq!(texts(&m), ["Which?", "first"]);
    let answer = m.conv.last();
    assert_eq!(m.conv.branch_of(answer), (1, 2));
    at(
        &mut m,
        t0,
        400,
        Input::SwitchBranch {
            node: answer,
            delta: 1,
        },
    );
    assert_eq!(texts(&m), ["Which?", "second"]);
    let question = m.conv.path().first().unwrap();
    assert!(m.conv.nodes[question].compare);
}

#[test]
fn function_calls_wait_for_every_result_and_survive_save_and_export() {
    let t0 = Instant::now();
    let mut m = machine();
    m.conv.tools = llmdeck::chat::tools::parse(
        r#"{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}"#,
    )
    .unwrap();
    let id = started(&at(&mut m, t0, 0, Input::Send("find it".into())));
    for (index, call, args) in [(0, "c1", r#"{"q":"a"}"#), (1, "", r#"{"q":"b"}"#)] {
        at(
            &mut m,
            t0,
            5,
            Input::Stream(
                id,
                StreamEvent::ToolCallDelta {
                    index,
                    id: (!call.is_empty()).then(|| call.to_string()),
                    name: Some("lookup".into()),
                    arguments: args.into(),
                },
            ),
        );
    }
    // No result can be given while the answer streams.
    assert!(
        at(
            &mut m,
            t0,
            6,
            Input::ToolResult {
                call_id: "c1".into(),
                output: "x".into()
            }
        )
        .is_empty()
    );
    at(
        &mut m,
        t0,
        9,
        Input::Stream(id, StreamEvent::Finish(FinishReason::ToolCalls)),
    );
    at(&mut m, t0, 10, Input::Stream(id, StreamEvent::End));
    let pending = m.conv.pending_calls();
    assert_eq!(pending.len(), 2);
    assert!(
        !pending[1].id.is_empty(),
        "a call the server sent no id for gets one"
    );
    // An unknown id is ignored; the first result only saves.
    assert!(
        at(
            &mut m,
            t0,
            11,
            Input::ToolResult {
                call_id: "nope".into(),
                output: "x".into()
            }
        )
        .is_empty()
    );
    assert_eq!(
        at(
            &mut m,
            t0,
            12,
            Input::ToolResult {
                call_id: "c1".into(),
                output: "A".into()
            }
        ),
        vec![Effect::Save]
    );
    let second = pending[1].id.clone();
    let fx = at(
        &mut m,
        t0,
        13,
        Input::ToolResult {
            call_id: second.clone(),
            output: "B".into(),
        },
    );
    let Some(Effect::Start { request, .. }) = fx.iter().find(|e| matches!(e, Effect::Start { .. }))
    else {
        panic!("the last result continues the conversation: {fx:?}")
    };
    let roles: Vec<WireRole> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            WireRole::User,
            WireRole::Assistant,
            WireRole::Tool,
            WireRole::Tool
        ]
    );
    assert_eq!(
        request.messages[3].tool_call_id.as_deref(),
        Some(second.as_str())
    );
    assert_eq!(request.tools.len(), 1);

    // Saved and loaded, the tree is the same; exports carry the calls.
    let dir = tempfile::tempdir().unwrap();
    let store = llmdeck::chat::store::Store::new(dir.path().to_path_buf());
    store.save(&m.conv).unwrap();
    let loaded = store.load(&m.conv.id).unwrap();
    assert_eq!(loaded.tools, m.conv.tools);
    // All but the answer in flight, which a reload marks interrupted.
    assert!(
        loaded.nodes.iter().take(5).eq(m.conv.nodes.iter().take(5)),
        "the first five messages as they were"
    );
    let md = llmdeck::chat::export::to_markdown(&m.conv);
    assert!(md.contains("Called `lookup` (`c1`)"), "{md}");
    assert!(md.contains("## Tool result (`c1`)"), "{md}");
    let body: serde_json::Value = serde_json::from_str(
        &llmdeck::provider::chat_completions::to_request_json(&m.conv),
    )
    .unwrap();
    assert_eq!(body["tools"][0]["function"]["name"], "lookup");
    assert_eq!(
        body["messages"][1]["tool_calls"][1]["function"]["arguments"],
        r#"{"q":"b"}"#
    );
    assert_eq!(body["messages"][3]["role"], "tool");
}

#[global_allocator]
static COUNTING: heap::Counting = heap::Counting;

#[test]
fn a_long_session_holds_its_history_once_not_once_per_request_and_save() {
    // 200 exchanges of ~8 KB answers, as a long session in the console.
    let mut m = machine();
    let t0 = Instant::now();
    let answer = "A line of an answer, long enough to look like one. ".repeat(160);
    for i in 0..200u64 {
        let fx = at(&mut m, t0, i * 10, Input::Send(format!("question {i}")));
        let id = started(&fx);
        for piece in answer.as_bytes().chunks(64) {
            let piece = std::str::from_utf8(piece).unwrap().to_string();
            at(
                &mut m,
                t0,
                i * 10 + 1,
                Input::Stream(id, StreamEvent::TextDelta(piece)),
            );
        }
        // Usage as the server reports it (else the whole request is counted).
        let usage = Usage {
            input: 2_000,
            output: 2_000,
            ..Usage::default()
        };
        at(
            &mut m,
            t0,
            i * 10 + 2,
            Input::Stream(id, StreamEvent::Usage(usage)),
        );
        at(&mut m, t0, i * 10 + 2, Input::Stream(id, StreamEvent::End));
    }
    let history: usize = m.conv.nodes.iter().map(|n| n.content.len()).sum();
    assert!(history > 1_600_000, "{history}");

    // The next question: the machine keeps its request while the answer
    // streams, and the task that sends it holds the one in the effect.
    // Room for the messages' records themselves (the conversation's nodes
    // may move to a larger vector as the question is added), not their text.
    let records = 3 * m.conv.nodes.len() * std::mem::size_of::<llmdeck::chat::conversation::Node>();
    assert!(records < history / 2, "{records} {history}");
    let allowed = (history / 4 + records) as isize;
    let before = heap::held();
    let fx = at(&mut m, t0, 5_000, Input::Send("one more".into()));
    started(&fx);
    let request = heap::held() - before;
    // The console's writer saves a snapshot of the conversation.
    let snapshot = m.conv.clone();
    let saved = heap::held() - before - request;
    assert!(
        request < allowed,
        "the request copied the history: {request} bytes for {history} of text"
    );
    assert!(
        saved < allowed,
        "the snapshot copied the history: {saved} bytes for {history} of text"
    );
    assert_eq!(snapshot.nodes.len(), m.conv.nodes.len());
    drop(fx);
}
