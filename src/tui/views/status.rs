//! The status bar: model, profile and host, the live token count and cost of
//! what would be sent now, the session's spend, and transient messages.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::chat::event::Usage;
use crate::config::theme::Role as Look;
use crate::tui::core::state::{Level, State};
use crate::tui::memory::chrome::{Chrome, Key};
use crate::tui::widgets::lines::Bar;
use crate::tui::widgets::wrap::wrap;
use crate::usage::format_usd;
use unicode_width::UnicodeWidthStr;

/// Rows a message too long for the status bar takes above it; a message is
/// never cut, so a retry's countdown at its end stays in view.
const MESSAGE_ROWS: usize = 4;
const HELP: &str = " F1 help ";

/// The message shown now: a notice of the conversation (a retry), else a toast.
fn message(state: &State) -> Option<(String, Level)> {
    state
        .machine
        .notice
        .as_ref()
        .map(|n| (n.clone(), Level::Warning))
        .or_else(|| state.toast.as_ref().map(|t| (t.text.clone(), t.level)))
}

/// The message's lines above the bar at `width`: none when it fits in the bar.
fn message_lines(state: &State, width: u16) -> Vec<String> {
    let Some((text, _)) = message(state) else {
        return Vec::new();
    };
    let used: usize = bar_spans(state).iter().map(|s| s.width()).sum();
    if used + 3 + text.width() + HELP.len() <= usize::from(width) {
        return Vec::new();
    }
    let words = [Span::raw(text)];
    let mut lines: Vec<String> = wrap(&words, usize::from(width.saturating_sub(2)))
        .into_iter()
        .map(|l| l.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    // The end of a message (a countdown, a path's file name) matters most.
    if lines.len() > MESSAGE_ROWS {
        lines.drain(..lines.len() - MESSAGE_ROWS);
    }
    lines
}

/// Height of the status area at `width`: the bar, and a message that does not fit in it.
pub fn height(state: &State, width: u16) -> u16 {
    1 + message_lines(state, width).len() as u16
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, chrome: &mut Chrome) {
    let t = &state.theme;
    let bar = t.style(Look::Status);
    let above = message_lines(state, area.width);
    let mut spans = bar_spans(state);
    if let Some((text, level)) = message(state) {
        let look = bar.patch(t.style(match level {
            Level::Info => Look::Success,
            Level::Warning => Look::Warning,
            Level::Error => Look::Error,
        }));
        if above.is_empty() {
            spans.push(Span::styled(" │ ", bar));
            spans.push(Span::styled(text, look));
        }
        for (i, line) in above.iter().enumerate() {
            let row = Rect {
                y: area.y + i as u16,
                height: 1,
                ..area
            };
            let line = Line::from(Span::styled(format!(" {line}"), look));
            chrome.draw(frame, row, Key::Bar(line), |f, key| {
                if let Key::Bar(line) = key {
                    f.render_widget(Bar(line, bar), row);
                }
            });
        }
    }
    let area = Rect {
        y: area.bottom().saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    let help = Span::styled(HELP, bar.patch(t.style(Look::Muted)));
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(help.width());
    if used < room {
        spans.push(Span::styled(" ".repeat(room - used), bar));
        spans.push(help);
    }
    chrome.draw(frame, area, Key::Bar(Line::from(spans)), |f, key| {
        if let Key::Bar(line) = key {
            f.render_widget(Bar(line, bar), area);
        }
    });
}

/// The bar without its message: model, profile and host, budgets, the next request, spend.
fn bar_spans(state: &State) -> Vec<Span<'static>> {
    let t = &state.theme;
    let bar = t.style(Look::Status);
    let sep = Span::styled(" │ ", bar);
    let conv = &state.machine.conv;
    let model = if conv.model.trim().is_empty() {
        Span::styled(" no model (Ctrl-K)", bar.patch(t.style(Look::Warning)))
    } else {
        // A model id may come from the server's list: its text, so inert.
        Span::styled(
            format!(" {}", crate::inert::inert(&conv.model)),
            bar.patch(t.style(Look::Accent)),
        )
    };
    let mut spans = vec![
        model,
        sep.clone(),
        Span::styled(
            format!("{} @ {}", state.profile.name, state.shown_host()),
            bar,
        ),
    ];
    if let Some(span) = budget(state) {
        spans.push(sep.clone());
        spans.push(span);
    }
    if let Some(span) = team(state) {
        spans.push(sep.clone());
        spans.push(span);
        if let Some(warning) = state.team_unverified {
            spans.push(sep.clone());
            spans.push(Span::styled(warning, bar.patch(t.style(Look::Warning))));
        }
    }
    if let Some(tokens) = state.draft_tokens {
        spans.push(sep.clone());
        let usage = Usage {
            input: tokens,
            ..Usage::default()
        };
        let cost = state.machine.price_of(&conv.model, &usage);
        let cost = cost.map(format_usd).unwrap_or_else(|| "unpriced".into());
        spans.push(Span::styled(format!("next: {tokens} tok ≈ {cost} in"), bar));
    }
    spans.push(sep);
    spans.push(Span::styled(
        format!("session {}", format_usd(state.session_spend_micros)),
        bar.patch(t.style(Look::Cost)),
    ));
    spans
}

/// Today's spend against the daily budget (or the month's), coloured at the warning level.
fn budget(state: &State) -> Option<Span<'static>> {
    let t = &state.theme;
    let b = &state.budgets;
    let (today, month) = state.spent();
    let (label, spent, limit) = match (b.daily_usd, b.monthly_usd) {
        (Some(d), _) => ("today", today, d),
        (None, Some(m)) => ("month", month, m),
        (None, None) => return None,
    };
    let limit_micros = crate::usage::budget::micros(limit);
    let pct = if limit_micros > 0 {
        spent * 100 / limit_micros
    } else {
        0
    };
    let (look, mark) = match b.level(spent, Some(limit)) {
        crate::usage::budget::Level::Fine => (Look::Cost, ""),
        crate::usage::budget::Level::Warning => (Look::Warning, "⚠ "),
        crate::usage::budget::Level::Over => (Look::Error, "✖ "),
    };
    Some(Span::styled(
        format!(
            "{mark}{label} {} of {} ({pct}%)",
            format_usd(spent),
            format_usd(limit_micros)
        ),
        t.style(Look::Status).patch(t.style(look)),
    ))
}

/// The team database: its spend today against the team budget, or what waits.
fn team(state: &State) -> Option<Span<'static>> {
    use crate::tui::core::state::TeamStatus;
    let t = &state.theme;
    let bar = t.style(Look::Status);
    Some(match state.team.as_ref()? {
        TeamStatus::Online { totals } => {
            let spent = totals.today.0;
            let (text, over) = match state.team_budgets.0 {
                Some(budget) => {
                    let cap = (budget * 1e6) as i64;
                    (
                        format!("team {} of {} today", format_usd(spent), format_usd(cap)),
                        spent >= cap,
                    )
                }
                None => (format!("team {} today", format_usd(spent)), false),
            };
            Span::styled(
                text,
                bar.patch(t.style(if over { Look::Error } else { Look::Cost })),
            )
        }
        TeamStatus::Offline { queued, .. } => Span::styled(
            format!("team: offline, {queued} queued"),
            bar.patch(t.style(Look::Warning)),
        ),
    })
}
