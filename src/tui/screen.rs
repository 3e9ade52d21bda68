//! The terminal and what it shows. Frames are drawn into ratatui's buffer, and
//! only the cells that differ from the last frame are sent, found by our own
//! diff (`super::diff`) rather than `Terminal::draw`'s. When the transcript
//! moved as a block (an answer growing at the bottom pushes it up a line), the
//! terminal scrolls those rows itself and only the new line is sent: a
//! streamed answer otherwise repaints the whole transcript for every line.
//! Rows a view left undrawn because they still show the same thing (`Hints::keep`)
//! are neither compared nor copied.
//! No view places the terminal's cursor: it stays hidden.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal};

use super::diff;

/// Rows whose content moved as a block since the last frame: `by` rows up
/// (positive) or down (negative). A wrong guess costs cells, not correctness:
/// whatever differs after the scroll is sent as usual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scroll {
    pub rows: Range<u16>,
    pub by: i32,
}

/// What a view may keep of the last frame. A wrong scroll costs cells; a
/// wrong `keep` shows stale rows, so rows are kept only when provably the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub scroll: Option<Scroll>,
    /// Whole rows left undrawn because, after the scroll, they show what they showed.
    pub keep: Vec<Range<u16>>,
}

/// This frame's number and that of the frame the terminal shows, if it still
/// shows one (not after a resize, nor on a new screen): what a view compares
/// with the rows it remembers before keeping any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameIds {
    pub now: u64,
    pub shown: Option<u64>,
}

impl FrameIds {
    /// The same frame, drawn whole.
    pub fn whole(self) -> Self {
        Self {
            shown: None,
            ..self
        }
    }
}

/// Frame numbers are unique across screens (a new one follows an editor).
static FRAMES: AtomicU64 = AtomicU64::new(1);

pub struct Screen<B: Backend> {
    term: Terminal<B>,
    /// What the terminal shows: the frame last sent, moved by any scroll since.
    shown: Buffer,
    shown_id: Option<u64>,
    /// Reused between frames: indexes of the cells to send.
    updates: Vec<usize>,
    /// Rows the last frame drew (the others it kept as the terminal shows them).
    rows_drawn: usize,
}

impl<B: Backend> Screen<B> {
    /// Takes over a terminal that shows a blank screen.
    pub fn new(mut term: Terminal<B>) -> Self {
        let shown = take_back_buffer(&mut term);
        Self {
            term,
            shown,
            shown_id: None,
            updates: Vec::new(),
            rows_drawn: 0,
        }
    }

    pub fn backend(&self) -> &B {
        self.term.backend()
    }

    /// The terminal itself (a test resizes its backend as a real terminal would).
    pub fn backend_mut(&mut self) -> &mut B {
        self.term.backend_mut()
    }

    /// Rows the last frame drew, compared and handed on: most of what a
    /// frame costs after the views' own work.
    pub fn rows_drawn(&self) -> usize {
        self.rows_drawn
    }

    pub fn area(&mut self) -> Rect {
        self.term.get_frame().area()
    }

