//! The conversation list: open, copy, rename, delete saved conversations.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{centered, first_shown, popup};
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Confirmed, Level, PromptPurpose};
use crate::tui::core::state::{Overlay, State};
use crate::tui::overlays::prompt::open_prompt;
use crate::tui::theme::Styled;
use crate::tui::widgets::wrap::truncate;
use unicode_width::UnicodeWidthStr;

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    let n = state.conversations.len();
    let Some(Overlay::Conversations { selected }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let current = state
        .conversations
        .get(*selected)
        .map(|s| (s.id.clone(), s.title.clone(), s.error.is_some()));
    match action {
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Down => *selected = (*selected + 1).min(n.saturating_sub(1)),
        Action::Close => {
            state.overlays.pop();
        }
        Action::Open => {
            if let Some((id, _, broken)) = current {
                if broken {
                    state.toast(
                        Level::Error,
                        "this file cannot be read; it is left untouched",
                    );
                    return Vec::new();
                }
                state.overlays.pop();
                return vec![Command::OpenConversation(id)];
            }
        }
        Action::Duplicate => {
            if let Some((id, _, false)) = current {
                return vec![Command::DuplicateConversation(id)];
            }
        }
        Action::Rename => {
            if let Some((id, title, false)) = current {
                open_prompt(
                    state,
                    "Rename conversation (Enter saves)",
                    PromptPurpose::Rename(id),
                    &title,
                );
            }
        }
        Action::Delete => {
            if let Some((id, title, _)) = current {
                state.open(Overlay::Confirm {
                    question: format!("Delete “{title}”? This cannot be undone. (y/n)"),
                    then: Confirmed::DeleteConversation(id),
                });
            }
        }
        _ => {}
    }
    Vec::new()
}

/// A new list of conversations (after a copy, a rename, a delete): the
/// highlight stays on the conversation it was on, wherever that moved, so the
/// next key acts on the one the user is looking at.
pub fn conversations_listed(state: &mut State, list: Vec<crate::chat::store::Summary>) {
    let old = &state.conversations;
    if let Some(Overlay::Conversations { selected }) = state
        .overlays
        .iter_mut()
        .find(|o| matches!(o, Overlay::Conversations { .. }))
    {
        let id = old.get(*selected).map(|s| s.id.as_str());
        *selected = list
            .iter()
            .position(|s| Some(s.id.as_str()) == id)
            .unwrap_or(*selected)
            .min(list.len().saturating_sub(1));
    }
    state.conversations = list;
}

pub fn draw(frame: &mut Frame, state: &State, selected: usize) {
    let t = &state.theme;
    let area = centered(
        frame.area(),
        90.min(frame.area().width.saturating_sub(2)),
        frame.area().height.saturating_sub(4).max(6),
    );
    let inner = popup(
        frame,
        state,
        area,
        " Conversations — Enter opens · n new · R rename · d duplicate · D delete ",
    );
    if state.conversations.is_empty() {
        frame.render_widget(
            Line::styled("  no saved conversations yet", t.style(Look::Muted)),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    // The date and count keep their columns; the title takes what is left.
    let (date, count) = if width >= 60 {
        ("%Y-%m-%d %H:%M", true)
    } else {
        ("%m-%d %H:%M", false)
    };
    let right = |count_text: String, when: String| {
        if count {
            format!(" {count_text:>9}  {when}")
        } else {
            format!(" {when}")
        }
    };
    let header_right = right(
        "messages".into(),
        format!("{:<w$}", "updated", w = if count { 16 } else { 11 }),
    );
    let title_width = width.saturating_sub(2 + header_right.width());
    let row = |mark: &str, title: &str, right: &str| {
        format!(
            "{mark}{:<title_width$}{right}",
            truncate(title, title_width)
        )
    };
    let mut lines = vec![Line::styled(
        row("  ", "title", &header_right),
        t.style(Look::Muted),
    )];
    let rows = usize::from(inner.height.saturating_sub(1));
    let start = first_shown(selected, state.conversations.len(), rows);
    lines.extend(
        state
            .conversations
            .iter()
            .enumerate()
            .skip(start)
            .take(rows)
            .map(|(i, c)| {
                let current = c.id == state.machine.conv.id;
                let mark = if current { "● " } else { "  " };
                let text = match &c.error {
                    Some(e) => truncate(&format!("{mark}⚠ {} — {e}", c.title), width),
                    None => row(
                        mark,
                        &c.title,
                        &right(c.messages.to_string(), c.updated.format(date).to_string()),
                    ),
                };
                let look = if c.error.is_some() {
                    Look::Error
                } else {
                    Look::Text
                };
                let mut style = t.style(look);
                if i == selected {
                    style = style.patch(t.style(Look::Selection));
                }
                Line::styled(text, style)
            }),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}
