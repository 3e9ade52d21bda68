//! What a message carries besides its text: attachments, the reasoning
//! summary (collapsed until expanded), function-call cards, a function's
//! result, and whether a structured answer matches its schema.

use crate::tui::theme::Styled;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::chat::attachment::Attachment;
use crate::chat::conversation::{Conversation, NodeId, Role};
use crate::chat::schema::{self, Verdict};
use crate::chat::tools::{HostedCall, ToolCall, ToolDef};
use crate::config::theme::{Role as Look, Theme};
use crate::inert::inert;
use crate::tui::cache::RenderCache;
use crate::tui::core::mcp::{CallState, Mcp};
use crate::tui::widgets::wrap::{truncate, wrap};
use crate::usage::format_usd;

pub fn attachments(list: &[Attachment], theme: &Theme) -> Vec<Line<'static>> {
    list.iter()
        .map(|a| {
            Line::from(vec![
                Span::styled("  ⊕ ", theme.style(Look::Accent)),
                Span::styled(inert(&a.summary()).into_owned(), theme.style(Look::Muted)),
            ])
        })
        .collect()
}

/// The reasoning summary: one dimmed line, or all of it when expanded.
pub fn reasoning(text: &str, expanded: bool, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let style = theme.style(Look::Muted).add_modifier(Modifier::ITALIC);
    let words = text.split_whitespace().count();
    if !expanded {
        return vec![Line::styled(
            format!("▸ reasoning summary · {words} words (z expands)"),
            style,
        )];
    }
    let mut out = vec![Line::styled(
        format!("▾ reasoning summary · {words} words (z collapses)"),
        style,
    )];
    for para in text.split('\n') {
        let span = Span::styled(inert(para).into_owned(), style);
        for wrapped in wrap(&[span], width.saturating_sub(2).max(8)) {
            let mut spans = vec![Span::styled("│ ", style)];
            spans.extend(wrapped);
            out.push(Line::from(spans));
        }
    }
    out
}

/// A card per call: name and id, the arguments (pretty once they are complete
/// JSON), whether they match the function's schema, and for a call an MCP
/// server runs, where it stands (approval, running, its outcome).
pub fn call_cards(
    cache: &mut RenderCache,
    node: NodeId,
    calls: &[ToolCall],
    (tools, mcp): (&[ToolDef], &Mcp),
    streaming: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let width = usize::from(cache.width());
    let border = theme.style(Look::Border);
    let mut out = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        // Part 0 is the answer's own text; calls are 1, 2, ...
        let key = (node, i + 1, call.arguments.len());
        out.push(Line::from(vec![
            Span::styled("╭─ ", border),
            Span::styled(
                format!("ƒ {}", inert(&call.name)),
                theme.style(Look::Accent).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" · {}", inert(&call.id)), theme.style(Look::Muted)),
        ]));
        let args = match streaming {
            true => schema::pretty(&call.arguments),
            false => cache.pretty.get(key, || schema::pretty(&call.arguments)),
        }
        .unwrap_or_else(|| call.arguments.clone());
        for l in args.lines() {
            // Wrapping trims leading blanks: the indentation goes in front instead.
            let body = l.trim_start();
            let indent = " ".repeat(l.len() - body.len());
            let span = Span::styled(inert(body).into_owned(), theme.style(Look::Code));
            for wrapped in wrap(&[span], width.saturating_sub(2 + indent.len()).max(8)) {
                let mut spans = vec![Span::styled("│ ", border), Span::raw(indent.clone())];
                spans.extend(wrapped);
                out.push(Line::from(spans));
            }
        }
        let (text, look) = if streaming {
            ("arguments arriving…".to_string(), Look::Muted)
        } else if let Some(server) = &call.server {
            (
                format!("remote MCP tool of {} (OpenAI runs it)", inert(server)),
                Look::Muted,
            )
        } else {
            match cache.verdicts.get(key, || call.check(tools)) {
                Some(Verdict::Valid) => ("✓ arguments match the schema".into(), Look::Success),
                Some(v) => (format!("⚠ {}", v.label()), Look::Warning),
                None => (
                    "⚠ no such function in this conversation's tools".into(),
                    Look::Warning,
                ),
            }
        };
        let status = match streaming {
            true => None,
            false => run_status(mcp, call, theme),
        };
        let corner = if status.is_some() { "│ " } else { "╰─ " };
        out.push(Line::from(vec![
            Span::styled(corner, border),
            Span::styled(text, theme.style(look)),
        ]));
        if let Some(status) = status {
            out.push(Line::from(vec![Span::styled("╰─ ", border), status]));
        }
    }
    out
}

