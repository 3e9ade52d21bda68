//! The team database against a real PostgreSQL (an unprivileged cluster in a
//! temp dir, started by the harness): rows from two members arrive, a server
//! that goes away only queues rows, kill -9 mid-push loses and doubles nothing,
//! bad credentials and hosts are clear, and the README's roles hold.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::postgres::Pg;
use support::team::{home, run, text};

/// The README's two SQL blocks of the Roles section, as written.
fn readme_roles() -> (String, String) {
    let readme = include_str!("../README.md");
    let at = readme.find("### Roles").unwrap();
    let mut blocks = readme[at..]
        .split("```sql\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string());
    (blocks.next().unwrap(), blocks.next().unwrap())
}

/// A cluster with the README's roles and llmdeck's schema.
fn team_db() -> Option<Pg> {
    let pg = Pg::start()?;
    let (as_superuser, as_admin) = readme_roles();
    pg.sql(&as_superuser);
    let admin = home("llmdeck_admin");
    let out = run(
        admin.path(),
        &pg.url("llmdeck_admin", "change-me"),
        &["team", "push"],
    );
    assert!(
        out.status.success(),
        "the admin creates the schema: {}",
        text(&out)
    );
    pg.sql_as("llmdeck_admin", "change-me", &as_admin).unwrap();
    Some(pg)
}

fn count(pg: &Pg, sql: &str) -> i64 {
    pg.sql(sql)[0].parse().unwrap()
}

#[test]
fn rows_from_two_members_arrive_and_members_see_only_aggregates() {
    let Some(pg) = team_db() else { return };
    let (ada, bob) = (home("ada"), home("bob"));
    let ada_url = pg.url("ada", "change-me-too");
    for _ in 0..2 {
        let out = run(ada.path(), &ada_url, &["--demo", "chat", "hello"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains("team: offline"), "{}", text(&out));
    }
    let out = run(
        bob.path(),
        &pg.url("bob", "change-me-three"),
        &["--demo", "chat", "--model", "gpt-4o", "hi"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        pg.sql(
            "SELECT member || ':' || COUNT(*) FROM llmdeck_requests GROUP BY member ORDER BY member"
        ),
        ["ada:2", "bob:1"]
    );
    // The rollup agrees with the rows.
    assert_eq!(count(&pg, "SELECT SUM(requests) FROM llmdeck_daily"), 3);
    // A member reads the team's aggregates...
    let out = run(
        ada.path(),
        &ada_url,
        &["usage", "--team", "--by", "member", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{rows}");
    assert!(keys.contains(&"ada") && keys.contains(&"bob"));
    let out = run(
        bob.path(),
        &pg.url("bob", "change-me-three"),
        &["usage", "--team", "--by", "model", "--csv"],
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.contains("gpt-4o,1,") && csv.contains("gpt-4o-mini,2,"),
        "{csv}"
    );
    // Tool runs and cost sources stay on each machine: asked by them, the team
    // view says so and where to look instead.
    for by in ["tool", "cost-source"] {
        let out = run(
            bob.path(),
            &pg.url("bob", "change-me-three"),
            &["usage", "--team", "--by", by, "--json"],
        );
        assert!(!out.status.success(), "{}", text(&out));
        assert!(
            text(&out).contains("the team database does not keep the")
                && text(&out).contains("on your own ledger"),
            "{}",
            text(&out)
        );
    }
    // ...but not anyone's rows, and cannot write under another name.
    let err = pg
        .sql_as(
            "ada",
            "change-me-too",
            "SELECT COUNT(*) FROM llmdeck_requests",
        )
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    let err = pg
        .sql_as(
            "ada",
            "change-me-too",
            "INSERT INTO llmdeck_requests (id, member, ts, day, source, profile, host, api, model, status,
             input_tokens, cached_tokens, output_tokens, reasoning_tokens)
             VALUES (gen_random_uuid(), 'bob', now(), current_date, 'x', 'x', 'x', 'x', 'x', 'ok', 0, 0, 0, 0)",
        )
        .unwrap_err();
    assert!(err.contains("row-level security"), "{err}");
}

#[test]
fn a_stopped_server_queues_rows_and_a_restarted_one_drains_them_once() {
    let Some(pg) = team_db() else { return };
    let ada = home("ada");
    let url = pg.url("ada", "change-me-too");
    pg.stop_server();
    for i in 1..=3 {
        let out = run(ada.path(), &url, &["--demo", "chat", "hello"]);
        assert!(
            out.status.success(),
            "the answer does not depend on the team database: {}",
            text(&out)
        );
        assert!(
            text(&out).contains(&format!("team: offline, {i} queued")),
            "{}",
            text(&out)
        );
    }
    let out = run(ada.path(), &url, &["team", "status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 queued"),
        "{}",
        text(&out)
    );
    pg.start_server();
    let out = run(ada.path(), &url, &["team", "push"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pushed 3 rows"),
        "{}",
        text(&out)
    );
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM llmdeck_requests"), 3);
    // Pushing again, and the rows a repeat would re-send, add nothing.
    let local = rusqlite::Connection::open(ada.path().join("data/ledger.sqlite3")).unwrap();
    local
        .execute("INSERT INTO outbox (id) SELECT id FROM requests", [])
        .unwrap();
    let out = run(ada.path(), &url, &["team", "push"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM llmdeck_requests"), 3);
    assert_eq!(
        count(&pg, "SELECT SUM(requests) FROM llmdeck_daily"),
        3,
        "the rollup did not double count"
    );
}

#[test]
fn kill_9_during_a_push_loses_and_doubles_nothing() {
    let Some(pg) = team_db() else { return };
    let ada = home("ada");
    let url = pg.url("ada", "change-me-too");
    // A backlog of 60,000 rows queued while offline.
    {
        let mut ledger = llmdeck::usage::Ledger::open(&ada.path().join("data/ledger.sqlite3"))
            .unwrap()
            .with_outbox(true);
        let row = llmdeck::usage::LedgerRow {
            id: String::new(),
            ts: chrono::Utc::now(),
            source: "test".into(),
            profile: "p".into(),
            host: "h".into(),
            api: "chat".into(),
            model_requested: "gpt-4o-mini".into(),
            model_reported: None,
            service_tier: None,
            usage: Default::default(),
            cost_micros: Some(10),
            cost_source: None,
            rates: None,
            ttft_ms: None,
            duration_ms: None,
            status: llmdeck::usage::ledger::Status::Ok,
            error_kind: None,
            conversation_id: None,
            prompt: None,
            tags: vec![],
        };
        ledger.write(|_| Ok(())).unwrap();
        for _ in 0..60_000 {
            let mut r = row.clone();
            r.id = uuid::Uuid::now_v7().to_string();
            ledger.insert(&r).unwrap();
        }
    }
    // Each batch made to take a second on the server, so the kill comes
    // between batches however fast or loaded the machine is (a whole push
    // used to take about half a second, and was caught mid-way by luck).
    pg.sql(
        "CREATE FUNCTION slow_batch() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$; \
         CREATE TRIGGER slow_batch AFTER INSERT ON llmdeck_requests \
         FOR EACH STATEMENT EXECUTE FUNCTION slow_batch();",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", ada.path())
        .env("LLMDECK_TEAM_DATABASE_URL", &url)
        .args(["team", "push"])
        .spawn()
        .unwrap();
    // Kill it once the first batch has landed: the next takes a second more.
    let start = Instant::now();
    while count(&pg, "SELECT COUNT(*) FROM llmdeck_requests") == 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "no batch landed");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let landed = count(&pg, "SELECT COUNT(*) FROM llmdeck_requests");
    assert!(
        landed > 0 && landed < 60_000,
        "the kill came mid-push ({landed} rows had landed)"
    );
    pg.sql("DROP TRIGGER slow_batch ON llmdeck_requests");
    let out = run(ada.path(), &url, &["team", "push"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        count(&pg, "SELECT COUNT(*) FROM llmdeck_requests"),
        60_000,
        "no row lost or doubled"
    );
    assert_eq!(
        count(&pg, "SELECT SUM(requests) FROM llmdeck_daily"),
        60_000
    );
    let local = rusqlite::Connection::open(ada.path().join("data/ledger.sqlite3")).unwrap();
    let left: i64 = local
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn wrong_passwords_unreachable_hosts_and_newer_schemas_are_clear() {
    let Some(pg) = team_db() else { return };
    let ada = home("ada");
    let secret = "hunter2-not-this-one";
    let out = run(
        ada.path(),
        &pg.url("ada", secret),
        &["--demo", "chat", "hello"],
    );
    assert!(
        out.status.success(),
        "the console's work goes on: {}",
        text(&out)
    );
    let all = text(&out);
    assert!(all.contains("password authentication failed"), "{all}");
    assert!(all.contains("team: offline, 1 queued"), "{all}");
    assert!(!all.contains(secret), "the password never shows: {all}");
    let out = run(
        ada.path(),
        "postgres://ada:sekrit-pw@127.0.0.1:1/db?sslmode=disable",
        &["team", "push"],
    );
    assert!(!out.status.success());
    let all = text(&out);
    assert!(
        all.contains("127.0.0.1:1/db") && all.contains("offline, 1 queued"),
        "{all}"
    );
    assert!(!all.contains("sekrit-pw"), "{all}");
    let out = run(ada.path(), "not a url at all", &["team", "push"]);
    assert!(
        text(&out).contains("not a PostgreSQL URL"),
        "{}",
        text(&out)
    );
    // The help never shows the URL (the variable's name only).
    let help = run(ada.path(), &pg.url("ada", secret), &["--help"]);
    assert!(!text(&help).contains(secret));
    // A schema newer than this llmdeck is refused, and rows stay queued.
    pg.sql("UPDATE llmdeck_schema SET version = 99");
    let out = run(
        ada.path(),
        &pg.url("ada", "change-me-too"),
        &["team", "push"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("schema is version 99, newer than this llmdeck knows"),
        "{}",
        text(&out)
    );
}

#[test]
fn tls_is_used_when_the_url_requires_it() {
    let Some(pg) = team_db() else { return };
    if pg.enable_tls().is_none() {
        support::skip("openssl is not installed (.ci/run installs it)");
        return;
    }
    let ada = home("ada");
    let url = pg
        .url("ada", "change-me-too")
        .replace("sslmode=disable", "sslmode=require");
    let out = run(ada.path(), &url, &["--demo", "chat", "hello"]);
    assert!(
        out.status.success() && !text(&out).contains("team: offline"),
        "{}",
        text(&out)
    );
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM llmdeck_requests"), 1);
    // The server logged ada's connection as encrypted.
    let log = std::fs::read_to_string(pg.path().join("log")).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.contains("user=ada") && l.contains("SSL enabled")),
        "{log}"
    );
    assert!(
        !log.contains("change-me-too"),
        "the password is not in the server's log either"
    );
}

#[test]
fn the_console_queues_while_offline_drains_when_back_and_shows_the_team_view() {
    let Some(pg) = team_db() else { return };
    let ada = home("ada");
    let url = pg.url("ada", "change-me-too");
    pg.stop_server();
    let Some(t) = support::tmux::Tmux::start(
        ada.path(),
        &[("LLMDECK_TEAM_DATABASE_URL", &url)],
        &["--demo"],
    ) else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("hello");
    t.keys(&["Enter"]);
    let screen = t.wait_for("team: offline, 1 queued");
    assert!(
        screen.contains("team: offline, 1 queued │ unverified: no TLS"),
        "sslmode=disable is shown: {screen}"
    );
    assert!(
        screen.contains("· stop"),
        "the answer came all the same: {screen}"
    );
    pg.start_server();
    t.type_text("again");
    t.keys(&["Enter"]);
    t.wait_for(" today");
    let start = Instant::now();
    while count(&pg, "SELECT COUNT(*) FROM llmdeck_requests") < 2
        && start.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        count(&pg, "SELECT COUNT(*) FROM llmdeck_requests"),
        2,
        "both answers arrived, once"
    );
    // Another member's spend shows in the team view of the Spend pane.
    let bob = home("bob");
    let out = run(
        bob.path(),
        &pg.url("bob", "change-me-three"),
        &["--demo", "chat", "--model", "gpt-4o", "hi"],
    );
    assert!(out.status.success(), "{}", text(&out));
    t.keys(&["M-2"]);
    t.wait_for("me · by model");
    t.keys(&["t"]);
    t.wait_for("team · by model");
    t.keys(&["Tab", "Tab", "Tab", "Tab", "Tab"]);
    t.wait_for("team · by member");
    // Both members' rows, in one capture (see `wait_for_all`).
    t.wait_for_all(&["bob  ", "ada  "]);
}

/// A row of `member`'s own, as inserted in their SQL session.
fn own_row(member: &str) -> String {
    format!(
        "INSERT INTO public.llmdeck_requests (id, member, ts, day, source, profile, host, api,
             model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens)
         VALUES (gen_random_uuid(), '{member}', now(), current_date, 'sql', 'p', 'h', 'chat',
                 'm', 'ok', 1, 0, 1, 0);"
    )
}

/// The id of the row the attack forges under bob's name.
const FORGED: &str = "00000000-0000-0000-0000-00000000b0b0";

/// ada, in her own session: a temporary `llmdeck_daily` whose trigger (run with
/// the rights of whoever writes to it) grants her everyone's rows and writes a
/// row as bob, then a row of her own so that the rollup trigger writes to it.
fn shadow_the_rollup(pg: &Pg) -> Result<Vec<String>, String> {
    let sql = format!(
        "CREATE TEMP TABLE llmdeck_daily (LIKE public.llmdeck_daily INCLUDING ALL);
         GRANT ALL ON pg_temp.llmdeck_daily TO PUBLIC;
         CREATE FUNCTION pg_temp.steal() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN
             IF NEW.member <> 'ada' THEN RETURN NULL; END IF;
             GRANT SELECT ON public.llmdeck_requests TO ada;
             CREATE POLICY steal ON public.llmdeck_requests FOR SELECT TO ada USING (true);
             INSERT INTO public.llmdeck_requests (id, member, ts, day, source, profile, host, api,
                 model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens)
             VALUES ('{FORGED}', 'bob', now(), current_date, 'forged', 'p', 'h', 'chat', 'm',
                     'ok', 1000000, 0, 0, 0)
             ON CONFLICT DO NOTHING;
             RETURN NULL;
         END $f$;
         CREATE TRIGGER steal AFTER INSERT ON pg_temp.llmdeck_daily
             FOR EACH ROW EXECUTE FUNCTION pg_temp.steal();
         {}",
        own_row("ada")
    );
    pg.sql_as("ada", "change-me-too", &sql)
}

/// ada reads no one's rows, nothing was written as bob, and her row was counted.
fn assert_the_team_is_intact(pg: &Pg, ada_rows: i64) {
    let err = pg
        .sql_as(
            "ada",
            "change-me-too",
            "SELECT COUNT(*) FROM public.llmdeck_requests",
        )
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    assert_eq!(
        count(
            pg,
            &format!("SELECT COUNT(*) FROM llmdeck_requests WHERE id = '{FORGED}'")
        ),
        0,
        "no row forged under bob's name"
    );
    assert_eq!(
        count(
            pg,
            "SELECT COALESCE(SUM(requests), 0) FROM llmdeck_daily WHERE member = 'ada'"
        ),
        ada_rows,
        "ada's spend is counted in the team's rollup"
    );
}

#[test]
fn a_member_cannot_turn_the_rollup_trigger_against_the_team() {
    let Some(pg) = team_db() else { return };
    pg.sql_as("bob", "change-me-three", &own_row("bob"))
        .unwrap();
    // With the README's roles a member has no temporary tables...
    let err = shadow_the_rollup(&pg).unwrap_err();
    assert!(
        err.contains("permission denied to create temporary"),
        "{err}"
    );
    // ...and cannot put a function, an operator or a schema where the trigger looks.
    for sql in [
        "CREATE FUNCTION public.sum(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 0::int8'",
        "CREATE OPERATOR public.+ (FUNCTION = int8mi, LEFTARG = int8, RIGHTARG = int8)",
        "CREATE TABLE public.llmdeck_x (a int)",
        "CREATE SCHEMA llmdeck_admin",
    ] {
        let err = pg.sql_as("ada", "change-me-too", sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    pg.sql_as("ada", "change-me-too", &own_row("ada")).unwrap();
    assert_the_team_is_intact(&pg, 1);
    // A database whose members kept TEMP (set up before the README revoked it):
    // the trigger itself ignores the member's table.
    pg.sql("GRANT TEMPORARY ON DATABASE postgres TO ada");
    shadow_the_rollup(&pg).unwrap();
    assert_the_team_is_intact(&pg, 2);
}

#[test]
fn a_version_1_database_is_migrated_and_the_attack_fails_after() {
    let Some(pg) = Pg::start() else { return };
    let (as_superuser, as_admin) = readme_roles();
    pg.sql(&as_superuser);
    // Set up as llmdeck's first schema and the earlier README had it: members keep TEMP.
    pg.sql("GRANT TEMPORARY ON DATABASE postgres TO PUBLIC");
    pg.sql_as(
        "llmdeck_admin",
        "change-me",
        &format!(
            "CREATE TABLE llmdeck_schema (version INT NOT NULL);
             INSERT INTO llmdeck_schema VALUES (1);
             {}",
            llmdeck::team::schema::MIGRATIONS[0]
        ),
    )
    .unwrap();
    pg.sql_as("llmdeck_admin", "change-me", &as_admin).unwrap();
    pg.sql_as("bob", "change-me-three", &own_row("bob"))
        .unwrap();
    // On version 1 the attack works: that is what this test is about.
    shadow_the_rollup(&pg).unwrap();
    assert_eq!(
        pg.sql_as(
            "ada",
            "change-me-too",
            "SELECT COUNT(*) FROM llmdeck_requests"
        ),
        Ok(vec!["3".to_string()]),
        "on version 1 ada granted herself everyone's rows, bob's and the forged one included"
    );
    assert_eq!(
        count(
            &pg,
            "SELECT COALESCE(SUM(requests), 0) FROM llmdeck_daily WHERE member = 'ada'"
        ),
        0
    );
    pg.sql(&format!(
        "REVOKE SELECT ON llmdeck_requests FROM ada; DROP POLICY steal ON llmdeck_requests;
         DELETE FROM llmdeck_requests WHERE id = '{FORGED}'"
    ));
    // A member cannot migrate; their rows wait, with a message saying who can.
    let ada = home("ada");
    let out = run(
        ada.path(),
        &pg.url("ada", "change-me-too"),
        &["--demo", "chat", "hello"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("team: offline, 1 queued") && text(&out).contains("as the admin role"),
        "{}",
        text(&out)
    );
    let admin = home("llmdeck_admin");
    let out = run(
        admin.path(),
        &pg.url("llmdeck_admin", "change-me"),
        &["team", "push"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        pg.sql("SELECT version FROM llmdeck_schema"),
        [llmdeck::team::schema::VERSION.to_string()]
    );
    shadow_the_rollup(&pg).unwrap();
    assert_the_team_is_intact(&pg, 1);
    // And ada's queued row now arrives, counted.
    let out = run(
        ada.path(),
        &pg.url("ada", "change-me-too"),
        &["team", "push"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_the_team_is_intact(&pg, 2);
}

/// A member's own rows with figures that lie: a negative cost (spend hidden
/// from the team's budget) or one near i64::MAX (every team view failing with
/// "bigint out of range") are refused by the database; sane ones still go in.
#[test]
fn a_member_cannot_insert_figures_that_lie() {
    let Some(pg) = team_db() else { return };
    let row = |cost: &str, tokens: &str| {
        format!(
            "INSERT INTO public.llmdeck_requests (id, member, ts, day, source, profile, host, api,
                 model, status, input_tokens, cached_tokens, output_tokens, reasoning_tokens, cost_micros)
             VALUES (gen_random_uuid(), 'ada', now(), current_date, 'sql', 'p', 'h', 'chat',
                     'm', 'ok', {tokens}, 0, 1, 0, {cost});"
        )
    };
    for (cost, tokens) in [
        ("-1000000000000", "1"),
        ("5000000000000000000", "1"),
        ("10", "9000000000000000000"),
        ("10", "-5"),
    ] {
        let refused = pg.sql_as("ada", "change-me-too", &row(cost, tokens));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("llmdeck_requests_sane")),
            "cost {cost}, tokens {tokens}: {refused:?}"
        );
    }
    pg.sql_as("ada", "change-me-too", &row("1000000", "100"))
        .unwrap();
    assert_eq!(
        count(
            &pg,
            "SELECT SUM(cost_micros) FROM llmdeck_daily WHERE member = 'ada'"
        ),
        1_000_000
    );
}

/// A team database that takes the login and then answers nothing (here a
/// long lock someone holds on the rollup; a machine in the middle does the
/// same): `usage --team` gives up with a message instead of hanging.
#[test]
fn a_team_database_that_goes_silent_after_login_is_given_up_on() {
    let Some(pg) = team_db() else { return };
    let url = pg.url("admin", "adminpw");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute("BEGIN; LOCK TABLE llmdeck_daily IN ACCESS EXCLUSIVE MODE;")
                .await
                .unwrap();
            locked_tx.send(()).unwrap();
            tokio::time::sleep(Duration::from_secs(40)).await;
        })
    });
    locked_rx.recv().unwrap();
    let ada = home("ada");
    let start = Instant::now();
    let out = run(
        ada.path(),
        &pg.url("ada", "change-me-too"),
        &["usage", "--team", "--by", "member"],
    );
    let took = start.elapsed();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("did not answer within 15 s"),
        "{}",
        text(&out)
    );
    assert!(took < Duration::from_secs(35), "gave up after {took:?}");
    drop(holder);
}
