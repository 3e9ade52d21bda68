//! Running prompts: the conversation a filled prompt starts, and its test
//! cases against several models at once (bounded), each call in the ledger
//! tagged as a test with its verdict.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;
use serde::Serialize;

use super::Prompt;
use super::assertions::Outcome;
use crate::chat::conversation::{AnswerStatus, Conversation, PromptRef, Role};
use crate::chat::machine::{Effect, Input, Machine};
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
        Some(m) if m.role == WireRole::User => m.content,
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
    let system: Vec<String> = messages
        .iter()
        .filter(|m| m.role == WireRole::System)
        .map(|m| m.content.clone())
        .collect();
    conv.system = system.join("\n\n");
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

/// One cell of the matrix: a case on a target.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub case: String,
    pub target: String,
    pub pass: bool,
    pub failures: Vec<String>,
    pub answer: String,
    pub cost_micros: Option<i64>,
    pub latency_ms: Option<u64>,
    pub tokens: u64,
    pub error: Option<String>,
    /// Not sent: a budget was reached before it started.
    pub skipped: bool,
}

/// A finished test run: the matrix and the ledger rows to write.
pub type TestRun = (Vec<CaseResult>, Vec<LedgerRow>);

/// Every test case of `prompt` on every target (`model`, `model@profile`...),
/// at most `CONCURRENCY` at a time. Returns the matrix (cases × targets, in
/// order) and the ledger rows, tagged `test` and `pass` or `fail`. Once `gate`
/// refuses, no new request starts: the cases left are reported as skipped.
pub async fn run_tests(
    ctx: &Context,
    prompt: &Prompt,
    targets: &[String],
    gate: &Mutex<Gate>,
) -> Result<TestRun, String> {
    if prompt.meta.tests.is_empty() {
        return Err(format!(
            "{} has no [[tests]] in its front matter",
            prompt.meta.name
        ));
    }
    let targets: Vec<String> = if targets.is_empty() {
        vec![model_for(prompt, None, &ctx.profile.model)]
    } else {
        targets.to_vec()
    };
    let parsed = ctx.compare_targets(&targets, &prompt.meta.params)?;
    let provider = ctx.provider(&ctx.profile, 0)?;
    let mut jobs = Vec::new();
    for case in &prompt.meta.tests {
        for target in &parsed {
            let (conv, text) = conversation(prompt, &case.vars, &target.model)
                .map_err(|e| format!("test {:?}: {e}", case.name))?;
            jobs.push((case, target.clone(), conv, text));
        }
    }
    let origin = crate::context::origin(&ctx.profile, "test");
    let results: Vec<(usize, CaseResult, Vec<LedgerRow>)> =
        futures_util::stream::iter(jobs.into_iter().enumerate())
            .map(|(i, (case, target, conv, text))| {
                let provider = provider.clone();
                let origin = origin.clone();
                async move {
                    let label = target.label.clone();
                    let mut m = Machine::new(conv, origin, Arc::clone(&ctx.prices));
                    m.endpoint = ctx.price_endpoint(&ctx.profile);
                    let first = m.handle(
                        Input::Compare {
                            text,
                            targets: vec![target],
                        },
                        Instant::now(),
                        Utc::now(),
                    );
                    let estimate: i64 = first
                        .iter()
                        .filter_map(|e| match e {
                            Effect::Start { request, .. } => {
                                Some(crate::usage::gate::estimate(&m, request))
                            }
                            _ => None,
                        })
                        .sum();
                    let admitted = {
                        let mut g = gate.lock().unwrap_or_else(|e| e.into_inner());
                        g.check(estimate).inspect(|()| g.add(estimate))
                    };
                    if let Err(why) = admitted {
                        return (i, skipped(case.name.clone(), label, why), Vec::new());
                    }
                    let mut rows =
                        crate::runner::stream_all(ctx, provider, &mut m, first, &mut |_| {}).await;
                    let node = &m.conv.nodes[m.conv.last()];
                    let meta = node.meta.clone().unwrap_or_default();
                    let outcome = Outcome {
                        text: node.content.clone(),
                        cost_micros: meta.cost_micros,
                        latency_ms: meta.duration_ms,
                    };
                    let mut failures: Vec<String> = case
                        .assertions
                        .iter()
                        .filter_map(|a| {
                            a.check(&outcome).map(|why| format!("{}: {why}", a.label()))
                        })
                        .collect();
                    if meta.status != AnswerStatus::Done {
                        failures.insert(
                            0,
                            meta.error
                                .clone()
                                .unwrap_or_else(|| "the answer did not finish".into()),
                        );
                    }
                    let spent: i64 = rows.iter().filter_map(|r| r.cost_micros).sum();
                    gate.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .add(spent - estimate);
                    let pass = failures.is_empty();
                    for row in &mut rows {
                        row.tags = vec!["test".into(), if pass { "pass" } else { "fail" }.into()];
                    }
                    let result = CaseResult {
                        case: case.name.clone(),
                        target: label,
                        pass,
                        failures,
                        answer: outcome.text,
                        cost_micros: meta.cost_micros,
                        latency_ms: meta.duration_ms,
                        tokens: meta.usage.map(|u| u.input + u.output).unwrap_or(0),
                        error: meta.error.clone(),
                        skipped: false,
                    };
                    (i, result, rows)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut results = results;
    results.sort_by_key(|(i, _, _)| *i);
    let rows = results.iter().flat_map(|(_, _, r)| r.clone()).collect();
    Ok((results.into_iter().map(|(_, r, _)| r).collect(), rows))
}

/// A case not run because a budget was reached: it fails, saying why.
fn skipped(case: String, target: String, why: String) -> CaseResult {
    CaseResult {
        case,
        target,
        pass: false,
        failures: vec![format!("skipped, not sent: {why}")],
        answer: String::new(),
        cost_micros: None,
        latency_ms: None,
        tokens: 0,
        error: None,
        skipped: true,
    }
}
