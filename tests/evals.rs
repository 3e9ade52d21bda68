//! Evals through the real binary against the mock: datasets read row by row
//! (a bad row named and skipped), every grader passing and failing, a judge
//! answering malformed JSON, weights and thresholds, repeats, a rate limit
//! waited out, and Ctrl-C keeping what finished.

mod support;

use llmdeck::library::prompt;
use serde_json::Value;
use support::llmdeck;
use support::mock_server::{Mock, Reply};

/// A prompt `ask` with `front` at the top to its front matter (one variable, `q`).
fn prompt(front: &str) -> String {
    format!(
        "+++\nname = \"ask\"\nmodel = \"gpt-4o-mini\"\n{front}\n\n[[variables]]\nname = \"q\"\n+++\n\n# User\n\nQuestion: {{{{q}}}}\n"
    )
}

/// A home whose library holds `evals/ask.md` (and `files` beside it).
fn home(front: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data/prompts/evals");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ask.md"), prompt(front)).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    home
}

/// `prompts test ask --json` with `extra` arguments: the exit code and the JSON.
fn test_json(
    home: &tempfile::TempDir,
    mock: &Mock,
    extra: &[&str],
) -> (Option<i32>, Value, String) {
    let mut args = vec!["prompts", "test", "ask", "--json"];
    args.extend_from_slice(extra);
    let out = llmdeck(home.path(), Some(mock), &args, None);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), v, stderr)
}

fn result<'a>(v: &'a Value, case: &str) -> &'a Value {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == case)
        .unwrap_or_else(|| panic!("no case {case} in {v}"))
}

