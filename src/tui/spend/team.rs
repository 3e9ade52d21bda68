//! The console's side of the team database: a background task that drains
//! the outbox (with backoff while the server is away) and reads the team's
//! totals for the status bar, and the team view of the Spend pane.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use crate::team::{Team, push, query, schema};
use crate::tui::app::{App, Msg};
use crate::tui::core::state::TeamStatus;
use crate::usage::{Ledger, LedgerFile};

impl App {
    /// Starts the pusher when `[team]` is configured; returns what wakes it.
    pub(in crate::tui) fn start_team(&mut self) -> Option<Arc<Notify>> {
        let team = match self.ctx.team()? {
            Ok(t) => t,
            Err(e) => {
                self.state.team = Some(TeamStatus::Offline { queued: 0, why: e });
                return None;
            }
        };
        self.state.team_unverified = team.transport.warning();
        let wake = Arc::new(Notify::new());
        let (path, tx, w) = (self.ctx.ledger_file(), self.tx.clone(), Arc::clone(&wake));
        tokio::spawn(pusher(team, path, tx, w));
        Some(wake)
    }

    /// The Spend pane's team view: the same figures, computed by the server.
    pub(in crate::tui) fn load_team_spend(&mut self) {
        let Some(Ok(team)) = self.ctx.team() else {
            self.state.spend.error =
                Some("no team database: add a [team] section (see README)".into());
            return;
        };
        self.state.spend.generation += 1;
        let generation = self.state.spend.generation;
        let (by, filter) = (self.state.spend.by, self.state.spend.filter(Utc::now()));
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = async {
                let client = team.connect().await?;
                crate::team::within(&team.shown, query::spend(&client, by, &filter, Utc::now()))
                    .await
            }
            .await;
            let _ = tx.send(Msg::Spend {
                generation,
                result,
                settles: 0,
            });
        });
    }
}

async fn pusher(
    team: Team,
    ledger_file: LedgerFile,
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
    wake: Arc<Notify>,
) {
    // Nothing before the first frame: start a moment after launch.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut client = None;
    // Kept open between pushes, like the connection.
    let mut ledger: Option<Ledger> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        let outcome = async {
            if ledger.is_none() {
                ledger = Some(ledger_file.open()?);
            }
            let ledger = ledger.as_mut().expect("opened above");
            if client.is_none() {
                let mut c = team.connect().await?;
                crate::team::within(&team.shown, schema::migrate(&mut c)).await?;
                client = Some(c);
            }
            let c = client.as_ref().expect("connected above");
            // Each batch bounded on its own: a long backlog may take a while.
            push::push_all(c, ledger, &team.settings.member).await?;
            crate::team::within(&team.shown, query::totals(c, Utc::now())).await
        }
        .await;
        let wait = match outcome {
            Ok(totals) => {
                backoff = Duration::from_secs(1);
                let _ = tx.send(Msg::Team(TeamStatus::Online { totals }));
                Duration::from_secs(60)
            }
            Err(why) => {
                client = None;
                let queued = ledger
                    .as_ref()
                    .and_then(|l| push::queued(l).ok())
                    .unwrap_or(0);
                let _ = tx.send(Msg::Team(TeamStatus::Offline { queued, why }));
                let wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(60));
                wait
            }
        };
        // A new row (one per answer, so human-paced) wakes it early, offline too.
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
