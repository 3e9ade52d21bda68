//! The overlays' keys: conversation list, parameters panel, pickers, text
//! prompts, confirmations and view code. Split from `update` for size; the
//! same rules hold (state changes here, I/O is returned as commands).

use super::action::Action;
use super::params::{self, Field};
use super::state::{
    Confirmed, Level, Overlay, Picker, PickerKind, PromptPurpose, State, TextPrompt, new_input,
};
use super::update::{Command, EditorTarget, PLACEHOLDER, send};
use crate::chat::machine::Effect;

pub(super) fn conversations_action(state: &mut State, action: Action) -> Vec<Command> {
    let n = state.conversations.len();
    let Some(Overlay::Conversations { selected }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let current = state
        .conversations
        .get(*selected)
        .map(|s| (s.id.clone(), s.title.clone(), s.error.is_some()));
    match action {
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Down => *selected = (*selected + 1).min(n.saturating_sub(1)),
        Action::Close => {
            state.overlays.pop();
        }
        Action::Open => {
            if let Some((id, _, broken)) = current {
                if broken {
                    state.toast(
                        Level::Error,
                        "this file cannot be read; it is left untouched",
                    );
                    return Vec::new();
                }
                state.overlays.pop();
                return vec![Command::OpenConversation(id)];
            }
        }
        Action::Duplicate => {
            if let Some((id, _, false)) = current {
                return vec![Command::DuplicateConversation(id)];
            }
        }
        Action::Rename => {
            if let Some((id, title, false)) = current {
                open_prompt(
                    state,
                    "Rename conversation (Enter saves)",
                    PromptPurpose::Rename(id),
                    &title,
                );
            }
        }
        Action::Delete => {
            if let Some((id, title, _)) = current {
                state.open(Overlay::Confirm {
                    question: format!("Delete “{title}”? This cannot be undone. (y/n)"),
                    then: Confirmed::DeleteConversation(id),
                });
            }
        }
        _ => {}
    }
    Vec::new()
}

/// A new list of conversations (after a copy, a rename, a delete): the
/// highlight stays on the conversation it was on, wherever that moved, so the
/// next key acts on the one the user is looking at.
pub fn conversations_listed(state: &mut State, list: Vec<crate::chat::store::Summary>) {
    let old = &state.conversations;
    if let Some(Overlay::Conversations { selected }) = state
        .overlays
        .iter_mut()
        .find(|o| matches!(o, Overlay::Conversations { .. }))
    {
        let id = old.get(*selected).map(|s| s.id.as_str());
        *selected = list
            .iter()
            .position(|s| Some(s.id.as_str()) == id)
            .unwrap_or(*selected)
            .min(list.len().saturating_sub(1));
    }
    state.conversations = list;
}

pub(super) fn parameters_action(state: &mut State, action: Action) -> Vec<Command> {
    let Some(Overlay::Parameters { selected }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let field = Field::ALL[(*selected).min(Field::ALL.len() - 1)];
    let changed = match action {
        Action::Up => {
            *selected = selected.saturating_sub(1);
            false
        }
        Action::Down => {
            *selected = (*selected + 1).min(Field::ALL.len() - 1);
            false
        }
        Action::Close => {
            state.overlays.pop();
            false
        }
        Action::Increase | Action::Decrease => {
            params::step(
                field,
                &mut state.machine.conv.params,
                if action == Action::Increase { 1 } else { -1 },
            );
            true
        }
        Action::Reset => {
            params::reset(field, &mut state.machine.conv.params);
            true
        }
        Action::Open => {
            match field {
                Field::Model => return open_picker(state, PickerKind::Model),
                Field::System => {
                    let text = state.machine.conv.system.clone();
                    open_prompt(
                        state,
                        "System prompt (Enter saves, Alt-Enter newline)",
                        PromptPurpose::System,
                        &text,
                    );
                }
                Field::ReasoningEffort
                | Field::ReasoningSummary
                | Field::Api
                | Field::Strict
                | Field::ResponseFormat
                | Field::Temperature
                | Field::TopP
                | Field::MaxOutputTokens
                | Field::PresencePenalty
                | Field::FrequencyPenalty
                | Field::Seed
                | Field::Stop => {
                    let text = params::editable(field, &state.machine.conv.params);
                    let hint = match field {
                        Field::Stop => " (separate with |, empty = default)",
                        Field::ResponseFormat => {
                            " (a JSON schema, or @path/to/schema.json; Ctrl-E edits; empty = text)"
                        }
                        _ => " (empty = default, not sent)",
                    };
                    open_prompt(
                        state,
                        &format!("{}{hint}", field.label()),
                        PromptPurpose::Param(field),
                        &text,
                    );
                }
            }
            false
        }
        _ => false,
    };
    if changed {
        vec![Command::Effects(vec![Effect::Save])]
    } else {
        Vec::new()
    }
}

pub(super) fn picker_action(state: &mut State, action: Action) -> Vec<Command> {
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
                            let mut input = super::state::new_input(super::update::PLACEHOLDER);
                            input.insert_str(&choice);
                            state.input = input;
                            vec![Command::CountTokens]
                        }
                    };
                }
            }
            _ => {}
        },
        Some(Overlay::Prompt(prompt)) => match action {
            Action::Close => {
                state.overlays.pop();
            }
            Action::Newline => prompt.input.insert_newline(),
            Action::OpenEditor if prompt.purpose == PromptPurpose::System => {
                return vec![Command::EditInEditor(EditorTarget::System)];
            }
            Action::Open => return submit_prompt(state),
            _ => {}
        },
        _ => {}
    }
    Vec::new()
}

