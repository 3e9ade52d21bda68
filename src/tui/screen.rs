//! The terminal and what it shows. Frames are drawn into ratatui's buffer, and
//! only the cells that differ from the last frame are sent, found by our own
//! diff (`super::diff`) rather than `Terminal::draw`'s. When the transcript
//! moved as a block (an answer growing at the bottom pushes it up a line), the
//! terminal scrolls those rows itself and only the new line is sent: a
//! streamed answer otherwise repaints the whole transcript for every line.
//! No view places the terminal's cursor: it stays hidden.

use std::ops::Range;

use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
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

pub struct Screen<B: Backend> {
    term: Terminal<B>,
    /// What the terminal shows: the frame last sent, moved by any scroll since.
    shown: Buffer,
    /// Reused between frames: indexes of the cells to send.
    updates: Vec<usize>,
}

impl<B: Backend> Screen<B> {
    /// Takes over a terminal that shows a blank screen.
    pub fn new(mut term: Terminal<B>) -> Self {
        let area = term.get_frame().area();
        Self {
            term,
            shown: Buffer::empty(area),
            updates: Vec::new(),
        }
    }

    pub fn backend(&self) -> &B {
        self.term.backend()
    }

    pub fn area(&mut self) -> Rect {
        self.term.get_frame().area()
    }

    /// Draws a frame; `render` says which rows, if any, scrolled since the last.
    pub fn draw(
        &mut self,
        render: impl FnOnce(&mut Frame) -> Option<Scroll>,
    ) -> Result<(), B::Error> {
        if let Some(scroll) = render(&mut self.term.get_frame()) {
            self.scroll(scroll)?;
        }
        diff::changed(
            &self.shown,
            self.term.current_buffer_mut(),
            &mut self.updates,
        );
        std::mem::swap(self.term.current_buffer_mut(), &mut self.shown);
        // The next frame is drawn on a blank buffer, as `Terminal::draw` does.
        self.term.current_buffer_mut().reset();
        let area = self.shown.area;
        let width = usize::from(area.width.max(1));
        let cells = self.updates.iter().map(|&i| {
            let (x, y) = (i % width, i / width);
            (area.x + x as u16, area.y + y as u16, &self.shown.content[i])
        });
        let backend = self.term.backend_mut();
        backend.draw(cells)?;
        Backend::flush(backend)
    }

    /// Has the terminal move the rows, and moves them the same way in `shown`:
    /// rows that come in are blank (each frame ends with the colours reset).
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
        let region = &mut self.shown.content[start..start + height * width];
        let amount = n as u16;
        let blank = if by > 0 {
            self.term.backend_mut().scroll_region_up(rows, amount)?;
            region.rotate_left(n * width);
            (height - n) * width..height * width
        } else {
            self.term.backend_mut().scroll_region_down(rows, amount)?;
            region.rotate_right(n * width);
            0..n * width
        };
        for cell in &mut region[blank] {
            cell.reset();
        }
        Ok(())
    }

    /// Clears the screen: the next frame is sent whole.
    pub fn resize(&mut self, area: Rect) -> Result<(), B::Error> {
        self.term.resize(area)?;
        self.shown = Buffer::empty(area);
        Ok(())
    }
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
                    .draw(|f| {
                        render(f, first, title);
                        Some(Scroll { rows: 1..9, by: hint })
                    })
                    .unwrap();
                prop_assert_eq!(screen.backend().buffer(), &expected(first, title));
            }
        }
    }

    #[test]
    fn a_line_pushed_up_is_scrolled_and_only_the_new_line_is_sent() {
        let mut screen = Screen::new(Terminal::new(TestBackend::new(20, 10)).unwrap());
        screen
            .draw(|f| {
                render(f, 0, 0);
                None
            })
            .unwrap();
        assert!(
            screen.updates.len() > 8 * 6,
            "the first frame is sent whole"
        );
        screen
            .draw(|f| {
                render(f, 1, 0);
                Some(Scroll { rows: 1..9, by: 1 })
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
            .draw(|f| {
                render(f, 2, 0);
                None
            })
            .unwrap();
        assert_eq!(screen.backend().buffer(), &expected(2, 0));
        assert!(screen.updates.iter().any(|i| i / 20 == 1));
    }
}
