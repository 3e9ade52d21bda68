//! The bytes to the terminal: a ratatui backend that writes the cells the
//! screen hands it in as few bytes as the terminal allows. What a streamed
//! answer costs is what a slow link (SSH, tmux on a small VM) carries, and
//! ratatui's crossterm backend spends it freely: a full cursor address for
//! every jump, both colours whenever either changes, four resets at the end
//! of every frame (even an empty one) and every blank of a padded row sent.
//!
//! This one remembers what the terminal has between frames (where the cursor
//! is, the current colours and emphasis: the "pen") and sends only changes:
//! - the SGR parameters that changed, in their shortest form (`31` rather
//!   than `38;5;1`), or a reset and the new pen when that is shorter;
//! - the shortest cursor move (CR, CR LF, CUF/CUB, CUD/CUU, CHA or CUP);
//! - a blank (a space with no underline, reverse…) in whatever foreground
//!   and emphasis the pen has, as those do not show on a blank;
//! - a run of blanks to the end of the row as EL, a run inside it as ECH,
//!   when shorter (the terminal erases with the pen's background, as xterm,
//!   tmux and every terminal that says `bce` does);
//! - scrolls as DECSTBM + SU/SD + DECSTBM reset.
//!
//! What it cannot know it does not guess: after a wide symbol the column is
//! unknown (terminals disagree on emoji widths) and after the last column the
//! cursor waits to wrap, so the next move is absolute; at the start and after
//! a resize (a terminal may reflow) the cursor and the pen are unknown. `tests/bytes.rs` holds it to a terminal emulator.

use std::cell::Cell as Shared;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::Range;

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

/// What a terminal shows on a blank cell: a space with any of these is not blank.
pub const VISIBLE_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// The terminal's current colours and emphasis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            underline: cell.underline_color,
            modifier: cell.modifier,
        }
    }

    /// Draws `cell` as the terminal shows it (a blank needs only its background).
    fn draws(self, cell: &Cell) -> bool {
        if is_blank(cell) {
            self.bg == cell.bg && !self.modifier.intersects(VISIBLE_ON_BLANK)
        } else {
            self == Pen::of(cell)
        }
    }
}

/// Where the terminal's cursor is, as far as known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Unknown,
    At(u16, u16),
    /// On this row, at a column not known (after a wide symbol), or waiting to
    /// wrap after the last column: only absolute column moves are safe.
    Row(u16),
}

/// A space that shows only its background.
fn is_blank(cell: &Cell) -> bool {
    cell.symbol() == " " && !cell.modifier.intersects(VISIBLE_ON_BLANK)
}

pub struct Wire<W: Write> {
    out: W,
    /// The terminal's size as last known; asked again of the terminal itself
    /// (`tty`) whenever ratatui asks, which it does after a resize.
    size: Shared<Size>,
    tty: bool,
    /// Set when the size changed: a terminal may reflow on a resize, so where
    /// the cursor is and which pen it has are forgotten.
    resized: Shared<bool>,
    cursor: Cursor,
    /// `None` when not known (at the start, after a clear).
    pen: Option<Pen>,
    /// Reused between frames.
    scratch: String,
}

impl<W: Write> Wire<W> {
    /// A terminal of `size` that `out` writes to (a test's, or a pipe's).
    pub fn new(out: W, size: Size) -> Self {
        Self {
            out,
            size: Shared::new(size),
            tty: false,
            resized: Shared::new(false),
            cursor: Cursor::Unknown,
            pen: None,
            scratch: String::new(),
        }
    }

    /// The controlling terminal, now `size`, through `out` (stdout): its
    /// size is asked of it again whenever ratatui asks (after a resize).
    pub fn terminal(out: W, size: Size) -> Self {
        Self {
            tty: true,
            ..Self::new(out, size)
        }
    }

    /// The terminal now has `size` (a test's; the real one is asked).
    pub fn resize(&mut self, size: Size) {
        self.size.set(size);
        self.forget();
    }

    /// Forgets the cursor and the pen (after a resize).
    fn forget(&mut self) {
        self.cursor = Cursor::Unknown;
        self.pen = None;
        self.resized.set(false);
    }

    /// Before sending anything: what a resize since may have changed is forgotten.
    fn settle(&mut self) {
        if self.resized.get() {
            self.forget();
        }
    }

