//! A yes/no question; a yes carries out what it asked about.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{centered, popup};
use crate::chat::machine::Input;
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::command::send;
use crate::tui::core::state::Confirmed;
use crate::tui::core::state::{Overlay, State};
use crate::tui::overlays::prompt::compare;
use crate::tui::theme::Styled;

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    match action {
        Action::Confirm => match state.overlays.pop() {
            Some(Overlay::Confirm {
                then: Confirmed::DeleteConversation(id),
                ..
            }) => vec![Command::DeleteConversation(id)],
            Some(Overlay::Confirm {
                then: Confirmed::Send(input),
                ..
            }) => send(state, input),
            Some(Overlay::Confirm {
                then: Confirmed::DeletePrompt(name),
                ..
            }) => vec![Command::DeletePrompt(name)],
            Some(Overlay::Confirm {
                then: Confirmed::Regenerate(node),
                ..
            }) => crate::tui::core::command::regenerate(node),
            Some(Overlay::Confirm {
                then: Confirmed::Compare(models),
                ..
            }) => compare(state, models),
            Some(Overlay::Confirm {
                then: Confirmed::Continue,
                ..
            }) => vec![Command::Machine(Input::Continue), Command::CountTokens],
            _ => Vec::new(),
        },
        Action::Close => match state.overlays.pop() {
            // The loop ends here, its results kept: its steps are recorded.
            Some(Overlay::Confirm {
                then: Confirmed::Continue,
                ..
            }) => vec![Command::RecordSteps],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

pub fn draw(frame: &mut Frame, state: &State, question: &str) {
    // Opened by itself (between a loop's steps): its keys wait for a rest.
    let held = state.holding_keys(std::time::Instant::now());
    let area = centered(frame.area(), 60, if held { 6 } else { 5 });
    let inner = popup(frame, state, area, " Confirm ");
    let mut text = vec![Line::styled(
        question.to_string(),
        state.theme.style(Look::Warning),
    )];
    if held {
        text.push(Line::styled(
            "read it first: y and n work once the keyboard rests a moment",
            state.theme.style(Look::Muted),
        ));
    }
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
}
