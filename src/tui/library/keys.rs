//! Keys of the Library pane: search, and what Enter, edit, rename,
//! duplicate, delete and test do.

use std::collections::BTreeMap;

use super::state::Form;
use crate::tui::core::action::Action;
use crate::tui::core::command::{Command, EditorTarget};
use crate::tui::core::state::{Confirmed, Level, Overlay, Pane, PromptPurpose, State, new_input};
use crate::tui::overlays::prompt::open_prompt;

pub fn apply(state: &mut State, action: Action) -> Vec<Command> {
    let pane = &mut state.library;
    let selected_name = pane.current().map(|e| e.name().to_string());
    match action {
        Action::Up => {
            pane.selected = pane.selected.saturating_sub(1);
            return stats_for(state);
        }
        Action::Down => {
            pane.selected = (pane.selected + 1).min(pane.matches.len().saturating_sub(1));
            return stats_for(state);
        }
        Action::Close if !pane.query.is_empty() => {
            pane.query.clear();
            pane.refilter();
        }
        Action::Close => state.pane = Pane::Playground,
        Action::Refresh => return vec![Command::LoadLibrary],
        Action::StarterPrompts => return vec![Command::StarterPrompts],
        Action::Open => return open(state),
        Action::EditItem => {
            if let Some(e) = pane.current()
                && let Some(lib) = &pane.lib
            {
                return vec![Command::EditInEditor(EditorTarget::File(lib.path_of(e)))];
            }
        }
        Action::NewItem => {
            open_prompt(
                state,
                "New prompt name (GROUP/NAME makes a group)",
                PromptPurpose::NewPrompt,
                "",
            );
        }
        Action::Rename => {
            if let Some(name) = selected_name {
                open_prompt(
                    state,
                    &format!("Rename {name} to"),
                    PromptPurpose::RenamePrompt(name.clone()),
                    &name,
                );
            }
        }
        Action::Duplicate => {
            if let Some(name) = selected_name {
                open_prompt(
                    state,
                    &format!("Name of the copy of {name}"),
                    PromptPurpose::DuplicatePrompt(name.clone()),
                    &format!("{name}-copy"),
                );
            }
        }
        Action::Delete => {
            if let Some(name) = selected_name {
                state.open(Overlay::Confirm {
                    question: format!("Delete the prompt {name} and its file? (y/n)"),
                    then: Confirmed::DeletePrompt(name),
                });
            }
        }
        Action::RunTests => {
            let model = pane
                .current()
                .and_then(|e| e.prompt.as_ref().ok())
                .and_then(|p| p.meta.model.clone())
                .unwrap_or_else(|| state.machine.conv.model.clone());
            if let Some(name) = selected_name {
                let offer = match state.compare_with.as_str() {
                    "" => model,
                    others => format!("{model}, {others}"),
                };
                open_prompt(
                    state,
                    &format!("Test {name} on (up to 4: model, model@profile; Enter runs)"),
                    PromptPurpose::TestPrompt(name),
                    &offer,
                );
            }
        }
        Action::PrevBranch => pane.case = pane.case.saturating_sub(1),
        Action::NextBranch => pane.case += 1,
        _ => {}
    }
    Vec::new()
}

/// Typing in the Library pane edits the search.
pub fn type_char(state: &mut State, c: Option<char>) -> Vec<Command> {
    let pane = &mut state.library;
    match c {
        Some(c) => pane.query.push(c),
        None => {
            pane.query.pop();
        }
    }
    pane.selected = 0;
    pane.refilter();
    stats_for(state)
}

/// The ledger's versions of the selected prompt, when not already shown.
pub fn stats_for(state: &mut State) -> Vec<Command> {
    let name = state.library.current().map(|e| e.name().to_string());
    match name {
        Some(n) if state.library.versions.as_ref().map(|v| &v.0) != Some(&n) => {
            vec![Command::LoadPromptStats(n)]
        }
        _ => Vec::new(),
    }
}

/// Enter: a prompt without variables runs at once; with them, a form opens.
fn open(state: &mut State) -> Vec<Command> {
    let Some(entry) = state.library.current() else {
        return Vec::new();
    };
    let prompt = match &entry.prompt {
        Ok(p) => p.clone(),
        Err(e) => {
            let msg = format!("{}:{}: {}", entry.path, e.line, e.message);
            state.toast(Level::Error, msg);
            return Vec::new();
        }
    };
    if prompt.meta.variables.is_empty() {
        return vec![Command::RunPrompt {
            name: prompt.meta.name,
            vars: BTreeMap::new(),
        }];
    }
    let fields = prompt
        .meta
        .variables
        .iter()
        .map(|v| {
            let mut t = new_input("");
            if let Some(d) = &v.default {
                t.insert_str(d);
            }
            (v.clone(), t)
        })
        .collect();
    state.open(Overlay::Form(Box::new(Form {
        prompt: prompt.meta.name,
        fields,
        focused: 0,
        error: None,
    })));
    Vec::new()
}
