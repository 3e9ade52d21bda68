//! An eval run through OpenAI's Batch API (`prompts test --batch`): every run
//! of every case on every model is one line of a JSONL (its body exactly what
//! a live run sends, less the streaming), uploaded and sent as one batch at the
//! batch price. The plan (what grading the answers needs) is kept in the evals
//! database as soon as the batch exists, so the run can be left (Ctrl-C, a
//! kill) and resumed (`--resume ID`). The answers, matched back by custom id,
//! go through the same machine and the same graders as a live run's; a request
//! the batch failed is errored with its reason, and the rest are still graded.
//! Ctrl-C while they are graded keeps what was graded (`collect` is given it
//! back on `--resume` and grades only the rest); each answer's ledger row has
//! an id made from the run and the request, so grading one again after a kill
//! records it once. The files are deleted from the organisation's storage
//! once they are needed no more (`delete_files`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::cache::Hit;
use super::run::{self, Case, Interrupt, Options, Shared};
use super::store;
use crate::chat::event::{ProviderError, StreamEvent};
use crate::chat::machine::{Effect, Input};
use crate::chat::params::Api;
use crate::context::Context;
use crate::library::Prompt;
use crate::library::testing::{CaseResult, model_for};
use crate::provider::batches::{self, BatchState};
use crate::usage::LedgerRow;
use crate::usage::gate::Gate;
use crate::usage::prices::BATCH;

/// What one batch may hold: requests sent (not those the cache answers) and
/// the input file's size. OpenAI's limits by default.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub requests: usize,
    pub bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests: 50_000,
            bytes: 200 * 1024 * 1024,
        }
    }
}

/// How a batch is sent: the budget gate its graders count against, the
/// question asked once for the whole estimate, its limits, and Ctrl-C.
pub struct Sending<'a> {
    pub gate: &'a Mutex<Gate>,
    pub admit: &'a mut dyn FnMut(i64) -> Result<(), String>,
    pub limits: Limits,
    pub stop: &'a mut Interrupt,
}

/// Polls that may fail in a row before the run is left (the batch goes on).
const POLL_FAILURES: u32 = 5;

/// What grading a batch's answers needs, kept from the moment the batch exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The id of the run it becomes.
    pub run: String,
    pub started: String,
    pub profile: String,
    /// The prompt file as it was sent.
    pub text: String,
    /// Where its dataset and commands are found.
    pub dir: PathBuf,
    pub targets: Vec<String>,
    pub repeat: u32,
    pub concurrency: usize,
    pub judge_model: Option<String>,
    pub embedding_model: Option<String>,
    /// `--no-cache`: the cache was not read, and the answers do not fill it.
    #[serde(default)]
    pub no_cache: bool,
    /// `chat` or `responses`.
    pub api: String,
    pub input_file_id: String,
    /// Dataset rows skipped when the plan was made.
    pub warnings: Vec<String>,
    pub items: Vec<Item>,
}

/// One run of a case on a target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// The line's custom id (none: it could not be asked, see `error`).
    pub id: Option<String>,
    pub case: String,
    pub values: BTreeMap<String, String>,
    pub test: Option<usize>,
    /// Index into the plan's targets.
    pub target: usize,
    pub repeat: u32,
    pub error: Option<String>,
    /// Answered from the cache when the plan was made: not in the batch.
    #[serde(default)]
    pub cached: Option<Hit>,
}

