//! What the Library pane holds: the prompt list with instant search, the
//! selected prompt's versions and tests; and the variables form's fields.

use std::collections::BTreeMap;
use std::sync::Arc;

use ratatui_textarea::TextArea;

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
