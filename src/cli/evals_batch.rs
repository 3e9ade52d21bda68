//! `prompts test NAME --batch` and `prompts test --resume [ID]`: an eval run
//! through the Batch API, at the batch price. The batch is kept as soon as it
//! exists; the run polls it with a progress line, and Ctrl-C (or a kill)
//! leaves it running for `--resume` to finish. The report is a live run's.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::evals::{Done, EvalArgs, conclude};
use super::out::{errln, outln};
use crate::context::Context;
use crate::evals::batch::{self, Plan, Polled};
use crate::evals::{run, store};
use crate::library::Prompt;
use crate::provider::batches::BatchState;

/// Sends the run as a batch and waits for it (unless left).
pub fn submit(
    ctx: &Context,
    p: &Prompt,
    text: &str,
    models: &[String],
    json: bool,
    args: &EvalArgs,
    opts: &run::Options,
) -> Result<(), String> {
    let mut gate = super::budget::open(ctx);
    let rt = super::runtime()?;
    // The whole run is asked about once, at the batch price, before anything is sent.
    let mut admit = |estimate: i64| super::budget::confirm(&mut gate, estimate);
    let submitted = rt.block_on(batch::submit(
        ctx,
        p,
        text,
        models,
        &std::sync::Mutex::new(super::budget::open(ctx)),
        opts,
        &mut admit,
    ));
    let (plan, state) = submitted?;
    let sent = plan.items.iter().filter(|i| i.id.is_some()).count();
    let cached = plan.items.iter().filter(|i| i.cached.is_some()).count();
    let cached = match cached {
        0 => String::new(),
        n => format!(", {n} answered from the cache"),
    };
    match &state {
        Some(state) => errln!(
            "llmdeck: batch {} submitted: {sent} requests{cached} (run {}); Ctrl-C leaves it running, `llmdeck prompts test --resume {}` finishes it",
            state.id,
            plan.run,
            state.id
        ),
        None => errln!("llmdeck: no batch sent: every request was answered from the cache"),
    }
    finish(
        ctx,
        &plan,
        state.as_ref().map(|s| s.id.as_str()),
        p,
        json,
        args,
        gate,
    )
}

/// `--resume ID`: finishes a batch kept here; `--resume`: lists the pending ones.
pub fn resume(ctx: &Context, id: &str, json: bool, args: &EvalArgs) -> Result<(), String> {
    let db = ctx.paths.evals_file();
    if id.is_empty() {
        return pending(&db, json);
    }
    let Some(row) = store::find_batch(&db, id)? else {
        return Err(format!(
            "no batch {id:?} is kept here (neither a batch id nor a run id); `llmdeck prompts test --resume` lists the pending ones"
        ));
    };
    if row.done {
        return Err(format!(
            "batch {} is finished: its results are kept as run {} (llmdeck prompts runs --open {})",
            row.id, row.run, row.run
        ));
    }
    let plan = batch::plan_of(&row)?;
    if plan.profile != ctx.profile.name {
        return Err(format!(
            "batch {} was sent through profile {:?}; resume it with --profile {}",
            row.id, plan.profile, plan.profile
        ));
    }
    let p = crate::library::prompt::parse(&plan.text)
        .map_err(|e| format!("batch {}: the prompt kept with it: {e}", row.id))?;
    let gate = super::budget::open(ctx);
    finish(ctx, &plan, Some(&row.id), &p, json, args, gate)
}

/// The batches left running.
fn pending(db: &std::path::Path, json: bool) -> Result<(), String> {
    let list = store::pending_batches(db)?;
    if json {
        super::out::say_json(&list, false);
        return Ok(());
    }
    if list.is_empty() {
        outln!("no batches pending (llmdeck prompts test NAME --batch sends one)");
    }
    for b in list {
        outln!(
            "{}  run {}  {}  {} {}  {}",
            b.id,
            b.run,
            b.created.get(..19).unwrap_or(&b.created).replace('T', " "),
            b.prompt,
            b.version,
            b.status
        );
    }
    Ok(())
}

/// Polls the batch until it is over (when one was sent), then grades,
/// reports and keeps the run.
fn finish(
    ctx: &Context,
    plan: &Plan,
    id: Option<&str>,
    p: &Prompt,
    json: bool,
    args: &EvalArgs,
    gate: crate::usage::gate::Gate,
) -> Result<(), String> {
    let rt = super::runtime()?;
    let terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut show = |polled: Polled| match polled {
        Polled::Changed(state) if terminal => {
            let line = super::out::shown(
                &format!(
                    "batch {}: {} · {}s",
                    state.id,
                    state.line(),
                    started.elapsed().as_secs()
                ),
                true,
            );
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        }
        Polled::Changed(state) => errln!("llmdeck: batch {}: {}", state.id, state.line()),
        Polled::Failed(why) => {
            if terminal {
                eprintln!();
            }
            errln!("llmdeck: warning: {why}");
        }
    };
    let poll = Duration::from_secs_f64(args.poll_interval.max(0.01));
    let state = match id {
        Some(id) => {
            let waited = rt.block_on(batch::wait(ctx, id, poll, true, &mut show));
            if terminal {
                eprint!("\r\x1b[2K");
            }
            let Some(state) = waited? else {
                return Err(format!(
                    "left batch {id} running (run {}): `llmdeck prompts test --resume {id}` finishes it",
                    plan.run
                ));
            };
            Some(state)
        }
        None => None,
    };
    let gate = std::sync::Mutex::new(gate);
    let after = rt.block_on(batch::collect(ctx, plan, state.as_ref(), &gate))?;
    let note = note(ctx, plan, state.as_ref());
    let done = Done {
        prompt: &p.meta.name,
        version: &p.version,
        id: plan.run.clone(),
        after: &after,
        against: None,
        extra: Some(("batch", note.0, note.1)),
    };
    // Recorded and kept first, then marked done: a kill in between leaves a batch
    // `--resume` grades again, never a paid batch whose results are lost.
    let concluded = conclude(ctx, done, json, args);
    if let Some(state) = &state
        && let Err(e) = batch::finish(&ctx.paths.evals_file(), state)
    {
        errln!("llmdeck: warning: {e}");
    }
    concluded
}

/// The batch in the JSON, and the line under the table: its id, how it ended,
/// and how each model's answers are priced.
fn note(ctx: &Context, plan: &Plan, state: Option<&BatchState>) -> (serde_json::Value, String) {
    let Some(state) = state else {
        let value =
            serde_json::json!({"id": null, "status": "not sent: every answer came from the cache"});
        return (
            value,
            "no batch: every answer came from the cache".to_string(),
        );
    };
    let pricing = batch::pricing(ctx, plan);
    let priced: Vec<String> = pricing
        .iter()
        .map(|(model, how)| format!("{model} at {how}"))
        .collect();
    let value = serde_json::json!({
        "id": state.id,
        "status": state.status,
        "request_counts": {"total": state.total, "completed": state.completed, "failed": state.failed},
        "pricing": pricing.iter().map(|(m, how)| serde_json::json!({"target": m, "priced_at": how})).collect::<Vec<_>>(),
    });
    let text = format!(
        "batch {}: {} · priced at the batch rates: {}",
        state.id,
        state.line(),
        priced.join("; ")
    );
    (value, text)
}
