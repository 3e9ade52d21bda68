//! The playground screen: title bar, transcript, input box, status bar.

use crate::tui::theme::Styled;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::transcript;
use crate::config::theme::Role as Look;
use crate::tui::cache::RenderCache;
use crate::tui::core::state::{Focus, State};
use crate::tui::memory::FrameMemory;
use crate::tui::memory::chrome::{Chrome, Key};
use crate::tui::screen::{FrameIds, Hints};
use crate::tui::views::status;
use crate::tui::widgets::lines::Bar;
use crate::tui::widgets::wrap::{fit_title, truncate};
use unicode_width::UnicodeWidthStr;

pub struct Areas {
    pub title: Rect,
    pub transcript: Rect,
    pub input: Rect,
    /// The keys-pressed strip of presenter mode (no height otherwise).
    pub keys: Rect,
    pub status: Rect,
}

pub fn layout(area: Rect, state: &State) -> Areas {
    let rows = draft_rows(state, area.width.saturating_sub(2));
    let input_height = rows.saturating_add(2).clamp(3, (area.height / 3).max(3));
    // A column of fixed rows around the transcript, which takes the rest: plain
    // arithmetic, not ratatui's constraint solver, whose first solve was a
    // ninth of the work before the first frame. On a screen too short for them
    // all, the title keeps its row first, then the status bar, the keys strip
    // and the input box, in that order.
    let mut left = area.height;
    let mut take = |want: u16| {
        let got = want.min(left);
        left -= got;
        got
    };
    let title = take(1);
    let status = take(status::height(state, area.width));
    let keys = take(u16::from(state.presenter));
    let input = take(input_height);
    let row = |y: u16, height: u16| Rect::new(area.x, y, area.width, height);
    let title = row(area.y, title);
    let transcript = row(title.bottom(), left);
    let input = row(transcript.bottom(), input);
    let keys = row(input.bottom(), keys);
    let status = row(keys.bottom(), status);
    Areas {
        title,
        transcript,
        input,
        keys,
        status,
    }
}

/// Rows the draft takes in an input box `width` columns wide inside: a
/// soft-wrapped line grows the box as a typed newline does.
fn draft_rows(state: &State, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = state
        .input
        .lines()
        .iter()
        .map(|line| {
            let words = [Span::raw(line.clone())];
            let wrapped = crate::tui::widgets::wrap::wrap(&words, width).len();
            // The text area keeps the spaces at a row's end: never fewer than by width.
            wrapped.max(line.width().div_ceil(width)).max(1)
        })
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// Presenter mode: the last keys pressed, for the audience to follow.
pub fn keys_strip(frame: &mut Frame, area: Rect, state: &State) {
    if area.height == 0 {
        return;
    }
    let t = &state.theme;
    let mut spans = vec![Span::styled(" keys ", t.style(Look::Badge)), Span::raw(" ")];
    for k in &state.keys_shown {
        spans.push(Span::styled(format!(" {k} "), t.style(Look::Selection)));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Line::from(spans), area);
}

/// Draws the playground; what the transcript kept of the last frame, if anything.
pub fn draw(
    frame: &mut Frame,
    areas: &Areas,
    ids: Option<FrameIds>,
    state: &State,
    cache: &mut RenderCache,
    memory: &mut FrameMemory,
) -> Hints {
    let hints = transcript::draw(frame, areas.transcript, ids, state, cache, memory);
    title_bar(frame, areas.title, state, &mut memory.chrome);
    input_box(frame, areas.input, state, &mut memory.chrome);
    status::draw(frame, areas.status, state, &mut memory.chrome);
    hints
}

pub fn title_bar(frame: &mut Frame, area: Rect, state: &State, chrome: &mut Chrome) {
    // Keyed by what it is drawn from, so a frame that keeps it lays out nothing.
    let key = Key::Title {
        pane: state.pane,
        title: state.machine.conv.display_title(),
        presenter: state.presenter,
        badge: state.session_badge,
        demo: state.profile.is_demo(),
    };
    chrome.draw(frame, area, key, |f, key| {
        if let Key::Title { title, .. } = key {
            draw_title_bar(f, area, state, title);
        }
    });
}

fn draw_title_bar(frame: &mut Frame, area: Rect, state: &State, title: &str) {
    let t = &state.theme;
    let bar = t.style(Look::Status);
    let tab = |name: &str, on: bool| {
        if on {
            Span::styled(
                format!(" {name} "),
                t.style(Look::Selection).add_modifier(Modifier::BOLD),
            )
        } else {
            Span::styled(format!(" {name} "), bar.patch(t.style(Look::Muted)))
        }
    };
    use crate::tui::core::state::Pane;
    // One tab per pane of the registry, numbered as Alt-1, Alt-2… show them.
    let tabs: Vec<(String, &str, Pane)> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| ((i + 1).to_string(), p.name(), *p))
        .collect();
    let mut right = Vec::new();
    if state.presenter {
        right.push(Span::styled(" PRESENTING ", t.style(Look::Badge)));
        right.push(Span::styled(" ", bar));
    }
    if let Some(badge) = state.session_badge {
        right.push(Span::styled(badge, t.style(Look::Badge)));
        right.push(Span::styled(" ", bar));
    }
    let demo = |full: bool| {
        let text = if full {
            " DEMO · offline, no key "
        } else {
            " DEMO "
        };
        Span::styled(text, t.style(Look::Badge))
    };
    let logo = Span::styled(" llmdeck ", t.style(Look::Title).patch(bar));
    // Narrow: the badge shortens, then the other tabs show their number
    // only, then the name goes; the conversation's title is shortened, never
    // dropped while it can show.
    let width = usize::from(area.width);
    let layouts = [
        (true, true, true),
        (true, false, true),
        (false, false, true),
        (false, false, false),
    ];
    let fits = |(names, full, named): (bool, bool, bool)| {
        let tabs: usize = tabs
            .iter()
            .map(|(n, name, pane)| {
                n.len()
                    + 2
                    + if names || state.pane == *pane {
                        name.len() + 1
                    } else {
                        0
                    }
            })
            .sum();
        let badge = if state.profile.is_demo() {
            demo(full).width()
        } else {
            0
        };
        let logo = if named { logo.width() } else { 0 };
        let used = logo + tabs + right.iter().map(|s| s.width()).sum::<usize>() + badge;
        // The full badge only beside the whole title.
        let want = if full {
            title.width()
        } else {
            title.width().min(16)
        };
        width.saturating_sub(used + 2) >= want
    };
    let (names, full, named) = layouts
        .into_iter()
        .find(|l| fits(*l))
        .unwrap_or((false, false, false));
    let mut left = if named { vec![logo] } else { Vec::new() };
    for (n, name, pane) in tabs {
        let on = state.pane == pane;
        left.push(if names || on {
            tab(&format!("{n} {name}"), on)
        } else {
            tab(&n, on)
        });
    }
    if state.profile.is_demo() {
        right.push(demo(full));
    }
    let right_width: usize = right.iter().map(|s| s.width()).sum();
    let room = width.saturating_sub(right_width);
    let used: usize = left.iter().map(|s| s.width()).sum();
    let title_room = room.saturating_sub(used + 2);
    if title_room >= 4 {
        left.push(Span::styled(
            format!(" {} ", truncate(title, title_room)),
            bar,
        ));
    }
    let used: usize = left.iter().map(|s| s.width()).sum();
    left.push(Span::styled(" ".repeat(room.saturating_sub(used)), bar));
    left.extend(right);
    frame.render_widget(Bar(&Line::from(left), bar), area);
}

