//! The headless loop shared by `chat`, `prompts run` and `prompts test`:
//! carries out a machine's effects, streams every started request
//! concurrently, and writes the ledger rows.

use std::time::Instant;

use chrono::Utc;

use crate::chat::machine::{Effect, Input, Machine};
use crate::context::Context;
use crate::provider::Provider;
use crate::provider::event::StreamEvent;
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
    // One provider per profile a compare target names.
    let mut providers: std::collections::HashMap<Option<String>, Provider> = Default::default();
    providers.insert(None, provider);
    let mut start = |effects: Vec<Effect>, rows: &mut Vec<_>| {
        for effect in effects {
            match effect {
                Effect::Start {
                    request_id,
                    request,
                    profile,
                } => {
                    if !providers.contains_key(&profile) {
                        let made = profile
                            .as_deref()
                            .ok_or_else(String::new)
                            .and_then(|name| ctx.switch(name).map_err(|e| e.to_string()))
                            .and_then(|p| ctx.provider(&p, 0));
                        match made {
                            Ok(p) => {
                                providers.insert(profile.clone(), p);
                            }
                            Err(e) => {
                                let tx = tx.clone();
                                let error = StreamEvent::Error(
                                    crate::provider::event::ProviderError::Other(e),
                                );
                                let _ = tx.send((request_id, error));
                                continue;
                            }
                        }
                    }
                    let (p, tx) = (providers[&profile].clone(), tx.clone());
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

/// Writes the rows to the ledger; a ledger that cannot be written is a warning.
pub fn record(ctx: &Context, rows: &[LedgerRow]) {
    match Ledger::open(&ctx.paths.ledger_file()) {
        Ok(mut ledger) => {
            for row in rows {
                if let Err(e) = ledger.insert(row) {
                    eprintln!("llmdeck: warning: {e}");
                }
            }
        }
        Err(e) => eprintln!("llmdeck: warning: {e}"),
    }
}
