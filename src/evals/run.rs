//! An eval run: every case (the prompt's `[[tests]]`, then its dataset's rows,
//! read as they are needed) on every target, `repeat` times, at most
//! `concurrency` requests at a time. Each answer is graded; each call is a
//! ledger row (answers tagged `test` and `pass`/`fail`, grader calls
//! `grader`). Once the budget gate refuses, no new request starts and the
//! cases left are reported as skipped. Ctrl-C (when asked to listen) stops
//! starting cases and keeps the ones that finished.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;

use super::graders::{self, Check, Graders};
use super::progress::Progress;
use crate::chat::compare::Target;
use crate::chat::conversation::AnswerStatus;
use crate::chat::machine::{Effect, Input, Machine};
use crate::context::Context;
use crate::library::Prompt;
use crate::library::assertions::Outcome;
use crate::library::testing::{CaseResult, conversation, model_for};
use crate::usage::LedgerRow;
use crate::usage::gate::Gate;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Options {
    pub repeat: u32,
    pub concurrency: usize,
    /// The judge for rubrics, else the profile's model.
    pub judge_model: Option<String>,
    pub embedding_model: Option<String>,
    /// The prompt file's folder: datasets and commands are found from here.
    pub dir: PathBuf,
    /// Draw a progress line on stderr.
    pub progress: bool,
    /// Stop starting cases on Ctrl-C (the command line; the console has its own keys).
    pub interruptible: bool,
    /// Ask the server even when the cache holds the answer.
    pub no_cache: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            repeat: 1,
            concurrency: crate::library::testing::CONCURRENCY,
            judge_model: None,
            embedding_model: None,
            dir: PathBuf::from("."),
            progress: false,
            interruptible: false,
            no_cache: false,
        }
    }
}

/// What a run gives back.
#[derive(Debug, Default)]
pub struct Report {
    pub results: Vec<CaseResult>,
    pub rows: Vec<LedgerRow>,
    /// Dataset rows skipped, each naming its line.
    pub warnings: Vec<String>,
    /// Ctrl-C stopped the run before every case ran.
    pub interrupted: bool,
}

/// One case: its name, the prompt's variables, every value its checks may use.
pub(crate) struct Case {
    pub name: String,
    pub vars: BTreeMap<String, String>,
    pub values: BTreeMap<String, String>,
    checks: Vec<Check>,
    threshold: Option<f64>,
    /// Which of the prompt's `[[tests]]` it is; none: a dataset row.
    pub test: Option<usize>,
}

impl Case {
    fn of_test(prompt: &Prompt, i: usize) -> Self {
        let t = &prompt.meta.tests[i];
        Case {
            name: t.name.clone(),
            vars: t.vars.clone(),
            values: t.vars.clone(),
            checks: prompt
                .meta
                .checks
                .iter()
                .chain(&t.assertions)
                .cloned()
                .collect(),
            threshold: t.threshold.or(prompt.meta.threshold),
            test: Some(i),
        }
    }

    /// A dataset row: the variables the prompt declares, every value for the checks.
    fn of_row(prompt: &Prompt, name: String, values: BTreeMap<String, String>) -> Self {
        let declared = |k: &String| prompt.meta.variables.iter().any(|v| &v.name == k);
        Case {
            name,
            vars: values
                .iter()
                .filter(|(k, _)| declared(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            values,
            checks: prompt.meta.checks.clone(),
            threshold: prompt.meta.threshold,
            test: None,
        }
    }

    /// The case again from what a batch kept of it (its name, values and test).
    pub(crate) fn rebuilt(
        prompt: &Prompt,
        name: String,
        values: BTreeMap<String, String>,
        test: Option<usize>,
    ) -> Self {
        match test {
            Some(i) if i < prompt.meta.tests.len() => Self::of_test(prompt, i),
            _ => Self::of_row(prompt, name, values),
        }
    }
}

/// A numbered run of a case on a target (its repeat, from 1).
pub(crate) type Job = (usize, (Arc<Case>, Target, u32));

/// Every run of a run, read from the dataset as needed (a bad row is a warning
/// and skipped), and how many there will be (a guess: rows may be skipped).
pub(crate) fn jobs<'a>(
    prompt: &'a Prompt,
    parsed: Vec<Target>,
    opts: &Options,
    warnings: Arc<Mutex<Vec<String>>>,
) -> Result<(impl Iterator<Item = Job> + 'a, usize), String> {
    let dataset = match &prompt.meta.dataset {
        Some(name) => Some(super::dataset::open(&super::dataset::resolve(
            &opts.dir, name,
        ))?),
        None => None,
    };
    if prompt.meta.tests.is_empty() && dataset.is_none() {
        return Err(format!(
            "{} has no [[tests]] and no dataset in its front matter",
            prompt.meta.name
        ));
    }
    let declared = |k: &String| prompt.meta.variables.iter().any(|v| &v.name == k);
    let tests = (0..prompt.meta.tests.len()).map(|i| Ok(Case::of_test(prompt, i)));
    let file = prompt.meta.dataset.clone().unwrap_or_default();
    let rows = dataset.into_iter().flatten().map(move |row| {
        let row = row.map_err(|e| e.to_string())?;
        let name = row
            .values
            .get("name")
            .filter(|n| !declared(&"name".to_string()) && !n.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("{file}:{}", row.line));
        Ok(Case::of_row(prompt, name, row.values))
    });
    let total_guess = prompt.meta.tests.len()
        + prompt
            .meta
            .dataset
            .as_ref()
            .map(|d| super::dataset::count_rows(&super::dataset::resolve(&opts.dir, d)))
            .unwrap_or(0);
    let repeat = opts.repeat.max(1);
    let total = total_guess * parsed.len() * repeat as usize;
    let jobs = tests
        .chain(rows)
        .filter_map(move |c: Result<Case, String>| match c {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                warnings
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("{e} (skipped)"));
                None
            }
        })
        .flat_map(move |case| {
            let parsed = parsed.clone();
            parsed.into_iter().flat_map(move |t| {
                let case = Arc::clone(&case);
                (1..=repeat).map(move |k| (Arc::clone(&case), t.clone(), k))
            })
        })
        .enumerate();
    Ok((jobs, total))
}

