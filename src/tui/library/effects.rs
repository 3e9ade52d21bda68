//! The app's work for the Library pane: reading the library on a thread
//! (never before the first frame), ledger figures per version, running a
//! prompt into the playground, test runs, and the file operations.

use std::sync::Arc;

use crate::chat::machine::Input;
use crate::library::{Library, testing};
use crate::tui::app::{App, Msg};
use crate::tui::core::command::EditorTarget;
use crate::tui::core::state::{Level, Pane};
use crate::tui::overlays::send_check;
use crate::tui::worker::Job;

impl App {
    /// Reads the library on a thread (never before the first frame).
    pub(in crate::tui) fn load_library(&mut self) {
        let (dir, tx) = (self.ctx.library_dir(&self.state.profile), self.tx.clone());
        std::thread::spawn(move || {
            let _ = tx.send(Msg::Library(Box::new(Library::load(&dir))));
        });
    }

    pub(in crate::tui) fn load_prompt_stats(&mut self, name: String) {
        let (ledger, tx) = (self.ctx.ledger_file(), self.tx.clone());
        std::thread::spawn(move || {
            let result = ledger.open().and_then(|l| {
                crate::usage::report::prompt_versions(&l, &name).map_err(|e| e.to_string())
            });
            let _ = tx.send(Msg::PromptStats(name, result));
        });
    }

    pub(in crate::tui) fn starter_prompts(&mut self) {
        let dir = self.ctx.library_dir(&self.state.profile);
        self.file_op(|lib| crate::library::starter::install(lib).map(|done| done.summary(&dir)));
    }

    /// A new prompt from the template, opened in $EDITOR.
    pub(in crate::tui) fn create_prompt(&mut self, name: &str) {
        let (file, text) = crate::library::compose::new_prompt(name);
        self.file_op(|lib| {
            lib.create(&file, &text)
                .map(|p| format!("created {}", p.display()))
        });
        let path = self.ctx.library_dir(&self.state.profile).join(&file);
        if path.exists() {
            self.editor = Some(EditorTarget::File(path));
        }
    }

    pub(in crate::tui) fn rename_prompt(&mut self, from: &str, to: &str) {
        self.file_op(|lib| {
            let e = lib.find(from).ok_or("no such prompt")?;
            lib.rename(e, to)
                .map(|p| format!("renamed to {}", p.display()))
        })
    }

    pub(in crate::tui) fn duplicate_prompt(&mut self, from: &str, to: &str) {
        self.file_op(|lib| {
            let e = lib.find(from).ok_or("no such prompt")?;
            lib.duplicate(e, to)
                .map(|p| format!("copied to {}", p.display()))
        })
    }

    pub(in crate::tui) fn delete_prompt(&mut self, name: &str) {
        self.file_op(|lib| {
            let e = lib.find(name).ok_or("no such prompt")?;
            lib.delete(e).map(|()| format!("deleted {name}"))
        })
    }

    /// The shown conversation as a new prompt file.
    pub(in crate::tui) fn save_as_prompt(&mut self, name: &str) {
        let (file, text) =
            crate::library::compose::from_conversation(&self.state.machine.conv, name);
        self.file_op(|lib| {
            lib.create(&file, &text)
                .map(|p| format!("saved as {}", p.display()))
        });
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
        self.load_library();
    }

    pub(in crate::tui) fn run_prompt(
        &mut self,
        name: &str,
        vars: &std::collections::BTreeMap<String, String>,
    ) {
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
                // The filled-in prompt is the draft, sent through Enter's checks
                // (a model, the budgets): on a "no" it waits in the input box.
                self.state.input.insert_str(&text);
                let commands = send_check::send_checked(&mut self.state, Input::Send(text));
                for c in commands {
                    self.command(c);
                }
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    pub(in crate::tui) fn test_prompt(&mut self, name: String, targets: Vec<String>) {
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
            // Kept like a command-line run, for the Evals pane.
            if let Ok((results, _)) = &result {
                use crate::evals::store::{self, RunInfo};
                let info = RunInfo::finished(
                    store::new_run_id(),
                    &prompt.meta.name,
                    &prompt.version,
                    None,
                    results,
                    false,
                );
                if let Err(e) = store::save_run(&ctx.paths.evals_file(), &info, results) {
                    let _ = tx.send(Msg::Problem(format!("the run was not kept: {e}")));
                }
            }
            let _ = tx.send(Msg::Tests(name, result.map(Box::new)));
        });
    }

    pub(in crate::tui) fn on_tests(
        &mut self,
        name: String,
        result: Result<Box<testing::TestRun>, String>,
    ) {
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
                self.load_prompt_stats(name);
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }
}
