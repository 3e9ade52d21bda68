//! `prompts test NAME --batch` and `prompts test --resume [ID]`: an eval run
//! through the Batch API, at the batch price. The batch is kept as soon as it
//! exists; the run polls it with a progress line, and Ctrl-C (or a kill)
//! leaves it running for `--resume` to finish. Ctrl-C while its answers are
//! graded keeps what was graded, and `--resume` grades the rest; a run kept in
//! full before a kill is reported, not graded again. The report is a live run's.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::evals::{Done, EvalArgs, Keep, conclude};
use super::out::{errln, outln};
use crate::context::Context;
use crate::evals::batch::{self, Plan, Polled};
use crate::evals::run::{self, Interrupt};
use crate::evals::store;
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
    // One listener for every stage, armed once the budget question is behind.
    let mut stop = Interrupt::new(true);
    // The whole run is asked about once, at the batch price, before anything is sent.
    let mut admit = |estimate: i64| super::budget::confirm(&mut gate, estimate);
    let graders_gate = std::sync::Mutex::new(super::budget::open(ctx));
    let submitted = rt.block_on(batch::submit(
        ctx,
        p,
        text,
        models,
        opts,
        batch::Sending {
            gate: &graders_gate,
            admit: &mut admit,
            limits: batch::Limits::default(),
            stop: &mut stop,
        },
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
    let id = state.as_ref().map(|s| s.id.as_str());
    let run = Running {
        rt: &rt,
        stop,
        gate,
    };
    finish(ctx, run, &plan, id, p, json, args)
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
    let rt = super::runtime()?;
    let run = Running {
        rt: &rt,
        stop: Interrupt::new(true),
        gate: super::budget::open(ctx),
    };
    finish(ctx, run, &plan, Some(&row.id), &p, json, args)
}

/// The runtime a batch's stages run on, the Ctrl-C every one of them hears,
/// and the budget gate of its graders.
struct Running<'a> {
    rt: &'a tokio::runtime::Runtime,
    stop: Interrupt,
    gate: crate::usage::gate::Gate,
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

/// Polls the batch until it is over (when one was sent), then grades what is
/// not kept yet, reports and keeps the run; once it is kept in full, deletes
/// the batch's files and marks it done. Ctrl-C at any stage stops it with
/// what finished kept, and says how to resume.
fn finish(
    ctx: &Context,
    run: Running,
    plan: &Plan,
    id: Option<&str>,
    p: &Prompt,
    json: bool,
    args: &EvalArgs,
) -> Result<(), String> {
    let Running { rt, mut stop, gate } = run;
    let db = ctx.paths.evals_file();
    let warn = |warnings: Vec<String>| {
        for w in warnings {
            errln!("llmdeck: warning: {w}");
        }
    };
    let state = match id {
        Some(id) => {
            let Some(state) = poll(ctx, rt, &mut stop, id, args)? else {
                return Err(left(id, &plan.run));
            };
            // Over: the requests' file is needed no more.
            warn(rt.block_on(batch::delete_files(ctx, &[&plan.input_file_id])));
            Some(state)
        }
        None => None,
    };
    let kept = store::batch_run(&db, &plan.run)?;
    let whole = |kept: &Option<(store::RunInfo, store::Placed)>| {
        kept.as_ref()
            .is_some_and(|(info, r)| !info.interrupted && r.len() == plan.items.len())
    };
    let gate = std::sync::Mutex::new(gate);
    let reported_only = whole(&kept);
    let graded = if reported_only {
        // Graded and kept before a kill stopped it: reported from what is kept.
        if let Some(id) = id {
            errln!(
                "llmdeck: batch {id} was graded before (run {}): reported from the kept run, not graded again",
                plan.run
            );
        }
        let (places, results) = kept.map(|(_, r)| r).unwrap_or_default().into_iter().unzip();
        batch::Graded {
            places,
            report: run::Report {
                results,
                warnings: plan.warnings.clone(),
                ..run::Report::default()
            },
            new: 0,
        }
    } else {
        let kept = kept.map(|(_, r)| r).unwrap_or_default();
        let collect = batch::collect(ctx, plan, state.as_ref(), &gate, kept, &mut stop);
        rt.block_on(collect)?
    };
    let after = &graded.report;
    if let Some(id) = id
        && after.interrupted
        && graded.new == 0
    {
        // Stopped before anything more was graded: nothing new to keep.
        return Err(format!(
            "stopped by Ctrl-C before batch {id}'s answers were graded (run {}): `llmdeck prompts test --resume {id}` grades them",
            plan.run
        ));
    }
    let note = note(ctx, plan, state.as_ref());
    let done = Done {
        prompt: &p.meta.name,
        version: &p.version,
        id: plan.run.clone(),
        after,
        against: None,
        extra: Some(("batch", note.0, note.1)),
        keep: if reported_only {
            Keep::Kept
        } else {
            Keep::Batch(&graded.places)
        },
    };
    // Recorded and kept first, then its files deleted and marked done: a kill
    // in between leaves a batch `--resume` reports from its kept run.
    let concluded = conclude(ctx, done, json, args);
    let (Some(id), Some(state)) = (id, &state) else {
        return concluded;
    };
    if after.interrupted {
        return concluded.map_err(|e| {
            format!("{e}; `llmdeck prompts test --resume {id}` grades the rest of batch {id}")
        });
    }
    if whole(&store::batch_run(&db, &plan.run)?) {
        warn(rt.block_on(batch::delete_files(ctx, &batch::result_files(state))));
        if let Err(e) = batch::finish(&db, state) {
            errln!("llmdeck: warning: {e}");
        }
    } else {
        errln!(
            "llmdeck: warning: batch {id} stays pending: its run was not kept in full (`llmdeck prompts test --resume {id}` tries again)"
        );
    }
    concluded
}

/// Polls batch `id` with a progress line until it is over; `None`: Ctrl-C left it.
fn poll(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    stop: &mut Interrupt,
    id: &str,
    args: &EvalArgs,
) -> Result<Option<BatchState>, String> {
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
                let _ = writeln!(std::io::stderr());
            }
            errln!("llmdeck: warning: {why}");
        }
    };
    let poll = Duration::from_secs_f64(args.poll_interval.max(0.01));
    let waited = rt.block_on(batch::wait(ctx, id, poll, stop, &mut show));
    if terminal {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
    waited
}

/// What Ctrl-C while the batch runs says.
fn left(id: &str, run: &str) -> String {
    format!("left batch {id} running (run {run}): `llmdeck prompts test --resume {id}` finishes it")
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