pub async fn run(
    ctx: &Context,
    prompt: &Prompt,
    targets: &[String],
    gate: &Mutex<Gate>,
    opts: &Options,
) -> Result<Report, String> {
    let targets: Vec<String> = if targets.is_empty() {
        vec![model_for(prompt, None, &ctx.profile.model)]
    } else {
        targets.to_vec()
    };
    let parsed = ctx.compare_targets(&targets, &prompt.meta.params)?;
    let provider = ctx.provider(&ctx.profile, 0)?;
    let cache = if opts.no_cache {
        None
    } else {
        Some(super::cache::Cache::open(&ctx.paths.evals_file())?)
    };
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let (jobs, total) = jobs(prompt, parsed, opts, Arc::clone(&warnings))?;
    let progress = Mutex::new(Progress::new(total, opts.progress));
    let shared = Shared::new(ctx, prompt, provider, gate, cache.as_ref(), opts);
    let shared = &shared;
    let work = futures_util::stream::iter(jobs)
        .map(|(i, (case, target, k))| async move {
            let (result, rows) = shared.one(&case, target, k).await;
            (i, result, rows)
        })
        .buffer_unordered(opts.concurrency.max(1));
    let mut stop = Interrupt::new(opts.interruptible);
    let (done, interrupted) = gather(work, &mut stop, |r| {
        progress.lock().unwrap_or_else(|e| e.into_inner()).add(r);
    })
    .await;
    progress.lock().unwrap_or_else(|e| e.into_inner()).finish();
    let mut report = Report {
        interrupted,
        ..Report::default()
    };
    for (_, result, rows) in done {
        report.results.push(result);
        report.rows.extend(rows);
    }
    report.warnings = std::mem::take(&mut *warnings.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(report)
}

/// A job's place in the run, its result and its ledger rows.
pub(crate) type Finished = (usize, CaseResult, Vec<LedgerRow>);

/// Takes the results of `work` as they finish (each shown to `each`) until it
/// ends or Ctrl-C is pressed: what finished, in the jobs' order, and whether
/// Ctrl-C stopped it. What had not finished is dropped (its requests and
/// commands stopped). Every run and a batch's grading stop this one way.
pub(crate) async fn gather(
    work: impl futures_util::Stream<Item = Finished>,
    stop: &mut Interrupt,
    mut each: impl FnMut(&CaseResult),
) -> (Vec<Finished>, bool) {
    let mut done = Vec::new();
    let mut work = std::pin::pin!(work);
    let mut interrupted = false;
    loop {
        tokio::select! {
            // Ctrl-C first: results that became ready with it (a check it
            // killed) are not kept as verdicts.
            biased;
            () = stop.pressed() => {
                interrupted = true;
                break;
            }
            next = work.next() => match next {
                Some(item) => {
                    each(&item.1);
                    done.push(item);
                }
                None => break,
            },
        }
    }
    done.sort_by_key(|(i, _, _)| *i);
    (done, interrupted)
}

/// Ctrl-C on the command line, heard from the moment it is armed: a press
/// between two stages (a batch's upload, polling, download, grading) stops
/// the next one. Off (the console, which has its own keys), it never fires.
pub struct Interrupt {
    on: bool,
    listening: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
    heard: bool,
}

impl Interrupt {
    pub fn new(on: bool) -> Self {
        Self {
            on,
            listening: None,
            heard: false,
        }
    }

    /// Starts listening (within a runtime): from here on Ctrl-C is heard, and
    /// no longer ends the process. Until then it does (a budget question on
    /// the terminal is still answered with Ctrl-C).
    pub async fn arm(&mut self) {
        if !self.on || self.listening.is_some() {
            return;
        }
        let mut listening: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
            Box::pin(async {
                let _ = tokio::signal::ctrl_c().await;
            });
        // Polled once now: the handler is installed and a press from here on is kept.
        let heard = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(listening.as_mut().poll(cx).is_ready())
        })
        .await;
        self.heard |= heard;
        self.listening = Some(listening);
    }

    /// Ready when Ctrl-C has been pressed (at once if it was, earlier).
    pub async fn pressed(&mut self) {
        self.arm().await;
        if self.heard {
            return;
        }
        match self.listening.as_mut() {
            Some(listening) => {
                listening.await;
                self.heard = true;
            }
            None => std::future::pending().await,
        }
    }
}

