//! The answers cache: a request identical to one already answered (same
//! endpoint, same body, hence same model and parameters) is answered from
//! disk. A cached answer costs nothing and writes no ledger row. The key is a
//! hash of the endpoint's address (no query, no headers: never the API key)
//! and the body; the body is stored beside it, so a hash collision is a miss.

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use crate::chat::conversation::AnswerStatus;
use crate::chat::machine::{Effect, Input, Machine};
use crate::context::Context;
use crate::provider::Provider;
use crate::provider::event::StreamEvent;
use crate::usage::LedgerRow;

pub struct Cache {
    conn: Mutex<Connection>,
}

/// An answer from the cache: its text and what the original call measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    pub text: String,
    pub latency_ms: Option<u64>,
    pub tokens: u64,
    /// What it cost when asked: what comparisons between versions count.
    pub cost_micros: Option<i64>,
}

impl Cache {
    /// Opens (creating, 0600) the cache in the evals database at `path`.
    pub fn open(path: &Path) -> Result<Self, String> {
        let conn = super::store::open(path)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn get(&self, key: &str, request: &str) -> Option<Hit> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row(
            "SELECT answer, latency_ms, tokens, cost_micros FROM cache WHERE key = ?1 AND request = ?2",
            params![key, request],
            |r| {
                Ok(Hit {
                    text: r.get(0)?,
                    latency_ms: r.get::<_, Option<i64>>(1)?.map(|v| v as u64),
                    tokens: r.get::<_, i64>(2)? as u64,
                    cost_micros: r.get(3)?,
                })
            },
        )
        .optional()
        .ok()
        .flatten()
    }

    fn put(&self, key: &str, request: &str, hit: &Hit) {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        // A cache that cannot be written only means the next run asks again.
        let _ = conn.execute(
            "INSERT OR REPLACE INTO cache (key, request, answer, latency_ms, tokens, cost_micros, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key,
                request,
                hit.text,
                hit.latency_ms.map(|v| v as i64),
                hit.tokens as i64,
                hit.cost_micros,
                Utc::now().to_rfc3339()
            ],
        );
    }
}

/// What identifies a request: the endpoint's address without its query (a
/// proxy may take a key there) and the exact body. Never a header.
pub fn request_text(ctx: &Context, provider: &Provider, effect: &Effect) -> Option<String> {
    let Effect::Start {
        request, profile, ..
    } = effect
    else {
        return None;
    };
    let base = match &ctx.profile.endpoint {
        crate::config::Endpoint::Http(h) => h.base_url.split('?').next().unwrap_or("").to_string(),
        crate::config::Endpoint::Demo => "demo".into(),
    };
    let via = profile.as_deref().unwrap_or("");
    let body = String::from_utf8_lossy(&provider.request_body(request)).into_owned();
    Some(format!("{base} {via}\n{body}"))
}

fn key_of(request: &str) -> String {
    format!("{:016x}", crate::chat::tokens::fnv1a(request.as_bytes()))
}

/// Answers what `first` starts from `cache` when it holds that request: the
/// machine ends the answer as if streamed (its ledger row is dropped: a cached
/// answer is not spend). `None`: ask the server (`send`).
pub fn replay(
    ctx: &Context,
    provider: &Provider,
    m: &mut Machine,
    first: &[Effect],
    cache: Option<&Cache>,
    sample: u32,
) -> Option<Hit> {
    let hit = lookup(ctx, provider, first, cache, sample)?;
    feed(m, first, &hit);
    Some(hit)
}

/// The cached answer to what `first` starts, if `cache` holds it.
pub fn lookup(
    ctx: &Context,
    provider: &Provider,
    first: &[Effect],
    cache: Option<&Cache>,
    sample: u32,
) -> Option<Hit> {
    let cache = cache?;
    let (_, request) = only_start(ctx, provider, first, sample)?;
    cache.get(&key_of(&request), &request)
}

/// Ends the answer `first` started with `hit`, as if streamed (its ledger row dropped).
pub fn feed(m: &mut Machine, first: &[Effect], hit: &Hit) {
    let Some(id) = first.iter().find_map(|e| match e {
        Effect::Start { request_id, .. } => Some(*request_id),
        _ => None,
    }) else {
        return;
    };
    for ev in [StreamEvent::TextDelta(hit.text.clone()), StreamEvent::End] {
        let _ = m.handle(Input::Stream(id, ev), Instant::now(), Utc::now());
    }
}

/// Sends what `first` starts and returns the ledger rows; a finished answer
/// that `usable` accepts goes into `cache` for next time.
pub async fn send(
    ctx: &Context,
    provider: Provider,
    m: &mut Machine,
    first: Vec<Effect>,
    cache: Option<&Cache>,
    sample: u32,
    usable: fn(&str) -> bool,
) -> Vec<LedgerRow> {
    let request = cache.and_then(|_| only_start(ctx, &provider, &first, sample));
    let rows = crate::runner::stream_all(ctx, provider, m, first, &mut |_| {}).await;
    if let (Some(cache), Some((_, request))) = (cache, request) {
        put(cache, &request, m, usable);
    }
    rows
}

/// Keeps the answer `m` ended with for the request `first` started (a batch's
/// answer: a later run, live or batch, is answered from it).
pub fn keep(
    ctx: &Context,
    provider: &Provider,
    m: &Machine,
    first: &[Effect],
    cache: Option<&Cache>,
    sample: u32,
) {
    if let Some(cache) = cache
        && let Some((_, request)) = only_start(ctx, provider, first, sample)
    {
        put(cache, &request, m, |_| true);
    }
}

fn put(cache: &Cache, request: &str, m: &Machine, usable: fn(&str) -> bool) {
    let node = &m.conv.nodes[m.conv.last()];
    if let Some(meta) = node
        .meta
        .as_ref()
        .filter(|x| x.status == AnswerStatus::Done && usable(&node.content))
    {
        let hit = Hit {
            text: node.content.to_string(),
            latency_ms: meta.duration_ms,
            tokens: meta.usage.map(|u| u.input + u.output).unwrap_or(0),
            cost_micros: meta.cost_micros,
        };
        cache.put(&key_of(request), request, &hit);
    }
}

/// The id and identity of the one request `first` starts (several: not cached).
/// `sample` tells apart the runs of a `--repeat`: each is an answer of its own.
fn only_start(
    ctx: &Context,
    provider: &Provider,
    first: &[Effect],
    sample: u32,
) -> Option<(u64, String)> {
    let mut starts = first.iter().filter(|e| matches!(e, Effect::Start { .. }));
    let one = starts.next()?;
    if starts.next().is_some() {
        return None;
    }
    let Effect::Start { request_id, .. } = one else {
        return None;
    };
    let text = request_text(ctx, provider, one)?;
    Some((*request_id, format!("#{sample} {text}")))
}
