//! `llmdeck chat --mcp`: the model calls tools of real MCP servers (from PyPI
//! and npm, installed by `.ci/run` under target/) and of small misbehaving ones
//! (tests/fixtures/mcp/fake_server.py); the real results must come back in the
//! next request, and every failure must be a result the conversation goes on with.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::llmdeck;
use support::mock_server::{Mock, Reply};

fn target(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(rel)
}

/// The time server from PyPI, or a skip.
fn time_server() -> Option<PathBuf> {
    let bin = target("mcp-venv/bin/mcp-server-time");
    if bin.is_file() {
        return Some(bin);
    }
    support::skip("mcp-server-time is not installed under target/mcp-venv (.ci/run installs it)");
    None
}

/// The everything server from npm (its entry script), or a skip.
fn everything_server() -> Option<PathBuf> {
    let js = target("mcp-npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if js.is_file() && which("node").is_some() {
        return Some(js);
    }
    support::skip(
        "@modelcontextprotocol/server-everything or node is missing (.ci/run installs them)",
    );
    None
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The Python interpreter itself (`python3` on PATH may be a wrapper script
/// that sets variables of its own, which would blur the environment test).
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn fake(mode: &str, extra: &str) -> String {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/fake_server.py");
    format!(
        "[mcp.fake]\ncommand = {:?}\nargs = [{:?}, {mode:?}]\n{extra}\n",
        python(),
        script.to_str().unwrap()
    )
}

fn chat(home: &std::path::Path, mock: &Mock, api: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["chat", "--model", "gpt-4o-mini", "--api", api];
    args.extend_from_slice(extra);
    llmdeck(home, Some(mock), &args, None)
}

/// `chat --mcp fake ARGS` with the fake server in `mode` (and `extra` config), the
/// model calling the tools of `list` once; the run must succeed.
fn run_fake(
    mode: &str,
    extra: &str,
    list: &[(&str, &str)],
    args: &[&str],
) -> (tempfile::TempDir, Mock, std::process::Output) {
    let home = support::home_with_config(&fake(mode, extra));
    let mock = Mock::start_in_background();
    mock.push(calls(list));
    let mut all = vec!["--mcp", "fake"];
    all.extend_from_slice(args);
    let out = chat(home.path(), &mock, "chat", &all);
    assert!(out.status.success(), "{mode}: {}", stderr(&out));
    (home, mock, out)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What the model was sent as the results of its calls in request `n`
/// (Chat Completions `tool` messages or Responses `function_call_output` items).
fn results_sent(mock: &Mock, n: usize) -> Vec<String> {
    let body = mock.received()[n].json();
    let items = body
        .get("messages")
        .or_else(|| body.get("input"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .filter(|m| m["role"] == "tool" || m["type"] == "function_call_output")
        .map(|m| {
            m.get("content")
                .or_else(|| m.get("output"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn calls(list: &[(&str, &str)]) -> Reply {
    Reply::Calls(
        list.iter()
            .map(|(n, a)| (n.to_string(), a.to_string()))
            .collect(),
    )
}

#[test]
fn the_time_server_from_pypi_answers_and_its_result_reaches_the_model() {
    let Some(bin) = time_server() else { return };
    for api in ["chat", "responses"] {
        let home = support::home_with_config(&format!(
            "[mcp.time]\ncommand = {:?}\nargs = [\"--local-timezone\", \"UTC\"]\n",
            bin.to_str().unwrap()
        ));
        let mock = Mock::start_in_background();
        mock.push(calls(&[(
            "get_current_time",
            r#"{"timezone":"Asia/Tokyo"}"#,
        )]));
        let out = chat(
            home.path(),
            &mock,
            api,
            &[
                "--mcp",
                "time",
                "--approve",
                "always",
                "--json",
                "What time is it in Tokyo?",
            ],
        );
        assert!(out.status.success(), "{api}: {}", stderr(&out));
        // The tools were offered, the real result went back, the final answer came.
        let first = mock.received()[0].json();
        assert!(
            first["tools"].to_string().contains("get_current_time"),
            "{api}: {first}"
        );
        let sent = results_sent(&mock, 1);
        assert_eq!(sent.len(), 1, "{api}: {sent:?}");
        let result: Value =
            serde_json::from_str(&sent[0]).unwrap_or_else(|e| panic!("{e}: {sent:?}"));
        assert_eq!(result["timezone"], "Asia/Tokyo", "{api}");
        assert!(
            result["datetime"].as_str().unwrap().contains('T'),
            "{api}: {result}"
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["text"], "Hello from the mock.");
        let steps = v["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 2, "{v}");
        let run = &steps[0]["tool_runs"][0];
        assert_eq!(run["tool"], "get_current_time");
        assert_eq!(run["server"], "time");
        assert_eq!(run["outcome"], "ok");
        assert_eq!(run["arguments"], r#"{"timezone":"Asia/Tokyo"}"#);
        assert_eq!(run["result"].as_str().unwrap(), sent[0]);
        assert!(run["duration_ms"].is_u64());
        assert!(
            steps[0]["cost_micros"].is_i64() && steps[1]["cost_micros"].is_i64(),
            "{v}"
        );
        assert_eq!(steps[1]["tool_runs"], json!([]));
        let total =
            steps[0]["cost_micros"].as_i64().unwrap() + steps[1]["cost_micros"].as_i64().unwrap();
        assert_eq!(v["total_cost_micros"], total);
        // Each model call is its own ledger row, numbered and linked to the answer.
        let ledger =
            llmdeck::usage::Ledger::open(&home.path().join("data/ledger.sqlite3")).unwrap();
        let answer = v["answer_id"].as_str().unwrap();
        let rows = llmdeck::usage::steps::steps_of(&ledger, answer).unwrap();
        assert_eq!(rows.len(), 2, "{api}: {rows:?}");
        assert_eq!((rows[0].0, rows[1].0), (1, 2));
        assert_eq!(rows[0].2, steps[0]["cost_micros"].as_i64());
        let runs = llmdeck::usage::steps::tool_runs_of(&ledger, answer).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            (runs[0].0, runs[0].1.as_str(), runs[0].2.as_str()),
            (1, "get_current_time", "ok")
        );
        assert_eq!(runs[0].3, run["duration_ms"].as_u64().unwrap());
    }
}

#[test]
fn the_everything_server_from_npm_runs_over_stdio() {
    let Some(js) = everything_server() else {
        return;
    };
    let node = which("node").unwrap();
    let home = support::home_with_config(&format!(
        "[mcp.every]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\n",
        node.to_str().unwrap(),
        js.to_str().unwrap()
    ));
    let mock = Mock::start_in_background();
    mock.push(calls(&[("echo", r#"{"message":"round trip 7731"}"#)]));
    let out = chat(
        home.path(),
        &mock,
        "chat",
        &["--mcp", "every", "--approve", "always", "Echo it"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = results_sent(&mock, 1);
    assert_eq!(sent, vec!["Echo: round trip 7731".to_string()]);
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_everything_server_from_npm_runs_over_streamable_http_with_its_headers() {
    let Some(js) = everything_server() else {
        return;
    };
    let port = free_port();
    let mut server = std::process::Command::new(which("node").unwrap())
        .arg(&js)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the everything server did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let home = support::home_with_config(&format!(
        "[mcp.remote]\nurl = \"http://127.0.0.1:{port}/mcp\"\nheaders = {{ X-Team-Token = \"mcp-header-secret-4471\" }}\n"
    ));
    let mock = Mock::start_in_background();
    mock.push(calls(&[("get-sum", r#"{"a":2,"b":40}"#)]));
    let out = chat(
        home.path(),
        &mock,
        "responses",
        &["--mcp", "remote", "--approve", "always", "Add"],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = results_sent(&mock, 1);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("42"), "{sent:?}");
}

#[test]
fn a_header_secret_never_reaches_an_error_a_result_or_a_file() {
    // The server is a streamable HTTP one whose tool echoes the headers it got.
    let port = free_port();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/fake_server.py");
    let mut server = std::process::Command::new(python())
        .arg(&script)
        .args(["http", &port.to_string()])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the fake HTTP server did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let secret = "mcp-header-secret-9927-zz";
    let home = support::home_with_config(&format!(
        "[mcp.remote]\nurl = \"http://127.0.0.1:{port}/mcp\"\nheaders = {{ X-Team-Token = \"{secret}\" }}\n"
    ));
    let log = home.path().join("llmdeck.log");
    let log_arg = log.to_str().unwrap();
    let mock = Mock::start_in_background();
    mock.push(calls(&[("probe", "{}")]));
    let out = chat(
        home.path(),
        &mock,
        "chat",
        &[
            "--mcp",
            "remote",
            "--approve",
            "always",
            "--log",
            log_arg,
            "--json",
            "hi",
        ],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    // The header was sent (the server saw it) but is shown nowhere.
    let sent = results_sent(&mock, 1);
    assert!(
        sent[0].to_lowercase().contains("x-team-token: [redacted]"),
        "{sent:?}"
    );
    let mut seen = vec![
        stderr(&out),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ];
    seen.push(std::fs::read_to_string(&log).unwrap_or_default());
    seen.extend(mock.received().iter().map(|r| r.json().to_string()));
    for dir in ["data/conversations", "data"] {
        for f in std::fs::read_dir(home.path().join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            seen.push(
                String::from_utf8_lossy(&std::fs::read(f.path()).unwrap_or_default()).into_owned(),
            );
        }
    }
    for text in &seen {
        assert!(!text.contains(secret), "the header value leaked: {text}");
    }
    // A server that cannot be reached names itself, and still not the secret.
    let mock = Mock::start_in_background();
    let out = chat(
        home.path(),
        &mock,
        "chat",
        &["--mcp", "remote", "--approve", "always", "hi"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("MCP server remote: cannot start"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(secret));
    assert!(
        mock.received().is_empty(),
        "nothing is sent when a server cannot start"
    );
}

#[test]
fn a_server_gets_only_the_environment_its_config_names() {
    let (_home, mock, out) = run_fake(
        "env",
        "env = { ONLY_THIS = \"yes\", GITHUB_TOKEN = \"env-secret-value-5531\" }",
        &[("probe", "{}")],
        &["--approve", "always", "env?"],
    );
    let sent = results_sent(&mock, 1);
    let env: Value = serde_json::from_str(&sent[0]).unwrap_or_else(|e| panic!("{e}: {sent:?}"));
    assert_eq!(env["ONLY_THIS"], "yes");
    // A value named like a secret is the server's to use, never shown or sent on.
    assert!(env.get("GITHUB_TOKEN").is_some(), "{env}");
    for text in [
        sent[0].as_str(),
        &String::from_utf8_lossy(&out.stdout),
        &stderr(&out),
    ] {
        assert!(!text.contains("env-secret-value-5531"), "{text}");
    }
    // llmdeck's own environment (its API key above all) stays with llmdeck.
    for ours in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMDECK_HOME", "PATH"] {
        assert!(env.get(ours).is_none(), "{ours} leaked: {env}");
    }
}

#[test]
fn a_refused_call_tells_the_model_and_ask_needs_a_terminal() {
    let (home, mock, _) = run_fake("env", "", &[("probe", "{}")], &["--approve", "never", "go"]);
    let sent = results_sent(&mock, 1);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].starts_with("the user refused to run this tool"),
        "{sent:?}"
    );
    // Asking needs a terminal: with standard input piped nothing is sent.
    let mock = Mock::start_in_background();
    let out = chat(home.path(), &mock, "chat", &["--mcp", "fake", "go"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--approve ask"), "{}", stderr(&out));
    assert!(mock.received().is_empty());
}

#[test]
fn a_server_that_crashes_mid_call_gives_an_error_result_and_the_answer_goes_on() {
    let (_home, mock, out) = run_fake(
        "crash",
        "",
        &[("probe", "{}")],
        &["--approve", "always", "--json", "go"],
    );
    let sent = results_sent(&mock, 1);
    assert!(sent[0].starts_with("error: MCP server fake"), "{sent:?}");
    assert!(
        sent[0].contains("fatal: the probe broke"),
        "its stderr tail is shown: {sent:?}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"][0]["tool_runs"][0]["outcome"], "error");
    assert_eq!(v["text"], "Hello from the mock.");
}

#[test]
fn a_server_that_never_answers_or_answers_garbage_is_stopped_at_its_time_limit() {
    for mode in ["hang", "malformed"] {
        let started = Instant::now();
        let (_home, mock, _) = run_fake(
            mode,
            "call_secs = 2",
            &[("probe", "{}")],
            &["--approve", "always", "go"],
        );
        assert!(started.elapsed() < Duration::from_secs(60), "{mode}");
        let sent = results_sent(&mock, 1);
        assert!(
            sent[0].starts_with("error: MCP server fake"),
            "{mode}: {sent:?}"
        );
    }
}

#[test]
fn hostile_tool_output_is_inert_in_chat_output() {
    let (_home, mock, out) = run_fake(
        "hostile",
        "",
        &[("probe", "{}")],
        &["--approve", "always", "go"],
    );
    let err = stderr(&out);
    assert!(
        err.contains("␛]52;c;cHduZWQ="),
        "the result is shown, inert: {err}"
    );
    let bad: Vec<char> = err
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}'))
        .collect();
    assert!(bad.is_empty(), "{bad:?} reached the output: {err:?}");
    // The model gets the text as the tool gave it.
    assert!(results_sent(&mock, 1)[0].contains("\u{1b}]52;c;cHduZWQ=\u{7}"));
}

#[test]
fn several_calls_in_one_answer_run_in_parallel() {
    // The fake answers neither call until both wait: calls run one after the
    // other would hit the time limit instead.
    let (_home, mock, _) = run_fake(
        "pair",
        "call_secs = 20",
        &[("probe", r#"{"n":1}"#), ("probe", r#"{"n":2}"#)],
        &["--approve", "always", "go"],
    );
    assert_eq!(results_sent(&mock, 1), vec!["paired 1", "paired 2"]);
}

#[test]
fn the_step_limit_ends_the_loop_with_a_failure() {
    let home = support::home_with_config(&fake("env", ""));
    let mock = Mock::start_in_background();
    for _ in 0..3 {
        mock.push(calls(&[("probe", "{}")]));
    }
    let out = chat(
        home.path(),
        &mock,
        "chat",
        &[
            "--mcp",
            "fake",
            "--approve",
            "always",
            "--max-steps",
            "2",
            "--json",
            "loop",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("step limit (2)"), "{}", stderr(&out));
    assert_eq!(mock.received().len(), 2, "two model calls, no third");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"].as_array().unwrap().len(), 2);
}

#[test]
fn an_unknown_server_is_named_before_anything_is_sent() {
    let home = support::home_with_config(&fake("env", ""));
    let mock = Mock::start_in_background();
    let out = chat(
        home.path(),
        &mock,
        "chat",
        &["--mcp", "nope", "--approve", "always", "go"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no MCP server \"nope\""),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("fake"));
    assert!(mock.received().is_empty());
}

/// Runs llmdeck on a terminal, typing each answer once the output so far
/// contains its prompt; what the terminal showed.
fn on_terminal(
    home: &std::path::Path,
    mock: &Mock,
    args: &[&str],
    answers: &[(&str, &str)],
) -> String {
    let cmd = support::llmdeck_command(home, Some(mock), args);
    support::pty::on_terminal(cmd, answers).0
}

#[test]
fn ask_on_the_terminal_runs_once_always_or_refuses_with_a_reason() {
    let home = support::home_with_config(&fake("env", ""));
    let args = [
        "chat",
        "--model",
        "gpt-4o-mini",
        "--api",
        "chat",
        "--mcp",
        "fake",
        "go",
    ];
    // "a": this tool runs without asking again, for the rest of the conversation.
    let mock = Mock::start_in_background();
    mock.push(calls(&[("probe", r#"{"n":1}"#)]));
    mock.push(calls(&[("probe", r#"{"n":2}"#)]));
    let shown = on_terminal(home.path(), &mock, &args, &[("[n]o: ", "a")]);
    assert_eq!(shown.matches("[n]o: ").count(), 1, "asked once: {shown}");
    assert_eq!(mock.received().len(), 3, "{shown}");
    // Both calls ran: each result is the server's environment, not a refusal.
    for n in [1, 2] {
        let sent = results_sent(&mock, n);
        assert!(
            serde_json::from_str::<Value>(&sent[0]).is_ok_and(|v| v.is_object()),
            "{sent:?}"
        );
    }
    // "n" and a reason: the model is told, with the reason.
    let mock = Mock::start_in_background();
    mock.push(calls(&[("probe", "{}")]));
    let shown = on_terminal(
        home.path(),
        &mock,
        &args,
        &[
            ("[n]o: ", "n"),
            ("Reason for the model (Enter for none): ", "not on a Friday"),
        ],
    );
    assert_eq!(
        results_sent(&mock, 1),
        vec!["the user refused to run this tool: not on a Friday"],
        "{shown}"
    );
}

#[test]
fn each_step_of_the_loop_is_checked_against_the_budgets() {
    // The mock's answers cost $0.00475 on gpt-4o: the first (a call) takes today
    // over this hard-stop budget, so the loop's second request must not go.
    let home = support::home_with_config(&format!(
        "[budgets]\ndaily_usd = 0.004\nhard_stop = true\n{}",
        fake("env", "")
    ));
    let mock = Mock::start_in_background();
    mock.push(calls(&[("probe", "{}")]));
    let args = [
        "chat",
        "--model",
        "gpt-4o",
        "--mcp",
        "fake",
        "--approve",
        "always",
        "Probe it",
    ];
    let out = llmdeck(home.path(), Some(&mock), &args, None);
    assert!(!out.status.success(), "the loop did not finish");
    let err = stderr(&out);
    assert!(
        err.contains("daily spend") && err.contains("of the $0.004 budget"),
        "{err}"
    );
    assert!(err.contains("the tool results are saved"), "{err}");
    assert_eq!(
        mock.chat_requests().len(),
        1,
        "the second step was not sent"
    );
    // --allow-over-budget lets every step go.
    mock.push(calls(&[("probe", "{}")]));
    let mut allowed = args.to_vec();
    allowed.push("--allow-over-budget");
    let out = llmdeck(home.path(), Some(&mock), &allowed, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mock.chat_requests().len(), 3);
}
