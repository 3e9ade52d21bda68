//! Popups over the panes, one module each (its keys and its drawing): help,
//! conversation list, parameters, pickers, text prompts, yes/no questions,
//! view code, the tools panel, the variables form and the price form. Only
//! the top one takes keys. What they hold is in `core::state::Overlay`.

pub mod code;
pub mod confirm;
pub mod conversations;
pub mod form;
pub mod help;
pub mod parameters;
pub mod picker;
pub mod price;
pub mod prompt;
pub mod send_check;
pub mod tools;

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear};

use crate::config::theme::Role as Look;
use crate::tui::core::state::{Overlay, State};
use crate::tui::widgets::wrap::fit_title;

/// Draws the open popups, bottom first.
pub fn draw(frame: &mut Frame, state: &State) {
    for overlay in &state.overlays {
        match overlay {
            Overlay::Help { scroll } => help::draw(frame, state, *scroll),
            Overlay::Code { tab, scroll } => code::draw(frame, state, *tab, *scroll),
            Overlay::Conversations { selected } => conversations::draw(frame, state, *selected),
            Overlay::Parameters { selected } => parameters::draw(frame, state, *selected),
            Overlay::Tools { selected } => tools::view::draw(frame, state, *selected),
            Overlay::Approve => tools::approve::draw(frame, state),
            Overlay::Form(form) => form::draw(frame, state, form),
            Overlay::Picker(p) => picker::draw(frame, state, p),
            Overlay::Prompt(p) => prompt::draw(frame, state, p),
            Overlay::Confirm { question, .. } => confirm::draw(frame, state, question),
        }
    }
}

/// The first of `len` rows to show in `rows` rows, so that `selected` is in
/// view: every list in a popup scrolls to its selection at any size.
pub fn first_shown(selected: usize, len: usize, rows: usize) -> usize {
    if rows == 0 {
        return selected;
    }
    selected
        .saturating_sub(rows - 1)
        .min(len.saturating_sub(rows))
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

/// Clears `area`, draws a focused box titled `title` there, and returns its inside.
pub fn popup(frame: &mut Frame, state: &State, area: Rect, title: &str) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Look::BorderFocus))
        .style(state.theme.style(Look::Text))
        .title(Span::styled(
            fit_title(title, usize::from(area.width.saturating_sub(2))),
            state.theme.style(Look::Title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}
