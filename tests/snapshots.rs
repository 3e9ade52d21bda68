//! Whole screens of the console, drawn with ratatui's TestBackend at points of
//! a stream, compared with insta snapshots (review changes with `cargo insta review`).

mod support;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Effect, Input, Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap;
use llmdeck::config::theme::Theme;
use llmdeck::provider::demo;
use llmdeck::provider::event::{FinishReason, StreamEvent, Usage, UsageSource};
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::screen::{Hints, Screen};
use llmdeck::tui::state::{Pane, State};
use llmdeck::tui::update::{self, Command};
use llmdeck::tui::views;
use llmdeck::usage::PriceTable;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

struct Harness {
    state: State,
    cache: RenderCache,
    request: Option<u64>,
    t0: Instant,
    /// The same frames through the console's own backend to an emulated
    /// terminal, when a test asks (`emulate`): the bytes must show them too.
    emulated: Option<support::emulator::Emulated>,
}

impl Harness {
    fn new() -> Self {
        let (keymap, _) = Keymap::from_tables(&keymap::defaults(), None);
        let profile = Profile::demo();
        let origin = Origin {
            source: "test".into(),
            profile: "demo".into(),
            host: "offline demo".into(),
            api: "demo".into(),
        };
        let mut conv = Conversation::new("gpt-4o-mini", Utc::now());
        conv.id = "snapshot".into();
        let machine = Machine::new(conv, origin, Arc::new(PriceTable::embedded()));
        let state = State::new(
            machine,
            profile,
            Theme::built_in("dark").unwrap(),
            keymap,
            Vec::new(),
        );
        Self {
            state,
            cache: RenderCache::default(),
            request: None,
            t0: Instant::now(),
            emulated: None,
        }
    }

    fn emulate(&mut self, width: u16, height: u16) {
        self.emulated = Some(support::emulator::Emulated::new(width, height));
    }

