//! The transcript: messages laid out from the bottom up, only as many as the
//! screen shows, each from the render cache.

use crate::tui::theme::Styled;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::extras;
use crate::chat::conversation::{AnswerMeta, AnswerStatus, NodeId, Role};
use crate::chat::params::ResponseFormat;
use crate::chat::schema;
use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tui::cache::RenderCache;
use crate::tui::core::state::{Focus, State};
use crate::tui::memory::{Anchor, FrameMemory, RowKey, Shown, moved};
use crate::tui::screen::{FrameIds, Hints};
use crate::tui::widgets::lines::Lines;
use crate::tui::widgets::wrap::truncate;
use crate::usage::format_usd;

/// A row of the transcript: a line of its own, or a line of a message body as
/// the render cache holds it (drawn from there, not copied, every frame).
enum Row {
    Own(Line<'static>),
    Body(NodeId, usize),
}

impl Row {
    /// The line the row shows.
    fn line<'a>(&'a self, cache: &'a RenderCache) -> &'a Line<'static> {
        match self {
            Row::Own(line) => line,
            Row::Body(id, i) => &cache.lines(*id)[*i],
        }
    }
}

/// One message as header, body, numbers and a blank line: its height, and its
/// last `limit` rows.
fn block(
    state: &State,
    cache: &mut RenderCache,
    index: usize,
    id: NodeId,
    limit: usize,
) -> (usize, Vec<Row>) {
    let conv = &state.machine.conv;
    if let Some(parent) = conv.nodes[id].parent
        && conv.nodes[parent].compare
        && conv.nodes[parent].children.len() > 1
    {
        let (total, lines) = compare_block(state, cache, index, parent, limit);
        return (total, lines.into_iter().map(Row::Own).collect());
    }
    let theme = &state.theme;
    let conv = &state.machine.conv;
    let node = &conv.nodes[id];
    let selected = state.focus == Focus::Transcript && state.selected == Some(index);
    let streaming = state.machine.is_streaming_node(id);
    let mut lines = Vec::new();

    let (name, look) = match node.role {
        Role::User => ("You".to_string(), Look::User),
        Role::Tool => (
            format!(
                "Result of {} · {}",
                extras::call_name(conv, id),
                node.call_id.as_deref().unwrap_or("?")
            ),
            Look::System,
        ),
        _ => {
            let model = node
                .meta
                .as_ref()
                .and_then(|m| m.model.clone())
                .unwrap_or_else(|| conv.model.clone());
            // The model the server reports: its text, so inert.
            (format!("Assistant · {}", inert(&model)), Look::Assistant)
        }
    };
    let mut header = vec![
        Span::styled(if selected { "▶ " } else { "▍ " }, theme.style(look)),
        Span::styled(name, theme.style(look)),
    ];
    let (pos, count) = conv.branch_of(id);
    if count > 1 {
        header.push(Span::styled(
            format!("  ‹ branch {pos}/{count} ›"),
            theme.style(Look::Accent),
        ));
    }
    if state.editing == Some(id) {
        header.push(Span::styled("  (editing)", theme.style(Look::Warning)));
    }
    if selected {
        // Onto each span: a theme whose selection sets a colour of its own
        // (black on yellow) must not keep the roles' colours on its background.
        let sel = theme.style(Look::Selection);
        for span in &mut header {
            span.style = span.style.patch(sel);
        }
    }
    let header = Line::from(header);
    lines.push(header);
    lines.extend(extras::attachments(&node.attachments, theme));

    let reasoning = node
        .meta
        .as_ref()
        .map(|m| m.reasoning.as_str())
        .unwrap_or("");
    if streaming && node.content.is_empty() {
        let text = if reasoning.is_empty() {
            "waiting for the first token…".to_string()
        } else {
            // The latest of the model's thinking, dimmed, until the answer begins.
            let tail: String = reasoning
                .chars()
                .rev()
                .take(70)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("thinking… {}", inert(tail.trim()))
        };
        lines.push(Line::styled(
            text,
            theme
                .style(Look::Muted)
                .add_modifier(ratatui::style::Modifier::ITALIC),
        ));
    } else if !reasoning.is_empty() {
        lines.extend(extras::reasoning(
            reasoning,
            state.expanded.contains(&id),
            usize::from(cache.width()),
            theme,
        ));
    }
    let tools = (conv.tools.as_slice(), &state.mcp);
    let mut tail = extras::hosted_cards(&node.hosted, usize::from(cache.width()), theme);
    tail.extend(extras::call_cards(
        cache,
        id,
        &node.tool_calls,
        tools,
        streaming,
        theme,
    ));
    let structured = matches!(
        conv.params.response_format,
        ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. }
    );
    let done = node.role == Role::Assistant && !streaming && !node.content.trim().is_empty();
    if done && let ResponseFormat::JsonSchema { schema, .. } = &conv.params.response_format {
        let verdict = cache.verdicts.get((id, 0, node.content.len()), || {
            Some(schema::check(schema, &node.content))
        });
        tail.extend(verdict.map(|v| extras::verdict(&v, theme)));
    }
    if !streaming && id == conv.last() {
        let pending = conv.pending_calls();
        // Calls the agent loop is handling need no typed result.
        let looping = state.mcp.handling(&pending);
        if let Some(call) = pending.first().filter(|_| !looping) {
            tail.push(Line::styled(
                format!(
                    "⏎ waiting for the result of {} ({}): type it below, Alt-C offers saved results",
                    call.name,
                    pending.len()
                ),
                theme.style(Look::Warning),
            ));
        }
    }
    if let Some(meta) = &node.meta
        && let Some(line) = meta_line(state, meta, streaming)
    {
        tail.push(line);
        if !streaming {
            tail.extend(extras::steps_footer(conv, id, theme));
        }
    }
    tail.push(Line::default());
    // Results and JSON answers read best as highlighted, pretty-printed code.
    let key = (id, 0, node.content.len());
    let shown = match node.role {
        Role::Tool => cache
            .pretty
            .get(key, || Some(extras::as_code(&node.content))),
        _ if done && structured => cache.pretty.get(key, || {
            schema::pretty(&node.content).map(|p| format!("```json\n{p}\n```"))
        }),
        _ => None,
    };
    let (role, content) = match &shown {
        Some(code) => (Role::Assistant, code.as_str()),
        None => (node.role, node.content.as_str()),
    };
    let body = cache.body(id, role, content, streaming, theme).len();
    let total = lines.len() + body + tail.len();
    // Keep the last `limit` rows of head + body + tail.
    let skip = total.saturating_sub(limit);
    let head_skip = skip.min(lines.len());
    let body_skip = (skip - head_skip).min(body);
    let tail_skip = skip - head_skip - body_skip;
    let mut out: Vec<Row> = lines
        .split_off(head_skip)
        .into_iter()
        .map(Row::Own)
        .collect();
    out.extend((body_skip..body).map(|i| Row::Body(id, i)));
    out.extend(tail.into_iter().skip(tail_skip).map(Row::Own));
    (total, out)
}