    /// Draws a frame; `render` says which rows scrolled since the last, and
    /// which it left undrawn because they are the same.
    pub fn draw(
        &mut self,
        render: impl FnOnce(&mut Frame, FrameIds) -> Hints,
    ) -> Result<(), B::Error> {
        let ids = FrameIds {
            now: FRAMES.fetch_add(1, Ordering::Relaxed),
            shown: self.shown_id,
        };
        let hints = render(&mut self.term.get_frame(), ids);
        let area = self.shown.area;
        let drawn = drawn(&hints.keep, area);
        // (Kept rows are blank: only the rows drawn can hide anything.)
        for rows in &drawn {
            diff::hide_covered(self.term.current_buffer_mut(), rows.clone());
        }
        if let Some(scroll) = hints.scroll {
            let scroll = self.settled(scroll, &hints.keep);
            self.scroll(scroll)?;
        }
        let width = usize::from(area.width.max(1));
        let next = self.term.current_buffer_mut();
        debug_assert!(
            hints.keep.is_empty() || ids.shown.is_some(),
            "rows kept from no frame"
        );
        debug_assert!(
            hints.keep.iter().flat_map(|r| r.clone()).all(|y| {
                let row = usize::from(y - area.y) * width;
                next.content[row..row + width]
                    .iter()
                    .all(|c| *c == Cell::EMPTY)
            }),
            "something was drawn over a kept row"
        );
        self.updates.clear();
        self.rows_drawn = drawn.iter().map(ExactSizeIterator::len).sum();
        // Only the rows drawn are compared, handed to `shown` and blanked for the
        // next frame (drawn on a blank buffer, as `Terminal::draw` does); kept
        // rows are left alone on both sides.
        if let [rows] = drawn.as_slice()
            && rows.len() == usize::from(area.height)
        {
            // Every row drawn, none kept (the first frame, a new pane): the
            // buffers trade places whole, not cell by cell, and one that showed
            // nothing yet (no frame since the start or a resize) is blank already.
            diff::changed_in(&self.shown, next, 0..next.content.len(), &mut self.updates);
            std::mem::swap(&mut self.shown, next);
            if self.shown_id.is_some() {
                next.reset();
            }
            debug_assert!(next.content.iter().all(|c| *c == Cell::EMPTY));
        } else {
            for rows in drawn {
                let cells = rows.start * width..rows.end * width;
                diff::changed_in(&self.shown, next, cells.clone(), &mut self.updates);
                self.shown.content[cells.clone()].swap_with_slice(&mut next.content[cells.clone()]);
                next.content[cells].iter_mut().for_each(Cell::reset);
            }
        }
        self.shown_id = Some(ids.now);
        fill_gaps(&self.shown, &mut self.updates);
        let cells = self.updates.iter().map(|&i| {
            let (x, y) = (i % width, i / width);
            (area.x + x as u16, area.y + y as u16, &self.shown.content[i])
        });
        let backend = self.term.backend_mut();
        backend.draw(cells)?;
        Backend::flush(backend)
    }

    /// The scroll narrowed to leave out the rows at its bottom that did not
    /// move (drawn, and the same as the terminal shows there now): a table or
    /// a code block that grows by a row above its closing border and the
    /// lines under it moves the rows above, and the border stays. The rows
    /// the narrower scroll leaves blank are none of those kept.
    fn settled(&mut self, mut scroll: Scroll, keep: &[Range<u16>]) -> Scroll {
        let area = self.shown.area;
        let (shown, next) = (&self.shown, &*self.term.current_buffer_mut());
        let (top, end) = (
            scroll.rows.start.max(area.top()),
            scroll.rows.end.min(area.bottom()),
        );
        let Ok(by) = u16::try_from(scroll.by) else {
            return scroll;
        };
        let width = usize::from(area.width);
        fn row(b: &Buffer, y: u16, width: usize) -> &[Cell] {
            let at = usize::from(y - b.area.y) * width;
            &b.content[at..at + width]
        }
        let kept = |y: u16| keep.iter().any(|k| k.contains(&y));
        let mut stays = end;
        while stays > top + by + 1 {
            let y = stays - 1;
            if kept(y) || row(next, y, width) != row(shown, y, width) {
                break;
            }
            stays = y;
        }
        while stays < end && (stays.saturating_sub(by)..stays).any(kept) {
            stays += 1;
        }
        if by > 0 && stays < end {
            scroll.rows = top..stays;
        }
        scroll
    }

    /// Has the terminal move the rows, and moves them the same way in `shown`:
    /// rows that come in are blank (the backend scrolls with the default
    /// background: `wire` resets it first).
    fn scroll(&mut self, Scroll { rows, by }: Scroll) -> Result<(), B::Error> {
        let area = self.shown.area;
        let rows = rows.start.max(area.top())..rows.end.min(area.bottom());
        let height = usize::from(rows.end.saturating_sub(rows.start));
        let n = by.unsigned_abs() as usize;
        if n == 0 || n >= height {
            return Ok(());
        }
        let width = usize::from(area.width);
        let start = usize::from(rows.start - area.y) * width;
        let (end, moved) = (start + height * width, n * width);
        let amount = n as u16;
        // The rows that leave are dropped and blank ones put in: a move of
        // the cells after them, and of the few rows under the region (a
        // rotation swapped cell by cell: 10 us a line at 120x40, this 2.4).
        let blanks = std::iter::repeat_n(Cell::EMPTY, moved);
        let content = &mut self.shown.content;
        if by > 0 {
            self.term.backend_mut().scroll_region_up(rows, amount)?;
            content.drain(start..start + moved);
            content.splice(end - moved..end - moved, blanks);
        } else {
            self.term.backend_mut().scroll_region_down(rows, amount)?;
            content.drain(end - moved..end);
            content.splice(start..start, blanks);
        }
        Ok(())
    }