/// (api, tags, count) of the ledger's rows.
fn ledger(home: &tempfile::TempDir) -> Vec<(String, String, i64)> {
    let db = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    db.prepare("SELECT api, tags, COUNT(*) FROM requests GROUP BY api, tags ORDER BY api, tags")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn say(text: &str) -> Reply {
    Reply::Stream {
        pieces: vec![text.to_string()],
        finish: "stop".into(),
        gap_ms: 0,
    }
}

#[test]
fn a_dataset_runs_row_by_row_and_a_bad_row_is_named_and_skipped() {
    let mock = Mock::start_in_background();
    let rows = "{\"q\":\"greet\",\"expected\":\"Hello from the mock.\"}\n{\"q\": oops}\n\n{\"q\":\"capital\",\"expected\":\"Paris\",\"name\":\"france\"}\n";
    let home = home(
        "dataset = \"cases.jsonl\"\nassert = [{ equals = \"{{expected}}\" }]",
        &[("cases.jsonl", rows)],
    );
    let (code, v, stderr) = test_json(&home, &mock, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cases.jsonl")
            && stderr.contains("line 2: not JSON")
            && stderr.contains("(skipped)"),
        "{stderr}"
    );
    assert_eq!(v["results"].as_array().unwrap().len(), 2, "{v}");
    // A row without a name is named by its line; `name` names it otherwise.
    assert_eq!(result(&v, "cases.jsonl:1")["pass"], true);
    let france = result(&v, "france");
    assert_eq!(france["pass"], false);
    assert_eq!(
        france["failures"][0],
        "equals \"Paris\": is \"Hello from the mock.\", not \"Paris\""
    );
    // Each row's variables filled the prompt; the extra columns were not sent.
    let sent: Vec<String> = mock
        .chat_requests()
        .iter()
        .map(|r| r.json()["messages"].to_string())
        .collect();
    assert!(
        sent.iter().any(|m| m.contains("Question: capital")),
        "{sent:?}"
    );
    assert!(!sent.iter().any(|m| m.contains("Paris")), "{sent:?}");
}

#[test]
fn a_csv_dataset_reads_quoted_fields_and_names_a_short_row() {
    let mock = Mock::start_in_background();
    let csv = "q,expected\n\"a, quoted\nquestion\",mock\nonly-one-field\nplain,Paris\n";
    let home = home(
        "dataset = \"cases.csv\"\nassert = [{ contains = \"{{expected}}\" }]",
        &[("cases.csv", csv)],
    );
    let (code, v, stderr) = test_json(&home, &mock, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("line 4: 1 fields, the header has 2 (skipped)"),
        "{stderr}"
    );
    assert_eq!(result(&v, "cases.csv:2")["pass"], true);
    assert_eq!(result(&v, "cases.csv:5")["pass"], false);
    let first = mock.chat_requests()[0].json()["messages"].to_string();
    let any = mock.chat_requests().iter().any(|r| {
        r.json()["messages"]
            .to_string()
            .contains("a, quoted\\nquestion")
    });
    assert!(any, "{first}");
}

const RUBRIC: &str = "[[tests]]\nname = \"good\"\nvars = { q = \"a\" }\nassert = [{ rubric = \"names the capital\", threshold = 0.7 }]\n\n[[tests]]\nname = \"vague\"\nvars = { q = \"b\" }\nassert = [{ rubric = \"names the capital\", threshold = 0.7 }]";

#[test]
fn a_rubric_judge_decides_on_its_score_and_is_a_grader_row_in_the_cost() {
    let mock = Mock::start_in_background();
    let home = home(RUBRIC, &[]);
    // One at a time: answer, verdict, answer, verdict.
    mock.push(say("Paris."));
    mock.push(say(r#"{"pass":true,"score":0.9,"reason":"names Paris"}"#));
    mock.push(say("Somewhere in Europe."));
    // The judge says pass, but its score is under the check's threshold.
    mock.push(say(r#"{"pass":true,"score":0.4,"reason":"too vague"}"#));
    let (code, v, stderr) = test_json(
        &home,
        &mock,
        &["--concurrency", "1", "--judge-model", "gpt-4o"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let good = result(&v, "good");
    assert_eq!(good["pass"], true, "{good}");
    assert_eq!(good["verdicts"][0]["reason"], "names Paris");
    assert!((good["score"].as_f64().unwrap() - 0.9).abs() < 1e-9);
    assert!(good["grader_cost_micros"].as_i64().unwrap() > 0, "{good}");
    let vague = result(&v, "vague");
    assert_eq!(vague["pass"], false);
    assert_eq!(vague["errored"], false);
    assert!(
        vague["failures"][0].as_str().unwrap().contains("too vague"),
        "{vague}"
    );
    // The judge was asked through structured output, with the rubric and the answer.
    let judge = &mock.chat_requests()[1].json();
    support::openapi::validate("CreateChatCompletionRequest", judge).unwrap();
    assert_eq!(judge["model"], "gpt-4o");
    assert_eq!(judge["response_format"]["type"], "json_schema");
    let text = judge["messages"].to_string();
    assert!(
        text.contains("names the capital") && text.contains("Paris."),
        "{text}"
    );
    // Judge calls are ledger rows of their own, and the summary's cost includes them.
    let rows = ledger(&home);
    assert!(
        rows.contains(&("chat".into(), "grader".into(), 2)),
        "{rows:?}"
    );
    let s = &v["summary"][0];
    let answers: i64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cost_micros"].as_i64().unwrap())
        .sum();
    let graded: i64 = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["grader_cost_micros"].as_i64().unwrap())
        .sum();
    assert_eq!(s["cost_micros"].as_i64(), Some(answers + graded));
    assert_eq!(s["cost_per_pass_micros"].as_i64(), Some(answers + graded));
}

#[test]
fn a_judge_answering_malformed_json_marks_the_case_errored_not_passed() {
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"one\"\nvars = { q = \"a\" }\nassert = [{ rubric = \"is polite\" }]",
        &[],
    );
    mock.push(say("Paris."));
    mock.push(say("I think it passes, score 9/10"));
    let (code, v, stderr) = test_json(&home, &mock, &["--concurrency", "1"]);
    assert_eq!(code, Some(1), "{stderr}");
    let one = result(&v, "one");
    assert_eq!(
        (one["pass"].clone(), one["errored"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    let why = one["failures"][0].as_str().unwrap();
    assert!(
        why.contains("malformed JSON") && why.contains("I think it passes"),
        "{why}"
    );
    // The table says errored (!), not failed (✗). The answer comes from the
    // cache, the unusable verdict did not: the judge is asked again.
    let out = llmdeck(home.path(), Some(&mock), &["prompts", "test", "ask"], None);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("one   ! cached"), "{table}");
    assert_eq!(mock.chat_requests().len(), 3);
}

#[test]
fn similar_passes_a_close_answer_and_fails_a_far_one_through_embeddings() {
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"close\"\nvars = { q = \"a\" }\nassert = [{ similar = { value = \"hello from a mock\", threshold = 0.9 } }]\n\n[[tests]]\nname = \"far\"\nvars = { q = \"b\" }\nassert = [{ similar = { value = \"zzz qqq xxx\" } }]",
        &[],
    );
    let (code, v, stderr) = test_json(
        &home,
        &mock,
        &["--embedding-model", "text-embedding-3-small"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(result(&v, "close")["pass"], true, "{v}");
    let far = result(&v, "far");
    assert_eq!(far["pass"], false);
    assert!(
        far["verdicts"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("cosine 0."),
        "{far}"
    );
    let sent = mock.embedding_requests();
    assert_eq!(sent.len(), 2);
    for r in &sent {
        support::openapi::validate("CreateEmbeddingRequest", &r.json()).unwrap();
        assert_eq!(r.header("authorization"), Some("Bearer sk-cli-test"));
        let (_, reply) = support::mock_responses::embeddings(&r.body);
        let reply: Value = serde_json::from_str(&reply).unwrap();
        support::openapi::validate("CreateEmbeddingResponse", &reply).unwrap();
    }
    let rows = ledger(&home);
    assert!(
        rows.contains(&("embeddings".into(), "grader".into(), 2)),
        "{rows:?}"
    );
    // The tokens the server counted are kept, and a cost (on this loopback
    // mock the embedding model counts as local: free, not unpriced).
    let db = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (tokens, cost): (i64, Option<i64>) = db
        .query_row(
            "SELECT SUM(input_tokens), MAX(cost_micros) FROM requests WHERE api = 'embeddings'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((tokens, cost), (8 + 7, Some(0)), "the mock counts words");
}

#[test]
fn a_command_grader_reads_the_answer_and_the_variables_and_its_stdout_is_the_reason() {
    let mock = Mock::start_in_background();
    let check = "#!/bin/sh\nif grep -q \"$LLMDECK_VAR_want\"; then echo found; else echo \"no $LLMDECK_VAR_want\"; exit 3; fi\n";
    let home = home(
        "[[variables]]\nname = \"want\"\n\n[[tests]]\nname = \"yes\"\nvars = { q = \"a\", want = \"mock\" }\nassert = [{ command = [\"sh\", \"check.sh\"] }]\n\n[[tests]]\nname = \"no\"\nvars = { q = \"b\", want = \"Paris\" }\nassert = [{ command = [\"sh\", \"check.sh\"] }]\n\n[[tests]]\nname = \"missing\"\nvars = { q = \"c\" }\nassert = [{ command = [\"no-such-program-llmdeck\"] }]",
        &[("check.sh", check)],
    );
    let (code, v, stderr) = test_json(&home, &mock, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let yes = result(&v, "yes");
    assert_eq!(yes["pass"], true, "{yes}");
    assert_eq!(yes["verdicts"][0]["reason"], "found");
    let no = result(&v, "no");
    assert_eq!(no["pass"], false);
    assert_eq!(no["failures"][0], "command sh check.sh: exit 3: no Paris");
    let missing = result(&v, "missing");
    assert_eq!(missing["errored"], true, "{missing}");
    assert!(
        missing["failures"][0]
            .as_str()
            .unwrap()
            .contains("cannot start"),
        "{missing}"
    );
}

#[test]
fn a_command_grader_gets_no_key_or_secret_from_llmdecks_environment() {
    let mock = Mock::start_in_background();
    // The check writes down everything it was given.
    let check = "#!/bin/sh\nenv > seen.txt\necho ok\n";
    let home = home(
        "[[tests]]\nname = \"one\"\nvars = { q = \"a\" }\nassert = [{ command = [\"sh\", \"check.sh\"] }]",
        &[("check.sh", check)],
    );
    let mut cmd = support::llmdeck_command(home.path(), Some(&mock), &["prompts", "test", "ask"]);
    cmd.env("OPENAI_ADMIN_KEY", "sk-admin-secret-value")
        .env("LLMDECK_TEAM_PASSWORD", "team-secret-value");
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = std::fs::read_to_string(home.path().join("data/prompts/evals/seen.txt")).unwrap();
    for secret in [
        "sk-cli-test",
        "sk-admin-secret-value",
        "team-secret-value",
        "OPENAI_",
    ] {
        assert!(
            !seen.contains(secret),
            "{secret} reached the check:\n{seen}"
        );
    }
    // What it needs does: the case's values and a PATH to find its tools.
    assert!(seen.contains("LLMDECK_VAR_q=a"), "{seen}");
    assert!(seen.lines().any(|l| l.starts_with("PATH=")), "{seen}");
}

#[test]
fn weights_and_a_threshold_pass_a_case_that_misses_a_light_check() {
    let mock = Mock::start_in_background();
    let checks = "assert = [{ contains = \"mock\", weight = 3 }, { contains = \"Paris\" }]";
    let home = home(
        &format!(
            "[[tests]]\nname = \"lenient\"\nvars = {{ q = \"a\" }}\nthreshold = 0.7\n{checks}\n\n[[tests]]\nname = \"strict\"\nvars = {{ q = \"b\" }}\nthreshold = 0.8\n{checks}\n\n[[tests]]\nname = \"all\"\nvars = {{ q = \"c\" }}\n{checks}"
        ),
        &[],
    );
    let (code, v, stderr) = test_json(&home, &mock, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(result(&v, "lenient")["pass"], true);
    assert_eq!(result(&v, "lenient")["score"], 0.75);
    assert_eq!(result(&v, "strict")["pass"], false);
    // Without a threshold every check must pass.
    assert_eq!(result(&v, "all")["pass"], false);
}

#[test]
fn repeats_count_each_run_and_a_rate_limit_is_waited_out() {
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"hi\"\nvars = { q = \"a\" }\nassert = [{ contains = \"mock\" }]",
        &[],
    );
    mock.push(Reply::Status {
        status: 429,
        body: r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
        headers: vec![("retry-after-ms".into(), "50".into())],
    });
    let (code, v, stderr) = test_json(&home, &mock, &["--repeat", "3", "--concurrency", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let runs: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repeat"].as_u64().unwrap())
        .collect();
    assert_eq!(runs, [1, 2, 3]);
    assert_eq!(mock.chat_requests().len(), 4, "three runs, one retried");
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "test", "ask", "--repeat", "2"],
        None,
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("2/2 ✓ score 1.00±0.00"), "{table}");
    assert!(table.contains("gpt-4o-mini: 2/2 passed"), "{table}");
    assert!(table.contains("per passing answer"), "{table}");
}

#[test]
fn ctrl_c_stops_the_run_and_keeps_what_finished() {
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"first\"\nvars = { q = \"a\" }\n\n[[tests]]\nname = \"second\"\nvars = { q = \"b\" }",
        &[],
    );
    mock.push(say("done"));
    mock.push(Reply::Stall {
        pieces: vec!["never".into()],
    });
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home.path())
        .env("OPENAI_BASE_URL", &mock.base_url)
        .env("OPENAI_API_KEY", "sk-cli-test")
        .args(["prompts", "test", "ask", "--json", "--concurrency", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while mock.chat_requests().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second case never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stopped by Ctrl-C: 1 finished runs kept"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["interrupted"], true);
    assert_eq!(result(&v, "first")["answer"], "done");
    assert_eq!(ledger(&home), [("chat".into(), "test,pass".into(), 1)]);
}

#[test]
fn the_cache_answers_an_identical_request_free_and_no_cache_asks_again() {
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"hi\"\nvars = { q = \"a\" }\nassert = [{ contains = \"mock\" }]",
        &[],
    );
    let (_, first, _) = test_json(&home, &mock, &[]);
    assert_eq!(result(&first, "hi")["cached"], false);
    assert!(result(&first, "hi")["cost_micros"].as_i64().unwrap() > 0);
    let (code, again, stderr) = test_json(&home, &mock, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let hi = result(&again, "hi");
    assert_eq!(
        (hi["cached"].clone(), hi["pass"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );
    assert_eq!(hi["answer"], "Hello from the mock.");
    assert_eq!(hi["cost_micros"], 0, "a cached answer costs nothing");
    assert_eq!(mock.chat_requests().len(), 1, "answered from the cache");
    assert_eq!(
        ledger(&home),
        [("chat".into(), "test,pass".into(), 1)],
        "no spend recorded"
    );
    let out = llmdeck(home.path(), Some(&mock), &["prompts", "test", "ask"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("✓ cached $0.00"));
    // Another model is another request; --no-cache asks again.
    test_json(&home, &mock, &["--model", "gpt-4o"]);
    assert_eq!(mock.chat_requests().len(), 2);
    let (_, fresh, _) = test_json(&home, &mock, &["--no-cache"]);
    assert_eq!(result(&fresh, "hi")["cached"], false);
    assert_eq!(mock.chat_requests().len(), 3);
    // The cache is the user's alone and holds no key.
    let file = home.path().join("data/evals.sqlite3");
    let bytes = std::fs::read(&file).unwrap();
    assert!(!bytes.windows(11).any(|w| w == b"sk-cli-test"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn against_an_earlier_version_a_newly_failing_case_exits_1_and_no_change_exits_0() {
    if std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_err()
    {
        return support::skip("git is not installed");
    }
    let mock = Mock::start_in_background();
    let front = "[[tests]]\nname = \"france\"\nvars = { q = \"France\" }\nassert = [{ contains = \"Paris\" }]";
    let home = home(front, &[]);
    let lib = home.path().join("data/prompts");
    let file = lib.join("evals/ask.md");
    let v1 = std::fs::read_to_string(&file).unwrap();
    git(&lib, &["init", "-q"]);
    git(&lib, &["add", "."]);
    git(&lib, &["commit", "-q", "-m", "v1"]);
    let v2 = v1.replace("Question:", "Answer tersely:");
    std::fs::write(&file, &v2).unwrap();
    // One at a time, the earlier version first: it names Paris, the new one does not.
    mock.push(say("Paris"));
    mock.push(say("Lyon"));
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "prompts",
            "test",
            "ask",
            "--against",
            "HEAD",
            "--concurrency",
            "1",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let (h1, h2) = (prompt::version_of(&v1), prompt::version_of(&v2));
    assert!(
        stdout.contains(&format!("against {h1} (git HEAD (")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("→ {h2}")), "{stdout}");
    assert!(
        stdout.contains(
            "newly failing: france × gpt-4o-mini: contains \"Paris\": does not contain \"Paris\""
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("gpt-4o-mini: passed 1/1 → 0/1 · score 1.00 → 0.00"),
        "{stdout}"
    );
    assert!(stderr.contains("regression: 1 newly failing"), "{stderr}");
    // The earlier version was sent with its own text, the current with its own.
    let sent: Vec<String> = mock
        .chat_requests()
        .iter()
        .map(|r| r.json()["messages"].to_string())
        .collect();
    assert!(
        sent[0].contains("Question: France") && sent[1].contains("Answer tersely: France"),
        "{sent:?}"
    );
    // The same version hash the ledger shows finds v1 in git's history (answers now cached).
    let (code, v, stderr) = test_json(&home, &mock, &["--against", &h1]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(v["against"]["version"], h1.as_str());
    assert_eq!(v["newly_failing"][0]["case"], "france");
    assert_eq!(
        mock.chat_requests().len(),
        2,
        "both answers came from the cache"
    );
    // Against itself (a version an earlier run kept) nothing changed: exit 0,
    // though the case fails, and a cost limit of 0% holds.
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "prompts",
            "test",
            "ask",
            "--against",
            &h2,
            "--max-cost-increase",
            "0%",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no case changed its verdict"), "{stdout}");
    assert!(stdout.contains("(kept by an earlier run)"), "{stdout}");
    // A revision that is neither says so.
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "test", "ask", "--against", "nope123"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no earlier run kept version nope123"));
}

#[test]
fn junit_is_valid_against_the_junit_xsd_and_csv_and_kept_runs_say_the_same() {
    let python =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/xmlschema-venv/bin/python");
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"passes <&>\"\nvars = { q = \"a\" }\nassert = [{ contains = \"mock\" }]\n\n[[tests]]\nname = \"fails\"\nvars = { q = \"b\" }\nassert = [{ contains = \"=1+1\" }]\n\n[[tests]]\nname = \"errors\"\nvars = { q = \"c\" }\nassert = [{ command = [\"no-such-program-llmdeck\"] }]",
        &[],
    );
    let report = home.path().join("junit.xml");
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "prompts",
            "test",
            "ask",
            "--csv",
            "--junit",
            report.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let csv = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("case,target,repeat,pass,errored"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with("passes <&>,gpt-4o-mini,1,true,false"),
        "{csv}"
    );
    assert!(
        lines[2].contains(",\"contains \"\"=1+1\"\": does not contain \"\"=1+1\"\"\","),
        "{csv}"
    );
    assert!(
        lines[3].starts_with("errors,gpt-4o-mini,1,false,true"),
        "{csv}"
    );
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains("tests=\"3\" failures=\"1\" errors=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"passes &lt;&amp;&gt;\""),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"contains &quot;=1+1&quot;: does not contain"),
        "{xml}"
    );
    if !python.exists() {
        return support::skip("no target/xmlschema-venv (.ci/run makes it)");
    }
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd");
    let check = std::process::Command::new(&python)
        .args(["-c", "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2]); print('valid')"])
        .arg(&xsd)
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // A report the schema refuses is refused: the check can fail.
    let bad = home.path().join("bad.xml");
    std::fs::write(
        &bad,
        xml.replace(" failures=\"1\" errors=\"1\" skipped", " skipped"),
    )
    .unwrap();
    let refused = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
        ])
        .arg(&xsd)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    // The run was kept: listed, and reopened as the same CSV.
    let list = llmdeck(
        home.path(),
        None,
        &["prompts", "runs", "ask", "--json"],
        None,
    );
    let runs: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        (runs[0]["runs"].as_i64(), runs[0]["passed"].as_i64()),
        (Some(3), Some(1))
    );
    let id = runs[0]["id"].as_str().unwrap();
    let again = llmdeck(
        home.path(),
        None,
        &["prompts", "runs", "--open", &id[..8], "--csv"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&again.stdout), csv);
}

#[test]
fn a_judge_is_not_asked_once_the_budget_is_reached() {
    let mock = Mock::start_in_background();
    let home = home(
        "[[tests]]\nname = \"one\"\nvars = { q = \"a\" }\nassert = [{ rubric = \"is polite\" }]",
        &[],
    );
    // The answer's estimate (its input) fits; what it then cost ($0.00475 on gpt-4o
    // at the mock's usage) reaches the budget, so the judge is not asked.
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config/config.toml"),
        "[budgets]\ndaily_usd = 0.003\nhard_stop = true\n",
    )
    .unwrap();
    let (code, v, stderr) = test_json(&home, &mock, &["--model", "gpt-4o"]);
    assert_eq!(code, Some(1), "{stderr}");
    let one = result(&v, "one");
    assert_eq!(one["errored"], true, "{one}");
    assert_eq!(one["cost_micros"], 4750, "{one}");
    assert!(
        one["failures"][0]
            .as_str()
            .unwrap()
            .contains("the judge was not asked"),
        "{one}"
    );
    assert_eq!(mock.chat_requests().len(), 1, "only the answer was sent");
}

#[test]
fn a_check_that_never_reads_the_answer_does_not_end_the_run() {
    // Larger than a pipe holds: writing it to a check that exits without
    // reading meets a closed pipe (SIGPIPE killed llmdeck there before).
    let long = "mock ".repeat(40_000);
    let mock = Mock::start_in_background();
    mock.push(say(&long));
    let home = home(
        "[[tests]]\nname = \"deaf\"\nvars = { q = \"a\" }\nassert = [{ command = [\"sh\", \"-c\", \"echo fine\"] }]",
        &[],
    );
    let (code, v, stderr) = test_json(&home, &mock, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let r = result(&v, "deaf");
    assert_eq!(r["pass"], true, "{r}");
    assert_eq!(r["verdicts"][0]["reason"], "fine");
}
