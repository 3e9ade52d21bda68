//! `prompts test --batch` and `--resume` through the real binary against the
//! mock's Batch API (checked against OpenAI's schemas both ways): a batch
//! submitted, polled, partly failed and graded at the batch price; a run killed
//! after submission and resumed to the same report; the pending list; unknown
//! or foreign batch ids; the budget checked before anything is sent.

mod support;

use serde_json::Value;
use support::batch_run::*;
use support::mock_batch::Fail;
use support::mock_server::Mock;

#[test]
fn a_batch_is_submitted_polled_partly_failed_and_graded_at_the_batch_price() {
    let mock = Mock::start_in_background();
    mock.batch_polls(2);
    mock.batch_fail(
        1,
        Fail::Status(400, "Invalid value for 'model' in this request".into()),
    );
    mock.batch_fail(
        2,
        Fail::Error("batch_expired".into(), "not run within the window".into()),
    );
    let home = home("");
    let (code, stdout, stderr) = run(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "ask",
            "--batch",
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    let v = json(&stdout, &stderr);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
    // Nothing went live: every answer came from the batch.
    assert!(mock.chat_requests().is_empty());
    // Polled with its status and counts until it completed.
    assert!(
        stderr.contains("batch batch_0002mock submitted: 4 requests"),
        "{stderr}"
    );
    assert!(stderr.contains("in_progress · 1/4 done"), "{stderr}");
    assert!(stderr.contains("in_progress · 2/4 done"), "{stderr}");
    assert!(
        stderr.contains("completed · 4/4 done, 2 failed"),
        "{stderr}"
    );
    // The answers matched back by custom id and graded by the same graders.
    assert_eq!(result(&v, "one")["pass"], true);
    assert_eq!(result(&v, "one")["answer"], "Hello from the mock.");
    let two = result(&v, "two");
    assert_eq!(
        (two["pass"].clone(), two["errored"].clone()),
        (false.into(), true.into())
    );
    assert_eq!(
        two["failures"][0],
        "HTTP 400: Invalid value for 'model' in this request"
    );
    let three = result(&v, "three");
    assert_eq!(three["errored"], true);
    assert_eq!(
        three["failures"][0],
        "batch_expired: not run within the window"
    );
    let four = result(&v, "four");
    assert_eq!(
        (four["pass"].clone(), four["errored"].clone()),
        (false.into(), false.into())
    );
    assert!(
        four["failures"][0].as_str().unwrap().contains("Paris"),
        "{four}"
    );
    // At the batch price, and said so; no latency is claimed for a batch answer.
    let prices = llmdeck::usage::PriceTable::embedded();
    let price = prices.lookup("gpt-4o-mini").unwrap();
    let usage = llmdeck::chat::event::Usage {
        input: 1200,
        cached_input: 1000,
        output: 300,
        reasoning: 120,
        ..Default::default()
    };
    let batch = llmdeck::usage::prices::cost_micros_in(price, &usage, Some("batch"));
    assert!(batch < llmdeck::usage::prices::cost_micros_in(price, &usage, None));
    assert_eq!(result(&v, "one")["cost_micros"], batch);
    assert_eq!(result(&v, "one")["latency_ms"], Value::Null);
    assert_eq!(v["batch"]["status"], "completed");
    assert_eq!(
        v["batch"]["request_counts"],
        serde_json::json!({"total": 4, "completed": 2, "failed": 2})
    );
    assert_eq!(v["batch"]["pricing"][0]["priced_at"], "its batch price");
    // Each answer is a ledger row at the batch tier, tagged so.
    let rows = ledger(&home);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let tier = Some("batch".to_string());
    assert!(
        rows.contains(&(tier.clone(), "test,pass,batch".into(), "ok".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(tier.clone(), "test,fail,batch".into(), "ok".into())),
        "{rows:?}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.2 == "error" && r.1 == "test,fail,batch")
            .count(),
        2,
        "{rows:?}"
    );
    // The batch went to the profile's API with a line per case, each body
    // exactly what a live run sends, less the streaming.
    let create = mock
        .batch_requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v1/batches")
        .unwrap()
        .json();
    assert_eq!(create["endpoint"], "/v1/chat/completions");
    assert_eq!(create["completion_window"], "24h");
    // Its files are gone from the organisation's storage: the requests' once
    // the batch was over, the output and error files once the run was kept.
    let (deleted, stored) = mock.batch_files();
    assert_eq!(deleted[0], create["input_file_id"].as_str().unwrap());
    assert_eq!(deleted.len(), 3, "{deleted:?}");
    assert!(stored.is_empty(), "{stored:?}");
    let lines = uploaded(&mock);
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c0-t0-r1", "c1-t0-r1", "c2-t0-r1", "c3-t0-r1"]);
    let live_home = self::home("");
    let (_, _, live_err) = run(
        &live_home,
        &mock,
        &["prompts", "test", "ask", "--json", "--concurrency", "1"],
    );
    let live = mock.chat_requests();
    assert_eq!(live.len(), 4, "{live_err}");
    for (line, sent) in lines.iter().zip(&live) {
        let mut body = sent.json();
        let o = body.as_object_mut().unwrap();
        assert_eq!(o.remove("stream"), Some(Value::Bool(true)));
        o.remove("stream_options");
        assert_eq!(line["body"], body);
    }
    // The table says how it was priced.
    let (_, table, _) = run(
        &home,
        &mock,
        &["prompts", "runs", "--open", v["run"].as_str().unwrap()],
    );
    assert!(table.contains("✗ two × gpt-4o-mini: HTTP 400"), "{table}");
}

#[test]
fn a_run_killed_after_submission_is_resumed_to_the_same_report() {
    let mock = Mock::start_in_background();
    mock.batch_polls(1_000_000);
    mock.batch_fail(1, Fail::Status(500, "The server had an error".into()));
    let home = home("");
    // Polling means the batch was created, and kept.
    let mut child = polled(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "ask",
            "--batch",
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    child.kill().unwrap(); // SIGKILL: nothing of llmdeck's runs after this
    let killed = child.wait_with_output().unwrap();
    assert_eq!(killed.status.code(), None, "killed by a signal");
    let id = mock
        .batch_requests()
        .iter()
        .find(|r| r.method == "GET" && r.path.starts_with("/v1/batches/"))
        .unwrap()
        .path
        .trim_start_matches("/v1/batches/")
        .to_string();

    // The pending list names it and the run it becomes.
    let (code, stdout, stderr) = run(&home, &mock, &["prompts", "test", "--resume", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let pending = json(&stdout, &stderr);
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["id"], id.as_str());
    assert_eq!(pending[0]["prompt"], "ask");
    assert_eq!(pending[0]["done"], false);
    let run_id = pending[0]["run"].as_str().unwrap().to_string();
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(
        listed.starts_with(&format!("{id}  run {run_id}")),
        "{listed}"
    );

    // Another endpoint does not know it: said so, and it stays pending.
    let other = Mock::start_in_background();
    let (code, _, stderr) = run(&home, &other, &["prompts", "test", "--resume", &id]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!(
            "the endpoint has no batch {id} (HTTP 404: No batch found"
        )),
        "{stderr}"
    );

    // Resumed by its run's id, it finishes as an uninterrupted run would.
    mock.batches_ready();
    let (code, stdout, stderr) = run(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "--resume",
            &run_id,
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let resumed = json(&stdout, &stderr);
    assert_eq!(resumed["run"], run_id.as_str());
    // Resumed after a kill, the batch's files are deleted all the same.
    let (deleted, stored) = mock.batch_files();
    assert_eq!(
        deleted.len(),
        3,
        "input, output and error files: {deleted:?}"
    );
    assert!(stored.is_empty(), "{stored:?}");
    assert_eq!(
        result(&resumed, "two")["failures"][0],
        "HTTP 500: The server had an error"
    );
    mock.batch_polls(1);
    let straight_home = self::home("");
    let (_, stdout, stderr) = run(
        &straight_home,
        &mock,
        &[
            "prompts",
            "test",
            "ask",
            "--batch",
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    let straight = json(&stdout, &stderr);
    assert_eq!(cells(&resumed), cells(&straight));
    assert_eq!(resumed["summary"], straight["summary"]);
    assert_eq!(ledger(&home), ledger(&straight_home));
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );

    // Nothing is pending any more, and the batch is not graded twice.
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(listed.starts_with("no batches pending"), "{listed}");
    let (code, _, stderr) = run(&home, &mock, &["prompts", "test", "--resume", &id]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!(
            "batch {id} is finished: its results are kept as run {run_id}"
        )),
        "{stderr}"
    );
}

#[test]
fn an_unknown_or_malformed_batch_id_is_a_clear_message() {
    let mock = Mock::start_in_background();
    let home = home("");
    for id in ["batch_nope", "../files"] {
        let (code, _, stderr) = run(&home, &mock, &["prompts", "test", "--resume", id]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("no batch {id:?} is kept here"))
                && stderr.contains("`llmdeck prompts test --resume` lists the pending ones"),
            "{stderr}"
        );
    }
    assert!(
        mock.received().is_empty(),
        "nothing was asked of the endpoint"
    );
    let (code, stdout, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("no batches pending"), "{stdout}");
    // Without a prompt or --resume there is nothing to run.
    let (code, _, stderr) = run(&home, &mock, &["prompts", "test"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("required arguments were not provided"),
        "{stderr}"
    );
    assert!(stderr.contains("<NAME>"), "{stderr}");
    // A batch is resumed by its id alone: the prompt it ran is kept with it.
    let (code, _, stderr) = run(&home, &mock, &["prompts", "test", "ask", "--resume", "x"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

/// Every case may answer 100,000 tokens: what the budget gate counts.
fn long_answers(home: &tempfile::TempDir) {
    let file = home.path().join("data/prompts/evals/ask.md");
    let text = std::fs::read_to_string(&file).unwrap().replacen(
        "name = \"q\"\n+++",
        "name = \"q\"\n\n[params]\nmax_output_tokens = 100000\n+++",
        1,
    );
    std::fs::write(&file, text).unwrap();
}

#[test]
fn a_batch_over_the_budget_at_the_batch_price_is_not_sent() {
    let mock = Mock::start_in_background();
    // Four cases of about 30 input tokens and 100,000 output tokens each come to
    // $0.12 at gpt-4o-mini's batch price ($0.24 at the standard one).
    let home = home("[budgets]\ndaily_usd = 0.10\nhard_stop = true\n");
    long_answers(&home);
    let args = [
        "prompts",
        "test",
        "ask",
        "--batch",
        "--json",
        "--poll-interval",
        "0.01",
    ];
    let (code, _, stderr) = run(&home, &mock, &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("Not sent; --allow-over-budget sends anyway"),
        "{stderr}"
    );
    assert!(mock.batch_requests().is_empty(), "nothing uploaded");
    // Under a budget the standard price would pass only at the batch price, it goes.
    let home = self::home("[budgets]\ndaily_usd = 0.20\nhard_stop = true\n");
    long_answers(&home);
    let (code, stdout, stderr) = run(&home, &mock, &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(json(&stdout, &stderr)["batch"]["status"], "completed");
}

#[test]
fn over_the_responses_api_a_model_without_a_batch_price_costs_half() {
    let mock = Mock::start_in_background();
    let home = home("");
    // A model the catalog does not know, priced by the user with no batch rates.
    std::fs::write(
        home.path().join("config/prices.toml"),
        "[models.mine]\ninput = 2.0\noutput = 8.0\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(
        &home,
        &mock,
        &[
            "--api",
            "responses",
            "--model",
            "mine",
            "prompts",
            "test",
            "ask",
            "--batch",
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let v = json(&stdout, &stderr);
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
    let create = mock
        .batch_requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v1/batches")
        .unwrap()
        .json();
    assert_eq!(create["endpoint"], "/v1/responses");
    assert!(uploaded(&mock).iter().all(|l| l["url"] == "/v1/responses"));
    assert_eq!(result(&v, "one")["pass"], true);
    assert_eq!(result(&v, "one")["answer"], "Hello from the mock.");
    // The mock's usage: 1,200 input (1,000 cached, at the input rate here) and
    // 300 output tokens: $0.0048 at the standard price, half of it in a batch.
    assert_eq!(result(&v, "one")["cost_micros"], 2400);
    assert_eq!(
        v["batch"]["pricing"][0]["priced_at"],
        "50% of its standard price (no batch price known)"
    );
}

#[test]
fn ctrl_c_leaves_the_batch_running_and_says_how_to_resume() {
    let mock = Mock::start_in_background();
    mock.batch_polls(1_000_000);
    let home = home("");
    let child = polled(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "ask",
            "--batch",
            "--poll-interval",
            "0.01",
        ],
    );
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("left batch batch_0002mock running (run ")
            && stderr.contains("`llmdeck prompts test --resume batch_0002mock` finishes it"),
        "{stderr}"
    );
    // Left, not cancelled: the endpoint was never asked to cancel it.
    assert!(
        !mock
            .batch_requests()
            .iter()
            .any(|r| r.path.ends_with("/cancel"))
    );
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(listed.starts_with("batch_0002mock  run "), "{listed}");
    mock.batches_ready();
    let (code, stdout, stderr) = run(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "--resume",
            "batch_0002mock",
            "--poll-interval",
            "0.01",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("3/4 passed"), "{stdout}");
}

#[test]
fn a_batch_cancelled_elsewhere_errors_every_case_with_the_reason() {
    let mock = Mock::start_in_background();
    mock.batch_polls(1_000_000);
    let home = home("");
    let child = polled(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "ask",
            "--batch",
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    mock.cancel_batch("batch_0002mock");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("batch batch_0002mock: cancelled"),
        "{stderr}"
    );
    let v = json(&stdout, &stderr);
    assert_eq!(v["batch"]["status"], "cancelled");
    for case in ["one", "two", "three", "four"] {
        let r = result(&v, case);
        assert_eq!(
            (r["pass"].clone(), r["errored"].clone()),
            (false.into(), true.into())
        );
        assert_eq!(
            r["failures"][0],
            "the batch was cancelled before this request ran"
        );
    }
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
}

#[test]
fn every_case_model_and_repeat_is_a_line_of_its_own() {
    let mock = Mock::start_in_background();
    let home = home("");
    let (code, stdout, stderr) = run(
        &home,
        &mock,
        &[
            "--model",
            "gpt-4o-mini",
            "--model",
            "gpt-4o",
            "prompts",
            "test",
            "ask",
            "--batch",
            "--repeat",
            "2",
            "--poll-interval",
            "0.01",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
    let lines = uploaded(&mock);
    let ids: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 16);
    assert!(ids.contains("c3-t1-r2"), "{ids:?}");
    let models: Vec<&str> = lines
        .iter()
        .map(|l| l["body"]["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        &models[..4],
        ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "gpt-4o"]
    );
    // Each cell is the cell of a live run with repeats.
    assert!(stdout.contains("one    2/2 ✓ score 1.00±0.00"), "{stdout}");
    assert!(stdout.contains("gpt-4o: 6/8 passed"), "{stdout}");
}

#[test]
fn the_cache_answers_what_an_earlier_batch_answered_and_no_cache_asks_again() {
    let mock = Mock::start_in_background();
    mock.batch_fail(1, Fail::Status(500, "The server had an error".into()));
    let home = home("");
    let args = [
        "prompts",
        "test",
        "ask",
        "--batch",
        "--json",
        "--poll-interval",
        "0.01",
    ];
    let (_, stdout, stderr) = run(&home, &mock, &args);
    assert_eq!(
        json(&stdout, &stderr)["batch"]["request_counts"]["failed"],
        1
    );
    // Again: only the request that failed is sent; the others come from the cache, free.
    mock.batch_fail(0, Fail::Status(500, "The server had an error".into()));
    let (_, stdout, stderr) = run(&home, &mock, &args);
    assert!(
        stderr.contains("submitted: 1 requests, 3 answered from the cache"),
        "{stderr}"
    );
    let v = json(&stdout, &stderr);
    let one = result(&v, "one");
    assert_eq!(
        (one["cached"].clone(), one["cost_micros"].clone()),
        (true.into(), 0.into())
    );
    assert_eq!(one["pass"], true);
    assert_eq!(
        result(&v, "two")["errored"],
        true,
        "line 0 of the second batch failed"
    );
    let lines = uploaded(&mock);
    assert_eq!(lines.len(), 4, "the first upload");
    let second = mock
        .batch_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/files")
        .nth(1)
        .unwrap();
    let text = String::from_utf8_lossy(&second.body).to_string();
    assert!(
        text.contains("\"custom_id\":\"c1-t0-r1\"") && !text.contains("c0-t0-r1"),
        "{text}"
    );
    // A live run is answered from the batch's answers too.
    let (_, stdout, stderr) = run(&home, &mock, &["prompts", "test", "ask", "--json"]);
    assert_eq!(result(&json(&stdout, &stderr), "one")["cached"], true);
    // The live run asked for the one answer missing: now no batch is needed at all.
    mock.batch_fail_none();
    let (code, stdout, stderr) = run(&home, &mock, &args);
    assert_eq!(code, Some(1), "four fails: {stderr}");
    assert!(
        stderr.contains("no batch sent: every request was answered from the cache"),
        "{stderr}"
    );
    let v = json(&stdout, &stderr);
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["cached"] == true),
        "{v}"
    );
    assert_eq!(v["passed"], 3);
    // --no-cache sends every request.
    let mut no_cache = args.to_vec();
    no_cache.push("--no-cache");
    let (_, _, stderr) = run(&home, &mock, &no_cache);
    assert!(stderr.contains("submitted: 4 requests (run"), "{stderr}");
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
}

#[test]
fn a_batch_that_fails_validation_errors_every_case_with_its_errors() {
    let mock = Mock::start_in_background();
    mock.batch_invalid("The model `gpt-4o-mini` is not available in batches");
    let home = home("");
    let (code, stdout, stderr) = run(
        &home,
        &mock,
        &[
            "prompts",
            "test",
            "ask",
            "--batch",
            "--json",
            "--poll-interval",
            "0.01",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("batch batch_0002mock: failed · 0/4 done"),
        "{stderr}"
    );
    let v = json(&stdout, &stderr);
    assert_eq!(v["passed"], 0);
    let one = result(&v, "one");
    assert_eq!(one["errored"], true);
    assert_eq!(
        one["failures"][0],
        "the batch failed: line 1: The model `gpt-4o-mini` is not available in batches"
    );
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
    // Graded and kept: nothing is left pending.
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(listed.starts_with("no batches pending"), "{listed}");
}

#[test]
fn a_prompt_with_a_remote_mcp_server_is_not_sent_as_a_batch() {
    // Its url and headers (secrets) would be stored in the uploaded input file.
    let home = home("[mcp.docs]\nurl = \"https://mcp.example.org/mcp\"\nhosted = true\n");
    let prompt = format!(
        "+++\nname = \"ask\"\nmodel = \"gpt-4o-mini\"\n{TESTS}\n\n[[variables]]\nname = \"q\"\n\n[params]\nhosted = [{{ type = \"mcp\", server = \"docs\" }}]\n+++\n\n# User\n\nQuestion: {{{{q}}}}\n"
    );
    std::fs::write(home.path().join("data/prompts/evals/ask.md"), prompt).unwrap();
    let mock = Mock::start_in_background();
    let (code, _, stderr) = run(&home, &mock, &["prompts", "test", "ask", "--batch"]);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("cannot use the remote MCP server docs"),
        "{stderr}"
    );
    assert!(
        mock.batch_requests().iter().all(|r| r.path != "/v1/files"),
        "nothing uploaded"
    );
}
