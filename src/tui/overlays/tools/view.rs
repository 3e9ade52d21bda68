//! The tools panel: the MCP servers (status, and the tools of those on),
//! every function (the tools folder's and the conversation's), which are on,
//! the tool choice and parallel calls. Presenter mode hides the servers'
//! command lines and urls.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Row, all_rows};
use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tui::core::mcp::Status;
use crate::tui::core::state::State;
use crate::tui::overlays::{centered, first_shown, popup};
use crate::tui::widgets::wrap::truncate;

pub fn draw(frame: &mut Frame, state: &State, selected: usize) {
    let t = &state.theme;
    let area = centered(frame.area(), 92, 20);
    let inner = popup(
        frame,
        state,
        area,
        " Tools — Enter on/off (servers start) · c choice · p parallel · n new · e edit · Esc ",
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
    let all = all_rows(state);
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
    for (i, row) in all.iter().enumerate().skip(start).take(rows.max(1)) {
        let (text, on, look) = row_text(state, row);
        let style = if i == selected {
            t.style(Look::Selection)
        } else if on {
            t.style(look)
        } else {
            t.style(Look::Muted)
        };
        lines.push(Line::styled(truncate(&text, width), style));
        // Why a server failed (its stderr's tail, inert) under its row.
        if let Row::Server(i) = row
            && let Status::Failed(why) = &state.mcp.servers[*i].status
        {
            let why = state.mcp.servers[*i].redact(why, state.presenter);
            let why = inert(&why).replace(['\n', '\r'], " ");
            let chars: Vec<char> = why.chars().collect();
            let room = width.saturating_sub(6).max(8);
            for chunk in chars.chunks(room).take(3) {
                let part: String = chunk.iter().collect();
                lines.push(Line::styled(format!("      {part}"), t.style(Look::Error)));
            }
        }
    }
    for problem in &state.tool_library.1 {
        lines.push(Line::styled(
            truncate(&format!("⚠ {problem}"), width),
            t.style(Look::Error),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A row's text, whether it is on, and its look when on.
fn row_text(state: &State, row: &Row) -> (String, bool, Look) {
    let mark = |on: bool| if on { "[x] " } else { "[ ] " };
    match row {
        Row::Function(tool, on) => (
            format!("{}{} — {}", mark(*on), tool.name, inert(&tool.description)),
            *on,
            Look::Text,
        ),
        Row::Server(i) => {
            let s = &state.mcp.servers[*i];
            let (status, look) = match &s.status {
                Status::Idle => ("not started".to_string(), Look::Text),
                Status::Starting => ("starting…".to_string(), Look::Warning),
                Status::Ready(tools) => (format!("ready · {} tools", tools.len()), Look::Success),
                // Its stderr's tail is the server's text: inert.
                Status::Failed(_) => ("failed (Enter tries again):".to_string(), Look::Error),
                Status::Hosted(_) => (
                    "remote, OpenAI connects (Responses API)".to_string(),
                    Look::Text,
                ),
            };
            let how = match state.presenter {
                true => String::new(),
                false => format!(" ({})", inert(&s.how)),
            };
            let name = inert(&s.name);
            let shown_on = match s.status {
                Status::Hosted(_) => super::hosted_on(state, &s.name),
                _ => s.on,
            };
            let text = format!("{}MCP {name} — {status}{how}", mark(shown_on));
            // A failure shows even when off: it says why turning on did nothing.
            let on = match s.status {
                Status::Hosted(_) => super::hosted_on(state, &s.name),
                _ => s.on || matches!(s.status, Status::Failed(_)),
            };
            (text, on, look)
        }
        Row::Tool(i, j) => {
            let s = &state.mcp.servers[*i];
            let Status::Ready(tools) = &s.status else {
                return (String::new(), false, Look::Text);
            };
            let tool = &tools[*j];
            let on = state.mcp.tool_on(&s.name, &tool.name);
            let text = format!(
                "    {}{} — {}",
                mark(on),
                inert(&tool.name),
                inert(&tool.description)
            );
            (text, on, Look::Text)
        }
    }
}

/// Where new functions go, without a home directory on a projector.
fn state_dir_hint(state: &State) -> &'static str {
    if state.presenter {
        "the tools folder"
    } else {
        "<config dir>/tools/"
    }
}
