//! The Spend pane: totals against budgets, cost and tokens per day, a sortable
//! breakdown, latency per model, drill-down, and the organization's figures.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tui::core::state::State;
use crate::tui::widgets::wrap::truncate;
use crate::usage::budget::Level as Budget;
use crate::usage::format_usd;
use crate::usage::report::GroupBy;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    let pane = &state.spend;
    let [totals, chart, body, hint] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(6),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(totals_lines(state)), totals);
    let Some(data) = &pane.data else {
        let text = pane
            .error
            .clone()
            .unwrap_or_else(|| "reading the ledger…".into());
        let look = if pane.error.is_some() {
            Look::Error
        } else {
            Look::Muted
        };
        frame.render_widget(Line::styled(format!(" {text}"), t.style(look)), chart);
        return;
    };
    draw_chart(frame, chart, state, data);
    if let Some(drill) = &pane.drill {
        draw_drill(frame, body, state, drill);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(body);
        draw_breakdown(frame, left, state, data);
        if pane.org {
            draw_org(frame, right, state, data);
        } else if pane.team {
            let block = boxed(state, " latency ".into());
            let inner = block.inner(right);
            frame.render_widget(block, right);
            frame.render_widget(
                Line::styled(
                    "measured per machine: t shows yours",
                    state.theme.style(Look::Muted),
                ),
                inner,
            );
        } else {
            draw_latency(frame, right, state, data);
        }
    }
    let keys = if pane.drill.is_some() {
        " ↑↓ move · Enter open the conversation · Esc back"
    } else {
        " Tab group · r range · m model · f profile · s sort · Enter requests · o org · S sync · Alt-1 playground"
    };
    frame.render_widget(
        Line::styled(
            truncate(keys, usize::from(hint.width)),
            t.style(Look::Muted),
        ),
        hint,
    );
}

fn totals_lines(state: &State) -> Vec<Line<'static>> {
    let t = &state.theme;
    let pane = &state.spend;
    let b = &state.budgets;
    let totals = state.totals.clone().unwrap_or_default();
    let figure = |label: &str, (spent, n): (i64, i64), budget: Option<f64>| {
        let look = match b.level(spent, budget) {
            Budget::Fine => Look::Cost,
            Budget::Warning => Look::Warning,
            Budget::Over => Look::Error,
        };
        let limit = budget
            .map(|u| format!(" of {}", format_usd(crate::usage::budget::micros(u))))
            .unwrap_or_default();
        vec![
            Span::styled(format!(" {label} "), t.style(Look::Muted)),
            Span::styled(format!("{}{limit}", format_usd(spent)), t.style(look)),
            Span::styled(format!(" ({n} req)  "), t.style(Look::Muted)),
        ]
    };
    let mut first = figure("today", totals.today, b.daily_usd);
    first.extend(figure("7 days", totals.week, None));
    first.extend(figure("month", totals.month, b.monthly_usd));
    let filters = format!(
        " {} · by {} · sorted by {} · model: {} · profile: {}{}",
        pane.range.label(),
        pane.by.label(),
        pane.sort.label(),
        pane.model.as_deref().unwrap_or("all"),
        pane.profile.as_deref().unwrap_or("all"),
        if pane.org {
            " · organization view"
        } else {
            ""
        }
    );
    vec![
        Line::from(first),
        Line::styled(filters, t.style(Look::Accent)),
    ]
}

fn boxed<'a>(state: &State, title: String) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Look::Border))
        .title(Span::styled(title, state.theme.style(Look::Title)))
}

