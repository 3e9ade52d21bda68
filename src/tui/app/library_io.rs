//! The app's work for the Library pane: reading the library on a thread
//! (never before the first frame), ledger figures per version, running a
//! prompt into the playground, test runs, and the file operations.

use std::sync::Arc;

use super::{App, Msg};
use crate::chat::machine::Input;
use crate::library::{Library, testing};
use crate::tui::state::{Level, Pane};
use crate::tui::update::Command;
use crate::tui::worker::Job;

impl App {
    pub(super) fn library_command(&mut self, command: Command) {
        match command {
            Command::LoadLibrary => {
                let (dir, tx) = (self.ctx.library_dir(&self.state.profile), self.tx.clone());
                std::thread::spawn(move || {
                    let _ = tx.send(Msg::Library(Box::new(Library::load(&dir))));
                });
            }
            Command::LoadPromptStats(name) => {
                let (path, tx) = (self.ctx.paths.ledger_file(), self.tx.clone());
                std::thread::spawn(move || {
                    let result = crate::usage::Ledger::open(&path)
                        .and_then(|l| crate::usage::report::prompt_versions(&l, &name))
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::PromptStats(name, result));
                });
            }
            Command::RunPrompt { name, vars } => self.run_prompt(&name, &vars),
            Command::TestPrompt { name, targets } => self.test_prompt(name, targets),
            Command::StarterPrompts => {
                let dir = self.ctx.library_dir(&self.state.profile);
                self.file_op(|lib| {
                    crate::library::starter::install(lib).map(|done| done.summary(&dir))
                });
            }
            Command::CreatePrompt(name) => {
                let (file, text) = crate::library::compose::new_prompt(&name);
                self.file_op(|lib| {
                    lib.create(&file, &text)
                        .map(|p| format!("created {}", p.display()))
                });
                let path = self.ctx.library_dir(&self.state.profile).join(&file);
                if path.exists() {
                    self.editor = Some(crate::tui::update::EditorTarget::File(path));
                }
            }
            Command::RenamePrompt { from, to } => self.file_op(|lib| {
                let e = lib.find(&from).ok_or("no such prompt")?;
                lib.rename(e, &to)
                    .map(|p| format!("renamed to {}", p.display()))
            }),
            Command::DuplicatePrompt { from, to } => self.file_op(|lib| {
                let e = lib.find(&from).ok_or("no such prompt")?;
                lib.duplicate(e, &to)
                    .map(|p| format!("copied to {}", p.display()))
            }),
            Command::DeletePrompt(name) => self.file_op(|lib| {
                let e = lib.find(&name).ok_or("no such prompt")?;
                lib.delete(e).map(|()| format!("deleted {name}"))
            }),
            Command::SaveAsPrompt(name) => {
                let (file, text) =
                    crate::library::compose::from_conversation(&self.state.machine.conv, &name);
                self.file_op(|lib| {
                    lib.create(&file, &text)
                        .map(|p| format!("saved as {}", p.display()))
                });
            }
            _ => {}
        }
    }

    /// Runs a library file operation on the current library, then reloads it.
    fn file_op(&mut self, op: impl FnOnce(&Library) -> Result<String, String>) {
        let lib = match &self.state.library.lib {
            Some(l) => Arc::clone(l),
            None => Arc::new(Library::load(&self.ctx.library_dir(&self.state.profile))),
        };
        match op(&lib) {
            Ok(done) => self.state.toast(Level::Info, done),
            Err(e) => self.state.toast(Level::Error, e),
        }
        self.state.library.versions = None;
        self.library_command(Command::LoadLibrary);
    }

    fn run_prompt(&mut self, name: &str, vars: &std::collections::BTreeMap<String, String>) {
        let Some(lib) = self.state.library.lib.clone() else {
            return;
        };
        let made = lib.get(name).and_then(|p| {
            let model = testing::model_for(p, None, &self.state.profile.model);
            testing::conversation(p, vars, &model)
        });
        match made {
            Ok((conv, text)) => {
                self.machine(Input::Cancel);
                self.replace_conversation(conv);
                self.state.pane = Pane::Playground;
                self.machine(Input::Send(text));
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    fn test_prompt(&mut self, name: String, targets: Vec<String>) {
        let Some(lib) = self.state.library.lib.clone() else {
            return;
        };
        let prompt = match lib.get(&name) {
            Ok(p) => p.clone(),
            Err(e) => return self.state.toast(Level::Error, e),
        };
        let (ctx, tx) = (Arc::clone(&self.ctx), self.tx.clone());
        // The console's test run stops at a hard-stop budget, as the command line's does.
        let gate = std::sync::Mutex::new(crate::usage::gate::Gate {
            budgets: self.state.budgets,
            spent: self.state.spent(),
            team: None,
            over: crate::usage::gate::OverBudget::Refuse,
        });
        // The test run has its own runtime so the console keeps drawing.
        std::thread::spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(testing::run_tests(&ctx, &prompt, &targets, &gate)));
            let _ = tx.send(Msg::Tests(name, result.map(Box::new)));
        });
    }

    pub(super) fn on_tests(&mut self, name: String, result: Result<Box<testing::TestRun>, String>) {
        match result {
            Ok(done) => {
                let (results, rows) = *done;
                let failed = results.iter().filter(|r| !r.pass).count();
                self.state.toast(
                    if failed == 0 {
                        Level::Info
                    } else {
                        Level::Warning
                    },
                    format!(
                        "{name}: {} of {} passed",
                        results.len() - failed,
                        results.len()
                    ),
                );
                for row in rows {
                    self.worker.send(Job::Record(Box::new(row)));
                }
                // Written before the versions are read again, so they include this run.
                self.worker.flush();
                self.state.library.tests = Some((name.clone(), results));
                self.state.library.case = 0;
                self.library_command(Command::LoadPromptStats(name));
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }
}
