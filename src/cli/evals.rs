//! `llmdeck prompts test`: an eval run from the command line — the matrix of
//! cases × models, a summary per model (pass rate, cost per passing answer,
//! p50/p95 latency), and an exit code CI can gate on.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;

use super::out::{errln, outln};
use crate::context::Context;
use crate::evals::{regress, report, run, store};
use crate::library::Library;
use crate::library::testing::{self, CaseResult};
use crate::usage::format_usd;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct EvalArgs {
    /// Run each case N times (pass rate and score spread per case)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Requests in flight at once
    #[arg(long, default_value_t = crate::library::testing::CONCURRENCY as u32, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// The model that judges `rubric` checks (default: the profile's)
    #[arg(long, value_name = "MODEL")]
    pub judge_model: Option<String>,
    /// The model `similar` checks embed with (default: text-embedding-3-small)
    #[arg(long, value_name = "MODEL")]
    pub embedding_model: Option<String>,
    /// Ask the server even for requests answered before (the cache is used otherwise)
    #[arg(long)]
    pub no_cache: bool,
    /// Also run an earlier version (a version hash, or a git revision of the library) on
    /// the same cases and models, print what changed, and exit 1 only on a new failure
    #[arg(long, value_name = "REV")]
    pub against: Option<String>,
    /// With --against: also fail when a model's cost rises more than this (percent)
    #[arg(long, value_name = "PERCENT", value_parser = percent, requires = "against")]
    pub max_cost_increase: Option<f64>,
    /// With --against: also fail when a model's p50 latency rises more than this (percent)
    #[arg(long, value_name = "PERCENT", value_parser = percent, requires = "against")]
    pub max_latency_increase: Option<f64>,
    /// Send the run through OpenAI's Batch API, at the batch price (answers come
    /// within 24 hours; Ctrl-C leaves the batch running, --resume finishes it)
    #[arg(long, conflicts_with = "against")]
    pub batch: bool,
    /// Finish a batch run that was left or killed (its batch id or run id); with no
    /// ID, list the batches pending
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["batch", "against"])]
    pub resume: Option<String>,
    /// With --batch or --resume: seconds between two looks at the batch
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = seconds)]
    pub poll_interval: f64,
    #[command(flatten)]
    pub reports: ReportArgs,
}

/// `30`, `0.5`: seconds between polls (at least 0.01, at most a day).
fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.01..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: seconds between 0.01 and 86400")),
    }
}

/// Where a run's results go besides the table.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Print the results as CSV (one line per run of a case) instead of the table
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Also write the results as JUnit XML to FILE (for CI systems)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
}

pub fn test(
    ctx: &Context,
    lib: &Library,
    name: &str,
    models: &[String],
    json: bool,
    args: &EvalArgs,
) -> Result<(), String> {
    let p = lib.get(name)?;
    let entry = lib.find(name).expect("found above");
    let file = lib.path_of(entry);
    let db = ctx.paths.evals_file();
    let opts = run::Options {
        repeat: args.repeat,
        concurrency: args.concurrency as usize,
        judge_model: args.judge_model.clone(),
        embedding_model: args.embedding_model.clone(),
        dir: file
            .parent()
            .map_or_else(|| lib.dir.clone(), Path::to_path_buf),
        progress: std::io::stderr().is_terminal(),
        interruptible: true,
        no_cache: args.no_cache,
    };
    // Kept so that a later `--against` this version finds its text.
    let text = std::fs::read_to_string(&file);
    if let Ok(text) = &text
        && let Err(e) = store::save_version(&db, &p.meta.name, &p.version, text)
    {
        errln!("llmdeck: warning: {e}");
    }
    if args.batch {
        let text = text.map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        return super::evals_batch::submit(ctx, p, &text, models, json, args, &opts);
    }
    let earlier = match &args.against {
        Some(rev) => {
            let e = regress::resolve(rev, &file, &db)?;
            let old = regress::earlier_prompt(p, &e)?;
            Some((e, old))
        }
        None => None,
    };
    // Both versions on the same models: the current file's, not each its own.
    let targets = if models.is_empty() && earlier.is_some() {
        vec![testing::model_for(p, None, &ctx.profile.model)]
    } else {
        models.to_vec()
    };
    // Asked once, up front, when already over; then the run stops at the budget.
    let mut gate = super::budget::open(ctx);
    super::budget::confirm(&mut gate, 0)?;
    let gate = std::sync::Mutex::new(gate);
    let rt = super::runtime()?;
    let before = match &earlier {
        Some((_, old)) => Some(rt.block_on(run::run(ctx, old, &targets, &gate, &opts))?),
        None => None,
    };
    if let Some(b) = &before {
        crate::runner::record(ctx, &b.rows);
    }
    let after = if before.as_ref().is_some_and(|b| b.interrupted) {
        run::Report {
            interrupted: true,
            ..Default::default()
        }
    } else {
        rt.block_on(run::run(ctx, p, &targets, &gate, &opts))?
    };
    let against = match (&earlier, &before) {
        (Some((e, _)), Some(b)) => Some((e, b)),
        _ => None,
    };
    let done = Done {
        prompt: &p.meta.name,
        version: &p.version,
        id: store::new_run_id(),
        after: &after,
        against,
        extra: None,
        keep: Keep::New,
    };
    conclude(ctx, done, json, args)
}

