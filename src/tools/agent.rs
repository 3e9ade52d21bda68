//! The agent loop's decisions, with no I/O: after each answer, whether the
//! conversation is done, needs results typed by hand, hit its step limit, or
//! has calls to approve and run; and approval, remembered for the conversation
//! only ("always" lives in this value, which lives as long as the conversation
//! is open). The executor (`run_calls`) runs the approved calls together.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::toolbox::Toolbox;
use crate::chat::tools::ToolCall;

pub const DEFAULT_MAX_STEPS: u32 = 10;

/// How calls are approved: asked each time, always run, or never run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Ask,
    Always,
    Never,
}

impl Policy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ask" => Some(Self::Ask),
            "always" => Some(Self::Always),
            "never" => Some(Self::Never),
            _ => None,
        }
    }
}

/// The user's answer to "run this call?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Once,
    /// This tool, for the rest of the conversation.
    Always,
    /// Not run; the reason goes back to the model.
    Refuse(String),
}

/// What happens to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    Refuse(String),
    /// The user must be asked.
    Ask,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The model answered without calls.
    Done,
    /// Calls no server provides: their results come from the user.
    Manual(Vec<ToolCall>),
    /// The model still wants tools but the step limit is reached.
    StepLimit(Vec<ToolCall>),
    /// Calls to approve and run.
    Run(Vec<ToolCall>),
}

/// What the model was told when a call is refused with no reason given.
pub const REFUSED: &str = "the user refused to run this tool";

#[derive(Debug, Clone)]
pub struct Agent {
    pub policy: Policy,
    pub max_steps: u32,
    /// Model calls made so far in this answer.
    pub steps: u32,
    always: HashSet<String>,
}

impl Agent {
    pub fn new(policy: Policy, max_steps: u32) -> Self {
        Self {
            policy,
            max_steps: max_steps.max(1),
            steps: 0,
            always: HashSet::new(),
        }
    }

    /// A new user message: the step count starts again (approvals stay).
    pub fn new_turn(&mut self) {
        self.steps = 0;
    }

    /// After one model call ended with `pending` calls unanswered.
    pub fn after_answer(&mut self, pending: Vec<ToolCall>, runs: &dyn Fn(&str) -> bool) -> Next {
        self.steps += 1;
        // A remote MCP server's call runs on OpenAI's side once approved.
        if pending.is_empty() {
            Next::Done
        } else if !pending.iter().all(|c| c.server.is_some() || runs(&c.name)) {
            Next::Manual(pending)
        } else if self.steps >= self.max_steps {
            Next::StepLimit(pending)
        } else {
            Next::Run(pending)
        }
    }

    pub fn decide(&self, call: &ToolCall) -> Decision {
        match self.policy {
            Policy::Always => Decision::Run,
            Policy::Never => Decision::Refuse(format!("{REFUSED} (tool runs are turned off)")),
            Policy::Ask if self.always.contains(&key(call)) => Decision::Run,
            Policy::Ask => Decision::Ask,
        }
    }

    /// Records the user's answer for `call`; what to do with it.
    pub fn answer(&mut self, call: &ToolCall, answer: Answer) -> Decision {
        match answer {
            Answer::Once => Decision::Run,
            Answer::Always => {
                self.always.insert(key(call));
                Decision::Run
            }
            Answer::Refuse(reason) if reason.trim().is_empty() => Decision::Refuse(REFUSED.into()),
            Answer::Refuse(reason) => Decision::Refuse(format!("{REFUSED}: {}", reason.trim())),
        }
    }
}

/// What "always" remembers a call by: its function, or a remote server's tool.
fn key(call: &ToolCall) -> String {
    match &call.server {
        Some(server) => format!("{server}\u{0}{}", call.name),
        None => call.name.clone(),
    }
}

/// One call carried out (or refused), for the output and the ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolRun {
    pub call_id: String,
    pub tool: String,
    /// The server that ran it (`None`: refused before reaching one).
    pub server: Option<String>,
    pub arguments: String,
    /// What was sent back to the model.
    pub result: String,
    /// ok, error (the tool or its server failed) or refused.
    pub outcome: &'static str,
    pub duration_ms: u64,
    /// A hosted tool's fee (`None`: a local tool, or a fee the price source lacks).
    pub cost_micros: Option<i64>,
    /// A remote MCP server's call: approved or not (OpenAI runs it once approved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    /// Images the tool gave, sent to the model as attachments (shown by their
    /// summary, never as base64).
    #[serde(
        rename = "attachments",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "summaries"
    )]
    pub images: Vec<crate::chat::attachment::Attachment>,
}

