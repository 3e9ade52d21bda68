//! The parameters panel: every request parameter, stepped, reset or typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{first_shown, popup};
use crate::chat::machine::Effect;
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::params::{self, Field};
use crate::tui::core::state::{Overlay, State};
use crate::tui::core::state::{PickerKind, PromptPurpose};
use crate::tui::overlays::picker::open_picker;
use crate::tui::overlays::prompt::open_prompt;
use crate::tui::theme::Styled;
use crate::tui::widgets::wrap::truncate;

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    let Some(Overlay::Parameters { selected }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let field = Field::ALL[(*selected).min(Field::ALL.len() - 1)];
    let changed = match action {
        Action::Up => {
            *selected = selected.saturating_sub(1);
            false
        }
        Action::Down => {
            *selected = (*selected + 1).min(Field::ALL.len() - 1);
            false
        }
        Action::Close => {
            state.overlays.pop();
            false
        }
        Action::Increase | Action::Decrease => {
            params::step(
                field,
                &mut state.machine.conv.params,
                if action == Action::Increase { 1 } else { -1 },
            );
            true
        }
        Action::Reset => {
            params::reset(field, &mut state.machine.conv.params);
            true
        }
        Action::Open => {
            match field {
                Field::Model => return open_picker(state, PickerKind::Model),
                Field::System => {
                    let text = state.machine.conv.system.clone();
                    open_prompt(
                        state,
                        "System prompt (Enter saves, Alt-Enter newline)",
                        PromptPurpose::System,
                        &text,
                    );
                }
                Field::ReasoningEffort
                | Field::ReasoningSummary
                | Field::Api
                | Field::Strict
                | Field::ResponseFormat
                | Field::Temperature
                | Field::TopP
                | Field::MaxOutputTokens
                | Field::PresencePenalty
                | Field::FrequencyPenalty
                | Field::Seed
                | Field::Stop => {
                    let text = params::editable(field, &state.machine.conv.params);
                    let hint = match field {
                        Field::Stop => " (separate with |, empty = default)",
                        Field::ResponseFormat => {
                            " (a JSON schema, or @path/to/schema.json; Ctrl-E edits; empty = text)"
                        }
                        _ => " (empty = default, not sent)",
                    };
                    open_prompt(
                        state,
                        &format!("{}{hint}", field.label()),
                        PromptPurpose::Param(field),
                        &text,
                    );
                }
            }
            false
        }
        _ => false,
    };
    if changed {
        vec![Command::Effects(vec![Effect::Save])]
    } else {
        Vec::new()
    }
}

pub fn draw(frame: &mut Frame, state: &State, selected: usize) {
    let t = &state.theme;
    let area = frame.area();
    let width = 46.min(area.width);
    let panel = Rect {
        x: area.width.saturating_sub(width),
        y: 1,
        width,
        height: area
            .height
            .saturating_sub(2)
            .min(Field::ALL.len() as u16 + 5),
    };
    let inner = popup(frame, state, panel, " Parameters ");
    let conv = &state.machine.conv;
    let lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let value = params::show(*f, &conv.params, &conv.model, &conv.system);
            let look = if value == "default" {
                Look::Muted
            } else {
                Look::Accent
            };
            let mut label = t.style(Look::Text);
            let mut val = t.style(look);
            if i == selected {
                label = label.patch(t.style(Look::Selection));
                val = val.patch(t.style(Look::Selection));
            }
            Line::from(vec![
                Span::styled(format!(" {:<18}", f.label()), label),
                Span::styled(
                    truncate(&value, usize::from(inner.width).saturating_sub(20)),
                    val,
                ),
            ])
        })
        .collect();
    // The hints below the fields go first when rows are short; the fields scroll.
    let room = usize::from(inner.height);
    let hints = [
        " ←/→ adjust · Enter type · Del default",
        " \"default\" is not sent: the server decides",
    ];
    let footer = if room >= lines.len() + 3 {
        2
    } else {
        usize::from(room >= 8)
    };
    let rows = room.saturating_sub(footer + usize::from(footer > 0));
    let start = first_shown(selected, lines.len(), rows);
    let mut lines: Vec<Line> = lines.into_iter().skip(start).take(rows).collect();
    if footer > 0 {
        lines.push(Line::default());
    }
    for hint in &hints[..footer] {
        lines.push(Line::styled(*hint, t.style(Look::Muted)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
