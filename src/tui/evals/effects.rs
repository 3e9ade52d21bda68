//! The app's work for the Evals pane: reading the kept runs and one run's
//! results from the evals database on a thread, and applying what comes back.

use crate::evals::store::{self, RunInfo};
use crate::library::testing::CaseResult;
use crate::tui::app::{App, Msg};
use crate::tui::core::state::Level;
use crate::tui::evals::OpenRun;

impl App {
    pub(in crate::tui) fn load_eval_runs(&mut self) {
        let (db, tx) = (self.ctx.paths.evals_file(), self.tx.clone());
        std::thread::spawn(move || {
            // No database yet is no runs yet, not an error (and none is made).
            let runs = match db.exists() {
                true => store::list_runs(&db, None),
                false => Ok(Vec::new()),
            };
            let _ = tx.send(Msg::EvalRuns(runs));
        });
    }

    pub(in crate::tui) fn open_eval_run(&mut self, id: String) {
        let (db, tx) = (self.ctx.paths.evals_file(), self.tx.clone());
        std::thread::spawn(move || {
            let _ = tx.send(Msg::EvalRun(store::load_run(&db, &id).map(Box::new)));
        });
    }

    pub(in crate::tui) fn compare_eval_runs(&mut self, earlier: String, later: String) {
        let (db, tx) = (self.ctx.paths.evals_file(), self.tx.clone());
        std::thread::spawn(move || {
            let both = store::load_run(&db, &earlier).and_then(|a| {
                let b = store::load_run(&db, &later)?;
                Ok(Box::new(crate::evals::report::beside(a, b)))
            });
            let _ = tx.send(Msg::EvalRun(both));
        });
    }

    pub(in crate::tui) fn on_eval_runs(&mut self, runs: Result<Vec<RunInfo>, String>) {
        let pane = &mut self.state.evals;
        let count = runs.as_ref().map_or(0, Vec::len);
        pane.selected = pane.selected.min(count.saturating_sub(1));
        pane.runs = Some(runs);
    }

    pub(in crate::tui) fn on_eval_run(
        &mut self,
        run: Result<Box<(RunInfo, Vec<CaseResult>)>, String>,
    ) {
        match run {
            Ok(run) => {
                let (info, results) = *run;
                self.state.evals.open = Some(OpenRun::new(info, results));
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }
}