/// What every case of a run shares.
pub(crate) struct Shared<'a> {
    ctx: &'a Context,
    prompt: &'a Prompt,
    pub provider: crate::provider::Provider,
    origin: crate::chat::machine::Origin,
    grade: Graders<'a>,
    gate: &'a Mutex<Gate>,
    cache: Option<&'a super::cache::Cache>,
}

impl<'a> Shared<'a> {
    pub(crate) fn new(
        ctx: &'a Context,
        prompt: &'a Prompt,
        provider: crate::provider::Provider,
        gate: &'a Mutex<Gate>,
        cache: Option<&'a super::cache::Cache>,
        opts: &Options,
    ) -> Self {
        let grade = Graders {
            cache,
            gate,
            ctx,
            provider: provider.clone(),
            judge_model: opts
                .judge_model
                .clone()
                .unwrap_or_else(|| ctx.profile.model.clone()),
            embedding_model: opts
                .embedding_model
                .clone()
                .unwrap_or_else(|| graders::EMBEDDING_MODEL.into()),
            workdir: opts.dir.clone(),
        };
        Shared {
            ctx,
            prompt,
            provider,
            origin: crate::context::origin(&ctx.profile, "test"),
            grade,
            gate,
            cache,
        }
    }
}

impl Shared<'_> {
    /// A case's conversation on `target`, the machine over it, the text sent
    /// and the effects that start its request; or why it cannot be asked.
    pub(crate) fn start(
        &self,
        case: &Case,
        target: Target,
    ) -> Result<(Machine, String, Vec<Effect>), String> {
        let (conv, text) = conversation(self.prompt, &case.vars, &target.model)
            .map_err(|e| format!("{}: {e}", case.name))?;
        let mut m = Machine::new(conv, self.origin.clone(), self.ctx.prices());
        m.endpoint = self.ctx.price_endpoint(&self.ctx.profile);
        let first = m.handle(
            Input::Compare {
                text: text.clone(),
                targets: vec![target],
            },
            Instant::now(),
            Utc::now(),
        );
        Ok((m, text, first))
    }

    /// One case on one target: asks, grades, tags the rows.
    async fn one(&self, case: &Case, target: Target, repeat: u32) -> (CaseResult, Vec<LedgerRow>) {
        let Shared { ctx, gate, .. } = self;
        let label = target.label.clone();
        let mut result = CaseResult {
            case: case.name.clone(),
            target: label,
            repeat,
            ..CaseResult::default()
        };
        let (mut m, text, first) = match self.start(case, target) {
            Ok(started) => started,
            Err(e) => {
                result.errored = true;
                result.failures = vec![e.clone()];
                result.error = Some(e);
                return (result, Vec::new());
            }
        };
        let hit = super::cache::replay(ctx, &self.provider, &mut m, &first, self.cache, repeat);
        let (rows, estimate) = match hit {
            Some(_) => (Vec::new(), 0),
            None => match self.admit(&m, &first) {
                Ok(estimate) => {
                    let rows = super::cache::send(
                        ctx,
                        self.provider.clone(),
                        &mut m,
                        first,
                        self.cache,
                        repeat,
                        |_| true,
                    )
                    .await;
                    (rows, estimate)
                }
                Err(why) => {
                    result.skipped = true;
                    result.failures = vec![format!("skipped, not sent: {why}")];
                    return (result, Vec::new());
                }
            },
        };
        let spent: i64 = rows.iter().filter_map(|r| r.cost_micros).sum();
        gate.lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(spent - estimate);
        self.graded(case, result, &text, &m, rows, hit.as_ref())
            .await
    }

    /// Grades the answer `m` ends with (from the cache when `hit`): the result
    /// filled in, and the answer's `rows` tagged with its verdict, then the graders'.
    pub(crate) async fn graded(
        &self,
        case: &Case,
        mut result: CaseResult,
        text: &str,
        m: &Machine,
        mut rows: Vec<LedgerRow>,
        hit: Option<&super::cache::Hit>,
    ) -> (CaseResult, Vec<LedgerRow>) {
        let Shared { gate, grade, .. } = self;
        let node = &m.conv.nodes[m.conv.last()];
        let meta = node.meta.clone().unwrap_or_default();
        let outcome = Outcome {
            text: node.content.to_string(),
            // A cached answer cost nothing this time; it took what it took the first time.
            cost_micros: if hit.is_some() {
                Some(0)
            } else {
                meta.cost_micros
            },
            latency_ms: hit.map_or(meta.duration_ms, |h| h.latency_ms),
        };
        let mut grader_rows = Vec::new();
        if meta.status == AnswerStatus::Done {
            for check in &case.checks {
                let check = check.filled(&case.values);
                let (verdict, r) = grade.grade(&check, text, &outcome, &case.values).await;
                grader_rows.extend(r);
                result.verdicts.push(verdict);
            }
            let (score, pass) = graders::overall(&result.verdicts, case.threshold);
            result.score = score;
            result.pass = pass == Some(true);
            result.errored = pass.is_none();
        } else {
            // An answer that did not finish is not graded (a judge would cost for nothing).
            result.errored = true;
        }
        result.failures = failures(&result, meta.error.as_deref(), meta.status);
        let graded: i64 = grader_rows.iter().filter_map(|r| r.cost_micros).sum();
        gate.lock().unwrap_or_else(|e| e.into_inner()).add(graded);
        for row in &mut rows {
            row.tags = vec![
                "test".into(),
                if result.pass { "pass" } else { "fail" }.into(),
            ];
        }
        rows.extend(grader_rows);
        result.answer = outcome.text;
        result.cost_micros = outcome.cost_micros;
        result.grader_cost_micros = graded;
        result.latency_ms = outcome.latency_ms;
        result.tokens = match hit {
            Some(h) => h.tokens,
            None => meta.usage.map(|u| u.input + u.output).unwrap_or(0),
        };
        result.cached = hit.is_some();
        result.cached_cost_micros = hit.and_then(|h| h.cost_micros);
        result.error = meta.error;
        (result, rows)
    }
}

