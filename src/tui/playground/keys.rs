//! Keys of the playground: the input box (and what Enter does with `/attach`,
//! `/detach` or the result of a pending function call) and the transcript.

use std::path::PathBuf;

use crate::chat::conversation::Role;
use crate::chat::machine::Input;
use crate::tui::core::action::Action;
use crate::tui::core::command::{Command, EditorTarget, ExportKind, regenerate};
use crate::tui::core::state::{Confirmed, Focus, Level, PLACEHOLDER, PickerKind, State, new_input};
use crate::tui::overlays::{picker, send_check};

pub fn input(state: &mut State, action: Action) -> Vec<Command> {
    match action {
        Action::Send => {
            let text = state.draft();
            if text.trim().is_empty() {
                return Vec::new();
            }
            if state.machine.is_streaming() {
                state.toast(Level::Info, "an answer is streaming — Esc stops it");
                return Vec::new();
            }
            if let Some(commands) = special_send(state, &text) {
                return commands;
            }
            let input = match state.editing {
                Some(node) => Input::Edit { node, text },
                None => Input::Send(text),
            };
            send_check::send_checked(state, input)
        }
        Action::Newline => {
            state.input.insert_newline();
            Vec::new()
        }
        Action::Cancel => {
            if state.machine.is_streaming() {
                vec![Command::Machine(Input::Cancel)]
            } else if state.mcp.running() {
                vec![Command::StopTools]
            } else if state.editing.take().is_some() {
                state.input = new_input(PLACEHOLDER);
                state.toast(Level::Info, "edit discarded");
                vec![Command::CountTokens]
            } else {
                focus_transcript(state);
                Vec::new()
            }
        }
        Action::FocusNext | Action::FocusPrev => {
            focus_transcript(state);
            Vec::new()
        }
        Action::OpenEditor => vec![Command::EditInEditor(EditorTarget::Draft)],
        Action::CannedResult => {
            if picker::canned(state).is_empty() {
                state.toast(Level::Info, "no saved results for the function being called (add canned_results to its file)");
                return Vec::new();
            }
            picker::open_picker(state, PickerKind::Canned)
        }
        Action::PageUp => {
            state.scroll += page(state);
            Vec::new()
        }
        Action::PageDown => {
            state.scroll = state.scroll.saturating_sub(page(state));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn page(state: &State) -> usize {
    (state.viewport_rows() / 2).max(1)
}

fn focus_transcript(state: &mut State) {
    let n = state.machine.conv.path().len();
    if n == 0 {
        return;
    }
    state.focus = Focus::Transcript;
    state.selected = Some(state.selected.unwrap_or(n - 1).min(n - 1));
}

pub fn transcript(state: &mut State, action: Action) -> Vec<Command> {
    let path = state.machine.conv.path();
    let n = path.len();
    let sel = state.selected.unwrap_or(n.saturating_sub(1));
    match action {
        Action::Up => state.selected = Some(sel.saturating_sub(1)),
        Action::Down => state.selected = Some((sel + 1).min(n.saturating_sub(1))),
        Action::Top => state.selected = Some(0),
        Action::Bottom => {
            state.selected = Some(n.saturating_sub(1));
            state.scroll = 0;
        }
        Action::PageUp => state.scroll += page(state),
        Action::PageDown => state.scroll = state.scroll.saturating_sub(page(state)),
        Action::FocusInput | Action::FocusNext | Action::FocusPrev => {
            state.focus = Focus::Input;
            state.selected = None;
        }
        Action::Cancel => {
            if state.machine.is_streaming() {
                return vec![Command::Machine(Input::Cancel)];
            }
            if state.mcp.running() {
                return vec![Command::StopTools];
            }
            state.focus = Focus::Input;
            state.selected = None;
        }
        Action::EditMessage => {
            let Some(node) = path.get(sel) else {
                return Vec::new();
            };
            if state.machine.conv.nodes[node].role != Role::User {
                state.toast(
                    Level::Info,
                    "only your messages can be edited — r regenerates an answer",
                );
                return Vec::new();
            }
            let text = state.machine.conv.nodes[node].content.clone();
            let mut input = new_input(PLACEHOLDER);
            input.insert_str(&text);
            state.input = input;
            state.editing = Some(node);
            state.focus = Focus::Input;
            state.toast(
                Level::Info,
                "editing — Enter sends as a new branch, Esc discards",
            );
            return vec![Command::CountTokens];
        }
        Action::Regenerate => {
            // The selected answer, not always the last: a new branch beside it.
            let Some(node) = path.get(sel) else {
                return Vec::new();
            };
            if sel + 1 < n {
                state.toast(
                    Level::Info,
                    "regenerating the selected answer as a new branch (h/l switch back)",
                );
            }
            if send_check::ask_first(state, 1, Confirmed::Regenerate(node)) {
                return Vec::new();
            }
            return regenerate(node);
        }
        Action::PrevBranch | Action::NextBranch => {
            let Some(node) = path.get(sel) else {
                return Vec::new();
            };
            let delta = if action == Action::PrevBranch { -1 } else { 1 };
            return vec![
                Command::Machine(Input::SwitchBranch { node, delta }),
                Command::CountTokens,
            ];
        }
        Action::CopyCode => return copy_code(state),
        Action::ExportMarkdown => {
            return vec![Command::Export(ExportKind::Markdown)];
        }
        Action::ExportJson => return vec![Command::Export(ExportKind::Json)],
        Action::PriceModel => return crate::tui::overlays::price::open(state),
        _ => {}
    }
    state.next_code_block = if state.selected == Some(sel) {
        state.next_code_block
    } else {
        0
    };
    Vec::new()
}

/// The message copy acts on: the selected one, else the last answer.
fn target_message(state: &State) -> Option<String> {
    let conv = &state.machine.conv;
    let node = state.selected_node().or_else(|| {
        conv.path()
            .iter()
            .rev()
            .find(|&id| conv.nodes[id].role == Role::Assistant)
    })?;
    Some(conv.nodes[node].content.to_string())
}

pub fn copy_message(state: &mut State) -> Vec<Command> {
    match target_message(state) {
        Some(text) if !text.is_empty() => vec![Command::Copy {
            text,
            what: "message".into(),
        }],
        _ => {
            state.toast(Level::Info, "nothing to copy yet");
            Vec::new()
        }
    }
}

fn copy_code(state: &mut State) -> Vec<Command> {
    let blocks = target_message(state)
        .map(|t| crate::tui::widgets::markdown::code_blocks(&t))
        .unwrap_or_default();
    if blocks.is_empty() {
        state.toast(Level::Info, "no code block in this message");
        return Vec::new();
    }
    let i = state.next_code_block % blocks.len();
    state.next_code_block = i + 1;
    vec![Command::Copy {
        text: blocks[i].clone(),
        what: format!("code block {} of {}", i + 1, blocks.len()),
    }]
}

/// Shows or hides the reasoning of the selected answer, or of the last one.
pub fn toggle_reasoning(state: &mut State) {
    let conv = &state.machine.conv;
    let path = conv.path();
    let target = state
        .selected
        .filter(|_| state.focus == Focus::Transcript)
        .and_then(|i| path.get(i))
        .or_else(|| {
            path.iter().rev().find(|&id| {
                conv.nodes[id]
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
fn special_send(state: &mut State, text: &str) -> Option<Vec<Command>> {
    let trimmed = text.trim();
    if let Some(path) = trimmed.strip_prefix("/attach") {
        let path = path.trim();
        if path.is_empty() {
            return Some(picker::open_picker(state, PickerKind::File));
        }
        let path = expand_home(path);
        state.input = new_input(PLACEHOLDER);
        return Some(vec![Command::Attach(path)]);
    }
    if trimmed == "/detach" {
        state.input = new_input(PLACEHOLDER);
        state.toast(Level::Info, "attachments dropped");
        return Some(vec![Command::Machine(Input::Detach), Command::CountTokens]);
    }
    if state.editing.is_some() {
        return None;
    }
    let call = state.machine.conv.pending_calls().into_iter().next()?;
    let mut commands = crate::tui::core::command::send(
        state,
        Input::KeepToolResult {
            call_id: call.id,
            output: text.to_string(),
        },
    );
    // After the last result the model goes on, once the budgets allow.
    commands.insert(1, Command::ContinueChecked);
    Some(commands)
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
