//! What a new user trips over in the first hour with the console (issue 24):
//! each test drives the console as the user did and checks what they see.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{KeyCode, KeyModifiers};
use llmdeck::chat::machine::Input;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::state::{Level, Overlay, PickerKind};
use llmdeck::tui::update::{self, Command};
use support::console::{Console, bare, flat};
use support::tmux::Tmux;

fn home_with_config(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(home.path().join("config/config.toml"), config).unwrap();
    home
}

fn poll<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(t) = found() {
            return t;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// 1. Never send an empty model.

#[test]
fn enter_with_no_model_opens_the_model_picker_and_keeps_the_draft() {
    let mut c = Console::new("");
    c.type_text("hi");
    c.press(KeyCode::Enter);
    assert_eq!(c.sent(), None, "nothing is sent to an empty model");
    assert!(matches!(
        c.state.overlays.last(),
        Some(Overlay::Picker(p)) if p.kind == PickerKind::Model
    ));
    assert!(c.commands.contains(&Command::LoadModels));
    assert_eq!(c.state.draft(), "hi");
    let toast = c.state.toast.as_ref().unwrap();
    assert!(toast.text.contains("no model chosen yet"), "{}", toast.text);
    assert!(flat(&c.screen(100, 24)).contains("no model (Ctrl-K)"));
}

#[test]
fn with_no_model_the_first_model_the_endpoint_lists_is_used_and_named() {
    let mut c = Console::new("");
    llmdeck::tui::send_check::models_listed(
        &mut c.state,
        Ok(vec!["llama3.2".into(), "qwen2.5".into()]),
    );
    assert_eq!(c.state.machine.conv.model, "llama3.2");
    assert_eq!(c.state.profile.model, "llama3.2", "new conversations too");
    let toast = c.state.toast.as_ref().unwrap();
    assert!(toast.text.contains("the first the endpoint lists"));
    // A model already chosen is never replaced.
    let mut c = Console::new("gpt-4o");
    llmdeck::tui::send_check::models_listed(&mut c.state, Ok(vec!["llama3.2".into()]));
    assert_eq!(c.state.machine.conv.model, "gpt-4o");
}

#[test]
fn a_hostile_model_id_listed_first_reaches_the_screen_inert() {
    let mut c = Console::new("");
    let evil = "llama\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J";
    llmdeck::tui::send_check::models_listed(&mut c.state, Ok(vec![evil.into()]));
    let screen = c.screen(120, 20);
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
        "{screen:?}"
    );
    assert!(screen.contains("llama␛]52"), "{screen}");
}

#[test]
fn a_local_server_and_no_model_sends_the_first_listed_model() {
    let mock = support::mock_server::Mock::start_in_background();
    let home = home_with_config("");
    let Some(t) = Tmux::start(
        home.path(),
        &[
            ("OPENAI_BASE_URL", &mock.base_url),
            ("OPENAI_API_KEY", "sk-x"),
        ],
        &[],
    ) else {
        return;
    };
    let screen = t.wait_for("the first the endpoint lists");
    let named = screen
        .split("model: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .to_string();
    t.type_text("hi there");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    let sent = mock.chat_requests();
    assert_eq!(sent[0].json()["model"], named.as_str(), "{screen}");
    assert!(["gpt-4o-mini", "gpt-4o", "o4-mini"].contains(&named.as_str()));
    t.keys(&["C-q"]);
    t.wait_exit();
}

// 2. A hard-stop budget cannot be outrun.

/// A $0.01 daily hard stop with $0.009995 spent: any request goes over it.
fn over_a_hard_stop(c: &mut Console) {
    c.state.budgets = llmdeck::usage::budget::Budgets {
        daily_usd: Some(0.01),
        hard_stop: true,
        ..Default::default()
    };
    c.state.totals = Some(llmdeck::usage::spend::Totals {
        today: (9_995, 3),
        ..Default::default()
    });
}

#[test]
fn a_fast_enter_over_a_hard_stop_budget_still_asks() {
    let mut c = Console::new("gpt-4o");
    over_a_hard_stop(&mut c);
    // Typed and sent before the debounced count ran: no estimate yet.
    assert_eq!(c.state.draft_tokens, None);
    c.type_text("hi");
    c.press(KeyCode::Enter);
    assert_eq!(c.sent(), None, "sent over a hard stop without asking");
    match c.state.overlays.last() {
        Some(Overlay::Confirm { question, .. }) => {
            assert!(question.contains("daily spend to"), "{question}")
        }
        _ => panic!("no confirmation"),
    }
    c.press(KeyCode::Char('y'));
    assert_eq!(c.sent(), Some(&Input::Send("hi".into())));
}

// 3. The "next:" estimate counts what will be sent.

#[test]
fn editing_an_earlier_message_counts_only_what_the_edit_sends() {
    let mut c = Console::new("gpt-4o");
    c.exchange("first question", "first answer");
    c.exchange("second question", "second answer");
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('g'));
    c.press(KeyCode::Char('e'));
    assert!(c.commands.contains(&Command::CountTokens));
    let request = c.state.pending_request();
    let texts: Vec<&str> = request
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(
        texts,
        ["first question"],
        "the edit replaces the first message"
    );
}

