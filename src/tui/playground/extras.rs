//! What a message carries besides its text: attachments, the reasoning
//! summary (collapsed until expanded), function-call cards, a function's
//! result, and whether a structured answer matches its schema.

use crate::tui::theme::Styled;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::chat::attachment::Attachment;
use crate::chat::conversation::{Conversation, NodeId};
use crate::chat::schema::{self, Verdict};
use crate::chat::tools::{ToolCall, ToolDef};
use crate::config::theme::{Role as Look, Theme};
use crate::inert::inert;
use crate::tui::cache::RenderCache;
use crate::tui::widgets::wrap::wrap;

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
/// JSON), and whether they match the function's schema.
pub fn call_cards(
    cache: &mut RenderCache,
    node: NodeId,
    calls: &[ToolCall],
    tools: &[ToolDef],
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
        out.push(Line::from(vec![
            Span::styled("╰─ ", border),
            Span::styled(text, theme.style(look)),
        ]));
    }
    out
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
