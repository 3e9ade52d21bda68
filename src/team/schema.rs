//! The team database's schema, created and migrated by llmdeck: versioned,
//! under an advisory lock (two machines may start at once), and a database
//! newer than this llmdeck is refused with a clear message.

use tokio_postgres::Client;

/// Each entry moves the schema one version up.
pub const MIGRATIONS: [&str; 3] = [
    r#"
CREATE TABLE llmdeck_requests (
    id                UUID PRIMARY KEY,
    member            TEXT NOT NULL,
    ts                TIMESTAMPTZ NOT NULL,
    day               DATE NOT NULL,
    source            TEXT NOT NULL,
    profile           TEXT NOT NULL,
    host              TEXT NOT NULL,
    api               TEXT NOT NULL,
    model             TEXT NOT NULL,
    service_tier      TEXT,
    prompt            TEXT NOT NULL DEFAULT '',
    tags              TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    input_tokens      BIGINT NOT NULL,
    cached_tokens     BIGINT NOT NULL,
    output_tokens     BIGINT NOT NULL,
    reasoning_tokens  BIGINT NOT NULL,
    cost_micros       BIGINT,
    ttft_ms           BIGINT,
    duration_ms       BIGINT,
    conversation_id   TEXT
);
CREATE INDEX llmdeck_requests_member_day ON llmdeck_requests (member, day);
-- What the team views read: one row per day and group, kept by a statement trigger.
CREATE TABLE llmdeck_daily (
    day           DATE NOT NULL,
    member        TEXT NOT NULL,
    model         TEXT NOT NULL,
    profile       TEXT NOT NULL,
    prompt        TEXT NOT NULL,
    tags          TEXT NOT NULL,
    status        TEXT NOT NULL,
    requests      BIGINT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    cost_micros   BIGINT NOT NULL,
    unpriced      BIGINT NOT NULL,
    PRIMARY KEY (day, member, model, profile, prompt, tags, status)
);
CREATE INDEX llmdeck_daily_model ON llmdeck_daily (model, day);
-- Only rows actually inserted reach the transition table, so a repeated push adds nothing.
CREATE FUNCTION llmdeck_rollup() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO llmdeck_daily AS d
    SELECT day, member, model, profile, prompt, tags, status, COUNT(*),
           SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(reasoning_tokens),
           COALESCE(SUM(cost_micros), 0), COUNT(*) FILTER (WHERE cost_micros IS NULL)
    FROM new_rows GROUP BY day, member, model, profile, prompt, tags, status
    ON CONFLICT (day, member, model, profile, prompt, tags, status) DO UPDATE SET
        requests = d.requests + EXCLUDED.requests,
        input_tokens = d.input_tokens + EXCLUDED.input_tokens,
        cached_tokens = d.cached_tokens + EXCLUDED.cached_tokens,
        output_tokens = d.output_tokens + EXCLUDED.output_tokens,
        reasoning_tokens = d.reasoning_tokens + EXCLUDED.reasoning_tokens,
        cost_micros = d.cost_micros + EXCLUDED.cost_micros,
        unpriced = d.unpriced + EXCLUDED.unpriced;
    RETURN NULL;
END $$;
CREATE TRIGGER llmdeck_rollup AFTER INSERT ON llmdeck_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION llmdeck_rollup();
"#,
    ROLLUP_PINNED,
    SANE_ROWS,
];

