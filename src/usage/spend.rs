//! Everything the Spend pane shows, computed in one go off the UI thread.

use chrono::{DateTime, Utc};

use super::ledger::{Ledger, LedgerError};
use super::org;
use super::report::{self, Filter, GroupBy, Latency, Row};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// (micro-dollars, requests)
    pub today: (i64, i64),
    pub week: (i64, i64),
    pub month: (i64, i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DayPoint {
    pub day: String,
    pub cost_micros: i64,
    pub tokens: i64,
    /// What the organization's Costs API says for the day, when synced.
    pub org_cost_micros: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spend {
    pub totals: Totals,
    /// The last 30 days, oldest first, days without requests included.
    pub days: Vec<DayPoint>,
    pub rows: Vec<Row>,
    pub latency: Vec<Latency>,
    pub models: Vec<String>,
    pub profiles: Vec<String>,
    /// Organization cost by project over the filter's days (empty until synced).
    pub org_projects: Vec<(String, i64)>,
    /// Organization tokens by model over the filter's days, beside local ones.
    pub org_models: Vec<org::ModelTokens>,
}

/// Totals for the status bar: today, last 7 days, month to date (all profiles).
pub fn totals(ledger: &Ledger, now: DateTime<Utc>) -> Result<Totals, LedgerError> {
    let until = now + chrono::Days::new(1);
    Ok(Totals {
        today: report::total(ledger, &Filter::days(report::days_back(now, 1), until))?,
        week: report::total(ledger, &Filter::days(report::days_back(now, 7), until))?,
        month: report::total(ledger, &Filter::days(report::month_start(now), until))?,
    })
}

pub fn load(
    ledger: &Ledger,
    by: GroupBy,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Spend, LedgerError> {
    let chart = Filter {
        since: report::days_back(now, 30),
        until: now + chrono::Days::new(1),
        ..filter.clone()
    };
    let per_day = report::group(ledger, GroupBy::Day, &chart)?;
    let org_days = org::cost_by_day(ledger, &chart)?;
    let days = chart_days(&per_day, &org_days, now);
    Ok(Spend {
        totals: totals(ledger, now)?,
        days,
        rows: report::group(ledger, by, filter)?,
        latency: report::latency(ledger, filter)?,
        models: report::distinct(ledger, "model", filter)?,
        profiles: report::distinct(ledger, "profile", filter)?,
        org_projects: org::cost_by_project(ledger, filter)?,
        org_models: org::tokens_by_model(ledger, filter)?,
    })
}

/// The last 30 days, oldest first, from per-day rows (days without any included).
pub fn chart_days(
    per_day: &[Row],
    org_days: &[(String, i64)],
    now: DateTime<Utc>,
) -> Vec<DayPoint> {
    (0..30)
        .rev()
        .map(|back| {
            let day = (now.date_naive() - chrono::Days::new(back))
                .format("%Y-%m-%d")
                .to_string();
            let row = per_day.iter().find(|r| r.key == day);
            DayPoint {
                org_cost_micros: org_days.iter().find(|(d, _)| *d == day).map(|(_, c)| *c),
                cost_micros: row.map(|r| r.cost_micros).unwrap_or(0),
                tokens: row.map(|r| r.input_tokens + r.output_tokens).unwrap_or(0),
                day,
            }
        })
        .collect()
}
