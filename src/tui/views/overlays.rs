//! Popups over the playground: help, conversation list, parameters, pickers,
//! text prompts and yes/no questions. Only the top one takes keys.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tui::params::{self, Field};
use crate::tui::state::{Overlay, PickerKind, State};
use crate::tui::widgets::wrap::{fit_title, truncate, wrap};
use unicode_width::UnicodeWidthStr;

pub fn draw(frame: &mut Frame, state: &State) {
    for overlay in &state.overlays {
        match overlay {
            Overlay::Help { scroll } => help(frame, state, *scroll),
            Overlay::Code { tab, scroll } => code(frame, state, *tab, *scroll),
            Overlay::Conversations { selected } => conversations(frame, state, *selected),
            Overlay::Parameters { selected } => parameters(frame, state, *selected),
            Overlay::Tools { selected } => super::tools_panel::draw(frame, state, *selected),
            Overlay::Form(form) => super::library::form(frame, state, form),
            Overlay::Picker(p) => {
                let title = match p.kind {
                    PickerKind::Model => " Model — type to filter, Enter picks ",
                    PickerKind::Profile => " Profile — Enter switches ",
                    PickerKind::File => " Attach — an image or PDF; type to filter or a path ",
                    PickerKind::Canned => " Saved results — Enter puts one in the draft ",
                };
                let area = centered(frame.area(), 50, 16);
                let inner = popup(frame, state, area, title);
                let t = &state.theme;
                let mut lines = vec![Line::from(vec![
                    Span::styled("› ", t.style(Look::Accent)),
                    Span::styled(p.query.clone(), t.style(Look::Text)),
                    Span::styled("█", t.style(Look::Muted)),
                ])];
                let rows = usize::from(inner.height.saturating_sub(1));
                let start = first_shown(p.selected, p.matches.len(), rows);
                for (i, idx) in p.matches.iter().enumerate().skip(start).take(rows) {
                    let style = if i == p.selected {
                        t.style(Look::Selection)
                    } else {
                        t.style(Look::Text)
                    };
                    // Model ids come from the server's /models.
                    lines.push(Line::styled(format!("  {}", inert(&p.items[*idx])), style));
                }
                if p.matches.is_empty() {
                    let hint = if p.items.is_empty() {
                        "  loading…"
                    } else {
                        "  no match — Enter uses what you typed"
                    };
                    lines.push(Line::styled(hint, t.style(Look::Muted)));
                }
                frame.render_widget(Paragraph::new(lines), inner);
            }
            Overlay::Prompt(p) => {
                let area = centered(frame.area(), 70, 10);
                let inner = popup(frame, state, area, &format!(" {} ", p.title));
                // The error gets the rows it needs, wrapped, never cut.
                let error_rows = p.error.as_ref().map_or(0, |e| {
                    wrap(&[Span::raw(e.clone())], usize::from(inner.width)).len() as u16
                });
                let [input, error] =
                    Layout::vertical([Constraint::Min(1), Constraint::Length(error_rows)])
                        .areas(inner);
                frame.render_widget(&p.input, input);
                if let Some(e) = &p.error {
                    frame.render_widget(
                        Paragraph::new(e.clone())
                            .style(state.theme.style(Look::Error))
                            .wrap(Wrap { trim: true }),
                        error,
                    );
                }
            }
            Overlay::Confirm { question, .. } => {
                let area = centered(frame.area(), 60, 5);
                let inner = popup(frame, state, area, " Confirm ");
                frame.render_widget(
                    Paragraph::new(question.clone())
                        .style(state.theme.style(Look::Warning))
                        .wrap(Wrap { trim: true }),
                    inner,
                );
            }
        }
    }
}

