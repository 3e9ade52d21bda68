//! Aggregates over the ledger: spend grouped by day, model, prompt, profile,
//! tag or status over a date range. One SQL query each, on indexed columns.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use serde::Serialize;

use super::ledger::{Ledger, LedgerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    Day,
    Model,
    Prompt,
    Profile,
    Tag,
    Status,
}

impl GroupBy {
    fn column(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Model => "COALESCE(model_reported, model_requested)",
            GroupBy::Prompt => "COALESCE(prompt_name || '@' || prompt_version, '(none)')",
            GroupBy::Profile => "profile || ' @ ' || host",
            GroupBy::Tag => "CASE WHEN tags = '' THEN '(none)' ELSE tags END",
            GroupBy::Status => "status",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub key: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    /// Sum over priced requests only.
    pub cost_micros: i64,
    /// Requests whose model has no price (their cost is unknown, not zero).
    pub unpriced: i64,
}

/// `7d`, `30d` (days back from today, UTC) or a date `2026-11-01`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Some(days) = text.strip_suffix('d') {
        let n: i64 = days
            .parse()
            .map_err(|_| format!("{text:?}: expected like 7d or 2026-11-01"))?;
        let day = now.date_naive() - chrono::Days::new(n.max(1) as u64 - 1);
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    parse_date(text)
}

pub fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| format!("{text:?}: expected a date like 2026-11-01"))
}

/// Spend grouped by `by` for `since <= day < until`.
pub fn group(
    ledger: &Ledger,
    by: GroupBy,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Row>, LedgerError> {
    let sql =
        format!(
        "SELECT {col} AS k, COUNT(*), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens),
                SUM(reasoning_tokens), COALESCE(SUM(cost_micros), 0), SUM(cost_micros IS NULL)
         FROM requests WHERE day >= ?1 AND day < ?2
         GROUP BY k ORDER BY {order}",
        col = by.column(),
        order = if by == GroupBy::Day { "k" } else { "7 DESC, 2 DESC" },
    );
    let conn = ledger.connection();
    let wrap = |source| LedgerError::Sqlite {
        path: "ledger".into(),
        source,
    };
    let mut stmt = conn.prepare(&sql).map_err(wrap)?;
    let rows = stmt
        .query_map(
            params![
                since.format("%Y-%m-%d").to_string(),
                until.format("%Y-%m-%d").to_string()
            ],
            |r| {
                Ok(Row {
                    key: r.get(0)?,
                    requests: r.get(1)?,
                    input_tokens: r.get(2)?,
                    cached_tokens: r.get(3)?,
                    output_tokens: r.get(4)?,
                    reasoning_tokens: r.get(5)?,
                    cost_micros: r.get(6)?,
                    unpriced: r.get(7)?,
                })
            },
        )
        .map_err(wrap)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(wrap)
}