pub(super) fn submit_prompt(state: &mut State) -> Vec<Command> {
    let Some(Overlay::Prompt(prompt)) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let text = prompt.input.lines().join("\n");
    let commands = match prompt.purpose.clone() {
        PromptPurpose::System => {
            state.machine.conv.system = text;
            vec![Command::Effects(vec![Effect::Save]), Command::CountTokens]
        }
        PromptPurpose::Rename(id) => vec![Command::RenameConversation {
            id,
            title: text.trim().to_string(),
        }],
        PromptPurpose::Compare => {
            let mut models = vec![state.machine.conv.model.clone()];
            for m in text
                .split([',', ' '])
                .map(str::trim)
                .filter(|m| !m.is_empty())
            {
                if !models.iter().any(|x| x == m) {
                    models.push(m.to_string());
                }
            }
            use crate::chat::compare::MAX_TARGETS;
            // Named, not dropped: a fifth target silently left out would look like a failure.
            if models.len() > MAX_TARGETS {
                prompt.error = Some(format!(
                    "compare at most {MAX_TARGETS} models at once (the current one and {} more); you named {}",
                    MAX_TARGETS - 1,
                    models.len() - 1
                ));
                return Vec::new();
            }
            if models.len() < 2 {
                prompt.error = Some("name at least one other model".into());
                return Vec::new();
            }
            state.compare_with = models[1..].join(", ");
            state.overlays.pop();
            let n = models.len() as i64;
            if super::send_check::ask_first(state, n, Confirmed::Compare(models.clone())) {
                return Vec::new();
            }
            return compare(state, models);
        }
        PromptPurpose::NewPrompt
        | PromptPurpose::SaveAsPrompt
        | PromptPurpose::RenamePrompt(_)
        | PromptPurpose::DuplicatePrompt(_)
            if text.trim().is_empty() =>
        {
            prompt.error = Some("give it a name".into());
            return Vec::new();
        }
        PromptPurpose::NewPrompt => vec![Command::CreatePrompt(text.trim().to_string())],
        PromptPurpose::TestPrompt(name) => {
            let targets: Vec<String> = text
                .split([',', ' '])
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(String::from)
                .take(4)
                .collect();
            state.toast(crate::tui::state::Level::Info, format!("testing {name}…"));
            vec![Command::TestPrompt { name, targets }]
        }
        PromptPurpose::SaveAsPrompt => vec![Command::SaveAsPrompt(text.trim().to_string())],
        PromptPurpose::RenamePrompt(from) => vec![Command::RenamePrompt {
            from,
            to: text.trim().to_string(),
        }],
        PromptPurpose::DuplicatePrompt(from) => vec![Command::DuplicatePrompt {
            from,
            to: text.trim().to_string(),
        }],
        PromptPurpose::Price(model) => match super::price_form::submit(model, &text) {
            Ok(commands) => commands,
            Err(e) => {
                prompt.error = Some(e);
                return Vec::new();
            }
        },
        PromptPurpose::Param(field) => {
            match params::set(field, &mut state.machine.conv.params, &text) {
                Ok(()) => vec![Command::Effects(vec![Effect::Save])],
                Err(e) => {
                    prompt.error = Some(e);
                    return Vec::new();
                }
            }
        }
    };
    state.overlays.pop();
    commands
}

