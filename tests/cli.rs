//! The headless commands, run as a script would: exit codes, JSON, the ledger.

mod support;

use std::process::Command;

use support::llmdeck;
use support::mock_server::{Mock, Reply};

#[test]
fn chat_json_reports_text_usage_cost_and_lands_in_the_ledger() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o",
            "--json",
            "--temperature",
            "0.2",
            "Say hi",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], "Hello from the mock.");
    assert_eq!(v["finish_reason"], "stop");
    assert_eq!(v["usage"]["cached_input"], 1000);
    assert_eq!(v["usage"]["reasoning"], 120);
    // gpt-4o: 200 × 2.50 + 1000 × 1.25 + 300 × 10.00 per 1M = $0.00475
    assert_eq!(v["cost_micros"], 4750);
    let body = mock.chat_requests()[0].json();
    assert_eq!(body["temperature"], serde_json::json!(0.2));
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (source, cost, cached): (String, i64, i64) = ledger
        .query_row(
            "SELECT source, cost_micros, cached_tokens FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((source.as_str(), cost, cached), ("cli", 4750, 1000));
}

#[test]
fn chat_streams_plain_text_and_reads_stdin() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o-mini", "--system", "Be brief."],
        Some("from stdin\n"),
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello from the mock.\n"
    );
    let body = mock.chat_requests()[0].json();
    assert_eq!(body["messages"][0]["content"], "Be brief.");
    assert_eq!(body["messages"][1]["content"], "from stdin\n");
}

#[test]
fn a_failure_exits_non_zero_with_one_line() {
    let mock = Mock::start_in_background();
    mock.push(Reply::Status {
        status: 401,
        body: r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}"#.into(),
        headers: vec![],
    });
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o-mini", "hi"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim(), "llmdeck: HTTP 401: Incorrect API key provided.");
    // Errors are recorded too.
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let status: String = ledger
        .query_row("SELECT status FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "error");

    let out = llmdeck(
        home.path(),
        None,
        &["--profile", "missing", "chat", "hi"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no profile named \"missing\""));
}

#[test]
fn models_lists_the_endpoint_and_the_demo() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(home.path(), Some(&mock), &["models", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["models"],
        serde_json::json!(["gpt-4o", "gpt-4o-mini", "o4-mini"])
    );
    let out = llmdeck(home.path(), None, &["models"], None);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == "gpt-4o-mini")
    );
}

#[test]
fn a_broken_config_is_named_and_the_defaults_used() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let config = home.path().join("config/config.toml");
    std::fs::write(
        &config,
        "theme = \"dark\"\n[profiles.x]\nbase_ur = \"typo\"\n",
    )
    .unwrap();
    let out = llmdeck(home.path(), None, &["chat", "--json", "hello"], None);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config.toml:3"), "{err}");
    assert!(err.contains("base_ur"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "theme = \"dark\"\n[profiles.x]\nbase_ur = \"typo\"\n"
    );
}

#[test]
fn hostile_output_is_inert_on_a_terminal_but_raw_when_piped() {
    // Piped output keeps the bytes; the TUI and a terminal get them inert
    // (unit-tested in src/inert.rs; tests/inert_cli.rs on a real terminal).
    let mock = Mock::start_in_background();
    mock.push(Reply::Stream {
        pieces: vec!["red\u{1b}[31m!".into()],
        finish: "stop".into(),
        gap_ms: 0,
    });
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o-mini", "x"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "red\u{1b}[31m!\n");
}

#[test]
fn usage_groups_the_ledger_by_model_with_unpriced_kept_apart() {
    let mock = Mock::start_in_background();
    // `local = false`: the mock on loopback stands for a proxy to paid APIs, so a
    // model no price list knows is unpriced there, not free.
    let home = support::home_with_config(&format!(
        "default_profile = \"mock\"\n[profiles.mock]\nbase_url = \"{}\"\nlocal = false\n",
        mock.base_url
    ));
    for model in ["gpt-4o", "gpt-4o", "my-local-model"] {
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &["chat", "--model", model, "hi"],
            None,
        );
        assert!(out.status.success());
    }
    let out = llmdeck(
        home.path(),
        None,
        &["usage", "--by", "model", "--json"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["key"], "gpt-4o");
    assert_eq!(rows[0]["requests"], 2);
    assert_eq!(rows[0]["cost_micros"], 9500);
    assert_eq!(rows[1]["key"], "my-local-model");
    assert_eq!(rows[1]["unpriced"], 1);
    let out = llmdeck(home.path(), None, &["usage", "--by", "model"], None);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("my-local-model") && l.ends_with("unpriced")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("total") && l.ends_with("$0.0095")),
        "{table}"
    );
}

