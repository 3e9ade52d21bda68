//! The app's side of the Spend pane: ledger reads on blocking threads, the
//! organization sync, and applying what comes back.

use std::sync::{Arc, Mutex};

use chrono::Utc;

use crate::tui::app::{App, Msg};
use crate::tui::core::state::{Level, Pane};
use crate::usage::{Ledger, LedgerFile, report, spend};

/// One read connection, shared by the blocking tasks (opened on first use).
#[derive(Default, Clone)]
pub struct Reader(Arc<Mutex<Option<Ledger>>>);

impl Reader {
    fn with<T>(
        &self,
        ledger: &LedgerFile,
        f: impl FnOnce(&Ledger) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut guard = self
            .0
            .lock()
            .map_err(|_| "ledger reader poisoned".to_string())?;
        if guard.is_none() {
            *guard = Some(ledger.open()?);
        }
        f(guard.as_ref().expect("opened above"))
    }
}

impl App {
    /// Runs `query` on the ledger on a blocking thread; `reply` turns its result
    /// into the message for the loop (or none).
    fn read<T: 'static>(
        &self,
        query: impl FnOnce(&Ledger) -> Result<T, crate::usage::ledger::LedgerError> + Send + 'static,
        reply: impl FnOnce(Result<T, String>) -> Option<Msg> + Send + 'static,
    ) {
        let (reader, ledger, tx) = (self.reader.clone(), self.ctx.ledger_file(), self.tx.clone());
        tokio::task::spawn_blocking(move || {
            if let Some(msg) = reply(reader.with(&ledger, |l| query(l).map_err(|e| e.to_string())))
            {
                let _ = tx.send(msg);
            }
        });
    }

    pub(in crate::tui) fn load_spend(&mut self) {
        self.state.spend.generation += 1;
        let generation = self.state.spend.generation;
        let (by, filter) = (self.state.spend.by, self.state.spend.filter(Utc::now()));
        let settles = std::mem::take(&mut self.state.written_micros);
        self.read(
            move |l| spend::load(l, by, &filter, Utc::now()),
            move |result| {
                Some(Msg::Spend {
                    generation,
                    result,
                    settles,
                })
            },
        );
    }

    pub(in crate::tui) fn load_totals(&mut self) {
        if !self.ctx.ledger_file().exists() {
            return; // nothing spent yet; opening would create the ledger before it is needed
        }
        let settles = std::mem::take(&mut self.state.written_micros);
        self.read(
            |l| spend::totals(l, Utc::now()),
            move |t| t.ok().map(|t| Msg::Totals(t, settles)),
        );
    }

    pub(in crate::tui) fn load_drill(&mut self, key: String) {
        let (by, filter) = (self.state.spend.by, self.state.spend.filter(Utc::now()));
        let k = key.clone();
        self.read(
            move |l| report::requests(l, by, &k, &filter, 500),
            move |result| Some(Msg::Drill { key, result }),
        );
    }

    pub(in crate::tui) fn sync_org(&mut self) {
        let Some(key) = std::env::var("OPENAI_ADMIN_KEY")
            .ok()
            .and_then(|k| crate::config::Secret::new(&k))
        else {
            self.state.toast(
                Level::Warning,
                "set OPENAI_ADMIN_KEY (an organization admin key) to sync",
            );
            return;
        };
        let base = match crate::usage::sync::admin_base_url(&self.ctx.settings, &self.state.profile)
        {
            Ok(base) => base,
            Err(e) => return self.state.toast(Level::Warning, e),
        };
        let since = report::days_back(Utc::now(), 30);
        let (ledger, tx) = (self.ctx.ledger_file(), self.tx.clone());
        self.state
            .toast(Level::Info, "syncing the organization's usage and costs…");
        tokio::spawn(async move {
            let result = crate::usage::sync::sync(&base, key, &ledger.path, since)
                .await
                .map(|s| {
                    format!(
                        "synced {} usage and {} cost rows ({})",
                        s.usage_rows,
                        s.cost_rows,
                        crate::usage::format_usd(s.cost_micros)
                    )
                });
            let _ = tx.send(Msg::Synced(result));
        });
    }

    /// The pane's figures arrived; a stale generation (the filters changed since) is dropped.
    pub(in crate::tui) fn on_spend(
        &mut self,
        generation: u64,
        result: Result<crate::usage::spend::Spend, String>,
        settles: i64,
    ) {
        if generation != self.state.spend.generation {
            // The next read settles what this one would have.
            self.state.written_micros += settles;
            return;
        }
        match result {
            Ok(data) => {
                self.state.set_totals(data.totals.clone(), settles);
                let pane = &mut self.state.spend;
                pane.selected = pane.selected.min(data.rows.len().saturating_sub(1));
                pane.data = Some(data);
                pane.error = None;
                pane.apply_sort();
            }
            Err(e) => {
                self.state.written_micros += settles;
                self.state.spend.error = Some(e);
            }
        }
    }

    pub(in crate::tui) fn on_drill(
        &mut self,
        key: String,
        result: Result<Vec<crate::usage::report::RequestRow>, String>,
    ) {
        match result {
            Ok(rows) => {
                self.state.spend.drill = Some(crate::tui::spend::state::Drill {
                    key,
                    rows,
                    selected: 0,
                });
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    pub(in crate::tui) fn on_synced(&mut self, result: Result<String, String>) {
        match result {
            Ok(text) => {
                self.state.toast(Level::Info, text);
                self.load_spend();
            }
            Err(e) => self.state.toast(Level::Error, e),
        }
    }

    /// A ledger row was written: the figures on screen are stale.
    pub(in crate::tui) fn on_recorded(&mut self) {
        if let Some(wake) = &self.team_wake {
            wake.notify_one();
        }
        if self.state.pane == Pane::Spend {
            self.load_spend();
        } else {
            self.load_totals();
        }
    }
}
