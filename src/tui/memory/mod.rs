//! What the screen keeps between frames, so a frame can leave undrawn the rows
//! the terminal already shows: where the transcript's last message stood
//! (`Anchor`: the terminal scrolls when it moved), what each transcript row
//! showed (`Shown`), and what the bars and the input box showed (`chrome`).
//! The views read and write it explicitly, beside `&State`; nothing else does.

pub mod chrome;

use std::ops::Range;

use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::chat::conversation::NodeId;
use crate::tui::screen::Scroll;

pub use chrome::Chrome;

/// The memory of the frame the terminal shows.
#[derive(Default)]
pub struct FrameMemory {
    /// Where the transcript drawn last put its last message.
    pub anchor: Option<Anchor>,
    /// What each row of the transcript showed in the frame last drawn.
    pub shown: Option<Shown>,
    /// What the bars and the input box showed in it.
    pub chrome: Chrome,
}

/// Where the last message begins on screen (its first row, above the top when
/// it is taller). Everything above it moves with it, so when it moves between
/// two frames the screen scrolls those rows instead of repainting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub node: NodeId,
    pub top: i64,
    pub rows: (u16, u16),
}

/// The scroll from one frame's anchor to the next, if the same message moved.
pub fn moved(before: Option<Anchor>, now: Option<Anchor>) -> Option<Scroll> {
    let (b, n) = (before?, now?);
    (b.node == n.node && b.rows == n.rows && b.top != n.top).then(|| Scroll {
        rows: n.rows.0..n.rows.1,
        by: i32::try_from(b.top - n.top).unwrap_or(i32::MAX),
    })
}

/// What a row of the transcript shows, as far as telling two frames apart
/// goes: equal keys, equal cells (at the same width and place).
#[derive(Debug, Clone, PartialEq)]
pub enum RowKey {
    /// A line by what it shows: the transcript's own lines, and the lines of
    /// a growing message that may still change (its open tail), which is
    /// often the same from one frame to the next but for its last line.
    Own(Line<'static>),
    /// A line of a message body that stays as it is for the cache epoch.
    Body(NodeId, usize, u64),
    Blank,
}

/// The transcript's rows in the frame last drawn by the console.
#[derive(Debug)]
pub struct Shown {
    pub frame: u64,
    pub area: Rect,
    pub keys: Vec<RowKey>,
}

impl Shown {
    /// The rows (screen rows) whose key is the one of the row that the
    /// terminal's scroll by `by` brings there, or which show the line (`line`
    /// of the row) that row showed: a line of the open tail that became
    /// fixed, the same line under a new key.
    pub fn same_rows<'a>(
        &self,
        keys: &[RowKey],
        by: i32,
        line: impl Fn(usize) -> Option<&'a Line<'static>>,
    ) -> Vec<Range<u16>> {
        let mut out: Vec<Range<u16>> = Vec::new();
        for (y, key) in keys.iter().enumerate() {
            let old = usize::try_from(y as i64 + i64::from(by)).ok();
            let same = match old.and_then(|o| self.keys.get(o)) {
                Some(RowKey::Own(shown)) if !matches!(key, RowKey::Own(_)) => {
                    line(y) == Some(shown)
                }
                old => old == Some(key),
            };
            if !same {
                continue;
            }
            let row = self.area.y + y as u16;
            match out.last_mut() {
                Some(r) if r.end == row => r.end += 1,
                _ => out.push(row..row + 1),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(node: NodeId, top: i64) -> Option<Anchor> {
        Some(Anchor {
            node,
            top,
            rows: (1, 21),
        })
    }

    #[test]
    fn the_screen_scrolls_only_when_the_same_message_moved() {
        let scroll = moved(anchor(3, 10), anchor(3, 7)).unwrap();
        assert_eq!((scroll.rows, scroll.by), (1..21, 3));
        assert!(
            moved(anchor(3, 10), anchor(3, 10)).is_none(),
            "it did not move"
        );
        assert!(
            moved(anchor(3, 10), anchor(4, 7)).is_none(),
            "another message"
        );
        assert!(moved(None, anchor(3, 7)).is_none(), "no frame before");
    }

    #[test]
    fn rows_kept_are_those_the_scroll_brings_back_unchanged() {
        let line = |s: &str| RowKey::Own(Line::raw(s.to_string()));
        let before = Shown {
            frame: 1,
            area: Rect::new(0, 5, 10, 4),
            keys: vec![line("a"), line("b"), line("c"), line("d")],
        };
        // Scrolled up by one: what was row 1 is row 0 now, and so on.
        let now = [line("b"), line("c, grown"), line("d"), line("new")];
        assert_eq!(before.same_rows(&now, 1, |_| None), vec![5..6, 7..8]);
        // A line of a body is kept by its id, not by what it shows, but
        // for one that showed as a line of the open tail the frame before.
        let body = |epoch| RowKey::Body(7, 0, epoch);
        let before = Shown {
            keys: vec![body(1), body(1), line("c")],
            ..before
        };
        let shows = |y: usize| Some(Line::raw(["a", "b", "c"][y].to_string()));
        let now = [body(1), body(2), body(2)];
        let lines: Vec<_> = (0..3).map(shows).collect();
        let kept = before.same_rows(&now, 0, |y| lines[y].as_ref());
        assert_eq!(kept, vec![5..6, 7..8]);
        let other = Some(Line::raw("d"));
        assert_eq!(before.same_rows(&now, 0, |_| other.as_ref()), vec![5..6]);
    }
}
