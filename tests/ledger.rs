//! The SQLite ledger: concurrent writers lose nothing, a newer schema is refused untouched.

use chrono::Utc;
use llmdeck::provider::event::Usage;
use llmdeck::usage::ledger::{Ledger, LedgerRow, Status};

fn row(i: usize) -> LedgerRow {
    LedgerRow {
        id: uuid::Uuid::now_v7().to_string(),
        ts: Utc::now(),
        source: "test".into(),
        profile: format!("writer-{}", i % 2),
        host: "h".into(),
        api: "chat".into(),
        model_requested: "gpt-4o-mini".into(),
        model_reported: None,
        service_tier: None,
        usage: Usage {
            input: 10,
            output: 5,
            ..Usage::default()
        },
        cost_micros: Some(5),
        cost_source: None,
        rates: None,
        ttft_ms: Some(100),
        duration_ms: Some(200),
        status: Status::Ok,
        error_kind: None,
        conversation_id: None,
        prompt: None,
        tags: vec![],
    }
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Separate connections behave as separate processes do.
                let mut ledger = Ledger::open(&path).unwrap();
                for i in 0..200 {
                    ledger.insert(&row(i * 2 + w)).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let ledger = Ledger::open(&path).unwrap();
    let (cost, count) = ledger
        .spend_since(Utc::now() - chrono::Days::new(1))
        .unwrap();
    assert_eq!((count, cost), (400, 2000));
}

#[test]
fn a_ledger_from_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Ledger::open(&path).err().expect("refused").to_string();
    assert!(err.contains("newer llmdeck (schema 99"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_v1_ledger_migrates_and_the_rollup_matches_the_rows() {
    use llmdeck::usage::report::{self, Filter, GroupBy};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    {
        // A ledger as the first release wrote it, with one request in it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(llmdeck::usage::migrations::MIGRATIONS[0])
            .unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO requests (id, ts, day, source, profile, host, api, model_requested, input_tokens,
                cached_tokens, cache_write_tokens, output_tokens, reasoning_tokens, usage_source, cost_micros, status)
             VALUES ('old', '2026-11-01T10:00:00.000Z', '2026-11-01', 'tui', 'p', 'h', 'chat', 'gpt-4o', 100, 0, 0, 50, 0,
                'reported', 750, 'ok');",
        )
        .unwrap();
    }
    let mut ledger = Ledger::open(&path).unwrap();
    for i in 0..5 {
        let mut r = row(i);
        r.ts = chrono::DateTime::parse_from_rfc3339("2026-11-02T12:00:00Z")
            .unwrap()
            .to_utc();
        r.cost_micros = if i == 4 { None } else { Some(10) };
        r.cost_source = match i {
            0 | 1 => Some(llmdeck::usage::cost::CostSource::Catalog),
            2 => Some(llmdeck::usage::cost::CostSource::Server),
            _ => None,
        };
        ledger.insert(&r).unwrap();
    }
    let since = report::parse_date("2026-11-01").unwrap();
    let until = report::parse_date("2026-11-03").unwrap();
    let by_day = report::group(&ledger, GroupBy::Day, &Filter::days(since, until)).unwrap();
    let summary: Vec<_> = by_day
        .iter()
        .map(|r| (r.key.as_str(), r.requests, r.cost_micros, r.unpriced))
        .collect();
    assert_eq!(
        summary,
        [("2026-11-01", 1, 750, 0), ("2026-11-02", 5, 40, 1)]
    );
    let by_profile = report::group(&ledger, GroupBy::Profile, &Filter::days(since, until)).unwrap();
    let raw: i64 = ledger
        .connection()
        .query_row("SELECT SUM(input_tokens) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(by_profile.iter().map(|r| r.input_tokens).sum::<i64>(), raw);
    // Where each cost came from: a row priced before sources were kept is "unknown"
    // (the first release's row, and one written without a source), never a price list.
    let by_source =
        report::group(&ledger, GroupBy::CostSource, &Filter::days(since, until)).unwrap();
    let summary: Vec<_> = by_source
        .iter()
        .map(|r| (r.key.as_str(), r.requests, r.cost_micros, r.unpriced))
        .collect();
    assert_eq!(
        summary,
        [
            ("unknown", 2, 760, 0),
            ("catalog", 2, 20, 0),
            ("server", 1, 10, 0),
            ("unpriced", 1, 0, 1)
        ]
    );
    let drill = report::requests(
        &ledger,
        GroupBy::Day,
        "2026-11-01",
        &Filter::days(since, until),
        10,
    )
    .unwrap();
    assert_eq!(drill.len(), 1);
    assert_eq!(drill[0].id, "old");
}
