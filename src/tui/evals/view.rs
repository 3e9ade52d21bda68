//! The Evals pane: the kept runs as a list; an opened run as its matrix
//! (cases × models: pass, score, cost, latency per cell), a summary row per
//! model, and below it, on Enter, the selected cell's answers and verdicts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::theme::Role as Look;
use crate::evals::report;
use crate::inert::inert;
use crate::library::testing::CaseResult;
use crate::tui::core::state::State;
use crate::tui::evals::OpenRun;
use crate::tui::theme::Styled;
use crate::tui::widgets::markdown;
use crate::tui::widgets::wrap::{truncate, wrap};
use crate::usage::format_usd;

/// The width of the matrix's first column, the case names.
const CASE: usize = 22;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let [body, hint] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let keys = match &state.evals.open {
        None if state.evals.marked.is_some() => {
            " ↑↓ run · Enter opens it beside the marked run ◆ · c unmark · Esc playground"
        }
        None => {
            " ↑↓ run · Enter open · c mark to compare with another · R refresh · Esc playground"
        }
        Some(run) if run.detail => " ↑↓←→ another cell · Enter or Esc close the answers",
        Some(_) => {
            " ↑↓ case · ←→ model · Enter answers and verdicts · f failures only · s order · Esc runs"
        }
    };
    frame.render_widget(
        Line::styled(
            truncate(keys, usize::from(hint.width)),
            state.theme.style(Look::Muted),
        ),
        hint,
    );
    match &state.evals.open {
        None => runs(frame, body, state),
        Some(run) => opened(frame, body, state, run),
    }
}

fn bordered(frame: &mut Frame, state: &State, area: Rect, title: &str) -> Rect {
    crate::tui::widgets::titled_box(frame, &state.theme, area, title)
}

