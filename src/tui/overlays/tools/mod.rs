//! The tools panel: the functions the model may call (the tools folder's and
//! the conversation's), which are on, the tool choice and parallel calls.
//! `effects` reads the folder and edits a function's file; `view` draws it.

pub mod effects;
pub mod view;

use crate::chat::machine::Effect;
use crate::chat::tools::ToolDef;
use crate::tui::core::action::Action;
use crate::tui::core::command::{Command, EditorTarget};
use crate::tui::core::state::{Overlay, State};

/// Every function the panel lists: the tools folder's, then any only this
/// conversation has (from an older file, say), each with whether it is on.
pub fn rows(state: &State) -> Vec<(ToolDef, bool)> {
    let conv = &state.machine.conv;
    let on = |name: &str| conv.tools.iter().any(|t| t.name == name);
    let mut out: Vec<(ToolDef, bool)> = state
        .tool_library
        .0
        .iter()
        .map(|t| (t.clone(), on(&t.name)))
        .collect();
    for t in &conv.tools {
        if !out.iter().any(|(o, _)| o.name == t.name) {
            out.push((t.clone(), true));
        }
    }
    out
}

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    let rows = rows(state);
    let Some(Overlay::Tools { selected }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let current = rows.get(*selected).cloned();
    match action {
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Down => *selected = (*selected + 1).min(rows.len().saturating_sub(1)),
        Action::Close => {
            state.overlays.pop();
        }
        Action::Open => {
            let Some((tool, on)) = current else {
                return Vec::new();
            };
            let tools = &mut state.machine.conv.tools;
            if on {
                tools.retain(|t| t.name != tool.name);
            } else {
                tools.push(tool);
            }
            return saved();
        }
        Action::CycleChoice => {
            let p = &mut state.machine.conv.params;
            let next = p
                .tool_choice
                .clone()
                .unwrap_or_default()
                .next(&state.machine.conv.tools);
            p.tool_choice = Some(next);
            return saved();
        }
        Action::ToggleParallel => {
            let p = &mut state.machine.conv.params;
            p.parallel_tool_calls = match p.parallel_tool_calls {
                None => Some(false),
                Some(false) => Some(true),
                Some(true) => None,
            };
            return saved();
        }
        Action::NewItem => return vec![Command::EditInEditor(EditorTarget::Tool(None))],
        Action::EditItem => {
            if let Some((tool, _)) = current {
                return vec![Command::EditInEditor(EditorTarget::Tool(Some(tool.name)))];
            }
        }
        Action::Refresh => return vec![Command::LoadTools],
        _ => {}
    }
    Vec::new()
}

fn saved() -> Vec<Command> {
    vec![Command::Effects(vec![Effect::Save]), Command::CountTokens]
}
