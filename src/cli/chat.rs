//! `llmdeck chat`: one prompt through the same state machine as the console,
//! streamed to stdout, or sent to several models at once (`--model` repeated)
//! and printed side by side. Every call lands in the ledger.

use std::io::{IsTerminal, Read, Write};
use std::time::Instant;

use chrono::Utc;

use super::args::ChatArgs;
use super::out::{errln, outln};
use crate::chat::conversation::{AnswerMeta, AnswerStatus, Conversation, NodeId, Role};
use crate::chat::event::FinishReason;
use crate::chat::machine::Input;
use crate::chat::params::ResponseFormat;
use crate::context::Context;
use crate::usage::format_usd;

fn read_prompt(args: &ChatArgs) -> Result<String, String> {
    let prompt = match &args.prompt {
        Some(p) => p.clone(),
        None => {
            if std::io::stdin().is_terminal() {
                return Err("give a prompt, or pipe one on standard input".into());
            }
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            s
        }
    };
    if prompt.trim().is_empty() {
        return Err("the prompt is empty".into());
    }
    Ok(prompt)
}

pub fn run(ctx: &Context, args: ChatArgs, models: &[String]) -> Result<(), String> {
    // Function results are the next message: no prompt is read then.
    let prompt = match args.tool_result.is_empty() && args.library_prompt.is_none() {
        true => Some(read_prompt(&args)?),
        false => args.prompt.clone(),
    };
    if models.len() > crate::chat::compare::MAX_TARGETS {
        return Err(format!(
            "compare at most {} models at once",
            crate::chat::compare::MAX_TARGETS
        ));
    }
    let provider = ctx.provider(&ctx.profile, 0)?;
    let mut setup = super::chat_setup::setup(ctx, &args, prompt, models)?;
    let rt = super::runtime()?;
    // Tools that run: their servers start now (first use) and their tools join the request.
    let mut tools_run = None;
    if !args.mcp.is_empty() {
        if models.len() > 1 {
            return Err("--mcp runs one model at a time: give one --model".into());
        }
        let policy = super::agent::check_policy(&args.approve)?;
        // A server OpenAI connects to (hosted = true) joins the request as a
        // Responses `mcp` tool; llmdeck starts the others itself.
        let (remote, local): (Vec<String>, Vec<String>) = args
            .mcp
            .iter()
            .cloned()
            .partition(|n| ctx.settings.mcp.get(n).is_some_and(|c| c.hosted));
        for name in remote {
            ctx.settings.mcp[&name].check(&name)?;
            let tool = crate::chat::tools::HostedTool::Mcp { server: name };
            let params = &mut setup.conv.params;
            if !params.hosted.contains(&tool) {
                params.hosted.push(tool);
            }
            params.api = Some(crate::chat::params::Api::Responses);
        }
        let servers = crate::tools::mcp::Servers::new(&ctx.settings.mcp);
        let toolbox = rt.block_on(crate::tools::toolbox::Toolbox::load(&servers, &local))?;
        for def in toolbox.defs() {
            setup.conv.tools.retain(|t| t.name != def.name);
            setup.conv.tools.push(def);
        }
        let agent = crate::tools::agent::Agent::new(policy, args.max_steps);
        tools_run = Some((servers, toolbox, agent));
    }
    // Held to the end of the run, past the save.
    let _lock = setup.lock.take();
    let mut machine = ctx.machine(setup.conv, &ctx.profile, "cli");
    let comparing = models.len() > 1;
    let before = machine.conv.nodes.len();
    let mut first = Vec::new();
    for input in setup.inputs {
        let input = match input {
            Input::Send(text) if comparing => Input::Compare {
                text,
                targets: ctx.compare_targets(models, &machine.conv.params)?,
            },
            other => other,
        };
        first.extend(machine.handle(input, Instant::now(), Utc::now()));
    }
    if !machine.is_streaming() {
        return Err(machine
            .notice
            .take()
            .unwrap_or_else(|| "nothing to send".into()));
    }
    let mut gate = super::budget::open(ctx);
    let estimate = first
        .iter()
        .filter_map(|e| match e {
            crate::chat::machine::Effect::Start { request, .. } => {
                Some(crate::usage::gate::estimate(&machine, request))
            }
            _ => None,
        })
        .sum();
    super::budget::confirm(&mut gate, estimate)?;
    let live = !comparing && !args.json;
    let sanitize = std::io::stdout().is_terminal() && !args.raw;
    let mut print = |t: &str| {
        if live {
            let text = super::out::shown(t, sanitize);
            let mut out = std::io::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    };
    let mut looped = None;
    let rows = match &mut tools_run {
        Some((_servers, toolbox, agent)) => {
            let run = super::agent::run(
                ctx,
                provider,
                &mut machine,
                first,
                &mut print,
                super::agent::Loop {
                    toolbox,
                    agent,
                    gate: &mut gate,
                },
            );
            let outcome = rt.block_on(run);
            looped = Some((outcome.runs, outcome.end));
            outcome.rows
        }
        None => rt.block_on(crate::runner::stream_all(
            ctx,
            provider,
            &mut machine,
            first,
            &mut print,
        )),
    };
    crate::runner::record(ctx, &rows);
    let answer_nodes: Vec<NodeId> = (before..machine.conv.nodes.len())
        .filter(|id| machine.conv.nodes[*id].role == Role::Assistant)
        .collect();
    // Every tool run of the answer: the local tools the loop ran, then the hosted ones.
    let mut all_runs = looped
        .as_ref()
        .map(|(runs, _)| runs.clone())
        .unwrap_or_default();
    all_runs.extend(crate::tools::agent::hosted_runs(&machine, &answer_nodes));
    let answer_id = match &looped {
        Some(_) => super::agent::record_steps(ctx, &rows, &all_runs),
        None if !all_runs.is_empty() && !comparing => {
            super::agent::record_steps(ctx, &rows, &all_runs)
        }
        None => None,
    };
    // What the answer cost in all: its model calls and the hosted tools' fees.
    let fees: i64 = all_runs.iter().filter_map(|(_, r)| r.cost_micros).sum();
    // The servers stop (inside the runtime, which their clean-up needs) before anything is printed.
    rt.block_on(async move { drop(tools_run) });
    drop(rt);

    let conv = &machine.conv;
    let answers: Vec<NodeId> = (before..conv.nodes.len())
        .filter(|id| conv.nodes[*id].role == Role::Assistant)
        .collect();
    let called = answers
        .iter()
        .any(|id| !conv.nodes[*id].tool_calls.is_empty());
    if setup.continued || called {
        ctx.store()
            .save(conv)
            .map_err(|e| format!("cannot save the conversation: {e}"))?;
    }
    let metas: Vec<(NodeId, AnswerMeta)> = answers
        .iter()
        .map(|id| {
            (
                *id,
                conv.nodes[*id].meta.as_deref().cloned().unwrap_or_default(),
            )
        })
        .collect();
    if args.json {
        let objects: Vec<serde_json::Value> = metas
            .iter()
            .map(|(id, meta)| answer_json(ctx, conv, *id, meta))
            .collect();
        if comparing {
            super::out::say_json(&serde_json::json!({ "answers": objects }), false);
        } else if looped.is_some() || !all_runs.is_empty() {
            let mut last = objects.last().cloned().unwrap_or_default();
            last["steps"] = super::agent::steps_json(conv, &metas, &all_runs);
            last["answer_id"] = serde_json::json!(answer_id);
            let tokens: i64 = metas.iter().filter_map(|(_, m)| m.cost_micros).sum();
            last["total_cost_micros"] = serde_json::json!(tokens + fees);
            super::out::say_json(&last, false);
        } else {
            super::out::say_json(&objects[0], false);
        }
    } else if comparing {
        // Model names, answers and finish reasons all come from the servers.
        for (id, meta) in &metas {
            let target = meta.target.as_deref().or(meta.model.as_deref());
            let text = conv.nodes[*id].content.trim_end();
            let block = format!(
                "## {}\n\n{text}\n\n_{}_\n",
                target.unwrap_or("?"),
                summary(meta)
            );
            super::out::line(&super::out::shown(&block, sanitize));
        }
    } else if let Some((id, _)) = metas.last() {
        let node = &conv.nodes[*id];
        if !node.content.ends_with('\n') && !node.content.is_empty() {
            outln!();
        }
        super::agent::print_hosted(conv, &answers);
        for call in &node.tool_calls {
            let args =
                crate::chat::schema::pretty(&call.arguments).unwrap_or(call.arguments.clone());
            let line = format!("→ {} [{}] {args}", call.name, call.id);
            super::out::line(&super::out::shown(&line, sanitize));
            if let Some(v) = call.check(&conv.tools).filter(|v| !v.is_valid()) {
                errln!("llmdeck: warning: arguments of {}: {}", call.id, v.label());
            }
        }
        if !node.tool_calls.is_empty() {
            let ids: Vec<String> = node
                .tool_calls
                .iter()
                .map(|c| format!("--tool-result {}=...", c.id))
                .collect();
            errln!(
                "llmdeck: the model called {} function(s); continue with: llmdeck chat --continue {} {}",
                node.tool_calls.len(),
                conv.id,
                ids.join(" ")
            );
        }
    }
    let mut failed: Vec<String> = Vec::new();
    if let ResponseFormat::JsonSchema { schema, .. } = &conv.params.response_format {
        for (id, meta) in &metas {
            let verdict = crate::chat::schema::check(schema, &conv.nodes[*id].content);
            if meta.status == AnswerStatus::Done && !verdict.is_valid() {
                failed.push(format!("the answer is not valid: {}", verdict.label()));
            }
        }
    }
    failed.extend(
        metas
            .iter()
            .filter(|(_, m)| m.status != AnswerStatus::Done)
            .map(|(_, m)| {
                let why = m
                    .error
                    .clone()
                    .unwrap_or_else(|| "the answer did not finish".into());
                if comparing {
                    format!("{}: {why}", m.model.as_deref().unwrap_or("?"))
                } else {
                    why
                }
            }),
    );
    match &looped {
        Some((_, super::agent::End::StepLimit(wanted))) => failed.push(format!(
            "the step limit ({}) was reached; the model still wanted to call {} (raise it with --max-steps)",
            args.max_steps,
            wanted.join(", ")
        )),
        Some((_, super::agent::End::OverBudget(why))) => failed.push(format!(
            "the loop stopped before its next step: {why} (the tool results are saved in the conversation)"
        )),
        _ => {}
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

fn finish_name(f: &FinishReason) -> String {
    match f {
        FinishReason::Other(s) => s.clone(),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
    }
}

fn answer_json(
    ctx: &Context,
    conv: &Conversation,
    id: NodeId,
    meta: &AnswerMeta,
) -> serde_json::Value {
    let node = &conv.nodes[id];
    let schema = match &conv.params.response_format {
        ResponseFormat::JsonSchema { schema, .. } => {
            let v = crate::chat::schema::check(schema, &node.content);
            serde_json::json!({"valid": v.is_valid(), "error": (!v.is_valid()).then(|| v.label())})
        }
        _ => serde_json::Value::Null,
    };
    let calls: Vec<serde_json::Value> = node
        .tool_calls
        .iter()
        .map(|c| {
            let problem = c.check(&conv.tools).filter(|v| !v.is_valid()).map(|v| v.label());
            serde_json::json!({"id": c.id, "name": c.name, "arguments": c.arguments, "invalid": problem})
        })
        .collect();
    serde_json::json!({
        "text": node.content,
        "conversation_id": conv.id,
        "tool_calls": calls,
        "hosted_calls": node.hosted,
        "schema": schema,
        "reasoning": meta.reasoning,
        "model": meta.model.clone().unwrap_or_else(|| conv.model.clone()),
        "target": meta.target,
        "profile": ctx.profile.name,
        "status": format!("{:?}", meta.status).to_lowercase(),
        "finish_reason": meta.finish.as_ref().map(finish_name),
        "usage": meta.usage,
        "cost_micros": meta.cost_micros,
        "cost_usd": meta.cost_micros.map(|c| c as f64 / 1e6),
        "cost_source": meta.cost_source.map(|s| s.label()),
        "ttft_ms": meta.ttft_ms,
        "duration_ms": meta.duration_ms,
        "error": meta.error,
    })
}

/// "1200 in · 300 out · $0.0047 · TTFT 210 ms · 95 tok/s · stop", or the error.
fn summary(meta: &AnswerMeta) -> String {
    if let Some(e) = &meta.error {
        return format!("error: {e}");
    }
    let mut parts = Vec::new();
    if let Some(u) = meta.usage {
        parts.push(format!("{} in · {} out", u.input, u.output));
    }
    parts.push(match (meta.cost_micros, meta.cost_source) {
        (Some(_), Some(crate::usage::cost::CostSource::Local)) => "local".into(),
        (Some(c), _) => format_usd(c),
        (None, _) => "unpriced".into(),
    });
    if let Some(t) = meta.ttft_ms {
        parts.push(format!("TTFT {t} ms"));
    }
    if let Some(tps) = meta.tokens_per_second() {
        parts.push(format!("{tps:.0} tok/s"));
    }
    if let Some(f) = &meta.finish {
        parts.push(finish_name(f));
    }
    parts.join(" · ")
}