/// The answers to a compared question, side by side: model, answer, numbers.
/// The one the conversation continues with is marked ●; h/l switch it.
fn compare_block(
    state: &State,
    cache: &mut RenderCache,
    index: usize,
    question: NodeId,
    limit: usize,
) -> (usize, Vec<Line<'static>>) {
    let theme = &state.theme;
    let conv = &state.machine.conv;
    let answers: Vec<NodeId> = conv.nodes[question]
        .children
        .iter()
        .copied()
        .take(4)
        .collect();
    let active = conv.nodes[question]
        .children
        .get(conv.nodes[question].active)
        .copied();
    let selected = state.focus == Focus::Transcript && state.selected == Some(index);
    let n = answers.len();
    let width = usize::from(cache.width());
    let col = (width.saturating_sub(3 * (n - 1)) / n).max(8);
    let mut columns: Vec<Vec<Line<'static>>> = Vec::new();
    for &id in &answers {
        let node = &conv.nodes[id];
        let streaming = state.machine.is_streaming_node(id);
        let model = node
            .meta
            .as_ref()
            .and_then(|m| m.model.clone())
            .unwrap_or_default();
        let mark = if Some(id) == active { "● " } else { "○ " };
        let mut header = Line::from(vec![
            Span::styled(mark, theme.style(Look::Accent)),
            Span::styled(
                truncate(&inert(&model), col.saturating_sub(2)),
                theme.style(Look::Assistant),
            ),
        ]);
        if selected && Some(id) == active {
            header = header.patch_style(theme.style(Look::Selection));
        }
        let mut lines = vec![header];
        if streaming && node.content.is_empty() {
            lines.push(Line::styled("waiting…", theme.style(Look::Muted)));
        }
        lines.extend(
            cache
                .column(id, &node.content, streaming, col as u16, theme)
                .iter()
                .cloned(),
        );
        if let Some(meta) = &node.meta
            && let Some(line) = meta_line(state, meta, streaming)
        {
            // The numbers wrap inside the column.
            let spans: Vec<Span<'static>> = line.spans.into_iter().collect();
            lines.extend(
                crate::tui::widgets::wrap::wrap(&spans, col)
                    .into_iter()
                    .map(Line::from),
            );
        }
        columns.push(lines);
    }
    let height = columns.iter().map(Vec::len).max().unwrap_or(0);
    let sep = Span::styled(" │ ", theme.style(Look::Border));
    let mut rows: Vec<Line<'static>> = (0..height)
        .map(|r| {
            let mut spans = Vec::new();
            for (c, column) in columns.iter().enumerate() {
                if c > 0 {
                    spans.push(sep.clone());
                }
                let line = column.get(r).cloned().unwrap_or_default();
                let used = line.width();
                spans.extend(line.spans);
                spans.push(Span::raw(crate::tui::widgets::spaces(
                    col.saturating_sub(used),
                )));
            }
            Line::from(spans)
        })
        .collect();
    rows.push(Line::default());
    let total = rows.len();
    let skip = total.saturating_sub(limit);
    (total, rows.split_off(skip))
}

