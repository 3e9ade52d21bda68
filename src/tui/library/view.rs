//! The Library pane: search and list on the left; the selected prompt's
//! facts, versions from the ledger and its template on the right; below,
//! the last test run as a matrix with one case's answers side by side.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::library::Entry;
use crate::tui::core::state::State;
use crate::tui::widgets::markdown;
use crate::tui::widgets::wrap::{truncate, wrap};
use crate::usage::format_usd;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let pane = &state.library;
    let has_tests = pane
        .tests
        .as_ref()
        .zip(pane.current())
        .is_some_and(|((name, _), e)| name == e.name());
    let [top, bottom] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(if has_tests { area.height / 2 } else { 0 }),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)]).areas(top);
    list(frame, left, state);
    preview(frame, right, state);
    if has_tests {
        tests(frame, bottom, state);
    }
}

/// Draws a box titled `title` over `area` and returns its inside.
fn bordered(frame: &mut Frame, state: &State, area: Rect, title: String) -> Rect {
    crate::tui::widgets::titled_box(frame, &state.theme, area, &title)
}

fn list(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let pane = &state.library;
    let total = pane.lib.as_ref().map(|l| l.entries.len()).unwrap_or(0);
    let inner = bordered(
        frame,
        state,
        area,
        format!(" Prompts {}/{total} ", pane.matches.len()),
    );
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", t.style(Look::Accent)),
        Span::styled(pane.query.clone(), t.style(Look::Text)),
        Span::styled("█", t.style(Look::Muted)),
    ])];
    let width = usize::from(inner.width);
    let Some(lib) = &pane.lib else {
        lines.push(Line::styled("loading the library…", t.style(Look::Muted)));
        return frame.render_widget(Paragraph::new(lines), inner);
    };
    if lib.entries.is_empty() {
        let offer = "No prompts yet. Alt-I adds a starter set (summarize, explain code, \
                     commit message, extract JSON, compare options), each with variables and \
                     tests; Ctrl-N makes one; Alt-S in the playground saves a conversation.";
        for l in wrap(&[Span::raw(offer)], width.saturating_sub(1)) {
            lines.push(Line::from(l).style(t.style(Look::Muted)));
        }
    }
    let rows = usize::from(inner.height.saturating_sub(1));
    let start = pane.selected.saturating_sub(rows.saturating_sub(1));
    for (i, &idx) in pane.matches.iter().enumerate().skip(start).take(rows) {
        let e = &lib.entries[idx];
        let selected = i == pane.selected;
        let group = e.group();
        let label = if group.is_empty() {
            e.name().to_string()
        } else {
            format!("{group}/{}", e.name())
        };
        let line = match &e.prompt {
            Ok(p) => Line::from(vec![
                Span::styled(
                    truncate(&label, width.saturating_sub(10)),
                    t.style(Look::Text),
                ),
                Span::styled(format!("  {}", p.version), t.style(Look::Muted)),
            ]),
            Err(err) => Line::styled(
                truncate(
                    &format!("⚠ {label} — line {}: {}", err.line, err.message),
                    width,
                ),
                t.style(Look::Error),
            ),
        };
        lines.push(if selected {
            line.patch_style(t.style(Look::Selection))
        } else {
            line
        });
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn preview(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let inner = bordered(
        frame,
        state,
        area,
        " Enter run · Ctrl-E edit · Alt-T test · Alt-R rename · Alt-D duplicate · Del ".into(),
    );
    let Some(entry) = state.library.current() else {
        return;
    };
    let width = usize::from(inner.width);
    let p = match &entry.prompt {
        Ok(p) => p,
        Err(e) => {
            let text = format!(
                "{} does not parse (it is left as it is):\n\nline {}: {}",
                entry.path, e.line, e.message
            );
            let lines = wrap(
                &[Span::styled(
                    inert(&text).into_owned(),
                    t.style(Look::Error),
                )],
                width,
            )
            .into_iter()
            .map(Line::from)
            .collect::<Vec<_>>();
            return frame.render_widget(Paragraph::new(lines), inner);
        }
    };
    let muted = t.style(Look::Muted);
    let mut lines = vec![Line::from(vec![
        Span::styled(p.meta.name.clone(), t.style(Look::Title)),
        Span::styled(format!("  version {}", p.version), muted),
        Span::styled(
            p.meta
                .model
                .as_ref()
                .map(|m| format!("  · {m}"))
                .unwrap_or_default(),
            muted,
        ),
    ])];
    if !p.meta.tags.is_empty() {
        lines.push(Line::styled(
            format!("tags: {}", p.meta.tags.join(", ")),
            t.style(Look::Accent),
        ));
    }
    if !p.meta.description.is_empty() {
        lines.push(Line::styled(
            inert(&p.meta.description).into_owned(),
            t.style(Look::Text),
        ));
    }
    for v in &p.meta.variables {
        let mut s = format!("{{{{{}}}}}", v.name);
        if v.required {
            s.push_str(" required");
        }
        if let Some(d) = &v.default {
            s.push_str(&format!(" = {d:?}"));
        }
        if !v.description.is_empty() {
            s.push_str(&format!(" — {}", v.description));
        }
        lines.push(Line::styled(truncate(&inert(&s), width), muted));
    }
    lines.extend(versions(state, entry, width));
    lines.push(Line::default());
    let mut body = String::new();
    for (role, text) in &p.messages {
        body.push_str(&format!("## {}\n\n{text}\n\n", role.as_str()));
    }
    let rendered = markdown::render(&body, inner.width, t);
    lines.extend(rendered.lines);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The versions the ledger has seen: runs, average cost and tokens, pass rate.
fn versions(state: &State, entry: &Entry, width: usize) -> Vec<Line<'static>> {
    let t = &state.theme;
    let Some((name, rows)) = &state.library.versions else {
        return Vec::new();
    };
    if name != entry.name() {
        return Vec::new();
    }
    let mut out = vec![Line::default()];
    if rows.is_empty() {
        out.push(Line::styled("No runs recorded yet.", t.style(Look::Muted)));
        return out;
    }
    out.push(Line::styled(
        format!(
            "{:<10} {:>5} {:>11} {:>8} {:>7}",
            "version", "runs", "avg cost", "tokens", "tests"
        ),
        t.style(Look::Heading),
    ));
    for r in rows {
        let rate = r
            .pass_rate()
            .map(|x| format!("{:.0}%", x * 100.0))
            .unwrap_or_else(|| "-".into());
        let cost = r
            .avg_cost_micros
            .map(format_usd)
            .unwrap_or_else(|| "-".into());
        out.push(Line::styled(
            truncate(
                &format!(
                    "{:<10} {:>5} {:>11} {:>8} {:>7}",
                    r.version, r.runs, cost, r.avg_tokens, rate
                ),
                width,
            ),
            t.style(Look::Text),
        ));
    }
    out
}

fn tests(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let Some((_, results)) = &state.library.tests else {
        return;
    };
    let grid = crate::evals::report::Grid::of(results);
    let cases: Vec<&str> = grid.cases.iter().map(String::as_str).collect();
    let targets: Vec<&str> = grid.targets.iter().map(String::as_str).collect();
    let case = state.library.case.min(cases.len().saturating_sub(1));
    let inner = bordered(
        frame,
        state,
        area,
        format!(
            " Tests — case {}/{}: {} (←/→ another case) ",
            case + 1,
            cases.len(),
            cases[case]
        ),
    );
    let [matrix, answers] = Layout::vertical([
        Constraint::Length(cases.len() as u16 + 1),
        Constraint::Min(1),
    ])
    .areas(inner);
    let col = (usize::from(inner.width).saturating_sub(20) / targets.len().max(1)).max(12);
    let mut lines = vec![Line::from(
        std::iter::once(Span::styled(
            format!("{:<20}", "case"),
            t.style(Look::Heading),
        ))
        .chain(targets.iter().map(|x| {
            Span::styled(
                format!("{:<col$}", truncate(x, col - 1)),
                t.style(Look::Heading),
            )
        }))
        .collect::<Vec<_>>(),
    )];
    for (ci, c) in cases.iter().enumerate() {
        let mut spans = vec![Span::styled(
            format!("{:<20}", truncate(c, 19)),
            if ci == case {
                t.style(Look::Selection)
            } else {
                t.style(Look::Text)
            },
        )];
        for x in &targets {
            if let Some(r) = results.iter().find(|r| r.case == *c && r.target == *x) {
                let text = format!(
                    "{} {} {}ms",
                    if r.pass { "✓" } else { "✗" },
                    r.cost_micros.map(format_usd).unwrap_or_else(|| "-".into()),
                    r.latency_ms.unwrap_or(0)
                );
                let look = if r.pass { Look::Success } else { Look::Error };
                spans.push(Span::styled(
                    format!("{:<col$}", truncate(&text, col - 1)),
                    t.style(look),
                ));
            }
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), matrix);
    // The chosen case's answers, side by side, with what failed.
    let n = targets.len().max(1) as u16;
    let columns =
        Layout::horizontal((0..n).map(|_| Constraint::Ratio(1, u32::from(n)))).split(answers);
    for (i, x) in targets.iter().enumerate() {
        let Some(r) = results
            .iter()
            .find(|r| r.case == cases[case] && r.target == *x)
        else {
            continue;
        };
        let w = usize::from(columns[i].width.saturating_sub(1));
        let mut lines: Vec<Line> = r
            .failures
            .iter()
            .map(|f| Line::styled(truncate(&format!("✗ {f}"), w), t.style(Look::Error)))
            .collect();
        // Rendered as the transcript renders answers, not as raw Markdown.
        let answer = crate::tui::widgets::markdown::render(&inert(&r.answer), w as u16, t);
        lines.extend(answer.lines);
        frame.render_widget(Paragraph::new(lines), columns[i]);
    }
}