/// Builds the plan and its JSONL (a request the cache answers is not in it),
/// asks `admit` for the whole run's estimate at the batch price, uploads the
/// file and creates the batch, and keeps both at once. `text` is the prompt
/// file's text (kept to grade the answers later). No batch (`None`) when the
/// cache answered every request. Ctrl-C during the upload sends nothing.
pub async fn submit(
    ctx: &Context,
    prompt: &Prompt,
    text: &str,
    targets: &[String],
    opts: &Options,
    sending: Sending<'_>,
) -> Result<(Plan, Option<BatchState>), String> {
    let Sending {
        gate,
        admit,
        limits,
        stop,
    } = sending;
    let targets: Vec<String> = if targets.is_empty() {
        vec![model_for(prompt, None, &ctx.profile.model)]
    } else {
        targets.to_vec()
    };
    let parsed = ctx.compare_targets(&targets, &prompt.meta.params)?;
    // A remote MCP server's url and headers (secrets) would be written into
    // the batch's input file, kept in the organisation's storage.
    let remote = std::iter::once(&prompt.meta.params)
        .chain(parsed.iter().filter_map(|t| t.params.as_ref()))
        .flat_map(|p| &p.hosted)
        .find_map(|h| match h {
            crate::chat::tools::HostedTool::Mcp { server } => Some(server),
            _ => None,
        });
    if let Some(server) = remote {
        return Err(format!(
            "--batch cannot use the remote MCP server {server}: its url and headers would be stored in the batch's input file; run it without --batch"
        ));
    }
    if let Some(t) = parsed.iter().find(|t| t.profile.is_some()) {
        return Err(format!(
            "--batch sends every request through the profile's endpoint: {} names another profile",
            t.label
        ));
    }
    let provider = ctx.provider(&ctx.profile, 0)?;
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let per_case = parsed.len() * opts.repeat.max(1) as usize;
    let (jobs, _) = run::jobs(prompt, parsed, opts, Arc::clone(&warnings))?;
    let cache = if opts.no_cache {
        None
    } else {
        Some(super::cache::Cache::open(&ctx.paths.evals_file())?)
    };
    let shared = Shared::new(ctx, prompt, provider.clone(), gate, cache.as_ref(), opts);
    let mut items = Vec::new();
    let mut jsonl = Vec::new();
    let mut api: Option<Api> = None;
    let mut estimate = 0;
    let mut lines = 0;
    for (i, (case, target, k)) in jobs {
        // Jobs come case by case, then target by target, then repeat by repeat.
        let repeat = opts.repeat.max(1) as usize;
        let t = (i % per_case.max(1)) / repeat;
        let mut item = Item {
            id: None,
            case: case.name.clone(),
            values: case.values.clone(),
            test: case.test,
            target: t,
            repeat: k,
            error: None,
            cached: None,
        };
        let started = shared.start(&case, target);
        item.cached = match &started {
            Ok((_, _, first)) => shared.cached(first, k),
            Err(_) => None,
        };
        let request = started.as_ref().ok().and_then(|(m, _, first)| {
            first.iter().find_map(|e| match e {
                Effect::Start { request, .. } => Some((m, request)),
                _ => None,
            })
        });
        match (started.as_ref().err(), request) {
            _ if item.cached.is_some() => {}
            (Some(e), _) => item.error = Some(e.clone()),
            (None, None) => item.error = Some("no request to send".into()),
            (None, Some((m, request))) => {
                let this = provider.api_for(request);
                if api.is_some_and(|a| a != this) {
                    return Err(
                        "--batch: one batch goes to one endpoint, and these models ask for both Chat Completions and Responses"
                            .into(),
                    );
                }
                api = Some(this);
                estimate += crate::usage::gate::estimate_in(m, request, Some(BATCH));
                let id = format!("c{}-t{t}-r{k}", i / per_case.max(1));
                let line = serde_json::json!({
                    "custom_id": id,
                    "method": "POST",
                    "url": batches::endpoint(this),
                    "body": provider.batch_body(request),
                });
                serde_json::to_writer(&mut jsonl, &line).expect("JSON values serialize");
                jsonl.push(b'\n');
                item.id = Some(id);
                lines += 1;
            }
        }
        items.push(item);
        // Only what is sent counts: the cache's answers are not in the batch.
        if lines > limits.requests {
            return Err(format!(
                "a batch holds at most {} requests, and this run sends more: run part of the dataset",
                limits.requests
            ));
        }
    }
    let plan = |api: Option<Api>, file: String, items: Vec<Item>| Plan {
        run: super::store::new_run_id(),
        started: Utc::now().to_rfc3339(),
        profile: ctx.profile.name.clone(),
        text: text.to_string(),
        dir: opts.dir.clone(),
        targets: targets.clone(),
        repeat: opts.repeat.max(1),
        concurrency: opts.concurrency.max(1),
        judge_model: opts.judge_model.clone(),
        embedding_model: opts.embedding_model.clone(),
        no_cache: opts.no_cache,
        api: api.unwrap_or(Api::Chat).label().to_string(),
        input_file_id: file,
        warnings: std::mem::take(&mut *warnings.lock().unwrap_or_else(|e| e.into_inner())),
        items,
    };
    let Some(api) = api else {
        if items.iter().any(|i| i.cached.is_some()) {
            return Ok((plan(None, String::new(), items), None));
        }
        return Err("nothing to send: no case could be asked".into());
    };
    if jsonl.len() > limits.bytes {
        return Err(format!(
            "the batch's requests come to {} MB, over the {} MB a batch file may be: run part of the dataset",
            jsonl.len() / 1_000_000,
            limits.bytes / 1_000_000
        ));
    }
    admit(estimate)?;
    // From here Ctrl-C is heard (and, once the batch exists, leaves it running).
    stop.arm().await;
    let mut plan = plan(Some(api), String::new(), items);
    let name = format!("llmdeck-{}-{}.jsonl", prompt.meta.name, plan.run);
    let e = |e: ProviderError| format!("--batch: {e}");
    plan.input_file_id = tokio::select! {
        uploaded = provider.upload_batch_file(&name, &jsonl) => uploaded.map_err(e)?,
        () = stop.pressed() => {
            return Err("stopped by Ctrl-C during the upload: no batch was sent".into());
        }
    };
    let meta = serde_json::json!({
        "llmdeck_run": plan.run,
        "prompt": format!("{}@{}", prompt.meta.name, prompt.version).chars().take(200).collect::<String>(),
    });
    // Not interrupted: a batch created but not kept would run unseen.
    let state = match provider.create_batch(&plan.input_file_id, api, meta).await {
        Ok(state) => state,
        Err(err) => {
            let left = delete_files(ctx, &[plan.input_file_id.as_str()]).await;
            let left = left.iter().map(|w| format!("; {w}")).collect::<String>();
            return Err(format!("{}{left}", e(err)));
        }
    };
    let kept = store::save_batch(
        &ctx.paths.evals_file(),
        &store::BatchRow {
            id: state.id.clone(),
            run: plan.run.clone(),
            prompt: prompt.meta.name.clone(),
            version: prompt.version.clone(),
            created: plan.started.clone(),
            status: state.line(),
            done: false,
            plan: serde_json::to_string(&plan).expect("plans serialize"),
        },
    );
    if let Err(err) = kept {
        // A batch no one can grade would be paid for nothing.
        let cancelled = match provider.cancel_batch(&state.id).await {
            Ok(_) => "cancelled".to_string(),
            Err(e) => format!("could not be cancelled ({e}): it runs on"),
        };
        return Err(format!(
            "batch {} was created but could not be kept ({err}), so it was {cancelled}",
            state.id
        ));
    }
    Ok((plan, Some(state)))
}

