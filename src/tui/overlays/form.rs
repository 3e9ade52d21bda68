//! The variables form of a library prompt about to run.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;

use super::{centered, first_shown, popup};
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Overlay, State};
use crate::tui::library::state::Form;
use crate::tui::theme::Styled;
use crate::tui::widgets::wrap::truncate;

/// Keys of the variables form: move between fields, run from the last one.
pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    let Some(Overlay::Form(form)) = state.overlays.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::Close => {
            state.overlays.pop();
        }
        Action::Up => form.focused = form.focused.saturating_sub(1),
        Action::Down | Action::FocusNext => {
            form.focused = (form.focused + 1).min(form.fields.len() - 1)
        }
        Action::FocusPrev => form.focused = form.focused.saturating_sub(1),
        Action::Newline => form.fields[form.focused].1.insert_newline(),
        Action::Open if form.focused + 1 < form.fields.len() => form.focused += 1,
        Action::Open | Action::Send => {
            let vars = form.values();
            if let Some((v, _)) = form
                .fields
                .iter()
                .find(|(v, t)| v.required && t.lines().join("").trim().is_empty())
            {
                form.error = Some(format!("{} is required", v.name));
                return Vec::new();
            }
            let name = form.prompt.clone();
            state.overlays.pop();
            return vec![Command::RunPrompt { name, vars }];
        }
        _ => {}
    }
    Vec::new()
}

/// The variables form over the pane.
pub fn draw(frame: &mut Frame, state: &State, form: &Form) {
    let t = &state.theme;
    let height = (form.fields.len() as u16 * 3 + 4).min(frame.area().height);
    let area = centered(frame.area(), 72, height);
    let inner = popup(
        frame,
        state,
        area,
        &format!(
            " Run {} — Enter next/run, Alt-Enter newline, Esc ",
            form.prompt
        ),
    );
    // As many fields as fit, scrolled to the focused one; the error row stays.
    let fit = usize::from(inner.height.saturating_sub(1) / 3).max(1);
    let start = first_shown(form.focused, form.fields.len(), fit);
    let shown = &form.fields[start..(start + fit).min(form.fields.len())];
    let mut constraints: Vec<Constraint> = shown
        .iter()
        .flat_map(|_| [Constraint::Length(1), Constraint::Length(2)])
        .collect();
    constraints.push(Constraint::Length(1));
    let rows = Layout::vertical(constraints).split(inner);
    for (j, (v, input)) in shown.iter().enumerate() {
        let i = start + j;
        let mut label = v.name.clone();
        if v.required {
            label.push_str(" (required)");
        }
        if !v.description.is_empty() {
            label.push_str(&format!(" — {}", v.description));
        }
        let look = if i == form.focused {
            Look::Accent
        } else {
            Look::Muted
        };
        frame.render_widget(
            Line::styled(truncate(&label, usize::from(inner.width)), t.style(look)),
            rows[2 * j],
        );
        frame.render_widget(input, rows[2 * j + 1]);
    }
    if let Some(e) = &form.error {
        frame.render_widget(
            Line::styled(e.clone(), t.style(Look::Error)),
            rows[rows.len() - 1],
        );
    }
}
