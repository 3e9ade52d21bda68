//! Text prompts: a one-field popup whose Enter does what it was opened for
//! (rename, system prompt, a parameter, compare targets, a prompt's name, a price).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Span;
use ratatui::widgets::{Paragraph, Wrap};

use super::{centered, popup};
use crate::chat::machine::Effect;
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::clear_draft;
use crate::tui::core::command::{Command, EditorTarget};
use crate::tui::core::params::{self};
use crate::tui::core::state::TextPrompt;
use crate::tui::core::state::{Confirmed, PromptPurpose, new_input};
use crate::tui::core::state::{Overlay, State};
use crate::tui::theme::Styled;
use crate::tui::widgets::wrap::wrap;

/// Keys of a text prompt: Enter submits, Alt-Enter a newline.
pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    let Some(Overlay::Prompt(prompt)) = state.overlays.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::Close => {
            state.overlays.pop();
        }
        Action::Newline => prompt.input.insert_newline(),
        Action::OpenEditor if prompt.purpose == PromptPurpose::System => {
            return vec![Command::EditInEditor(EditorTarget::System)];
        }
        Action::Open => return submit_prompt(state),
        _ => {}
    }
    Vec::new()
}

fn submit_prompt(state: &mut State) -> Vec<Command> {
    let Some(Overlay::Prompt(prompt)) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let text = prompt.input.lines().join("\n");
    let commands = match prompt.purpose.clone() {
        PromptPurpose::System => {
            state.machine.conv.system = text.into();
            vec![Command::Effects(vec![Effect::Save]), Command::CountTokens]
        }
        PromptPurpose::Refusal => {
            let refusal = crate::tools::agent::Answer::Refuse(text);
            return crate::tui::overlays::tools::approve::answer(state, refusal);
        }
        PromptPurpose::Rename(id) => vec![Command::RenameConversation {
            id,
            title: text.trim().to_string(),
        }],
        PromptPurpose::Compare => {
            let mut models = vec![state.machine.conv.model.clone()];
            for m in text
                .split([',', ' '])
                .map(str::trim)
                .filter(|m| !m.is_empty())
            {
                if !models.iter().any(|x| x == m) {
                    models.push(m.to_string());
                }
            }
            use crate::chat::compare::MAX_TARGETS;
            // Named, not dropped: a fifth target silently left out would look like a failure.
            if models.len() > MAX_TARGETS {
                prompt.error = Some(format!(
                    "compare at most {MAX_TARGETS} models at once (the current one and {} more); you named {}",
                    MAX_TARGETS - 1,
                    models.len() - 1
                ));
                return Vec::new();
            }
            if models.len() < 2 {
                prompt.error = Some("name at least one other model".into());
                return Vec::new();
            }
            state.compare_with = models[1..].join(", ");
            state.overlays.pop();
            let n = models.len() as i64;
            if crate::tui::overlays::send_check::ask_first(
                state,
                n,
                Confirmed::Compare(models.clone()),
            ) {
                return Vec::new();
            }
            return compare(state, models);
        }
        PromptPurpose::NewPrompt
        | PromptPurpose::SaveAsPrompt
        | PromptPurpose::RenamePrompt(_)
        | PromptPurpose::DuplicatePrompt(_)
            if text.trim().is_empty() =>
        {
            prompt.error = Some("give it a name".into());
            return Vec::new();
        }
        PromptPurpose::NewPrompt => vec![Command::CreatePrompt(text.trim().to_string())],
        PromptPurpose::TestPrompt(name) => {
            let targets: Vec<String> = text
                .split([',', ' '])
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(String::from)
                .take(4)
                .collect();
            state.toast(
                crate::tui::core::state::Level::Info,
                format!("testing {name}…"),
            );
            vec![Command::TestPrompt { name, targets }]
        }
        PromptPurpose::SaveAsPrompt => vec![Command::SaveAsPrompt(text.trim().to_string())],
        PromptPurpose::RenamePrompt(from) => vec![Command::RenamePrompt {
            from,
            to: text.trim().to_string(),
        }],
        PromptPurpose::DuplicatePrompt(from) => vec![Command::DuplicatePrompt {
            from,
            to: text.trim().to_string(),
        }],
        PromptPurpose::Price(model) => match crate::tui::overlays::price::submit(model, &text) {
            Ok(commands) => commands,
            Err(e) => {
                prompt.error = Some(e);
                return Vec::new();
            }
        },
        PromptPurpose::Param(field) => {
            match params::set(field, &mut state.machine.conv.params, &text) {
                Ok(()) => vec![Command::Effects(vec![Effect::Save])],
                Err(e) => {
                    prompt.error = Some(e);
                    return Vec::new();
                }
            }
        }
    };
    state.overlays.pop();
    commands
}

/// Sends the draft to `models` side by side: it leaves the input box.
pub fn compare(state: &mut State, models: Vec<String>) -> Vec<Command> {
    let text = state.draft();
    clear_draft(state);
    vec![
        Command::Compare {
            text,
            specs: models,
        },
        Command::CountTokens,
    ]
}

pub fn open_prompt(state: &mut State, title: &str, purpose: PromptPurpose, text: &str) {
    let mut input = new_input("");
    input.insert_str(text);
    state.open(Overlay::Prompt(Box::new(TextPrompt {
        title: title.to_string(),
        purpose,
        input,
        error: None,
    })));
}

pub fn draw(frame: &mut Frame, state: &State, p: &TextPrompt) {
    let area = centered(frame.area(), 70, 10);
    let inner = popup(frame, state, area, &format!(" {} ", p.title));
    // The error gets the rows it needs, wrapped, never cut.
    let error_rows = p.error.as_ref().map_or(0, |e| {
        wrap(&[Span::raw(e.clone())], usize::from(inner.width)).len() as u16
    });
    let [input, error] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(error_rows)]).areas(inner);
    frame.render_widget(&p.input, input);
    if let Some(e) = &p.error {
        frame.render_widget(
            Paragraph::new(e.clone())
                .style(state.theme.style(Look::Error))
                .wrap(Wrap { trim: true }),
            error,
        );
    }
}
