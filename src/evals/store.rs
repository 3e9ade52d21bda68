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
    created     TEXT NOT NULL
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
