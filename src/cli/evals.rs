//! `llmdeck prompts test`: an eval run from the command line — the matrix of
//! cases × models, a summary per model (pass rate, cost per passing answer,
//! p50/p95 latency), and an exit code CI can gate on.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;

use super::out::{errln, outln};
use crate::context::Context;
use crate::evals::{report, run};
use crate::library::Library;
use crate::library::testing::CaseResult;
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
    let dir = lib
        .path_of(entry)
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| lib.dir.clone());
    let opts = run::Options {
        repeat: args.repeat,
        concurrency: args.concurrency as usize,
        judge_model: args.judge_model.clone(),
        embedding_model: args.embedding_model.clone(),
        dir,
        progress: std::io::stderr().is_terminal(),
        interruptible: true,
        no_cache: args.no_cache,
    };
    // Asked once, up front, when already over; then the run stops at the budget.
    let mut gate = super::budget::open(ctx);
    super::budget::confirm(&mut gate, 0)?;
    let gate = std::sync::Mutex::new(gate);
    let report = super::runtime()?.block_on(run::run(ctx, p, models, &gate, &opts))?;
    for w in &report.warnings {
        errln!("llmdeck: dataset: {w}");
    }
    // What finished is kept, Ctrl-C or not.
    crate::runner::record(ctx, &report.rows);
    let results = &report.results;
    let failed = results.iter().filter(|r| !r.pass).count();
    let skipped = results.iter().filter(|r| r.skipped).count();
    let summary = report::by_target(results);
    if json {
        super::out::say_json(
            &serde_json::json!({
                "prompt": p.meta.name, "version": p.version,
                "passed": results.len() - failed, "failed": failed,
                "interrupted": report.interrupted, "skipped_rows": report.warnings,
                "summary": summary, "results": results,
            }),
            false,
        );
    } else {
        outln!("{}", matrix(results).trim_end_matches('\n'));
        outln!("{}", report::summary_text(&summary).trim_end_matches('\n'));
    }
    if report.interrupted {
        return Err(format!(
            "stopped by Ctrl-C: {} finished runs kept ({failed} failed)",
            results.len()
        ));
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