    fn key(&mut self, code: KeyCode, mods: KeyModifiers) {
        let commands = update::on_event(&mut self.state, &Event::Key(KeyEvent::new(code, mods)));
        for c in commands {
            match c {
                Command::Machine(input) => self.machine(input),
                Command::Compare { text, specs } => {
                    let targets = specs.iter().map(|s| s.as_str().into()).collect();
                    self.machine(Input::Compare { text, targets });
                }
                _ => {}
            }
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    /// Types `text` and presses Enter, as a user sending a prompt does.
    fn send(&mut self, text: &str) {
        self.type_text(text);
        self.key(KeyCode::Enter, KeyModifiers::NONE);
    }

    fn machine(&mut self, input: Input) {
        for e in self.state.machine.handle(input, self.t0, Utc::now()) {
            if let Effect::Start { request_id, .. } = e {
                self.request = Some(request_id);
            }
        }
    }

    fn stream(&mut self, event: StreamEvent) {
        let id = self.request.expect("a request is running");
        self.machine(Input::Stream(id, event));
    }

    /// Draws through the console's own screen, checks it shows what a whole
    /// redraw shows, and returns what the frame scrolled and kept.
    fn frame(&mut self, screen: &mut Screen<TestBackend>) -> Hints {
        let mut hints = Hints::default();
        screen
            .draw(|f, ids| {
                hints = views::frame(f, ids, &self.state, &mut self.cache);
                hints.clone()
            })
            .unwrap();
        let area = screen.backend().buffer().area;
        // The reference is drawn with a cache of its own: a stale line in the
        // console's cache would otherwise be in both and pass unseen.
        let mut whole = Terminal::new(TestBackend::new(area.width, area.height)).unwrap();
        whole
            .draw(|f| views::draw(f, &self.state, &mut RenderCache::default()))
            .unwrap();
        // Cells, styles included: a kept row with a stale colour is caught too.
        assert_eq!(screen.backend().buffer(), whole.backend().buffer());
        if let Some(e) = self.emulated.as_mut() {
            e.frame(&self.state, whole.backend().buffer());
        }
        hints
    }

    fn screen(&mut self, width: u16, height: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| views::draw(f, &self.state, &mut self.cache))
            .unwrap();
        term.backend().to_string()
    }
}

fn demo_answer(prompt: &str) -> Vec<String> {
    let req = llmdeck::chat::request::ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![llmdeck::chat::request::WireMessage::text(
            llmdeck::chat::request::WireRole::User,
            prompt,
        )],
        params: Default::default(),
        tools: Vec::new(),
    };
    demo::pieces(&demo::answer_for(&req))
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn the_first_screen_welcomes_and_says_demo() {
    let mut h = Harness::new();
    insta::assert_snapshot!("welcome_demo", h.screen(100, 24));
}

#[test]
fn a_stream_draws_as_it_arrives() {
    let mut h = Harness::new();
    let prompt = "show me some rust code";
    h.send(prompt);
    insta::assert_snapshot!("stream_waiting", h.screen(90, 30));

    let pieces = demo_answer(prompt);
    h.stream(StreamEvent::Started {
        model: Some("gpt-4o-mini-2024-07-18".into()),
    });
    // Stop inside the open code block: it is drawn as far as it goes.
    let mut so_far = String::new();
    let half = pieces
        .iter()
        .position(|p| {
            so_far.push_str(p);
            so_far.contains("for (n, line)")
        })
        .unwrap();
    for p in &pieces[..half] {
        h.stream(StreamEvent::TextDelta(p.to_string()));
    }
    insta::assert_snapshot!("stream_mid_code_block", h.screen(90, 30));

    for p in &pieces[half..] {
        h.stream(StreamEvent::TextDelta(p.to_string()));
    }
    h.stream(StreamEvent::Finish(FinishReason::Stop));
    h.stream(StreamEvent::Usage(Usage {
        input: 1200,
        cached_input: 1000,
        output: 246,
        reasoning: 0,
        input_audio: 0,
        output_audio: 0,
        cache_write: 0,
        source: UsageSource::Reported,
    }));
    h.stream(StreamEvent::End);
    insta::assert_snapshot!("stream_done", h.screen(90, 30));
}

/// The playground's rows tile any screen top to bottom: the title, the
/// transcript, the input box (as tall as the draft, to a third of the screen),
/// presenter mode's keys strip and the status bar; on a screen too short for
/// them all, the title and the status bar keep their rows before the input box.
#[test]
fn the_playground_tiles_any_screen_height() {
    use llmdeck::tui::playground::view::layout;
    let mut h = Harness::new();
    for presenter in [false, true] {
        h.state.presenter = presenter;
        for lines in [1usize, 3, 8] {
            h.state.input = ratatui_textarea::TextArea::new(vec!["draft".to_string(); lines]);
            for width in [20u16, 120] {
                for height in 0..=60u16 {
                    let area = ratatui::layout::Rect::new(3, 2, width, height);
                    let a = layout(area, &h.state);
                    let column = [a.title, a.transcript, a.input, a.keys, a.status];
                    let mut y = area.y;
                    for r in column {
                        assert_eq!(
                            (r.x, r.y, r.width),
                            (area.x, y, width),
                            "{height} rows: {column:?}"
                        );
                        y += r.height;
                    }
                    assert_eq!(y, area.bottom(), "{height} rows: {column:?}");
                    let keys = u16::from(presenter);
                    let input = (lines as u16 + 2).clamp(3, (height / 3).max(3));
                    if height > 2 + keys + input {
                        assert_eq!(
                            (
                                a.title.height,
                                a.input.height,
                                a.keys.height,
                                a.status.height
                            ),
                            (1, input, keys, 1),
                            "{height} rows"
                        );
                        assert_eq!(a.transcript.height, height - 2 - keys - input);
                    } else if height >= 2 {
                        assert_eq!((a.title.height, a.status.height), (1, 1), "{height} rows");
                    }
                }
            }
        }
    }
}

/// A pasted draft of more lines than a row count holds grows the input box to
/// a third of the screen, like any long draft (it overflowed before).
#[test]
fn a_draft_of_seventy_thousand_lines_keeps_the_input_box_to_a_third() {
    let mut h = Harness::new();
    h.state.input = ratatui_textarea::TextArea::new(vec!["x".to_string(); 70_000]);
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let a = llmdeck::tui::playground::view::layout(area, &h.state);
    assert_eq!((a.input.height, a.transcript.height), (13, 25));
}

/// The console's own screen (diff, scrolling, rows kept from the last frame)
/// shows at every token what a whole redraw shows, also while the user pages
/// back, selects a message or opens a popup mid-stream; lines pushed up by the
/// answer are scrolled, and rows that did not change are not drawn again.
/// The bytes the console's own backend sends for the same frames bring an
/// emulated terminal to the same screen (`support::emulator`).
#[test]
fn a_growing_answer_scrolls_the_terminal_and_each_frame_matches_a_full_redraw() {
    let mut h = Harness::new();
    let prompt = "show me some rust code";
    h.send(prompt);
    h.stream(StreamEvent::Started { model: None });
    let mut screen = Screen::new(Terminal::new(TestBackend::new(60, 16)).unwrap());
    h.emulate(60, 16);
    let (mut scrolled, mut kept, mut frames, mut bars_kept) = (0, 0, 0, 0);
    let pieces = demo_answer(prompt);
    let third = pieces.len() / 3;
    for (n, p) in pieces.into_iter().enumerate() {
        let key = match n {
            // Typing while it streams changes the input box and the status bar's count.
            5 => Some(KeyCode::Char('x')),
            7 => Some(KeyCode::Backspace),
            // To the transcript and back: only the input box's border colour changes.
            9 | 11 => Some(KeyCode::Tab),
            _ if n == third => Some(KeyCode::PageUp),
            _ if n == third + 4 => Some(KeyCode::PageDown),
            _ if n == 2 * third => Some(KeyCode::Esc),
            _ if n == 2 * third + 2 => Some(KeyCode::Up),
            _ if n == 2 * third + 6 => Some(KeyCode::F(1)),
            _ if n == 2 * third + 8 => Some(KeyCode::Esc),
            _ => None,
        };
        if let Some(code) = key {
            h.key(code, KeyModifiers::NONE);
        }
        // Another pane for a frame, and a new screen (as after the external
        // editor): the terminal no longer shows the rows the transcript remembers.
        h.state.pane = if n == third + 8 {
            Pane::Spend
        } else {
            Pane::Playground
        };
        if n == 2 * third + 10 {
            screen = Screen::new(Terminal::new(TestBackend::new(60, 16)).unwrap());
            h.emulate(60, 16);
        }
        h.stream(StreamEvent::TextDelta(p));
        let hints = h.frame(&mut screen);
        scrolled += usize::from(hints.scroll.is_some_and(|s| s.by > 0));
        kept += hints.keep.iter().map(|r| r.len()).sum::<usize>();
        bars_kept += usize::from(hints.keep.contains(&(0..1)) && hints.keep.contains(&(15..16)));
        frames += 1;
    }
    assert!(scrolled >= 5, "scrolled {scrolled} times");
    // The title and status bars are not drawn again while only the answer grows.
    assert!(
        bars_kept > frames / 2,
        "bars kept in {bars_kept} of {frames} frames"
    );
    // Most of the transcript's 13 rows are kept on most frames.
    assert!(kept > frames * 6, "{kept} rows kept in {frames} frames");
    // With a popup over the transcript the frame is repainted, not scrolled.
    h.key(KeyCode::F(1), KeyModifiers::NONE);
    assert!(!h.state.overlays.is_empty());
    h.stream(StreamEvent::TextDelta(
        "\n\nOne more\n\nparagraph.\n\n".into(),
    ));
    assert_eq!(h.frame(&mut screen), Hints::default());
}

#[test]
fn a_stopped_answer_is_marked_and_the_small_screen_still_works() {
    let mut h = Harness::new();
    h.send("tell me about models");
    for p in demo_answer("tell me about models").iter().take(30) {
        h.stream(StreamEvent::TextDelta(p.to_string()));
    }
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    insta::assert_snapshot!("stopped_60x20", h.screen(60, 20));
}

#[test]
fn help_and_parameters_overlays() {
    let mut h = Harness::new();
    h.key(KeyCode::F(1), KeyModifiers::NONE);
    insta::assert_snapshot!("help_input", h.screen(90, 36));
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Char('p'), KeyModifiers::CONTROL);
    h.key(KeyCode::Down, KeyModifiers::NONE);
    h.key(KeyCode::Down, KeyModifiers::NONE);
    h.key(KeyCode::Right, KeyModifiers::NONE);
    h.key(KeyCode::Left, KeyModifiers::NONE);
    insta::assert_snapshot!("parameters", h.screen(90, 24));
    assert_eq!(h.state.machine.conv.params.temperature, Some(0.9));
}