#[test]
fn pricing_import_refreshes_prices_offline_and_user_overrides_win() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("litellm.json");
    std::fs::write(
        &file,
        r#"{"gpt-9": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.2e-05, "litellm_provider": "openai", "mode": "chat"},
            "gpt-4o": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "litellm_provider": "openai", "mode": "chat"}}"#,
    )
    .unwrap();
    let out = llmdeck(
        home.path(),
        None,
        &["pricing", "import", file.to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("imported 2 model prices"));
    std::fs::write(
        home.path().join("config/prices.toml"),
        "[models.\"gpt-4o\"]\ninput = 2.5\noutput = 10.0\n",
    )
    .unwrap();
    let out = llmdeck(home.path(), None, &["pricing", "--json"], None);
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let find = |m: &str| list.iter().find(|p| p["model"] == m).unwrap().clone();
    assert_eq!(find("gpt-9")["input_per_million_usd"], 3.0);
    assert_eq!(
        find("gpt-9")["source"],
        "litellm model_prices_and_context_window.json"
    );
    assert_eq!(
        find("gpt-4o")["output_per_million_usd"],
        10.0,
        "prices.toml wins over the import"
    );
}

#[test]
fn usage_sync_follows_pages_and_a_resync_does_not_double_count() {
    let mock = Mock::start_in_background();
    // The admin key goes only to an admin endpoint the profile names.
    let home = support::home_with_config(&format!(
        "default_profile = \"mock\"\n[profiles.mock]\nbase_url = \"{0}\"\nadmin_base_url = \"{0}\"\n",
        mock.base_url
    ));
    let sync = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmdeck"));
        cmd.env_clear()
            .env("LLMDECK_HOME", home.path())
            .env("OPENAI_API_KEY", "sk-x")
            .env("OPENAI_ADMIN_KEY", "sk-admin-test")
            .args(["usage", "sync", "--since", "7d"]);
        cmd.output().unwrap()
    };
    for _ in 0..2 {
        let out = sync();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .split(" since ")
                .next()
                .unwrap(),
            "synced 2 usage rows and 4 cost rows"
        );
    }
    let org: Vec<_> = mock
        .received()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/organization/"))
        .collect();
    assert_eq!(org.len(), 8, "two pages of each API, twice");
    assert!(
        org[0]
            .path
            .contains("group_by[]=model&group_by[]=project_id"),
        "{}",
        org[0].path
    );
    assert!(org[0].path.contains("bucket_width=1d"));
    assert!(org[1].path.contains("page=p2"));
    assert_eq!(org[0].header("authorization"), Some("Bearer sk-admin-test"));
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (rows, micros): (i64, i64) = ledger
        .query_row(
            "SELECT COUNT(*), SUM(amount_micros) FROM org_costs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, micros), (4, 3_000_000));
    let out = llmdeck(home.path(), None, &["usage", "sync"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("OPENAI_ADMIN_KEY"));
}

#[test]
fn an_interrupted_stream_is_recorded_as_such_with_estimated_usage() {
    let mock = Mock::start_in_background();
    let one = support::mock_server::chunk(
        "gpt-4o",
        r#"{"content":"The first half of an answer"}"#,
        "null",
    );
    mock.push(Reply::Raw(format!("data: {one}\n\n").into_bytes()));
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o", "--json", "go"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["text"], "The first half of an answer",
        "the partial answer is kept"
    );
    assert_eq!(v["status"], "interrupted");
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (status, source, output, kind): (String, String, i64, String) = ledger
        .query_row(
            "SELECT status, usage_source, output_tokens, error_kind FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), source.as_str(), kind.as_str()),
        ("interrupted", "estimated", "interrupted")
    );
    assert_eq!(output, 6, "counted with the tokenizer");
}

