//! Draining the outbox: rows waiting in the local ledger go to the team
//! database in batches, each batch one `INSERT ... ON CONFLICT DO NOTHING`,
//! and leave the outbox only after the server committed them. A push repeated
//! after a crash or a timeout inserts nothing twice.

use tokio_postgres::Client;

use crate::usage::Ledger;
use crate::usage::ledger::LedgerError;

/// Rows per statement: large enough to be fast, small enough to fail cheaply.
pub const BATCH: usize = 5_000;

/// One waiting row, as the team table wants it.
struct Waiting {
    id: String,
    ts: String,
    day: String,
    source: String,
    profile: String,
    host: String,
    api: String,
    model: String,
    service_tier: Option<String>,
    prompt: String,
    tags: String,
    status: String,
    tokens: [i64; 4],
    cost_micros: Option<i64>,
    ttft_ms: Option<i64>,
    duration_ms: Option<i64>,
    conversation_id: Option<String>,
}

/// How many rows wait to be pushed.
pub fn queued(ledger: &Ledger) -> Result<i64, LedgerError> {
    ledger.query(|c| c.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0)))
}

fn waiting(ledger: &Ledger, limit: usize) -> Result<Vec<Waiting>, LedgerError> {
    ledger.rows(
        "SELECT r.id, r.ts, r.day, r.source, r.profile, r.host, r.api, r.model_requested,
                r.service_tier, COALESCE(r.prompt_name || '@' || r.prompt_version, ''), r.tags,
                r.status, r.input_tokens, r.cached_tokens, r.output_tokens, r.reasoning_tokens,
                r.cost_micros, r.ttft_ms, r.duration_ms, r.conversation_id
         FROM outbox o JOIN requests r ON r.id = o.id ORDER BY o.id LIMIT ?1",
        &[&(limit as i64)],
        |r| {
            Ok(Waiting {
                id: r.get(0)?,
                ts: r.get(1)?,
                day: r.get(2)?,
                source: r.get(3)?,
                profile: r.get(4)?,
                host: r.get(5)?,
                api: r.get(6)?,
                model: r.get(7)?,
                service_tier: r.get(8)?,
                prompt: r.get(9)?,
                tags: r.get(10)?,
                status: r.get(11)?,
                // Held to the team table's checks: a row an older llmdeck
                // wrote with wild figures must not block the queue forever.
                tokens: [r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?]
                    .map(|t: i64| t.clamp(0, crate::chat::event::MAX_TOKENS as i64)),
                cost_micros: r
                    .get::<_, Option<i64>>(16)?
                    .map(|c| c.clamp(0, crate::usage::prices::MAX_REQUEST_MICROS)),
                ttft_ms: r.get(17)?,
                duration_ms: r.get(18)?,
                conversation_id: r.get(19)?,
            })
        },
    )
}

fn forget(ledger: &mut Ledger, ids: &[String]) -> Result<(), LedgerError> {
    ledger.write(|tx| {
        let mut del = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
        for id in ids {
            del.execute([id])?;
        }
        Ok(())
    })
}

const INSERT: &str = "INSERT INTO llmdeck_requests (id, member, ts, day, source, profile, host, api,
        model, service_tier, prompt, tags, status, input_tokens, cached_tokens, output_tokens,
        reasoning_tokens, cost_micros, ttft_ms, duration_ms, conversation_id)
    SELECT u.id::uuid, $1, u.ts::timestamptz, u.day::date, u.source, u.profile, u.host, u.api,
        u.model, u.tier, u.prompt, u.tags, u.status, u.i, u.c, u.o, u.r, u.cost, u.ttft, u.dur, u.conv
    FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
        $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int8[], $15::int8[],
        $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::text[])
        AS u(id, ts, day, source, profile, host, api, model, tier, prompt, tags, status,
             i, c, o, r, cost, ttft, dur, conv)
    ON CONFLICT DO NOTHING";

/// Pushes one batch; returns how many rows left the outbox (0: nothing waits).
pub async fn push_batch(
    client: &Client,
    ledger: &mut Ledger,
    member: &str,
) -> Result<usize, String> {
    let rows = waiting(ledger, BATCH).map_err(|e| e.to_string())?;
    if rows.is_empty() {
        return Ok(0);
    }
    macro_rules! col {
        ($f:expr) => {
            rows.iter().map($f).collect::<Vec<_>>()
        };
    }
    let ids = col!(|r| r.id.clone());
    client
        .execute(
            INSERT,
            &[
                &member,
                &ids,
                &col!(|r| r.ts.clone()),
                &col!(|r| r.day.clone()),
                &col!(|r| r.source.clone()),
                &col!(|r| r.profile.clone()),
                &col!(|r| r.host.clone()),
                &col!(|r| r.api.clone()),
                &col!(|r| r.model.clone()),
                &col!(|r| r.service_tier.clone()),
                &col!(|r| r.prompt.clone()),
                &col!(|r| r.tags.clone()),
                &col!(|r| r.status.clone()),
                &col!(|r| r.tokens[0]),
                &col!(|r| r.tokens[1]),
                &col!(|r| r.tokens[2]),
                &col!(|r| r.tokens[3]),
                &col!(|r| r.cost_micros),
                &col!(|r| r.ttft_ms),
                &col!(|r| r.duration_ms),
                &col!(|r| r.conversation_id.clone()),
            ],
        )
        .await
        .map_err(|e| super::describe(&e))?;
    // Only now, the server having committed: a crash before this line re-sends the
    // batch later, and ON CONFLICT makes that a no-op.
    forget(ledger, &ids).map_err(|e| e.to_string())?;
    Ok(ids.len())
}

/// Pushes until the outbox is empty; returns the rows pushed.
pub async fn push_all(client: &Client, ledger: &mut Ledger, member: &str) -> Result<usize, String> {
    let mut total = 0;
    loop {
        let batch = tokio::time::timeout(super::ANSWER_WITHIN, push_batch(client, ledger, member));
        let pushed = batch.await.map_err(|_| {
            format!(
                "the team database did not take a batch within {} s",
                super::ANSWER_WITHIN.as_secs()
            )
        })??;
        match pushed {
            0 => return Ok(total),
            n => total += n,
        }
    }
}