fn input_box(frame: &mut Frame, area: Rect, state: &State, chrome: &mut Chrome) {
    let t = &state.theme;
    let focused = state.focus == Focus::Input && state.overlays.is_empty();
    let pending = state.machine.conv.pending_calls();
    let files = &state.machine.attachments;
    let title = match (state.editing.is_some(), state.machine.is_streaming()) {
        (true, _) => " Edit message — Enter sends as a new branch, Esc discards ".to_string(),
        (false, true) => " Prompt — answer streaming, Esc stops ".to_string(),
        (false, false) if state.mcp.running() => " Prompt — tools running, Esc stops ".to_string(),
        (false, false) if state.mcp.handling(&pending) => {
            " Prompt — the model's tool calls wait for your answer ".to_string()
        }
        (false, false) if !pending.is_empty() => format!(
            " Result for {} ({}) — Enter sends it, Alt-C saved results{} ",
            pending[0].name,
            pending[0].id,
            match pending.len() {
                1 => String::new(),
                n => format!(", {} more after it", n - 1),
            }
        ),
        (false, false) if !files.is_empty() => {
            let names: Vec<&str> = files.iter().map(|a| a.name.as_str()).collect();
            let tokens: u64 = files.iter().map(|a| a.estimated_tokens()).sum();
            format!(
                " Prompt · ⊕ {} (≈{tokens} tokens) — /detach drops ",
                names.join(", ")
            )
        }
        (false, false) => " Prompt ".to_string(),
    };
    let input = &state.input;
    let key = Key::Input {
        title,
        focused,
        lines: input.lines().to_vec(),
        cursor: (input.cursor().0, input.cursor().1),
        selection: input.selection_range(),
    };
    chrome.draw(frame, area, key, |f, key| {
        let Key::Input { title, .. } = key else {
            return;
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.style(if focused {
                Look::BorderFocus
            } else {
                Look::Border
            }))
            .title(Span::styled(
                fit_title(title, usize::from(area.width.saturating_sub(2))),
                t.style(if focused { Look::Title } else { Look::Muted }),
            ));
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(input, inner);
    });
}
