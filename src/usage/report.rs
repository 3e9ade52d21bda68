//! Aggregates over the ledger: spend grouped by day, model, prompt, profile,
//! tag or status over a date range, read from the daily rollup (small however
//! long the history), or by the tools each model call asked for (read from the
//! requests and their steps), plus latency percentiles and a group's requests.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::ToSql;
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
    /// Who spent it: one group locally ("me"), one per member in the team view.
    Member,
    /// Where the cost came from: server, catalog, override, estimated, local, unpriced.
    CostSource,
    /// The tools a model call asked for (`steps` and `tool_runs`): one group per
    /// set of tools, so no call counts twice; calls that asked for none are "(none)".
    Tool,
}

/// The tools a request (a step of an answer) asked for, over `requests` rows.
/// The names in order, so a call that asked for b then a is the same group as one that asked for a then b.
const TOOL_KEY: &str = "COALESCE((SELECT group_concat(tool, ',') FROM (
         SELECT DISTINCT t.tool AS tool FROM steps s
         JOIN tool_runs t ON t.answer_id = s.answer_id AND t.step = s.step
         WHERE s.request_id = requests.id ORDER BY t.tool)), '')";

impl GroupBy {
    pub const ALL: [GroupBy; 9] = [
        GroupBy::Day,
        GroupBy::Model,
        GroupBy::Prompt,
        GroupBy::Profile,
        GroupBy::Tag,
        GroupBy::Status,
        GroupBy::Member,
        GroupBy::CostSource,
        GroupBy::Tool,
    ];

    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Model => "model",
            GroupBy::Prompt => "prompt",
            GroupBy::Profile => "profile",
            GroupBy::Tag => "tag",
            GroupBy::Status => "status",
            GroupBy::Member => "member",
            GroupBy::CostSource => "cost source",
            GroupBy::Tool => "tool",
        }
    }

    /// The group's key over the `daily` rollup.
    fn daily_key(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Model => "model",
            GroupBy::Prompt => "prompt",
            GroupBy::Profile => "profile || ' @ ' || host",
            GroupBy::Tag => "tags",
            GroupBy::Status => "status",
            GroupBy::Member => "'me'",
            GroupBy::CostSource => "cost_from",
            GroupBy::Tool => TOOL_KEY,
        }
    }

    /// The same key over raw `requests` rows, for drilling into a group.
    fn request_key(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Model => "model_requested",
            GroupBy::Prompt => "COALESCE(prompt_name || '@' || prompt_version, '')",
            GroupBy::Profile => "profile || ' @ ' || host",
            GroupBy::Tag => "tags",
            GroupBy::Status => "status",
            GroupBy::Member => "'me'",
            GroupBy::CostSource => {
                "CASE WHEN cost_micros IS NULL THEN 'unpriced' ELSE COALESCE(cost_source, 'unknown') END"
            }
            GroupBy::Tool => TOOL_KEY,
        }
    }

    /// The same key over the team database's `llmdeck_daily`; None where the team
    /// database does not keep it (cost sources stay on each member's machine).
    pub fn team_key(self) -> Option<&'static str> {
        Some(match self {
            GroupBy::Day => "to_char(day, 'YYYY-MM-DD')",
            GroupBy::Model => "model",
            GroupBy::Prompt => "prompt",
            GroupBy::Profile => "profile",
            GroupBy::Tag => "tags",
            GroupBy::Status => "status",
            GroupBy::Member => "member",
            // Cost sources and tool runs stay on each machine.
            GroupBy::CostSource | GroupBy::Tool => return None,
        })
    }
}

/// Which requests count: `since <= day < until`, optionally one model and one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub model: Option<String>,
    pub profile: Option<String>,
}

impl Filter {
    pub fn days(since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            since,
            until,
            model: None,
            profile: None,
        }
    }

    /// SQL conditions and parameters; `model`/`profile` name the columns to filter.
    fn conditions(&self, model: &str) -> (String, Vec<String>) {
        let mut sql = "day >= ?1 AND day < ?2".to_string();
        let mut params = vec![day(self.since), day(self.until)];
        if let Some(m) = &self.model {
            params.push(m.clone());
            sql.push_str(&format!(" AND {model} = ?{}", params.len()));
        }
        if let Some(p) = &self.profile {
            params.push(p.clone());
            sql.push_str(&format!(" AND profile = ?{}", params.len()));
        }
        (sql, params)
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
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

/// `7d`, `30d` (days back from today, UTC, today included) or a date `2026-11-01`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Some(days) = text.strip_suffix('d') {
        let n: u64 = days
            .parse()
            .map_err(|_| format!("{text:?}: expected like 7d or 2026-11-01"))?;
        return Ok(days_back(now, n));
    }
    parse_date(text)
}