/// The plan kept with a batch.
pub fn plan_of(row: &store::BatchRow) -> Result<Plan, String> {
    serde_json::from_str(&row.plan)
        .map_err(|e| format!("batch {}: its plan is unreadable: {e}", row.id))
}

/// What polling has to show: the batch when it changed, or a poll that failed.
pub enum Polled<'a> {
    Changed(&'a BatchState),
    Failed(String),
}

/// Polls batch `id` every `poll` until it is over (its last state), telling
/// `show` each change; `None` when Ctrl-C left it running.
pub async fn wait(
    ctx: &Context,
    id: &str,
    poll: Duration,
    stop: &mut Interrupt,
    show: &mut dyn FnMut(Polled),
) -> Result<Option<BatchState>, String> {
    let provider = ctx.provider(&ctx.profile, 0)?;
    let db = ctx.paths.evals_file();
    let mut shown = String::new();
    let mut failures = 0;
    loop {
        let polled = tokio::select! {
            r = provider.retrieve_batch(id) => r,
            () = stop.pressed() => return Ok(None),
        };
        match polled {
            Ok(state) => {
                failures = 0;
                let line = state.line();
                if line != shown {
                    let _ = store::update_batch(&db, id, &line, false);
                    show(Polled::Changed(&state));
                    shown = line;
                }
                if state.is_over() {
                    return Ok(Some(state));
                }
            }
            Err(ProviderError::Http {
                status: 404,
                message,
                ..
            }) => {
                return Err(format!(
                    "the endpoint has no batch {id} (HTTP 404: {message}); was it sent with another key or profile?"
                ));
            }
            Err(e) => {
                failures += 1;
                if failures >= POLL_FAILURES {
                    return Err(format!(
                        "batch {id}: {e} ({failures} polls failed in a row); it may still run: llmdeck prompts test --resume {id}"
                    ));
                }
                show(Polled::Failed(format!("batch {id}: {e} (polling again)")));
            }
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = stop.pressed() => return Ok(None),
        }
    }
}

