//! The ledger's schema, as numbered migrations. Never edit one that shipped:
//! add the next. `PRAGMA user_version` records how many have run.

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub const MIGRATIONS: [&str; 7] = [
    // 1: one row per request.
    r#"
CREATE TABLE requests (
    id                 TEXT PRIMARY KEY,
    ts                 TEXT NOT NULL,
    day                TEXT NOT NULL,
    source             TEXT NOT NULL,
    profile            TEXT NOT NULL,
    host               TEXT NOT NULL,
    api                TEXT NOT NULL,
    model_requested    TEXT NOT NULL,
    model_reported     TEXT,
    service_tier       TEXT,
    input_tokens       INTEGER NOT NULL,
    cached_tokens      INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    reasoning_tokens   INTEGER NOT NULL,
    usage_source       TEXT NOT NULL,
    cost_micros        INTEGER,
    rate_input_nanos   INTEGER,
    rate_cached_nanos  INTEGER,
    rate_output_nanos  INTEGER,
    price_date         TEXT,
    ttft_ms            INTEGER,
    duration_ms        INTEGER,
    status             TEXT NOT NULL,
    error_kind         TEXT,
    conversation_id    TEXT,
    prompt_name        TEXT,
    prompt_version     TEXT,
    tags               TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requests_day ON requests(day);
CREATE INDEX requests_model_day ON requests(model_requested, day);
"#,
    // 2: a daily rollup kept by a trigger, so the Spend pane and `usage` read a few
    // thousand rows instead of millions; an index for "most recent"; the
    // organization's own Usage and Costs API buckets.
    r#"
CREATE TABLE daily (
    day          TEXT NOT NULL,
    model        TEXT NOT NULL,
    profile      TEXT NOT NULL,
    host         TEXT NOT NULL,
    prompt       TEXT NOT NULL,
    tags         TEXT NOT NULL,
    status       TEXT NOT NULL,
    requests     INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost_micros  INTEGER NOT NULL,
    unpriced     INTEGER NOT NULL,
    PRIMARY KEY (day, model, profile, host, prompt, tags, status)
) WITHOUT ROWID;
INSERT INTO daily
    SELECT day, model_requested, profile, host,
           COALESCE(prompt_name || '@' || prompt_version, ''), tags, status,
           COUNT(*), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(reasoning_tokens),
           COALESCE(SUM(cost_micros), 0), SUM(cost_micros IS NULL)
    FROM requests
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
CREATE TRIGGER requests_daily AFTER INSERT ON requests BEGIN
    INSERT INTO daily VALUES (
        NEW.day, NEW.model_requested, NEW.profile, NEW.host,
        COALESCE(NEW.prompt_name || '@' || NEW.prompt_version, ''), NEW.tags, NEW.status,
        1, NEW.input_tokens, NEW.cached_tokens, NEW.output_tokens, NEW.reasoning_tokens,
        COALESCE(NEW.cost_micros, 0), NEW.cost_micros IS NULL)
    ON CONFLICT DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        cached_tokens = cached_tokens + excluded.cached_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        cost_micros = cost_micros + excluded.cost_micros,
        unpriced = unpriced + excluded.unpriced;
END;
CREATE INDEX requests_ts ON requests(ts);
CREATE TABLE org_usage (
    day           TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    requests      INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    PRIMARY KEY (day, project_id, model)
) WITHOUT ROWID;
CREATE TABLE org_costs (
    day          TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    line_item    TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    PRIMARY KEY (day, project_id, line_item)
) WITHOUT ROWID;
"#,
    // v3: rows waiting to reach the team database (when one is configured).
    r#"
CREATE TABLE outbox (id TEXT PRIMARY KEY REFERENCES requests(id)) WITHOUT ROWID;
"#,
    // v4: where each cost came from: server, catalog, override, estimated or local
    // (NULL: unpriced, or recorded before v4).
    r#"
ALTER TABLE requests ADD COLUMN cost_source TEXT;
"#,
    // v5: an answer that ran tools took several model calls: each is numbered and
    // linked to the answer (the id of its first request); the tool runs between
    // them, with their duration, outcome and cost (hosted tools' fees).
    r#"
CREATE TABLE steps (
    request_id TEXT PRIMARY KEY REFERENCES requests(id),
    answer_id  TEXT NOT NULL,
    step       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX steps_answer ON steps(answer_id);
CREATE TABLE tool_runs (
    id          TEXT PRIMARY KEY,
    ts          TEXT NOT NULL,
    answer_id   TEXT NOT NULL,
    step        INTEGER NOT NULL,
    server      TEXT,
    tool        TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    cost_micros INTEGER
) WITHOUT ROWID;
CREATE INDEX tool_runs_answer ON tool_runs(answer_id);
"#,
    // v6: the audio tokens among the input and output (priced at audio rates).
    r#"
ALTER TABLE requests ADD COLUMN audio_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN audio_output_tokens INTEGER NOT NULL DEFAULT 0;
"#,
    // v7: the daily rollup also keeps where each cost came from (`cost_from`: server,
    // catalog, override, estimated, local; unpriced; unknown for rows priced before
    // v4), so spend can be grouped by it. A row repriced later (`pricing reprice`)
    // moves between groups by a trigger, so every writer keeps the totals right.
    r#"
DROP TRIGGER requests_daily;
DROP TABLE daily;
CREATE TABLE daily (
    day          TEXT NOT NULL,
    model        TEXT NOT NULL,
    profile      TEXT NOT NULL,
    host         TEXT NOT NULL,
    prompt       TEXT NOT NULL,
    tags         TEXT NOT NULL,
    status       TEXT NOT NULL,
    cost_from    TEXT NOT NULL,
    requests     INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost_micros  INTEGER NOT NULL,
    unpriced     INTEGER NOT NULL,
    PRIMARY KEY (day, model, profile, host, prompt, tags, status, cost_from)
) WITHOUT ROWID;
CREATE VIEW requests_daily_keyed AS
    SELECT id, day, model_requested, profile, host,
           COALESCE(prompt_name || '@' || prompt_version, '') AS prompt, tags, status,
           CASE WHEN cost_micros IS NULL THEN 'unpriced' ELSE COALESCE(cost_source, 'unknown') END AS cost_from,
           input_tokens, cached_tokens, output_tokens, reasoning_tokens, cost_micros
    FROM requests;
INSERT INTO daily
    SELECT day, model_requested, profile, host, prompt, tags, status, cost_from,
           COUNT(*), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(reasoning_tokens),
           COALESCE(SUM(cost_micros), 0), SUM(cost_micros IS NULL)
    FROM requests_daily_keyed
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
CREATE TRIGGER requests_daily AFTER INSERT ON requests BEGIN
    INSERT INTO daily
        SELECT day, model_requested, profile, host, prompt, tags, status, cost_from, 1,
               input_tokens, cached_tokens, output_tokens, reasoning_tokens,
               COALESCE(cost_micros, 0), cost_micros IS NULL
        FROM requests_daily_keyed WHERE id = NEW.id
    ON CONFLICT DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        cached_tokens = cached_tokens + excluded.cached_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        cost_micros = cost_micros + excluded.cost_micros,
        unpriced = unpriced + excluded.unpriced;
END;
-- A cost set later takes the row out of its old group, then counts it as if
-- it had just come in (the insert trigger's work, repeated for the new key).
CREATE TRIGGER requests_daily_repriced AFTER UPDATE OF cost_micros, cost_source ON requests BEGIN
    UPDATE daily SET
        requests = requests - 1,
        input_tokens = input_tokens - OLD.input_tokens,
        cached_tokens = cached_tokens - OLD.cached_tokens,
        output_tokens = output_tokens - OLD.output_tokens,
        reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens,
        cost_micros = cost_micros - COALESCE(OLD.cost_micros, 0),
        unpriced = unpriced - (OLD.cost_micros IS NULL)
    WHERE day = OLD.day AND model = OLD.model_requested AND profile = OLD.profile
      AND host = OLD.host AND prompt = COALESCE(OLD.prompt_name || '@' || OLD.prompt_version, '')
      AND tags = OLD.tags AND status = OLD.status
      AND cost_from = CASE WHEN OLD.cost_micros IS NULL THEN 'unpriced'
                           ELSE COALESCE(OLD.cost_source, 'unknown') END;
    DELETE FROM daily WHERE requests = 0 AND day = OLD.day AND model = OLD.model_requested;
    INSERT INTO daily
        SELECT day, model_requested, profile, host, prompt, tags, status, cost_from, 1,
               input_tokens, cached_tokens, output_tokens, reasoning_tokens,
               COALESCE(cost_micros, 0), cost_micros IS NULL
        FROM requests_daily_keyed WHERE id = NEW.id
    ON CONFLICT DO UPDATE SET
        requests = requests + 1,
        input_tokens = input_tokens + excluded.input_tokens,
        cached_tokens = cached_tokens + excluded.cached_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
        cost_micros = cost_micros + excluded.cost_micros,
        unpriced = unpriced + excluded.unpriced;
END;
"#,
];
