//! A batch run that is stopped, killed, slow or large, through the real binary
//! (and the library where a limit is injected) against the mock's Batch API:
//! Ctrl-C while its answers are graded keeps what was graded and `--resume`
//! grades the rest; a slow file transfer finishes and a hung one fails within
//! the idle timeout; the batch's files are deleted from the organisation's
//! storage (a failed delete is a warning); a resume after a kill reports a run
//! already kept without grading or recording it again; only requests sent
//! count against the batch's size limit.

mod support;

use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use support::batch_run::*;
use support::mock_server::Mock;

/// The check every case runs: case `three` (q = c) waits for a file `go`
/// (saying so with `waiting`); each case graded to the end is logged. It reads
/// the answer first: llmdeck writing to a check that is gone is another matter.
const CHECK: &str = "cat > /dev/null\nif [ \"$LLMDECK_VAR_q\" = c ] && [ ! -f go ]; then\n  touch waiting\n  while [ ! -f go ]; do sleep 0.02; done\nfi\necho \"$LLMDECK_VAR_q\" >> graded.log\n";

/// `home` whose prompt also runs `check.sh` on every case.
fn checked_home(config: &str) -> tempfile::TempDir {
    let home = home(config);
    let file = prompt_dir(&home).join("ask.md");
    let text = std::fs::read_to_string(&file).unwrap().replacen(
        "assert = [{ contains = \"mock\" }]",
        "assert = [{ contains = \"mock\" }, { command = [\"sh\", \"check.sh\"] }]",
        1,
    );
    std::fs::write(&file, text).unwrap();
    std::fs::write(prompt_dir(&home).join("check.sh"), CHECK).unwrap();
    home
}

fn prompt_dir(home: &tempfile::TempDir) -> PathBuf {
    home.path().join("data/prompts/evals")
}

/// The cases graded to the end, in order (the `q` of each).
fn graded(home: &tempfile::TempDir) -> Vec<String> {
    std::fs::read_to_string(prompt_dir(home).join("graded.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn spawn(home: &tempfile::TempDir, mock: &Mock, args: &[&str]) -> Child {
    support::llmdeck_command(home.path(), Some(mock), args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The child's output once it exits; it fails the test (killing it) when it
/// has not exited within `secs`.
fn exited_within(mut child: Child, secs: u64, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {secs} s\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn evals_db(home: &tempfile::TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(home.path().join("data/evals.sqlite3")).unwrap()
}

const BATCH: [&str; 7] = [
    "prompts",
    "test",
    "ask",
    "--batch",
    "--json",
    "--poll-interval",
    "0.01",
];

fn resume_args(id: &str) -> [&str; 6] {
    [
        "prompts",
        "test",
        "--resume",
        id,
        "--json",
        "--poll-interval",
    ]
}

/// `--resume ID --json` polling fast: exit code, stdout, stderr.
fn resume(home: &tempfile::TempDir, mock: &Mock, id: &str) -> (Option<i32>, String, String) {
    let mut args = resume_args(id).to_vec();
    args.push("0.01");
    run(home, mock, &args)
}

#[test]
fn ctrl_c_while_grading_keeps_what_was_graded_and_resume_grades_the_rest() {
    let mock = Mock::start_in_background();
    let home = checked_home("");
    let mut args = BATCH.to_vec();
    args.extend(["--concurrency", "1"]);
    let child = spawn(&home, &mock, &args);
    // One and two are graded; three's check waits.
    let waiting = prompt_dir(&home).join("waiting");
    wait_for("case three's check to start", || waiting.exists());
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = exited_within(child, 30, "Ctrl-C during grading was not honoured");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "stopped by Ctrl-C: 2 finished runs kept (0 failed); `llmdeck prompts test --resume batch_0002mock` grades the rest of batch batch_0002mock"
        ),
        "{stderr}"
    );
    let stopped = json(&String::from_utf8_lossy(&out.stdout), &stderr);
    assert_eq!(stopped["interrupted"], true);
    let cases: Vec<&str> = stopped["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case"].as_str().unwrap())
        .collect();
    assert_eq!(cases, ["one", "two"]);
    assert_eq!(graded(&home), ["a", "b"]);
    // What was graded is kept and recorded; the batch waits for the rest.
    let tier = Some("batch".to_string());
    assert_eq!(
        ledger(&home),
        vec![
            (
                tier.clone(),
                "test,pass,batch".to_string(),
                "ok".to_string()
            );
            2
        ]
    );
    let run_id = stopped["run"].as_str().unwrap().to_string();
    let (_, kept, _) = run(&home, &mock, &["prompts", "runs"]);
    assert!(
        kept.contains(&run_id) && kept.contains("2/2 passed (interrupted)"),
        "{kept}"
    );
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(listed.starts_with("batch_0002mock  run "), "{listed}");
    // The requests' file is gone (the batch is over); its answers are kept for the rest.
    let (deleted, stored) = mock.batch_files();
    assert_eq!(deleted, ["file-0001mock"]);
    assert_eq!(stored.len(), 1, "{stored:?}");

    // Resumed, only three and four are graded; the run is whole, recorded once.
    std::fs::write(prompt_dir(&home).join("go"), "").unwrap();
    let (code, stdout, stderr) = resume(&home, &mock, "batch_0002mock");
    assert_eq!(code, Some(1), "four fails: {stderr}");
    let whole = json(&stdout, &stderr);
    assert_eq!(whole["interrupted"], false);
    assert_eq!(whole["run"], run_id.as_str());
    assert_eq!(whole["passed"], 3);
    assert_eq!(whole["results"].as_array().unwrap().len(), 4);
    assert_eq!(result(&whole, "one"), result(&stopped, "one"));
    assert_eq!(graded(&home), ["a", "b", "c", "d"]);
    let rows = ledger(&home);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| r.1 == "test,pass,batch").count(),
        3,
        "{rows:?}"
    );
    let (_, reopened, _) = run(&home, &mock, &["prompts", "runs", "--open", &run_id]);
    assert!(reopened.contains("3/4 passed"), "{reopened}");
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(listed.starts_with("no batches pending"), "{listed}");
    assert_eq!(mock.batch_files().1, Vec::<String>::new());
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
}

