//! The steps of an answer that ran tools: every model call is its own ledger
//! row (in `requests`); here each is numbered and linked to the answer, and the
//! tool runs between them are kept with their duration, outcome and cost.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::ledger::{Ledger, LedgerError};

/// One tool run of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRunRow {
    pub ts: DateTime<Utc>,
    /// The step (model call) that asked for it, from 1.
    pub step: u32,
    pub server: Option<String>,
    pub tool: String,
    pub duration_ms: u64,
    /// ok, error or refused.
    pub outcome: String,
    /// A hosted tool's fee, when priced.
    pub cost_micros: Option<i64>,
}

/// Numbers `request_ids` (the answer's model calls, in order) as steps 1, 2…
/// of one answer, named by the first, and records its tool runs. Returns the answer's id.
pub fn record(
    ledger: &mut Ledger,
    request_ids: &[String],
    runs: &[ToolRunRow],
) -> Result<Option<String>, LedgerError> {
    let Some(answer) = request_ids.first().cloned() else {
        return Ok(None);
    };
    ledger.write(|tx| {
        for (i, id) in request_ids.iter().enumerate() {
            tx.execute(
                "INSERT OR IGNORE INTO steps (request_id, answer_id, step) VALUES (?1, ?2, ?3)",
                params![id, answer, i as i64 + 1],
            )?;
        }
        for run in runs {
            tx.execute(
                "INSERT INTO tool_runs (id, ts, answer_id, step, server, tool, duration_ms, outcome, cost_micros)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    uuid::Uuid::now_v7().to_string(),
                    run.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    answer,
                    run.step,
                    run.server,
                    run.tool,
                    run.duration_ms.min(i64::MAX as u64) as i64,
                    run.outcome,
                    run.cost_micros,
                ],
            )?;
        }
        Ok(())
    })?;
    Ok(Some(answer))
}

/// An answer's steps: (step, model requested, cost) in order.
pub fn steps_of(
    ledger: &Ledger,
    answer: &str,
) -> rusqlite::Result<Vec<(u32, String, Option<i64>)>> {
    let mut stmt = ledger.connection().prepare(
        "SELECT s.step, r.model_requested, r.cost_micros FROM steps s
         JOIN requests r ON r.id = s.request_id WHERE s.answer_id = ?1 ORDER BY s.step",
    )?;
    stmt.query_map([answer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

/// An answer's tool runs: (step, tool, outcome, duration ms) in order.
pub fn tool_runs_of(
    ledger: &Ledger,
    answer: &str,
) -> rusqlite::Result<Vec<(u32, String, String, u64)>> {
    let mut stmt = ledger.connection().prepare(
        "SELECT step, tool, outcome, duration_ms FROM tool_runs WHERE answer_id = ?1 ORDER BY step, id",
    )?;
    stmt.query_map([answer], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64))
    })?
    .collect()
}