#[test]
fn branches_show_in_the_transcript() {
    let mut h = Harness::new();
    h.send("first question");
    h.stream(StreamEvent::TextDelta("First answer.".into()));
    h.stream(StreamEvent::End);
    // Esc to the transcript, up to the question, edit it, send: a second branch.
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Char('k'), KeyModifiers::NONE);
    h.key(KeyCode::Char('e'), KeyModifiers::NONE);
    h.send(" (edited)");
    h.stream(StreamEvent::TextDelta("Second answer.".into()));
    h.stream(StreamEvent::End);
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Char('k'), KeyModifiers::NONE);
    insta::assert_snapshot!("branch_2_of_2", h.screen(80, 16));
    h.key(KeyCode::Char('h'), KeyModifiers::NONE);
    for c in update::apply(&mut h.state, llmdeck::tui::action::Action::Up) {
        drop(c);
    }
    insta::assert_snapshot!("branch_1_of_2", h.screen(80, 16));
}

#[test]
fn view_code_shows_the_pending_request_with_the_key_from_the_environment() {
    let mut h = Harness::new();
    h.type_text("What's new?");
    h.key(KeyCode::Char('g'), KeyModifiers::CONTROL);
    insta::assert_snapshot!("view_code_curl", h.screen(100, 20));
    h.key(KeyCode::Right, KeyModifiers::NONE);
    insta::assert_snapshot!("view_code_python", h.screen(100, 30));
    let commands = update::on_event(
        &mut h.state,
        &Event::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
    );
    match &commands[..] {
        [Command::Copy { text, what }] => {
            assert_eq!(what, "the request as Python");
            assert!(text.contains("os.environ[\"OPENAI_API_KEY\"]"));
            assert!(text.contains("What's new?"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn compared_answers_stand_side_by_side() {
    let mut h = Harness::new();
    h.type_text("which is better?");
    h.key(KeyCode::Char('r'), KeyModifiers::CONTROL);
    // The prompt offers other models; type the list.
    h.key(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.send("gpt-4.1-nano, o4-mini");
    let ids: Vec<u64> = h
        .state
        .machine
        .streams
        .iter()
        .map(|s| s.request_id)
        .collect();
    assert_eq!(ids.len(), 3);
    let answers = [
        "**gpt-4o-mini** says: the cheap one, for most prompts.",
        "Nano: *fast*.",
        "The reasoning model thinks it depends on the `task`.",
    ];
    for (id, text) in ids.iter().zip(answers) {
        h.machine(Input::Stream(*id, StreamEvent::TextDelta(text.to_string())));
    }
    h.machine(Input::Stream(
        ids[0],
        StreamEvent::Usage(Usage {
            input: 20,
            output: 12,
            ..Usage::default()
        }),
    ));
    h.machine(Input::Stream(
        ids[0],
        StreamEvent::Finish(FinishReason::Stop),
    ));
    h.machine(Input::Stream(ids[0], StreamEvent::End));
    insta::assert_snapshot!("compare_streaming", h.screen(100, 16));
}

#[test]
fn presenter_mode_hides_hosts_and_shows_the_keys() {
    let mut h = Harness::new();
    h.state.presenter = true;
    h.state.theme = Theme::built_in("presenter").unwrap();
    h.send("hello room");
    h.stream(StreamEvent::TextDelta("Welcome, everyone.".into()));
    h.stream(StreamEvent::End);
    h.key(KeyCode::Char('p'), KeyModifiers::CONTROL);
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    h.key(KeyCode::Char('o'), KeyModifiers::CONTROL);
    assert!(
        h.state.overlays.is_empty(),
        "no conversation list on a projector"
    );
    insta::assert_snapshot!("presenter", h.screen(80, 14));
}

#[test]
fn tool_cards_reasoning_and_results() {
    let mut h = Harness::new();
    h.state.machine.conv.model = "o4-mini".into();
    h.state.machine.conv.tools = llmdeck::chat::tools::parse(
        r#"{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}"#,
    )
    .unwrap();
    h.send("Weather in Paris and Oslo?");
    h.stream(StreamEvent::Started {
        model: Some("o4-mini".into()),
    });
    h.stream(StreamEvent::ReasoningDelta(
        "Two cities, so two calls.".into(),
    ));
    for (index, id, args) in [
        (0, "call_a", r#"{"city":"#),
        (1, "call_b", r#"{"town":"Oslo"}"#),
    ] {
        h.stream(StreamEvent::ToolCallDelta {
            index,
            id: Some(id.into()),
            name: Some("get_weather".into()),
            arguments: args.into(),
        });
    }
    // Arguments still arriving: raw text, no verdict yet.
    insta::assert_snapshot!("tool_cards_streaming", h.screen(80, 24));
    h.stream(StreamEvent::ToolCallDelta {
        index: 0,
        id: None,
        name: None,
        arguments: r#""Paris"}"#.into(),
    });
    h.stream(StreamEvent::Finish(FinishReason::ToolCalls));
    h.stream(StreamEvent::Usage(Usage {
        input: 80,
        output: 40,
        reasoning: 12,
        input_audio: 0,
        output_audio: 0,
        source: UsageSource::Reported,
        ..Usage::default()
    }));
    h.stream(StreamEvent::End);
    // Done: pretty arguments, the second flagged, the input asks for a result.
    insta::assert_snapshot!("tool_cards_done", h.screen(80, 30));
    h.key(KeyCode::Char('r'), KeyModifiers::ALT);
    h.send(r#"{"temp": 21}"#);
    insta::assert_snapshot!("tool_result_and_reasoning_expanded", h.screen(80, 34));
}

#[test]
fn library_pane_with_a_broken_file_versions_and_a_test_matrix() {
    use llmdeck::library::testing::CaseResult;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("geo")).unwrap();
    std::fs::write(
        dir.path().join("geo/capital.md"),
        "+++\nname = \"capital\"\ndescription = \"The capital of a country\"\ntags = [\"geo\"]\nmodel = \"gpt-4o-mini\"\n\n[[variables]]\nname = \"country\"\nrequired = true\n+++\n\n# System\n\nAnswer in one word.\n\n# User\n\nCapital of {{country}}?\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.md"),
        "+++\nname = \"broken\"\n+++\n{{ghost}}\n",
    )
    .unwrap();
    let mut h = Harness::new();
    h.state
        .library
        .set_library(llmdeck::library::Library::load(dir.path()));
    h.state.pane = llmdeck::tui::state::Pane::Library;
    insta::assert_snapshot!("library_list", h.screen(100, 24));
    // Typing searches; the selected prompt shows its versions and last test run.
    h.type_text("cap");
    let version = h
        .state
        .library
        .current()
        .unwrap()
        .prompt
        .as_ref()
        .unwrap()
        .version
        .clone();
    h.state.library.versions = Some((
        "capital".into(),
        vec![llmdeck::usage::report::VersionStats {
            version,
            runs: 12,
            avg_cost_micros: Some(84),
            avg_tokens: 61,
            tests_passed: 3,
            tests_failed: 1,
            last: "2026-11-23".into(),
        }],
    ));
    let cell = |target: &str, pass: bool, answer: &str| CaseResult {
        case: "france".into(),
        target: target.into(),
        pass,
        failures: if pass {
            vec![]
        } else {
            vec!["contains \"Paris\": does not contain \"Paris\"".into()]
        },
        answer: answer.into(),
        cost_micros: Some(21),
        latency_ms: Some(340),
        tokens: 30,
        ..CaseResult::default()
    };
    h.state.library.tests = Some((
        "capital".into(),
        vec![
            cell("gpt-4o-mini", true, "Paris"),
            cell("gpt-4.1-nano", false, "France's capital is Lyon."),
        ],
    ));
    insta::assert_snapshot!("library_selected_with_tests", h.screen(100, 34));
}

/// Where a box's right border stands right after a letter, digit or closing
/// mark, the text inside was cut mid-word (`the function calle│`). A `│` with
/// no border before it on the line is a left border over other text, which a
/// popup may cover; an ellipsis is a deliberate, visible cut.
fn cut_words(screen: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in screen.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mut seen_border = false;
        for (i, &c) in chars.iter().enumerate() {
            if !matches!(c, '│' | '┐' | '┘' | '┤') {
                if matches!(c, '│' | '┌' | '└' | '├') {
                    seen_border = true;
                }
                continue;
            }
            // The character before the border ends a word that the line before
            // it (not another border: `│W│` is text a popup covers) started.
            let word_end = i > 1
                && (chars[i - 1].is_alphanumeric() || ").,;:'\"".contains(chars[i - 1]))
                && !matches!(chars[i - 2], '│' | '┌' | '└' | '├');
            if seen_border && word_end {
                out.push(line.to_string());
            }
            seen_border = true;
        }
    }
    out
}

#[test]
fn no_accepted_snapshot_holds_a_word_cut_at_a_border() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut cut = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for line in cut_words(&text) {
            cut.push(format!("{}: {line}", entry.file_name().to_string_lossy()));
        }
    }
    assert!(cut.is_empty(), "words cut at a border:\n{}", cut.join("\n"));
    // The scan itself finds what it is for.
    assert_eq!(
        cut_words("   │ the function calle│   \n   │ fits exactly │\n  DEMO MO│ x │").len(),
        1
    );
}

/// The terminal resized while an answer streams (larger, then smaller): the
/// screen's kept and scrolled rows start over, and every frame still shows
/// what a whole redraw of the new size shows.
#[test]
fn a_resize_mid_stream_starts_the_kept_rows_over_and_matches_a_full_redraw() {
    let mut h = Harness::new();
    let prompt = "show me some rust code";
    h.send(prompt);
    h.stream(StreamEvent::Started { model: None });
    let mut screen = Screen::new(Terminal::new(TestBackend::new(60, 16)).unwrap());
    h.emulate(60, 16);
    let pieces = demo_answer(prompt);
    let third = pieces.len() / 3;
    let mut kept_after = 0;
    for (n, p) in pieces.into_iter().enumerate() {
        let size = match n {
            _ if n == third => Some((90, 24)),
            _ if n == 2 * third => Some((44, 12)),
            _ => None,
        };
        if let Some((w, height)) = size {
            // As the console does on a resize event: the terminal has the new
            // size and a blank screen, and the next frame is sent whole.
            screen.backend_mut().resize(w, height);
            screen
                .resize(ratatui::layout::Rect::new(0, 0, w, height))
                .unwrap();
            if let Some(e) = h.emulated.as_mut() {
                e.resize(w, height);
            }
            h.stream(StreamEvent::TextDelta(p));
            let hints = h.frame(&mut screen);
            assert!(hints.keep.is_empty(), "nothing is kept across a resize");
            assert!(
                hints.scroll.is_none(),
                "nothing is scrolled across a resize"
            );
            continue;
        }
        h.stream(StreamEvent::TextDelta(p));
        let hints = h.frame(&mut screen);
        if n > 2 * third {
            kept_after += hints.keep.len();
        }
    }
    assert!(kept_after > 0, "rows are kept again after the resize");
}

#[test]
fn more_than_four_compare_targets_are_refused_with_a_message() {
    let mut h = Harness::new();
    h.type_text("same question");
    let targets = |h: &mut Harness, text: &str| {
        h.key(KeyCode::Char('r'), KeyModifiers::CONTROL);
        // The form offers the last comparison's models: start from empty.
        h.key(KeyCode::End, KeyModifiers::NONE);
        for _ in 0..80 {
            h.key(KeyCode::Backspace, KeyModifiers::NONE);
        }
        h.type_text(text);
    };
    targets(&mut h, "gpt-4o, o4-mini, gpt-4.1 gpt-5");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(h.request.is_none(), "nothing was sent");
    let screen = h.screen(100, 30);
    assert!(
        screen.contains("compare at most 4 models at once"),
        "{screen}"
    );
    // Three others are fine.
    assert!(screen.contains("named 4"), "the message is whole: {screen}");
    h.key(KeyCode::Esc, KeyModifiers::NONE);
    targets(&mut h, "gpt-4o, o4-mini, gpt-4.1");
    h.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(
        h.request.is_some(),
        "the comparison started: {}",
        h.screen(100, 30)
    );
}
