//! `llmdeck chat`: one prompt, streamed to stdout through the same state
//! machine as the console; the request lands in the ledger like any other.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use super::args::ChatArgs;
use crate::chat::conversation::{AnswerStatus, Conversation};
use crate::chat::machine::{Effect, Input, Machine};
use crate::context::Context;
use crate::provider::Provider;
use crate::provider::event::StreamEvent;
use crate::tui::widgets::sanitize::inert;
use crate::usage::Ledger;

pub fn run(ctx: &Context, args: ChatArgs) -> Result<(), String> {
    let prompt = match args.prompt {
        Some(p) => p,
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
    let provider = Provider::new(&ctx.profile, ctx.timeouts(), 0).map_err(|e| e.to_string())?;
    let mut conv = Conversation::new(&ctx.profile.model, Utc::now());
    if conv.model.is_empty() {
        return Err("no model: pass --model or set one in the profile".into());
    }
    conv.system = args.system.unwrap_or_default();
    conv.params.temperature = args.temperature;
    conv.params.max_output_tokens = args.max_tokens;
    let origin = crate::tui::app::origin(&ctx.profile, "cli");
    let mut machine = Machine::new(conv, origin, Arc::clone(&ctx.prices));
    let stdout_is_tty = std::io::stdout().is_terminal();
    let sanitize = stdout_is_tty && !args.raw;

    let runtime = super::runtime()?;
    let mut pending = machine.handle(Input::Send(prompt), Instant::now(), Utc::now());
    let mut rows = Vec::new();
    while let Some(effect) = pending.pop() {
        match effect {
            Effect::Start {
                request_id,
                request,
            } => {
                let json = args.json;
                let mut more = Vec::new();
                let mut emit = |ev: StreamEvent| {
                    if !json && let StreamEvent::TextDelta(t) = &ev {
                        let text = if sanitize { inert(t) } else { t.into() };
                        let mut out = std::io::stdout();
                        let _ = out.write_all(text.as_bytes());
                        let _ = out.flush();
                    }
                    more.extend(machine.handle(
                        Input::Stream(request_id, ev),
                        Instant::now(),
                        Utc::now(),
                    ));
                };
                runtime.block_on(provider.stream(&request, &mut emit));
                pending.extend(more);
            }
            Effect::Record(row) => rows.push(*row),
            Effect::Save | Effect::Journal { .. } | Effect::Abort { .. } => {}
        }
    }
    match Ledger::open(&ctx.paths.ledger_file()) {
        Ok(mut ledger) => {
            for row in &rows {
                if let Err(e) = ledger.insert(row) {
                    eprintln!("llmdeck: warning: {e}");
                }
            }
        }
        Err(e) => eprintln!("llmdeck: warning: {e}"),
    }
    let conv = &machine.conv;
    let node = &conv.nodes[conv.last()];
    let meta = node.meta.clone().unwrap_or_default();
    if args.json {
        let body = serde_json::json!({
            "text": node.content,
            "model": meta.model.clone().unwrap_or_else(|| conv.model.clone()),
            "profile": ctx.profile.name,
            "status": format!("{:?}", meta.status).to_lowercase(),
            "finish_reason": meta.finish.as_ref().map(|f| match f {
                crate::provider::event::FinishReason::Other(s) => s.clone(),
                other => serde_json::to_value(other).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            }),
            "usage": meta.usage,
            "cost_micros": meta.cost_micros,
            "cost_usd": meta.cost_micros.map(|c| c as f64 / 1e6),
            "ttft_ms": meta.ttft_ms,
            "duration_ms": meta.duration_ms,
            "error": meta.error,
        });
        println!("{body}");
    } else if !node.content.ends_with('\n') && !node.content.is_empty() {
        println!();
    }
    match meta.status {
        AnswerStatus::Done => Ok(()),
        _ => Err(meta
            .error
            .unwrap_or_else(|| "the answer did not finish".into())),
    }
}
