//! Bytes to the terminal, in process, through an emulated terminal: each reply
//! shape of `benches/peers/server.py` streamed through the console's state
//! machine, its frames (three deltas each, as at 200 tok/s and ~60 frames a
//! second) drawn by the console's own screen at 120x40 into a byte counter
//! and into an emulator (the `vt100` crate). After every frame the emulated
//! screen must show what a full redraw of the same state shows, cell by cell,
//! as a person sees it (`support::emulator::differs`): what the console sends
//! is the only thing the emulator sees, so a row left stale, a scroll gone
//! wrong or a colour not reset shows here.
//!
//! `cargo test --test bytes -- --nocapture` prints the bytes per shape and
//! the rows a frame drew; each shape's test fails when it sends more than
//! aichat 0.30 does (`PEER_KB`), or when its frames draw rows they could keep.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Effect, Input, Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap;
use llmdeck::config::theme::Theme;
use llmdeck::provider::event::{FinishReason, StreamEvent, Usage, UsageSource};
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::state::State;
use llmdeck::tui::update::{self, Command as UiCommand};
use llmdeck::tui::views;
use llmdeck::tui::widgets::highlight;
use llmdeck::usage::PriceTable;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use support::emulator::Emulated;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// Deltas a frame: 200 tokens a second at the console's ~60 frames a second.
const PER_FRAME: usize = 3;

/// The reply of `shape` in the pieces the bench server streams, from the
/// server's own generator; `None` without python3.
fn pieces(shape: &str) -> Option<Vec<String>> {
    let script = "import json, sys; sys.path.insert(0, 'benches/peers'); import server; \
                  print(json.dumps(server.reply_tokens(sys.argv[1])))";
    let out = Command::new("python3")
        .args(["-c", script, shape])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "server.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("a JSON list of pieces"))
}

struct Console {
    state: State,
    request: Option<u64>,
    t0: Instant,
    /// Simulated time: 5 ms a delta, so every figure on screen is the same on every run.
    at: Duration,
}

impl Console {
    fn new() -> Self {
        let (keymap, _) = Keymap::from_tables(&keymap::defaults(), None);
        let origin = Origin {
            source: "test".into(),
            profile: "bench".into(),
            host: "127.0.0.1".into(),
            api: "chat".into(),
        };
        let mut conv = Conversation::new("gpt-4o-mini", Utc::now());
        conv.id = "bytes".into();
        let machine = Machine::new(conv, origin, Arc::new(PriceTable::embedded()));
        let theme = Theme::built_in("dark").unwrap();
        let state = State::new(machine, Profile::demo(), theme, keymap, Vec::new());
        Self {
            state,
            request: None,
            t0: Instant::now(),
            at: Duration::ZERO,
        }
    }

    fn machine(&mut self, input: Input) {
        let now = self.t0 + self.at;
        for e in self.state.machine.handle(input, now, Utc::now()) {
            if let Effect::Start { request_id, .. } = e {
                self.request = Some(request_id);
            }
        }
    }

    fn send(&mut self, prompt: &str) {
        for c in prompt.chars().map(KeyCode::Char).chain([KeyCode::Enter]) {
            let event = Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
            for command in update::on_event(&mut self.state, &event) {
                if let UiCommand::Machine(input) = command {
                    self.machine(input);
                }
            }
        }
    }

    fn stream(&mut self, event: StreamEvent) {
        self.at += Duration::from_millis(5);
        let id = self.request.expect("a request is running");
        self.machine(Input::Stream(id, event));
    }

    /// The frame drawn whole, on a blank terminal, with a cache of its own.
    fn whole(&self) -> Buffer {
        let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        term.draw(|f| views::draw(f, &self.state, &mut RenderCache::default()))
            .unwrap();
        term.backend().buffer().clone()
    }
}

