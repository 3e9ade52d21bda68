//! Running prompts: the conversation a filled prompt starts, and its test
//! cases against several models at once (bounded), each call in the ledger
//! tagged as a test with its verdict.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::Prompt;
use crate::chat::conversation::{Conversation, PromptRef, Role};
use crate::chat::request::WireRole;
use crate::context::Context;
use crate::usage::LedgerRow;
use crate::usage::gate::Gate;

/// Requests in flight at once during a test run.
pub const CONCURRENCY: usize = 4;

/// The conversation a filled prompt starts (system, example turns) and the
/// last user message, which is what gets sent.
pub fn conversation(
    prompt: &Prompt,
    vars: &BTreeMap<String, String>,
    model: &str,
) -> Result<(Conversation, String), String> {
    let mut messages = prompt.render(vars)?;
    let last = match messages.pop() {
        Some(m) if m.role == WireRole::User => m.content.into(),
        _ => {
            return Err(format!(
                "{}: the last section must be `# User`",
                prompt.meta.name
            ));
        }
    };
    let mut conv = Conversation::new(model, Utc::now());
    conv.params = prompt.meta.params.clone();
    conv.prompt = Some(PromptRef {
        name: prompt.meta.name.clone(),
        version: prompt.version.clone(),
    });
    conv.title = prompt.meta.name.clone();
    let system: Vec<&str> = messages
        .iter()
        .filter(|m| m.role == WireRole::System)
        .map(|m| m.content.as_str())
        .collect();
    conv.system = system.join("\n\n").into();
    let mut at = 0;
    for m in messages.iter().filter(|m| m.role != WireRole::System) {
        let role = if m.role == WireRole::Assistant {
            Role::Assistant
        } else {
            Role::User
        };
        at = conv.append(at, role, &m.content);
    }
    Ok((conv, last))
}

/// The model a prompt runs on: the one asked for, else the prompt's, else the profile's.
pub fn model_for(prompt: &Prompt, asked: Option<&str>, profile_model: &str) -> String {
    asked
        .map(str::to_string)
        .or_else(|| prompt.meta.model.clone())
        .unwrap_or_else(|| profile_model.to_string())
}

/// One cell of the matrix: a case on a target (one of its repeats).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseResult {
    pub case: String,
    pub target: String,
    /// Which run of the case this is (1-based; above 1 with `--repeat`).
    pub repeat: u32,
    pub pass: bool,
    /// The weighted score of the checks, 0..=1.
    pub score: f64,
    /// A grader could not decide, or the answer failed: not a pass.
    pub errored: bool,
    pub failures: Vec<String>,
    pub verdicts: Vec<crate::evals::graders::Verdict>,
    pub answer: String,
    pub cost_micros: Option<i64>,
    /// What judging and embedding this answer cost (part of the run's cost).
    pub grader_cost_micros: i64,
    pub latency_ms: Option<u64>,
    pub tokens: u64,
    pub error: Option<String>,
    /// Not sent: a budget was reached before it started.
    pub skipped: bool,
    /// Answered from the cache: cost nothing, no ledger row.
    pub cached: bool,
    /// For a cached answer, what it cost when it was asked (comparisons count that).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_cost_micros: Option<i64>,
}

impl CaseResult {
    /// What the answer costs, cached or not: the cost of asking for it.
    pub fn answer_cost(&self) -> Option<i64> {
        if self.cached {
            self.cached_cost_micros
        } else {
            self.cost_micros
        }
    }

    /// The answer's cost of asking (as `answer_cost`, unpriced as 0) and its graders':
    /// what comparisons of cases, models and versions weigh.
    pub fn asking_cost(&self) -> i64 {
        self.answer_cost().unwrap_or(0) + self.grader_cost_micros
    }
}

/// A finished test run: the matrix and the ledger rows to write.
pub type TestRun = (Vec<CaseResult>, Vec<LedgerRow>);

/// Runs every test case of `prompt` on every target (default: the prompt's
/// model), at most `CONCURRENCY` at a time, with the default eval options.
/// Returns the matrix (cases × targets, in order) and the ledger rows, tagged
/// `test` and `pass` or `fail` (grader calls `grader`). Once `gate` refuses,
/// no new request starts: the cases left are reported as skipped.
pub async fn run_tests(
    ctx: &Context,
    prompt: &Prompt,
    targets: &[String],
    gate: &Mutex<Gate>,
) -> Result<TestRun, String> {
    // The console knows no file for the prompt: datasets are found from the library's folder.
    let opts = crate::evals::run::Options {
        dir: ctx.library_dir(&ctx.profile),
        ..Default::default()
    };
    let report = crate::evals::run::run(ctx, prompt, targets, gate, &opts).await?;
    Ok((report.results, report.rows))
}
