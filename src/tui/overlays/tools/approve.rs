//! The agent loop's turns in the console, as state changes (no I/O): after
//! an answer, the domain's `Agent` says whether it is done, hit its step
//! limit, or has calls to approve and run; the approval popup asks for each
//! call it must (run once, always for this tool in this conversation, or
//! refuse with a reason for the model); once none is waiting the app runs
//! the decided calls together (`Command::RunTools`).

use std::time::Instant;

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::chat::conversation::{AnswerStatus, Role};
use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tools::agent::{Answer, Decision, Next};
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::mcp::CallState;
use crate::tui::core::state::{Level, Overlay, PromptPurpose, State};
use crate::tui::overlays::{centered, popup};
use crate::tui::theme::Styled;
use crate::tui::widgets::wrap::truncate;

/// After an answer ended: the loop's next step.
pub fn after_answer(state: &mut State) -> Vec<Command> {
    // Remote MCP servers' calls (Responses API) are approved here too.
    let remote = state
        .machine
        .conv
        .params
        .hosted
        .iter()
        .any(|h| matches!(h, crate::chat::tools::HostedTool::Mcp { .. }));
    if state.machine.is_streaming() {
        return Vec::new();
    }
    if state.mcp.functions.is_empty() && !remote {
        // No loop: the model calls of an answer OpenAI ran tools for are its steps.
        return vec![Command::RecordSteps];
    }
    let conv = &state.machine.conv;
    let last = &conv.nodes[conv.last()];
    let done = last.role == Role::Assistant
        && last
            .meta
            .as_ref()
            .is_some_and(|m| m.status == AnswerStatus::Done);
    if !done {
        return Vec::new();
    }
    let pending = conv.pending_calls();
    let functions = state.mcp.functions.clone();
    let next = state
        .mcp
        .agent
        .after_answer(pending, &|name| functions.iter().any(|(f, _)| f == name));
    let calls = match next {
        Next::Done | Next::Manual(_) => return vec![Command::RecordSteps],
        Next::StepLimit(calls) => {
            let names: Vec<String> = calls.into_iter().map(|c| c.name).collect();
            state.toast(
                Level::Warning,
                format!(
                    "the step limit ({}) is reached; the model still wants {} — type the results, or send a new message",
                    state.mcp.agent.max_steps,
                    names.join(", ")
                ),
            );
            state.mcp.step_limit = Some(names);
            return vec![Command::RecordSteps];
        }
        Next::Run(calls) => calls,
    };
    let step = state.mcp.agent.steps;
    for call in calls {
        match state.mcp.agent.decide(&call) {
            Decision::Ask => {
                state.mcp.set(&call.id, step, CallState::Asking);
                state.mcp.asking.push(call);
            }
            decision => {
                state.mcp.set(&call.id, step, CallState::Decided);
                state.mcp.decided.push((call, decision));
            }
        }
    }
    match state.mcp.asking.is_empty() {
        true => vec![Command::RunTools],
        false => {
            state.open(Overlay::Approve);
            state.hold_keys(Instant::now());
            Vec::new()
        }
    }
}

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    match action {
        Action::Confirm => answer(state, Answer::Once),
        Action::ApproveAlways => answer(state, Answer::Always),
        Action::Refuse => {
            let Some(call) = state.mcp.asking.first() else {
                return Vec::new();
            };
            let title = format!(
                " Refuse {} — a reason for the model (Enter: none) ",
                inert(&call.name)
            );
            crate::tui::overlays::prompt::open_prompt(state, &title, PromptPurpose::Refusal, "");
            Vec::new()
        }
        Action::Close | Action::Cancel => stop(state),
        _ => Vec::new(),
    }
}

