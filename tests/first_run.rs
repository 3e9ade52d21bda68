//! A first run that shows what the tool can do (issue 24, point 13): a
//! starter set of prompts, and an offline demo that answers the kind of
//! answer asked for and says which scenario answered.

mod support;

use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::provider::demo;
use support::tmux::Tmux;

fn demo_answer(prompt: &str) -> String {
    let req = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![WireMessage::text(WireRole::User, prompt)],
        params: Default::default(),
        tools: Vec::new(),
    };
    demo::answer_for(&req).into_owned()
}

#[test]
fn the_demo_answers_the_kind_of_answer_asked_for_and_says_which() {
    for (prompt, scenario, shows) in [
        (
            "Compare Python and Rust for a CLI tool in a table",
            "table",
            "|---|",
        ),
        ("show me some rust code", "code", "```rust"),
        ("Give me the project as JSON", "JSON", "```json"),
        (
            "Write an essay about terminals",
            "essay",
            "Why terminal tools last",
        ),
        (
            "how do I steal a password",
            "refusal",
            "I can't help with that",
        ),
        ("hello", "welcome", "You are in the offline demo"),
    ] {
        let answer = demo_answer(prompt);
        assert!(answer.contains(shows), "{prompt:?} got:\n{answer}");
        let said = match scenario {
            "JSON" => "\"demo_scenario\": \"JSON\"".to_string(),
            _ => format!("scenario: **{scenario}**"),
        };
        assert!(
            answer.contains(&said),
            "{prompt:?} does not say its scenario:\n{answer}"
        );
    }
}

#[test]
fn prompts_init_writes_the_starter_set_and_never_overwrites() {
    let home = tempfile::tempdir().unwrap();
    let out = support::llmdeck(home.path(), None, &["prompts", "init"], None);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    let list = support::llmdeck(home.path(), None, &["prompts", "list", "--json"], None);
    let items: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 5, "{items:?}");
    for item in items {
        assert!(item.get("error").is_none(), "{item}");
        assert!(item["tests"].as_u64().unwrap() >= 1, "{item}");
        assert!(!item["variables"].as_array().unwrap().is_empty(), "{item}");
    }
    // An edited starter prompt is the user's: a second init keeps it.
    let file = home.path().join("data/prompts/starter/summarize.md");
    let mine = std::fs::read_to_string(&file)
        .unwrap()
        .replace("faithfully", "briefly");
    std::fs::write(&file, &mine).unwrap();
    let again = support::llmdeck(home.path(), None, &["prompts", "init"], None);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("kept"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), mine);
}

#[test]
fn the_empty_library_offers_the_starter_set_on_a_key() {
    let home = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.keys(&["M-3"]);
    t.wait_for("Alt-I adds a");
    t.keys(&["M-i"]);
    let screen = t.wait_for("added 5 starter");
    assert!(screen.contains("summarize"), "{screen}");
    t.keys(&["C-q"]);
    t.wait_exit();
    assert!(
        home.path()
            .join("data/prompts/starter/commit-message.md")
            .exists()
    );
}
