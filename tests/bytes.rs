//! Bytes to the terminal, in process, through an emulated terminal: each reply
//! shape of `benches/peers/server.py` streamed through the console's state
//! machine, its frames (three deltas each, as at 200 tok/s and ~60 frames a
//! second) drawn by the console's own screen at 120x40 into a byte counter
//! and into an emulator (the `vt100` crate). After every frame the emulated
//! screen must show what a full redraw of the same state shows, cell by cell,
//! colours and emphasis included: what the console sends is the only thing
//! the emulator sees, so a row left stale, a scroll gone wrong or a colour
//! not reset shows here.
//!
//! `cargo test --test bytes -- --nocapture` prints the bytes per shape; each
//! shape's test fails when it sends more than aichat 0.30 does (`PEER_KB`).

mod support;

use std::cell::RefCell;
use std::io::{self, Write};
use std::process::Command;
use std::rc::Rc;
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
use llmdeck::tui::screen::Screen;
use llmdeck::tui::state::State;
use llmdeck::tui::update::{self, Command as UiCommand};
use llmdeck::tui::views;
use llmdeck::tui::widgets::highlight;
use llmdeck::tui::wire::VISIBLE_ON_BLANK;
use llmdeck::usage::PriceTable;
use ratatui::backend::{Backend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::style::{Color, Modifier};
use ratatui::{Terminal, TerminalOptions, Viewport};

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// Deltas a frame: 200 tokens a second at the console's ~60 frames a second.
const PER_FRAME: usize = 3;

/// What is written to the terminal, kept for the counter and the emulator.
#[derive(Clone, Default)]
struct Tap(Rc<RefCell<Vec<u8>>>);

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Tap {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

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
    cache: RenderCache,
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
            cache: RenderCache::default(),
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

fn colour(c: Color) -> vt100::Color {
    use vt100::Color::{Default, Idx, Rgb};
    match c {
        Color::Reset => Default,
        Color::Black => Idx(0),
        Color::Red => Idx(1),
        Color::Green => Idx(2),
        Color::Yellow => Idx(3),
        Color::Blue => Idx(4),
        Color::Magenta => Idx(5),
        Color::Cyan => Idx(6),
        Color::Gray => Idx(7),
        Color::DarkGray => Idx(8),
        Color::LightRed => Idx(9),
        Color::LightGreen => Idx(10),
        Color::LightYellow => Idx(11),
        Color::LightBlue => Idx(12),
        Color::LightMagenta => Idx(13),
        Color::LightCyan => Idx(14),
        Color::White => Idx(15),
        Color::Indexed(i) => Idx(i),
        Color::Rgb(r, g, b) => Rgb(r, g, b),
    }
}

/// The first cell where the emulated terminal shows something other than
/// `want`, as a person sees it: the text, the background, and the foreground
/// and emphasis where there is ink.
fn mismatch(emulated: &vt100::Screen, want: &Buffer) -> Option<String> {
    for y in 0..want.area.height {
        for x in 0..want.area.width {
            let cell = &want[(x, y)];
            let got = emulated.cell(y, x).expect("inside the screen");
            if got.is_wide_continuation() {
                continue;
            }
            let text = if got.contents().is_empty() {
                " "
            } else {
                got.contents()
            };
            let m = cell.modifier;
            let shown = text == cell.symbol()
                && got.bgcolor() == colour(cell.bg)
                && got.inverse() == m.contains(Modifier::REVERSED)
                && got.underline() == m.contains(Modifier::UNDERLINED);
            // A blank's foreground and emphasis are not seen; the emulator
            // keeps one intensity, so bold and dim at once show as either.
            let blank = cell.symbol() == " " && !m.intersects(VISIBLE_ON_BLANK);
            let intensity = if m.contains(Modifier::BOLD | Modifier::DIM) {
                got.bold() || got.dim()
            } else {
                got.bold() == m.contains(Modifier::BOLD) && got.dim() == m.contains(Modifier::DIM)
            };
            let ink = blank
                || (got.fgcolor() == colour(cell.fg)
                    && got.italic() == m.contains(Modifier::ITALIC)
                    && intensity);
            let same = shown && ink;
            if !same {
                let row: String = (0..want.area.width)
                    .map(|x| want[(x, y)].symbol().to_string())
                    .collect();
                return Some(format!(
                    "at ({x}, {y}): the terminal shows {text:?} {:?}/{:?} \
                     (bold {} dim {} italic {} underline {} inverse {}), \
                     the frame has {cell:?}\n  the row: {row:?}",
                    got.fgcolor(),
                    got.bgcolor(),
                    got.bold(),
                    got.dim(),
                    got.italic(),
                    got.underline(),
                    got.inverse(),
                ));
            }
        }
    }
    None
}

/// The console's screen on a 120x40 terminal whose bytes go to `tap`, as
/// `tui::terminal::enter` sets it up (its backend, a fixed viewport, cleared).
fn screen(tap: &Tap) -> Screen<llmdeck::tui::wire::Wire<Tap>> {
    let size = Size {
        width: WIDTH,
        height: HEIGHT,
    };
    let backend = llmdeck::tui::wire::Wire::new(tap.clone(), size);
    let viewport = Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT));
    let mut term = Terminal::with_options(backend, TerminalOptions { viewport }).unwrap();
    term.clear().unwrap();
    Screen::new(term)
}