/// The first of `len` rows to show in `rows` rows, so that `selected` is in
/// view: every list in a popup scrolls to its selection at any size.
pub fn first_shown(selected: usize, len: usize, rows: usize) -> usize {
    if rows == 0 {
        return selected;
    }
    selected
        .saturating_sub(rows - 1)
        .min(len.saturating_sub(rows))
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

/// Clears `area`, draws a focused box titled `title` there, and returns its inside.
pub fn popup(frame: &mut Frame, state: &State, area: Rect, title: &str) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Look::BorderFocus))
        .style(state.theme.style(Look::Text))
        .title(Span::styled(
            fit_title(title, usize::from(area.width.saturating_sub(2))),
            state.theme.style(Look::Title),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

fn help(frame: &mut Frame, state: &State, scroll: u16) {
    // The keys of the place under the help screen.
    let place = {
        let mut below = State::place_without_help(state);
        if below == crate::tui::action::Place::Help {
            below = crate::tui::action::Place::Input;
        }
        below
    };
    let t = &state.theme;
    let area = centered(frame.area(), 72, frame.area().height.saturating_sub(2));
    let title = format!(" Keys — {} (Esc closes) ", place.section());
    let inner = popup(frame, state, area, &title);
    // Keys in a column of their own, descriptions beside them; both wrap at
    // word boundaries, so nothing is ever cut at the border.
    const KEYS: usize = 22;
    // One column is left before the border, so a full line does not read as cut.
    let text_width = usize::from(inner.width).saturating_sub(KEYS + 3).max(10);
    let words = |text: &str, width: usize| -> Vec<String> {
        wrap(&[Span::raw(text.to_string())], width)
            .into_iter()
            .map(|spans| spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    };
    let mut lines: Vec<Line> = Vec::new();
    for (keys, action) in state.keymap.bindings(place) {
        let keys = words(&keys, KEYS);
        let text = words(action.describe(), text_width);
        for i in 0..keys.len().max(text.len()) {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{:>KEYS$}  ", keys.get(i).map_or("", String::as_str)),
                    t.style(Look::Accent),
                ),
                Span::styled(
                    text.get(i).cloned().unwrap_or_default(),
                    t.style(Look::Text),
                ),
            ]));
        }
    }
    lines.push(Line::default());
    use crate::tui::action::Place;
    if matches!(place, Place::Input | Place::Picker | Place::Form) {
        for line in words(
            "Typing: Ctrl-U deletes to the start of the line, Ctrl-W the word before the cursor, Ctrl-A / Ctrl-E go to its start / end, Ctrl-Z undoes.",
            usize::from(inner.width.saturating_sub(1)).max(10),
        ) {
            lines.push(Line::styled(line, t.style(Look::Text)));
        }
    }
    for line in words(
        "Keys come from the built-in keymap and <config dir>/keymap.toml (see README).",
        usize::from(inner.width.saturating_sub(1)).max(10),
    ) {
        lines.push(Line::styled(line, t.style(Look::Muted)));
    }
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn conversations(frame: &mut Frame, state: &State, selected: usize) {
    let t = &state.theme;
    let area = centered(
        frame.area(),
        90.min(frame.area().width.saturating_sub(2)),
        frame.area().height.saturating_sub(4).max(6),
    );
    let inner = popup(
        frame,
        state,
        area,
        " Conversations — Enter opens · n new · R rename · d duplicate · D delete ",
    );
    if state.conversations.is_empty() {
        frame.render_widget(
            Line::styled("  no saved conversations yet", t.style(Look::Muted)),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    // The date and count keep their columns; the title takes what is left.
    let (date, count) = if width >= 60 {
        ("%Y-%m-%d %H:%M", true)
    } else {
        ("%m-%d %H:%M", false)
    };
    let right = |count_text: String, when: String| {
        if count {
            format!(" {count_text:>9}  {when}")
        } else {
            format!(" {when}")
        }
    };
    let header_right = right(
        "messages".into(),
        format!("{:<w$}", "updated", w = if count { 16 } else { 11 }),
    );
    let title_width = width.saturating_sub(2 + header_right.width());
    let row = |mark: &str, title: &str, right: &str| {
        format!(
            "{mark}{:<title_width$}{right}",
            truncate(title, title_width)
        )
    };
    let mut lines = vec![Line::styled(
        row("  ", "title", &header_right),
        t.style(Look::Muted),
    )];
    let rows = usize::from(inner.height.saturating_sub(1));
    let start = first_shown(selected, state.conversations.len(), rows);
    lines.extend(
        state
            .conversations
            .iter()
            .enumerate()
            .skip(start)
            .take(rows)
            .map(|(i, c)| {
                let current = c.id == state.machine.conv.id;
                let mark = if current { "● " } else { "  " };
                let text = match &c.error {
                    Some(e) => truncate(&format!("{mark}⚠ {} — {e}", c.title), width),
                    None => row(
                        mark,
                        &c.title,
                        &right(c.messages.to_string(), c.updated.format(date).to_string()),
                    ),
                };
                let look = if c.error.is_some() {
                    Look::Error
                } else {
                    Look::Text
                };
                let mut style = t.style(look);
                if i == selected {
                    style = style.patch(t.style(Look::Selection));
                }
                Line::styled(text, style)
            }),
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

fn parameters(frame: &mut Frame, state: &State, selected: usize) {
    let t = &state.theme;
    let area = frame.area();
    let width = 46.min(area.width);
    let panel = Rect {
        x: area.width.saturating_sub(width),
        y: 1,
        width,
        height: area
            .height
            .saturating_sub(2)
            .min(Field::ALL.len() as u16 + 5),
    };
    let inner = popup(frame, state, panel, " Parameters ");
    let conv = &state.machine.conv;
    let lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let value = params::show(*f, &conv.params, &conv.model, &conv.system);
            let look = if value == "default" {
                Look::Muted
            } else {
                Look::Accent
            };
            let mut label = t.style(Look::Text);
            let mut val = t.style(look);
            if i == selected {
                label = label.patch(t.style(Look::Selection));
                val = val.patch(t.style(Look::Selection));
            }
            Line::from(vec![
                Span::styled(format!(" {:<18}", f.label()), label),
                Span::styled(
                    truncate(&value, usize::from(inner.width).saturating_sub(20)),
                    val,
                ),
            ])
        })
        .collect();
    // The hints below the fields go first when rows are short; the fields scroll.
    let room = usize::from(inner.height);
    let hints = [
        " ←/→ adjust · Enter type · Del default",
        " \"default\" is not sent: the server decides",
    ];
    let footer = if room >= lines.len() + 3 {
        2
    } else {
        usize::from(room >= 8)
    };
    let rows = room.saturating_sub(footer + usize::from(footer > 0));
    let start = first_shown(selected, lines.len(), rows);
    let mut lines: Vec<Line> = lines.into_iter().skip(start).take(rows).collect();
    if footer > 0 {
        lines.push(Line::default());
    }
    for hint in &hints[..footer] {
        lines.push(Line::styled(*hint, t.style(Look::Muted)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn code(frame: &mut Frame, state: &State, tab: usize, scroll: u16) {
    let t = &state.theme;
    let snippets =
        crate::provider::code::snippets(&state.profile, &state.pending_request(), state.presenter);
    let area = centered(
        frame.area(),
        frame.area().width.saturating_sub(4),
        frame.area().height.saturating_sub(2),
    );
    let inner = popup(
        frame,
        state,
        area,
        " Request as code — ←/→ language · y copy · Esc close ",
    );
    let [tabs, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    let mut spans = Vec::new();
    for (i, s) in snippets.iter().enumerate() {
        let look = if i == tab % snippets.len() {
            Look::Selection
        } else {
            Look::Muted
        };
        spans.push(Span::styled(format!(" {} ", s.label), t.style(look)));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(
        " key from $ENV, never inline",
        t.style(Look::Muted),
    ));
    frame.render_widget(Line::from(spans), tabs);
    let s = &snippets[tab % snippets.len()];
    let source = format!("```{}\n{}```\n", s.lang, s.code);
    // A column short of the border: a long line is hard-wrapped there and
    // continues below, and does not read as cut off at the edge.
    let rendered =
        crate::tui::widgets::markdown::render(&source, body.width.saturating_sub(1), &state.theme);
    frame.render_widget(Paragraph::new(rendered.lines).scroll((scroll, 0)), body);
}