/// Sends the draft to `models` side by side: it leaves the input box.
fn compare(state: &mut State, models: Vec<String>) -> Vec<Command> {
    let text = state.draft();
    state.editing = None;
    state.input = new_input(PLACEHOLDER);
    state.scroll = 0;
    state.selected = None;
    vec![
        Command::Compare {
            text,
            specs: models,
        },
        Command::CountTokens,
    ]
}

pub(super) fn confirm_action(state: &mut State, action: Action) -> Vec<Command> {
    match action {
        Action::Confirm => match state.overlays.pop() {
            Some(Overlay::Confirm {
                then: Confirmed::DeleteConversation(id),
                ..
            }) => vec![Command::DeleteConversation(id)],
            Some(Overlay::Confirm {
                then: Confirmed::Send(input),
                ..
            }) => send(state, input),
            Some(Overlay::Confirm {
                then: Confirmed::DeletePrompt(name),
                ..
            }) => vec![Command::DeletePrompt(name)],
            Some(Overlay::Confirm {
                then: Confirmed::Regenerate(node),
                ..
            }) => super::update::regenerate(node),
            Some(Overlay::Confirm {
                then: Confirmed::Compare(models),
                ..
            }) => compare(state, models),
            _ => Vec::new(),
        },
        Action::Close => {
            state.overlays.pop();
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub(super) fn code_action(state: &mut State, action: Action) -> Vec<Command> {
    let snippets =
        crate::provider::code::snippets(&state.profile, &state.pending_request(), state.presenter);
    let Some(Overlay::Code { tab, scroll }) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let n = snippets.len();
    match action {
        Action::Increase => (*tab, *scroll) = ((*tab + 1) % n, 0),
        Action::Decrease => (*tab, *scroll) = ((*tab + n - 1) % n, 0),
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::Down => *scroll += 1,
        Action::Close => {
            state.overlays.pop();
        }
        Action::CopyMessage => {
            let s = &snippets[*tab % n];
            return vec![Command::Copy {
                text: s.code.clone(),
                what: format!("the request as {}", s.label),
            }];
        }
        _ => {}
    }
    Vec::new()
}

pub(super) fn open_picker(state: &mut State, kind: PickerKind) -> Vec<Command> {
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
        PickerKind::File => super::update_tools::attachable_files(),
        PickerKind::Canned => super::update_tools::canned(state),
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

pub(super) fn open_prompt(state: &mut State, title: &str, purpose: PromptPurpose, text: &str) {
    let mut input = new_input("");
    input.insert_str(text);
    state.open(Overlay::Prompt(Box::new(TextPrompt {
        title: title.to_string(),
        purpose,
        input,
        error: None,
    })));
}
