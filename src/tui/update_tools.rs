//! Keys of the tools panel, attachments and function results: what the
//! playground does for function calling, structured output and files.

use std::path::PathBuf;

use super::action::Action;
use super::state::{Level, Overlay, State};
use super::update::{Command, EditorTarget};
use crate::chat::machine::{Effect, Input};
use crate::chat::tools::ToolDef;

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

pub(super) fn tools_action(state: &mut State, action: Action) -> Vec<Command> {
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

/// Shows or hides the reasoning of the selected answer, or of the last one.
pub(super) fn toggle_reasoning(state: &mut State) {
    let conv = &state.machine.conv;
    let path = conv.path();
    let target = state
        .selected
        .filter(|_| state.focus == super::state::Focus::Transcript)
        .and_then(|i| path.get(i).copied())
        .or_else(|| {
            path.iter().rev().copied().find(|id| {
                conv.nodes[*id]
                    .meta
                    .as_ref()
                    .is_some_and(|m| !m.reasoning.is_empty())
            })
        });
    match target {
        Some(id) if !state.expanded.remove(&id) => {
            state.expanded.insert(id);
        }
        Some(_) => {}
        None => state.toast(Level::Info, "no answer with a reasoning summary"),
    }
}

/// What Enter does with the draft before it is a message: `/attach PATH`,
/// `/detach`, or the result of the call the conversation waits for.
pub(super) fn special_send(state: &mut State, text: &str) -> Option<Vec<Command>> {
    let trimmed = text.trim();
    if let Some(path) = trimmed.strip_prefix("/attach") {
        let path = path.trim();
        if path.is_empty() {
            return Some(super::update_overlays::open_picker(
                state,
                super::state::PickerKind::File,
            ));
        }
        let path = expand_home(path);
        state.input = super::state::new_input(super::update::PLACEHOLDER);
        return Some(vec![Command::Attach(path)]);
    }
    if trimmed == "/detach" {
        state.input = super::state::new_input(super::update::PLACEHOLDER);
        state.toast(Level::Info, "attachments dropped");
        return Some(vec![Command::Machine(Input::Detach), Command::CountTokens]);
    }
    if state.editing.is_some() {
        return None;
    }
    let call = state.machine.conv.pending_calls().into_iter().next()?;
    Some(super::update::send(
        state,
        Input::ToolResult {
            call_id: call.id,
            output: text.to_string(),
        },
    ))
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Attachable files under the current directory (a few levels deep), for the picker.
pub fn attachable_files() -> Vec<String> {
    const EXT: [&str; 6] = ["png", "jpg", "jpeg", "webp", "gif", "pdf"];
    let mut out = Vec::new();
    let mut dirs = vec![(PathBuf::from("."), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') || out.len() >= 5000 {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 3 && name != "target" && name != "node_modules" => {
                    dirs.push((path, depth + 1))
                }
                Ok(t) if t.is_file() => {
                    let ext = path
                        .extension()
                        .map(|x| x.to_string_lossy().to_ascii_lowercase())
                        .unwrap_or_default();
                    if EXT.contains(&ext.as_str()) {
                        out.push(
                            path.strip_prefix(".")
                                .unwrap_or(&path)
                                .display()
                                .to_string(),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Results saved with the function the conversation waits on.
pub fn canned(state: &State) -> Vec<String> {
    let Some(call) = state.machine.conv.pending_calls().into_iter().next() else {
        return Vec::new();
    };
    rows(state)
        .into_iter()
        .find(|(t, _)| t.name == call.name)
        .map(|(t, _)| t.canned_results)
        .unwrap_or_default()
}