impl Shared<'_> {
    /// The cached answer to what `first` starts (none with `--no-cache`).
    pub(crate) fn cached(&self, first: &[Effect], sample: u32) -> Option<super::cache::Hit> {
        super::cache::lookup(self.ctx, &self.provider, first, self.cache, sample)
    }

    /// Keeps the answer `m` ended with in the cache (none with `--no-cache`).
    pub(crate) fn keep(&self, m: &Machine, first: &[Effect], sample: u32) {
        super::cache::keep(self.ctx, &self.provider, m, first, self.cache, sample);
    }

    /// Counts `micros` spent by this run against its budget gate.
    pub(crate) fn count(&self, micros: i64) {
        self.gate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(micros);
    }

    /// Asks the budget gate for what `first` would cost: the estimate, now counted.
    fn admit(&self, m: &Machine, first: &[Effect]) -> Result<i64, String> {
        let estimate: i64 = first
            .iter()
            .filter_map(|e| match e {
                Effect::Start { request, .. } => Some(crate::usage::gate::estimate(m, request)),
                _ => None,
            })
            .sum();
        let mut g = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        g.check(estimate).inspect(|()| g.add(estimate))?;
        Ok(estimate)
    }
}

/// What failed, in words: the answer's error first, then each check that
/// failed or could not decide.
fn failures(r: &CaseResult, error: Option<&str>, status: AnswerStatus) -> Vec<String> {
    let mut out = Vec::new();
    if status != AnswerStatus::Done {
        out.push(error.unwrap_or("the answer did not finish").to_string());
    }
    for v in &r.verdicts {
        if let Some(e) = &v.error {
            out.push(format!("{}: error: {e}", v.check));
        } else if !v.pass && !r.pass {
            out.push(format!(
                "{}: {}",
                v.check,
                v.reason.as_deref().unwrap_or("failed")
            ));
        }
    }
    if !r.pass && !r.errored && out.is_empty() {
        out.push(format!("score {:.2} under the threshold", r.score));
    }
    out
}
