//! The one door TUI state changes through: keys become actions; actions that
//! mean the same everywhere are handled here, the rest go to the place that
//! has the keys (a room's or an overlay's `keys`), which change state and
//! return commands for the app to carry out (I/O stays out of here, so a test
//! can drive the whole UI with keys and read the commands back).

use crossterm::event::{Event, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::core::action::{Action, Place};
use super::core::state::{Focus, Level, Overlay, Pane, PickerKind, PromptPurpose, State};
use super::overlays::{
    code, confirm, conversations, form, help, parameters, picker, prompt, tools,
};
use super::{library, playground, spend};
use crate::chat::machine::Input;

pub use super::core::command::{Command, EditorTarget, ExportKind};
pub use super::core::state::PLACEHOLDER;
pub use super::overlays::conversations::conversations_listed;
pub use super::overlays::picker::refilter;

/// A terminal event. Returns the commands it causes.
pub fn on_event(state: &mut State, event: &Event) -> Vec<Command> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key),
        Event::Paste(text) => paste(state, text),
        Event::Mouse(m) => {
            match m.kind {
                MouseEventKind::ScrollUp => state.scroll += 3,
                MouseEventKind::ScrollDown => state.scroll = state.scroll.saturating_sub(3),
                _ => {}
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn on_key(state: &mut State, key: &KeyEvent) -> Vec<Command> {
    let place = state.place();
    let action = state.keymap.action(place, key);
    // Popups that open by themselves (an approval, the budget's question
    // between a loop's steps) take keys once the keyboard has rested.
    if matches!(place, Place::Approve | Place::Confirm) && !state.takes_key(action) {
        return Vec::new();
    }
    if let Some(action) = action {
        if state.presenter {
            // The audience sees the keys that do something, not every letter typed.
            state
                .keys_shown
                .push_back(super::core::keymap::Chord::from_event(key).label());
            while state.keys_shown.len() > 8 {
                state.keys_shown.pop_front();
            }
        }
        return apply(state, action);
    }
    if !place.takes_text() {
        return Vec::new();
    }
    match state.overlays.last_mut() {
        Some(Overlay::Picker(p)) => {
            let before = p.query.clone();
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            match key.code {
                crossterm::event::KeyCode::Char('u') if ctrl => p.query.clear(),
                crossterm::event::KeyCode::Char(_) if ctrl => {}
                crossterm::event::KeyCode::Char(c) => p.query.push(c),
                crossterm::event::KeyCode::Backspace => {
                    p.query.pop();
                }
                _ => {}
            }
            if p.query != before {
                refilter(p);
            }
            Vec::new()
        }
        Some(Overlay::Prompt(prompt)) => {
            super::text_keys::type_key(&mut prompt.input, key);
            prompt.error = None;
            Vec::new()
        }
        Some(Overlay::Form(form)) => {
            let at = form.focused;
            super::text_keys::type_key(&mut form.fields[at].1, key);
            form.error = None;
            Vec::new()
        }
        None if state.pane == Pane::Library => match key.code {
            crossterm::event::KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                library::keys::type_char(state, Some(c))
            }
            crossterm::event::KeyCode::Backspace => library::keys::type_char(state, None),
            _ => Vec::new(),
        },
        _ => {
            if super::text_keys::type_key(&mut state.input, key) {
                vec![Command::CountTokens]
            } else {
                Vec::new()
            }
        }
    }
}

fn paste(state: &mut State, text: &str) -> Vec<Command> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    match state.overlays.last_mut() {
        Some(Overlay::Prompt(p)) => {
            p.input.insert_str(&text);
            Vec::new()
        }
        Some(Overlay::Picker(p)) => {
            p.query.push_str(text.lines().next().unwrap_or(""));
            refilter(p);
            Vec::new()
        }
        Some(_) => Vec::new(),
        None => {
            state.focus = Focus::Input;
            state.input.insert_str(&text);
            vec![Command::CountTokens]
        }
    }
}

