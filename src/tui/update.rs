//! The one place TUI state changes: keys become actions, actions change state
//! and return commands for the app to carry out (I/O stays out of here, so a
//! test can drive the whole UI with keys and read the commands back).

use crossterm::event::{Event, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::action::{Action, Place};

use super::state::{Focus, Level, Overlay, PickerKind, PromptPurpose, State, new_input};
use crate::chat::conversation::Role;
use crate::chat::machine::{Effect, Input};

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Feed the conversation state machine; the app runs the effects it returns.
    Machine(Input),
    /// Send `text` to several targets (`model[@profile][?param=value]`).
    Compare {
        text: String,
        specs: Vec<String>,
    },
    /// Carry out effects (params changed → save, say).
    Effects(Vec<Effect>),
    Copy {
        text: String,
        what: String,
    },
    EditInEditor(EditorTarget),
    /// Read a file and attach it to the next message.
    Attach(std::path::PathBuf),
    /// Read the tools folder again.
    LoadTools,
    /// Read the prompt library (off the first frame).
    LoadLibrary,
    /// The ledger's versions of a prompt.
    LoadPromptStats(String),
    /// Fill a prompt and send it in a new playground conversation.
    RunPrompt {
        name: String,
        vars: std::collections::BTreeMap<String, String>,
    },
    TestPrompt {
        name: String,
        targets: Vec<String>,
    },
    /// Add a model's price to prices.toml (input, cached, output per 1M).
    SavePrice {
        model: String,
        rates: (f64, Option<f64>, f64),
    },
    /// Write the starter prompts into the library.
    StarterPrompts,
    /// Library file work, each answered by a reload.
    CreatePrompt(String),
    RenamePrompt {
        from: String,
        to: String,
    },
    DuplicatePrompt {
        from: String,
        to: String,
    },
    DeletePrompt(String),
    SaveAsPrompt(String),
    NewConversation,
    OpenConversation(String),
    DuplicateConversation(String),
    RenameConversation {
        id: String,
        title: String,
    },
    DeleteConversation(String),
    RefreshConversations,
    /// Recompute the Spend pane (and the status bar's totals) from the ledger.
    LoadSpend,
    /// The requests behind one row of the Spend pane.
    LoadDrill(String),
    SyncOrg,
    SwitchProfile(String),
    LoadModels,
    Export(ExportKind),
    /// The draft or conversation changed: count what would be sent.
    CountTokens,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorTarget {
    Draft,
    System,
    /// A function's file in the tools folder (`None`: a new one).
    Tool(Option<String>),
    /// A file the user owns (a prompt), edited in place.
    File(std::path::PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Markdown,
    Json,
}

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
    if let Some(action) = state.keymap.action(place, key) {
        if state.presenter {
            // The audience sees the keys that do something, not every letter typed.
            state
                .keys_shown
                .push_back(super::keymap::Chord::from_event(key).label());
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
        None if state.pane == super::state::Pane::Library => match key.code {
            crossterm::event::KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                super::library::type_char(state, Some(c))
            }
            crossterm::event::KeyCode::Backspace => super::library::type_char(state, None),
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
    // Actions that mean the same everywhere.
    match action {
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
        Action::NewConversation if !matches!(state.place(), Place::Picker) => {
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
            return super::update_overlays::open_picker(state, PickerKind::Model);
        }
        Action::Profiles => return super::update_overlays::open_picker(state, PickerKind::Profile),
        Action::SystemPrompt => {
            super::update_overlays::open_prompt(
                state,
                "System prompt (Enter saves, Alt-Enter newline, Ctrl-E $EDITOR)",
                PromptPurpose::System,
                &state.machine.conv.system.clone(),
            );
            return Vec::new();
        }
        Action::CopyMessage if state.place() != Place::Code => return copy_message(state),
        Action::Compare if matches!(state.place(), Place::Input | Place::Transcript) => {
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
            super::update_overlays::open_prompt(state, &title, PromptPurpose::Compare, &offer);
            return Vec::new();
        }
        Action::Tools if state.place() != Place::Tools => {
            state.open(Overlay::Tools { selected: 0 });
            return vec![Command::LoadTools];
        }
        Action::Attach => {
            return super::update_overlays::open_picker(state, PickerKind::File);
        }
        Action::ToggleReasoning => {
            super::update_tools::toggle_reasoning(state);
            return Vec::new();
        }
        Action::ViewCode if state.place() != Place::Code => {
            state.open(Overlay::Code { tab: 0, scroll: 0 });
            return Vec::new();
        }
        Action::ShowPlayground => {
            state.pane = super::state::Pane::Playground;
            return Vec::new();
        }
        Action::ShowSpend => {
            state.pane = super::state::Pane::Spend;
            return vec![Command::LoadSpend];
        }
        Action::ShowLibrary => {
            state.pane = super::state::Pane::Library;
            let mut commands = super::library::stats_for(state);
            if state.library.lib.is_none() {
                commands.insert(0, Command::LoadLibrary);
            }
            return commands;
        }
        Action::SaveAsPrompt if state.pane == super::state::Pane::Playground => {
            if state.machine.conv.path().is_empty() {
                state.toast(Level::Info, "nothing to save yet: send a message first");
                return Vec::new();
            }
            let title = state.machine.conv.display_title();
            super::update_overlays::open_prompt(
                state,
                "Save the conversation as a prompt named",
                PromptPurpose::SaveAsPrompt,
                &crate::library::file_stem(&title.to_lowercase()),
            );
            return Vec::new();
        }
        Action::SwitchPane => {
            use super::state::Pane;
            let next = match state.pane {
                Pane::Playground => Action::ShowSpend,
                Pane::Spend => Action::ShowLibrary,
                Pane::Library => Action::ShowPlayground,
            };
            return apply(state, next);
        }
        _ => {}
    }
    match state.place() {
        Place::Input => input_action(state, action),
        Place::Transcript => transcript_action(state, action),
        Place::Conversations => super::update_overlays::conversations_action(state, action),
        Place::Parameters => super::update_overlays::parameters_action(state, action),
        Place::Picker => super::update_overlays::picker_action(state, action),
        Place::Confirm => super::update_overlays::confirm_action(state, action),
        Place::Spend => super::spend_update::apply(state, action),
        Place::Code => super::update_overlays::code_action(state, action),
        Place::Tools => super::update_tools::tools_action(state, action),
        Place::Library => super::library::apply(state, action),
        Place::Form => super::library::form_action(state, action),
        Place::Help => {
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
    }
}

fn input_action(state: &mut State, action: Action) -> Vec<Command> {
    match action {
        Action::Send => {
            let text = state.draft();
            if text.trim().is_empty() {
                return Vec::new();
            }
            if state.machine.is_streaming() {
                state.toast(Level::Info, "an answer is streaming — Esc stops it");
                return Vec::new();
            }
            if let Some(commands) = super::update_tools::special_send(state, &text) {
                return commands;
            }
            let input = match state.editing {
                Some(node) => Input::Edit { node, text },
                None => Input::Send(text),
            };
            super::send_check::send_checked(state, input)
        }
        Action::Newline => {
            state.input.insert_newline();
            Vec::new()
        }
        Action::Cancel => {
            if state.machine.is_streaming() {
                vec![Command::Machine(Input::Cancel)]
            } else if state.editing.take().is_some() {
                state.input = new_input(PLACEHOLDER);
                state.toast(Level::Info, "edit discarded");
                vec![Command::CountTokens]
            } else {
                focus_transcript(state);
                Vec::new()
            }
        }
        Action::FocusNext | Action::FocusPrev => {
            focus_transcript(state);
            Vec::new()
        }
        Action::OpenEditor => vec![Command::EditInEditor(EditorTarget::Draft)],
        Action::CannedResult => {
            if super::update_tools::canned(state).is_empty() {
                state.toast(Level::Info, "no saved results for the function being called (add canned_results to its file)");
                return Vec::new();
            }
            super::update_overlays::open_picker(state, PickerKind::Canned)
        }
        Action::PageUp => {
            state.scroll += page(state);
            Vec::new()
        }
        Action::PageDown => {
            state.scroll = state.scroll.saturating_sub(page(state));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub(super) fn regenerate(node: crate::chat::conversation::NodeId) -> Vec<Command> {
    vec![
        Command::Machine(Input::RegenerateAt(node)),
        Command::CountTokens,
    ]
}

/// Sends: the draft leaves the input box and the transcript follows the answer.
pub(super) fn send(state: &mut State, input: Input) -> Vec<Command> {
    state.editing = None;
    state.input = new_input(PLACEHOLDER);
    state.scroll = 0;
    state.selected = None;
    vec![Command::Machine(input), Command::CountTokens]
}

/// Short enough for the input box of a 40-column terminal.
pub const PLACEHOLDER: &str = "Type a prompt — Enter sends, F1 keys";

fn page(state: &State) -> usize {
    (state.viewport_rows() / 2).max(1)
}

fn focus_transcript(state: &mut State) {
    let n = state.machine.conv.path().len();
    if n == 0 {
        return;
    }
    state.focus = Focus::Transcript;
    state.selected = Some(state.selected.unwrap_or(n - 1).min(n - 1));
}

fn transcript_action(state: &mut State, action: Action) -> Vec<Command> {
    let path = state.machine.conv.path();
    let n = path.len();
    let sel = state.selected.unwrap_or(n.saturating_sub(1));
    match action {
        Action::Up => state.selected = Some(sel.saturating_sub(1)),
        Action::Down => state.selected = Some((sel + 1).min(n.saturating_sub(1))),
        Action::Top => state.selected = Some(0),
        Action::Bottom => {
            state.selected = Some(n.saturating_sub(1));
            state.scroll = 0;
        }
        Action::PageUp => state.scroll += page(state),
        Action::PageDown => state.scroll = state.scroll.saturating_sub(page(state)),
        Action::FocusInput | Action::FocusNext | Action::FocusPrev => {
            state.focus = Focus::Input;
            state.selected = None;
        }
        Action::Cancel => {
            if state.machine.is_streaming() {
                return vec![Command::Machine(Input::Cancel)];
            }
            state.focus = Focus::Input;
            state.selected = None;
        }
        Action::EditMessage => {
            let Some(&node) = path.get(sel) else {
                return Vec::new();
            };
            if state.machine.conv.nodes[node].role != Role::User {
                state.toast(
                    Level::Info,
                    "only your messages can be edited — r regenerates an answer",
                );
                return Vec::new();
            }
            let text = state.machine.conv.nodes[node].content.clone();
            let mut input = new_input(PLACEHOLDER);
            input.insert_str(&text);
            state.input = input;
            state.editing = Some(node);
            state.focus = Focus::Input;
            state.toast(
                Level::Info,
                "editing — Enter sends as a new branch, Esc discards",
            );
            return vec![Command::CountTokens];
        }
        Action::Regenerate => {
            // The selected answer, not always the last: a new branch beside it.
            let Some(&node) = path.get(sel) else {
                return Vec::new();
            };
            if sel + 1 < n {
                state.toast(
                    Level::Info,
                    "regenerating the selected answer as a new branch (h/l switch back)",
                );
            }
            if super::send_check::ask_first(state, 1, super::state::Confirmed::Regenerate(node)) {
                return Vec::new();
            }
            return regenerate(node);
        }
        Action::PrevBranch | Action::NextBranch => {
            let Some(&node) = path.get(sel) else {
                return Vec::new();
            };
            let delta = if action == Action::PrevBranch { -1 } else { 1 };
            return vec![
                Command::Machine(Input::SwitchBranch { node, delta }),
                Command::CountTokens,
            ];
        }
        Action::CopyCode => return copy_code(state),
        Action::ExportMarkdown => {
            return vec![Command::Export(super::update::ExportKind::Markdown)];
        }
        Action::ExportJson => return vec![Command::Export(super::update::ExportKind::Json)],
        Action::PriceModel => return super::price_form::open(state),
        _ => {}
    }
    state.next_code_block = if state.selected == Some(sel) {
        state.next_code_block
    } else {
        0
    };
    Vec::new()
}

/// The message copy acts on: the selected one, else the last answer.
fn target_message(state: &State) -> Option<String> {
    let conv = &state.machine.conv;
    let node = state.selected_node().or_else(|| {
        conv.path()
            .iter()
            .rev()
            .copied()
            .find(|id| conv.nodes[*id].role == Role::Assistant)
    })?;
    Some(conv.nodes[node].content.clone())
}

fn copy_message(state: &mut State) -> Vec<Command> {
    match target_message(state) {
        Some(text) if !text.is_empty() => vec![Command::Copy {
            text,
            what: "message".into(),
        }],
        _ => {
            state.toast(Level::Info, "nothing to copy yet");
            Vec::new()
        }
    }
}

fn copy_code(state: &mut State) -> Vec<Command> {
    let blocks = target_message(state)
        .map(|t| super::widgets::markdown::code_blocks(&t))
        .unwrap_or_default();
    if blocks.is_empty() {
        state.toast(Level::Info, "no code block in this message");
        return Vec::new();
    }
    let i = state.next_code_block % blocks.len();
    state.next_code_block = i + 1;
    vec![Command::Copy {
        text: blocks[i].clone(),
        what: format!("code block {} of {}", i + 1, blocks.len()),
    }]
}

pub use super::update_overlays::{conversations_listed, refilter};
