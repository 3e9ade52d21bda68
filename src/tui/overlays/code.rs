//! View code: the request that would be sent now, as curl, Python, Node and Rust.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{centered, popup};
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Overlay, State};
use crate::tui::theme::Styled;

/// The request that would be sent now, in each language.
fn snippets(state: &State) -> Vec<crate::provider::code::Snippet> {
    crate::provider::code::snippets(
        &state.profile,
        &state.pending_request(),
        state.presenter,
        &state.mcp.shown_remote(),
    )
}

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    let snippets = snippets(state);
    let Some(Overlay::Code { tab, scroll }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let n = snippets.len();
    match action {
        Action::Increase => (*tab, *scroll) = ((*tab + 1) % n, 0),
        Action::Decrease => (*tab, *scroll) = ((*tab + n - 1) % n, 0),
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll += 1,
        Action::Close => {
            state.overlays.pop();
        }
        Action::CopyMessage => {
            let s = &snippets[*tab % n];
            return vec![Command::Copy {
                text: s.code.clone(),
                what: format!("the request as {}", s.label),
            }];
        }
        _ => {}
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, state: &State, tab: usize, scroll: u16) {
    let t = &state.theme;
    let snippets = snippets(state);
    let area = centered(
        frame.area(),
        frame.area().width.saturating_sub(4),
        frame.area().height.saturating_sub(2),
    );
    let inner = popup(
        frame,
        state,
        area,
        " Request as code — ←/→ language · y copy · Esc close ",
    );
    let [tabs, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    let mut spans = Vec::new();
    for (i, s) in snippets.iter().enumerate() {
        let look = if i == tab % snippets.len() {
            Look::Selection
        } else {
            Look::Muted
        };
        spans.push(Span::styled(format!(" {} ", s.label), t.style(look)));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        " key from $ENV, never inline",
        t.style(Look::Muted),
    ));
    frame.render_widget(Line::from(spans), tabs);
    let s = &snippets[tab % snippets.len()];
    let source = format!("```{}\n{}```\n", s.lang, s.code);
    // A column short of the border: a long line is hard-wrapped there and
    // continues below, and does not read as cut off at the edge.
    let rendered =
        crate::tui::widgets::markdown::render(&source, body.width.saturating_sub(1), &state.theme);
    frame.render_widget(Paragraph::new(rendered.lines).scroll((scroll, 0)), body);
}