/// The numbers under an answer: tokens, cost, speed, finish — or what went wrong.
fn meta_line(state: &State, meta: &AnswerMeta, streaming: bool) -> Option<Line<'static>> {
    let theme = &state.theme;
    let muted = theme.style(Look::Muted);
    if streaming {
        return Some(Line::styled("streaming… (Esc stops)", muted));
    }
    let mut spans = Vec::new();
    let mut push = |text: String, style: Style| {
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", muted));
        }
        spans.push(Span::styled(text, style));
    };
    match meta.status {
        AnswerStatus::Stopped => push("■ stopped".into(), theme.style(Look::Warning)),
        AnswerStatus::Interrupted => push(
            format!("⚠ interrupted: {}", meta.error.clone().unwrap_or_default()),
            theme.style(Look::Error),
        ),
        AnswerStatus::Error => push(
            format!(
                "✖ {}",
                meta.error.clone().unwrap_or_else(|| "failed".into())
            ),
            theme.style(Look::Error),
        ),
        AnswerStatus::Done | AnswerStatus::Streaming => {}
    }
    if let Some(u) = meta.usage {
        let est = if u.source == crate::chat::event::UsageSource::Estimated {
            "≈"
        } else {
            ""
        };
        let mut t = format!("{est}{} in", u.input);
        if u.cached_input > 0 {
            t.push_str(&format!(" ({} cached)", u.cached_input));
        }
        t.push_str(&format!(" · {est}{} out", u.output));
        if u.reasoning > 0 {
            t.push_str(&format!(" ({} reasoning)", u.reasoning));
        }
        push(t, muted);
    }
    use crate::usage::cost::CostSource;
    match (meta.cost_micros, meta.cost_source) {
        (Some(_), Some(CostSource::Local)) => push("local".into(), muted),
        // Not from a price list: the server's own figure, or the user's price.
        (Some(c), Some(s @ (CostSource::Server | CostSource::Override))) => push(
            format!("{} ({})", format_usd(c), s.label()),
            theme.style(Look::Cost),
        ),
        (Some(c), _) => push(format_usd(c), theme.style(Look::Cost)),
        (None, _) if meta.usage.is_some() => push("unpriced".into(), muted),
        (None, _) => {}
    }
    if let Some(t) = meta.ttft_ms {
        push(format!("TTFT {t} ms"), muted);
    }
    if let Some(tps) = meta.tokens_per_second() {
        push(format!("{tps:.0} tok/s"), muted);
    }
    if let Some(f) = &meta.finish {
        let style = match f {
            crate::chat::event::FinishReason::Stop => muted,
            _ => theme.style(Look::Warning),
        };
        push(f.label().to_string(), style);
    }
    (!spans.is_empty()).then(|| Line::from(spans))
}

