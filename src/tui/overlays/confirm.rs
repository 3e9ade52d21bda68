//! A yes/no question; a yes carries out what it asked about.

use ratatui::Frame;
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
        Action::Close => {
            state.overlays.pop();
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub fn draw(frame: &mut Frame, state: &State, question: &str) {
    let area = centered(frame.area(), 60, 5);
    let inner = popup(frame, state, area, " Confirm ");
    frame.render_widget(
        Paragraph::new(question.to_string())
            .style(state.theme.style(Look::Warning))
            .wrap(Wrap { trim: true }),
        inner,
    );
}