/// The user's answer for the call asked about; once none is left, the runs.
pub fn answer(state: &mut State, answer: Answer) -> Vec<Command> {
    if state.mcp.asking.is_empty() {
        close(state);
        return Vec::new();
    }
    let call = state.mcp.asking.remove(0);
    let decision = state.mcp.agent.answer(&call, answer);
    let step = state.mcp.agent.steps;
    state.mcp.set(&call.id, step, CallState::Decided);
    state.mcp.decided.push((call, decision));
    // "Always" may settle the other calls of the same tool.
    let waiting = std::mem::take(&mut state.mcp.asking);
    for call in waiting {
        match state.mcp.agent.decide(&call) {
            Decision::Ask => state.mcp.asking.push(call),
            decision => {
                state.mcp.set(&call.id, step, CallState::Decided);
                state.mcp.decided.push((call, decision));
            }
        }
    }
    if state.mcp.asking.is_empty() {
        close(state);
        return vec![Command::RunTools];
    }
    // Another call is shown: it is read before it is answered.
    state.hold_keys(Instant::now());
    Vec::new()
}

/// Esc: the loop stops; the calls stay unanswered (their results can be typed).
pub fn stop(state: &mut State) -> Vec<Command> {
    close(state);
    let step = state.mcp.agent.steps;
    let waiting: Vec<String> = state
        .mcp
        .asking
        .drain(..)
        .map(|c| c.id)
        .chain(state.mcp.decided.drain(..).map(|(c, _)| c.id))
        .collect();
    for id in waiting {
        state.mcp.set(&id, step, CallState::Stopped);
    }
    state.toast(
        Level::Info,
        "tool calls stopped — type their results below, or send a new message",
    );
    vec![Command::RecordSteps]
}

fn close(state: &mut State) {
    state
        .overlays
        .retain(|o| !matches!(o, Overlay::Approve | Overlay::Prompt(_)));
}

/// The approval popup: the call (name, server, arguments) and the keys.
pub fn draw(frame: &mut Frame, state: &State) {
    let Some(call) = state.mcp.asking.first() else {
        return;
    };
    let t = &state.theme;
    // Low on the screen, under the card it asks about.
    let full = frame.area();
    let height = 6.min(full.height);
    let mut area = centered(full, 76, height);
    area.y = full.bottom().saturating_sub(height + 4).max(full.y);
    let more = match state.mcp.asking.len() {
        1 => String::new(),
        n => format!(" (1 of {n})"),
    };
    let inner = popup(frame, state, area, &format!(" Run this tool?{more} "));
    let width = usize::from(inner.width);
    let args = crate::chat::schema::pretty(&call.arguments)
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| call.arguments.clone());
    let server = state.mcp.server_of_call(call).unwrap_or("?");
    let on = match call.server {
        Some(_) => "  on remote MCP server",
        None => "  on MCP server",
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("ƒ ", t.style(Look::Accent)),
            Span::styled(inert(&call.name).into_owned(), t.style(Look::Accent)),
            Span::styled(format!("{on} {}", inert(server)), t.style(Look::Muted)),
        ]),
        Line::styled(truncate(&inert(&args), width), t.style(Look::Code)),
    ];
    let stop = [
        Span::styled("Esc", t.style(Look::Accent)),
        Span::styled(" stop the loop", t.style(Look::Text)),
    ];
    if state.holding_keys(Instant::now()) {
        // Keys typed before it opened must not answer it.
        lines.push(Line::styled(
            "read it first: y, a and n work once the keyboard rests a moment",
            t.style(Look::Muted),
        ));
        lines.push(Line::from(stop.to_vec()));
    } else {
        lines.push(Line::from(vec![
            Span::styled("y", t.style(Look::Accent)),
            Span::styled(" run once   ", t.style(Look::Text)),
            Span::styled("a", t.style(Look::Accent)),
            Span::styled(
                " always for this tool (this conversation)   ",
                t.style(Look::Text),
            ),
        ]));
        lines.push(Line::from(vec![
            Span::styled("n", t.style(Look::Accent)),
            Span::styled(
                " refuse (with a reason for the model)   ",
                t.style(Look::Text),
            ),
            stop[0].clone(),
            stop[1].clone(),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