/// Streams `pieces` as one answer on a 120x40 emulated terminal; the bytes
/// sent from the frame after the prompt is sent to the frame after the answer
/// ends, and the rows each frame of the answer drew (those it did not keep).
/// Every frame is checked against a full redraw through the emulator.
fn stream(pieces: &[String]) -> (usize, Vec<usize>) {
    let mut console = Console::new();
    let mut term = Emulated::new(WIDTH, HEIGHT);
    let mut frame = |console: &mut Console| {
        let sent = term.frame(&console.state, &console.whole());
        (sent, term.screen.rows_drawn())
    };
    frame(&mut console);
    console.send("benchmark question 1");
    let mut total = frame(&mut console).0;
    console.stream(StreamEvent::Started {
        model: Some("gpt-4o-mini".into()),
    });
    let mut rows = Vec::new();
    for chunk in pieces.chunks(PER_FRAME) {
        for p in chunk {
            console.stream(StreamEvent::TextDelta(p.clone()));
        }
        let (sent, drawn) = frame(&mut console);
        total += sent;
        rows.push(drawn);
    }
    console.stream(StreamEvent::Finish(FinishReason::Stop));
    console.stream(StreamEvent::Usage(Usage {
        input: 20,
        output: pieces.len() as u64,
        source: UsageSource::Reported,
        ..Default::default()
    }));
    console.stream(StreamEvent::End);
    (total + frame(&mut console).0, rows)
}

/// Rows drawn a frame, on average.
fn mean(rows: &[usize]) -> f64 {
    rows.iter().sum::<usize>() as f64 / rows.len() as f64
}

/// aichat 0.30's bytes for the same answer (README, `benches/peers/run`, in
/// tmux): the target is to send no more on any shape.
const PEER_KB: [(&str, f64); 5] = [
    ("prose", 36.0),
    ("code", 49.4),
    ("table", 48.4),
    ("list", 37.1),
    ("mixed", 45.5),
];

/// Every frame of `shape` reaches the emulated terminal as the full redraw
/// shows it, and the answer costs no more bytes than the peer's.
fn shape(shape: &str) {
    highlight::warm_up("base16-ocean.dark");
    let Some(pieces) = pieces(shape) else {
        support::skip("python3 is not installed: the reply shapes come from server.py");
        return;
    };
    let (bytes, rows) = stream(&pieces);
    let kb = bytes as f64 / 1000.0;
    let peer = PEER_KB.iter().find(|(s, _)| *s == shape).unwrap().1;
    let mean = mean(&rows);
    let whole = rows
        .iter()
        .filter(|&&r| r >= usize::from(HEIGHT) - 5)
        .count();
    println!(
        "{shape:>6}: {kb:6.1} KB (aichat 0.30: {peer} KB), {mean:.2} rows drawn a frame, {whole} of {} frames drew 35 rows or more",
        rows.len()
    );
    assert!(
        kb <= peer,
        "{shape}: {kb:.1} KB sent, aichat sends {peer} KB"
    );
    // What a frame costs after the views' own work is mostly the rows it
    // draws: the line being written, the one it pushed up, a border under
    // them. A line that stayed as it was, in a block laid out anew below it
    // or in the open tail, is kept (the mixed answer drew 4.5 rows a frame
    // and its whole transcript 22 times when any was laid out again).
    assert!(
        mean <= 3.0,
        "{shape}: {mean:.2} rows drawn a frame ({whole} frames drew 35 rows or more)"
    );
}

/// An answer that is one long paragraph has no stable prefix while it
/// streams, so none of its lines is fixed: they are kept by what they show,
/// and a frame draws the line being written, not the whole paragraph.
#[test]
fn one_long_paragraph() {
    let pieces: Vec<String> = (0..2_000).map(|i| format!(" word{}", i % 97)).collect();
    let mean = mean(&stream(&pieces).1);
    println!("one paragraph: {mean:.2} rows drawn a frame");
    assert!(mean <= 3.0, "{mean:.2} rows drawn a frame");
}

#[test]
fn prose() {
    shape("prose");
}

#[test]
fn code() {
    shape("code");
}

#[test]
fn table() {
    shape("table");
}

#[test]
fn list() {
    shape("list");
}

#[test]
fn mixed() {
    shape("mixed");
}
