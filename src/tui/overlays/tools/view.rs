//! The tools panel: every function (the tools folder's and the
//! conversation's), which are on, the tool choice and parallel calls.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::rows;
use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tui::core::state::State;
use crate::tui::overlays::{centered, first_shown, popup};
use crate::tui::widgets::wrap::truncate;

pub fn draw(frame: &mut Frame, state: &State, selected: usize) {
    let t = &state.theme;
    let area = centered(frame.area(), 76, 20);
    let inner = popup(
        frame,
        state,
        area,
        " Tools — Enter on/off · c choice · p parallel · n new · e edit · Esc ",
    );
    let width = usize::from(inner.width);
    let p = &state.machine.conv.params;
    let parallel = match p.parallel_tool_calls {
        None => "default",
        Some(true) => "on",
        Some(false) => "off",
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("tool choice ", t.style(Look::Muted)),
            Span::styled(
                p.tool_choice
                    .clone()
                    .unwrap_or_default()
                    .label()
                    .to_string(),
                t.style(Look::Accent),
            ),
            Span::styled("   parallel calls ", t.style(Look::Muted)),
            Span::styled(parallel, t.style(Look::Accent)),
        ]),
        Line::default(),
    ];
    let all = rows(state);
    if all.is_empty() {
        lines.push(Line::styled(
            format!(
                "No functions yet. n writes one to {} and opens $EDITOR.",
                state_dir_hint(state)
            ),
            t.style(Look::Muted),
        ));
    }
    // The choice line stays; the functions scroll to the selected one.
    let rows = usize::from(inner.height).saturating_sub(lines.len() + state.tool_library.1.len());
    let start = first_shown(selected, all.len(), rows.max(1));
    for (i, (tool, on)) in all.iter().enumerate().skip(start).take(rows.max(1)) {
        let mark = if *on { "[x] " } else { "[ ] " };
        let text = format!("{mark}{} — {}", tool.name, inert(&tool.description));
        let style = if i == selected {
            t.style(Look::Selection)
        } else if *on {
            t.style(Look::Text)
        } else {
            t.style(Look::Muted)
        };
        lines.push(Line::styled(truncate(&text, width), style));
    }
    for problem in &state.tool_library.1 {
        lines.push(Line::styled(
            truncate(&format!("⚠ {problem}"), width),
            t.style(Look::Error),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Where new functions go, without a home directory on a projector.
fn state_dir_hint(state: &State) -> &'static str {
    if state.presenter {
        "the tools folder"
    } else {
        "<config dir>/tools/"
    }
}