/// A run that finished (or was stopped), to be reported and kept.
pub struct Done<'a> {
    pub prompt: &'a str,
    pub version: &'a str,
    /// The id it is kept under.
    pub id: String,
    pub after: &'a run::Report,
    /// The earlier version it was compared with, and that version's run.
    pub against: Option<(&'a regress::Earlier, &'a run::Report)>,
    /// A key of its own in the JSON and a note under the table (a batch's).
    pub extra: Option<(&'static str, serde_json::Value, String)>,
    pub keep: Keep<'a>,
}

/// How a run is kept.
pub enum Keep<'a> {
    /// A new run: its rows recorded, and kept under its new id.
    New,
    /// A batch's run: its rows recorded, and kept with each result's place
    /// among the batch's requests, in place of an interrupted grading's.
    Batch(&'a [usize]),
    /// Kept in full before (a batch resumed after a kill): reported only,
    /// nothing recorded or kept again.
    Kept,
}

/// Records a run's ledger rows, keeps it, reports it (the table, JSON, CSV,
/// JUnit) and gives the exit: a failure, or with `--against` only a regression.
pub fn conclude(ctx: &Context, done: Done, json: bool, args: &EvalArgs) -> Result<(), String> {
    let Done {
        prompt,
        version,
        after,
        ..
    } = done;
    let db = ctx.paths.evals_file();
    let before = done.against.map(|(_, b)| b);
    let earlier = done.against.map(|(e, _)| e);
    for w in &after.warnings {
        errln!("llmdeck: dataset: {w}");
    }
    // What finished is kept, Ctrl-C or not (and only once).
    if !matches!(done.keep, Keep::Kept) {
        crate::runner::record(ctx, &after.rows);
    }
    let results = &after.results;
    let failed = results.iter().filter(|r| !r.pass).count();
    let skipped = results.iter().filter(|r| r.skipped).count();
    let summary = report::by_target(results);
    let comparison = before
        .as_ref()
        .map(|b| regress::compare(&b.results, results));
    let mut out = serde_json::json!({
        "prompt": prompt, "version": version,
        "passed": results.len() - failed, "failed": failed,
        "interrupted": after.interrupted, "skipped_rows": after.warnings,
        "summary": summary, "results": results,
    });
    if let (Some(e), Some(b), Some(c)) = (earlier, before, &comparison) {
        out["against"] = serde_json::json!({
            "version": e.version, "from": e.from,
            "summary": report::by_target(&b.results), "results": b.results,
        });
        out["newly_failing"] = serde_json::json!(c.newly_failing);
        out["newly_passing"] = serde_json::json!(c.newly_passing);
        out["deltas"] = serde_json::json!(c.deltas);
    }
    if let Some((key, value, _)) = &done.extra {
        out[*key] = value.clone();
    }
    let kept = store::RunInfo::finished(
        done.id.clone(),
        prompt,
        version,
        earlier.map(|e| e.version.clone()),
        results,
        after.interrupted,
    );
    let saved = match done.keep {
        Keep::New => store::save_run(&db, &kept, results),
        Keep::Batch(places) => store::save_batch_run(&db, &kept, places, results),
        Keep::Kept => Ok(kept.id.clone()),
    };
    match saved {
        Ok(id) => out["run"] = serde_json::json!(id),
        Err(e) => errln!("llmdeck: warning: the run was not kept: {e}"),
    }
    let comparison_text = match (earlier, &comparison) {
        (Some(e), Some(c)) => {
            let from = format!("{} ({})", e.version, e.from);
            Some(regress::text(c, &from, version))
        }
        _ => done.extra.as_ref().map(|(_, _, note)| note.clone()),
    };
    emit(
        &kept,
        results,
        &out,
        json,
        &args.reports,
        comparison_text.as_deref(),
    )?;
    if out.get("run").is_some() && !json {
        errln!(
            "llmdeck: run kept as {} (llmdeck prompts runs --open {})",
            kept.id,
            kept.id
        );
    }
    if after.interrupted {
        return Err(format!(
            "stopped by Ctrl-C: {} finished runs kept ({failed} failed)",
            results.len() + before.map_or(0, |b| b.results.len())
        ));
    }
    // Against an earlier version, only what got worse fails: the CI gate.
    if let Some(c) = &comparison {
        let why = regress::gate(c, args.max_cost_increase, args.max_latency_increase);
        return if why.is_empty() {
            Ok(())
        } else {
            Err(format!("regression: {}", why.join("; ")))
        };
    }
    match (failed, skipped) {
        (0, _) => Ok(()),
        (n, 0) => Err(format!("{n} of {} test runs failed", results.len())),
        (n, s) => Err(format!(
            "{n} of {} test runs failed, {s} of them skipped: budget reached (--allow-over-budget runs them)",
            results.len()
        )),
    }
}