/// A card per tool OpenAI ran for the answer (hosted tools, remote MCP
/// calls): what it was asked, then what it gave (or its error). Server text,
/// shown inert, a few lines of each.
pub fn hosted_cards(calls: &[HostedCall], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let border = theme.style(Look::Border);
    let room = width.saturating_sub(2).max(8);
    let mut out = Vec::new();
    for call in calls {
        let t = |s: &str| inert(s).into_owned();
        let title = match call.tool.as_str() {
            "mcp" => format!(
                "⌁ {}.{} · remote MCP · {}",
                t(&call.server),
                t(&call.name),
                t(&call.status)
            ),
            "mcp_list_tools" => format!(
                "⌁ {} · remote MCP · could not list its tools",
                t(&call.server)
            ),
            other => format!("⌁ {} · {}", t(other), t(&call.status)),
        };
        out.push(Line::from(vec![
            Span::styled("╭─ ", border),
            Span::styled(
                truncate(&title, room),
                theme.style(Look::Accent).add_modifier(Modifier::BOLD),
            ),
        ]));
        let mut body: Vec<(String, Look)> = Vec::new();
        let asked = match call.tool.as_str() {
            "mcp" => call.arguments.clone(),
            _ if !call.code.is_empty() => call.code.clone(),
            _ => call.queries.join("; "),
        };
        body.extend(asked.lines().take(4).map(|l| (l.to_string(), Look::Code)));
        let (gave, look) = match call.error.is_empty() {
            true if call.tool == "mcp" => (call.output.clone(), Look::Text),
            true => (call.results.join("\n"), Look::Text),
            false => (format!("error: {}", call.error), Look::Error),
        };
        let mut lines = gave.lines();
        body.extend(lines.by_ref().take(6).map(|l| (l.to_string(), look)));
        let more = lines.count();
        if more > 0 {
            body.push((format!("… {more} more lines"), Look::Muted));
        }
        if body.is_empty() {
            body.push((String::new(), Look::Muted));
        }
        let last = body.len();
        for (i, (line, look)) in body.into_iter().enumerate() {
            let corner = if i + 1 == last { "╰─ " } else { "│ " };
            out.push(Line::from(vec![
                Span::styled(corner, border),
                Span::styled(truncate(&inert(&line), room), theme.style(look)),
            ]));
        }
    }
    out
}

/// Where a call the agent loop handles stands: its card's last line.
fn run_status(mcp: &Mcp, call: &ToolCall, theme: &Theme) -> Option<Span<'static>> {
    let (_, at) = mcp.state_of(&call.id)?;
    let server = inert(mcp.server_of_call(call).unwrap_or("?")).into_owned();
    let (text, look) = match at {
        CallState::Asking => (
            "? run it? y once · a always (this conversation) · n refuse".to_string(),
            Look::Warning,
        ),
        CallState::Decided => ("… waiting for the other calls".to_string(), Look::Muted),
        CallState::Running => (format!("⟳ running on {server}… (Esc stops)"), Look::Accent),
        CallState::Stopped => ("■ stopped: no result sent".to_string(), Look::Warning),
        CallState::Done(run) => {
            let first = run.result.lines().next().unwrap_or("");
            let first = inert(first).into_owned();
            match run.outcome {
                "ok" => (
                    format!("✓ ran on {server} in {} ms", run.duration_ms),
                    Look::Success,
                ),
                "refused" => (format!("⊘ {first}"), Look::Warning),
                "approved" => (
                    format!("✓ approved: OpenAI runs it on {server}"),
                    Look::Success,
                ),
                _ => (
                    format!("✖ failed on {server} in {} ms: {first}", run.duration_ms),
                    Look::Error,
                ),
            }
        }
    };
    Some(Span::styled(text, theme.style(look)))
}

/// Under the final answer of a loop that took more than one model call: its
/// steps, and the tokens and cost of them all.
pub fn steps_footer(conv: &Conversation, id: NodeId, theme: &Theme) -> Option<Line<'static>> {
    let node = &conv.nodes[id];
    if node.role != Role::Assistant || !node.tool_calls.is_empty() {
        return None;
    }
    let mut metas = Vec::new();
    let mut at = Some(id);
    while let Some(n) = at {
        let here = &conv.nodes[n];
        match here.role {
            Role::User | Role::Root => break,
            Role::Assistant => metas.extend(here.meta.as_ref()),
            Role::Tool => {}
        }
        at = here.parent;
    }
    if metas.len() < 2 {
        return None;
    }
    let tokens: u64 = metas
        .iter()
        .filter_map(|m| m.usage)
        .map(|u| u.input + u.output)
        .sum();
    let costs: Vec<i64> = metas.iter().filter_map(|m| m.cost_micros).collect();
    let cost = match costs.len() == metas.len() {
        true => format_usd(costs.iter().sum()),
        false if costs.is_empty() => "unpriced".to_string(),
        false => format!("{} (some steps unpriced)", format_usd(costs.iter().sum())),
    };
    Some(Line::styled(
        format!("⟲ {} steps · {tokens} tokens · {cost} in all", metas.len()),
        theme.style(Look::Cost),
    ))
}

/// The name of the call a tool result answers, found in the answer above it.
pub fn call_name(conv: &Conversation, id: NodeId) -> String {
    let call_id = conv.nodes[id].call_id.as_deref().unwrap_or("");
    let mut at = conv.nodes[id].parent;
    while let Some(p) = at {
        if let Some(c) = conv.nodes[p].tool_calls.iter().find(|c| c.id == call_id) {
            return c.name.clone();
        }
        at = conv.nodes[p].parent;
    }
    "?".into()
}

/// A function's result as a fenced block (JSON pretty-printed), for the markdown renderer.
pub fn as_code(content: &str) -> String {
    match schema::pretty(content) {
        Some(p) => format!("```json\n{p}\n```"),
        None => format!("```\n{}\n```", content.replace("```", "'''")),
    }
}

pub fn verdict(v: &Verdict, theme: &Theme) -> Line<'static> {
    match v {
        Verdict::Valid => Line::styled("✓ valid against the schema", theme.style(Look::Success)),
        other => Line::styled(
            format!("✗ {}", inert(&other.label())),
            theme.style(Look::Error),
        ),
    }
}
