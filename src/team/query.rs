//! The team view, computed by the server: the same groupings as the local
//! ledger's (day, model, prompt, member, profile, tag, status), read from the
//! `llmdeck_daily` rollup, which members may read though not the rows under it.

use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

use crate::usage::report::{self, Filter, GroupBy, Row};
use crate::usage::spend::{Spend, Totals, chart_days};

/// `day >= $1 AND day < $2`, plus a model and a profile when the filter has them.
fn conditions(filter: &Filter) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut sql = "day >= $1 AND day < $2".to_string();
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![
        Box::new(filter.since.date_naive()),
        Box::new(filter.until.date_naive()),
    ];
    if let Some(m) = &filter.model {
        params.push(Box::new(m.clone()));
        sql.push_str(&format!(" AND model = ${}", params.len()));
    }
    if let Some(p) = &filter.profile {
        params.push(Box::new(p.clone()));
        sql.push_str(&format!(" AND profile = ${}", params.len()));
    }
    (sql, params)
}

fn refs(params: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// Team spend grouped by `by`, the most expensive first (days in order).
pub async fn group(client: &Client, by: GroupBy, filter: &Filter) -> Result<Vec<Row>, String> {
    let (cond, params) = conditions(filter);
    let key = by.team_key().ok_or_else(|| {
        format!(
            "the team database does not keep the {}: group by it on your own ledger",
            by.label()
        )
    })?;
    let sql =
        format!(
        "SELECT {key} AS k, SUM(requests)::int8, SUM(input_tokens)::int8, SUM(cached_tokens)::int8,
                SUM(output_tokens)::int8, SUM(reasoning_tokens)::int8, SUM(cost_micros)::int8,
                SUM(unpriced)::int8
         FROM llmdeck_daily WHERE {cond} GROUP BY k ORDER BY {order}",
        key = key,
        order = if by == GroupBy::Day { "k" } else { "7 DESC, 2 DESC, k" },
    );
    let rows = client
        .query(&sql, &refs(&params))
        .await
        .map_err(|e| super::describe(&e))?;
    Ok(rows
        .iter()
        .map(|r| {
            let key: String = r.get(0);
            Row {
                key: if key.is_empty() { "(none)".into() } else { key },
                requests: r.get(1),
                input_tokens: r.get(2),
                cached_tokens: r.get(3),
                output_tokens: r.get(4),
                reasoning_tokens: r.get(5),
                cost_micros: r.get(6),
                unpriced: r.get(7),
            }
        })
        .collect())
}

async fn total(client: &Client, filter: &Filter) -> Result<(i64, i64), String> {
    let rows = group(client, GroupBy::Status, filter).await?;
    Ok(rows.iter().fold((0i64, 0i64), |(c, n), r| {
        (
            c.saturating_add(r.cost_micros),
            n.saturating_add(r.requests),
        )
    }))
}

/// Today, 7 days and month to date for the whole team.
pub async fn totals(client: &Client, now: DateTime<Utc>) -> Result<Totals, String> {
    let until = now + chrono::Days::new(1);
    Ok(Totals {
        today: total(client, &Filter::days(report::days_back(now, 1), until)).await?,
        week: total(client, &Filter::days(report::days_back(now, 7), until)).await?,
        month: total(client, &Filter::days(report::month_start(now), until)).await?,
    })
}

/// Everything the Spend pane shows, for the team (latency stays per machine).
pub async fn spend(
    client: &Client,
    by: GroupBy,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Spend, String> {
    let chart = Filter {
        since: report::days_back(now, 30),
        until: now + chrono::Days::new(1),
        ..filter.clone()
    };
    let per_day = group(client, GroupBy::Day, &chart).await?;
    let keys = |rows: Vec<Row>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();
    let all = Filter {
        model: None,
        profile: None,
        ..filter.clone()
    };
    Ok(Spend {
        totals: totals(client, now).await?,
        days: chart_days(&per_day, &[], now),
        rows: group(client, by, filter).await?,
        latency: Vec::new(),
        models: keys(group(client, GroupBy::Model, &all).await?),
        profiles: keys(group(client, GroupBy::Profile, &all).await?),
        org_projects: Vec::new(),
        org_models: Vec::new(),
    })
}
