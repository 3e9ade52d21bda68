//! What a run comes to: per target, the pass rate, what it cost (answers and
//! graders), the cost of each passing answer, and p50/p95 latency; per cell
//! (a case on a target, repeated), the pass rate and the spread of scores.

use serde::Serialize;

use crate::library::testing::CaseResult;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetSummary {
    pub target: String,
    pub runs: usize,
    pub passed: usize,
    pub errored: usize,
    pub skipped: usize,
    /// Answers and graders together.
    pub cost_micros: i64,
    /// The run's cost over its passing answers: what one good answer costs.
    pub cost_per_pass_micros: Option<i64>,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
}

/// One summary per target, in the order targets first appear.
pub fn by_target(results: &[CaseResult]) -> Vec<TargetSummary> {
    let mut order: Vec<&str> = Vec::new();
    for r in results {
        if !order.contains(&r.target.as_str()) {
            order.push(&r.target);
        }
    }
    order
        .into_iter()
        .map(|t| {
            let mine: Vec<&CaseResult> = results.iter().filter(|r| r.target == t).collect();
            let passed = mine.iter().filter(|r| r.pass).count();
            let cost: i64 = mine
                .iter()
                .map(|r| r.cost_micros.unwrap_or(0) + r.grader_cost_micros)
                .sum();
            let mut ms: Vec<u64> = mine.iter().filter_map(|r| r.latency_ms).collect();
            ms.sort_unstable();
            TargetSummary {
                target: t.to_string(),
                runs: mine.len(),
                passed,
                errored: mine.iter().filter(|r| r.errored).count(),
                skipped: mine.iter().filter(|r| r.skipped).count(),
                cost_micros: cost,
                cost_per_pass_micros: (passed > 0).then(|| cost / passed as i64),
                p50_ms: percentile(&ms, 50),
                p95_ms: percentile(&ms, 95),
            }
        })
        .collect()
}

/// The cases and targets of a run, each in the order it first appears: the
/// rows and columns of its matrix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    pub cases: Vec<String>,
    pub targets: Vec<String>,
}

impl Grid {
    pub fn of(results: &[CaseResult]) -> Self {
        let mut grid = Grid::default();
        for r in results {
            if !grid.cases.contains(&r.case) {
                grid.cases.push(r.case.clone());
            }
            if !grid.targets.contains(&r.target) {
                grid.targets.push(r.target.clone());
            }
        }
        grid
    }
}

/// Two kept runs as one, to be read side by side: each target becomes
/// `target @ version` (or `@ run ID` when both ran the same version), cases
/// match by name; the earlier's columns come first.
pub fn beside(
    earlier: (crate::evals::store::RunInfo, Vec<CaseResult>),
    later: (crate::evals::store::RunInfo, Vec<CaseResult>),
) -> (crate::evals::store::RunInfo, Vec<CaseResult>) {
    let (a, b) = (earlier.0, later.0);
    let same = a.version == b.version;
    let tag = |info: &crate::evals::store::RunInfo| match same {
        true => format!("run {}", info.id.get(..6).unwrap_or(&info.id)),
        false => info.version.clone(),
    };
    let (ta, tb) = (tag(&a), tag(&b));
    let mut results = Vec::with_capacity(earlier.1.len() + later.1.len());
    for (mut r, t) in earlier
        .1
        .into_iter()
        .map(|r| (r, &ta))
        .chain(later.1.into_iter().map(|r| (r, &tb)))
    {
        r.target = format!("{} @ {t}", r.target);
        results.push(r);
    }
    let info = crate::evals::store::RunInfo {
        id: format!("{} + {}", a.id, b.id),
        prompt: if a.prompt == b.prompt {
            b.prompt.clone()
        } else {
            format!("{} / {}", a.prompt, b.prompt)
        },
        version: if same {
            b.version.clone()
        } else {
            format!("{} → {}", a.version, b.version)
        },
        against: None,
        started: b.started.clone(),
        runs: a.runs + b.runs,
        passed: a.passed + b.passed,
        interrupted: a.interrupted || b.interrupted,
    };
    (info, results)
}

/// The runs of one cell: a case on a target (several with `--repeat`).
pub fn cell<'a>(results: &'a [CaseResult], case: &str, target: &str) -> Vec<&'a CaseResult> {
    results
        .iter()
        .filter(|r| r.case == case && r.target == target)
        .collect()
}

/// The nearest-rank percentile of sorted `values`.
pub fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Pass count, runs, mean score and its standard deviation over repeats.
pub fn spread(runs: &[&CaseResult]) -> (usize, usize, f64, f64) {
    let n = runs.len();
    let passed = runs.iter().filter(|r| r.pass).count();
    if n == 0 {
        return (0, 0, 0.0, 0.0);
    }
    let mean = runs.iter().map(|r| r.score).sum::<f64>() / n as f64;
    let var = runs.iter().map(|r| (r.score - mean).powi(2)).sum::<f64>() / n as f64;
    (passed, n, mean, var.sqrt())
}

/// The summary lines a terminal shows under the matrix.
pub fn summary_text(summaries: &[TargetSummary]) -> String {
    let usd = crate::usage::format_usd;
    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{v}ms"));
    let mut out = String::new();
    for s in summaries {
        out.push_str(&format!(
            "{}: {}/{} passed{}{} · {} · {} per passing answer · p50 {} p95 {}\n",
            s.target,
            s.passed,
            s.runs,
            if s.errored > 0 {
                format!(", {} errored", s.errored)
            } else {
                String::new()
            },
            if s.skipped > 0 {
                format!(", {} skipped", s.skipped)
            } else {
                String::new()
            },
            usd(s.cost_micros),
            s.cost_per_pass_micros.map_or("-".into(), usd),
            ms(s.p50_ms),
            ms(s.p95_ms),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(target: &str, pass: bool, cost: i64, graded: i64, ms: u64) -> CaseResult {
        CaseResult {
            target: target.into(),
            pass,
            score: if pass { 1.0 } else { 0.0 },
            cost_micros: Some(cost),
            grader_cost_micros: graded,
            latency_ms: Some(ms),
            ..CaseResult::default()
        }
    }

    #[test]
    fn the_cost_of_a_passing_answer_counts_failures_and_graders() {
        let results = [
            r("a", true, 100, 50, 10),
            r("a", false, 100, 50, 30),
            r("a", true, 100, 50, 20),
            r("b", false, 10, 0, 5),
        ];
        let s = by_target(&results);
        assert_eq!((s[0].passed, s[0].runs, s[0].cost_micros), (2, 3, 450));
        assert_eq!(s[0].cost_per_pass_micros, Some(225));
        assert_eq!((s[0].p50_ms, s[0].p95_ms), (Some(20), Some(30)));
        assert_eq!(s[1].cost_per_pass_micros, None);
        let text = summary_text(&s);
        assert!(
            text.contains("b: 0/1 passed · $0.00001 · - per passing answer"),
            "{text}"
        );
        let runs: Vec<&CaseResult> = results[..3].iter().collect();
        let (p, n, mean, sd) = spread(&runs);
        assert_eq!((p, n), (2, 3));
        assert!((mean - 2.0 / 3.0).abs() < 1e-9 && (sd - 0.4714).abs() < 1e-3);
    }
}
