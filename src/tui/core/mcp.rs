//! What the console knows of the tools that run, as plain data: the MCP
//! servers configured (and how far each has started), which servers and
//! tools are on for this conversation, and the agent loop's state (the
//! domain's `Agent`: approvals and steps) with the calls waiting for an
//! answer, running, or done.

use std::collections::BTreeSet;

use crate::chat::tools::ToolCall;
use crate::tools::agent::{Agent, DEFAULT_MAX_STEPS, Decision, Policy, ToolRun};
use crate::tools::mcp::McpTool;

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Not started yet (servers start on first use).
    Idle,
    Starting,
    Ready(Vec<McpTool>),
    /// Why it could not start (with the tail of its stderr).
    Failed(String),
    /// A remote server OpenAI connects to (`hosted = true`): never started
    /// here; on, it joins the conversation's hosted tools (Responses API).
    /// With it, the server as view code writes it (`McpConfig::shown`: its
    /// secrets as environment variables).
    Hosted(crate::chat::tools::RemoteMcp),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerRow {
    pub name: String,
    /// The command line or the url: hidden in presenter mode.
    pub how: String,
    pub status: Status,
    /// On for this conversation.
    pub on: bool,
}

/// Where a call the model made stands in the console's loop.
impl ServerRow {
    /// `text` (a failure, say) as presenter mode may show it: the command,
    /// its arguments and the url replaced.
    pub fn redact(&self, text: &str, presenter: bool) -> String {
        if !presenter {
            return text.to_string();
        }
        let mut parts: Vec<&str> = self
            .how
            .split(|c: char| c.is_whitespace() || c == '…')
            .filter(|p| p.len() > 2)
            .collect();
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let mut out = text.to_string();
        for part in parts {
            out = out.replace(part, "●●●");
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallState {
    /// Waiting for the user's approval.
    Asking,
    /// Approved (or refused), waiting for the others of its answer.
    Decided,
    Running,
    Done(ToolRun),
    /// Stopped with Esc before it finished.
    Stopped,
}

#[derive(Debug, Clone)]
pub struct Mcp {
    pub servers: Vec<ServerRow>,
    /// (server, tool) turned off in this conversation.
    pub off_tools: BTreeSet<(String, String)>,
    /// The function names the servers' tools go by in this conversation's
    /// tools, each with its server.
    pub functions: Vec<(String, String)>,
    /// Approvals ("always" lives here, as long as the conversation) and steps.
    pub agent: Agent,
    /// Calls of the last answer still to approve, first one asked.
    pub asking: Vec<ToolCall>,
    /// Calls of the last answer decided, run together once none is asked.
    pub decided: Vec<(ToolCall, Decision)>,
    /// Each call of this conversation the loop handled, by call id, with the step.
    pub calls: Vec<(String, u32, CallState)>,
    /// The loop's step limit reached, with the calls the model still wanted.
    pub step_limit: Option<Vec<String>>,
}

impl Default for Mcp {
    fn default() -> Self {
        Self::new(Vec::new(), DEFAULT_MAX_STEPS)
    }
}

impl Mcp {
    pub fn new(servers: Vec<ServerRow>, max_steps: u32) -> Self {
        Self {
            servers,
            off_tools: BTreeSet::new(),
            functions: Vec::new(),
            agent: Agent::new(Policy::Ask, max_steps),
            asking: Vec::new(),
            decided: Vec::new(),
            calls: Vec::new(),
            step_limit: None,
        }
    }

    /// A new conversation: servers stay as they are (running or not) but are
    /// off, every tool on again, and nothing approved carries over.
    pub fn new_conversation(&mut self) {
        let max = self.agent.max_steps;
        let servers = std::mem::take(&mut self.servers)
            .into_iter()
            .map(|s| ServerRow { on: false, ..s })
            .collect();
        *self = Self::new(servers, max);
    }

    /// The remote MCP servers as view code writes them, by name.
    pub fn shown_remote(
        &self,
    ) -> std::collections::BTreeMap<String, crate::chat::tools::RemoteMcp> {
        self.servers
            .iter()
            .filter_map(|s| match &s.status {
                Status::Hosted(shown) => Some((s.name.clone(), shown.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn state_of(&self, call_id: &str) -> Option<(u32, &CallState)> {
        self.calls
            .iter()
            .find(|(id, _, _)| id == call_id)
            .map(|(_, step, s)| (*step, s))
    }

    pub fn set(&mut self, call_id: &str, step: u32, state: CallState) {
        match self.calls.iter_mut().find(|(id, _, _)| id == call_id) {
            Some(entry) => {
                entry.1 = step;
                entry.2 = state;
            }
            None => self.calls.push((call_id.to_string(), step, state)),
        }
    }

    /// Whether the loop is handling any of `calls` (asking, waiting or
    /// running): then no result is to be typed for them.
    pub fn handling(&self, calls: &[ToolCall]) -> bool {
        calls.iter().any(|c| {
            self.state_of(&c.id).is_some_and(|(_, s)| {
                matches!(
                    s,
                    CallState::Asking | CallState::Decided | CallState::Running
                )
            })
        })
    }

    /// Whether tools are running now.
    pub fn running(&self) -> bool {
        self.calls
            .iter()
            .any(|(_, _, s)| matches!(s, CallState::Running))
    }

    /// The tool runs of this conversation (for the ledger), with their step.
    pub fn runs(&self) -> Vec<(u32, ToolRun)> {
        self.calls
            .iter()
            .filter_map(|(_, step, s)| match s {
                CallState::Done(run) => Some((*step, run.clone())),
                _ => None,
            })
            .collect()
    }

    /// The server behind `call`: a remote one's label, else the server that
    /// provides its function.
    pub fn server_of_call<'a>(&'a self, call: &'a ToolCall) -> Option<&'a str> {
        call.server
            .as_deref()
            .or_else(|| self.server_of(&call.name))
    }

    /// The server that provides the function `name`, if one does.
    pub fn server_of(&self, name: &str) -> Option<&str> {
        self.functions
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, s)| s.as_str())
    }

    /// Whether the tool `tool` of server `server` is on.
    pub fn tool_on(&self, server: &str, tool: &str) -> bool {
        !self
            .off_tools
            .contains(&(server.to_string(), tool.to_string()))
    }
}
