//! Regressions between versions: an earlier version of a prompt (a version
//! hash an eval or the ledger knows, or a git revision of the library) run on
//! the same cases and models as the current file, and what changed — cases
//! that newly fail or newly pass, and score, cost and latency per model. The
//! gate fails only on a new failure, or on a cost or latency rise over the
//! limits given: the check a team puts in CI.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::report::percentile;
use crate::library::prompt::{self, Prompt};
use crate::library::testing::CaseResult;

/// An earlier version of a prompt file.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    pub version: String,
    pub text: String,
    /// Where it came from, for people: `git HEAD~1 (3f2a…)` or `kept by an earlier run`.
    pub from: String,
}

/// How many commits are searched for a version hash.
const MAX_COMMITS: usize = 500;

/// Finds `rev` for the prompt file at `file`: a version an earlier eval kept
/// (in the evals database at `db`), a git revision of the file's repository,
/// or a version hash (as the ledger shows it) found in the file's git history.
pub fn resolve(rev: &str, file: &Path, db: &Path) -> Result<Earlier, String> {
    let rev = rev.trim();
    // A revision starting with `-` would reach git as an option (`--output=...`).
    if rev.is_empty() || rev.starts_with('-') || rev.chars().any(|c| c.is_whitespace() || c == '\0')
    {
        return Err(format!(
            "--against {rev:?}: not a version or a git revision"
        ));
    }
    let is_hash = rev.len() == 8 && rev.chars().all(|c| c.is_ascii_hexdigit());
    if is_hash && let Some(text) = super::store::version_text(db, rev) {
        return Ok(Earlier {
            version: rev.to_string(),
            text,
            from: "kept by an earlier run".into(),
        });
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let show = |commit: &str| git(dir, &["show", &format!("{commit}:./{name}")]);
    if let Ok(text) = show(rev) {
        let commit =
            git(dir, &["rev-parse", "--short", &format!("{rev}^{{commit}}")]).unwrap_or_default();
        return Ok(Earlier {
            version: prompt::version_of(&text),
            text,
            from: format!("git {rev} ({})", commit.trim()),
        });
    }
    if is_hash && let Ok(log) = git(dir, &["log", "--format=%h", "--", &name]) {
        for commit in log.lines().take(MAX_COMMITS) {
            if let Ok(text) = show(commit)
                && prompt::version_of(&text) == rev
            {
                return Ok(Earlier {
                    version: rev.to_string(),
                    text,
                    from: format!("git {commit}"),
                });
            }
        }
    }
    Err(format!(
        "--against {rev}: no earlier run kept version {rev}, and it is no git revision of {}",
        file.display()
    ))
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The earlier version, parsed, with the current file's cases, dataset and
/// checks: only its messages, parameters, model and variables are its own.
pub fn earlier_prompt(current: &Prompt, earlier: &Earlier) -> Result<Prompt, String> {
    let mut old = prompt::parse(&earlier.text)
        .map_err(|e| format!("version {} ({}): {e}", earlier.version, earlier.from))?;
    old.meta.tests = current.meta.tests.clone();
    old.meta.dataset = current.meta.dataset.clone();
    old.meta.checks = current.meta.checks.clone();
    old.meta.threshold = current.meta.threshold;
    Ok(old)
}

/// A case whose verdict changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub case: String,
    pub target: String,
    pub repeat: u32,
    /// Why it fails now (for a newly failing case).
    pub failures: Vec<String>,
}

/// One model, before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    pub target: String,
    pub passed_before: usize,
    pub passed_after: usize,
    pub runs: usize,
    pub score_before: f64,
    pub score_after: f64,
    /// Answers (cached ones at what they cost when asked) and graders.
    pub cost_before_micros: i64,
    pub cost_after_micros: i64,
    pub cost_change_pct: Option<f64>,
    pub p50_before_ms: Option<u64>,
    pub p50_after_ms: Option<u64>,
    pub latency_change_pct: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comparison {
    pub newly_failing: Vec<Change>,
    pub newly_passing: Vec<Change>,
    pub deltas: Vec<Delta>,
}

fn change_pct(before: f64, after: f64) -> Option<f64> {
    (before > 0.0).then(|| (after - before) / before * 100.0)
}

/// Matches the runs by case, model and repeat (runs skipped at the budget are left out).
pub fn compare(before: &[CaseResult], after: &[CaseResult]) -> Comparison {
    let key = |r: &CaseResult| (r.case.clone(), r.target.clone(), r.repeat);
    let old: HashMap<_, &CaseResult> = before
        .iter()
        .filter(|r| !r.skipped)
        .map(|r| (key(r), r))
        .collect();
    let mut out = Comparison::default();
    let mut targets: Vec<&str> = Vec::new();
    let mut pairs: Vec<(&CaseResult, &CaseResult)> = Vec::new();
    for new in after.iter().filter(|r| !r.skipped) {
        let Some(was) = old.get(&key(new)) else {
            continue;
        };
        if !targets.contains(&new.target.as_str()) {
            targets.push(&new.target);
        }
        pairs.push((was, new));
        let change = || Change {
            case: new.case.clone(),
            target: new.target.clone(),
            repeat: new.repeat,
            failures: if new.pass {
                Vec::new()
            } else {
                new.failures.clone()
            },
        };
        match (was.pass, new.pass) {
            (true, false) => out.newly_failing.push(change()),
            (false, true) => out.newly_passing.push(change()),
            _ => {}
        }
    }
    let cost = CaseResult::asking_cost;
    for t in targets {
        let mine: Vec<&(&CaseResult, &CaseResult)> =
            pairs.iter().filter(|(_, n)| n.target == t).collect();
        let n = mine.len().max(1) as f64;
        let side = |after: bool| {
            let rs: Vec<&CaseResult> = mine.iter().map(|p| if after { p.1 } else { p.0 }).collect();
            let mut ms: Vec<u64> = rs.iter().filter_map(|r| r.latency_ms).collect();
            ms.sort_unstable();
            (
                rs.iter().filter(|r| r.pass).count(),
                rs.iter().map(|r| r.score).sum::<f64>() / n,
                rs.iter().map(|r| cost(r)).sum::<i64>(),
                percentile(&ms, 50),
            )
        };
        let (pb, sb, cb, lb) = side(false);
        let (pa, sa, ca, la) = side(true);
        out.deltas.push(Delta {
            target: t.to_string(),
            passed_before: pb,
            passed_after: pa,
            runs: mine.len(),
            score_before: sb,
            score_after: sa,
            cost_before_micros: cb,
            cost_after_micros: ca,
            cost_change_pct: change_pct(cb as f64, ca as f64),
            p50_before_ms: lb,
            p50_after_ms: la,
            latency_change_pct: match (lb, la) {
                (Some(b), Some(a)) => change_pct(b as f64, a as f64),
                _ => None,
            },
        });
    }
    out
}

/// Why the gate fails (empty: it passes). Limits are percentages.
pub fn gate(
    c: &Comparison,
    max_cost_pct: Option<f64>,
    max_latency_pct: Option<f64>,
) -> Vec<String> {
    let mut why = Vec::new();
    if !c.newly_failing.is_empty() {
        why.push(format!("{} newly failing", c.newly_failing.len()));
    }
    for d in &c.deltas {
        if let (Some(max), Some(pct)) = (max_cost_pct, d.cost_change_pct)
            && pct > max
        {
            why.push(format!(
                "{}: cost up {pct:.0}%, over --max-cost-increase {max}%",
                d.target
            ));
        }
        if let (Some(max), Some(pct)) = (max_latency_pct, d.latency_change_pct)
            && pct > max
        {
            why.push(format!(
                "{}: p50 latency up {pct:.0}%, over --max-latency-increase {max}%",
                d.target
            ));
        }
    }
    why
}

/// What changed, for a terminal.
pub fn text(c: &Comparison, before: &str, after: &str) -> String {
    let usd = crate::usage::format_usd;
    let pct = |p: Option<f64>| p.map_or(String::new(), |p| format!(" ({p:+.0}%)"));
    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{v}ms"));
    let mut out = format!("against {before} → {after}\n");
    for ch in &c.newly_failing {
        let why = ch
            .failures
            .first()
            .map_or(String::new(), |f| format!(": {f}"));
        out.push_str(&format!(
            "newly failing: {} × {}{why}\n",
            ch.case, ch.target
        ));
    }
    for ch in &c.newly_passing {
        out.push_str(&format!("newly passing: {} × {}\n", ch.case, ch.target));
    }
    if c.newly_failing.is_empty() && c.newly_passing.is_empty() {
        out.push_str("no case changed its verdict\n");
    }
    for d in &c.deltas {
        out.push_str(&format!(
            "{}: passed {}/{} → {}/{} · score {:.2} → {:.2} · cost {} → {}{} · p50 {} → {}{}\n",
            d.target,
            d.passed_before,
            d.runs,
            d.passed_after,
            d.runs,
            d.score_before,
            d.score_after,
            usd(d.cost_before_micros),
            usd(d.cost_after_micros),
            pct(d.cost_change_pct),
            ms(d.p50_before_ms),
            ms(d.p50_after_ms),
            pct(d.latency_change_pct),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(case: &str, pass: bool, cost: i64, ms: u64) -> CaseResult {
        CaseResult {
            case: case.into(),
            target: "m".into(),
            repeat: 1,
            pass,
            score: if pass { 1.0 } else { 0.0 },
            cost_micros: Some(cost),
            latency_ms: Some(ms),
            ..CaseResult::default()
        }
    }

    #[test]
    fn new_failures_and_rises_over_the_limits_fail_the_gate() {
        let before = [r("a", true, 100, 100), r("b", false, 100, 100)];
        let after = [r("a", false, 100, 100), r("b", true, 150, 300)];
        let c = compare(&before, &after);
        assert_eq!(c.newly_failing[0].case, "a");
        assert_eq!(c.newly_passing[0].case, "b");
        assert_eq!(c.deltas[0].cost_change_pct, Some(25.0));
        assert_eq!(gate(&c, None, None), ["1 newly failing"]);
        let fixed = [r("a", true, 100, 300), r("b", true, 150, 300)];
        let c = compare(&before, &fixed);
        assert!(gate(&c, Some(30.0), None).is_empty());
        assert_eq!(gate(&c, Some(20.0), None).len(), 1);
        assert!(
            gate(&c, None, Some(200.0)).is_empty(),
            "p50 100 → 300 is +200%"
        );
        assert_eq!(gate(&c, None, Some(100.0)).len(), 1);
        // A cached answer counts at what it cost when asked, not at zero.
        let mut cached = fixed.clone();
        cached[1].cached = true;
        cached[1].cost_micros = Some(0);
        cached[1].cached_cost_micros = Some(150);
        assert_eq!(compare(&before, &cached).deltas[0].cost_after_micros, 250);
    }

    #[test]
    fn a_revision_that_looks_like_an_option_is_refused() {
        let dir = std::env::temp_dir();
        let err = resolve(
            "--output=/tmp/x",
            &dir.join("p.md"),
            &dir.join("none.sqlite3"),
        );
        assert!(err.unwrap_err().contains("not a version or a git revision"));
    }
}