    /// The writer, e.g. to see what was sent.
    pub fn writer(&self) -> &W {
        &self.out
    }

    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Moves the cursor to (x, y) the shortest way (into the scratch buffer).
    fn goto(&mut self, x: u16, y: u16) {
        let mut best: Option<Seq> = None;
        let mut consider = |c: Seq| {
            if best.is_none_or(|b| c.len() < b.len()) {
                best = Some(c);
            }
        };
        match self.cursor {
            Cursor::At(cx, cy) if (cx, cy) == (x, y) => return,
            Cursor::At(cx, cy) if cy == y => consider(horizontal(Some(cx), x)),
            Cursor::Row(cy) if cy == y => consider(horizontal(None, x)),
            _ => {}
        }
        let row = match self.cursor {
            Cursor::At(_, cy) | Cursor::Row(cy) => Some(cy),
            Cursor::Unknown => None,
        };
        // CR LF to the next row (LF moves down a row in raw mode, CR LF in any;
        // never from the bottom row, where LF scrolls).
        if row.is_some_and(|cy| y == cy + 1) && y < self.size.get().height {
            let mut s = Seq::of("\r\n");
            s.push(horizontal(Some(0), x).as_str());
            consider(s);
        }
        if let Cursor::At(cx, cy) = self.cursor
            && cy != y
        {
            let mut s = vertical(cy, y);
            s.push(horizontal(Some(cx), x).as_str());
            consider(s);
        }
        let mut s = Seq::of("\x1b[");
        match (x, y) {
            (0, 0) => {}
            (0, _) => s.num(y + 1),
            _ => {
                s.num(y + 1);
                s.push(";");
                s.num(x + 1);
            }
        }
        s.push("H");
        consider(s);
        self.scratch.push_str(best.unwrap_or_default().as_str());
        self.cursor = Cursor::At(x, y);
    }

    /// Sets the pen to `want`, into the scratch buffer.
    fn pen(&mut self, want: Pen) {
        if self.pen == Some(want) {
            return;
        }
        let mut reset = Seq::of("0");
        pen_params(&mut reset, Pen::RESET, want);
        let params = match self.pen {
            Some(now) => {
                let mut delta = Seq::default();
                pen_params(&mut delta, now, want);
                if delta.len() <= reset.len() {
                    delta
                } else {
                    reset
                }
            }
            None => reset,
        };
        self.scratch.push_str("\x1b[");
        self.scratch.push_str(params.as_str());
        self.scratch.push('m');
        self.pen = Some(want);
    }

    /// A pen that draws blanks of `bg` and erases with it: the one there if it does.
    fn blank_pen(&self, bg: Color) -> Pen {
        match self.pen {
            Some(p) if p.bg == bg && !p.modifier.intersects(VISIBLE_ON_BLANK) => p,
            Some(p) => Pen {
                bg,
                modifier: p.modifier - VISIBLE_ON_BLANK,
                ..p
            },
            None => Pen { bg, ..Pen::RESET },
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        self.out.write_all(self.scratch.as_bytes())?;
        self.scratch.clear();
        Ok(())
    }

    /// Before the terminal erases or scrolls: its pen's background fills the
    /// cells, so that must be the default one.
    fn erase_pen(&mut self) {
        let pen = self.blank_pen(Color::Reset);
        self.pen(pen);
    }
}

/// Same-row move from column `from` (unknown: `None`) to `to`.
fn horizontal(from: Option<u16>, to: u16) -> Seq {
    let mut best = match from {
        Some(from) if from == to => return Seq::default(),
        Some(from) if to > from => Some(relative(to - from, 'C')),
        Some(from) => Some(relative(from - to, 'D')),
        None => None,
    };
    let mut consider = |c: Seq| {
        if best.is_none_or(|b| c.len() < b.len()) {
            best = Some(c);
        }
    };
    let mut cr = Seq::of("\r");
    if to > 0 {
        cr.push(relative(to, 'C').as_str());
    }
    consider(cr);
    let mut cha = Seq::of("\x1b[");
    cha.num(to + 1);
    cha.push("G");
    consider(cha);
    best.unwrap_or_default()
}

fn vertical(from: u16, to: u16) -> Seq {
    match to.cmp(&from) {
        std::cmp::Ordering::Greater => relative(to - from, 'B'),
        std::cmp::Ordering::Less => relative(from - to, 'A'),
        std::cmp::Ordering::Equal => Seq::default(),
    }
}

fn relative(n: u16, f: char) -> Seq {
    let mut s = Seq::of("\x1b[");
    if n != 1 {
        s.num(n);
    }
    s.push(f.encode_utf8(&mut [0; 4]));
    s
}

/// A cursor move or a pen's parameters, made on the stack: a frame is
/// thousands of them, and each was a handful of heap strings.
#[derive(Clone, Copy)]
struct Seq {
    len: u8,
    bytes: [u8; Seq::CAP],
}

impl Default for Seq {
    fn default() -> Self {
        Self {
            len: 0,
            bytes: [0; Seq::CAP],
        }
    }
}

impl Seq {
    /// The longest: every emphasis turned off and on, and three RGB colours
    /// (~95 bytes); the longest move is 18.
    const CAP: usize = 128;

