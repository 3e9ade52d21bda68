//! Terminal setup and, above all, restore: on normal exit, on error, on panic
//! and on SIGTERM/SIGHUP the user gets their terminal back as it was.

use std::io::{self, Write};
use std::os::fd::AsFd;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::style::{Attribute, SetAttribute};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{Command, cursor, execute};
use ratatui::backend::{Backend, ClearType};
use ratatui::layout::{Position, Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::screen::Screen;
use super::wire::Wire;

/// Frames go out through our own backend (`wire`), which sends only what
/// changed, into `Frames`: one write per frame.
pub type Out = Wire<Frames>;

/// What a frame wrote, sent to the terminal in one write when it is flushed.
/// Not stdout's own writer, which sends a frame up to its last newline at
/// once and the rest on flush (two writes a frame: a frame torn in two over
/// a slow link); not a `BufWriter`, which sends what it holds when dropped,
/// even after the terminal was restored (a frame, or the set-up, cut short
/// by a panic): what was never flushed is dropped.
pub struct Frames {
    fd: std::fs::File,
    held: Vec<u8>,
}

impl Write for Frames {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.held.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let sent = self.fd.write_all(&self.held);
        // Sent or failed (the terminal went away): not sent again.
        self.held.clear();
        sent
    }
}

pub fn enter() -> io::Result<Screen<Out>> {
    terminal::enable_raw_mode()?;
    // The set-up goes out with the first frame, in its write: the terminal
    // (or tmux) wakes once for both. Lost, like the frame, if that never comes.
    let setup = setup();
    // A fixed viewport, resized on the terminal's resize events: a full-screen
    // one asks for the size every frame, and crossterm opens /dev/tty to answer.
    let (width, height) = size()?;
    let area = Rect::new(0, 0, width, height);
    let fd = std::fs::File::from(io::stdout().as_fd().try_clone_to_owned()?);
    let out = Frames {
        fd,
        held: setup.into_bytes(),
    };
    let viewport = Viewport::Fixed(area);
    let mut backend = Wire::terminal(out, Size { width, height });
    // Cleared as `Terminal::clear` clears, less what it adds here: asking the
    // size again (crossterm opens /dev/tty for it) and blanking a buffer
    // that was never drawn on.
    backend.set_cursor_position(Position::ORIGIN)?;
    backend.clear_region(ClearType::AfterCursor)?;
    let term = Terminal::with_options(backend, TerminalOptions { viewport })?;
    Ok(Screen::new(term))
}

/// The terminal's size, asked of stdout when stdout is the controlling
/// terminal (crossterm opens /dev/tty to ask, on every call); else as
/// crossterm asks, so that it agrees with the size its resize events carry.
pub fn size() -> io::Result<(u16, u16)> {
    #[cfg(unix)]
    {
        // SAFETY: tcgetpgrp only reads; it fails unless fd 1 is the calling
        // process's controlling terminal, the one /dev/tty names.
        let controlling = unsafe { libc::tcgetpgrp(libc::STDOUT_FILENO) } >= 0;
        // SAFETY: a zeroed winsize is valid; TIOCGWINSZ only fills it.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: `ws` is a winsize the call may write.
        if controlling
            && unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
            && ws.ws_row > 0
        {
            return Ok((ws.ws_col, ws.ws_row));
        }
    }
    terminal::size()
}

/// The modes the console runs in, as the terminal is told them.
fn setup() -> String {
    let mut s = String::new();
    // Written into a String: cannot fail.
    let _ = EnterAlternateScreen.write_ansi(&mut s);
    let _ = EnableBracketedPaste.write_ansi(&mut s);
    let _ = EnableMouseCapture.write_ansi(&mut s);
    // Lets terminals that speak the kitty protocol report Shift-Enter;
    // others ignore it. Not queried first: the query can take seconds.
    let flags = KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES;
    let _ = PushKeyboardEnhancementFlags(flags).write_ansi(&mut s);
    let _ = cursor::Hide.write_ansi(&mut s);
    s
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::{AsRawFd, OwnedFd};

    #[test]
    fn the_set_up_and_a_frame_go_out_in_one_write_and_an_unfinished_frame_never() {
        let (mut terminal, writer) = io::pipe().unwrap();
        // SAFETY: sets a flag on the read end this test owns.
        unsafe { libc::fcntl(terminal.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        let mut out = Frames {
            fd: std::fs::File::from(OwnedFd::from(writer)),
            held: setup().into_bytes(),
        };
        out.write_all(b"\x1b[Htitle\r\n").unwrap();
        out.write_all(b"status bar").unwrap();
        let mut got = vec![0; 4096];
        let early = terminal.read(&mut got);
        assert!(
            early
                .as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock),
            "nothing before the frame is whole (stdout's writer sent up to the newline): {early:?}"
        );
        out.flush().unwrap();
        let n = terminal.read(&mut got).unwrap();
        let frame = String::from_utf8_lossy(&got[..n]);
        assert!(frame.starts_with("\x1b[?1049h"), "{frame:?}");
        assert!(frame.ends_with("\x1b[Htitle\r\nstatus bar"), "{frame:?}");
        // A frame cut short (a panic mid-draw) goes with its writer: never
        // written after the terminal was restored.
        out.write_all(b"half a frame").unwrap();
        drop(out);
        let mut rest = Vec::new();
        terminal.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    }
}
