//! The status bar: model, profile and host, the live token count and cost of
//! what would be sent now, the session's spend, and transient messages.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::config::theme::Role as Look;
use crate::provider::event::Usage;
use crate::tui::state::{Level, State};
use crate::tui::views::chrome::{Chrome, Key};
use crate::tui::widgets::lines::Bar;
use crate::usage::format_usd;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, chrome: &mut Chrome) {
    let t = &state.theme;
    let bar = t.style(Look::Status);
    let sep = Span::styled(" │ ", bar);
    let conv = &state.machine.conv;
    let mut spans = vec![
        Span::styled(format!(" {}", conv.model), bar.patch(t.style(Look::Accent))),
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
    spans.push(sep.clone());
    spans.push(Span::styled(
        format!("session {}", format_usd(state.session_spend_micros)),
        bar.patch(t.style(Look::Cost)),
    ));

    let message = state
        .machine
        .notice
        .as_ref()
        .map(|n| (n.clone(), Level::Warning))
        .or_else(|| state.toast.as_ref().map(|t| (t.text.clone(), t.level)));
    if let Some((text, level)) = message {
        spans.push(sep);
        let look = match level {
            Level::Info => Look::Success,
            Level::Warning => Look::Warning,
            Level::Error => Look::Error,
        };
        spans.push(Span::styled(text, bar.patch(t.style(look))));
    }
    let help = Span::styled(" F1 help ", bar.patch(t.style(Look::Muted)));
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
    use crate::tui::app::TeamStatus;
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
