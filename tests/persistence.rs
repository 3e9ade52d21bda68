//! Conversations on disk: exact round trips, the stream journal surviving a
//! kill, broken files listed and left alone, and exports.

mod support;

use std::time::Instant;

use chrono::Utc;
use llmdeck::chat::conversation::AnswerStatus;
use llmdeck::chat::export;
use llmdeck::chat::journal::Journal;
use llmdeck::chat::machine::{Effect, Input, Machine};
use llmdeck::chat::store::Store;
use llmdeck::provider::event::StreamEvent;
use support::started;

fn machine() -> Machine {
    support::machine("gpt-4o")
}

/// Runs effects the way the app does, against a store (the writer thread's
/// snapshots done at once).
fn run(store: &Store, journal: &mut Journal, m: &Machine, effects: &[Effect]) {
    for e in effects {
        match e {
            Effect::Save => {
                let retire = journal.finished(&m.conv);
                store.save(&m.conv).unwrap();
                store.retire_journals(&m.conv.id, &retire);
            }
            // A frame after each delta: written before it shows.
            Effect::Journal { node, at, text } => {
                journal.add(*node, *at, text);
                journal.flush(&m.conv.id).unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn a_conversation_with_branches_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().to_path_buf());
    let mut journal = Journal::new(store.clone());
    let mut m = machine();
    m.conv.system = "sys — ünïcödé 日本".into();
    m.conv.params.seed = Some(42);
    let t0 = Instant::now();
    for q in ["a", "b"] {
        let fx = m.handle(Input::Send(q.into()), t0, Utc::now());
        run(&store, &mut journal, &m, &fx);
        let request_id = started(&fx);
        let fx = m.handle(
            Input::Stream(request_id, StreamEvent::TextDelta(format!("re {q}"))),
            t0,
            Utc::now(),
        );
        run(&store, &mut journal, &m, &fx);
        let fx = m.handle(Input::Stream(request_id, StreamEvent::End), t0, Utc::now());
        run(&store, &mut journal, &m, &fx);
    }
    let journals: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".journal"))
        .collect();
    assert!(
        journals.is_empty(),
        "finished answers leave no journal: {journals:?}"
    );
    m.handle(Input::Regenerate, t0, Utc::now());
    m.handle(Input::Cancel, t0, Utc::now());
    store.save(&m.conv).unwrap();
    assert_eq!(store.load(&m.conv.id).unwrap(), m.conv);
}

#[test]
fn a_killed_stream_is_restored_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().to_path_buf());
    let mut journal = Journal::new(store.clone());
    let mut m = machine();
    let t0 = Instant::now();
    let fx = m.handle(Input::Send("long answer please".into()), t0, Utc::now());
    run(&store, &mut journal, &m, &fx);
    let id = started(&fx);
    for piece in ["It ", "was ", "a ", "dark "] {
        let fx = m.handle(
            Input::Stream(id, StreamEvent::TextDelta(piece.into())),
            t0,
            Utc::now(),
        );
        run(&store, &mut journal, &m, &fx);
        if piece == "was " {
            // A snapshot mid-stream (a rename, say) already holds "It was ".
            run(&store, &mut journal, &m, &[Effect::Save]);
        }
    }
    // The process dies here: no final save. A torn last journal line is tolerated.
    let journal = dir
        .path()
        .join(format!("{}.{}.journal", m.conv.id, m.conv.last()));
    let mut torn = std::fs::read(&journal).unwrap();
    torn.extend_from_slice(b"{\"node\":2,\"te");
    std::fs::write(&journal, torn).unwrap();

    let restored = store.load(&m.conv.id).unwrap();
    let answer = &restored.nodes[restored.last()];
    assert_eq!(answer.content, "It was a dark ");
    assert_eq!(
        answer.meta.as_ref().unwrap().status,
        AnswerStatus::Interrupted
    );
}

#[test]
fn a_broken_file_is_listed_with_its_error_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().to_path_buf());
    let good = machine();
    let mut good_conv = good.conv.clone();
    good_conv.title = "good one".into();
    store.save(&good_conv).unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{\n  \"id\": \"broken\",\n  oops").unwrap();
    let list = store.list();
    assert_eq!(list.len(), 2);
    let broken = list.iter().find(|s| s.id == "broken").unwrap();
    let error = broken.error.as_deref().unwrap();
    assert!(error.contains("broken.json:3"), "{error}");
    assert_eq!(
        list.iter().find(|s| s.error.is_none()).unwrap().title,
        "good one"
    );
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "{\n  \"id\": \"broken\",\n  oops"
    );
}

#[test]
fn exports_are_markdown_and_a_valid_request_body() {
    let mut m = machine();
    m.conv.system = "Be kind.".into();
    m.conv.params.temperature = Some(0.5);
    let t0 = Instant::now();
    let fx = m.handle(Input::Send("Hello?".into()), t0, Utc::now());
    let id = started(&fx);
    m.handle(
        Input::Stream(id, StreamEvent::TextDelta("Hi **there**".into())),
        t0,
        Utc::now(),
    );
    m.handle(Input::Stream(id, StreamEvent::End), t0, Utc::now());

    let md = export::to_markdown(&m.conv);
    assert!(md.contains("## System\n\nBe kind."));
    assert!(md.contains("## User\n\nHello?"));
    assert!(md.contains("## Assistant\n\nHi **there**"));

    let body: serde_json::Value = serde_json::from_str(
        &llmdeck::provider::chat_completions::to_request_json(&m.conv),
    )
    .unwrap();
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["temperature"], serde_json::json!(0.5));
    assert!(body.get("stream").is_none());
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant"]);
    // It deserializes as OpenAI's request type.
    let _: async_openai::types::chat::CreateChatCompletionRequest =
        serde_json::from_value(body).unwrap();
}