/// Streams `pieces` as one answer; the bytes sent from the frame after the
/// prompt is sent to the frame after the answer ends. Every frame is checked
/// against a full redraw through the emulator.
fn stream<B: Backend>(
    pieces: &[String],
    screen: &mut Screen<B>,
    tap: &Tap,
) -> Result<usize, String> {
    let mut console = Console::new();
    let size = |n: u16| std::num::NonZeroU16::new(n).expect("not zero");
    let mut vt = vt100::Parser::new(size(HEIGHT), size(WIDTH), 0);
    let mut frame = |console: &mut Console, counted: bool, what: &str| -> Result<usize, String> {
        screen
            .draw(|f, ids| views::frame(f, ids, &console.state, &mut console.cache))
            .map_err(|_| "the screen could not draw".to_string())?;
        let bytes = tap.take();
        vt.process(&bytes);
        if let Some(m) = mismatch(vt.screen(), &console.whole()) {
            return Err(format!("after {what}: {m}"));
        }
        Ok(if counted { bytes.len() } else { 0 })
    };
    frame(&mut console, false, "the first frame")?;
    console.send("benchmark question 1");
    let mut total = frame(&mut console, true, "the prompt")?;
    console.stream(StreamEvent::Started {
        model: Some("gpt-4o-mini".into()),
    });
    for (n, chunk) in pieces.chunks(PER_FRAME).enumerate() {
        for p in chunk {
            console.stream(StreamEvent::TextDelta(p.clone()));
        }
        total += frame(&mut console, true, &format!("frame {n}"))?;
    }
    console.stream(StreamEvent::Finish(FinishReason::Stop));
    console.stream(StreamEvent::Usage(Usage {
        input: 20,
        output: pieces.len() as u64,
        source: UsageSource::Reported,
        ..Default::default()
    }));
    console.stream(StreamEvent::End);
    total += frame(&mut console, true, "the end")?;
    Ok(total)
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
    highlight::warm_up();
    let Some(pieces) = pieces(shape) else {
        support::skip("python3 is not installed: the reply shapes come from server.py");
        return;
    };
    let tap = Tap::default();
    let mut screen = screen(&tap);
    tap.take();
    let bytes = stream(&pieces, &mut screen, &tap).unwrap_or_else(|e| panic!("{shape}: {e}"));
    let kb = bytes as f64 / 1000.0;
    let peer = PEER_KB.iter().find(|(s, _)| *s == shape).unwrap().1;
    println!("{shape:>6}: {kb:6.1} KB (aichat 0.30: {peer} KB)");
    assert!(
        kb <= peer,
        "{shape}: {kb:.1} KB sent, aichat sends {peer} KB"
    );
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