    /// Clears the screen: the next frame is sent whole.
    pub fn resize(&mut self, area: Rect) -> Result<(), B::Error> {
        self.term.resize(area)?;
        self.shown = take_back_buffer(&mut self.term);
        // It held whatever the last frame left in it.
        self.shown.reset();
        self.shown_id = None;
        Ok(())
    }
}

/// Takes one of the two cell buffers ratatui's `Terminal` keeps (the second
/// is for its own diff, which a `Screen` never uses: it draws with
/// `get_frame`) to be `shown`: a blank buffer of the screen's size, already
/// made and its pages touched, where a third would cost 230 KB at 120x40
/// and, at start-up, ~60 page faults before the first frame. The current
/// one is taken as it is (a new one is blank; after a resize the caller
/// blanks it); the swap, the only way to the other, blanks that one as it
/// makes it current: one buffer blanked before the first frame, not two.
fn take_back_buffer<B: Backend>(term: &mut Terminal<B>) -> Buffer {
    let shown = std::mem::replace(term.current_buffer_mut(), Buffer::empty(Rect::ZERO));
    term.swap_buffers();
    shown
}

/// Adds to `updates` the unchanged cells of gaps of up to 3 cells between two
/// changed ones on a row, when they are plain ASCII in the style of the cell
/// before them (or blanks of its background): sent again, they cost a byte
/// each, where the move over them costs 3 or 4.
fn fill_gaps(shown: &Buffer, updates: &mut Vec<usize>) {
    let width = usize::from(shown.area.width.max(1));
    let plain = |c: &Cell| c.symbol().len() == 1 && c.symbol().is_ascii();
    let mut filled = Vec::with_capacity(updates.len());
    for (n, &i) in updates.iter().enumerate() {
        if let Some(&prev) = n.checked_sub(1).and_then(|p| updates.get(p))
            && prev / width == i / width
            && (2..=4).contains(&i.saturating_sub(prev))
        {
            let before = &shown.content[prev];
            let fits = |c: &Cell| {
                let blank = c.symbol() == " "
                    && !c.modifier.intersects(super::wire::VISIBLE_ON_BLANK)
                    && !before.modifier.intersects(super::wire::VISIBLE_ON_BLANK)
                    && c.bg == before.bg;
                plain(c)
                    && (blank
                        || (c.fg == before.fg
                            && c.bg == before.bg
                            && c.modifier == before.modifier
                            && c.underline_color == before.underline_color))
            };
            let narrow = unicode_width::UnicodeWidthStr::width(before.symbol()) == 1;
            if narrow && shown.content[prev + 1..i].iter().all(fits) {
                filled.extend(prev + 1..i);
            }
        }
        filled.push(i);
    }
    *updates = filled;
}