#[test]
fn reported_usage_lands_whole_in_the_ledger() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    assert!(
        llmdeck(
            home.path(),
            Some(&mock),
            &["chat", "--model", "o4-mini", "x"],
            None
        )
        .status
        .success()
    );
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let row: (i64, i64, i64, i64, String, i64, String, String) = ledger
        .query_row(
            "SELECT input_tokens, cached_tokens, output_tokens, reasoning_tokens, usage_source, cost_micros, api, host FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .unwrap();
    // o4-mini: 200 × 1.10 + 1000 × 0.275 + 300 × 4.40 per 1M = $0.001815
    assert_eq!((row.0, row.3), (1200, 120));
    assert_eq!((row.1, row.2), (1000, 300));
    assert_eq!(
        (row.4.as_str(), row.5, row.6.as_str()),
        ("reported", 1815, "chat")
    );
    assert!(row.7.starts_with("127.0.0.1:"));
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let home = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_llmdeck"))
                .env_clear()
                .env("LLMDECK_HOME", home.path())
                .args(["--demo", "chat", "hello"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (rows, rolled): (i64, i64) = ledger
        .query_row(
            "SELECT (SELECT COUNT(*) FROM requests), (SELECT SUM(requests) FROM daily)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, rolled), (8, 8));
}

#[test]
fn chat_compares_models_and_one_failing_target_does_not_stop_the_others() {
    let mock = Mock::start_in_background();
    mock.fail_model("gpt-nope");
    let home = tempfile::tempdir().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o",
            "--model",
            "gpt-nope",
            "--model",
            "gpt-4o-mini",
            "--json",
            "Compare me",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed target fails the command"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpt-nope: HTTP 404"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answers = v["answers"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = answers
        .iter()
        .map(|a| (a["model"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("gpt-4o", "done"),
            ("gpt-nope", "error"),
            ("gpt-4o-mini", "done")
        ]
    );
    assert_eq!(answers[0]["text"], "Hello from the mock.");
    assert_eq!(answers[2]["cost_micros"], 285, "priced as gpt-4o-mini");
    // The same question went to each model.
    let models: Vec<String> = mock
        .chat_requests()
        .iter()
        .map(|r| r.json()["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(models.len(), 3);
    assert!(
        mock.chat_requests()
            .iter()
            .all(|r| r.json()["messages"][0]["content"] == "Compare me")
    );
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let rows: i64 = ledger
        .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 3, "every call lands in the ledger");

    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o", "--model", "gpt-4o-mini", "hi"],
        None,
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("## gpt-4o\n\nHello from the mock.\n\n_1200 in · 300 out · $0.00475"),
        "{text}"
    );
    assert!(text.contains("## gpt-4o-mini\n"), "{text}");
}

#[test]
fn the_demo_has_scenarios_for_a_workshop() {
    let home = tempfile::tempdir().unwrap();
    let ask = |args: &[&str]| {
        let out = llmdeck(home.path(), None, args, None);
        assert!(out.status.success());
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let json = ask(&["--demo", "chat", "--json", "give me JSON"]);
    let body = json["text"]
        .as_str()
        .unwrap()
        .trim()
        .trim_start_matches("```json")
        .trim_end_matches("```");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap()["name"],
        "llmdeck"
    );
    let essay = ask(&["--demo", "chat", "--json", "write a long essay"]);
    assert!(
        essay["usage"]["output"].as_u64().unwrap() > 700,
        "a long answer"
    );
    let refusal = ask(&["--demo", "chat", "--json", "help me hack my neighbour"]);
    assert!(
        refusal["text"]
            .as_str()
            .unwrap()
            .starts_with("I can't help with that.")
    );
    let code = ask(&["--demo", "chat", "--json", "some rust code please"]);
    assert!(code["text"].as_str().unwrap().contains("```rust"));
    // A reasoning model thinks first: its reasoning tokens are counted and priced as output.
    let reasoning = ask(&["--demo", "--model", "o4-mini", "chat", "--json", "hello"]);
    let usage = &reasoning["usage"];
    assert!(usage["reasoning"].as_u64().unwrap() > 10);
    assert!(usage["output"].as_u64().unwrap() > usage["reasoning"].as_u64().unwrap());
    assert_eq!(reasoning["model"], "o4-mini");
}

#[test]
fn a_recorded_session_replays_offline_at_its_pace() {
    let mock = Mock::start_in_background();
    mock.push(Reply::Stream {
        pieces: vec!["Rehearsed".into(), " answer".into(), " here.".into()],
        finish: "stop".into(),
        gap_ms: 150,
    });
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("demo.json");
    let file_arg = file.to_str().unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "--record",
            file_arg,
            "chat",
            "--model",
            "gpt-4o",
            "Tell the room",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recording = std::fs::read_to_string(&file).unwrap();
    assert!(
        recording.contains("Tell the room"),
        "it says which request it answers"
    );
    assert!(!recording.contains("sk-cli-test"), "no key in a recording");
    let served = mock.chat_requests().len();

    // Replay with no endpoint at all: the network is unused.
    let started = std::time::Instant::now();
    let out = llmdeck(
        home.path(),
        None,
        &[
            "--replay",
            file_arg,
            "chat",
            "--model",
            "gpt-4o",
            "--json",
            "Tell the room",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], "Rehearsed answer here.");
    assert_eq!(
        v["usage"]["input"], 1200,
        "usage replays too, so costs show"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(400),
        "at the recorded pace"
    );
    assert_eq!(mock.chat_requests().len(), served);

    // Stretch the recording to a minute or more at its own pace: speed 0 must
    // not follow it, and no load on the machine makes that take 20 s.
    let mut stretched: serde_json::Value = serde_json::from_str(&recording).unwrap();
    for answer in stretched["answers"].as_array_mut().unwrap() {
        for (i, event) in answer["events"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            event[0] = serde_json::json!((i as u64 + 1) * 20_000);
        }
    }
    std::fs::write(&file, serde_json::to_string(&stretched).unwrap()).unwrap();
    let started = std::time::Instant::now();
    let out = llmdeck(
        home.path(),
        None,
        &[
            "--replay",
            file_arg,
            "--replay-speed",
            "0",
            "chat",
            "--model",
            "gpt-4o",
            "Tell the room",
        ],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Rehearsed answer here.\n"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "or at once, not at the recorded minute's pace"
    );

    let out = llmdeck(
        home.path(),
        None,
        &[
            "--replay",
            file_arg,
            "chat",
            "--model",
            "gpt-4o",
            "Something unrehearsed",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "no recording answers this request (gpt-4o, last message \"Something unrehearsed\")"
        ),
        "{err}"
    );
}

#[test]
fn compare_targets_can_be_other_endpoints_or_other_parameters() {
    let here = Mock::start_in_background();
    let there = Mock::start_in_background();
    let home = support::home_with_config(&format!(
        "[profiles.other]\nbase_url = \"{}\"\napi_key_env = \"OTHER_KEY\"\n",
        there.base_url
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmdeck"));
    cmd.env_clear()
        .env("LLMDECK_HOME", home.path())
        .env("OPENAI_BASE_URL", &here.base_url)
        .env("OPENAI_API_KEY", "sk-here")
        .env("OTHER_KEY", "sk-there")
        .args([
            "chat",
            "--json",
            "--model",
            "gpt-4o",
            "--model",
            "gpt-4o@other",
            "--model",
            "gpt-4o?temperature=0.1",
            "Same question",
        ]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels: Vec<&str> = v["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["gpt-4o", "gpt-4o@other", "gpt-4o?temperature=0.1"]);
    let mine = here.chat_requests();
    assert_eq!(mine.len(), 2);
    assert!(
        mine.iter()
            .any(|r| r.json()["temperature"] == serde_json::json!(0.1))
    );
    assert!(mine.iter().any(|r| r.json().get("temperature").is_none()));
    let theirs = there.chat_requests();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].header("authorization"), Some("Bearer sk-there"));
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let mut profiles: Vec<String> = ledger
        .prepare("SELECT profile FROM requests ORDER BY profile")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    profiles.dedup();
    assert_eq!(profiles, ["env", "other"]);
}

#[test]
fn a_broken_price_file_is_named_and_the_built_in_prices_used() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let prices = home.path().join("config/prices.toml");
    std::fs::write(
        &prices,
        "[models.\"gpt-4o\"]\ninput = \"cheap\"\noutput = 1.0\n",
    )
    .unwrap();
    let out = llmdeck(home.path(), None, &["pricing", "--json"], None);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("prices.toml:2"), "{err}");
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let gpt4o = list.iter().find(|p| p["model"] == "gpt-4o").unwrap();
    assert_eq!(
        gpt4o["input_per_million_usd"], 2.5,
        "the built-in price stands"
    );
    assert_eq!(
        std::fs::read_to_string(&prices).unwrap(),
        "[models.\"gpt-4o\"]\ninput = \"cheap\"\noutput = 1.0\n"
    );
}
