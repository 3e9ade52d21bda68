//! Widgets: markdown with highlighted code, wrapping (`crate::inert` makes output
//! inert), and the titled box the panes draw their parts in.

pub mod highlight;
pub mod lines;
pub mod markdown;
pub mod stable;
pub mod table;
pub mod wrap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::config::theme::{Role as Look, Theme};
use crate::tui::theme::Styled;

/// `n` spaces, borrowed for any width a terminal has: code lines are padded
/// to the pane's width and list items indented, and the render cache keeps
/// ~1,000 such lines, each of which would otherwise own its padding.
pub fn spaces(n: usize) -> std::borrow::Cow<'static, str> {
    const SPACES: &str = match std::str::from_utf8(&[b' '; 512]) {
        Ok(s) => s,
        Err(_) => panic!("spaces are UTF-8"),
    };
    match SPACES.get(..n) {
        Some(s) => s.into(),
        None => " ".repeat(n).into(),
    }
}

/// Draws a box over `area` with `title` fitted to its width, and returns its inside.
pub fn titled_box(frame: &mut Frame, theme: &Theme, area: Rect, title: &str) -> Rect {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Look::Border))
        .title(Span::styled(
            wrap::fit_title(title, usize::from(area.width.saturating_sub(2))),
            theme.style(Look::Title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

#[cfg(test)]
mod tests {
    #[test]
    fn spaces_of_any_width() {
        for n in [0, 1, 80, 512, 513, 2000] {
            let s = super::spaces(n);
            assert_eq!((s.len(), s.trim()), (n, ""));
        }
        assert!(matches!(super::spaces(512), std::borrow::Cow::Borrowed(_)));
    }
}
