//! Keys of the Evals pane: the list of kept runs, then a run's matrix (move
//! between cells, open one, filter to failures, change the order).

use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Pane, State};

pub fn apply(state: &mut State, action: Action) -> Vec<Command> {
    let pane = &mut state.evals;
    let Some(run) = &mut pane.open else {
        let count = match &pane.runs {
            Some(Ok(runs)) => runs.len(),
            _ => 0,
        };
        match action {
            Action::Up => pane.selected = pane.selected.saturating_sub(1),
            Action::Down => pane.selected = (pane.selected + 1).min(count.saturating_sub(1)),
            Action::Open => {
                if let Some(Ok(runs)) = &pane.runs
                    && let Some(run) = runs.get(pane.selected)
                {
                    return match pane.marked.take() {
                        // The list is newest first: the one further down is the earlier.
                        Some(marked) if marked != run.id => {
                            let marked_at = runs.iter().position(|r| r.id == marked);
                            if marked_at > Some(pane.selected) {
                                vec![Command::CompareEvalRuns(marked, run.id.clone())]
                            } else {
                                vec![Command::CompareEvalRuns(run.id.clone(), marked)]
                            }
                        }
                        _ => vec![Command::OpenEvalRun(run.id.clone())],
                    };
                }
            }
            Action::CompareRuns => {
                if let Some(Ok(runs)) = &pane.runs
                    && let Some(run) = runs.get(pane.selected)
                {
                    pane.marked = match pane.marked.take() {
                        Some(id) if id == run.id => None,
                        _ => Some(run.id.clone()),
                    };
                }
            }
            Action::Close => state.pane = Pane::Playground,
            Action::Refresh => return vec![Command::LoadEvalRuns],
            _ => {}
        }
        return Vec::new();
    };
    match action {
        Action::Up => run.step_row(-1),
        Action::Down => run.step_row(1),
        Action::PrevBranch => run.step_column(-1),
        Action::NextBranch => run.step_column(1),
        Action::Open => run.detail = !run.detail,
        Action::FilterFailures => run.toggle_failures(),
        Action::CycleSort => run.next_order(),
        // Two runs side by side are read again as two (their id is "A + B").
        Action::Refresh => {
            return vec![match run.info.id.split_once(" + ") {
                Some((a, b)) => Command::CompareEvalRuns(a.into(), b.into()),
                None => Command::OpenEvalRun(run.info.id.clone()),
            }];
        }
        Action::Close if run.detail => run.detail = false,
        Action::Close => pane.open = None,
        _ => {}
    }
    Vec::new()
}
