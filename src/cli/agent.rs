//! `llmdeck chat --mcp NAME`: the agent loop on the command line. After each
//! answer the calls it made are approved (asked on the terminal, or by
//! `--approve`), run together, and their results sent back, until the model
//! answers without calls or the step limit is reached. Tool output is
//! untrusted: every line of it printed here is inert.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

use chrono::Utc;

use super::out::rawln;
use crate::chat::conversation::{AnswerStatus, Conversation};
use crate::chat::machine::{Effect, Input, Machine};
use crate::chat::tools::ToolCall;
use crate::context::Context;
use crate::provider::Provider;
use crate::tools::agent::{Agent, Answer, Decision, Next, Policy, ToolRun, run_calls};
use crate::tools::toolbox::Toolbox;
use crate::usage::LedgerRow;

/// How the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A final answer, or an answer that did not finish (its status says).
    Answered,
    /// Calls no server provides: the user continues with `--tool-result`.
    Manual,
    /// The model still wanted tools at the step limit.
    StepLimit(Vec<String>),
    /// The next step's request was over a budget (and not allowed): why.
    OverBudget(String),
}

pub struct Outcome {
    pub rows: Vec<LedgerRow>,
    pub runs: Vec<(u32, ToolRun)>,
    pub end: End,
}

/// Refuses `--approve ask` without a terminal to ask on.
pub fn check_policy(approve: &str) -> Result<Policy, String> {
    let policy = Policy::parse(approve).ok_or("--approve: expected ask, always or never")?;
    if policy == Policy::Ask && !std::io::stdin().is_terminal() {
        return Err(
            "--approve ask reads y/n on a terminal, and standard input is not one: pass --approve always or --approve never"
                .into(),
        );
    }
    Ok(policy)
}

/// What the loop runs with: the tools, its approvals and steps, and the
/// budgets' gate every step passes.
pub struct Loop<'a> {
    pub toolbox: &'a Toolbox,
    pub agent: &'a mut Agent,
    pub gate: &'a mut crate::usage::gate::Gate,
}

pub async fn run(
    ctx: &Context,
    provider: Provider,
    machine: &mut Machine,
    first: Vec<Effect>,
    print: &mut dyn FnMut(&str),
    Loop {
        toolbox,
        agent,
        gate,
    }: Loop<'_>,
) -> Outcome {
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    let mut effects = first;
    let end = loop {
        let step_rows =
            crate::runner::stream_all(ctx, provider.clone(), machine, effects, print).await;
        // What this step cost counts against the next step's budget check.
        gate.add(step_rows.iter().filter_map(|r| r.cost_micros).sum());
        rows.extend(step_rows);
        let last = machine.conv.last();
        let done = machine.conv.nodes[last]
            .meta
            .as_ref()
            .is_some_and(|m| m.status == AnswerStatus::Done);
        if !done {
            break End::Answered;
        }
        let pending = machine.conv.pending_calls();
        let calls = match agent.after_answer(pending, &|name| toolbox.find(name).is_some()) {
            Next::Done => break End::Answered,
            Next::Manual(_) => break End::Manual,
            Next::StepLimit(calls) => {
                break End::StepLimit(calls.into_iter().map(|c| c.name).collect());
            }
            Next::Run(calls) => calls,
        };
        let step = agent.steps;
        let mut decided = Vec::new();
        for call in calls {
            let decision = match agent.decide(&call) {
                Decision::Ask => {
                    let answer = ask(&call);
                    agent.answer(&call, answer)
                }
                d => d,
            };
            decided.push((call, decision));
        }
        let done_runs = run_calls(toolbox, decided).await;
        for run in done_runs {
            show(&run);
            machine.handle(run.input(), Instant::now(), Utc::now());
            runs.push((step, run));
        }
        // Each step is a request of its own: the budgets are checked before it goes.
        let estimate = crate::usage::gate::next_step_estimate(machine);
        if let Err(why) = super::budget::confirm(gate, estimate) {
            break End::OverBudget(why);
        }
        effects = machine.handle(Input::Continue, Instant::now(), Utc::now());
        if !machine.is_streaming() {
            break End::Answered;
        }
    };
    Outcome { rows, runs, end }
}

