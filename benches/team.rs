//! Team database budgets against a real PostgreSQL (started like the tests'):
//! pushing a backlog of 100,000 queued rows, and the team's aggregates by day
//! and by model over 10 members × 100,000 rows, warm. `cargo bench --bench team`.

#[allow(dead_code)] // the tests use more of the harness than the bench
#[path = "../tests/support/postgres.rs"]
mod postgres;

/// What the shared PostgreSQL helper calls when it cannot start: a bench has nothing to skip to.
fn skip(reason: &str) {
    panic!("the team bench needs PostgreSQL: {reason}");
}

use std::time::{Duration, Instant};

use chrono::Utc;
use llmdeck::team::{Team, TeamSettings, push, query, schema};
use llmdeck::usage::report::{Filter, GroupBy, days_back};
use llmdeck::usage::{Ledger, LedgerRow};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let Some(pg) = postgres::Pg::start() else {
        return;
    };
    let settings = TeamSettings {
        database_url_env: "UNUSED".into(),
        member: "m0".into(),
        daily_usd: None,
        monthly_usd: None,
    };
    let team = Team::from_url(&settings, &pg.url("admin", "adminpw")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(&home.path().join("ledger.sqlite3"))
        .unwrap()
        .with_outbox(true);
    let models = [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1",
        "o4-mini",
        "gpt-4.1-nano",
    ];
    let now = Utc::now();
    for i in 0..100_000u32 {
        let row = LedgerRow {
            id: uuid::Uuid::now_v7().to_string(),
            ts: now - chrono::Days::new(u64::from(i % 90)),
            source: "tui".into(),
            profile: "openai".into(),
            host: "api.openai.com".into(),
            api: "responses".into(),
            model_requested: models[i as usize % 5].into(),
            model_reported: None,
            service_tier: None,
            usage: llmdeck::provider::event::Usage {
                input: 900,
                output: 300,
                ..Default::default()
            },
            cost_micros: Some(450),
            cost_source: None,
            rates: None,
            ttft_ms: Some(300),
            duration_ms: Some(2000),
            status: llmdeck::usage::ledger::Status::Ok,
            error_kind: None,
            conversation_id: None,
            prompt: (i % 3 == 0).then(|| ("summarize".to_string(), "0c311fe4".to_string())),
            tags: vec![],
        };
        ledger.insert(&row).unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut client = team.connect().await.unwrap();
        schema::migrate(&mut client).await.unwrap();
        let t = Instant::now();
        let pushed = push::push_all(&client, &mut ledger, "m0").await.unwrap();
        println!(
            "push a backlog of {pushed} queued rows:      {:>8.2} s    (issue 9: 10 s)",
            t.elapsed().as_secs_f64()
        );
        // Nine more members, made on the server from the first one's rows.
        client
            .batch_execute(
                "INSERT INTO llmdeck_requests SELECT gen_random_uuid(), 'm' || k, ts, day, source, profile,
                    host, api, model, service_tier, prompt, tags, status, input_tokens, cached_tokens,
                    output_tokens, reasoning_tokens, cost_micros, ttft_ms, duration_ms, conversation_id
                 FROM llmdeck_requests CROSS JOIN generate_series(1, 9) AS k WHERE member = 'm0';
                 ANALYZE llmdeck_requests; ANALYZE llmdeck_daily;",
            )
            .await
            .unwrap();
        let n: i64 = client.query_one("SELECT COUNT(*) FROM llmdeck_requests", &[]).await.unwrap().get(0);
        let filter = Filter::days(days_back(now, 30), now + chrono::Days::new(1));
        for (label, by) in [("day", GroupBy::Day), ("model", GroupBy::Model), ("member", GroupBy::Member)] {
            query::group(&client, by, &filter).await.unwrap();
            let mut times = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                std::hint::black_box(query::group(&client, by, &filter).await.unwrap());
                times.push(t.elapsed());
            }
            println!(
                "team aggregate by {label:<6} over {n} rows: {:>8.2} ms   (issue 9: 200 ms warm)",
                median(times).as_secs_f64() * 1e3
            );
        }
        let mut times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            std::hint::black_box(query::spend(&client, GroupBy::Model, &filter, now).await.unwrap());
            times.push(t.elapsed());
        }
        println!(
            "team Spend pane (all its figures):      {:>8.2} ms",
            median(times).as_secs_f64() * 1e3
        );
    });
}
