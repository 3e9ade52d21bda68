//! The tools panel: the MCP servers configured (each with its status and,
//! once started, its tools) and the functions the model may call (the tools
//! folder's and the conversation's), which are on, the tool choice and
//! parallel calls. `effects` reads the folder and edits a function's file;
//! `run` starts servers and carries out the agent loop's runs; `approve` is
//! the approval popup; `view` draws. What the console knows of the servers
//! and the loop is plain data in `core::mcp`.

pub mod approve;
pub mod effects;
pub mod run;
pub mod view;

use crate::chat::machine::Effect;
use crate::chat::tools::ToolDef;
use crate::tui::core::action::Action;
use crate::tui::core::command::{Command, EditorTarget};
use crate::tui::core::state::{Overlay, State};

/// One row of the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// An MCP server (index into `state.mcp.servers`).
    Server(usize),
    /// A tool of a ready server that is on: (server index, tool index).
    Tool(usize, usize),
    /// A function of the tools folder or the conversation, and whether it is on.
    Function(ToolDef, bool),
}

/// The panel's rows: the servers (each followed by its tools when it is on
/// and ready), then the functions that no server provides.
pub fn all_rows(state: &State) -> Vec<Row> {
    let mut out = Vec::new();
    for (i, server) in state.mcp.servers.iter().enumerate() {
        out.push(Row::Server(i));
        if let (true, crate::tui::core::mcp::Status::Ready(tools)) = (server.on, &server.status) {
            out.extend((0..tools.len()).map(|j| Row::Tool(i, j)));
        }
    }
    out.extend(
        rows(state)
            .into_iter()
            .filter(|(t, _)| state.mcp.server_of(&t.name).is_none())
            .map(|(t, on)| Row::Function(t, on)),
    );
    out
}

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
    let rows = all_rows(state);
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
            let (tool, on) = match current {
                None => return Vec::new(),
                Some(Row::Server(i)) => return toggle_server(state, i),
                Some(Row::Tool(i, j)) => return toggle_tool(state, i, j),
                Some(Row::Function(tool, on)) => (tool, on),
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
            if let Some(Row::Function(tool, _)) = current {
                return vec![Command::EditInEditor(EditorTarget::Tool(Some(tool.name)))];
            }
        }
        Action::Refresh => return vec![Command::LoadTools],
        _ => {}
    }
    Vec::new()
}

/// Whether a hosted server (`Status::Hosted`) is among the conversation's tools.
pub fn hosted_on(state: &State, name: &str) -> bool {
    state
        .machine
        .conv
        .params
        .hosted
        .iter()
        .any(|h| matches!(h, crate::chat::tools::HostedTool::Mcp { server } if server == name))
}

/// A server on or off for this conversation; on starts it (in the
/// background) when it has not started, or again after it failed. A hosted
/// one is a hosted tool of the conversation instead.
fn toggle_server(state: &mut State, i: usize) -> Vec<Command> {
    let server = &mut state.mcp.servers[i];
    if matches!(server.status, crate::tui::core::mcp::Status::Hosted(_)) {
        // OpenAI connects to it: a hosted tool of the conversation (Responses API).
        let tool = crate::chat::tools::HostedTool::Mcp {
            server: server.name.clone(),
        };
        let p = &mut state.machine.conv.params;
        match p.hosted.contains(&tool) {
            true => p.hosted.retain(|h| *h != tool),
            false => {
                p.hosted.push(tool);
                p.api = Some(crate::chat::params::Api::Responses);
            }
        }
        return saved();
    }
    server.on = !server.on;
    let mut out = vec![Command::SyncMcpTools];
    if server.on
        && matches!(
            server.status,
            crate::tui::core::mcp::Status::Idle | crate::tui::core::mcp::Status::Failed(_)
        )
    {
        server.status = crate::tui::core::mcp::Status::Starting;
        out.push(Command::StartMcp(server.name.clone()));
    }
    out
}

fn toggle_tool(state: &mut State, i: usize, j: usize) -> Vec<Command> {
    let server = &state.mcp.servers[i];
    let crate::tui::core::mcp::Status::Ready(tools) = &server.status else {
        return Vec::new();
    };
    let key = (server.name.clone(), tools[j].name.clone());
    if !state.mcp.off_tools.remove(&key) {
        state.mcp.off_tools.insert(key);
    }
    vec![Command::SyncMcpTools]
}

fn saved() -> Vec<Command> {
    vec![Command::Effects(vec![Effect::Save]), Command::CountTokens]
}
