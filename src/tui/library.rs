//! The Library pane's state and keys: the prompt list with instant search,
//! the selected prompt's versions and tests, and what Enter, edit, rename,
//! duplicate, delete and test do.

use std::collections::BTreeMap;
use std::sync::Arc;

use ratatui_textarea::TextArea;

use super::action::Action;
use super::state::{Confirmed, Level, Overlay, PromptPurpose, State, new_input};
use super::update::Command;
use crate::library::testing::CaseResult;
use crate::library::{Entry, Library, search::Search};
use crate::usage::report::VersionStats;

#[derive(Default)]
pub struct LibraryPane {
    /// Loaded off the first frame; `None` until then.
    pub lib: Option<Arc<Library>>,
    pub query: String,
    pub matches: Vec<usize>,
    pub selected: usize,
    pub search: Search,
    /// Versions seen in the ledger for the selected prompt: (prompt name, rows).
    pub versions: Option<(String, Vec<VersionStats>)>,
    /// The last test run of the selected prompt, and which case is shown.
    pub tests: Option<(String, Vec<CaseResult>)>,
    pub case: usize,
}

impl LibraryPane {
    pub fn set_library(&mut self, lib: Library) {
        self.lib = Some(Arc::new(lib));
        self.refilter();
    }

    pub fn refilter(&mut self) {
        if let Some(lib) = &self.lib {
            self.matches = self.search.run(&lib.entries, &self.query);
        }
        self.selected = self.selected.min(self.matches.len().saturating_sub(1));
    }

    pub fn current(&self) -> Option<&Entry> {
        let lib = self.lib.as_ref()?;
        lib.entries.get(*self.matches.get(self.selected)?)
    }
}

/// The form that fills a prompt's variables before it runs.
pub struct Form {
    pub prompt: String,
    pub fields: Vec<(crate::library::prompt::Variable, TextArea<'static>)>,
    pub focused: usize,
    pub error: Option<String>,
}

impl Form {
    pub fn values(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(v, t)| (v.name.clone(), t.lines().join("\n")))
            .collect()
    }
}

pub fn apply(state: &mut State, action: Action) -> Vec<Command> {
    let pane = &mut state.library;
    let selected_name = pane.current().map(|e| e.name().to_string());
    match action {
        Action::Up => {
            pane.selected = pane.selected.saturating_sub(1);
            return stats_for(state);
        }
        Action::Down => {
            pane.selected = (pane.selected + 1).min(pane.matches.len().saturating_sub(1));
            return stats_for(state);
        }
        Action::Close if !pane.query.is_empty() => {
            pane.query.clear();
            pane.refilter();
        }
        Action::Close => state.pane = super::state::Pane::Playground,
        Action::Refresh => return vec![Command::LoadLibrary],
        Action::StarterPrompts => return vec![Command::StarterPrompts],
        Action::Open => return open(state),
        Action::EditItem => {
            if let Some(e) = pane.current()
                && let Some(lib) = &pane.lib
            {
                return vec![Command::EditInEditor(super::update::EditorTarget::File(
                    lib.path_of(e),
                ))];
            }
        }
        Action::NewItem => {
            super::update_overlays::open_prompt(
                state,
                "New prompt name (GROUP/NAME makes a group)",
                PromptPurpose::NewPrompt,
                "",
            );
        }
        Action::Rename => {
            if let Some(name) = selected_name {
                super::update_overlays::open_prompt(
                    state,
                    &format!("Rename {name} to"),
                    PromptPurpose::RenamePrompt(name.clone()),
                    &name,
                );
            }
        }
        Action::Duplicate => {
            if let Some(name) = selected_name {
                super::update_overlays::open_prompt(
                    state,
                    &format!("Name of the copy of {name}"),
                    PromptPurpose::DuplicatePrompt(name.clone()),
                    &format!("{name}-copy"),
                );
            }
        }
        Action::Delete => {
            if let Some(name) = selected_name {
                state.open(Overlay::Confirm {
                    question: format!("Delete the prompt {name} and its file? (y/n)"),
                    then: Confirmed::DeletePrompt(name),
                });
            }
        }
        Action::RunTests => {
            let model = pane
                .current()
                .and_then(|e| e.prompt.as_ref().ok())
                .and_then(|p| p.meta.model.clone())
                .unwrap_or_else(|| state.machine.conv.model.clone());
            if let Some(name) = selected_name {
                let offer = match state.compare_with.as_str() {
                    "" => model,
                    others => format!("{model}, {others}"),
                };
                super::update_overlays::open_prompt(
                    state,
                    &format!("Test {name} on (up to 4: model, model@profile; Enter runs)"),
                    PromptPurpose::TestPrompt(name),
                    &offer,
                );
            }
        }
        Action::PrevBranch => pane.case = pane.case.saturating_sub(1),
        Action::NextBranch => pane.case += 1,
        _ => {}
    }
    Vec::new()
}

