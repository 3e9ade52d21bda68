//! The evals database (`evals.sqlite3` beside the ledger, 0600): the answers
//! cache, and the runs kept so they can be reopened and compared.

use std::path::Path;

use rusqlite::Connection;

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