fn summaries<S: serde::Serializer>(
    list: &[crate::chat::attachment::Attachment],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(|a| a.summary()))
}

impl ToolRun {
    /// The run as the machine takes it: the result, its images, and for a
    /// remote MCP server's call, the approval.
    pub fn input(&self) -> crate::chat::machine::Input {
        crate::chat::machine::Input::ToolRan {
            call_id: self.call_id.clone(),
            output: self.result.clone(),
            images: self.images.clone(),
            approved: self.approved,
        }
    }
}

/// What a remote MCP call's card and the model are told when it is approved.
pub const APPROVED: &str = "approved: OpenAI runs it on the remote MCP server";

/// Runs the approved calls together (a model asking for several calls in one
/// answer asked for them in parallel) and gives one result per call, in order.
pub async fn run_calls(toolbox: &Toolbox, calls: Vec<(ToolCall, Decision)>) -> Vec<ToolRun> {
    let runs = calls.into_iter().map(|(call, decision)| async move {
        let refused = |reason: String| ToolRun {
            call_id: call.id.clone(),
            tool: call.name.clone(),
            server: call.server.clone(),
            arguments: call.arguments.clone(),
            result: reason,
            outcome: "refused",
            duration_ms: 0,
            cost_micros: None,
            approved: call.server.as_ref().map(|_| false),
            images: Vec::new(),
        };
        match decision {
            // OpenAI runs a remote server's call: approving it is all there is to do here.
            Decision::Run if call.server.is_some() => ToolRun {
                result: APPROVED.into(),
                outcome: "approved",
                approved: Some(true),
                ..refused(String::new())
            },
            Decision::Refuse(reason) => refused(reason),
            Decision::Ask => refused(REFUSED.into()),
            Decision::Run => match toolbox.find(&call.name) {
                None => refused(format!("no server provides {}", call.name)),
                Some((server, name)) => {
                    let out = server.call(&name, &call.arguments).await;
                    ToolRun {
                        call_id: call.id.clone(),
                        tool: call.name.clone(),
                        server: Some(server.name.clone()),
                        arguments: call.arguments.clone(),
                        result: out.text,
                        outcome: if out.is_error { "error" } else { "ok" },
                        duration_ms: millis(out.duration),
                        cost_micros: None,
                        approved: None,
                        images: out.images,
                    }
                }
            },
        }
    });
    futures_util::future::join_all(runs).await
}

/// Tool runs as the ledger keeps them (`usage::steps`), each with its step.
/// An approved remote call is not one: the `mcp_call` OpenAI reports is.
pub fn ledger_rows(runs: &[(u32, ToolRun)]) -> Vec<crate::usage::steps::ToolRunRow> {
    runs.iter()
        .filter(|(_, r)| r.approved != Some(true))
        .map(|(step, r)| crate::usage::steps::ToolRunRow {
            ts: chrono::Utc::now(),
            step: *step,
            server: r.server.clone(),
            tool: r.tool.clone(),
            duration_ms: r.duration_ms,
            outcome: r.outcome.to_string(),
            cost_micros: r.cost_micros,
        })
        .collect()
}

/// The hosted tool calls of `answers` (one step each) as tool runs for the
/// ledger: run by OpenAI, so no duration of ours; a completed web or file search
/// costs its per-call fee from the price catalog (code interpreter sessions:
/// the source has no fee, so unpriced).
pub fn hosted_runs(
    machine: &crate::chat::machine::Machine,
    answers: &[usize],
) -> Vec<(u32, ToolRun)> {
    let conv = &machine.conv;
    let mut out = Vec::new();
    for (i, id) in answers.iter().enumerate() {
        let model = conv.nodes[*id]
            .meta
            .as_ref()
            .and_then(|m| m.model.clone())
            .unwrap_or_else(|| conv.model.clone());
        for call in &conv.nodes[*id].hosted {
            if call.is_remote() {
                // A remote MCP call, run by OpenAI (no fee); a failed listing is no run.
                if call.tool == "mcp" {
                    out.push((i as u32 + 1, remote_run(call)));
                }
                continue;
            }
            let what = match call.code.is_empty() {
                true => call.queries.join("; "),
                false => call.code.clone(),
            };
            out.push((
                i as u32 + 1,
                ToolRun {
                    call_id: call.id.clone(),
                    tool: call.tool.clone(),
                    server: Some("openai".into()),
                    arguments: what,
                    result: call.results.join("\n"),
                    outcome: match call.status.as_str() {
                        "completed" => "ok",
                        "failed" => "error",
                        _ => "incomplete",
                    },
                    duration_ms: 0,
                    cost_micros: (call.status == "completed")
                        .then(|| machine.tool_fee(&model, &call.tool))
                        .flatten(),
                    approved: None,
                    images: Vec::new(),
                },
            ));
        }
    }
    out
}