/// Midnight UTC of the day `n - 1` days before today (so `n` days with today).
pub fn days_back(now: DateTime<Utc>, n: u64) -> DateTime<Utc> {
    let day = now.date_naive() - chrono::Days::new(n.max(1) - 1);
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .with_day(1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
        .and_utc()
}

pub fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| format!("{text:?}: expected a date like 2026-11-01"))
}

fn bind(params: &[String]) -> Vec<&dyn ToSql> {
    params.iter().map(|p| p as &dyn ToSql).collect()
}

/// Spend grouped by `by`: the most expensive first (days in order).
pub fn group(ledger: &Ledger, by: GroupBy, filter: &Filter) -> Result<Vec<Row>, LedgerError> {
    let order = if by == GroupBy::Day {
        "k"
    } else {
        "7 DESC, 2 DESC, k"
    };
    let (cond, params, sql);
    if by == GroupBy::Tool {
        // Not in the rollup: each request of the range, with the tools it asked for.
        (cond, params) = filter.conditions("model_requested");
        sql = format!(
            "SELECT {TOOL_KEY} AS k, COUNT(*), SUM(input_tokens), SUM(cached_tokens),
                    SUM(output_tokens), SUM(reasoning_tokens), COALESCE(SUM(cost_micros), 0),
                    SUM(cost_micros IS NULL)
             FROM requests WHERE {cond}
             GROUP BY k ORDER BY {order}"
        );
    } else {
        (cond, params) = filter.conditions("model");
        sql = format!(
            "SELECT {key} AS k, SUM(requests), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens),
                    SUM(reasoning_tokens), SUM(cost_micros), SUM(unpriced)
             FROM daily WHERE {cond}
             GROUP BY k ORDER BY {order}",
            key = by.daily_key(),
        );
    }
    ledger.rows(&sql, &bind(&params), |r| {
        let key: String = r.get(0)?;
        Ok(Row {
            key: if key.is_empty() { "(none)".into() } else { key },
            requests: r.get(1)?,
            input_tokens: r.get(2)?,
            cached_tokens: r.get(3)?,
            output_tokens: r.get(4)?,
            reasoning_tokens: r.get(5)?,
            cost_micros: r.get(6)?,
            unpriced: r.get(7)?,
        })
    })
}

