//! The bars and the input box around the transcript keep their rows while
//! what they are drawn from stays the same, as it does while an answer
//! streams. Each is remembered by a key of everything it is drawn from, with
//! the frame it was drawn in; only from the frame the terminal shows, never
//! under a popup (it covers rows), and never across a theme change.

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::tui::screen::FrameIds;

/// What a piece of chrome is drawn from: equal keys, equal cells in the same area.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// A bar, by the line it shows.
    Bar(Line<'static>),
    /// The title bar, by what it is laid out from (the pane's tabs, the
    /// conversation's title, the badges; the width is the area's).
    Title {
        pane: crate::tui::core::state::Pane,
        title: String,
        presenter: bool,
        badge: Option<&'static str>,
        demo: bool,
    },
    /// The input box, by its title and focus and the text area's text, cursor
    /// and selection (its scroll follows from them).
    Input {
        title: String,
        focused: bool,
        lines: Vec<String>,
        cursor: (usize, usize),
        selection: Option<((usize, usize), (usize, usize))>,
    },
}

#[derive(Default)]
pub struct Chrome {
    /// This frame, when its chrome may be kept and is remembered.
    now: Option<FrameIds>,
    theme: String,
    /// The frame last remembered, and what it drew where.
    frame: u64,
    shown: Vec<(Rect, Key)>,
    drawn: Vec<(Rect, Key)>,
    /// Rows this frame left undrawn because they show the same already.
    kept: Vec<Range<u16>>,
}

impl Chrome {
    /// Starts a frame: `ids` for the console's own frames, none for a plain
    /// redraw (which leaves this memory alone).
    pub fn begin(&mut self, ids: Option<FrameIds>, popup: bool, theme: &str) {
        if self.theme != theme {
            self.theme = theme.to_string();
            self.shown.clear();
        }
        self.now = ids.filter(|_| !popup);
        self.drawn.clear();
        self.kept.clear();
    }

    /// Draws `key` into `area` with `draw`, unless the terminal shows it there
    /// already: then its rows are left undrawn (see `end`).
    pub fn draw(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        key: Key,
        draw: impl FnOnce(&mut Frame, &Key),
    ) {
        let Some(ids) = self.now else {
            return draw(frame, &key);
        };
        let entry = (area, key);
        if ids.shown == Some(self.frame) && self.shown.contains(&entry) {
            self.kept.push(area.top()..area.bottom());
        } else {
            draw(frame, &entry.1);
        }
        self.drawn.push(entry);
    }

    /// Ends the frame begun (what it drew is what the terminal will show) and
    /// adds the rows it kept to `keep`.
    pub fn end(&mut self, keep: &mut Vec<Range<u16>>) {
        if let Some(ids) = self.now.take() {
            self.frame = ids.now;
            std::mem::swap(&mut self.shown, &mut self.drawn);
        }
        keep.append(&mut self.kept);
    }
}