#[test]
fn an_attachment_is_counted_before_anything_is_typed() {
    let mut c = Console::new("gpt-4o");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(1024u32.to_be_bytes());
    png.extend(768u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let file = llmdeck::chat::attachment::Attachment::from_bytes("chart.png", &png).unwrap();
    c.machine(Input::Attach(file));
    let request = c.state.pending_request();
    assert_eq!(request.messages.len(), 1);
    assert_eq!(request.messages[0].attachments.len(), 1);
    let bare = llmdeck::chat::tokens::count_request(&request);
    assert!(bare > 500, "an image of 1024x768 is counted: {bare}");
}

/// The number in the status bar's "next: N tok", if shown.
fn next_tokens(screen: &str) -> Option<u64> {
    let at = screen.find("next: ")? + "next: ".len();
    screen[at..].split(' ').next()?.parse().ok()
}

#[test]
fn stopping_an_answer_counts_the_partial_answer_in_next() {
    let home = home_with_config("[demo]\ntokens_per_second = 20\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("hello");
    t.keys(&["Enter"]);
    // Well into the answer: more words than the question has tokens.
    t.wait_for("so this answer comes");
    t.keys(&["Escape"]);
    t.wait_for("stopped");
    // The question alone is under 20 tokens; with the partial answer it is more.
    let n = poll("next: counts the stopped answer", || {
        next_tokens(&t.screen()).filter(|n| *n > 30)
    });
    assert!(n > 30);
}

// 4. Messages are never cut.

#[test]
fn a_long_message_is_never_cut_at_any_width_down_to_60() {
    let long = [
        "HTTP 429: Rate limit reached for gpt-4o in organization org-x on tokens per min; retrying in 3s (attempt 2 of 5)",
        "exported to /tmp/llmdeck-home-4f2a/data/exports/2026-12-02-first-hour.md",
        "editing — Enter sends as a new branch, Esc discards",
        "answer stopped — press Ctrl-C again to quit",
    ];
    for text in long {
        for width in [60, 72, 80, 100, 120] {
            let mut c = Console::new("gpt-4o");
            c.state.toast(Level::Warning, text);
            let screen = c.screen(width, 20);
            // Every character is on screen in order (a path longer than a row breaks).
            assert!(
                bare(&screen).contains(&bare(text)),
                "at {width} columns the message is cut:\n{screen}"
            );
        }
        // A retry's notice too, which stays while the retry waits.
        let mut c = Console::new("gpt-4o");
        c.state.machine.notice = Some(text.to_string());
        assert!(bare(&c.screen(60, 20)).contains(&bare(text)));
    }
}

// 6. Regenerate what is selected.

#[test]
fn r_on_an_earlier_answer_regenerates_that_answer_as_a_new_branch() {
    let mut c = Console::new("gpt-4o");
    c.exchange("first question", "first answer");
    c.exchange("second question", "second answer");
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('g'));
    c.press(KeyCode::Char('j')); // the first answer
    c.press(KeyCode::Char('r'));
    let conv = &c.state.machine.conv;
    let shown: Vec<&str> = conv
        .path()
        .iter()
        .map(|id| conv.nodes[id].content.as_str())
        .collect();
    assert_eq!(
        shown,
        ["first question", ""],
        "a new answer to the first question"
    );
    let toast = c.state.toast.as_ref().unwrap();
    assert!(toast.text.contains("selected answer"), "{}", toast.text);
    // The old answer and everything after it are a branch away.
    let first_question = conv.path().first().unwrap();
    assert_eq!(conv.nodes[first_question].children.len(), 2);
}

// 7. Lists keep the selection where the user's eye is.

#[test]
fn after_a_copy_appears_the_highlight_stays_on_the_same_conversation() {
    use llmdeck::chat::store::Summary;
    let summary = |id: &str| Summary {
        id: id.into(),
        title: format!("conversation {id}"),
        updated: Utc::now(),
        messages: 2,
        error: None,
    };
    let mut c = Console::new("gpt-4o");
    c.state.conversations = vec![summary("a"), summary("b"), summary("c")];
    c.key(KeyCode::Char('o'), KeyModifiers::CONTROL);
    update::conversations_listed(&mut c.state, vec![summary("a"), summary("b"), summary("c")]);
    c.press(KeyCode::Down); // on "b"
    c.press(KeyCode::Char('d'));
    assert_eq!(c.commands, [Command::DuplicateConversation("b".into())]);
    // The copy is the newest: it comes first and pushes the rest down.
    update::conversations_listed(
        &mut c.state,
        vec![summary("copy"), summary("a"), summary("b"), summary("c")],
    );
    c.press(KeyCode::Char('D'));
    match c.state.overlays.last() {
        Some(Overlay::Confirm { question, .. }) => {
            assert!(question.contains("conversation b"), "{question}")
        }
        _ => panic!("no question"),
    }
}

// 8. Exports are valid Markdown.

#[test]
fn an_export_closes_a_cut_code_block_and_keeps_its_own_headings_on_top() {
    use pulldown_cmark::{Event as Md, HeadingLevel, Parser, Tag};
    let mut c = Console::new("gpt-4o");
    c.exchange(
        "show code",
        "# Result\n\nSome text\n===\n\n```rust\nfn main() {\n    let x = 1;",
    );
    c.exchange(
        "and then?",
        "## Next steps\n\n~~~\nstill ``` code\n~~~\nDone.",
    );
    let md = llmdeck::chat::export::to_markdown(&c.state.machine.conv);
    let mut headings = Vec::new();
    let mut in_heading = None;
    for event in Parser::new(&md) {
        match event {
            Md::Start(Tag::Heading { level, .. }) => in_heading = Some((level, String::new())),
            Md::Text(t) => {
                if let Some((_, text)) = in_heading.as_mut() {
                    text.push_str(&t);
                }
            }
            Md::End(pulldown_cmark::TagEnd::Heading(_)) => headings.extend(in_heading.take()),
            _ => {}
        }
    }
    let h = |level, text: &str| (level, text.to_string());
    assert_eq!(
        headings[1..],
        [
            h(HeadingLevel::H2, "User"),
            h(HeadingLevel::H2, "Assistant"),
            h(HeadingLevel::H3, "Result"),
            h(HeadingLevel::H3, "Some text"),
            // After the answer cut inside its code block: still headings.
            h(HeadingLevel::H2, "User"),
            h(HeadingLevel::H2, "Assistant"),
            h(HeadingLevel::H4, "Next steps"),
        ],
        "{md}"
    );
    assert_eq!(headings[0].0, HeadingLevel::H1);
    assert!(
        md.contains("still ``` code"),
        "a fence of the other kind is text: {md}"
    );
}

// 9. The input box shows what is typed.

#[test]
fn a_long_line_grows_the_input_box_as_newlines_do() {
    let words: Vec<String> = (1..=24).map(|i| format!("word{i}")).collect();
    let draft = words.join(" ");
    let mut c = Console::new("gpt-4o");
    c.type_text(&draft);
    let screen = c.screen(40, 24);
    for word in &words {
        assert!(
            screen.contains(&format!("{word} ")) || screen.contains(&format!("{word}│")),
            "{word} is not in view:\n{screen}"
        );
    }
    // Past the box's limit (a third of the screen) it scrolls to the cursor.
    let long: String = (1..=120).map(|i| format!("w{i} ")).collect();
    let mut c = Console::new("gpt-4o");
    c.type_text(long.trim_end());
    let screen = c.screen(40, 12);
    assert!(
        screen.contains("w120"),
        "the cursor's end is in view:\n{screen}"
    );
    let rows = screen.lines().filter(|l| l.starts_with("\"│")).count();
    assert_eq!(rows, 2, "a box of a third of 12 rows:\n{screen}");
}

// 10. Keys behave as terminal users expect.

#[test]
fn ctrl_u_deletes_to_the_start_of_the_line_in_every_text_box() {
    let mut c = Console::new("gpt-4o");
    c.type_text("keep this");
    c.key(KeyCode::Char('j'), KeyModifiers::CONTROL); // a new line
    c.type_text("drop this");
    c.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(c.state.draft(), "keep this\n");
    c.key(KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_eq!(c.state.draft(), "keep this\ndrop this", "Ctrl-Z undoes");
    // The system prompt's box and the model picker's query too.
    c.key(KeyCode::Char('s'), KeyModifiers::CONTROL);
    c.type_text(" more");
    c.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    match c.state.overlays.last() {
        Some(Overlay::Prompt(p)) => assert_eq!(p.input.lines(), [""]),
        _ => panic!("no system prompt box"),
    }
    c.press(KeyCode::Esc);
    c.key(KeyCode::Char('k'), KeyModifiers::CONTROL);
    c.type_text("gpt");
    c.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    match c.state.overlays.last() {
        Some(Overlay::Picker(p)) => assert_eq!(p.query, ""),
        _ => panic!("no model picker"),
    }
}

#[test]
fn no_popup_opens_on_top_of_itself() {
    // Every key bound anywhere, pressed twice from the input, then again in each popup it opens.
    let keys: Vec<(KeyCode, KeyModifiers)> = ['k', 'p', 'o', 's', 'g', 'r']
        .into_iter()
        .map(|c| (KeyCode::Char(c), KeyModifiers::CONTROL))
        .chain(
            ['p', 't', 'a']
                .into_iter()
                .map(|c| (KeyCode::Char(c), KeyModifiers::ALT)),
        )
        .chain((1..=8).map(|n| (KeyCode::F(n), KeyModifiers::NONE)))
        .collect();
    for &(code, mods) in &keys {
        for &(again, again_mods) in &keys {
            let mut c = Console::new("gpt-4o");
            c.type_text("a draft");
            c.key(code, mods);
            c.key(code, mods);
            c.key(again, again_mods);
            c.key(again, again_mods);
            let kinds: Vec<String> = c
                .state
                .overlays
                .iter()
                .map(|o| match o {
                    Overlay::Picker(p) => format!("picker {:?}", p.kind),
                    Overlay::Prompt(p) => format!("prompt {:?}", p.purpose),
                    other => format!("{:?}", std::mem::discriminant(other)),
                })
                .collect();
            let mut unique = kinds.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                kinds.len(),
                "{code:?}+{mods:?} then {again:?}+{again_mods:?} stacked: {kinds:?}"
            );
        }
    }
}

// 11. Small terminals: every popup scrolls to its selection and keeps its header.

const SIZES: [(u16, u16); 5] = [(40, 12), (50, 14), (60, 20), (80, 24), (120, 30)];

/// Opens a popup with `open`, presses Down `downs` times, and checks at
/// every size that `header` and the last item (`last`) are on screen.
fn scrolls_to_the_end(
    what: &str,
    setup: impl Fn(&mut Console),
    open: (KeyCode, KeyModifiers),
    downs: usize,
    header: &str,
    last: &str,
) {
    for (w, h) in SIZES {
        let mut c = Console::new("gpt-4o");
        setup(&mut c);
        c.key(open.0, open.1);
        for _ in 0..downs {
            c.press(KeyCode::Down);
        }
        let screen = c.screen(w, h);
        assert!(
            screen.contains(header),
            "{what} at {w}x{h} lost its header:\n{screen}"
        );
        assert!(
            screen.contains(last),
            "{what} at {w}x{h} hides the selection:\n{screen}"
        );
    }
}

#[test]
fn every_popup_scrolls_to_its_selection_and_keeps_its_header_down_to_40x12() {
    use llmdeck::chat::store::Summary;
    scrolls_to_the_end(
        "the parameters panel",
        |_| {},
        (KeyCode::Char('p'), KeyModifiers::CONTROL),
        20,
        "Parameters",
        "wire API",
    );
    scrolls_to_the_end(
        "the conversation list",
        |c| {
            c.state.conversations = (0..30)
                .map(|i| Summary {
                    id: format!("c{i}"),
                    title: format!("talk {i:02}"),
                    updated: "2026-11-30T09:15:00Z".parse().unwrap(),
                    messages: 4,
                    error: None,
                })
                .collect();
        },
        (KeyCode::Char('o'), KeyModifiers::CONTROL),
        40,
        "updated",
        "talk 29",
    );
    scrolls_to_the_end(
        "the model picker",
        |c| c.state.models = (0..40).map(|i| format!("model-{i:02}")).collect(),
        (KeyCode::Char('k'), KeyModifiers::CONTROL),
        50,
        "›",
        "model-39",
    );
    scrolls_to_the_end(
        "the tools panel",
        |c| {
            c.state.tool_library.0 = (0..30)
                .map(|i| {
                    serde_json::from_value(serde_json::json!({"name": format!("fn_{i:02}")}))
                        .unwrap()
                })
                .collect();
        },
        (KeyCode::F(7), KeyModifiers::NONE),
        40,
        "tool choice",
        "fn_29",
    );
}

#[test]
fn the_conversation_list_shows_whole_dates_and_its_hints_at_120_columns() {
    use llmdeck::chat::store::Summary;
    let mut c = Console::new("gpt-4o");
    c.state.conversations = vec![Summary {
        id: "x".into(),
        title: "a conversation with a title longer than forty columns, as they are".into(),
        updated: "2026-11-30T09:15:00Z".parse().unwrap(),
        messages: 12,
        error: None,
    }];
    c.key(KeyCode::Char('o'), KeyModifiers::CONTROL);
    let screen = c.screen(120, 30);
    assert!(screen.contains("2026-11-30 09:15"), "{screen}");
    assert!(screen.contains("D delete"), "{screen}");
    let screen = c.screen(40, 12);
    assert!(screen.contains("11-30 09:15"), "{screen}");
}

#[test]
fn the_title_bar_keeps_the_conversation_title_at_60_columns() {
    let mut c = Console::new("gpt-4o");
    c.exchange("tell me about models", "They differ.");
    for width in [40, 60, 80] {
        let screen = c.screen(width, 16);
        let top = screen.lines().next().unwrap();
        assert!(top.contains("tell me"), "at {width}: {top}");
        assert!(top.contains("DEMO"), "at {width}: {top}");
    }
}

// 12. Small things.

#[test]
fn keymap_warnings_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keymap.toml");
    std::fs::write(
        &file,
        "[input]\n\"ctrl-x\" = \"explode\"\n\"hyper-q\" = \"send\"\n[nowhere]\n\"a\" = \"send\"\n",
    )
    .unwrap();
    let (_, warnings) = Keymap::load(&file);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    for w in &warnings {
        assert!(w.contains(&file.display().to_string()), "{w}");
    }
    std::fs::write(&file, "[input\n").unwrap();
    let (_, warnings) = Keymap::load(&file);
    assert!(
        warnings[0].contains(&file.display().to_string()),
        "{warnings:?}"
    );
}

