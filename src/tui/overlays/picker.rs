//! Pickers: a model, a profile, a file to attach, a saved function result;
//! type to filter (fuzzy), Enter picks.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{centered, first_shown, popup};
use crate::chat::machine::Effect;
use crate::config::theme::Role as Look;
use crate::inert::inert;
use crate::tui::core::action::Action;
use crate::tui::core::command::Command;
use crate::tui::core::state::Picker;
use crate::tui::core::state::{Level, PickerKind};
use crate::tui::core::state::{Overlay, State};
use crate::tui::overlays::tools::rows;
use crate::tui::theme::Styled;

pub fn keys(state: &mut State, action: Action) -> Vec<Command> {
    match state.overlays.last_mut() {
        Some(Overlay::Picker(p)) => match action {
            Action::Up => p.selected = p.selected.saturating_sub(1),
            Action::Down => p.selected = (p.selected + 1).min(p.matches.len().saturating_sub(1)),
            Action::Close => {
                state.overlays.pop();
            }
            Action::Open => {
                let choice = p.matches.get(p.selected).map(|i| p.items[*i].clone());
                // A model not in the list can be typed and used as is.
                let choice = choice
                    .or_else(|| (!p.query.trim().is_empty()).then(|| p.query.trim().to_string()));
                let kind = p.kind;
                state.overlays.pop();
                if let Some(choice) = choice {
                    return match kind {
                        PickerKind::Model => {
                            state.machine.conv.model = choice.clone();
                            state.toast(Level::Info, format!("model: {choice}"));
                            vec![Command::Effects(vec![Effect::Save]), Command::CountTokens]
                        }
                        PickerKind::Profile => vec![Command::SwitchProfile(choice)],
                        PickerKind::File => vec![Command::Attach(choice.into())],
                        PickerKind::Canned => {
                            let mut input = crate::tui::core::state::new_input(
                                crate::tui::core::state::PLACEHOLDER,
                            );
                            input.insert_str(&choice);
                            state.input = input;
                            vec![Command::CountTokens]
                        }
                    };
                }
            }
            _ => {}
        },
        Some(Overlay::Prompt(_)) => return super::prompt::keys(state, action),
        _ => {}
    }
    Vec::new()
}

pub fn open_picker(state: &mut State, kind: PickerKind) -> Vec<Command> {
    let items = match kind {
        PickerKind::Model => {
            let mut items = state.models.clone();
            for m in &state.profile.models {
                if !items.contains(m) {
                    items.push(m.clone());
                }
            }
            items
        }
        PickerKind::Profile => state.profiles.clone(),
        PickerKind::File => attachable_files(),
        PickerKind::Canned => canned(state),
    };
    let mut picker = Picker {
        kind,
        query: String::new(),
        matches: Vec::new(),
        selected: 0,
        items,
    };
    refilter(&mut picker);
    if kind == PickerKind::Model {
        let current = &state.machine.conv.model;
        picker.selected = picker
            .matches
            .iter()
            .position(|i| &picker.items[*i] == current)
            .unwrap_or(0);
    }
    state.open(Overlay::Picker(picker));
    if kind == PickerKind::Model && state.models.is_empty() {
        vec![Command::LoadModels]
    } else {
        Vec::new()
    }
}

/// Fuzzy-filters the picker's items by its query (nucleo, as in helix).
pub fn refilter(p: &mut Picker) {
    use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
    if p.query.is_empty() {
        p.matches = (0..p.items.len()).collect();
    } else {
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let pattern = Pattern::parse(&p.query, CaseMatching::Smart, Normalization::Smart);
        let mut scored: Vec<(usize, u32)> = p
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let mut buf = Vec::new();
                let hay = nucleo_matcher::Utf32Str::new(item, &mut buf);
                pattern.score(hay, &mut matcher).map(|s| (i, s))
            })
            .collect();
        scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        p.matches = scored.into_iter().map(|(i, _)| i).collect();
    }
    p.selected = p.selected.min(p.matches.len().saturating_sub(1));
}

/// Attachable files under the current directory (a few levels deep), for the picker.
pub fn attachable_files() -> Vec<String> {
    const EXT: [&str; 6] = ["png", "jpg", "jpeg", "webp", "gif", "pdf"];
    let mut out = Vec::new();
    let mut dirs = vec![(PathBuf::from("."), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') || out.len() >= 5000 {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 3 && name != "target" && name != "node_modules" => {
                    dirs.push((path, depth + 1))
                }
                Ok(t) if t.is_file() => {
                    let ext = path
                        .extension()
                        .map(|x| x.to_string_lossy().to_ascii_lowercase())
                        .unwrap_or_default();
                    if EXT.contains(&ext.as_str()) {
                        out.push(
                            path.strip_prefix(".")
                                .unwrap_or(&path)
                                .display()
                                .to_string(),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Results saved with the function the conversation waits on.
pub fn canned(state: &State) -> Vec<String> {
    let Some(call) = state.machine.conv.pending_calls().into_iter().next() else {
        return Vec::new();
    };
    rows(state)
        .into_iter()
        .find(|(t, _)| t.name == call.name)
        .map(|(t, _)| t.canned_results)
        .unwrap_or_default()
}

pub fn draw(frame: &mut Frame, state: &State, p: &Picker) {
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