#[test]
fn a_slow_results_download_finishes_and_a_hung_one_fails_within_the_idle_timeout() {
    // A request may take no more than 6 s in all before the fix (connect + first byte).
    // An idle limit well above the pace: a loaded machine's pauses are not stalls.
    let config = "[timeouts]\nconnect_secs = 1\nfirst_byte_secs = 5\nidle_secs = 3\n";
    let mock = Mock::start_in_background();
    // About 3 KB of answers, 100 bytes every 250 ms: some 7 s, never 3 s silent.
    mock.pace_files(100, 250);
    let home = home(config);
    let started = Instant::now();
    let (code, stdout, stderr) = run(&home, &mock, &BATCH);
    assert_eq!(code, Some(1), "four fails: {stderr}");
    assert!(started.elapsed() > Duration::from_secs(6));
    let v = json(&stdout, &stderr);
    assert_eq!(result(&v, "one")["answer"], "Hello from the mock.");
    assert_eq!(v["passed"], 3);

    // A download that stops is given up after the idle timeout; the batch waits.
    mock.pace_files(200, 600_000);
    let home = self::home(config);
    let child = spawn(&home, &mock, &BATCH);
    let out = exited_within(child, 30, "a hung download");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("reading its results")
            && stderr.contains("stream stalled: nothing received for 3 s"),
        "{stderr}"
    );
    let (_, listed, _) = run(&home, &mock, &["prompts", "test", "--resume"]);
    assert!(listed.starts_with("batch_"), "still pending: {listed}");
}