#[test]
fn start_up_warnings_and_the_welcome_are_read_whole_at_60_columns() {
    let warning = "/home/someone/.config/llmdeck/keymap.toml: keymap [input] \"ctrl-x\": unknown action \"explode\"";
    let mut c = Console::new("gpt-4o");
    c.state.warnings = vec![warning.into()];
    let screen = c.screen(60, 30);
    assert!(bare(&screen).contains(&bare(warning)), "{screen}");
    assert!(
        bare(&screen).contains(&bare("and restart to use a real model.")),
        "{screen}"
    );
}

#[test]
fn the_latency_table_shows_a_dash_where_there_is_no_rate() {
    use llmdeck::usage::report::Latency;
    let mut c = Console::new("gpt-4o");
    c.state.pane = llmdeck::tui::state::Pane::Spend;
    c.state.spend.data = Some(llmdeck::usage::spend::Spend {
        latency: vec![Latency {
            model: "tool-only-model".into(),
            samples: 3,
            ttft_p50_ms: 420,
            ttft_p95_ms: 900,
            tps_p50: 0.0,
            tps_p95: 0.0,
        }],
        ..Default::default()
    });
    let screen = c.screen(120, 30);
    let row = screen
        .lines()
        .find(|l| l.contains("tool-only-model"))
        .unwrap_or_else(|| panic!("no latency row:\n{screen}"));
    assert!(row.contains("420/900"), "{row}");
    assert!(!row.contains("0/0"), "{row}");
    assert!(row.contains('–'), "{row}");
}