fn draw_chart(frame: &mut Frame, area: Rect, state: &State, data: &crate::usage::spend::Spend) {
    let t = &state.theme;
    let [cost, tokens] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let org = state.spend.org;
    let values: Vec<u64> = data
        .days
        .iter()
        .map(|d| {
            if org {
                d.org_cost_micros.unwrap_or(0)
            } else {
                d.cost_micros
            }
            .max(0) as u64
        })
        .collect();
    let max = values.iter().copied().max().unwrap_or(0) as i64;
    let first = data.days.first().map(|d| d.day.clone()).unwrap_or_default();
    let whose = if org { "org cost" } else { "cost" };
    let title = format!(" {whose}/day since {first} · max {} ", format_usd(max));
    let block = boxed(state, title);
    frame.render_widget(
        Sparkline::default()
            .block(block)
            .data(&values)
            .style(t.style(Look::Cost)),
        cost,
    );
    let max_tokens = data.days.iter().map(|d| d.tokens).max().unwrap_or(0);
    let values: Vec<u64> = data.days.iter().map(|d| d.tokens.max(0) as u64).collect();
    let block = boxed(state, format!(" tokens per day · max {max_tokens} "));
    frame.render_widget(
        Sparkline::default()
            .block(block)
            .data(&values)
            .style(t.style(Look::Accent)),
        tokens,
    );
}

/// A breakdown key as it may be shown: presenter mode hides the host of a
/// `profile @ host` key, so a projector shows where requests went by name only.
fn shown_key(state: &State, key: &str) -> String {
    match key.split_once(" @ ") {
        Some((profile, _)) if state.presenter && state.spend.by == GroupBy::Profile => {
            format!("{profile} @ ●●●")
        }
        _ => key.to_string(),
    }
}

/// Cells are keys, models and projects from the ledger (team rows others
/// wrote among them): shown inert.
fn row_line(cells: &[(String, usize, bool)], style: Style) -> Line<'static> {
    let text: String = cells
        .iter()
        .map(|(c, w, right)| {
            let c = truncate(&inert(c), *w);
            if *right {
                format!("{c:>w$} ")
            } else {
                format!("{c:<w$} ")
            }
        })
        .collect();
    Line::styled(text, style)
}