/// A server that reads a request's body `pace` bytes every 100 ms (none at all
/// when `None`), then answers with an uploaded file. Its receive buffer is
/// small, so the client feels the pace.
async fn slow_reader(pace: Option<usize>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(4).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut head = Vec::new();
        let end = loop {
            let n = sock.read(&mut buf).await.unwrap();
            head.extend_from_slice(&buf[..n]);
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let text = String::from_utf8_lossy(&head[..end]).to_lowercase();
        let len: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap();
        let Some(pace) = pace else {
            tokio::time::sleep(Duration::from_secs(600)).await;
            return;
        };
        let mut got = head.len() - end;
        let mut since = 0;
        while got < len {
            let n = sock.read(&mut buf).await.unwrap();
            got += n;
            since += n;
            if since >= pace {
                since = 0;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let body = r#"{"id":"file-slow","object":"file","bytes":1,"created_at":1,"filename":"x.jsonl","purpose":"batch","status":"processed"}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(reply.as_bytes()).await.unwrap();
        let _ = sock.read(&mut buf).await;
    });
    format!("http://{addr}/v1")
}

fn uploader(base_url: &str) -> llmdeck::provider::Provider {
    use llmdeck::provider::http::{HttpClient, Timeouts};
    let endpoint = support::endpoint(base_url, "sk-test", llmdeck::chat::params::Api::Chat);
    let timeouts = Timeouts {
        connect_secs: 1,
        first_byte_secs: 3,
        idle_secs: 3,
        max_attempts: 1,
        max_retry_wait_secs: 1,
    };
    llmdeck::provider::Provider::Http(Box::new(HttpClient::new(endpoint, timeouts).unwrap()))
}

#[tokio::test]
async fn a_slow_upload_finishes_and_a_hung_one_fails_within_the_idle_timeout() {
    // 16 MB read 256 KiB every 100 ms (some 6.4 s): over the 4 s a request had in all.
    let jsonl = vec![b'x'; 16 * 1024 * 1024];
    let provider = uploader(&slow_reader(Some(256 * 1024)).await);
    let started = Instant::now();
    let id = provider.upload_batch_file("big.jsonl", &jsonl).await;
    assert_eq!(id, Ok("file-slow".to_string()));
    assert!(started.elapsed() > Duration::from_secs(4));
    // A server that stops reading: the upload stalls and is given up.
    let provider = uploader(&slow_reader(None).await);
    let started = Instant::now();
    let err = provider
        .upload_batch_file("big.jsonl", &jsonl)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the request's body stalled: nothing sent for 3 s"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn files_are_deleted_a_failed_delete_warns_and_a_resume_after_a_kill_neither_regrades_nor_records_twice()
 {
    let mock = Mock::start_in_background();
    let home = checked_home("");
    std::fs::write(prompt_dir(&home).join("go"), "").unwrap();
    // Deletes fail: a warning per file, the run is still a success of its own.
    mock.refuse_deletes(true);
    let (code, stdout, stderr) = run(&home, &mock, &BATCH);
    assert_eq!(code, Some(1), "four fails: {stderr}");
    let first = json(&stdout, &stderr);
    let run_id = first["run"].as_str().unwrap().to_string();
    assert!(
        stderr.contains("llmdeck: warning: file file-0001mock is still in the organisation's storage (deleting it failed: HTTP 500: The server had an error"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("is still in the organisation's storage")
            .count(),
        2
    );
    assert_eq!(mock.batch_files().1.len(), 2, "the input and output files");
    assert_eq!(graded(&home).len(), 4);
    let rows = ledger(&home);
    assert_eq!(rows.len(), 4);
    let undone = |home: &tempfile::TempDir| {
        evals_db(home)
            .execute("UPDATE batches SET done = 0", [])
            .unwrap()
    };

    // Killed after the ledger rows were written but before the run was kept:
    // resumed, it is graded again, and its answers are not recorded twice.
    undone(&home);
    evals_db(&home)
        .execute_batch("DELETE FROM run_results; DELETE FROM runs;")
        .unwrap();
    let (code, stdout, stderr) = resume(&home, &mock, "batch_0002mock");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(cells(&json(&stdout, &stderr)), cells(&first));
    assert_eq!(graded(&home).len(), 8, "graded again: nothing was kept");
    assert_eq!(ledger(&home), rows, "the answers' rows are the same rows");

    // Killed after the run was kept, before its files were deleted and it was
    // marked done: resumed, it is reported from the kept run and cleaned up.
    undone(&home);
    mock.refuse_deletes(false);
    let (code, stdout, stderr) = resume(&home, &mock, &run_id);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "batch batch_0002mock was graded before (run {run_id}): reported from the kept run, not graded again"
        )),
        "{stderr}"
    );
    let again = json(&stdout, &stderr);
    assert_eq!(cells(&again), cells(&first));
    assert_eq!(again["run"], run_id.as_str());
    assert_eq!(again["batch"]["status"], "completed");
    assert_eq!(graded(&home).len(), 8, "not graded again");
    assert_eq!(ledger(&home), rows, "nothing recorded again");
    let (deleted, stored) = mock.batch_files();
    assert_eq!(deleted, ["file-0001mock", "file-0003mock"]);
    assert!(stored.is_empty(), "{stored:?}");
    let (code, _, stderr) = run(&home, &mock, &["prompts", "test", "--resume", &run_id]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("batch batch_0002mock is finished"),
        "{stderr}"
    );
    assert!(
        mock.batch_problems().is_empty(),
        "{:?}",
        mock.batch_problems()
    );
}

