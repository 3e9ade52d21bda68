//! Terminal setup and, above all, restore: on normal exit, on error, on panic
//! and on SIGTERM/SIGHUP the user gets their terminal back as it was.

use std::io::{self, Write};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::style::{Attribute, SetAttribute};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::layout::{Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::screen::Screen;
use super::wire::Wire;

/// Frames are written through a buffer the size of a full redraw, so each
/// reaches the terminal in one write (stdout's own buffer flushes every 1 KB),
/// by our own backend (`wire`), which sends only what changed.
pub type Out = Wire<io::BufWriter<io::Stdout>>;

pub fn enter() -> io::Result<Screen<Out>> {
    terminal::enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture,
        // Lets terminals that speak the kitty protocol report Shift-Enter;
        // others ignore it. Not queried first: the query can take seconds.
        PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES),
        cursor::Hide
    )?;
    // A fixed viewport, resized on the terminal's resize events: a full-screen
    // one asks for the size every frame, and crossterm opens /dev/tty to answer.
    let (width, height) = terminal::size()?;
    let area = Rect::new(0, 0, width, height);
    let out = io::BufWriter::with_capacity(64 * 1024, out);
    let viewport = Viewport::Fixed(area);
    let backend = Wire::terminal(out, Size { width, height });
    let mut term = Terminal::with_options(backend, TerminalOptions { viewport })?;
    term.clear()?;
    Ok(Screen::new(term))
}

/// Puts the terminal back. Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        // The console leaves its last colours set between frames.
        SetAttribute(Attribute::Reset),
        PopKeyboardEnhancementFlags,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// A panic restores the terminal first, then reports as usual.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        default(info);
    }));
}