/// Cost and request count over a filter.
pub fn total(ledger: &Ledger, filter: &Filter) -> Result<(i64, i64), LedgerError> {
    let (cond, params) = filter.conditions("model");
    let sql = format!(
        "SELECT COALESCE(SUM(cost_micros), 0), COALESCE(SUM(requests), 0) FROM daily WHERE {cond}"
    );
    ledger.query(|c| {
        c.prepare_cached(&sql)?
            .query_row(bind(&params).as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub model: String,
    pub samples: usize,
    pub ttft_p50_ms: u64,
    pub ttft_p95_ms: u64,
    pub tps_p50: f64,
    pub tps_p95: f64,
}

/// How many recent answers latency is computed over: enough to be stable,
/// bounded so the pane stays fast on a ledger of millions.
pub const LATENCY_SAMPLE: usize = 20_000;

/// Time to first token and tokens/s per model, p50 and p95, over the most
/// recent successful answers in the filter.
pub fn latency(ledger: &Ledger, filter: &Filter) -> Result<Vec<Latency>, LedgerError> {
    let (cond, mut params) = filter.conditions("model_requested");
    // The range as timestamps too, so the planner walks the `ts` index newest
    // first and stops after the sample instead of sorting the whole range.
    params[0] = filter
        .since
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    params[1] = filter.until.format("%Y-%m-%d").to_string();
    let cond = cond.replacen("day >= ?1 AND day < ?2", "ts >= ?1 AND ts < ?2", 1);
    let sql = format!(
        "SELECT model_requested, ttft_ms, duration_ms, output_tokens FROM requests
         WHERE {cond} AND status = 'ok' AND ttft_ms IS NOT NULL
         ORDER BY ts DESC LIMIT {LATENCY_SAMPLE}"
    );
    let mut per_model: std::collections::BTreeMap<String, (Vec<u64>, Vec<f64>)> =
        Default::default();
    let rows = ledger.rows(&sql, &bind(&params), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for (model, ttft, duration, output) in rows {
        let entry = per_model.entry(model).or_default();
        entry.0.push(ttft.max(0) as u64);
        if let Some(d) = duration {
            let streaming = (d - ttft).max(0);
            if streaming > 0 && output > 0 {
                entry.1.push(output as f64 * 1000.0 / streaming as f64);
            }
        }
    }
    Ok(per_model
        .into_iter()
        .map(|(model, (mut ttft, mut tps))| {
            ttft.sort_unstable();
            tps.sort_by(f64::total_cmp);
            Latency {
                model,
                samples: ttft.len(),
                ttft_p50_ms: percentile(&ttft, 50).copied().unwrap_or(0),
                ttft_p95_ms: percentile(&ttft, 95).copied().unwrap_or(0),
                tps_p50: percentile(&tps, 50).copied().unwrap_or(0.0),
                tps_p95: percentile(&tps, 95).copied().unwrap_or(0.0),
            }
        })
        .collect())
}

/// Nearest-rank percentile of sorted values.
fn percentile<T>(sorted: &[T], p: usize) -> Option<&T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRow {
    pub id: String,
    pub ts: String,
    pub model: String,
    pub profile: String,
    pub status: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: Option<i64>,
    pub ttft_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub conversation_id: Option<String>,
}

/// The requests of one group (newest first, at most `limit`).
pub fn requests(
    ledger: &Ledger,
    by: GroupBy,
    key: &str,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<RequestRow>, LedgerError> {
    let (cond, mut params) = filter.conditions("model_requested");
    params.push(if key == "(none)" {
        String::new()
    } else {
        key.to_string()
    });
    let sql = format!(
        "SELECT id, ts, model_requested, profile, status, input_tokens, output_tokens, cost_micros,
                ttft_ms, duration_ms, conversation_id
         FROM requests WHERE {cond} AND {k} = ?{n} ORDER BY ts DESC LIMIT {limit}",
        k = by.request_key(),
        n = params.len(),
    );
    ledger.rows(&sql, &bind(&params), |r| {
        Ok(RequestRow {
            id: r.get(0)?,
            ts: r.get(1)?,
            model: r.get(2)?,
            profile: r.get(3)?,
            status: r.get(4)?,
            input_tokens: r.get(5)?,
            output_tokens: r.get(6)?,
            cost_micros: r.get(7)?,
            ttft_ms: r.get(8)?,
            duration_ms: r.get(9)?,
            conversation_id: r.get(10)?,
        })
    })
}

/// Distinct values seen in the filter's range, for cycling filters.
pub fn distinct(
    ledger: &Ledger,
    column: &str,
    filter: &Filter,
) -> Result<Vec<String>, LedgerError> {
    let column = if column == "profile" {
        "profile"
    } else {
        "model"
    };
    let sql =
        format!("SELECT DISTINCT {column} FROM daily WHERE day >= ?1 AND day < ?2 ORDER BY 1");
    ledger.rows(&sql, &[&day(filter.since), &day(filter.until)], |r| {
        r.get(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(&50));
        assert_eq!(percentile(&v, 95), Some(&95));
        assert_eq!(percentile(&[7u64], 95), Some(&7));
        assert_eq!(percentile::<u64>(&[], 50), None);
    }
}

/// How one version of a prompt has done: runs, average cost and tokens, and
/// the pass rate of its tests (rows tagged `test` with `pass` or `fail`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionStats {
    pub version: String,
    pub runs: i64,
    pub avg_cost_micros: Option<i64>,
    pub avg_tokens: i64,
    pub tests_passed: i64,
    pub tests_failed: i64,
    pub last: String,
}

impl VersionStats {
    pub fn pass_rate(&self) -> Option<f64> {
        let n = self.tests_passed + self.tests_failed;
        (n > 0).then(|| self.tests_passed as f64 / n as f64)
    }
}

/// Every version of `prompt` the ledger has seen, newest first.
pub fn prompt_versions(ledger: &Ledger, prompt: &str) -> Result<Vec<VersionStats>, LedgerError> {
    ledger.rows(
        "SELECT prompt_version, COUNT(*), CAST(AVG(cost_micros) AS INTEGER),
                CAST(AVG(input_tokens + output_tokens) AS INTEGER),
                SUM(tags = 'test,pass'), SUM(tags = 'test,fail'), MAX(ts)
         FROM requests WHERE prompt_name = ?1
         GROUP BY prompt_version ORDER BY MAX(ts) DESC",
        &[&prompt],
        |r| {
            Ok(VersionStats {
                version: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                runs: r.get(1)?,
                avg_cost_micros: r.get(2)?,
                avg_tokens: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                tests_passed: r.get::<_, Option<i64>>(4)?.unwrap_or(0),
                tests_failed: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                last: r.get(6)?,
            })
        },
    )
}