fn draw_breakdown(frame: &mut Frame, area: Rect, state: &State, data: &crate::usage::spend::Spend) {
    let t = &state.theme;
    let pane = &state.spend;
    let whose = if pane.team { "team" } else { "me" };
    let block = boxed(
        state,
        format!(" {whose} · by {} (t: me/team) ", pane.by.label()),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let total = data
        .rows
        .iter()
        .fold(0i64, |t, r| t.saturating_add(r.cost_micros));
    let key_w = usize::from(inner.width).saturating_sub(44).max(8);
    let mut lines = vec![row_line(
        &[
            (pane.by.label().into(), key_w, false),
            ("req".into(), 6, true),
            ("in tok".into(), 9, true),
            ("out tok".into(), 9, true),
            ("cost".into(), 11, true),
            ("%".into(), 3, true),
        ],
        t.style(Look::Muted),
    )];
    if data.rows.is_empty() {
        lines.push(Line::styled(
            "no requests in this range",
            t.style(Look::Muted),
        ));
    }
    let rows = usize::from(inner.height).saturating_sub(1);
    let start = pane.selected.saturating_sub(rows.saturating_sub(1));
    for (i, r) in data.rows.iter().enumerate().skip(start).take(rows) {
        let cost = match (r.unpriced, r.requests) {
            (u, n) if u == n => "unpriced".to_string(),
            (0, _) => format_usd(r.cost_micros),
            _ => format!("{}+?", format_usd(r.cost_micros)),
        };
        let share = if total > 0 {
            (i128::from(r.cost_micros) * 100 / i128::from(total)) as i64
        } else {
            0
        };
        let mut style = t.style(if r.key == "error" || r.key == "interrupted" {
            Look::Warning
        } else {
            Look::Text
        });
        if i == pane.selected {
            style = style.patch(t.style(Look::Selection));
        }
        lines.push(row_line(
            &[
                (shown_key(state, &r.key), key_w, false),
                (r.requests.to_string(), 6, true),
                (r.input_tokens.to_string(), 9, true),
                (r.output_tokens.to_string(), 9, true),
                (cost, 11, true),
                (share.to_string(), 3, true),
            ],
            style,
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_latency(frame: &mut Frame, area: Rect, state: &State, data: &crate::usage::spend::Spend) {
    let t = &state.theme;
    let block = boxed(state, " latency per model (p50 / p95) ".into());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let model_w = usize::from(inner.width).saturating_sub(30).max(6);
    let mut lines = vec![row_line(
        &[
            ("model".into(), model_w, false),
            ("TTFT ms".into(), 12, true),
            ("tok/s".into(), 14, true),
        ],
        t.style(Look::Muted),
    )];
    for l in &data.latency {
        lines.push(row_line(
            &[
                (l.model.clone(), model_w, false),
                (pair(l.ttft_p50_ms as f64, l.ttft_p95_ms as f64), 12, true),
                (pair(l.tps_p50, l.tps_p95), 14, true),
            ],
            t.style(Look::Text),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// "p50/p95", or "–" where nothing was measured (a zero is no rate, not a fast one).
fn pair(p50: f64, p95: f64) -> String {
    let one = |v: f64| {
        if v > 0.0 {
            format!("{v:.0}")
        } else {
            "–".to_string()
        }
    };
    if p50 <= 0.0 && p95 <= 0.0 {
        return "–".into();
    }
    format!("{}/{}", one(p50), one(p95))
}

fn draw_org(frame: &mut Frame, area: Rect, state: &State, data: &crate::usage::spend::Spend) {
    let t = &state.theme;
    let block = boxed(state, " organization (Usage/Costs API) ".into());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if data.org_projects.is_empty() && data.org_models.is_empty() {
        let lines = vec![
            Line::styled("nothing synced for this range", t.style(Look::Muted)),
            Line::styled(
                "S syncs 30 days (needs OPENAI_ADMIN_KEY)",
                t.style(Look::Muted),
            ),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let w = usize::from(inner.width).saturating_sub(26).max(6);
    let mut lines = vec![row_line(
        &[("project".into(), w, false), ("cost".into(), 12, true)],
        t.style(Look::Muted),
    )];
    for (i, (project, cost)) in data.org_projects.iter().enumerate() {
        // Project ids name an organization's projects: numbered on a projector.
        let project = match state.presenter {
            true => format!("project {}", i + 1),
            false => project.clone(),
        };
        lines.push(row_line(
            &[(project, w, false), (format_usd(*cost), 12, true)],
            t.style(Look::Text),
        ));
    }
    lines.push(Line::default());
    lines.push(row_line(
        &[
            ("model".into(), w, false),
            ("org tok".into(), 11, true),
            ("here tok".into(), 11, true),
        ],
        t.style(Look::Muted),
    ));
    for m in &data.org_models {
        lines.push(row_line(
            &[
                (m.model.clone(), w, false),
                (m.org_tokens.to_string(), 11, true),
                (m.local_tokens.to_string(), 11, true),
            ],
            t.style(Look::Text),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_drill(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    drill: &crate::tui::spend::state::Drill,
) {
    let t = &state.theme;
    let block = boxed(
        state,
        format!(
            " requests: {} ({}) ",
            inert(&shown_key(state, &drill.key)),
            drill.rows.len()
        ),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let model_w = usize::from(inner.width).saturating_sub(66).max(6);
    let mut lines = vec![row_line(
        &[
            ("time (UTC)".into(), 19, false),
            ("model".into(), model_w, false),
            ("status".into(), 11, false),
            ("in".into(), 7, true),
            ("out".into(), 7, true),
            ("cost".into(), 10, true),
            ("TTFT".into(), 6, true),
        ],
        t.style(Look::Muted),
    )];
    let rows = usize::from(inner.height).saturating_sub(1);
    let start = drill.selected.saturating_sub(rows.saturating_sub(1));
    for (i, r) in drill.rows.iter().enumerate().skip(start).take(rows) {
        let mut style = t.style(if r.status == "ok" {
            Look::Text
        } else {
            Look::Warning
        });
        if i == drill.selected {
            style = style.patch(t.style(Look::Selection));
        }
        lines.push(row_line(
            &[
                (r.ts.replace('T', " ").chars().take(19).collect(), 19, false),
                (r.model.clone(), model_w, false),
                (r.status.clone(), 11, false),
                (r.input_tokens.to_string(), 7, true),
                (r.output_tokens.to_string(), 7, true),
                (
                    r.cost_micros
                        .map(format_usd)
                        .unwrap_or_else(|| "unpriced".into()),
                    10,
                    true,
                ),
                (
                    r.ttft_ms.map(|v| v.to_string()).unwrap_or_default(),
                    6,
                    true,
                ),
            ],
            style,
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
