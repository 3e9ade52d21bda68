//! The organization's own figures (Usage and Costs API buckets), stored
//! idempotently beside the local ledger so the two can be compared per day,
//! project and model. Syncing the same days twice replaces, never adds.

use chrono::DateTime;
use rusqlite::params;
use serde::Serialize;

use super::ledger::{Ledger, LedgerError};
use super::report::Filter;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRow {
    pub day: String,
    pub project_id: String,
    pub model: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    pub day: String,
    pub project_id: String,
    pub line_item: String,
    pub amount_micros: i64,
    pub currency: String,
}

fn day_of(bucket: &serde_json::Value) -> String {
    let start = bucket["start_time"].as_i64().unwrap_or(0);
    DateTime::from_timestamp(start, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

pub fn parse_usage(buckets: &[serde_json::Value]) -> Vec<UsageRow> {
    let mut out = Vec::new();
    for b in buckets {
        let day = day_of(b);
        for r in b["results"].as_array().into_iter().flatten() {
            out.push(UsageRow {
                day: day.clone(),
                project_id: text(&r["project_id"]),
                model: text(&r["model"]),
                requests: r["num_model_requests"].as_i64().unwrap_or(0),
                input_tokens: r["input_tokens"].as_i64().unwrap_or(0),
                cached_tokens: r["input_cached_tokens"].as_i64().unwrap_or(0),
                output_tokens: r["output_tokens"].as_i64().unwrap_or(0),
            });
        }
    }
    out
}

pub fn parse_costs(buckets: &[serde_json::Value]) -> Vec<CostRow> {
    let mut out = Vec::new();
    for b in buckets {
        let day = day_of(b);
        for r in b["results"].as_array().into_iter().flatten() {
            let value = r["amount"]["value"]
                .as_f64()
                .or_else(|| r["amount"]["value"].as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0.0);
            out.push(CostRow {
                day: day.clone(),
                project_id: text(&r["project_id"]),
                line_item: text(&r["line_item"]),
                amount_micros: (value * 1e6).round() as i64,
                currency: r["amount"]["currency"]
                    .as_str()
                    .unwrap_or("usd")
                    .to_string(),
            });
        }
    }
    out
}

/// Stores synced rows; a day synced again replaces what was there.
pub fn store(
    ledger: &mut Ledger,
    usage: &[UsageRow],
    costs: &[CostRow],
) -> Result<(), LedgerError> {
    ledger.write(|tx| {
        for u in usage {
            tx.execute(
                "INSERT OR REPLACE INTO org_usage VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    u.day,
                    u.project_id,
                    u.model,
                    u.requests,
                    u.input_tokens,
                    u.cached_tokens,
                    u.output_tokens
                ],
            )?;
        }
        for c in costs {
            tx.execute(
                "INSERT OR REPLACE INTO org_costs VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    c.day,
                    c.project_id,
                    c.line_item,
                    c.amount_micros,
                    c.currency
                ],
            )?;
        }
        Ok(())
    })
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn pairs(ledger: &Ledger, sql: &str, filter: &Filter) -> Result<Vec<(String, i64)>, LedgerError> {
    ledger.rows(sql, &[&day(filter.since), &day(filter.until)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

pub fn cost_by_day(ledger: &Ledger, filter: &Filter) -> Result<Vec<(String, i64)>, LedgerError> {
    pairs(
        ledger,
        "SELECT day, SUM(amount_micros) FROM org_costs WHERE day >= ?1 AND day < ?2 GROUP BY day ORDER BY day",
        filter,
    )
}

pub fn cost_by_project(
    ledger: &Ledger,
    filter: &Filter,
) -> Result<Vec<(String, i64)>, LedgerError> {
    pairs(
        ledger,
        "SELECT CASE WHEN project_id = '' THEN '(no project)' ELSE project_id END, SUM(amount_micros)
         FROM org_costs WHERE day >= ?1 AND day < ?2 GROUP BY 1 ORDER BY 2 DESC",
        filter,
    )
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelTokens {
    pub model: String,
    pub org_requests: i64,
    pub org_tokens: i64,
    pub local_requests: i64,
    pub local_tokens: i64,
}

/// Per model: what the organization counted beside what this machine recorded.
pub fn tokens_by_model(ledger: &Ledger, filter: &Filter) -> Result<Vec<ModelTokens>, LedgerError> {
    ledger.rows(
            "SELECT o.model, o.requests, o.tokens,
                    COALESCE((SELECT SUM(requests) FROM daily d WHERE d.model = o.model AND d.day >= ?1 AND d.day < ?2), 0),
                    COALESCE((SELECT SUM(input_tokens + output_tokens) FROM daily d WHERE d.model = o.model AND d.day >= ?1 AND d.day < ?2), 0)
             FROM (SELECT model, SUM(requests) AS requests, SUM(input_tokens + output_tokens) AS tokens
                   FROM org_usage WHERE day >= ?1 AND day < ?2 GROUP BY model) o
             ORDER BY o.tokens DESC",
        &[&day(filter.since), &day(filter.until)],
        |r| {
            Ok(ModelTokens {
                model: r.get(0)?,
                org_requests: r.get(1)?,
                org_tokens: r.get(2)?,
                local_requests: r.get(3)?,
                local_tokens: r.get(4)?,
            })
        },
    )
}