#[test]
fn the_test_matrix_shows_answers_rendered() {
    use llmdeck::library::testing::CaseResult;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("capital.md"),
        "+++\nname = \"capital\"\n\n[[variables]]\nname = \"country\"\n+++\n\nCapital of {{country}}?\n",
    )
    .unwrap();
    let mut c = Console::new("gpt-4o");
    c.state
        .library
        .set_library(llmdeck::library::Library::load(dir.path()));
    c.state.pane = llmdeck::tui::state::Pane::Library;
    c.state.library.tests = Some((
        "capital".into(),
        vec![CaseResult {
            case: "france".into(),
            target: "gpt-4o".into(),
            pass: true,
            failures: vec![],
            answer: "## Answer\n\nThe capital is **Paris**, see `fr`.".into(),
            cost_micros: Some(21),
            latency_ms: Some(340),
            tokens: 30,
            ..CaseResult::default()
        }],
    ));
    let screen = c.screen(100, 34);
    assert!(screen.contains("The capital is Paris, see fr."), "{screen}");
    assert!(!screen.contains("**Paris**"), "{screen}");
}

// 2, as a class: every way the console starts a paid request asks first.

#[test]
fn regenerate_and_compare_over_a_hard_stop_budget_ask_first() {
    let mut c = Console::new("gpt-4o");
    c.exchange("first question", "first answer");
    over_a_hard_stop(&mut c);
    // r on the answer: asks, and a yes regenerates it.
    c.press(KeyCode::Esc);
    c.press(KeyCode::Char('r'));
    assert!(
        !c.commands
            .iter()
            .any(|x| matches!(x, Command::Machine(Input::RegenerateAt(_)))),
        "regenerated over a hard stop without asking"
    );
    assert!(matches!(
        c.state.overlays.last(),
        Some(Overlay::Confirm { .. })
    ));
    c.press(KeyCode::Char('y'));
    assert!(
        c.commands
            .iter()
            .any(|x| matches!(x, Command::Machine(Input::RegenerateAt(_)))),
        "{:?}",
        c.commands
    );
    // A comparison counts every target: asks, and a yes compares.
    let mut c = Console::new("gpt-4o");
    over_a_hard_stop(&mut c);
    c.type_text("same question for two");
    c.key(KeyCode::Char('r'), KeyModifiers::CONTROL);
    c.press(KeyCode::End);
    for _ in 0..80 {
        c.press(KeyCode::Backspace);
    }
    c.type_text("gpt-4o-mini");
    c.press(KeyCode::Enter);
    assert!(
        !c.commands
            .iter()
            .any(|x| matches!(x, Command::Compare { .. })),
        "compared over a hard stop without asking"
    );
    assert!(matches!(
        c.state.overlays.last(),
        Some(Overlay::Confirm { .. })
    ));
    c.press(KeyCode::Char('y'));
    assert!(
        c.commands
            .iter()
            .any(|x| matches!(x, Command::Compare { specs, .. } if specs.len() == 2)),
        "{:?}",
        c.commands
    );
}