/// The results as JSON (`out`), CSV or the table (with `extra` under it), and as
/// JUnit XML to a file when asked.
fn emit(
    run: &store::RunInfo,
    results: &[CaseResult],
    out: &serde_json::Value,
    json: bool,
    reports: &ReportArgs,
    extra: Option<&str>,
) -> Result<(), String> {
    if let Some(file) = &reports.junit {
        let xml = crate::evals::export::junit(&run.prompt, &run.version, results);
        crate::config::files::write_atomic(file, xml.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    if json {
        super::out::say_json(out, false);
    } else if reports.csv {
        // Raw: CSV is data, printed as is (cells a spreadsheet would run are quoted).
        print!("{}", crate::evals::export::csv(results));
    } else {
        outln!("{}", matrix(results).trim_end_matches('\n'));
        let summary = report::summary_text(&report::by_target(results));
        outln!("{}", summary.trim_end_matches('\n'));
        if let Some(text) = extra {
            outln!("{}", text.trim_end_matches('\n'));
        }
    }
    Ok(())
}

/// `llmdeck prompts runs`: the runs kept, or one reopened.
pub fn runs(
    ctx: &Context,
    name: Option<&str>,
    open: Option<&str>,
    json: bool,
    reports: &ReportArgs,
) -> Result<(), String> {
    let db = ctx.paths.evals_file();
    if let Some(id) = open {
        let (info, results) = store::load_run(&db, id)?;
        let out = serde_json::json!({
            "run": info.id, "prompt": info.prompt, "version": info.version,
            "against": info.against, "started": info.started,
            "summary": report::by_target(&results), "results": results,
        });
        return emit(&info, &results, &out, json, reports, None);
    }
    let list = store::list_runs(&db, name)?;
    if json {
        super::out::say_json(&list, false);
        return Ok(());
    }
    if list.is_empty() {
        outln!("no runs kept yet (llmdeck prompts test NAME keeps one)");
    }
    for r in list {
        outln!(
            "{}  {}  {:<24} {}  {}/{} passed{}{}",
            r.id,
            r.started.get(..19).unwrap_or(&r.started).replace('T', " "),
            r.prompt,
            r.version,
            r.passed,
            r.runs,
            r.against
                .map(|a| format!(" (against {a})"))
                .unwrap_or_default(),
            if r.interrupted { " (interrupted)" } else { "" }
        );
    }
    Ok(())
}

/// `10`, `10%` or `12.5`: a percentage.
fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage (like 10 or 10%)"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{s:?}: a percentage of 0 or more"))
    }
}

/// Cases down, targets across: ✓/✗ (! errored) with cost, latency and tokens,
/// or with repeats the pass count and score spread; then every failure.
pub fn matrix(results: &[CaseResult]) -> String {
    // Indexed once: a dataset run has tens of thousands of cells.
    let mut targets: Vec<&str> = Vec::new();
    let mut cases: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    let mut cells: HashMap<(&str, &str), Vec<&CaseResult>> = HashMap::new();
    for r in results {
        if !targets.contains(&r.target.as_str()) {
            targets.push(&r.target);
        }
        if seen.insert(r.case.as_str()) {
            cases.push(&r.case);
        }
        cells.entry((&r.case, &r.target)).or_default().push(r);
    }
    let width = cases
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let single = |r: &CaseResult| {
        if r.skipped {
            return "- skipped (budget)".to_string();
        }
        format!(
            "{} {}{} {} {}t",
            if r.errored {
                "!"
            } else if r.pass {
                "✓"
            } else {
                "✗"
            },
            if r.cached { "cached " } else { "" },
            r.cost_micros
                .map(format_usd)
                .unwrap_or_else(|| "unpriced".into()),
            r.latency_ms
                .map(|ms| format!("{ms}ms"))
                .unwrap_or_else(|| "-".into()),
            r.tokens
        )
    };
    let cell = |c: &str, t: &str| match cells.get(&(c, t)).map_or(&[][..], Vec::as_slice) {
        [] => String::new(),
        [one] => single(one),
        many => {
            let (passed, n, mean, sd) = report::spread(many);
            format!("{passed}/{n} ✓ score {mean:.2}±{sd:.2}")
        }
    };
    let col = cases
        .iter()
        .flat_map(|c| targets.iter().map(move |t| (c, t)))
        .map(|(c, t)| cell(c, t).chars().count())
        .chain(targets.iter().map(|t| t.chars().count()))
        .max()
        .unwrap_or(8);
    let mut out = format!("{:<width$}", "case");
    for t in &targets {
        out.push_str(&format!("  {t:<col$}"));
    }
    out.push('\n');
    for c in &cases {
        out.push_str(&format!("{c:<width$}"));
        for t in &targets {
            out.push_str(&format!("  {:<col$}", cell(c, t)));
        }
        out.push('\n');
    }
    for r in results.iter().filter(|r| !r.pass) {
        let run = if r.repeat > 1 {
            format!(" #{}", r.repeat)
        } else {
            String::new()
        };
        for f in &r.failures {
            out.push_str(&format!("✗ {} × {}{run}: {f}\n", r.case, r.target));
        }
    }
    let passed = results.iter().filter(|r| r.pass).count();
    out.push_str(&format!("{passed}/{} passed\n", results.len()));
    out
}