/// Typing in the Library pane edits the search.
pub fn type_char(state: &mut State, c: Option<char>) -> Vec<Command> {
    let pane = &mut state.library;
    match c {
        Some(c) => pane.query.push(c),
        None => {
            pane.query.pop();
        }
    }
    pane.selected = 0;
    pane.refilter();
    stats_for(state)
}

/// The ledger's versions of the selected prompt, when not already shown.
pub fn stats_for(state: &mut State) -> Vec<Command> {
    let name = state.library.current().map(|e| e.name().to_string());
    match name {
        Some(n) if state.library.versions.as_ref().map(|v| &v.0) != Some(&n) => {
            vec![Command::LoadPromptStats(n)]
        }
        _ => Vec::new(),
    }
}

/// Enter: a prompt without variables runs at once; with them, a form opens.
fn open(state: &mut State) -> Vec<Command> {
    let Some(entry) = state.library.current() else {
        return Vec::new();
    };
    let prompt = match &entry.prompt {
        Ok(p) => p.clone(),
        Err(e) => {
            let msg = format!("{}:{}: {}", entry.path, e.line, e.message);
            state.toast(Level::Error, msg);
            return Vec::new();
        }
    };
    if prompt.meta.variables.is_empty() {
        return vec![Command::RunPrompt {
            name: prompt.meta.name,
            vars: BTreeMap::new(),
        }];
    }
    let fields = prompt
        .meta
        .variables
        .iter()
        .map(|v| {
            let mut t = new_input("");
            if let Some(d) = &v.default {
                t.insert_str(d);
            }
            (v.clone(), t)
        })
        .collect();
    state.open(Overlay::Form(Box::new(Form {
        prompt: prompt.meta.name,
        fields,
        focused: 0,
        error: None,
    })));
    Vec::new()
}

/// Keys of the variables form: move between fields, run from the last one.
pub fn form_action(state: &mut State, action: Action) -> Vec<Command> {
    let Some(Overlay::Form(form)) = state.overlays.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::Close => {
            state.overlays.pop();
        }
        Action::Up => form.focused = form.focused.saturating_sub(1),
        Action::Down | Action::FocusNext => {
            form.focused = (form.focused + 1).min(form.fields.len() - 1)
        }
        Action::FocusPrev => form.focused = form.focused.saturating_sub(1),
        Action::Newline => form.fields[form.focused].1.insert_newline(),
        Action::Open if form.focused + 1 < form.fields.len() => form.focused += 1,
        Action::Open | Action::Send => {
            let vars = form.values();
            if let Some((v, _)) = form
                .fields
                .iter()
                .find(|(v, t)| v.required && t.lines().join("").trim().is_empty())
            {
                form.error = Some(format!("{} is required", v.name));
                return Vec::new();
            }
            let name = form.prompt.clone();
            state.overlays.pop();
            return vec![Command::RunPrompt { name, vars }];
        }
        _ => {}
    }
    Vec::new()
}
