//! The evals database (`evals.sqlite3` beside the ledger, 0600): the answers
//! cache, the runs kept so they can be reopened and compared, and the runs
//! sent as batches (kept from the moment the batch exists, until it is graded).

use std::path::Path;

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::library::testing::CaseResult;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cache (
    key         TEXT PRIMARY KEY,
    request     TEXT NOT NULL,
    answer      TEXT NOT NULL,
    latency_ms  INTEGER,
    tokens      INTEGER NOT NULL,
    cost_micros INTEGER,
    created     TEXT NOT NULL
);
-- Every run, and each of its results as JSON, to be reopened and compared. A
-- result's idx is its place in the run (a batch's: among the batch's requests,
-- with gaps while an interrupted grading waits for --resume).
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    prompt      TEXT NOT NULL,
    version     TEXT NOT NULL,
    against     TEXT,
    started     TEXT NOT NULL,
    runs        INTEGER NOT NULL,
    passed      INTEGER NOT NULL,
    interrupted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS run_results (
    run         TEXT NOT NULL REFERENCES runs(id),
    idx         INTEGER NOT NULL,
    result      TEXT NOT NULL,
    PRIMARY KEY (run, idx)
);
-- A run sent through the Batch API: its plan (what grading the answers needs) is
-- kept as soon as the batch exists, so a run left or killed can be resumed.
CREATE TABLE IF NOT EXISTS batches (
    id          TEXT PRIMARY KEY,
    run         TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    version     TEXT NOT NULL,
    created     TEXT NOT NULL,
    status      TEXT NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    plan        TEXT NOT NULL
);
-- The text of every prompt version an eval ran, so `--against VERSION` finds it.
CREATE TABLE IF NOT EXISTS versions (
    version     TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    text        TEXT NOT NULL,
    saved       TEXT NOT NULL
);
";

/// Opens the database, private before SQLite touches it, with its tables.
pub fn open(path: &Path) -> Result<Connection, String> {
    let shown = path.display();
    crate::config::files::private_database(path);
    let conn = Connection::open(path).map_err(|e| format!("evals {shown}: {e}"))?;
    // Another run may hold it a moment.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .and_then(|()| conn.execute_batch(SCHEMA))
        .map_err(|e| format!("evals {shown}: {e}"))?;
    Ok(conn)
}

/// Keeps the text of `version` (a run of it is about to start).
pub fn save_version(path: &Path, name: &str, version: &str, text: &str) -> Result<(), String> {
    let conn = open(path)?;
    conn.execute(
        "INSERT OR IGNORE INTO versions (version, name, text, saved) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![version, name, text, chrono::Utc::now().to_rfc3339()],
    )
    .map(drop)
    .map_err(|e| format!("evals {}: {e}", path.display()))
}

/// The text of a version an earlier run kept, if any.
pub fn version_text(path: &Path, version: &str) -> Option<String> {
    use rusqlite::OptionalExtension;
    let conn = open(path).ok()?;
    conn.query_row(
        "SELECT text FROM versions WHERE version = ?1",
        [version],
        |r| r.get(0),
    )
    .optional()
    .ok()
    .flatten()
}

/// A kept run, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    pub id: String,
    pub prompt: String,
    pub version: String,
    /// The version it was compared with, if it was.
    pub against: Option<String>,
    pub started: String,
    pub runs: i64,
    pub passed: i64,
    pub interrupted: bool,
}

/// A new run's id: short, time-ordered.
pub fn new_run_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()[..12].to_string()
}

impl RunInfo {
    /// A run that just finished (the console's, the command line's or a batch's).
    pub fn finished(
        id: String,
        prompt: &str,
        version: &str,
        against: Option<String>,
        results: &[CaseResult],
        interrupted: bool,
    ) -> Self {
        RunInfo {
            id,
            prompt: prompt.to_string(),
            version: version.to_string(),
            against,
            started: chrono::Utc::now().to_rfc3339(),
            runs: results.len() as i64,
            passed: results.iter().filter(|r| r.pass).count() as i64,
            interrupted,
        }
    }
}

