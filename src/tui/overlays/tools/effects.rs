//! The app's file work for function calling and attachments: reading the
//! tools folder, editing a function's file in $EDITOR, attaching a file.

use std::path::PathBuf;

use crate::chat::attachment::Attachment;
use crate::chat::machine::{Effect, Input};
use crate::chat::tools;
use crate::tui::app::App;
use crate::tui::core::state::Level;
use crate::tui::editor;

impl App {
    pub(in crate::tui) fn load_tools(&mut self) {
        self.state.tool_library = tools::load_dir(&self.ctx.paths.tools_dir());
        if let Some(problem) = self.state.tool_library.1.first() {
            self.state.toast(Level::Error, problem.clone());
        }
    }

    pub(in crate::tui) fn attach(&mut self, path: PathBuf) {
        match Attachment::from_path(&path) {
            Ok(file) => {
                let summary = file.summary();
                self.machine(Input::Attach(file));
                match self.state.machine.notice.take() {
                    Some(refused) => self.state.toast(Level::Error, refused),
                    None => self.state.toast(Level::Info, format!("attached {summary}")),
                }
                self.count_due = Some(std::time::Instant::now());
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    /// Opens a function's file (a new one from a template) in the editor; a
    /// file that does not parse is kept as written and its error shown.
    pub(in crate::tui) fn edit_tool(&mut self, name: Option<String>) {
        let dir = self.ctx.paths.tools_dir();
        let name = name.unwrap_or_else(|| {
            let taken = |n: &str| dir.join(format!("{n}.json")).exists();
            (1..)
                .map(|i| format!("new_function_{i}"))
                .find(|n| !taken(n))
                .expect("a free name")
        });
        // The name may come from a conversation file; it names a file only when plain.
        if !crate::config::files::is_plain_name(&name) {
            return self.state.toast(
                Level::Error,
                format!("function name {name:?} must be letters, digits, _ or -"),
            );
        }
        let path = dir.join(format!("{name}.json"));
        let ready = crate::config::files::create_private_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()));
        let ready = ready.and_then(|()| {
            if path.exists() {
                return Ok(());
            }
            // A function only this conversation has is written out to be edited.
            let tool = self
                .state
                .machine
                .conv
                .tools
                .iter()
                .find(|t| t.name == name)
                .cloned()
                .unwrap_or_else(|| tools::template(&name));
            crate::config::files::write_atomic(&path, tools::to_file(&tool).as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))
        });
        if let Err(e) = ready.and_then(|()| editor::edit_file(&path)) {
            return self.state.toast(Level::Error, e);
        }
        self.load_tools();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| tools::parse(&t));
        match parsed {
            Ok(found) => {
                // The conversation uses the edited definition from now on.
                let conv = &mut self.state.machine.conv;
                for tool in found {
                    if let Some(t) = conv.tools.iter_mut().find(|t| t.name == tool.name) {
                        *t = tool;
                    } else if tool.name == name {
                        conv.tools.push(tool);
                    }
                }
                self.effects(vec![Effect::Save]);
                self.state
                    .toast(Level::Info, format!("saved {}", path.display()));
            }
            Err(e) => self.state.toast(
                Level::Error,
                format!("{}: {e} (the file is kept)", path.display()),
            ),
        }
    }
}
