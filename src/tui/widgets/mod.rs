//! Widgets: markdown with highlighted code, wrapping (`crate::inert` makes output
//! inert), and the titled box the panes draw their parts in.

pub mod highlight;
pub mod lines;
pub mod markdown;
pub mod stable;
pub mod wrap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::config::theme::{Role as Look, Theme};
use crate::tui::theme::Styled;

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
