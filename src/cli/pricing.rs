//! `llmdeck pricing reprice --model M`: the ledger's unpriced rows of a model,
//! priced now that it has a price (the console's price form, or prices.toml).

use super::out::outln;
use crate::chat::event::{Usage, UsageSource};
use crate::context::Context;
use crate::usage::cost::{self, Endpoint};

/// One unpriced row: its id, where it went and its usage.
struct Unpriced {
    id: String,
    profile: String,
    host: String,
    model: String,
    tier: Option<String>,
    usage: Usage,
}

pub fn reprice(ctx: &Context, model: &str) -> Result<(), String> {
    let mut ledger = ctx.ledger()?;
    let rows = ledger
        .rows(
            "SELECT id, profile, host, COALESCE(model_reported, model_requested), service_tier,
                    input_tokens, cached_tokens, cache_write_tokens, output_tokens,
                    reasoning_tokens, usage_source, audio_input_tokens, audio_output_tokens
             FROM requests
             WHERE cost_micros IS NULL AND (model_requested = ?1 OR model_reported = ?1)",
            &[&model],
            |r| {
                let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                Ok(Unpriced {
                    id: r.get(0)?,
                    profile: r.get(1)?,
                    host: r.get(2)?,
                    model: r.get(3)?,
                    tier: r.get(4)?,
                    usage: Usage {
                        input: n(5)?,
                        cached_input: n(6)?,
                        cache_write: n(7)?,
                        output: n(8)?,
                        reasoning: n(9)?,
                        input_audio: n(11)?,
                        output_audio: n(12)?,
                        source: match r.get::<_, String>(10)?.as_str() {
                            "estimated" => UsageSource::Estimated,
                            _ => UsageSource::Reported,
                        },
                    },
                })
            },
        )
        .map_err(|e| e.to_string())?;
    let unpriced = rows.len();
    let mut changed = Vec::new();
    for row in rows {
        // The ledger keeps the host: the row's profile, while it still points
        // there, gives the whole base URL (a provider told by its path) and `local`.
        let endpoint = match ctx.switch(&row.profile) {
            Ok(p) if p.host() == row.host => ctx.price_endpoint(&p),
            _ => Endpoint {
                base_url: format!("https://{}", row.host),
                local: None,
            },
        };
        let c = cost::cost(
            &ctx.prices(),
            &endpoint,
            &row.model,
            &row.usage,
            row.tier.as_deref(),
            None,
        );
        if let Some(micros) = c.micros {
            changed.push((row, micros, c));
        }
    }
    ledger
        .write(|tx| {
            for (row, micros, c) in &changed {
                let (ri, rc, ro, date) = match &c.rates {
                    Some((i, ca, o, d)) => (Some(*i), Some(*ca), Some(*o), Some(d.clone())),
                    None => (None, None, None, None),
                };
                tx.execute(
                    "UPDATE requests SET cost_micros = ?2, cost_source = ?3, rate_input_nanos = ?4,
                        rate_cached_nanos = ?5, rate_output_nanos = ?6, price_date = ?7
                     WHERE id = ?1 AND cost_micros IS NULL",
                    rusqlite::params![
                        row.id,
                        micros,
                        c.source.map(|s| s.label()),
                        ri,
                        rc,
                        ro,
                        date
                    ],
                )?;
                // The daily totals follow by a trigger (ledger v7).
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let left = unpriced - changed.len();
    outln!(
        "repriced {} of {unpriced} unpriced rows of {model}{}",
        changed.len(),
        if left > 0 {
            format!("; {left} still have no price (add one to prices.toml)")
        } else {
            String::new()
        }
    );
    Ok(())
}
