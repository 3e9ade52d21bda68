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

/// Spend by tool: each model call under the set of tools it asked for (no
/// call counted twice), calls that asked for none under "(none)", and a
/// group's requests drilled into by the same key.
#[test]
fn spend_groups_by_the_tools_each_model_call_asked_for() {
    use llmdeck::usage::report::{self, Filter, GroupBy};
    use llmdeck::usage::steps::{ToolRunRow, record};
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).unwrap();
    // An answer of three steps: the first called two tools, the second one, the third none;
    // and a plain answer besides.
    let rows: Vec<LedgerRow> = (0..4).map(row).collect();
    for r in &rows {
        ledger.insert(r).unwrap();
    }
    let run = |step: u32, tool: &str| ToolRunRow {
        ts: Utc::now(),
        step,
        server: Some("time".into()),
        tool: tool.into(),
        duration_ms: 3,
        outcome: "ok".into(),
        cost_micros: None,
    };
    let ids: Vec<String> = rows[..3].iter().map(|r| r.id.clone()).collect();
    let runs = [
        run(1, "get_current_time"),
        run(1, "convert_time"),
        run(1, "get_current_time"),
        run(2, "get_current_time"),
    ];
    record(&mut ledger, &ids, &runs).unwrap();
    let today = Utc::now();
    let filter = Filter::days(report::days_back(today, 1), today + chrono::Days::new(1));
    let groups = report::group(&ledger, GroupBy::Tool, &filter).unwrap();
    let mut summary: Vec<(String, i64, i64)> = groups
        .iter()
        // A set's names in order, whatever order the calls came in.
        .map(|r| (r.key.clone(), r.requests, r.cost_micros))
        .collect();
    summary.sort();
    assert_eq!(
        summary,
        [
            ("(none)".to_string(), 2, 10),
            ("convert_time,get_current_time".to_string(), 1, 5),
            ("get_current_time".to_string(), 1, 5),
        ]
    );
    let total: i64 = groups.iter().map(|r| r.requests).sum();
    assert_eq!(total, 4, "every call once");
    let drill = report::requests(&ledger, GroupBy::Tool, "get_current_time", &filter, 10).unwrap();
    assert_eq!(drill.len(), 1);
    assert_eq!(drill[0].id, rows[1].id);
    let none = report::requests(&ledger, GroupBy::Tool, "(none)", &filter, 10).unwrap();
    assert_eq!(none.len(), 2);
}

#[test]
fn the_consoles_writer_keeps_a_small_page_cache_however_long_the_ledger_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    // Rows of some size (a prompt's name and tags), 2,000 of them: ~2 MB of pages.
    let big = |i: usize| LedgerRow {
        prompt: Some((format!("{i:0>300}"), "v1".into())),
        tags: vec![format!("{i:0>200}")],
        ..row(i)
    };
    let mut plain = Ledger::open(&path).unwrap();
    for i in 0..2000 {
        plain.insert(&big(i)).unwrap();
    }
    assert!(
        plain.cache_bytes() > 1 << 20,
        "SQLite's default cache keeps what was written: {} bytes",
        plain.cache_bytes()
    );
    drop(plain);
    let mut writer = Ledger::open(&path).unwrap().appending();
    for i in 2000..4000 {
        writer.insert(&big(i)).unwrap();
    }
    assert!(
        writer.cache_bytes() <= 320 << 10,
        "the writer's cache stays at its 256 KiB: {} bytes",
        writer.cache_bytes()
    );
    // Between the console's writes (a row an exchange) it keeps none of it.
    writer.release_cache();
    assert!(
        writer.cache_bytes() <= 16 << 10,
        "the writer's cache is given back between rows: {} bytes",
        writer.cache_bytes()
    );
    writer.insert(&big(4000)).unwrap();
    assert!(
        writer.cache_bytes() <= 128 << 10,
        "one row reads back only the pages it needs: {} bytes",
        writer.cache_bytes()
    );
    writer.release_cache();
    let (_, count) = writer
        .spend_since(Utc::now() - chrono::Days::new(1))
        .unwrap();
    assert_eq!(count, 4001, "every row is there");
}