pub fn apply(state: &mut State, action: Action) -> Vec<Command> {
    // Actions that mean the same everywhere (where they act at all: the same
    // rule decides what the help screen lists).
    let global = action.global_at(state.place(), state.pane == Pane::Playground);
    match action {
        _ if !global => {}
        Action::Quit => {
            if state.machine.is_streaming() {
                state.toast(Level::Info, "answer stopped — press Ctrl-C again to quit");
                return vec![Command::Machine(Input::Cancel)];
            }
            state.should_quit = true;
            return Vec::new();
        }
        Action::Help => {
            state.open(Overlay::Help { scroll: 0 });
            return Vec::new();
        }
        Action::NewConversation => {
            state.overlays.clear();
            return vec![Command::NewConversation];
        }
        Action::Conversations if state.presenter => {
            state.toast(
                Level::Info,
                "the conversation list is hidden in presenter mode",
            );
            return Vec::new();
        }
        Action::Conversations => {
            state.open(Overlay::Conversations { selected: 0 });
            return vec![Command::RefreshConversations];
        }
        Action::Parameters => {
            state.open(Overlay::Parameters { selected: 0 });
            return Vec::new();
        }
        Action::ModelPicker => {
            return picker::open_picker(state, PickerKind::Model);
        }
        Action::Profiles => return picker::open_picker(state, PickerKind::Profile),
        Action::SystemPrompt => {
            prompt::open_prompt(
                state,
                "System prompt (Enter saves, Alt-Enter newline, Ctrl-E $EDITOR)",
                PromptPurpose::System,
                &state.machine.conv.system.clone(),
            );
            return Vec::new();
        }
        Action::CopyMessage => {
            return playground::keys::copy_message(state);
        }
        Action::Compare => {
            if state.draft().trim().is_empty() {
                state.toast(
                    Level::Info,
                    "type the prompt first, then Ctrl-R to compare models on it",
                );
                return Vec::new();
            }
            let offer = if state.compare_with.is_empty() {
                // Two other models the endpoint offers, to start from.
                let current = state.machine.conv.model.clone();
                let pool = if state.models.is_empty() {
                    &state.profile.models
                } else {
                    &state.models
                };
                pool.iter()
                    .filter(|m| **m != current)
                    .take(2)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                state.compare_with.clone()
            };
            let title = format!(
                "Compare {} with (up to 3: model, model@profile, model?temperature=0.2; Enter sends)",
                state.machine.conv.model
            );
            prompt::open_prompt(state, &title, PromptPurpose::Compare, &offer);
            return Vec::new();
        }
        Action::Tools => {
            state.open(Overlay::Tools { selected: 0 });
            return vec![Command::LoadTools];
        }
        Action::Attach => {
            return picker::open_picker(state, PickerKind::File);
        }
        Action::ToggleReasoning => {
            playground::keys::toggle_reasoning(state);
            return Vec::new();
        }
        Action::ViewCode => {
            state.open(Overlay::Code { tab: 0, scroll: 0 });
            return Vec::new();
        }
        Action::ShowPlayground => {
            state.pane = Pane::Playground;
            return Vec::new();
        }
        Action::ShowSpend => {
            state.pane = Pane::Spend;
            return vec![Command::LoadSpend];
        }
        Action::ShowLibrary => {
            state.pane = Pane::Library;
            let mut commands = library::keys::stats_for(state);
            if state.library.lib.is_none() {
                commands.insert(0, Command::LoadLibrary);
            }
            return commands;
        }
        Action::SaveAsPrompt => {
            if state.machine.conv.path().is_empty() {
                state.toast(Level::Info, "nothing to save yet: send a message first");
                return Vec::new();
            }
            let title = state.machine.conv.display_title();
            prompt::open_prompt(
                state,
                "Save the conversation as a prompt named",
                PromptPurpose::SaveAsPrompt,
                &crate::library::file_stem(&title.to_lowercase()),
            );
            return Vec::new();
        }
        Action::ShowEvals => {
            state.pane = Pane::Evals;
            return vec![Command::LoadEvalRuns];
        }
        Action::SwitchPane => {
            let next = match state.pane.next() {
                Pane::Playground => Action::ShowPlayground,
                Pane::Spend => Action::ShowSpend,
                Pane::Library => Action::ShowLibrary,
                Pane::Evals => Action::ShowEvals,
            };
            return apply(state, next);
        }
        _ => {}
    }
    match state.place() {
        Place::Input => playground::keys::input(state, action),
        Place::Transcript => playground::keys::transcript(state, action),
        Place::Spend => spend::keys::apply(state, action),
        Place::Library => library::keys::apply(state, action),
        Place::Evals => crate::tui::evals::keys::apply(state, action),
        Place::Conversations => conversations::keys(state, action),
        Place::Parameters => parameters::keys(state, action),
        Place::Picker => picker::keys(state, action),
        Place::Confirm => confirm::keys(state, action),
        Place::Code => code::keys(state, action),
        Place::Tools => tools::keys(state, action),
        Place::Form => form::keys(state, action),
        Place::Approve => tools::approve::keys(state, action),
        Place::Help => help::keys(state, action),
    }
}
