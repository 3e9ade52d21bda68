//! What the Evals pane holds: the kept runs, and the one opened as a matrix
//! (which cases show, in which order, and the cell under the cursor).

use crate::evals::report::{self, Grid, TargetSummary};
use crate::evals::store::RunInfo;
use crate::library::testing::CaseResult;

#[derive(Default)]
pub struct EvalsPane {
    /// The kept runs, newest first: `None` until read, an error when the
    /// database could not be read.
    pub runs: Option<Result<Vec<RunInfo>, String>>,
    pub selected: usize,
    /// The run marked to be opened beside the next one chosen.
    pub marked: Option<String>,
    pub open: Option<OpenRun>,
}

/// The order of the matrix's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseOrder {
    /// As the run listed them.
    #[default]
    Run,
    /// The most failing runs first.
    Failures,
    /// The most expensive first (answers and graders).
    Cost,
    /// The slowest first.
    Latency,
}

impl CaseOrder {
    pub fn label(self) -> &'static str {
        match self {
            CaseOrder::Run => "run order",
            CaseOrder::Failures => "failures first",
            CaseOrder::Cost => "cost",
            CaseOrder::Latency => "latency",
        }
    }

    fn next(self) -> Self {
        match self {
            CaseOrder::Run => CaseOrder::Failures,
            CaseOrder::Failures => CaseOrder::Cost,
            CaseOrder::Cost => CaseOrder::Latency,
            CaseOrder::Latency => CaseOrder::Run,
        }
    }
}

/// A kept run, opened.
pub struct OpenRun {
    pub info: RunInfo,
    pub results: Vec<CaseResult>,
    pub grid: Grid,
    pub summaries: Vec<TargetSummary>,
    /// The cases shown, as indexes into `grid.cases`, filtered and ordered.
    pub rows: Vec<usize>,
    /// The selected row (of `rows`) and target (of `grid.targets`).
    pub row: usize,
    pub column: usize,
    pub failures_only: bool,
    pub order: CaseOrder,
    /// The selected cell's answers and verdicts show below the matrix.
    pub detail: bool,
}

impl OpenRun {
    pub fn new(info: RunInfo, results: Vec<CaseResult>) -> Self {
        let grid = Grid::of(&results);
        let summaries = report::by_target(&results);
        let mut run = Self {
            info,
            results,
            grid,
            summaries,
            rows: Vec::new(),
            row: 0,
            column: 0,
            failures_only: false,
            order: CaseOrder::Run,
            detail: false,
        };
        run.arrange();
        run
    }

    /// The runs of one case on every target.
    fn case_runs(&self, case: usize) -> impl Iterator<Item = &CaseResult> {
        let name = &self.grid.cases[case];
        self.results.iter().filter(move |r| &r.case == name)
    }

    /// Rebuilds the rows after a filter or order change, keeping the selected case.
    pub fn arrange(&mut self) {
        let kept = self.rows.get(self.row).copied();
        let mut rows: Vec<usize> = (0..self.grid.cases.len())
            .filter(|&c| !self.failures_only || self.case_runs(c).any(|r| !r.pass))
            .collect();
        let key = |c: usize| -> i64 {
            let runs = self.case_runs(c);
            match self.order {
                CaseOrder::Run => 0,
                CaseOrder::Failures => -(runs.filter(|r| !r.pass).count() as i64),
                CaseOrder::Cost => -runs.map(CaseResult::asking_cost).sum::<i64>(),
                CaseOrder::Latency => {
                    -(runs.filter_map(|r| r.latency_ms).max().unwrap_or(0) as i64)
                }
            }
        };
        // Stable: ties keep the run's order.
        rows.sort_by_key(|&c| key(c));
        self.row = kept
            .and_then(|k| rows.iter().position(|&c| c == k))
            .unwrap_or(0);
        self.rows = rows;
    }

    pub fn toggle_failures(&mut self) {
        self.failures_only = !self.failures_only;
        self.arrange();
    }

    pub fn next_order(&mut self) {
        self.order = self.order.next();
        self.arrange();
    }

    pub fn step_row(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.row = (self.row as isize + delta).clamp(0, last) as usize;
    }

    pub fn step_column(&mut self, delta: isize) {
        let last = self.grid.targets.len().saturating_sub(1) as isize;
        self.column = (self.column as isize + delta).clamp(0, last) as usize;
    }

    /// The selected cell: its case, its target and its runs.
    pub fn cell(&self) -> Option<(&str, &str, Vec<&CaseResult>)> {
        let case = self.grid.cases.get(*self.rows.get(self.row)?)?;
        let target = self.grid.targets.get(self.column)?;
        Some((case, target, report::cell(&self.results, case, target)))
    }
}
