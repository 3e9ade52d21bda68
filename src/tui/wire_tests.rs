//! The backend held to a terminal emulator (the `vt100` crate): whatever the
//! frames, what the emulator shows after each is the frame, as a person sees
//! it; and the bytes for the common changes are the few they should be.

use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::*;
use crate::tui::screen::{Hints, Screen, Scroll};

const W: u16 = 12;
const H: u16 = 6;

fn screen() -> Screen<Wire<Vec<u8>>> {
    let size = Size {
        width: W,
        height: H,
    };
    // A fixed viewport, as the console's (`tui::terminal::enter`).
    let viewport = ratatui::Viewport::Fixed(Rect::new(0, 0, W, H));
    let options = ratatui::TerminalOptions { viewport };
    Screen::new(Terminal::with_options(Wire::new(Vec::new(), size), options).unwrap())
}

fn emulator() -> vt100::Parser {
    let n = |v: u16| std::num::NonZeroU16::new(v).unwrap();
    vt100::Parser::new(n(H), n(W), 0)
}

/// Draws `frame` (with `hints`) and returns the bytes sent.
fn draw(screen: &mut Screen<Wire<Vec<u8>>>, frame: &Buffer, hints: Hints) -> Vec<u8> {
    screen
        .draw(|f, _| {
            f.buffer_mut().clone_from(frame);
            hints
        })
        .unwrap();
    std::mem::take(screen.backend_mut().writer_mut())
}

fn colour(c: Color) -> vt100::Color {
    use vt100::Color::{Default, Idx, Rgb};
    match c {
        Color::Reset => Default,
        Color::Indexed(i) => Idx(i),
        Color::Rgb(r, g, b) => Rgb(r, g, b),
        named => {
            let all = [
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
            Idx(all.iter().position(|c| *c == named).unwrap() as u8)
        }
    }
}

/// Where the emulated terminal shows something else than `want`, as a person
/// sees it: the text, the background, and the foreground and emphasis where
/// there is ink (a blank's are not seen). The emulator keeps one intensity.
fn differs(vt: &vt100::Screen, want: &Buffer) -> Option<String> {
    for y in 0..want.area.height {
        for x in 0..want.area.width {
            let cell = &want[(x, y)];
            let got = vt.cell(y, x).unwrap();
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
            let ink = is_blank(cell)
                || (got.fgcolor() == colour(cell.fg)
                    && got.italic() == m.contains(Modifier::ITALIC)
                    && if m.contains(Modifier::BOLD | Modifier::DIM) {
                        got.bold() || got.dim()
                    } else {
                        got.bold() == m.contains(Modifier::BOLD)
                            && got.dim() == m.contains(Modifier::DIM)
                    });
            if !(shown && ink) {
                return Some(format!(
                    "({x}, {y}): {text:?} fg {:?} bg {:?} bold {} dim {} italic {} \
                     underline {} inverse {}; the frame has {cell:?}",
                    got.fgcolor(),
                    got.bgcolor(),
                    got.bold(),
                    got.dim(),
                    got.italic(),
                    got.underline(),
                    got.inverse()
                ));
            }
        }
    }
    None
}

const SYMBOLS: &[&str] = &["a", " ", "b", "é", "─", "中", "😀", "x", "❤\u{FE0F}"];

fn style(n: u8) -> Style {
    match n % 9 {
        0 => Style::new(),
        1 => Style::new().bg(Color::Blue),
        2 => Style::new().fg(Color::Red).add_modifier(Modifier::REVERSED),
        3 => Style::new().add_modifier(Modifier::BOLD),
        4 => Style::new()
            .fg(Color::Rgb(229, 233, 240))
            .bg(Color::Rgb(43, 48, 59)),
        5 => Style::new()
            .fg(Color::Indexed(208))
            .add_modifier(Modifier::BOLD | Modifier::DIM),
        6 => Style::new()
            .fg(Color::LightCyan)
            .add_modifier(Modifier::UNDERLINED | Modifier::ITALIC),
        7 => Style::new()
            .fg(Color::Rgb(180, 142, 173))
            .bg(Color::Rgb(43, 48, 59)),
        _ => Style::new().fg(Color::DarkGray).add_modifier(Modifier::DIM),
    }
}

/// A frame as widgets draw one: strings, and rows padded to the end in a
/// background (as code blocks are).
fn frame(ops: &[(u16, u16, usize, u8, bool)]) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, W, H));
    for &(x, y, sym, st, pad) in ops {
        let (x, y) = (x % W, y % H);
        if pad {
            let blank = " ".repeat(usize::from(W - x));
            buf.set_string(x, y, blank, style(st));
        } else {
            buf.set_string(x, y, SYMBOLS[sym % SYMBOLS.len()], style(st));
        }
    }
    buf
}

fn ops() -> impl Strategy<Value = Vec<(u16, u16, usize, u8, bool)>> {
    proptest::collection::vec(
        (
            0..W,
            0..H,
            0..SYMBOLS.len(),
            0u8..9,
            proptest::bool::weighted(0.15),
        ),
        0..30,
    )
}

