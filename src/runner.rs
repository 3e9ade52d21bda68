//! Carrying out what the conversation machine asks for. `Streams` starts a
//! request on the right provider (the console and the headless commands both
//! use it); `stream_all` is the headless loop shared by `chat`, `prompts run`
//! and `prompts test` (every started request streamed concurrently), and
//! `record` writes the ledger rows.

use std::time::Instant;

use chrono::Utc;

use crate::chat::event::{ProviderError, StreamEvent};
use crate::chat::machine::{Effect, Input, Machine};
use crate::chat::request::ChatRequest;
use crate::cli::out::errln;
use crate::context::Context;
use crate::provider::Provider;
use crate::usage::{Ledger, LedgerRow};

/// Starts the requests a machine asks for: on the session's provider, or on
/// another profile's (a compare target's), made on first use and kept.
pub struct Streams {
    /// The session's provider; `None` when the profile could not be set up.
    pub session: Option<Provider>,
    others: crate::context::Providers,
    /// Answer speed of a demo profile made for a compare target.
    demo_speed: u32,
}

impl Streams {
    pub fn new(session: Option<Provider>, demo_speed: u32) -> Self {
        Self {
            session,
            others: Default::default(),
            demo_speed,
        }
    }

    /// Streams `request` on a task of its own, each event to `emit`. A
    /// provider that cannot be made is returned as the error event that ends
    /// the request, for the caller to feed to its machine.
    pub fn start(
        &mut self,
        ctx: &Context,
        profile: Option<&str>,
        request: ChatRequest,
        mut emit: impl FnMut(StreamEvent) + Send + 'static,
    ) -> Result<tokio::task::JoinHandle<()>, StreamEvent> {
        let provider = match profile {
            Some(name) => self.others.get(ctx, name, self.demo_speed),
            None => self.session.clone().ok_or_else(|| {
                "no provider: the profile could not be set up (see the message above)".to_string()
            }),
        };
        let provider = provider.map_err(|e| StreamEvent::Error(ProviderError::Other(e)))?;
        Ok(tokio::spawn(async move {
            provider.stream(&request, &mut emit).await;
        }))
    }
}

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
    let mut streams = Streams::new(Some(provider), 0);
    let mut start = |effects: Vec<Effect>, rows: &mut Vec<_>| {
        for effect in effects {
            match effect {
                Effect::Start {
                    request_id,
                    request,
                    profile,
                } => {
                    let sender = tx.clone();
                    let emit = move |ev| drop(sender.send((request_id, ev)));
                    if let Err(error) = streams.start(ctx, profile.as_deref(), *request, emit) {
                        let _ = tx.send((request_id, error));
                    }
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