/// A remote MCP call OpenAI ran, as a tool run of its server.
fn remote_run(call: &crate::chat::tools::HostedCall) -> ToolRun {
    let failed = !call.error.is_empty() || call.status == "failed";
    ToolRun {
        call_id: call.id.clone(),
        tool: call.name.clone(),
        server: Some(call.server.clone()),
        arguments: call.arguments.clone(),
        result: match failed {
            true => call.error.clone(),
            false => call.output.clone(),
        },
        outcome: match (failed, call.status.as_str()) {
            (true, _) => "error",
            (false, "completed") => "ok",
            _ => "incomplete",
        },
        duration_ms: 0,
        cost_micros: None,
        approved: None,
        images: Vec::new(),
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str) -> ToolCall {
        ToolCall {
            id: format!("id_{name}"),
            name: name.into(),
            arguments: "{}".into(),
            server: None,
        }
    }

    #[test]
    fn always_is_remembered_for_this_conversation_and_this_tool_only() {
        let mut agent = Agent::new(Policy::Ask, 10);
        assert_eq!(agent.decide(&call("time")), Decision::Ask);
        assert_eq!(agent.answer(&call("time"), Answer::Always), Decision::Run);
        assert_eq!(agent.decide(&call("time")), Decision::Run);
        assert_eq!(agent.decide(&call("echo")), Decision::Ask);
        agent.answer(&call("echo"), Answer::Once);
        assert_eq!(agent.decide(&call("echo")), Decision::Ask, "once is once");
        // Another conversation starts with a new agent: nothing carried over.
        assert_eq!(
            Agent::new(Policy::Ask, 10).decide(&call("time")),
            Decision::Ask
        );
    }

    #[test]
    fn always_for_a_remote_servers_tool_is_that_servers_only() {
        let mut agent = Agent::new(Policy::Ask, 10);
        let remote = ToolCall {
            server: Some("docs".into()),
            ..call("search")
        };
        agent.answer(&remote, Answer::Always);
        assert_eq!(agent.decide(&remote), Decision::Run);
        assert_eq!(
            agent.decide(&call("search")),
            Decision::Ask,
            "a local tool of that name"
        );
        let other = ToolCall {
            server: Some("wiki".into()),
            ..call("search")
        };
        assert_eq!(agent.decide(&other), Decision::Ask, "another server's tool");
        // A remote call needs no local server to be run (OpenAI runs it).
        assert_eq!(
            agent.after_answer(vec![remote.clone()], &|_| false),
            Next::Run(vec![remote])
        );
    }

    #[test]
    fn a_refusal_carries_its_reason_to_the_model() {
        let mut agent = Agent::new(Policy::Ask, 10);
        let d = agent.answer(&call("rm"), Answer::Refuse(" not on a Friday\n".into()));
        assert_eq!(d, Decision::Refuse(format!("{REFUSED}: not on a Friday")));
        let d = agent.answer(&call("rm"), Answer::Refuse("".into()));
        assert_eq!(d, Decision::Refuse(REFUSED.into()));
        let never = Agent::new(Policy::Never, 10);
        assert!(matches!(never.decide(&call("rm")), Decision::Refuse(r) if r.starts_with(REFUSED)));
        assert_eq!(
            Agent::new(Policy::Always, 10).decide(&call("rm")),
            Decision::Run
        );
    }

    #[test]
    fn the_loop_ends_on_an_answer_without_calls_at_the_step_limit_or_for_hand_typed_results() {
        let runs = |name: &str| name != "manual";
        let mut agent = Agent::new(Policy::Always, 3);
        assert_eq!(
            agent.after_answer(vec![call("a")], &runs),
            Next::Run(vec![call("a")])
        );
        assert_eq!(
            agent.after_answer(vec![call("a")], &runs),
            Next::Run(vec![call("a")])
        );
        assert_eq!(
            agent.after_answer(vec![call("a")], &runs),
            Next::StepLimit(vec![call("a")]),
            "the third model call is the last"
        );
        agent.new_turn();
        assert_eq!(agent.after_answer(vec![], &runs), Next::Done);
        let mixed = vec![call("a"), call("manual")];
        assert_eq!(
            agent.after_answer(mixed.clone(), &runs),
            Next::Manual(mixed)
        );
    }
}
