//! The app's work on saved conversations: opening, copying, renaming,
//! deleting and exporting them, and holding the lock of the one shown so that
//! another llmdeck never saves over its exchanges (`crate::chat::lock`).

use std::time::Instant;

use chrono::Utc;

use crate::chat::conversation::Conversation;
use crate::chat::export;
use crate::chat::machine::{Effect, Input};
use crate::tui::app::App;
use crate::tui::core::command::{Command, ExportKind};
use crate::tui::core::state::{Focus, Level, PLACEHOLDER, new_input};
use crate::tui::worker::Job;

impl App {
    pub(in crate::tui) fn new_conversation(&mut self) {
        self.machine(Input::Cancel);
        let conv = Conversation::new(&self.state.profile.model, Utc::now());
        self.replace_conversation(conv);
        // The one left is no longer shown: another llmdeck may continue it now.
        self.release_conversation();
    }

    pub(in crate::tui) fn open_conversation(&mut self, id: &str) {
        // Locked before it is read, so an exchange another llmdeck saved just
        // before letting go is in what is read.
        let shown = self.conv_lock.as_ref().is_some_and(|l| l.id() == id);
        let lock = if shown {
            // The one shown, read again: this process holds its lock already.
            // A running answer stops and is saved under it first.
            self.machine(Input::Cancel);
            self.worker.flush();
            Ok(self
                .conv_lock
                .take()
                .expect("the lock of the conversation shown"))
        } else {
            match self.store.lock(id) {
                Ok(lock) => lock,
                Err(e) => return self.state.toast(Level::Error, e),
            }
        };
        let mut conv = match self.store.load(id) {
            Ok(conv) => conv,
            Err(e) => {
                if shown {
                    self.conv_lock = lock.ok();
                }
                return self.state.toast(Level::Error, e.to_string());
            }
        };
        let lock = match lock {
            Ok(lock) => Some(lock),
            Err(held) => {
                conv.title = format!("copy of {}", conv.display_title());
                conv.id = uuid::Uuid::now_v7().to_string();
                self.state
                    .toast(Level::Info, format!("{held}: continuing it here in a copy"));
                self.store.lock(&conv.id).ok().and_then(Result::ok)
            }
        };
        self.machine(Input::Cancel);
        self.replace_conversation(conv);
        self.release_conversation();
        self.conv_lock = lock;
    }

    /// Lets go of the lock held, once everything queued for its conversation
    /// is written: whoever takes it next reads the last exchange too.
    fn release_conversation(&mut self) {
        if self.conv_lock.is_some() {
            self.worker.flush();
            self.conv_lock = None;
        }
    }

    /// Takes the lock of the conversation shown, if this process does not hold
    /// it yet (a new conversation, on its first save). One that another
    /// llmdeck holds is continued here in a copy.
    pub(in crate::tui) fn hold_conversation(&mut self) {
        let id = self.state.machine.conv.id.clone();
        if self.conv_lock.as_ref().is_some_and(|l| l.id() == id) {
            return;
        }
        self.release_conversation();
        match self.store.lock(&id) {
            Ok(Ok(lock)) => self.conv_lock = Some(lock),
            Ok(Err(held)) => {
                let conv = &mut self.state.machine.conv;
                conv.title = format!("copy of {}", conv.display_title());
                conv.id = uuid::Uuid::now_v7().to_string();
                self.conv_lock = self.store.lock(&conv.id).ok().and_then(Result::ok);
                self.state
                    .toast(Level::Info, format!("{held}: continuing it here in a copy"));
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    /// Runs `change` on a conversation that is not shown, under its lock.
    fn with_other(&mut self, id: &str, change: impl FnOnce(&mut Self, Conversation)) {
        match self.store.lock(id) {
            Ok(Ok(_lock)) => match self.store.load(id) {
                Ok(conv) => {
                    change(self, conv);
                    // Written before the lock goes.
                    self.worker.flush();
                }
                Err(e) => self.state.toast(Level::Error, e.to_string()),
            },
            Ok(Err(held)) => self.state.toast(Level::Error, held.to_string()),
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    pub(in crate::tui) fn duplicate_conversation(&mut self, id: &str) {
        match self.store.load(id) {
            Ok(mut conv) => {
                conv.title = format!("copy of {}", conv.display_title());
                conv.id = uuid::Uuid::now_v7().to_string();
                conv.updated = Utc::now();
                self.state
                    .toast(Level::Info, format!("duplicated as “{}”", conv.title));
                self.worker.send(Job::Save {
                    conv: Box::new(conv),
                    retire: Vec::new(),
                });
                self.worker.flush();
                self.command(Command::RefreshConversations);
            }
            Err(e) => self.state.toast(Level::Error, e.to_string()),
        }
    }

    pub(in crate::tui) fn rename_conversation(&mut self, id: &str, title: String) {
        if id == self.state.machine.conv.id {
            self.state.machine.conv.title = title;
            self.effects(vec![Effect::Save]);
            self.worker.flush();
        } else {
            self.with_other(id, |app, mut conv| {
                conv.title = title;
                app.worker.send(Job::Save {
                    conv: Box::new(conv),
                    retire: Vec::new(),
                });
            });
        }
        self.command(Command::RefreshConversations);
    }

    pub(in crate::tui) fn delete_conversation(&mut self, id: String) {
        if id == self.state.machine.conv.id {
            self.command(Command::NewConversation);
            self.worker.send(Job::Delete(id));
            self.worker.flush();
        } else {
            self.with_other(&id, |app, _| app.worker.send(Job::Delete(id.clone())));
        }
        self.command(Command::RefreshConversations);
    }

    pub(in crate::tui) fn replace_conversation(&mut self, conv: Conversation) {
        self.flush_journal();
        self.leave_tools();
        self.state.machine.conv = conv;
        // Its servers are off here until turned on: their tools are not offered.
        self.state.machine.conv.tools.retain(|t| t.server.is_none());
        self.state.machine.notice = None;
        self.cache.clear();
        self.state.scroll = 0;
        self.state.selected = None;
        self.state.editing = None;
        self.state.focus = Focus::Input;
        self.state.input = new_input(PLACEHOLDER);
        self.count_due = Some(Instant::now());
        // Its text leaves the heap once shown (`chat::spool`).
        self.release_soon();
    }

    pub(in crate::tui) fn export(&mut self, kind: ExportKind) {
        let conv = &self.state.machine.conv;
        let (text, ext) = match kind {
            ExportKind::Markdown => (export::to_markdown(conv), "md"),
            ExportKind::Json => (
                crate::provider::chat_completions::to_request_json(conv),
                "json",
            ),
        };
        let path = self
            .ctx
            .paths
            .data_dir
            .join("exports")
            .join(export::file_name(conv, ext));
        match crate::config::files::write_private(&path, text.as_bytes()) {
            Ok(()) => self
                .state
                .toast(Level::Info, format!("exported to {}", path.display())),
            Err(e) => self.state.toast(
                Level::Error,
                format!("export failed: {}: {e}", path.display()),
            ),
        }
    }
}