#[test]
fn only_requests_sent_count_against_the_batch_limit_not_the_caches_answers() {
    use llmdeck::evals::batch::{self, Limits, Sending};
    use llmdeck::evals::run::{Interrupt, Options};
    let mock = Mock::start_in_background();
    let home = home("");
    // A live run fills the cache with the four cases' answers.
    let (_, stdout, stderr) = run(&home, &mock, &["prompts", "test", "ask", "--json"]);
    assert_eq!(json(&stdout, &stderr)["results"][0]["cached"], false);
    // Two new cases: six in all, two to send.
    let file = prompt_dir(&home).join("ask.md");
    let text = std::fs::read_to_string(&file).unwrap().replacen(
        "\n\n[[variables]]",
        "\n\n[[tests]]\nname = \"five\"\nvars = { q = \"e\" }\n\n[[tests]]\nname = \"six\"\nvars = { q = \"f\" }\n\n[[variables]]",
        1,
    );
    std::fs::write(&file, &text).unwrap();
    let env = |name: &str| match name {
        "OPENAI_BASE_URL" => Some(mock.base_url.clone()),
        "OPENAI_API_KEY" => Some("sk-cli-test".to_string()),
        _ => None,
    };
    let paths = llmdeck::config::Paths::under(home.path());
    let ctx = llmdeck::context::Context::load_with(paths, &Default::default(), &env).unwrap();
    let prompt = llmdeck::library::prompt::parse(&text).unwrap();
    let opts = Options {
        dir: prompt_dir(&home),
        ..Options::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let uploads = || {
        mock.batch_requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/files")
            .count()
    };
    let submit = |requests: usize| {
        let gate = std::sync::Mutex::new(llmdeck::usage::gate::Gate {
            budgets: Default::default(),
            spent: (0, 0),
            team: None,
            over: llmdeck::usage::gate::OverBudget::Allow,
        });
        let mut stop = Interrupt::new(false);
        let sending = Sending {
            gate: &gate,
            admit: &mut |_: i64| -> Result<(), String> { Ok(()) },
            limits: Limits {
                requests,
                ..Limits::default()
            },
            stop: &mut stop,
        };
        rt.block_on(batch::submit(&ctx, &prompt, &text, &[], &opts, sending))
    };
    // At the limit: two sent, four from the cache.
    let (plan, state) = submit(2).unwrap();
    assert!(state.is_some());
    assert_eq!(plan.items.len(), 6);
    assert_eq!(plan.items.iter().filter(|i| i.cached.is_some()).count(), 4);
    assert_eq!(uploaded(&mock).len(), 2);
    // One over it: refused before anything is uploaded.
    let before = uploads();
    let err = submit(1).unwrap_err();
    assert_eq!(
        err,
        "a batch holds at most 1 requests, and this run sends more: run part of the dataset"
    );
    assert_eq!(uploads(), before);
}
