//! Disk writes off the render path: conversation snapshots and ledger rows go
//! to one background thread, in order. Failures come back as messages. (Stream
//! journals are small appends made before each frame: `crate::chat::journal`.)

use std::sync::mpsc;

use crate::chat::conversation::{Conversation, NodeId};
use crate::chat::store::Store;
use crate::usage::{Ledger, LedgerFile, LedgerRow};

pub enum Job {
    /// A snapshot, then the journals of the answers it holds whole.
    Save {
        conv: Box<Conversation>,
        retire: Vec<NodeId>,
    },
    Record(Box<LedgerRow>),
    Delete(String),
    /// Answers once every job before it is done.
    Flush(mpsc::Sender<()>),
}

/// What the writer tells the app.
pub enum Report {
    Problem(String),
    Recorded,
}

pub struct Worker {
    tx: mpsc::Sender<Job>,
}

impl Worker {
    /// `report` hears of every failure and every ledger row stored.
    pub fn start(
        store: Store,
        ledger_file: LedgerFile,
        report: impl Fn(Report) + Send + 'static,
    ) -> Self {
        let problem = |r: &dyn Fn(Report), p: String| r(Report::Problem(p));
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("llmdeck-writer".into())
            .spawn(move || {
                // Opened on first use: nothing of SQLite's is loaded before the first frame.
                let mut ledger: Option<Ledger> = None;
                let mut ledger_failed = false;
                for job in rx {
                    match job {
                        Job::Save { conv, retire } => match store.save(&conv) {
                            Ok(()) => store.retire_journals(&conv.id, &retire),
                            Err(e) => {
                                problem(&report, format!("could not save the conversation: {e}"))
                            }
                        },
                        Job::Record(row) => {
                            if ledger.is_none() && !ledger_failed {
                                match ledger_file.open() {
                                    Ok(l) => ledger = Some(l),
                                    Err(e) => {
                                        ledger_failed = true;
                                        problem(&report, e);
                                    }
                                }
                            }
                            if let Some(l) = ledger.as_mut() {
                                match l.insert(&row) {
                                    Ok(()) => report(Report::Recorded),
                                    Err(e) => problem(
                                        &report,
                                        format!("could not record the request: {e}"),
                                    ),
                                }
                            }
                        }
                        Job::Delete(id) => {
                            if let Err(e) = store.delete(&id) {
                                problem(&report, format!("could not delete: {e}"));
                            }
                        }
                        Job::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })
            .expect("spawn writer thread");
        Self { tx }
    }

    pub fn send(&self, job: Job) {
        let _ = self.tx.send(job);
    }

    /// Waits (bounded) until everything queued is written: before exit.
    pub fn flush(&self) {
        let (tx, rx) = mpsc::channel();
        self.send(Job::Flush(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
    }
}
