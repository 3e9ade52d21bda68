//! The user's own editor, for the draft, the system prompt, a function or a
//! library file (the console is suspended meanwhile: the loop leaves the
//! terminal before and enters it again after).

use std::time::Instant;

use super::App;
use crate::tui::core::command::EditorTarget;
use crate::tui::core::state::{Focus, Level, Overlay, PLACEHOLDER, new_input};
use crate::tui::editor;

impl App {
    pub(in crate::tui) fn edit_in_editor(&mut self, target: EditorTarget) {
        if let EditorTarget::Tool(name) = target {
            return self.edit_tool(name);
        }
        let text = match target {
            EditorTarget::Tool(_) => return,
            EditorTarget::File(path) => {
                if let Err(e) = editor::edit_file(&path) {
                    self.state.toast(Level::Error, e);
                }
                return self.load_library();
            }
            EditorTarget::Draft => self.state.draft(),
            EditorTarget::System => match self.state.overlays.last() {
                Some(Overlay::Prompt(p)) => p.input.lines().join("\n"),
                _ => self.state.machine.conv.system.to_string(),
            },
        };
        let result = editor::edit(&self.ctx.paths.state_dir, &text);
        match (result, target) {
            (Ok(new), EditorTarget::Draft) => {
                let mut input = new_input(PLACEHOLDER);
                input.insert_str(new.trim_end_matches('\n'));
                self.state.input = input;
                self.state.focus = Focus::Input;
                self.count_due = Some(Instant::now());
            }
            (Ok(new), EditorTarget::System) => {
                if let Some(Overlay::Prompt(p)) = self.state.overlays.last_mut() {
                    let mut input = new_input("");
                    input.insert_str(new.trim_end_matches('\n'));
                    p.input = input;
                }
            }
            (Err(e), _) => self.state.toast(Level::Error, e),
            (Ok(_), EditorTarget::Tool(_) | EditorTarget::File(_)) => {}
        }
    }
}
