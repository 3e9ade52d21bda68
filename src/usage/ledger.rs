//! The local ledger: one row per request in SQLite (WAL, busy timeout,
//! `BEGIN IMMEDIATE` writes, versioned migrations). Rows carry a globally
//! unique id so they can later be pushed to a team database without double counting.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::chat::event::{Usage, UsageSource};

use super::migrations::{MIGRATIONS, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "ledger {path} was written by a newer llmdeck (schema {found}, this one knows {SCHEMA_VERSION}); it was left untouched — upgrade llmdeck"
    )]
    TooNew { path: String, found: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Error,
    Cancelled,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }
}

/// Everything recorded about one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    pub id: String,
    pub ts: DateTime<Utc>,
    /// tui, cli or test.
    pub source: String,
    pub profile: String,
    pub host: String,
    /// chat (Chat Completions), responses, or demo.
    pub api: String,
    pub model_requested: String,
    pub model_reported: Option<String>,
    pub service_tier: Option<String>,
    pub usage: Usage,
    pub cost_micros: Option<i64>,
    /// Where the cost came from (`None`: unpriced).
    pub cost_source: Option<super::cost::CostSource>,
    /// input, cached input, output rates in nano-dollars per token, and the table's date.
    pub rates: Option<(i64, i64, i64, String)>,
    pub ttft_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub status: Status,
    pub error_kind: Option<String>,
    pub conversation_id: Option<String>,
    pub prompt: Option<(String, String)>,
    pub tags: Vec<String>,
}

pub struct Ledger {
    conn: Connection,
    path: String,
    /// Queue every new row for the team database too.
    outbox: bool,
}

/// Where the ledger is and whether rows written to it also queue for the team
/// database: the one way the console and the command line open it.
#[derive(Debug, Clone)]
pub struct LedgerFile {
    pub path: std::path::PathBuf,
    pub outbox: bool,
}

impl LedgerFile {
    pub fn open(&self) -> Result<Ledger, String> {
        Ledger::open(&self.path)
            .map(|l| l.with_outbox(self.outbox))
            .map_err(|e| e.to_string())
    }

    /// Whether anything was ever recorded (reading would create the file).
    pub fn exists(&self) -> bool {
        self.path.exists()
    }
}

/// The page cache of a connection that only appends, in KiB.
const APPENDING_CACHE_KIB: i64 = 256;

impl Ledger {
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let shown = path.display().to_string();
        let err = |source| LedgerError::Sqlite {
            path: shown.clone(),
            source,
        };
        // Every request's record stays private, -wal and -shm files too.
        crate::config::files::private_database(path);
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if found > SCHEMA_VERSION {
            return Err(LedgerError::TooNew { path: shown, found });
        }
        // Switching to WAL needs a moment alone with the file; SQLite answers BUSY at
        // once (its busy handler does not apply) when another process is opening it
        // too, so wait for that here, bounded.
        let start = std::time::Instant::now();
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && start.elapsed() < Duration::from_secs(10) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.map_err(err)?,
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        // Re-read inside the lock: another process may have migrated meanwhile.
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(Self {
            conn,
            path: shown,
            outbox: false,
        })
    }

    /// For a connection that only appends rows (the console's writer): a
    /// small page cache. SQLite's default of 2 MB fills page by page as the
    /// ledger grows, a long session's memory spent on rows never read again.
    pub fn appending(self) -> Self {
        // Only a read would miss what a smaller cache drops, and it does none.
        let _ = self
            .conn
            .pragma_update(None, "cache_size", -APPENDING_CACHE_KIB);
        self
    }

    /// Gives back the pages this connection's cache holds: a writer that
    /// appends a row an exchange reads none of them again, and its cache
    /// would otherwise grow with the ledger up to its cap. The next write
    /// reads the few pages it needs from the file (the system's cache).
    pub fn release_cache(&self) {
        let _ = self.conn.release_memory();
    }

    /// The bytes this connection's page cache holds (SQLite's own count).
    pub fn cache_bytes(&self) -> i64 {
        let (mut now, mut high) = (0, 0);
        // SAFETY: the handle is this open connection's, used on its thread for
        // one status read that writes only the two integers passed.
        unsafe {
            rusqlite::ffi::sqlite3_db_status(
                self.conn.handle(),
                rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
                &mut now,
                &mut high,
                0,
            );
        }
        i64::from(now)
    }

    /// From now on, rows inserted are also queued for the team database.
    /// (Opened through `LedgerFile`, which sets it from the config.)
    pub fn with_outbox(mut self, on: bool) -> Self {
        self.outbox = on;
        self
    }

    pub fn insert(&mut self, row: &LedgerRow) -> Result<(), LedgerError> {
        let outbox = self.outbox;
        // Held again here: a row may come from a recording or an older build.
        let u = row.usage.held();
        let (ri, rc, ro, date) = match &row.rates {
            Some((i, c, o, d)) => (Some(*i), Some(*c), Some(*o), Some(d.clone())),
            None => (None, None, None, None),
        };
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO requests (id, ts, day, source, profile, host, api, model_requested,
                    model_reported, service_tier, input_tokens, cached_tokens, cache_write_tokens,
                    output_tokens, reasoning_tokens, usage_source, cost_micros, rate_input_nanos,
                    rate_cached_nanos, rate_output_nanos, price_date, ttft_ms, duration_ms, status,
                    error_kind, conversation_id, prompt_name, prompt_version, tags, cost_source,
                    audio_input_tokens, audio_output_tokens)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                    ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)",
                params![
                    row.id,
                    row.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    row.ts.format("%Y-%m-%d").to_string(),
                    row.source,
                    row.profile,
                    row.host,
                    row.api,
                    row.model_requested,
                    row.model_reported,
                    row.service_tier,
                    u.input as i64,
                    u.cached_input as i64,
                    u.cache_write as i64,
                    u.output as i64,
                    u.reasoning as i64,
                    match u.source {
                        UsageSource::Reported => "reported",
                        UsageSource::Estimated => "estimated",
                    },
                    row.cost_micros,
                    ri,
                    rc,
                    ro,
                    date,
                    row.ttft_ms.map(|v| v as i64),
                    row.duration_ms.map(|v| v as i64),
                    row.status.as_str(),
                    row.error_kind,
                    row.conversation_id,
                    row.prompt.as_ref().map(|p| p.0.clone()),
                    row.prompt.as_ref().map(|p| p.1.clone()),
                    row.tags.join(","),
                    row.cost_source.map(|s| s.label()),
                    u.input_audio as i64,
                    u.output_audio as i64,
                ],
            )?;
            // In the same transaction: a row is never in the ledger without its place in the queue.
            if outbox {
                tx.execute("INSERT OR IGNORE INTO outbox (id) VALUES (?1)", [&row.id])?;
            }
            Ok(())
        })
    }

    /// Total cost (micro-dollars) and request count since `since` (inclusive).
    pub fn spend_since(&self, since: DateTime<Utc>) -> Result<(i64, i64), LedgerError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(cost_micros), 0), COUNT(*) FROM requests WHERE ts >= ?1",
                [since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|source| LedgerError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction.
    pub fn write(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<()>,
    ) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let err = |source| LedgerError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        f(&tx).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Every row `sql` selects with `params`, mapped by `map`.
    pub fn rows<T>(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        map: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, LedgerError> {
        self.query(|conn| conn.prepare_cached(sql)?.query_map(params, map)?.collect())
    }

    /// Runs a read, naming the ledger in any error.
    pub fn query<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, LedgerError> {
        f(&self.conn).map_err(|source| LedgerError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }
}