    fn of(s: &str) -> Self {
        let mut seq = Self::default();
        seq.push(s);
        seq
    }

    fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Appends ASCII `s` (no sequence made here comes near the capacity).
    fn push(&mut self, s: &str) {
        let at = self.len();
        debug_assert!(at + s.len() <= Self::CAP, "a sequence longer than any made");
        let end = (at + s.len()).min(Self::CAP);
        self.bytes[at..end].copy_from_slice(&s.as_bytes()[..end - at]);
        self.len = end as u8;
    }

    /// Appends `n` in decimal.
    fn num(&mut self, mut n: u16) {
        let mut digits = [0u8; 5];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // ASCII digits: always UTF-8.
        self.push(std::str::from_utf8(&digits[at..]).unwrap_or_default());
    }

    fn as_str(&self) -> &str {
        // Only whole ASCII strings are pushed.
        std::str::from_utf8(&self.bytes[..self.len()]).unwrap_or_default()
    }
}

/// The SGR parameters that take the pen from `from` to `to`, `;`-joined onto `s`.
fn pen_params(s: &mut Seq, from: Pen, to: Pen) {
    let sep = |s: &mut Seq| {
        if s.len() > 0 {
            s.push(";");
        }
    };
    let push = |s: &mut Seq, p: &str| {
        sep(s);
        s.push(p);
    };
    let (gone, new) = (from.modifier - to.modifier, to.modifier - from.modifier);
    let mut add = new;
    // 22 ends bold and dim both: the one that stays is set again.
    if gone.intersects(Modifier::BOLD | Modifier::DIM) {
        push(s, "22");
        add |= to.modifier & (Modifier::BOLD | Modifier::DIM);
    }
    for (m, off) in [
        (Modifier::ITALIC, "23"),
        (Modifier::UNDERLINED, "24"),
        (Modifier::REVERSED, "27"),
        (Modifier::HIDDEN, "28"),
        (Modifier::CROSSED_OUT, "29"),
    ] {
        if gone.contains(m) {
            push(s, off);
        }
    }
    if gone.intersects(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK) {
        push(s, "25");
        add |= to.modifier & (Modifier::SLOW_BLINK | Modifier::RAPID_BLINK);
    }
    for (m, on) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::SLOW_BLINK, "5"),
        (Modifier::RAPID_BLINK, "6"),
        (Modifier::REVERSED, "7"),
        (Modifier::HIDDEN, "8"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if add.contains(m) {
            push(s, on);
        }
    }
    if from.fg != to.fg {
        sep(s);
        colour(s, to.fg, 30, 90, 38);
    }
    if from.bg != to.bg {
        sep(s);
        colour(s, to.bg, 40, 100, 48);
    }
    if from.underline != to.underline {
        sep(s);
        match to.underline {
            Color::Reset => s.push("59"),
            c => colour(s, c, 0, 0, 58),
        }
    }
}

/// A colour's SGR parameters onto `s`: `base`+n for the 8 colours,
/// `bright`+n for the 8 bright ones, `ext;5;n` and `ext;2;r;g;b` for the others.
fn colour(s: &mut Seq, c: Color, base: u8, bright: u8, ext: u8) {
    let n = match c {
        Color::Reset => return s.num(u16::from(ext) + 1),
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        Color::Indexed(i) => {
            s.num(ext.into());
            s.push(";5;");
            return s.num(i.into());
        }
        Color::Rgb(r, g, b) => {
            s.num(ext.into());
            s.push(";2;");
            for (k, v) in [r, g, b].into_iter().enumerate() {
                if k > 0 {
                    s.push(";");
                }
                s.num(v.into());
            }
            return;
        }
    };
    match n {
        // Underline colours have no short form.
        _ if base == 0 => {
            s.num(ext.into());
            s.push(";5;");
            s.num(n.into());
        }
        0..8 => s.num(u16::from(base + n)),
        _ => s.num(u16::from(bright + n - 8)),
    }
}

