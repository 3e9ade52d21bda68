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