/// Checks and pretty-printing also depend on the tools and the response format.
fn stamp(state: &State, cache: &mut RenderCache) {
    use std::hash::{Hash, Hasher};
    let conv = &state.machine.conv;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&(&conv.tools, &conv.params.response_format))
        .unwrap_or_default()
        .hash(&mut h);
    cache.verdicts.stamped(h.finish());
    cache.pretty.stamped(h.finish());
}

/// Lays out from the bottom: returns the visible rows, the scroll actually
/// used, and the last message's height.
fn visible(state: &State, cache: &mut RenderCache, area: Rect) -> (Vec<Row>, usize, usize) {
    stamp(state, cache);
    let path = state.machine.conv.path();
    let height = usize::from(area.height);
    let want = state.scroll + height;
    let mut rev: Vec<Row> = Vec::new();
    let mut last = 0;
    for (index, id) in path.iter().enumerate().rev() {
        let (total, mut b) = block(state, cache, index, id, want - rev.len());
        if index + 1 == path.len() {
            last = total;
        }
        b.reverse();
        rev.extend(b);
        if rev.len() >= want {
            break;
        }
    }
    let scroll = state.scroll.min(rev.len().saturating_sub(height));
    let rows: Vec<Row> = rev.into_iter().skip(scroll).take(height).collect();
    (rows.into_iter().rev().collect(), scroll, last)
}

/// The scroll that brings the selected message into view, if it is not.
pub fn reveal(state: &State, cache: &mut RenderCache, area: Rect) -> Option<usize> {
    stamp(state, cache);
    let sel = state.selected?;
    let path = state.machine.conv.path();
    let height = usize::from(area.height);
    // Lines below the selected message's end, and its own height.
    let mut below = 0;
    for (index, id) in path.iter().enumerate().rev() {
        let (h, _) = block(state, cache, index, id, 0);
        if index == sel {
            let top = below + h;
            return if below < state.scroll {
                Some(below)
            } else if top > state.scroll + height {
                Some(top.saturating_sub(height).min(below))
            } else {
                None
            };
        }
        below += h;
    }
    None
}

