//! Tools that run, in the console: the agent loop's round trip in the real
//! binary (tmux) against a real MCP server (tests/fixtures/mcp/fake_server.py,
//! and mcp-server-time from PyPI) and the mock model: approval, refusal,
//! parallel calls, Esc, crashes, hostile output, budgets between steps,
//! compared answers and reopened conversations. tests/tool_loop.rs holds the
//! same console as state changes.

mod support;

use std::path::PathBuf;

use llmdeck::tools::agent::REFUSED;
use serde_json::Value;
use support::mock_server::{Mock, Reply};

fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A home whose config has the fake server (mode `env`: its result is its
/// environment, which holds `MARK`).
fn home() -> tempfile::TempDir {
    home_with("env", "")
}

/// The fake server in `mode`, with `top` at the top of config.toml.
fn home_with(mode: &str, top: &str) -> tempfile::TempDir {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/fake_server.py");
    support::home_with_config(&format!(
        "{top}\n[mcp.fake]\ncommand = {:?}\nargs = [{:?}, {mode:?}]\nenv = {{ MARK = \"result-from-the-real-server\" }}\n",
        python(),
        script.to_str().unwrap()
    ))
}

/// The tool results the model was sent in request `n`.
fn results_sent(mock: &Mock, n: usize) -> Vec<String> {
    let body = mock.received()[n].json();
    body["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Starts the console, turns the fake server on in the tools panel (it
/// starts in the background) and asks a question the mock answers with a
/// call of its tool; returns once the approval is asked.
fn ask_with_tool(home: &std::path::Path, mock: &Mock) -> Option<support::tmux::Tmux> {
    mock.push(Reply::Calls(vec![("probe".into(), r#"{"n": 1}"#.into())]));
    let t = start_and_ask(home, mock)?;
    t.wait_for("Run this tool?");
    t.wait_for("y run once"); // its keys work once the keyboard has rested
    Some(t)
}

/// The console with the fake server turned on, a question sent.
fn start_and_ask(home: &std::path::Path, mock: &Mock) -> Option<support::tmux::Tmux> {
    let t = start_with_server(home, mock)?;
    t.type_text("probe the server");
    t.keys(&["Enter"]);
    Some(t)
}

/// The console with the fake server turned on.
fn start_with_server(home: &std::path::Path, mock: &Mock) -> Option<support::tmux::Tmux> {
    start_turning_on(home, mock, "fake", "probe — Probes the server")
}

/// The console with the server `name` turned on in the tools panel, once
/// `ready` (one of its tools) is listed.
fn start_turning_on(
    home: &std::path::Path,
    mock: &Mock,
    name: &str,
    ready: &str,
) -> Option<support::tmux::Tmux> {
    let t = start(home, mock)?;
    t.keys(&["M-t"]);
    t.wait_for(&format!("MCP {name} — not started"));
    t.keys(&["Enter"]);
    t.wait_for(&format!("MCP {name} — ready"));
    t.wait_for(ready);
    t.keys(&["Escape"]);
    t.wait_gone(&format!("MCP {name}"));
    Some(t)
}

fn start(home: &std::path::Path, mock: &Mock) -> Option<support::tmux::Tmux> {
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-console-tools"),
    ];
    let t = support::tmux::Tmux::start(home, &env, &["--model", "gpt-4o-mini"])?;
    t.wait_for("Prompt");
    Some(t)
}

#[test]
fn the_console_runs_an_approved_tool_and_sends_its_real_result() {
    let home = home();
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    let screen = t.screen();
    assert!(screen.contains("on MCP server fake"), "{screen}");
    t.keys(&["y"]);
    let screen = t.wait_for("Hello from the mock.");
    let screen = match screen.contains("steps") {
        true => screen,
        false => t.wait_for("2 steps"),
    };
    assert!(screen.contains("✓ ran on fake in"), "{screen}");
    assert!(screen.contains("2 steps"), "{screen}");
    assert!(screen.contains("in all"), "{screen}");
    // The real result (the server's environment) went back to the model.
    let received = mock.received();
    assert_eq!(received.len(), 2, "two model calls");
    let sent = results_sent(&mock, 1);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("result-from-the-real-server"), "{sent:?}");
    assert!(
        !sent[0].contains("sk-console-tools"),
        "the server saw none of llmdeck's environment"
    );
    // The MCP tool was offered as a function in both requests.
    assert_eq!(received[0].json()["tools"][0]["function"]["name"], "probe");
    // The Spend pane groups by tool: the call that asked for probe, and the other.
    t.keys(&["M-2"]);
    t.wait_for("by model");
    use llmdeck::usage::report::GroupBy;
    let at = |g: GroupBy| GroupBy::ALL.iter().position(|x| *x == g).unwrap();
    for _ in at(GroupBy::Model)..at(GroupBy::Tool) {
        t.keys(&["Tab"]);
    }
    let spend = t.wait_for("by tool");
    // The groups arrive after the heading: wait for both.
    let spend = match spend.contains("probe") && spend.contains("(none)") {
        true => spend,
        false => {
            t.wait_for("probe");
            t.wait_for("(none)")
        }
    };
    assert!(
        spend.contains("probe") && spend.contains("(none)"),
        "{spend}"
    );
    t.keys(&["C-q"]);
    t.wait_exit();
    // Each model call is its own ledger row, numbered as a step of one answer,
    // with the tool run between them.
    let ledger = llmdeck::usage::Ledger::open(&home.path().join("data/ledger.sqlite3")).unwrap();
    let answer: String = ledger
        .connection()
        .query_row("SELECT answer_id FROM steps WHERE step = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let steps = llmdeck::usage::steps::steps_of(&ledger, &answer).unwrap();
    assert_eq!(steps.len(), 2, "{steps:?}");
    let runs = llmdeck::usage::steps::tool_runs_of(&ledger, &answer).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].0, runs[0].1.as_str(), runs[0].2.as_str()),
        (1, "probe", "ok")
    );
}

#[test]
fn the_console_asks_before_the_loops_next_step_over_a_budget() {
    // The first answer (a call) costs $0.000285 on gpt-4o-mini: it takes today
    // over this hard-stop budget, so the step after the tool must ask first.
    let home = home_with("env", "[budgets]\ndaily_usd = 0.0001\nhard_stop = true\n");
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    t.keys(&["y"]);
    t.wait_for("Send anyway?");
    assert_eq!(mock.received().len(), 1, "the second step waits for a yes");
    t.wait_gone("read it first"); // its keys work once the keyboard has rested
    t.keys(&["n"]);
    t.wait_gone("Send anyway?");
    let screen = t.screen();
    assert!(screen.contains("✓ ran on fake in"), "{screen}");
    assert_eq!(mock.received().len(), 1, "a no sends nothing");
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn answers_compared_with_a_server_on_are_answers_not_steps() {
    let home = home();
    let mock = Mock::start_in_background();
    let Some(t) = start_with_server(home.path(), &mock) else {
        return;
    };
    t.type_text("same question for two");
    t.keys(&["C-r"]);
    t.wait_for("Compare gpt-4o-mini with");
    t.keys(&["C-u"]);
    t.type_text("gpt-4o");
    t.keys(&["Enter"]);
    while mock.received().len() < 2 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    t.wait_for("Hello from the mock.");
    t.keys(&["C-q"]);
    t.wait_exit();
    let ledger = llmdeck::usage::Ledger::open(&home.path().join("data/ledger.sqlite3")).unwrap();
    let count = |sql: &str| -> i64 {
        ledger
            .connection()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count("SELECT count(*) FROM requests"), 2, "two answers");
    assert_eq!(
        count("SELECT count(*) FROM steps"),
        0,
        "not one answer's steps"
    );
}

#[test]
fn a_reopened_conversation_offers_no_tools_of_servers_now_off() {
    let home = home();
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    t.keys(&["Escape"]);
    t.wait_gone("Run this tool?");
    t.keys(&["C-q"]);
    t.wait_exit();
    assert_eq!(
        mock.received()[0].json()["tools"][0]["function"]["name"],
        "probe"
    );
    // Another day: the conversation is opened again, its server not turned on.
    let Some(t) = start(home.path(), &mock) else {
        return;
    };
    t.keys(&["C-o"]);
    t.wait_for("probe the server");
    t.keys(&["Enter"]);
    t.type_text("go on without it");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    let body = mock.received()[1].json();
    assert!(body.get("tools").is_none(), "{body}");
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn a_refusal_in_the_console_goes_back_to_the_model_with_its_reason() {
    let home = home();
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    t.keys(&["n"]);
    t.wait_for("a reason for the model");
    t.type_text("not on a Friday");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    let screen = t.wait_for("2 steps");
    assert!(screen.contains("⊘"), "{screen}");
    let sent = results_sent(&mock, 1);
    assert_eq!(sent, vec![format!("{REFUSED}: not on a Friday")]);
    let body: Value = mock.received()[1].json();
    assert!(!body.to_string().contains("result-from-the-real-server"));
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn calls_made_together_run_together_and_always_is_asked_once() {
    // The `pair` server answers no call until two are waiting.
    let home = home_with("pair", "");
    let mock = Mock::start_in_background();
    mock.push(Reply::Calls(vec![
        ("probe".into(), r#"{"n": 1}"#.into()),
        ("probe".into(), r#"{"n": 2}"#.into()),
    ]));
    let Some(t) = start_and_ask(home.path(), &mock) else {
        return;
    };
    t.wait_for("Run this tool? (1 of 2)");
    t.wait_for("y run once");
    t.keys(&["a"]);
    t.wait_for("Hello from the mock.");
    assert_eq!(results_sent(&mock, 1), vec!["paired 1", "paired 2"]);
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn esc_stops_a_hung_tool_and_the_loop() {
    let home = home_with("hang", "");
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    t.keys(&["y"]);
    t.wait_for("running on fake");
    t.wait_for("tools running, Esc stops");
    t.keys(&["Escape"]);
    let screen = t.wait_for("stopped: no result sent");
    // The call now waits for a typed result, as one no server provides.
    assert!(screen.contains("Result for probe"), "{screen}");
    assert_eq!(mock.received().len(), 1, "nothing more was sent");
    t.type_text("typed by hand");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    assert_eq!(results_sent(&mock, 1), vec!["typed by hand"]);
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn a_crash_is_flagged_on_the_card_and_hostile_output_stays_inert() {
    let home = home_with("crash", "");
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    t.keys(&["y"]);
    t.wait_for("Hello from the mock.");
    let screen = t.wait_for("✖ failed on fake");
    assert!(
        screen.contains("the probe broke"),
        "stderr's tail shown: {screen}"
    );
    let sent = results_sent(&mock, 1);
    assert!(sent[0].starts_with("error: MCP server fake"), "{sent:?}");
    t.keys(&["C-q"]);
    t.wait_exit();

    let home = home_with("hostile", "");
    let mock = Mock::start_in_background();
    let Some(t) = ask_with_tool(home.path(), &mock) else {
        return;
    };
    t.keys(&["y"]);
    let screen = t.wait_for("Hello from the mock.");
    // A clear-screen in the result cleared nothing; its text is shown, not obeyed.
    assert!(screen.contains("probe the server"), "{screen}");
    assert!(
        screen.contains("before") && screen.contains("after"),
        "{screen}"
    );
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn the_step_limit_in_config_ends_the_console_loop() {
    let home = home_with("env", "max_steps = 1");
    let mock = Mock::start_in_background();
    mock.push(Reply::Calls(vec![("probe".into(), "{}".into())]));
    let Some(t) = start_and_ask(home.path(), &mock) else {
        return;
    };
    let screen = t.wait_for("step limit (1)");
    assert!(!screen.contains("Run this tool?"), "{screen}");
    assert_eq!(mock.received().len(), 1);
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn a_server_that_cannot_start_says_why_in_the_panel() {
    let home = support::home_with_config(
        "[mcp.gone]\ncommand = \"/nonexistent/mcp-server\"\nargs = [\"--flag\"]\n",
    );
    let mock = Mock::start_in_background();
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-console-tools"),
    ];
    let Some(t) = support::tmux::Tmux::start(home.path(), &env, &["--model", "gpt-4o-mini"]) else {
        return;
    };
    t.wait_for("Prompt");
    t.keys(&["M-t"]);
    t.wait_for("MCP gone — not started (/nonexistent/mcp-server --flag)");
    t.keys(&["Enter"]);
    let screen = t.wait_for("failed (Enter tries again)");
    assert!(screen.contains("/nonexistent/mcp-server"), "{screen}");
    t.keys(&["C-q"]);
    t.wait_exit();
}

/// A server's token can sit in its url's path or in its arguments: the
/// panel shows the server's host and command, never the token, nor does a
/// failure that echoes them (both showed before).
#[test]
fn the_tools_panel_shows_no_token_of_a_url_or_an_argument() {
    let (url_token, key, token) = (
        "sk-ak-7Hq2Zp9Lw3Xv8Rt1",
        "93kf02mvQ81xLp",
        "tk0192837465abcdef",
    );
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("s");
    std::fs::write(&server, "#!/bin/sh\necho \"$@\" >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&server, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let home = support::home_with_config(&format!(
        "[mcp.local]\ncommand = {server:?}\nargs = [\"--api-key\", \"{key}\", \"--token={token}\"]\n\n[mcp.remote]\nurl = \"https://h.example/mcp/{url_token}/sse\"\nhosted = true\n",
    ));
    let mock = Mock::start_in_background();
    let Some(t) = start(home.path(), &mock) else {
        return;
    };
    t.keys(&["M-t"]);
    let screen = t.wait_for_all(&[
        "MCP local — not started",
        "--api-key … --token=…)",
        "(https://h.example/mcp/…/sse)",
    ]);
    for secret in [url_token, key, token] {
        assert!(!screen.contains(secret), "{secret} on screen:\n{screen}");
    }
    t.keys(&["Enter"]);
    // Its stderr (which echoes its arguments) shows, redacted.
    let screen = t.wait_for("its stderr e");
    assert!(screen.contains("failed (Enter tries again)"), "{screen}");
    for secret in [url_token, key, token] {
        assert!(!screen.contains(secret), "{secret} on screen:\n{screen}");
    }
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn the_time_server_from_pypi_runs_from_the_console() {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mcp-venv/bin/mcp-server-time");
    if !bin.is_file() {
        support::skip(
            "mcp-server-time is not installed under target/mcp-venv (.ci/run installs it)",
        );
        return;
    }
    let home = support::home_with_config(&format!(
        "[mcp.time]\ncommand = {:?}\nargs = [\"--local-timezone\", \"UTC\"]\n",
        bin.to_str().unwrap()
    ));
    let mock = Mock::start_in_background();
    mock.push(Reply::Calls(vec![(
        "get_current_time".into(),
        r#"{"timezone":"Asia/Tokyo"}"#.into(),
    )]));
    let Some(t) = start_turning_on(home.path(), &mock, "time", "get_current_time") else {
        return;
    };
    t.type_text("What time is it in Tokyo?");
    t.keys(&["Enter"]);
    t.wait_for("Run this tool?");
    t.wait_for("y run once"); // its keys work once the keyboard has rested
    t.keys(&["y"]);
    t.wait_for("Hello from the mock.");
    t.wait_for("2 steps");
    let sent = results_sent(&mock, 1);
    let result: Value = serde_json::from_str(&sent[0]).unwrap_or_else(|e| panic!("{e}: {sent:?}"));
    assert_eq!(result["timezone"], "Asia/Tokyo");
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn the_everything_server_from_npm_runs_from_the_console_and_its_image_is_an_attachment() {
    let js = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/mcp-npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let node = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("node"))
            .find(|p| p.is_file())
    });
    let (true, Some(node)) = (js.is_file(), node) else {
        support::skip(
            "@modelcontextprotocol/server-everything or node is missing (.ci/run installs them)",
        );
        return;
    };
    let home = support::home_with_config(&format!(
        "[mcp.every]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\n",
        node.to_str().unwrap(),
        js.to_str().unwrap()
    ));
    let mock = Mock::start_in_background();
    mock.push(Reply::Calls(vec![
        (
            "echo".into(),
            r#"{"message":"from the console 5521"}"#.into(),
        ),
        ("get-tiny-image".into(), "{}".into()),
    ]));
    // The next answer begins and stays open: the cards stay on the screen.
    mock.push(Reply::Stall {
        pieces: vec!["Looking at it".into()],
    });
    let Some(t) = start_turning_on(home.path(), &mock, "every", "echo") else {
        return;
    };
    t.type_text("Echo it and show the logo");
    t.keys(&["Enter"]);
    t.wait_for("Run this tool? (1 of 2)");
    t.wait_for("y run once");
    t.keys(&["y"]);
    t.wait_gone("(1 of 2)");
    t.wait_for("y run once"); // the next call is read before it is answered
    t.keys(&["y"]);
    // The image is an attachment line on its result's card, not base64.
    let screen = t.wait_for("⊕ get-tiny-image-1.png · image/png");
    assert!(!screen.contains("iVBORw0KGgo"), "{screen}");
    t.wait_for("Looking at it");
    // The real results went back in the next request: the echo, and the image.
    let sent = results_sent(&mock, 1);
    assert_eq!(sent[0], "Echo: from the console 5521", "{sent:?}");
    assert!(
        sent[1].contains("[image get-tiny-image-1.png: attached]"),
        "{sent:?}"
    );
    let body = mock.received()[1].json();
    let image = &body["messages"].as_array().unwrap().last().unwrap()["content"][1];
    assert!(
        image["image_url"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("data:image/png;base64,iVBORw0KGgo")),
        "{body}"
    );
    // Esc stops the open answer; its effect is waited for before the next key.
    t.keys(&["Escape"]);
    t.wait_for("■ stopped");
    t.keys(&["C-q"]);
    t.wait_exit();
}