/// The row ranges of `area` (relative to its top) not in `keep`.
fn drawn(keep: &[Range<u16>], area: Rect) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = area.top();
    let mut keep: Vec<&Range<u16>> = keep.iter().collect();
    keep.sort_by_key(|r| r.start);
    for k in keep {
        let start = k.start.clamp(area.top(), area.bottom());
        if start > from {
            out.push(usize::from(from - area.y)..usize::from(start - area.y));
        }
        from = from.max(k.end.min(area.bottom()));
    }
    if from < area.bottom() {
        out.push(usize::from(from - area.y)..usize::from(area.bottom() - area.y));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ratatui::backend::TestBackend;
    use ratatui::text::Line;
    use ratatui::widgets::Paragraph;

    use super::*;

    /// A title row, then numbered lines from `first` in rows 1..9, then a footer.
    fn render(f: &mut Frame, first: i32, title: u8) {
        let lines: Vec<Line> = (first..first + 8)
            .map(|n| Line::from(format!("line {n} {}", "x".repeat(n.rem_euclid(7) as usize))))
            .collect();
        f.render_widget(
            Paragraph::new(format!("title {title}")),
            Rect::new(0, 0, 20, 1),
        );
        f.render_widget(Paragraph::new(lines), Rect::new(0, 1, 20, 8));
        f.render_widget(Paragraph::new("footer"), Rect::new(0, 9, 20, 1));
    }

    fn scroll(rows: Range<u16>, by: i32) -> Hints {
        Hints {
            scroll: Some(Scroll { rows, by }),
            keep: Vec::new(),
        }
    }

    fn expected(first: i32, title: u8) -> Buffer {
        let mut term = Terminal::new(TestBackend::new(20, 10)).unwrap();
        term.draw(|f| render(f, first, title)).unwrap();
        term.backend().buffer().clone()
    }

    proptest! {
        /// Whatever the hint says, right or wrong, the terminal ends up showing the frame.
        #[test]
        fn the_terminal_shows_each_frame_whatever_the_scroll_hint(
            steps in proptest::collection::vec((-4i32..5, -9i32..10, 0u8..3), 1..12)
        ) {
            let mut screen = Screen::new(Terminal::new(TestBackend::new(20, 10)).unwrap());
            let mut first = 0;
            for (moved, hint, title) in steps {
                first += moved;
                screen
                    .draw(|f, _| {
                        render(f, first, title);
                        scroll(1..9, hint)
                    })
                    .unwrap();
                prop_assert_eq!(screen.backend().buffer(), &expected(first, title));
            }
        }
    }

    /// ratatui's second buffer holds no cells (the screen draws into one
    /// buffer and keeps what the terminal shows in its own), before and after
    /// a resize, and frames still reach the terminal whole.
    #[test]
    fn the_terminal_keeps_one_buffer_of_cells_not_two() {
        let mut screen = Screen::new(Terminal::new(TestBackend::new(20, 10)).unwrap());
        let back = |screen: &mut Screen<TestBackend>| {
            screen.term.swap_buffers();
            let cells = screen.term.current_buffer_mut().content.len();
            screen.term.swap_buffers();
            cells
        };
        assert_eq!(back(&mut screen), 0);
        assert_eq!(screen.term.current_buffer_mut().content.len(), 200);
        screen.backend_mut().resize(30, 12);
        screen.resize(Rect::new(0, 0, 30, 12)).unwrap();
        assert_eq!(back(&mut screen), 0);
        assert_eq!(screen.term.current_buffer_mut().content.len(), 360);
        screen.backend_mut().resize(20, 10);
        screen.resize(Rect::new(0, 0, 20, 10)).unwrap();
        for first in 0..3 {
            screen
                .draw(|f, _| {
                    render(f, first, 0);
                    scroll(1..9, 1)
                })
                .unwrap();
            assert_eq!(screen.backend().buffer(), &expected(first, 0));
        }
    }

    #[test]
    fn a_line_pushed_up_is_scrolled_and_only_the_new_line_is_sent() {
        let mut screen = Screen::new(Terminal::new(TestBackend::new(20, 10)).unwrap());
        screen
            .draw(|f, _| {
                render(f, 0, 0);
                Hints::default()
            })
            .unwrap();
        assert!(
            screen.updates.len() > 8 * 6,
            "the first frame is sent whole"
        );
        screen
            .draw(|f, _| {
                render(f, 1, 0);
                scroll(1..9, 1)
            })
            .unwrap();
        assert_eq!(screen.backend().buffer(), &expected(1, 0));
        let rows: Vec<usize> = screen.updates.iter().map(|i| i / 20).collect();
        assert!(
            rows.iter().all(|&r| r == 8),
            "only the bottom line is sent: {rows:?}"
        );
        // The same move without the hint repaints every line that changed.
        screen
            .draw(|f, _| {
                render(f, 2, 0);
                Hints::default()
            })
            .unwrap();
        assert_eq!(screen.backend().buffer(), &expected(2, 0));
        assert!(screen.updates.iter().any(|i| i / 20 == 1));
    }
}
