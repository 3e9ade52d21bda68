//! The headless loop shared by `chat`, `prompts run` and `prompts test`:
//! carries out a machine's effects, streams every started request
//! concurrently, and writes the ledger rows.

use std::time::Instant;

use chrono::Utc;

use crate::chat::event::StreamEvent;
use crate::chat::machine::{Effect, Input, Machine};
use crate::cli::out::errln;
use crate::context::Context;
use crate::provider::Provider;
use crate::usage::{Ledger, LedgerRow};

/// Runs every started request concurrently and feeds their events to the
/// machine as they arrive; returns the ledger rows.
pub async fn stream_all(
    ctx: &Context,
    provider: Provider,
    machine: &mut Machine,
    first: Vec<Effect>,
    on_text: &mut dyn FnMut(&str),
) -> Vec<LedgerRow> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut rows = Vec::new();
    // The machine ends every request with a last event, so the loop below ends
    // when it is no longer streaming (the sender stays alive for follow-ups).
    let mut others = crate::context::Providers::default();
    let mut start = |effects: Vec<Effect>, rows: &mut Vec<_>| {
        for effect in effects {
            match effect {
                Effect::Start {
                    request_id,
                    request,
                    profile,
                } => {
                    let made = match &profile {
                        None => Ok(provider.clone()),
                        Some(name) => others.get(ctx, name, 0),
                    };
                    let p = match made {
                        Ok(p) => p,
                        Err(e) => {
                            let error =
                                StreamEvent::Error(crate::chat::event::ProviderError::Other(e));
                            let _ = tx.send((request_id, error));
                            continue;
                        }
                    };
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        p.stream(&request, &mut |ev| drop(tx.send((request_id, ev))))
                            .await;
                    });
                }
                Effect::Record(row) => rows.push(*row),
                Effect::Save | Effect::Journal { .. } | Effect::Abort { .. } => {}
            }
        }
    };
    start(first, &mut rows);
    while let Some((id, ev)) = rx.recv().await {
        if let StreamEvent::TextDelta(t) = &ev {
            on_text(t);
        }
        let effects = machine.handle(Input::Stream(id, ev), Instant::now(), Utc::now());
        start(effects, &mut rows);
        if !machine.is_streaming() {
            break;
        }
    }
    rows
}

/// Writes the rows to the ledger (a ledger that cannot be written is a
/// warning), then, with a team database, pushes what waits — briefly: when the
/// server cannot be reached the rows stay queued for the next run.
pub fn record(ctx: &Context, rows: &[LedgerRow]) {
    let mut ledger = match ctx.ledger() {
        Ok(l) => l,
        Err(e) => return errln!("llmdeck: warning: {e}"),
    };
    for row in rows {
        if let Err(e) = ledger.insert(row) {
            errln!("llmdeck: warning: {e}");
        }
    }
    if let Some(team) = ctx.team()
        && let Err(e) = push_now(team, &mut ledger)
    {
        let queued = crate::team::push::queued(&ledger).unwrap_or(0);
        errln!("llmdeck: warning: team: offline, {queued} queued ({e})");
    }
}

/// Connects, migrates and drains the outbox, within a few seconds.
pub fn push_now(
    team: Result<crate::team::Team, String>,
    ledger: &mut Ledger,
) -> Result<usize, String> {
    let team = team?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let work = async {
            let mut client = team.connect().await?;
            crate::team::schema::migrate(&mut client).await?;
            crate::team::push::push_all(&client, ledger, &team.settings.member).await
        };
        tokio::time::timeout(std::time::Duration::from_secs(8), work)
            .await
            .map_err(|_| format!("{} did not answer within 8 s", team.shown))?
    })
}
