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
    /// The model calls of one answer (ledger row ids, in order) as its
    /// steps, with the tool runs between them.
    Steps {
        ids: Vec<String>,
        runs: Vec<crate::usage::steps::ToolRunRow>,
    },
    Delete(String),
    /// Answers once every job before it is done.
    Flush(mpsc::Sender<()>),
}

/// What the writer tells the app.
pub enum Report {
    Problem(String),
    /// A row is in the ledger: its cost.
    Recorded(i64),
}

pub struct Worker {
    tx: mpsc::Sender<Job>,
}

/// The ledger, opened on first use (a failure is reported once).
fn open<'a>(
    ledger: &'a mut Option<Ledger>,
    failed: &mut bool,
    file: &LedgerFile,
    report: &dyn Fn(Report),
) -> Option<&'a mut Ledger> {
    if ledger.is_none() && !*failed {
        match file.open() {
            Ok(l) => *ledger = Some(l.appending()),
            Err(e) => {
                *failed = true;
                report(Report::Problem(e));
            }
        }
    }
    ledger.as_mut()
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
                        Job::Save { conv, retire } => {
                            match store.save(&conv) {
                                Ok(()) => store.retire_journals(&conv.id, &retire),
                                Err(e) => problem(
                                    &report,
                                    format!("could not save the conversation: {e}"),
                                ),
                            }
                            // The save read every spooled text: those pages go
                            // back now, whenever it ends after the exchange's release.
                            crate::chat::spool::release();
                        }
                        Job::Steps { ids, runs } => {
                            let l = open(&mut ledger, &mut ledger_failed, &ledger_file, &report);
                            if let Some(l) = l
                                && let Err(e) = crate::usage::steps::record(l, &ids, &runs)
                            {
                                problem(&report, format!("could not record the steps: {e}"));
                            }
                        }
                        Job::Record(row) => {
                            let l = open(&mut ledger, &mut ledger_failed, &ledger_file, &report);
                            if let Some(l) = l {
                                match l.insert(&row) {
                                    Ok(()) => {
                                        report(Report::Recorded(row.cost_micros.unwrap_or(0)))
                                    }
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
                    // A row an exchange: nothing of the ledger's pages is kept
                    // between them (SQLite's cache grew with the ledger).
                    if let Some(l) = &ledger {
                        l.release_cache();
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