fn runs(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let pane = &state.evals;
    let inner = bordered(frame, state, area, " Evals — kept test runs, newest first ");
    let width = usize::from(inner.width);
    let lines: Vec<Line> = match &pane.runs {
        None => vec![Line::styled(
            " reading the kept runs…",
            t.style(Look::Muted),
        )],
        Some(Err(e)) => vec![Line::styled(format!(" {}", inert(e)), t.style(Look::Error))],
        Some(Ok(runs)) if runs.is_empty() => wrap(
            &[Span::styled(
                " No runs kept yet: run a prompt's tests from the Library (Alt-3, then Alt-T) \
                 or with `llmdeck prompts test NAME`; each run is kept here.",
                t.style(Look::Muted),
            )],
            width,
        )
        .into_iter()
        .map(Line::from)
        .collect(),
        Some(Ok(runs)) => {
            // The selected run stays in view.
            let skip = pane
                .selected
                .saturating_sub(usize::from(inner.height).saturating_sub(1));
            runs.iter()
                .enumerate()
                .skip(skip)
                .map(|(i, r)| {
                    let when = r.started.get(..16).unwrap_or(&r.started).replace('T', " ");
                    let mark = if pane.marked.as_ref() == Some(&r.id) {
                        "◆"
                    } else {
                        " "
                    };
                    let mut text = format!(
                        "{mark}{when}  {}/{} passed  {} @ {}",
                        r.passed,
                        r.runs,
                        inert(&r.prompt),
                        inert(&r.version)
                    );
                    if let Some(a) = &r.against {
                        text.push_str(&format!(" (against {})", inert(a)));
                    }
                    if r.interrupted {
                        text.push_str(" · stopped");
                    }
                    text.push_str(&format!(" · {}", r.id));
                    let look = if i == pane.selected {
                        Look::Selection
                    } else if r.passed < r.runs {
                        Look::Warning
                    } else {
                        Look::Text
                    };
                    Line::styled(truncate(&text, width), t.style(look))
                })
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

fn opened(frame: &mut Frame, area: Rect, state: &State, run: &OpenRun) {
    let matrix_height = (run.rows.len() + run.summaries.len() + 4) as u16;
    let [top, bottom] = Layout::vertical([
        Constraint::Length(if run.detail {
            matrix_height.min(area.height / 2)
        } else {
            area.height
        }),
        Constraint::Min(0),
    ])
    .areas(area);
    matrix(frame, top, state, run);
    if run.detail {
        detail(frame, bottom, state, run);
    }
}

/// A cell's text: one run as ✓/✗ with its score, or repeats as passes of runs
/// with the mean score and its spread; then cost and latency.
fn cell_text(runs: &[&CaseResult]) -> (String, Look) {
    let (passed, n, mean, sd) = report::spread(runs);
    let cost: i64 = runs.iter().map(|r| r.asking_cost()).sum();
    let mut ms: Vec<u64> = runs.iter().filter_map(|r| r.latency_ms).collect();
    ms.sort_unstable();
    let latency = report::percentile(&ms, 50).map_or("–".into(), |v| format!("{v}ms"));
    let (mark, look) = match runs {
        [] => return ("".into(), Look::Muted),
        [one] if one.skipped => return ("– skipped".into(), Look::Muted),
        [one] if one.errored => ("! error".to_string(), Look::Error),
        [one] if one.pass => (format!("✓ {:.2}", one.score), Look::Success),
        [one] => (format!("✗ {:.2}", one.score), Look::Error),
        _ => (
            format!("{passed}/{n} {mean:.2}±{sd:.2}"),
            if passed == n {
                Look::Success
            } else if passed == 0 {
                Look::Error
            } else {
                Look::Warning
            },
        ),
    };
    (format!("{mark} {} {latency}", format_usd(cost)), look)
}

fn matrix(frame: &mut Frame, area: Rect, state: &State, run: &OpenRun) {
    let t = &state.theme;
    let info = &run.info;
    let title = format!(
        " {} @ {} — {}/{} passed · {}{} · run {} ",
        inert(&info.prompt),
        inert(&info.version),
        info.passed,
        info.runs,
        run.order.label(),
        if run.failures_only {
            " · failures only"
        } else {
            ""
        },
        info.id
    );
    let inner = bordered(frame, state, area, &title);
    let targets = &run.grid.targets;
    let col = (usize::from(inner.width).saturating_sub(CASE) / targets.len().max(1)).max(12);
    let mut lines = vec![Line::from(
        std::iter::once(Span::styled(
            format!("{:<CASE$}", "case"),
            t.style(Look::Heading),
        ))
        .chain(targets.iter().map(|x| {
            Span::styled(
                format!("{:<col$}", truncate(&inert(x), col - 1)),
                t.style(Look::Heading),
            )
        }))
        .collect::<Vec<_>>(),
    )];
    if run.rows.is_empty() {
        lines.push(Line::styled(
            " every case passed on every model (f shows them all)",
            t.style(Look::Muted),
        ));
    }
    for (ri, &c) in run.rows.iter().enumerate() {
        let case = &run.grid.cases[c];
        let mut spans = vec![Span::styled(
            format!("{:<CASE$}", truncate(&inert(case), CASE - 1)),
            t.style(if ri == run.row {
                Look::Heading
            } else {
                Look::Text
            }),
        )];
        for (xi, x) in targets.iter().enumerate() {
            let (text, look) = cell_text(&report::cell(&run.results, case, x));
            let style = if ri == run.row && xi == run.column {
                t.style(Look::Selection)
            } else {
                t.style(look)
            };
            spans.push(Span::styled(
                format!("{:<col$}", truncate(&text, col - 1)),
                style,
            ));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    // Per model: pass rate, cost, cost per passing answer, p50/p95 latency.
    for summary in report::summary_text(&run.summaries).lines() {
        lines.push(Line::styled(
            truncate(&inert(summary), usize::from(inner.width)),
            t.style(Look::Text),
        ));
    }
    // The selected row stays in view above the summary.
    let keep = usize::from(inner.height).saturating_sub(run.summaries.len() + 2);
    let scroll = (run.row + 1).saturating_sub(keep) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// The selected cell: each run's verdicts (check, score, weight, reason), what
/// failed, and the answer rendered as the transcript renders answers.
fn detail(frame: &mut Frame, area: Rect, state: &State, run: &OpenRun) {
    let t = &state.theme;
    let Some((case, target, runs)) = run.cell() else {
        return;
    };
    let inner = bordered(
        frame,
        state,
        area,
        &format!(" {} on {} ", inert(case), inert(target)),
    );
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let status = match (r.skipped, r.errored, r.pass) {
            (true, _, _) => "skipped (budget)",
            (_, true, _) => "errored",
            (_, _, true) => "passed",
            _ => "failed",
        };
        let mut head = format!("{status} · score {:.2}", r.score);
        if runs.len() > 1 {
            head = format!("run {} of {}: {head}", i + 1, runs.len());
        }
        head.push_str(&format!(
            " · {} · {}",
            r.answer_cost().map_or("unpriced".into(), format_usd),
            r.latency_ms.map_or("–".into(), |v| format!("{v}ms"))
        ));
        if r.cached {
            head.push_str(" · cached");
        }
        let look = if r.pass { Look::Success } else { Look::Error };
        lines.push(Line::styled(truncate(&head, width), t.style(look)));
        for v in &r.verdicts {
            let text = format!(
                "{} {} (score {:.2}, weight {}){}",
                if v.pass { "✓" } else { "✗" },
                v.check,
                v.score,
                v.weight,
                v.reason
                    .as_deref()
                    .or(v.error.as_deref())
                    .map(|why| format!(": {why}"))
                    .unwrap_or_default()
            );
            let look = if v.pass { Look::Text } else { Look::Error };
            for l in wrap(
                &[Span::styled(inert(&text).into_owned(), t.style(look))],
                width,
            ) {
                lines.push(Line::from(l));
            }
        }
        // The verdicts say what failed; a result kept without them says it in its failures.
        let failures = if r.verdicts.is_empty() {
            &r.failures[..]
        } else {
            &[]
        };
        for f in failures.iter().chain(r.error.iter()) {
            for l in wrap(
                &[Span::styled(
                    format!("✗ {}", inert(f)),
                    t.style(Look::Error),
                )],
                width,
            ) {
                lines.push(Line::from(l));
            }
        }
        lines.extend(markdown::render(&inert(&r.answer), inner.width, t).lines);
        lines.push(Line::default());
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
