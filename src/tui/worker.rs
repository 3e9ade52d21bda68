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
    /// The thread's loop, until it is started: after the first frame, which
    /// the thread's creation (~0.1 ms) would otherwise hold back. Jobs sent
    /// before then wait in the channel.
    waiting: Option<Box<dyn FnOnce() + Send>>,
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
    /// `report` hears of every failure and every ledger row stored. Nothing
    /// is written until `start`.
    pub fn new(
        store: Store,
        ledger_file: LedgerFile,
        report: impl Fn(Report) + Send + 'static,
    ) -> Self {
        let problem = |r: &dyn Fn(Report), p: String| r(Report::Problem(p));
        let (tx, rx) = mpsc::channel::<Job>();
        let run = move || {
            // Opened on first use: nothing of SQLite's is loaded before the first frame.
            let mut ledger: Option<Ledger> = None;
            let mut ledger_failed = false;
            for job in rx {
                match job {
                    Job::Save { conv, retire } => {
                        match store.save(&conv) {
                            Ok(()) => store.retire_journals(&conv.id, &retire),
                            Err(e) => {
                                problem(&report, format!("could not save the conversation: {e}"))
                            }
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
                                Ok(()) => report(Report::Recorded(row.cost_micros.unwrap_or(0))),
                                Err(e) => {
                                    problem(&report, format!("could not record the request: {e}"))
                                }
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
        };
        Self {
            tx,
            waiting: Some(Box::new(run)),
        }
    }

    /// Starts the writer thread (once).
    pub fn start(&mut self) {
        if let Some(run) = self.waiting.take() {
            std::thread::Builder::new()
                .name("llmdeck-writer".into())
                .spawn(run)
                .expect("spawn writer thread");
        }
    }

    pub fn send(&self, job: Job) {
        let _ = self.tx.send(job);
    }

    /// Waits (bounded) until everything queued is written: before exit.
    pub fn flush(&mut self) {
        self.start();
        let (tx, rx) = mpsc::channel();
        self.send(Job::Flush(tx));
        let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer thread starts after the first frame: what is sent before
    /// waits for it, and a flush (as at exit) starts it rather than waiting
    /// on a thread that never came.
    #[test]
    fn jobs_sent_before_the_writer_starts_are_written_and_a_flush_starts_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("conversations"));
        let ledger = LedgerFile {
            path: dir.path().join("ledger.sqlite3"),
            outbox: false,
        };
        let problems = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let heard = problems.clone();
        let mut worker = Worker::new(store.clone(), ledger, move |r| {
            if let Report::Problem(p) = r {
                heard.lock().unwrap().push(p);
            }
        });
        let conv = Conversation::new("gpt-4o-mini", chrono::Utc::now());
        worker.send(Job::Save {
            conv: Box::new(conv.clone()),
            retire: Vec::new(),
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(store.list().is_empty(), "written before the writer started");
        let began = std::time::Instant::now();
        worker.flush();
        assert!(
            began.elapsed() < std::time::Duration::from_secs(4),
            "the flush waited for a writer that was never started"
        );
        let saved = store.list();
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert_eq!(saved[0].id, conv.id);
        assert!(problems.lock().unwrap().is_empty(), "{problems:?}");
        // Started once: a second start (after the first frame) starts no second writer.
        worker.start();
        worker.flush();
        assert_eq!(store.list().len(), 1);
    }
}