/// One line per run on stderr, the result's first lines with it: all inert.
fn show(run: &ToolRun) {
    let inert = |t: &str| crate::inert::inert(&crate::log::scrub(t)).into_owned();
    let mut lines = run.result.lines();
    let head: Vec<&str> = lines.by_ref().take(8).collect();
    let more = lines.count();
    let mut text = match (&run.server, run.approved) {
        (Some(server), Some(_)) => format!(
            "→ {}({}) on remote MCP server {} {}\n",
            inert(&run.tool),
            inert(&run.arguments),
            inert(server),
            run.outcome,
        ),
        _ => format!(
            "→ {}({}) {} in {} ms\n",
            inert(&run.tool),
            inert(&run.arguments),
            run.outcome,
            run.duration_ms
        ),
    };
    for line in head {
        text.push_str(&format!("  {}\n", inert(line)));
    }
    // Images are attachments: their type, size and name, never their bytes.
    for image in &run.images {
        text.push_str(&format!("  ⊕ {}\n", inert(&image.summary())));
    }
    if more > 0 {
        text.push_str(&format!("  … {more} more lines\n"));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Asks on the terminal whether to run `call`.
fn ask(call: &ToolCall) -> Answer {
    let inert = |t: &str| crate::inert::inert(&crate::log::scrub(t)).into_owned();
    let mut err = std::io::stderr();
    let on = match &call.server {
        Some(server) => format!(" on remote MCP server {} (OpenAI runs it)", inert(server)),
        None => String::new(),
    };
    let _ = write!(
        err,
        "Run {}({}){on}? [y]es once, [a]lways for this tool, [n]o: ",
        inert(&call.name),
        inert(&call.arguments)
    );
    let _ = err.flush();
    let mut line = String::new();
    let stdin = std::io::stdin();
    let _ = stdin.lock().read_line(&mut line);
    match line.trim().to_lowercase().as_str() {
        "y" | "yes" => Answer::Once,
        "a" | "always" => Answer::Always,
        _ => {
            let _ = write!(err, "Reason for the model (Enter for none): ");
            let _ = err.flush();
            let mut reason = String::new();
            let _ = stdin.lock().read_line(&mut reason);
            Answer::Refuse(reason)
        }
    }
}

/// `--json`'s `steps`: one per model call, numbered from 1, with its usage,
/// cost and time, the tool runs it asked for (tool, arguments, result,
/// outcome, duration) and the hosted tools OpenAI ran during it.
pub fn steps_json(
    conv: &Conversation,
    answers: &[(usize, crate::chat::conversation::AnswerMeta)],
    runs: &[(u32, ToolRun)],
) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = answers
        .iter()
        .enumerate()
        .map(|(i, (id, meta))| {
            let n = i as u32 + 1;
            let tools: Vec<&ToolRun> = runs
                .iter()
                .filter(|(s, _)| *s == n)
                .map(|(_, r)| r)
                .collect();
            serde_json::json!({
                "step": n,
                "model": meta.model,
                "status": format!("{:?}", meta.status).to_lowercase(),
                "usage": meta.usage,
                "cost_micros": meta.cost_micros,
                "duration_ms": meta.duration_ms,
                "tool_runs": tools,
                "hosted_calls": conv.nodes[*id].hosted,
            })
        })
        .collect();
    serde_json::Value::Array(steps)
}

/// A remote MCP call's card: server, tool and arguments, then its output
/// (or error), each line inert.
fn print_remote(call: &crate::chat::tools::HostedCall) {
    let inert = |t: &str| crate::inert::inert(&crate::log::scrub(t)).into_owned();
    if call.tool == "mcp_list_tools" {
        rawln!(
            "[mcp {}] {} could not list its tools: {}",
            inert(&call.status),
            inert(&call.server),
            inert(&call.error)
        );
        return;
    }
    rawln!(
        "[mcp {}] {}.{}({})",
        inert(&call.status),
        inert(&call.server),
        inert(&call.name),
        inert(&call.arguments)
    );
    let (label, text) = match call.error.is_empty() {
        true => ("", &call.output),
        false => ("error: ", &call.error),
    };
    let mut lines = text.lines();
    for line in lines.by_ref().take(12) {
        rawln!("    {label}{}", inert(line));
    }
    let more = lines.count();
    if more > 0 {
        rawln!("    … {more} more lines");
    }
}

/// Under the answer: each hosted call with its queries or code, then the
/// sources and outputs numbered. Server text: always inert.
pub fn print_hosted(conv: &Conversation, answers: &[usize]) {
    let inert = |t: &str| crate::inert::inert(&crate::log::scrub(t)).into_owned();
    let mut n = 0;
    for id in answers {
        for call in &conv.nodes[*id].hosted {
            if call.is_remote() {
                print_remote(call);
                continue;
            }
            let mut line = format!("[{} {}]", inert(&call.tool), inert(&call.status));
            for q in &call.queries {
                line.push_str(&format!(" \"{}\"", inert(q)));
            }
            rawln!("{line}");
            for code_line in call.code.lines() {
                rawln!("    {}", inert(code_line));
            }
            for r in &call.results {
                n += 1;
                rawln!("  {n}. {}", inert(r));
            }
        }
    }
}

/// Numbers the answer's model calls in the ledger and records its tool runs
/// (a ledger that cannot be written is a warning, as for the rows themselves).
pub fn record_steps(ctx: &Context, rows: &[LedgerRow], runs: &[(u32, ToolRun)]) -> Option<String> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let runs = crate::tools::agent::ledger_rows(runs);
    let recorded = ctx.ledger().and_then(|mut l| {
        crate::usage::steps::record(&mut l, &ids, &runs).map_err(|e| e.to_string())
    });
    match recorded {
        Ok(answer) => answer,
        Err(e) => {
            crate::cli::out::errln!("llmdeck: warning: {e}");
            None
        }
    }
}