proptest! {
    /// Whatever the frames, and whatever scroll each says happened (right or
    /// wrong), the emulated terminal shows each frame after it is sent.
    #[test]
    fn the_emulated_terminal_shows_every_frame(
        frames in proptest::collection::vec((ops(), 0u16..H - 2, 1u16..=H - 2, -3i32..4), 1..8)
    ) {
        let mut screen = screen();
        let mut vt = emulator();
        for (ops, top, bottom, by) in frames {
            let hints = Hints {
                scroll: (by != 0).then_some(Scroll { rows: top..bottom.max(top), by }),
                keep: Vec::new(),
            };
            let want = frame(&ops);
            vt.process(&draw(&mut screen, &want, hints));
            if let Some(d) = differs(vt.screen(), &want) {
                prop_assert!(false, "{d}");
            }
        }
    }
}

/// A frame with one string on it.
fn text(x: u16, y: u16, s: &str, st: Style) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, W, H));
    buf.set_string(x, y, s, st);
    buf
}

#[test]
fn an_unchanged_frame_sends_nothing_not_even_a_reset() {
    let mut screen = screen();
    let f = text(1, 1, "hello", Style::new().fg(Color::Red));
    assert!(!draw(&mut screen, &f, Hints::default()).is_empty());
    assert_eq!(draw(&mut screen, &f, Hints::default()), b"");
}

#[test]
fn only_the_colour_that_changed_is_sent_in_its_shortest_form() {
    let mut screen = screen();
    let code = Style::new().bg(Color::Rgb(43, 48, 59));
    let mut f = text(0, 0, "ab", code.fg(Color::Rgb(1, 2, 3)));
    f.set_string(2, 0, "c", code.fg(Color::Red));
    let sent = String::from_utf8(draw(&mut screen, &f, Hints::default())).unwrap();
    // The background once; then only the foreground changes, to the short red.
    assert_eq!(sent, "\x1b[H\x1b[0;38;2;1;2;3;48;2;43;48;59mab\x1b[31mc");
}

#[test]
fn blanks_to_the_end_of_a_row_are_erased_and_jumps_are_short() {
    let mut screen = screen();
    let code = Style::new().bg(Color::Rgb(43, 48, 59));
    let mut f = Buffer::empty(Rect::new(0, 0, W, H));
    f.set_string(0, 2, format!("{:<12}", "fn x"), code);
    f.set_string(0, 3, format!("{:<12}", "}"), code);
    let sent = String::from_utf8(draw(&mut screen, &f, Hints::default())).unwrap();
    // "fn x" then EL in the block's background; CR LF to the next row.
    assert_eq!(
        sent, "\x1b[3H\x1b[0;48;2;43;48;59mfn x\x1b[K\r\n}\x1b[K",
        "{sent:?}"
    );
    let mut vt = emulator();
    vt.process(sent.as_bytes());
    assert_eq!(differs(vt.screen(), &f), None);
    // A letter further on the same row: a relative move, not an address.
    f.set_string(9, 3, "z", code);
    let sent = String::from_utf8(draw(&mut screen, &f, Hints::default())).unwrap();
    assert_eq!(sent, "\x1b[8Cz");
}

#[test]
fn a_scroll_is_a_region_scrolled_with_the_background_reset() {
    let mut screen = screen();
    let rows = |first: u16| {
        let mut f = Buffer::empty(Rect::new(0, 0, W, H));
        for y in 1..5 {
            f.set_string(
                0,
                y,
                format!("line {}", first + y),
                Style::new().bg(Color::Blue),
            );
        }
        f
    };
    draw(&mut screen, &rows(0), Hints::default());
    let hints = Hints {
        scroll: Some(Scroll { rows: 1..5, by: 1 }),
        keep: Vec::new(),
    };
    let sent = String::from_utf8(draw(&mut screen, &rows(1), hints)).unwrap();
    assert!(
        sent.starts_with("\x1b[0m\x1b[2;5r\x1b[S\x1b[r"),
        "the background reset, then the scroll: {sent:?}"
    );
    assert!(sent.ends_with("line 5"), "then only the new line: {sent:?}");
}

#[test]
fn a_resize_forgets_where_the_cursor_is_and_the_pen() {
    let mut screen = screen();
    let f = text(0, 0, "ab", Style::new().fg(Color::Red));
    draw(&mut screen, &f, Hints::default());
    // The terminal may reflow on a resize: home by address (not CR from the
    // column it was at), and the pen reset before erasing.
    screen.backend_mut().resize(Size {
        width: W,
        height: H,
    });
    screen.resize(Rect::new(0, 0, W, H)).unwrap();
    let sent = std::mem::take(screen.backend_mut().writer_mut());
    assert_eq!(String::from_utf8(sent).unwrap(), "\x1b[H\x1b[0m\x1b[J");
    let sent = String::from_utf8(draw(&mut screen, &f, Hints::default())).unwrap();
    assert_eq!(sent, "\x1b[31mab");
}