/// A batch's run as graded so far.
pub struct Graded {
    /// Each result's place among the plan's items (gaps: not graded yet).
    pub places: Vec<usize>,
    /// Every result kept so far, in the plan's order; the ledger rows of this grading only.
    pub report: run::Report,
    /// How many of the results were graded this time (the others were kept before).
    pub new: usize,
}

/// Reads the answers of a batch that is over and grades them as a live run
/// would, except the items `kept` already holds (an earlier grading Ctrl-C
/// stopped): those are kept as they are, never graded or recorded twice.
/// Ctrl-C (`stop`) ends it with what finished (`report.interrupted`). The
/// answers' rows are tagged `batch` too.
pub async fn collect(
    ctx: &Context,
    plan: &Plan,
    state: Option<&BatchState>,
    gate: &Mutex<Gate>,
    kept: store::Placed,
    stop: &mut Interrupt,
) -> Result<Graded, String> {
    let none = BatchState::default();
    let state = state.unwrap_or(&none);
    let prompt = crate::library::prompt::parse(&plan.text)
        .map_err(|e| format!("batch {}: the prompt kept with it: {e}", state.id))?;
    let provider = ctx.provider(&ctx.profile, 0)?;
    let api = Api::parse(&plan.api).unwrap_or(Api::Chat);
    let mut answers: HashMap<String, Vec<StreamEvent>> = HashMap::new();
    let mut warnings = plan.warnings.clone();
    let (mut places, results): (Vec<usize>, Vec<CaseResult>) = kept.into_iter().unzip();
    let graded: std::collections::HashSet<usize> = places.iter().copied().collect();
    let left = |warnings: Vec<String>, places: Vec<usize>, results: Vec<CaseResult>| Graded {
        places,
        report: run::Report {
            results,
            warnings,
            interrupted: true,
            ..run::Report::default()
        },
        new: 0,
    };
    for file in [&state.output_file_id, &state.error_file_id]
        .into_iter()
        .flatten()
    {
        let bytes = tokio::select! {
            read = provider.batch_file(file) => read
                .map_err(|e| format!("batch {}: reading its results ({file}): {e}", state.id))?,
            () = stop.pressed() => return Ok(left(warnings, places, results)),
        };
        let (found, problems) = batches::answers(api, &bytes);
        warnings.extend(
            problems
                .into_iter()
                .map(|p| format!("batch file {file}: {p}")),
        );
        answers.extend(found.into_iter().map(|a| (a.custom_id, a.events)));
    }
    let missing = match state.status.as_str() {
        "failed" if !state.errors.is_empty() => {
            format!("the batch failed: {}", state.errors.join("; "))
        }
        "completed" => "the batch gave no answer for this request".to_string(),
        other => format!("the batch was {other} before this request ran"),
    };
    let targets = ctx.compare_targets(&plan.targets, &prompt.meta.params)?;
    let opts = Options {
        repeat: plan.repeat,
        concurrency: plan.concurrency,
        judge_model: plan.judge_model.clone(),
        embedding_model: plan.embedding_model.clone(),
        dir: plan.dir.clone(),
        ..Options::default()
    };
    let cache = if plan.no_cache {
        None
    } else {
        Some(super::cache::Cache::open(&ctx.paths.evals_file())?)
    };
    let shared = Shared::new(ctx, &prompt, provider, gate, cache.as_ref(), &opts);
    let shared = &shared;
    let answers = Mutex::new(answers);
    let answers = &answers;
    let missing = &missing;
    let targets = &targets;
    let prompt = &prompt;
    let run_id = plan.run.as_str();
    let work = futures_util::stream::iter(
        plan.items
            .iter()
            .enumerate()
            .filter(|(i, _)| !graded.contains(i)),
    )
    .map(|(i, item)| async move {
        let events = item.id.as_ref().map(|id| {
            answers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id)
                .unwrap_or_else(|| vec![StreamEvent::Error(ProviderError::Other(missing.clone()))])
        });
        let (result, rows) = grade(shared, prompt, (run_id, i), item, targets, events).await;
        (i, result, rows)
    })
    .buffer_unordered(opts.concurrency.max(1));
    let (done, interrupted) = run::gather(work, stop, |_| {}).await;
    let new = done.len();
    // The results kept before and the new ones, in the plan's order.
    let mut all: Vec<(usize, CaseResult)> = places.drain(..).zip(results).collect();
    let mut rows = Vec::new();
    for (i, result, r) in done {
        all.push((i, result));
        rows.extend(r);
    }
    all.sort_by_key(|(i, _)| *i);
    let (places, results) = all.into_iter().unzip();
    Ok(Graded {
        places,
        report: run::Report {
            results,
            rows,
            warnings,
            interrupted,
        },
        new,
    })
}

