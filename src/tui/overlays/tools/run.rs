//! The app's side of the tools that run: starting MCP servers in the
//! background (first use: when turned on in the panel), the toolbox of the
//! tools that are on (their functions join the conversation's tools), running
//! the decided calls together with the domain's executor, sending their
//! results, and numbering the loop's model calls and tool runs in the ledger.

use std::sync::Arc;

use crate::chat::machine::Effect;
use crate::tools::agent::{ToolRun, run_calls};
use crate::tools::mcp::{McpTool, Servers};
use crate::tools::toolbox::Toolbox;
use crate::tui::app::{App, Msg};
use crate::tui::core::command::Command;
use crate::tui::core::mcp::{CallState, ServerRow, Status};
use crate::tui::core::state::Level;
use crate::tui::worker::Job;

/// The live half: the servers (none started until used), the toolbox of
/// the tools on, the running calls, and what the loop's ledger rows are.
#[derive(Default)]
pub(in crate::tui) struct Live {
    pub(in crate::tui) servers: Servers,
    toolbox: Arc<Toolbox>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Ledger rows of the model calls since the user last sent.
    pub(in crate::tui) rows: Vec<String>,
    /// Tool runs since then, with their step.
    runs: Vec<(u32, ToolRun)>,
}

impl Live {
    pub(in crate::tui) fn new(
        configs: &std::collections::BTreeMap<String, crate::tools::config::McpConfig>,
    ) -> Self {
        Self {
            servers: Servers::new(configs),
            ..Default::default()
        }
    }
}

/// The panel's rows for the configured servers: nothing started.
pub(in crate::tui) fn rows(
    configs: &std::collections::BTreeMap<String, crate::tools::config::McpConfig>,
) -> Vec<ServerRow> {
    configs
        .iter()
        .map(|(name, c)| ServerRow {
            name: name.clone(),
            how: crate::log::scrub(&c.how()),
            status: match c.shown(name) {
                Some(shown) => Status::Hosted(shown),
                None => Status::Idle,
            },
            on: false,
        })
        .collect()
}

