//! The help screen: the keys of the place under it.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{centered, popup};
use crate::config::theme::Role as Look;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::{Overlay, State};
use crate::tui::theme::Styled;
use crate::tui::widgets::wrap::wrap;

/// Keys of the help screen: scroll and close.
pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    if let Some(Overlay::Help { scroll }) = state.overlays.last_mut() {
        match action {
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Down => *scroll += 1,
            Action::Close => {
                state.overlays.pop();
            }
            _ => {}
        }
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, state: &State, scroll: u16) {
    // The keys of the place under the help screen.
    let place = {
        let mut below = State::place_without_help(state);
        if below == crate::tui::core::action::Place::Help {
            below = crate::tui::core::action::Place::Input;
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
    for (i, (purpose, keys)) in state
        .keymap
        .help(
            place,
            state.pane == crate::tui::core::state::Pane::Playground,
        )
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            lines.push(Line::default());
        }
        lines.push(Line::styled(purpose.title(), t.style(Look::Title)));
        for (keys, action) in keys {
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
    }
    lines.push(Line::default());
    use crate::tui::core::action::Place;
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