/// The ledger id of a batch answer's row: the same however often it is
/// graded, so one graded again after a kill is recorded once (the ledger
/// ignores an id it holds). The run's hash, then the request's place: rows of
/// one batch sort as its requests do.
fn row_id(run: &str, place: usize, n: usize) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&crate::chat::tokens::fnv1a(run.as_bytes()).to_be_bytes());
    bytes[8..14].copy_from_slice(&(place as u64).to_be_bytes()[2..]);
    bytes[14..].copy_from_slice(&(n as u16).to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// One item: its answer's events fed to the machine that asked for it, then graded.
async fn grade(
    shared: &Shared<'_>,
    prompt: &Prompt,
    (run, place): (&str, usize),
    item: &Item,
    targets: &[crate::chat::compare::Target],
    events: Option<Vec<StreamEvent>>,
) -> (CaseResult, Vec<LedgerRow>) {
    let case = Case::rebuilt(prompt, item.case.clone(), item.values.clone(), item.test);
    let target = targets
        .get(item.target)
        .cloned()
        .unwrap_or_else(|| targets[0].clone());
    let mut result = CaseResult {
        case: item.case.clone(),
        target: target.label.clone(),
        repeat: item.repeat,
        ..CaseResult::default()
    };
    let started = shared.start(&case, target);
    let started = match (started, &item.cached) {
        (Ok((mut m, text, first)), Some(hit)) => {
            super::cache::feed(&mut m, &first, hit);
            return shared
                .graded(&case, result, &text, &m, Vec::new(), Some(hit))
                .await;
        }
        (started, _) => started,
    };
    let asked = match (started, events, &item.error) {
        (_, _, Some(e)) => Err(e.clone()),
        (Err(e), ..) => Err(e),
        (Ok(_), None, None) => Err("not in the batch".to_string()),
        (Ok((m, text, first)), Some(events), None) => Ok((m, text, first, events)),
    };
    let (mut m, text, first, events) = match asked {
        Ok(asked) => asked,
        Err(e) => {
            result.errored = true;
            result.failures = vec![e.clone()];
            result.error = Some(e);
            return (result, Vec::new());
        }
    };
    let Some(id) = first.iter().find_map(|e| match e {
        Effect::Start { request_id, .. } => Some(*request_id),
        _ => None,
    }) else {
        result.errored = true;
        return (result, Vec::new());
    };
    let mut rows = Vec::new();
    for ev in events {
        for effect in m.handle(Input::Stream(id, ev), Instant::now(), Utc::now()) {
            if let Effect::Record(row) = effect {
                rows.push(*row);
            }
        }
    }
    // A batch answer has no latency of its own: none is claimed.
    let last = m.conv.last();
    if let Some(meta) = m.conv.nodes[last].meta.as_mut() {
        meta.duration_ms = None;
        meta.ttft_ms = None;
    }
    for (n, row) in rows.iter_mut().enumerate() {
        row.duration_ms = None;
        row.ttft_ms = None;
        row.id = row_id(run, place, n);
    }
    shared.keep(&m, &first, item.repeat);
    let spent: i64 = rows.iter().filter_map(|r| r.cost_micros).sum();
    shared.count(spent);
    let answer_rows = rows.len();
    let (mut result, mut rows) = shared.graded(&case, result, &text, &m, rows, None).await;
    result.latency_ms = None;
    // The graders' calls (judges, embeddings) too: a resume after a kill
    // grades again, and the ledger ignores a row id it already has.
    for (n, row) in rows.iter_mut().enumerate().skip(answer_rows) {
        row.id = row_id(run, place, n);
    }
    for row in rows
        .iter_mut()
        .filter(|r| r.tags.iter().any(|t| t == "test"))
    {
        row.tags.push("batch".into());
    }
    (result, rows)
}

/// How each model's batch answers are priced: its own batch rates, or half its
/// standard ones when the catalog has no batch price.
pub fn pricing(ctx: &Context, plan: &Plan) -> Vec<(String, &'static str)> {
    let prompt = crate::library::prompt::parse(&plan.text).ok();
    let endpoint = ctx.price_endpoint(&ctx.profile);
    let params = prompt.map(|p| p.meta.params).unwrap_or_default();
    let targets = ctx
        .compare_targets(&plan.targets, &params)
        .unwrap_or_default();
    targets
        .into_iter()
        .map(|t| {
            let how = match crate::usage::cost::find(&ctx.prices(), &endpoint, &t.model) {
                crate::usage::cost::Found::Price(p, _) if p.has_batch_rates() => "its batch price",
                crate::usage::cost::Found::Price(..) => {
                    "50% of its standard price (no batch price known)"
                }
                crate::usage::cost::Found::Local => "free (a local model)",
                crate::usage::cost::Found::Unpriced => "unpriced",
            };
            (t.label, how)
        })
        .collect()
}

/// Marks a batch graded and kept as its run.
pub fn finish(db: &Path, state: &BatchState) -> Result<(), String> {
    store::update_batch(db, &state.id, &state.line(), true)
}

/// Deletes files the batch no longer needs from the organisation's storage:
/// a warning for each one that could not be (never a failure).
pub async fn delete_files(ctx: &Context, ids: &[&str]) -> Vec<String> {
    let provider = match ctx.provider(&ctx.profile, 0) {
        Ok(p) => p,
        Err(e) => return vec![format!("files {} not deleted: {e}", ids.join(", "))],
    };
    let mut warnings = Vec::new();
    for id in ids.iter().filter(|id| !id.is_empty()) {
        if let Err(e) = provider.delete_file(id).await {
            warnings.push(format!(
                "file {id} is still in the organisation's storage (deleting it failed: {e})"
            ));
        }
    }
    warnings
}

/// The output and error files of a batch that is over.
pub fn result_files(state: &BatchState) -> Vec<&str> {
    [&state.output_file_id, &state.error_file_id]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
}