/// Draws the transcript. With `ids` (the console's own frames), also says
/// how it scrolled since the frame the terminal shows and which rows still show
/// the same line there; those are left undrawn. A popup over the transcript
/// gets neither: it would jump with the scroll, and it covers rows.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    ids: Option<FrameIds>,
    state: &State,
    cache: &mut RenderCache,
    memory: &mut FrameMemory,
) -> Hints {
    let (before, earlier) = match ids {
        Some(_) => (memory.anchor.take(), memory.shown.take()),
        None => (None, None),
    };
    if state.machine.conv.path().is_empty() {
        // Line by line: a Paragraph first styles every cell of the area, a
        // tenth of the work before the first frame, for no style at all.
        let rows = area.rows().zip(welcome(state, area.width));
        for (row, line) in rows {
            frame.buffer_mut().set_line(row.x, row.y, &line, row.width);
        }
        return Hints::default();
    }
    let (rows, scroll, last) = visible(state, cache, area);
    let mut hints = Hints::default();
    if let Some(ids) = ids {
        memory.anchor = state.machine.conv.path().last().map(|node| Anchor {
            node,
            top: rows.len() as i64 + scroll as i64 - last as i64,
            rows: (area.top(), area.bottom()),
        });
        if state.overlays.is_empty() {
            hints.scroll = moved(before, memory.anchor);
            let keys = keys(&rows, area, cache);
            if let Some(e) = earlier.filter(|e| Some(e.frame) == ids.shown && e.area == area) {
                let by = hints.scroll.as_ref().map_or(0, |s| s.by);
                hints.keep = e.same_rows(&keys, by, |y| Some(rows.get(y)?.line(cache)));
            }
            memory.shown = Some(Shown {
                frame: ids.now,
                area,
                keys,
            });
        }
    }
    let blank = Line::default();
    let lines: Vec<&Line> = rows
        .iter()
        .zip(area.top()..)
        .map(|(row, y)| match hints.keep.iter().any(|k| k.contains(&y)) {
            true => &blank,
            false => row.line(cache),
        })
        .collect();
    frame.render_widget(Lines(&lines), area);
    hints
}

fn keys(rows: &[Row], area: Rect, cache: &RenderCache) -> Vec<RowKey> {
    (0..usize::from(area.height))
        .map(|y| match rows.get(y) {
            None => RowKey::Blank,
            Some(Row::Own(line)) => RowKey::Own(line.clone()),
            Some(row @ Row::Body(id, i)) => match cache.fixed_line(*id, *i) {
                Some(epoch) => RowKey::Body(*id, *i, epoch),
                None => RowKey::Own(row.line(cache).clone()),
            },
        })
        .collect()
}

/// The first screen, wrapped to `width` under a two-column indent: start-up
/// warnings (a keymap's, naming its file) are read whole, at any width.
fn welcome(state: &State, width: u16) -> Vec<Line<'static>> {
    let t = &state.theme;
    let mut items: Vec<(String, ratatui::style::Style)> = vec![
        (String::new(), t.style(Look::Text)),
        ("llmdeck playground".into(), t.style(Look::Title)),
        (String::new(), t.style(Look::Text)),
        (
            "Type a prompt below and press Enter. Esc stops an answer, F1 lists every key.".into(),
            t.style(Look::Text),
        ),
        (
            "Ctrl-P parameters · Ctrl-K model · Ctrl-S system prompt · Ctrl-O conversations".into(),
            t.style(Look::Muted),
        ),
    ];
    if state.profile.is_demo() {
        items.push((String::new(), t.style(Look::Text)));
        items.push((
            "DEMO MODE — no API key or endpoint is configured, so answers come from the offline demo.".into(),
            t.style(Look::Warning).add_modifier(Modifier::BOLD),
        ));
        items.push((
            "Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) and restart to use a real model.".into(),
            t.style(Look::Muted),
        ));
    }
    for w in &state.warnings {
        items.push((String::new(), t.style(Look::Text)));
        items.push((format!("⚠ {w}"), t.style(Look::Error)));
    }
    let room = usize::from(width.saturating_sub(3)).max(10);
    let mut lines = Vec::new();
    for (text, style) in items {
        if text.is_empty() {
            lines.push(Line::default());
            continue;
        }
        for row in crate::tui::widgets::wrap::wrap(&[Span::styled(text, style)], room) {
            let mut spans = vec![Span::raw("  ")];
            spans.extend(row);
            lines.push(Line::from(spans));
        }
    }
    lines
}