/// Version 2. The rollup runs with its owner's rights in a member's session, so
/// nothing in it may resolve to an object the member chose: with `pg_temp` left
/// out of `search_path` it is searched first, and a member's temporary table
/// named `llmdeck_daily` (with a trigger of theirs) received the rows, and the
/// trigger ran as the owner. Every name is now qualified and `pg_temp` is last.
const ROLLUP_PINNED: &str = r#"
CREATE OR REPLACE FUNCTION public.llmdeck_rollup() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO public.llmdeck_daily AS d
    SELECT n.day, n.member, n.model, n.profile, n.prompt, n.tags, n.status,
           pg_catalog.count(*), pg_catalog.sum(n.input_tokens), pg_catalog.sum(n.cached_tokens),
           pg_catalog.sum(n.output_tokens), pg_catalog.sum(n.reasoning_tokens),
           COALESCE(pg_catalog.sum(n.cost_micros), 0),
           pg_catalog.count(*) FILTER (WHERE n.cost_micros IS NULL)
    FROM new_rows n
    GROUP BY n.day, n.member, n.model, n.profile, n.prompt, n.tags, n.status
    ON CONFLICT (day, member, model, profile, prompt, tags, status) DO UPDATE SET
        requests = d.requests OPERATOR(pg_catalog.+) EXCLUDED.requests,
        input_tokens = d.input_tokens OPERATOR(pg_catalog.+) EXCLUDED.input_tokens,
        cached_tokens = d.cached_tokens OPERATOR(pg_catalog.+) EXCLUDED.cached_tokens,
        output_tokens = d.output_tokens OPERATOR(pg_catalog.+) EXCLUDED.output_tokens,
        reasoning_tokens = d.reasoning_tokens OPERATOR(pg_catalog.+) EXCLUDED.reasoning_tokens,
        cost_micros = d.cost_micros OPERATOR(pg_catalog.+) EXCLUDED.cost_micros,
        unpriced = d.unpriced OPERATOR(pg_catalog.+) EXCLUDED.unpriced;
    RETURN NULL;
END $$;
"#;

/// Version 3. A member may insert only their own rows, but any figures in
/// them: a negative cost hid spend from the team's budget, and rows near
/// i64::MAX made every team view fail with "bigint out of range". Each figure
/// is held to what one request can be (llmdeck holds its own to the same
/// caps); rows from before are not checked (`NOT VALID`), new ones are.
const SANE_ROWS: &str = r#"
ALTER TABLE public.llmdeck_requests ADD CONSTRAINT llmdeck_requests_sane CHECK (
    (cost_micros IS NULL OR cost_micros BETWEEN 0 AND 1000000000000)
    AND input_tokens BETWEEN 0 AND 1000000000
    AND cached_tokens BETWEEN 0 AND 1000000000
    AND output_tokens BETWEEN 0 AND 1000000000
    AND reasoning_tokens BETWEEN 0 AND 1000000000
    AND (ttft_ms IS NULL OR ttft_ms >= 0)
    AND (duration_ms IS NULL OR duration_ms >= 0)
) NOT VALID;
"#;

pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings the schema up to this llmdeck's version, or says why it cannot.
pub async fn migrate(client: &mut Client) -> Result<(), String> {
    let found = version(client).await?;
    if found > VERSION {
        return Err(format!(
            "the team database's schema is version {found}, newer than this llmdeck knows ({VERSION}): upgrade llmdeck"
        ));
    }
    if found == VERSION {
        return Ok(());
    }
    let err = |e: tokio_postgres::Error| {
        format!(
            "cannot create or migrate the team schema to version {VERSION} ({}); run `llmdeck team push` once as the admin role (see README)",
            super::describe(&e)
        )
    };
    let tx = client.transaction().await.map_err(err)?;
    tx.execute("SELECT pg_advisory_xact_lock(7412083)", &[])
        .await
        .map_err(err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS llmdeck_schema (version INT NOT NULL)")
        .await
        .map_err(err)?;
    // Another machine may have migrated while we waited for the lock.
    let current: i32 = tx
        .query_opt("SELECT version FROM llmdeck_schema", &[])
        .await
        .map_err(err)?
        .map(|r| r.get(0))
        .unwrap_or(0);
    for sql in MIGRATIONS.iter().skip(current as usize) {
        tx.batch_execute(sql).await.map_err(err)?;
    }
    tx.execute("DELETE FROM llmdeck_schema", &[])
        .await
        .map_err(err)?;
    tx.execute("INSERT INTO llmdeck_schema VALUES ($1)", &[&VERSION])
        .await
        .map_err(err)?;
    tx.commit().await.map_err(err)
}

async fn version(client: &Client) -> Result<i32, String> {
    let exists: bool = client
        .query_one("SELECT to_regclass('llmdeck_schema') IS NOT NULL", &[])
        .await
        .map_err(|e| super::describe(&e))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_opt("SELECT version FROM llmdeck_schema", &[])
        .await
        .map_err(|e| super::describe(&e))?
        .map(|r| r.get(0))
        .unwrap_or(0))
}