fn symbol_width(s: &str) -> usize {
    if s.len() == 1 {
        1
    } else {
        unicode_width::UnicodeWidthStr::width(s)
    }
}

impl<W: Write> Backend for Wire<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.settle();
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        let width = self.size.get().width;
        let mut i = 0;
        while i < cells.len() {
            let (x, y, cell) = cells[i];
            if is_blank(cell) {
                // A run of blanks of one background, one cell after the other.
                let mut j = i + 1;
                while let Some(&(nx, ny, next)) = cells.get(j) {
                    let follows = ny == y && usize::from(nx) == usize::from(x) + (j - i);
                    if !(follows && is_blank(next) && next.bg == cell.bg) {
                        break;
                    }
                    j += 1;
                }
                let n = j - i;
                let end = usize::from(x) + n;
                // Erasing leaves the cursor where it was; printing moves it on.
                let resume = cells
                    .get(j)
                    .is_some_and(|&(nx, ny, _)| ny == y && usize::from(nx) == end);
                let erase = if end >= usize::from(width) {
                    Some(Seq::of("\x1b[K")).filter(|_| n >= 3)
                } else {
                    let ech = relative(n as u16, 'X');
                    let skip = if resume {
                        relative(n as u16, 'C').len()
                    } else {
                        0
                    };
                    Some(ech).filter(|e| e.len() + skip < n)
                };
                self.goto(x, y);
                let pen = self.blank_pen(cell.bg);
                self.pen(pen);
                if let Some(seq) = erase {
                    self.scratch.push_str(seq.as_str());
                } else {
                    self.scratch.extend(std::iter::repeat_n(' ', n));
                    self.cursor = if end >= usize::from(width) {
                        Cursor::Row(y)
                    } else {
                        Cursor::At(end as u16, y)
                    };
                }
                i = j;
                continue;
            }
            self.goto(x, y);
            if !self.pen.is_some_and(|p| p.draws(cell)) {
                self.pen(Pen::of(cell));
            }
            let symbol = cell.symbol();
            self.scratch.push_str(symbol);
            // The column after a wide symbol is not trusted: terminals
            // disagree on the width of some (emoji); after the last one the
            // cursor waits to wrap.
            let next = usize::from(x) + 1;
            self.cursor = if symbol_width(symbol) == 1 && next < usize::from(width) {
                Cursor::At(next as u16, y)
            } else {
                Cursor::Row(y)
            };
            i += 1;
        }
        self.emit()
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.out.write_all(b"\x1b[?25l")
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.out.write_all(b"\x1b[?25h")
    }

    /// Where it put the cursor: never asked of the terminal (a round trip).
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(match self.cursor {
            Cursor::At(x, y) => Position { x, y },
            Cursor::Row(y) => Position { x: 0, y },
            Cursor::Unknown => Position::ORIGIN,
        })
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.settle();
        self.goto(p.x, p.y);
        self.emit()
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.settle();
        self.erase_pen();
        self.scratch.push_str(match clear_type {
            ClearType::All => "\x1b[2J",
            ClearType::AfterCursor => "\x1b[J",
            ClearType::BeforeCursor => "\x1b[1J",
            ClearType::CurrentLine => "\x1b[2K",
            ClearType::UntilNewLine => "\x1b[K",
        });
        self.emit()
    }

    fn size(&self) -> io::Result<Size> {
        if self.tty {
            let (width, height) = super::terminal::size()?;
            let now = Size { width, height };
            if now != self.size.get() {
                self.size.set(now);
                self.resized.set(true);
            }
        }
        Ok(self.size.get())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size()?,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn scroll_region_up(&mut self, region: Range<u16>, amount: u16) -> io::Result<()> {
        self.scroll(region, amount, 'S')
    }

    fn scroll_region_down(&mut self, region: Range<u16>, amount: u16) -> io::Result<()> {
        self.scroll(region, amount, 'T')
    }
}

impl<W: Write> Wire<W> {
    /// Scrolls rows `region` by `amount` (`S` up, `T` down) inside a scroll
    /// region set for it; the rows that come in are blank.
    fn scroll(&mut self, region: Range<u16>, amount: u16, f: char) -> io::Result<()> {
        if amount == 0 || region.is_empty() {
            return Ok(());
        }
        self.settle();
        self.erase_pen();
        let _ = write!(
            self.scratch,
            "\x1b[{};{}r{}\x1b[r",
            region.start + 1,
            region.end,
            relative(amount, f).as_str()
        );
        // Setting the margins homes the cursor.
        self.cursor = Cursor::At(0, 0);
        self.emit()
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