/// Keeps a finished run and its results; returns its id.
pub fn save_run(path: &Path, info: &RunInfo, results: &[CaseResult]) -> Result<String, String> {
    let places: Vec<usize> = (0..results.len()).collect();
    keep_run(path, info, &places, results, false)
}

/// Keeps a batch's run: each result at its place among the batch's requests
/// (an interrupted run has gaps), in place of what an earlier, interrupted
/// grading of the same batch kept; returns its id.
pub fn save_batch_run(
    path: &Path,
    info: &RunInfo,
    places: &[usize],
    results: &[CaseResult],
) -> Result<String, String> {
    keep_run(path, info, places, results, true)
}

fn keep_run(
    path: &Path,
    info: &RunInfo,
    places: &[usize],
    results: &[CaseResult],
    replace: bool,
) -> Result<String, String> {
    let err = |e: rusqlite::Error| format!("evals {}: {e}", path.display());
    let mut conn = open(path)?;
    let tx = conn.transaction().map_err(err)?;
    if replace {
        tx.execute("DELETE FROM run_results WHERE run = ?1", [&info.id])
            .map_err(err)?;
        tx.execute("DELETE FROM runs WHERE id = ?1", [&info.id])
            .map_err(err)?;
    }
    tx.execute(
        "INSERT INTO runs (id, prompt, version, against, started, runs, passed, interrupted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            info.id,
            info.prompt,
            info.version,
            info.against,
            info.started,
            info.runs,
            info.passed,
            info.interrupted
        ],
    )
    .map_err(err)?;
    {
        let mut insert = tx
            .prepare("INSERT INTO run_results (run, idx, result) VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        for (i, r) in places.iter().zip(results) {
            let json = serde_json::to_string(r).expect("results serialize");
            insert
                .execute(params![info.id, *i as i64, json])
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    Ok(info.id.clone())
}

/// A run's results, each with its place among the batch's requests.
pub type Placed = Vec<(usize, CaseResult)>;

/// A batch's run as kept (exactly `id`), each result with its place among the
/// batch's requests; none when nothing of it is kept yet.
pub fn batch_run(path: &Path, id: &str) -> Result<Option<(RunInfo, Placed)>, String> {
    use rusqlite::OptionalExtension;
    let err = |e: rusqlite::Error| format!("evals {}: {e}", path.display());
    let conn = open(path)?;
    let Some(info) = conn
        .query_row(&format!("{INFO} WHERE id = ?1"), [id], info_of)
        .optional()
        .map_err(err)?
    else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare("SELECT idx, result FROM run_results WHERE run = ?1 ORDER BY idx")
        .map_err(err)?;
    let results = stmt
        .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(err)?
        .map(|row| {
            let (i, j) = row.map_err(err)?;
            let r = serde_json::from_str::<CaseResult>(&j).map_err(|e| format!("run {id}: {e}"))?;
            Ok((i as usize, r))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Some((info, results)))
}

fn info_of(r: &rusqlite::Row) -> rusqlite::Result<RunInfo> {
    Ok(RunInfo {
        id: r.get(0)?,
        prompt: r.get(1)?,
        version: r.get(2)?,
        against: r.get(3)?,
        started: r.get(4)?,
        runs: r.get(5)?,
        passed: r.get(6)?,
        interrupted: r.get(7)?,
    })
}

const INFO: &str =
    "SELECT id, prompt, version, against, started, runs, passed, interrupted FROM runs";

/// The runs kept, newest first (of one prompt, when named).
pub fn list_runs(path: &Path, prompt: Option<&str>) -> Result<Vec<RunInfo>, String> {
    let err = |e: rusqlite::Error| format!("evals {}: {e}", path.display());
    let conn = open(path)?;
    let mut stmt = conn
        .prepare(&format!(
            "{INFO} WHERE ?1 IS NULL OR prompt = ?1 ORDER BY started DESC, id DESC"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map([prompt], info_of)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(rows)
}

/// A kept run and its results, by id or by the start of one.
pub fn load_run(path: &Path, id: &str) -> Result<(RunInfo, Vec<CaseResult>), String> {
    let err = |e: rusqlite::Error| format!("evals {}: {e}", path.display());
    let conn = open(path)?;
    let mut stmt = conn
        .prepare(&format!(
            "{INFO} WHERE id LIKE ?1 || '%' ORDER BY started DESC LIMIT 2"
        ))
        .map_err(err)?;
    let found = stmt
        .query_map([id.replace(['%', '_'], "")], info_of)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let info = match found.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(format!(
                "no kept run {id:?} (llmdeck prompts runs lists them)"
            ));
        }
        _ => {
            return Err(format!(
                "{id:?} names more than one run: give more of its id"
            ));
        }
    };
    let mut stmt = conn
        .prepare("SELECT result FROM run_results WHERE run = ?1 ORDER BY idx")
        .map_err(err)?;
    let results = stmt
        .query_map([&info.id], |r| r.get::<_, String>(0))
        .map_err(err)?
        .map(|j| {
            j.map_err(err).and_then(|j| {
                serde_json::from_str::<CaseResult>(&j).map_err(|e| format!("run {}: {e}", info.id))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((info, results))
}

/// A run sent as a batch, as kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchRow {
    /// The batch's id at the endpoint.
    pub id: String,
    /// The id of the run it becomes.
    pub run: String,
    pub prompt: String,
    pub version: String,
    pub created: String,
    /// The last status seen (with its counts).
    pub status: String,
    /// Graded and kept as a run: nothing left to resume.
    pub done: bool,
    #[serde(skip)]
    pub plan: String,
}

/// Keeps a batch just created, with the plan its answers are graded by.
pub fn save_batch(path: &Path, b: &BatchRow) -> Result<(), String> {
    let conn = open(path)?;
    conn.execute(
        "INSERT INTO batches (id, run, prompt, version, created, status, done, plan)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            b.id, b.run, b.prompt, b.version, b.created, b.status, b.done, b.plan
        ],
    )
    .map(drop)
    .map_err(|e| format!("evals {}: {e}", path.display()))
}

/// The batch's last status seen, and whether it is done with.
pub fn update_batch(path: &Path, id: &str, status: &str, done: bool) -> Result<(), String> {
    let conn = open(path)?;
    conn.execute(
        "UPDATE batches SET status = ?2, done = ?3 WHERE id = ?1",
        params![id, status, done],
    )
    .map(drop)
    .map_err(|e| format!("evals {}: {e}", path.display()))
}

const BATCH: &str = "SELECT id, run, prompt, version, created, status, done, plan FROM batches";

fn batch_of(r: &rusqlite::Row) -> rusqlite::Result<BatchRow> {
    Ok(BatchRow {
        id: r.get(0)?,
        run: r.get(1)?,
        prompt: r.get(2)?,
        version: r.get(3)?,
        created: r.get(4)?,
        status: r.get(5)?,
        done: r.get(6)?,
        plan: r.get(7)?,
    })
}

/// The batch kept under `id`: a batch id, or the id of the run it becomes.
pub fn find_batch(path: &Path, id: &str) -> Result<Option<BatchRow>, String> {
    use rusqlite::OptionalExtension;
    let conn = open(path)?;
    conn.query_row(
        &format!("{BATCH} WHERE id = ?1 OR run = ?1 ORDER BY created DESC LIMIT 1"),
        [id],
        batch_of,
    )
    .optional()
    .map_err(|e| format!("evals {}: {e}", path.display()))
}

/// The batches not yet graded, oldest first.
pub fn pending_batches(path: &Path) -> Result<Vec<BatchRow>, String> {
    let err = |e: rusqlite::Error| format!("evals {}: {e}", path.display());
    let conn = open(path)?;
    let mut stmt = conn
        .prepare(&format!("{BATCH} WHERE done = 0 ORDER BY created, id"))
        .map_err(err)?;
    stmt.query_map([], batch_of)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)
}