impl App {
    /// Starts a server in the background; its tools (or why it failed) come back as a message.
    pub(in crate::tui) fn start_mcp(&mut self, name: String) {
        let Some(server) = self.mcp.servers.get(&name) else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = server.tools().await;
            let _ = tx.send(Msg::McpStarted(name, result));
        });
    }

    pub(in crate::tui) fn on_mcp_started(
        &mut self,
        name: String,
        result: Result<Vec<McpTool>, String>,
    ) {
        let Some(i) = self.state.mcp.servers.iter().position(|s| s.name == name) else {
            return;
        };
        let status = match result {
            Ok(tools) => Status::Ready(tools),
            Err(e) => {
                let e = crate::log::scrub(&e);
                let shown = self.state.mcp.servers[i].redact(&e, self.state.presenter);
                self.state.toast(Level::Error, shown);
                Status::Failed(e)
            }
        };
        self.state.mcp.servers[i].status = status;
        self.sync_mcp_tools();
    }

    /// The tools of the servers on (and ready), less those turned off,
    /// become the conversation's functions under the toolbox's names.
    pub(in crate::tui) fn sync_mcp_tools(&mut self) {
        let mut toolbox = Toolbox::default();
        for row in &self.state.mcp.servers {
            let (true, Status::Ready(tools), Some(server)) =
                (row.on, &row.status, self.mcp.servers.get(&row.name))
            else {
                continue;
            };
            for tool in tools {
                if self.state.mcp.tool_on(&row.name, &tool.name) {
                    toolbox.add(server.clone(), tool.clone());
                }
            }
        }
        let defs = toolbox.defs();
        let old = std::mem::replace(&mut self.state.mcp.functions, toolbox.functions());
        let conv = &mut self.state.machine.conv;
        // Tools of servers off now go, those saved with a conversation included.
        conv.tools.retain(|t| {
            t.server.is_none()
                && !old.iter().any(|(f, _)| *f == t.name)
                && !defs.iter().any(|d| d.name == t.name)
        });
        conv.tools.extend(defs);
        self.mcp.toolbox = Arc::new(toolbox);
        self.effects(vec![Effect::Save]);
        self.count_due = Some(std::time::Instant::now());
    }

    /// Runs the decided calls together, in the order the model made them.
    pub(in crate::tui) fn run_tools(&mut self) {
        let mut decided = std::mem::take(&mut self.state.mcp.decided);
        if decided.is_empty() {
            return;
        }
        let order: Vec<String> = self
            .state
            .machine
            .conv
            .pending_calls()
            .into_iter()
            .map(|c| c.id)
            .collect();
        decided.sort_by_key(|(c, _)| order.iter().position(|id| *id == c.id));
        let step = self.state.mcp.agent.steps;
        for (call, _) in &decided {
            self.state.mcp.set(&call.id, step, CallState::Running);
        }
        let toolbox = self.mcp.toolbox.clone();
        let tx = self.tx.clone();
        self.mcp.task = Some(tokio::spawn(async move {
            let runs = run_calls(&toolbox, decided).await;
            let _ = tx.send(Msg::ToolRuns(runs));
        }));
    }

    /// The results go on the cards and to the model: the last one sent starts the next step.
    pub(in crate::tui) fn on_tool_runs(&mut self, runs: Vec<ToolRun>) {
        self.mcp.task = None;
        for run in runs {
            let Some((step, CallState::Running)) = self.state.mcp.state_of(&run.call_id) else {
                continue; // stopped meanwhile
            };
            self.state
                .mcp
                .set(&run.call_id, step, CallState::Done(run.clone()));
            self.mcp.runs.push((step, run.clone()));
            self.machine(run.input());
        }
        // The next step is a request like any other: the budgets are asked first.
        self.execute(vec![Command::ContinueChecked]);
    }

    /// Esc while tools run: they stop, and so does the loop.
    pub(in crate::tui) fn stop_tools(&mut self) {
        if let Some(task) = self.mcp.task.take() {
            task.abort();
        }
        let step = self.state.mcp.agent.steps;
        let running: Vec<String> = self
            .state
            .mcp
            .calls
            .iter()
            .filter(|(_, _, s)| matches!(s, CallState::Running))
            .map(|(id, _, _)| id.clone())
            .collect();
        // The servers of the stopped calls may be busy or hung: they start
        // afresh on their next use.
        let calls = self.state.machine.conv.pending_calls();
        for call in calls.iter().filter(|c| running.contains(&c.id)) {
            if let Some(server) = self
                .state
                .mcp
                .server_of(&call.name)
                .and_then(|name| self.mcp.servers.get(name))
            {
                tokio::spawn(async move { server.stop().await });
            }
        }
        for id in running {
            self.state.mcp.set(&id, step, CallState::Stopped);
        }
        let commands = crate::tui::overlays::tools::approve::stop(&mut self.state);
        self.execute(commands);
    }

    /// The loop ended: its model calls are numbered as the steps of one
    /// answer, with the tool runs between them (a single call that ran no
    /// tool is an answer like any other).
    pub(in crate::tui) fn record_steps(&mut self) {
        let ids = std::mem::take(&mut self.mcp.rows);
        let mut runs = std::mem::take(&mut self.mcp.runs);
        // And the tools OpenAI ran during those model calls (searches, remote MCP calls).
        let answers = turn_answers(&self.state.machine.conv, ids.len());
        runs.extend(crate::tools::agent::hosted_runs(
            &self.state.machine,
            &answers,
        ));
        if ids.len() > 1 || (!ids.is_empty() && !runs.is_empty()) {
            let runs = crate::tools::agent::ledger_rows(&runs);
            self.worker.send(Job::Steps { ids, runs });
        }
    }

    /// Another conversation: running tools stop, servers are off for it
    /// and nothing approved carries over (the servers keep running).
    pub(in crate::tui) fn leave_tools(&mut self) {
        if let Some(task) = self.mcp.task.take() {
            task.abort();
        }
        self.record_steps();
        self.mcp.toolbox = Arc::new(Toolbox::default());
        self.state.mcp.new_conversation();
        self.state
            .overlays
            .retain(|o| !matches!(o, crate::tui::core::state::Overlay::Approve));
    }

    /// A new user message: a new answer's steps.
    /// (A loop left unfinished, by an error say, is recorded as it stands.)
    pub(in crate::tui) fn new_turn(&mut self) {
        self.record_steps();
        self.state.mcp.agent.new_turn();
        self.state.mcp.step_limit = None;
    }
}

/// The last `n` answers of the turn that ends the conversation's branch
/// (its model calls since the user's message), first first.
fn turn_answers(
    conv: &crate::chat::conversation::Conversation,
    n: usize,
) -> Vec<crate::chat::conversation::NodeId> {
    use crate::chat::conversation::Role;
    let mut out = Vec::new();
    let mut at = Some(conv.last());
    while let Some(id) = at {
        match conv.nodes[id].role {
            Role::User | Role::Root => break,
            Role::Assistant => out.push(id),
            Role::Tool => {}
        }
        at = conv.nodes[id].parent;
    }
    out.truncate(n);
    out.reverse();
    out
}
