//! A terminal emulator (the `vt100` crate) fed the bytes the console's own
//! screen and backend (`tui::wire`) send: what a person would see, to compare
//! with a full redraw of the same state.

use std::num::NonZeroU16;

use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::screen::Screen;
use llmdeck::tui::state::State;
use llmdeck::tui::views;
use llmdeck::tui::wire::{VISIBLE_ON_BLANK, Wire};
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::style::{Color, Modifier};
use ratatui::{Terminal, TerminalOptions, Viewport};

fn size(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("not zero")
}

/// The console's screen on an emulated terminal, with a render cache of its
/// own (the frame memory in it belongs to this screen).
pub struct Emulated {
    pub screen: Screen<Wire<Vec<u8>>>,
    pub cache: RenderCache,
    pub vt: vt100::Parser,
    /// Bytes sent so far.
    pub sent: usize,
}

impl Emulated {
    /// A `width` x `height` terminal set up as `tui::terminal::enter` does.
    pub fn new(width: u16, height: u16) -> Self {
        let backend = Wire::new(Vec::new(), Size { width, height });
        let viewport = Viewport::Fixed(Rect::new(0, 0, width, height));
        let mut term = Terminal::with_options(backend, TerminalOptions { viewport }).unwrap();
        term.clear().unwrap();
        let mut vt = vt100::Parser::new(size(height), size(width), 0);
        vt.process(&std::mem::take(term.backend_mut().writer_mut()));
        Self {
            screen: Screen::new(term),
            cache: RenderCache::default(),
            vt,
            sent: 0,
        }
    }

    /// The terminal resized, then the console's screen (as on a resize event).
    pub fn resize(&mut self, width: u16, height: u16) {
        self.vt.screen_mut().set_size(size(height), size(width));
        self.screen.backend_mut().resize(Size { width, height });
        self.screen.resize(Rect::new(0, 0, width, height)).unwrap();
        self.take();
    }

    fn take(&mut self) -> usize {
        let bytes = std::mem::take(self.screen.backend_mut().writer_mut());
        self.vt.process(&bytes);
        self.sent += bytes.len();
        bytes.len()
    }

    /// Draws `state` as the console does; the bytes it sent. Panics when the
    /// emulated terminal then shows something else than `whole`.
    pub fn frame(&mut self, state: &State, whole: &Buffer) -> usize {
        let cache = &mut self.cache;
        self.screen
            .draw(|f, ids| views::frame(f, ids, state, cache))
            .unwrap();
        let sent = self.take();
        if let Some(d) = differs(self.vt.screen(), whole) {
            panic!("the emulated terminal differs from a full redraw at {d}");
        }
        sent
    }
}

fn colour(c: Color) -> vt100::Color {
    use vt100::Color::{Default, Idx, Rgb};
    let named = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match c {
        Color::Reset => Default,
        Color::Indexed(i) => Idx(i),
        Color::Rgb(r, g, b) => Rgb(r, g, b),
        c => Idx(named.iter().position(|n| *n == c).expect("a named colour") as u8),
    }
}

/// The first cell where the emulated terminal shows something else than
/// `want`, as a person sees it: the text, the background, reverse and
/// underline, and the foreground and emphasis where there is ink (a blank's
/// are not seen). The emulator keeps one intensity: bold and dim at once
/// show as either.
pub fn differs(vt: &vt100::Screen, want: &Buffer) -> Option<String> {
    for y in 0..want.area.height {
        for x in 0..want.area.width {
            let cell = &want[(x, y)];
            let got = vt.cell(y, x).expect("inside the screen");
            if got.is_wide_continuation() {
                continue;
            }
            let text = match got.contents() {
                "" => " ",
                t => t,
            };
            let m = cell.modifier;
            let shown = text == cell.symbol()
                && got.bgcolor() == colour(cell.bg)
                && got.inverse() == m.contains(Modifier::REVERSED)
                && got.underline() == m.contains(Modifier::UNDERLINED);
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
            if !(shown && ink) {
                let row: String = (0..want.area.width)
                    .map(|x| want[(x, y)].symbol().to_string())
                    .collect();
                return Some(format!(
                    "({x}, {y}): the terminal shows {text:?} {:?}/{:?} (bold {} dim {} \
                     italic {} underline {} inverse {}), the frame has {cell:?}\n  the row: {row:?}",
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
