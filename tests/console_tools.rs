//! Tools that run, in the console: the tools panel with its MCP servers and
//! their status, the approval asked on a tool card, and the agent loop's
//! round trip in the real binary (tmux) against a real MCP server
//! (tests/fixtures/mcp/fake_server.py) and the mock model.

mod support;

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyModifiers};
use llmdeck::chat::machine::Input;
use llmdeck::provider::event::{FinishReason, StreamEvent, Usage, UsageSource};
use llmdeck::tools::agent::REFUSED;
use llmdeck::tools::mcp::McpTool;
use llmdeck::tui::core::mcp::{CallState, Mcp, ServerRow, Status};
use llmdeck::tui::overlays::tools::approve;
use llmdeck::tui::state::Overlay;
use llmdeck::tui::update::Command;
use serde_json::Value;
use support::console::Console;
use support::mock_server::{Mock, Reply};

fn tool(server: &str, name: &str, description: &str) -> McpTool {
    McpTool {
        server: server.into(),
        name: name.into(),
        description: description.into(),
        schema: serde_json::json!({"type": "object", "properties": {"timezone": {"type": "string"}}}),
    }
}

fn row(name: &str, how: &str, status: Status, on: bool) -> ServerRow {
    ServerRow {
        name: name.into(),
        how: how.into(),
        status,
        on,
    }
}

/// Four servers, one in each state; `time` on with its tools.
fn servers() -> Mcp {
    Mcp::new(
        vec![
            row(
                "time",
                "/opt/mcp/bin/mcp-server-time --local-timezone UTC",
                Status::Ready(vec![
                    tool("time", "get_current_time", "Current time in a timezone"),
                    tool("time", "convert_time", "Convert a time between timezones"),
                ]),
                true,
            ),
            row("everything", "node /opt/everything/index.js", Status::Starting, true),
            row(
                "broken",
                "python3 broken.py --secret-arg",
                Status::Failed(
                    "MCP server broken: cannot start: python3 broken.py --secret-arg: connection closed; its stderr ends: ImportError: no module named mcp\u{1b}[31m".into(),
                ),
                false,
            ),
            row("remote", "https://mcp.example.com/mcp", Status::Idle, false),
        ],
        10,
    )
}

fn open_panel(c: &mut Console) {
    c.key(KeyCode::Char('t'), KeyModifiers::ALT);
    assert!(matches!(
        c.state.overlays.last(),
        Some(Overlay::Tools { .. })
    ));
}

#[test]
fn the_panel_lists_the_servers_with_their_status_and_the_tools_of_those_on() {
    let mut c = Console::new("gpt-4o-mini");
    c.state.mcp = servers();
    open_panel(&mut c);
    // As wide as the panel: no covered text peeks out at its sides.
    let screen = c.screen(92, 24);
    insta::assert_snapshot!("tools_panel_servers", screen);
    assert!(screen.contains("get_current_time"), "{screen}");
    assert!(screen.contains("starting…"), "{screen}");
    assert!(
        screen.contains("ImportError"),
        "the stderr tail shows: {screen}"
    );
    assert!(!screen.contains('\u{1b}'), "server text is inert");
    assert!(screen.contains("mcp.example.com"), "{screen}");

    // Presenter mode: no command lines, arguments or urls.
    c.state.presenter = true;
    let shown = c.screen(92, 24);
    for hidden in [
        "--secret-arg",
        "mcp.example.com",
        "/opt/mcp",
        "--local-timezone",
    ] {
        assert!(
            !shown.contains(hidden),
            "{hidden} shown in presenter mode:\n{shown}"
        );
    }
    assert!(shown.contains("MCP remote — not started"), "{shown}");
}

#[test]
fn the_panel_starts_a_server_when_it_is_turned_on_and_toggles_tools() {
    let mut c = Console::new("gpt-4o-mini");
    c.state.mcp = servers();
    open_panel(&mut c);
    // Rows: time, its 2 tools, everything, broken, remote.
    for _ in 0..5 {
        c.press(KeyCode::Down);
    }
    c.press(KeyCode::Enter);
    assert!(
        c.commands.contains(&Command::StartMcp("remote".into())),
        "{:?}",
        c.commands
    );
    assert_eq!(c.state.mcp.servers[3].status, Status::Starting);
    assert!(c.state.mcp.servers[3].on);
    // Turning a tool off: the conversation's functions follow.
    for _ in 0..3 {
        c.press(KeyCode::Up);
    }
    c.press(KeyCode::Enter);
    assert_eq!(c.commands, vec![Command::SyncMcpTools]);
    assert!(!c.state.mcp.tool_on("time", "convert_time"));
    assert!(c.state.mcp.tool_on("time", "get_current_time"));
    // A failed server turned on is started again; a ready one is not.
    c.press(KeyCode::Down);
    c.press(KeyCode::Down);
    c.press(KeyCode::Enter);
    assert!(c.commands.contains(&Command::StartMcp("broken".into())));
    c.state.mcp.servers[0].on = false;
    let mut c2 = Console::new("gpt-4o-mini");
    c2.state.mcp = servers();
    c2.state.mcp.servers[0].on = false;
    open_panel(&mut c2);
    c2.press(KeyCode::Enter);
    assert_eq!(
        c2.commands,
        vec![Command::SyncMcpTools],
        "ready: no restart"
    );
}

/// A console whose conversation has the time server's tool on, after the
/// model answered with `calls` (name, arguments).
fn called(calls: &[(&str, &str)]) -> Console {
    let mut c = Console::new("gpt-4o-mini");
    c.state.mcp = servers();
    c.state.mcp.functions = vec![
        ("get_current_time".into(), "time".into()),
        ("convert_time".into(), "time".into()),
    ];
    c.state.machine.conv.tools = llmdeck::chat::tools::parse(
        r#"[{"name":"get_current_time","parameters":{"type":"object","properties":{"timezone":{"type":"string"}}}},
            {"name":"convert_time","parameters":{"type":"object"}}]"#,
    )
    .unwrap();
    c.type_text("What time is it in Tokyo?");
    c.press(KeyCode::Enter);
    let id = c.state.machine.streams[0].request_id;
    for (i, (name, args)) in calls.iter().enumerate() {
        c.machine(Input::Stream(
            id,
            StreamEvent::ToolCallDelta {
                index: i as u32,
                id: Some(format!("call_{i}")),
                name: Some(name.to_string()),
                arguments: args.to_string(),
            },
        ));
    }
    for e in [
        StreamEvent::Finish(FinishReason::ToolCalls),
        StreamEvent::Usage(Usage {
            input: 120,
            output: 30,
            source: UsageSource::Reported,
            ..Usage::default()
        }),
        StreamEvent::End,
    ] {
        c.machine(Input::Stream(id, e));
    }
    c
}

#[test]
fn a_call_an_mcp_server_provides_asks_for_approval_on_its_card() {
    let mut c = called(&[("get_current_time", r#"{"timezone":"Asia/Tokyo"}"#)]);
    let next = approve::after_answer(&mut c.state);
    assert!(next.is_empty(), "nothing runs before the user answers");
    assert!(matches!(c.state.overlays.last(), Some(Overlay::Approve)));
    assert!(matches!(
        c.state.mcp.state_of("call_0"),
        Some((1, CallState::Asking))
    ));
    // The time to first token is measured on the test's clock: kept out of the snapshot.
    let screen = c.screen(90, 30);
    let at = screen.find("TTFT ").unwrap() + "TTFT ".len();
    let end = at + screen[at..].find(" ms").unwrap();
    let shown = format!("{}_{}", &screen[..at], &screen[end..]);
    insta::assert_snapshot!("tool_card_asks_approval", shown);
    assert!(screen.contains("Run this tool?"), "{screen}");
    assert!(screen.contains("on MCP server time"), "{screen}");
    assert!(
        !screen.contains("waiting for the result of"),
        "no typed result is asked for: {screen}"
    );
    c.press(KeyCode::Char('y'));
    assert_eq!(c.commands, vec![Command::RunTools]);
    assert!(c.state.overlays.is_empty());
    assert!(matches!(
        c.state.mcp.state_of("call_0"),
        Some((1, CallState::Decided))
    ));
    // Once is once: the next call of the tool asks again.
    assert_eq!(
        c.state
            .mcp
            .agent
            .decide(&c.state.machine.conv.pending_calls()[0]),
        llmdeck::tools::agent::Decision::Ask
    );
}

#[test]
fn always_settles_every_call_of_that_tool_for_the_conversation_only() {
    let mut c = called(&[
        ("get_current_time", r#"{"timezone":"Asia/Tokyo"}"#),
        ("convert_time", "{}"),
        ("get_current_time", r#"{"timezone":"Europe/Oslo"}"#),
    ]);
    approve::after_answer(&mut c.state);
    assert_eq!(c.state.mcp.asking.len(), 3);
    c.press(KeyCode::Char('a'));
    assert_eq!(
        c.state.mcp.asking.len(),
        1,
        "the other get_current_time is settled"
    );
    assert_eq!(c.state.mcp.asking[0].name, "convert_time");
    assert!(c.commands.is_empty());
    c.press(KeyCode::Char('y'));
    assert_eq!(c.commands, vec![Command::RunTools]);
    assert_eq!(c.state.mcp.decided.len(), 3);
    // Another conversation: nothing approved carries over.
    c.state.mcp.new_conversation();
    let call = llmdeck::chat::tools::ToolCall {
        id: "x".into(),
        name: "get_current_time".into(),
        arguments: "{}".into(),
        server: None,
    };
    assert_eq!(
        c.state.mcp.agent.decide(&call),
        llmdeck::tools::agent::Decision::Ask
    );
    assert!(c.state.mcp.servers.iter().all(|s| !s.on));
}

#[test]
fn a_refusal_sends_its_reason_and_esc_stops_the_loop() {
    let mut c = called(&[("get_current_time", "{}")]);
    approve::after_answer(&mut c.state);
    c.press(KeyCode::Char('n'));
    assert!(matches!(c.state.overlays.last(), Some(Overlay::Prompt(_))));
    c.type_text("not before lunch");
    c.press(KeyCode::Enter);
    assert_eq!(c.commands, vec![Command::RunTools]);
    assert!(c.state.overlays.is_empty());
    assert_eq!(
        c.state.mcp.decided[0].1,
        llmdeck::tools::agent::Decision::Refuse(format!("{REFUSED}: not before lunch"))
    );

    let mut c = called(&[("get_current_time", "{}")]);
    approve::after_answer(&mut c.state);
    c.press(KeyCode::Esc);
    assert_eq!(c.commands, vec![Command::RecordSteps]);
    assert!(matches!(
        c.state.mcp.state_of("call_0"),
        Some((_, CallState::Stopped))
    ));
    assert!(c.state.overlays.is_empty());
    // The call waits for a typed result, as any other.
    assert!(
        c.screen(90, 30)
            .contains("waiting for the result of get_current_time")
    );
}

#[test]
fn a_function_no_server_provides_still_waits_for_a_typed_result() {
    let mut c = called(&[("get_weather", r#"{"city":"Oslo"}"#)]);
    let next = approve::after_answer(&mut c.state);
    assert_eq!(next, vec![Command::RecordSteps]);
    assert!(c.state.overlays.is_empty(), "no approval asked");
    assert!(c.state.mcp.state_of("call_0").is_none());
    let screen = c.screen(90, 30);
    assert!(
        screen.contains("waiting for the result of get_weather"),
        "{screen}"
    );
    c.type_text("12 degrees");
    c.press(KeyCode::Enter);
    assert!(
        c.commands.contains(&Command::Machine(Input::ToolResult {
            call_id: "call_0".into(),
            output: "12 degrees".into()
        })),
        "{:?}",
        c.commands
    );
}

#[test]
fn the_step_limit_ends_the_loop_with_a_warning() {
    let mut c = called(&[("get_current_time", "{}")]);
    c.state.mcp.agent = llmdeck::tools::agent::Agent::new(llmdeck::tools::agent::Policy::Ask, 1);
    let next = approve::after_answer(&mut c.state);
    assert_eq!(next, vec![Command::RecordSteps]);
    assert!(c.state.overlays.is_empty());
    assert_eq!(
        c.state.mcp.step_limit,
        Some(vec!["get_current_time".into()])
    );
    let toast = c.state.toast.as_ref().unwrap();
    assert!(toast.text.contains("step limit (1)"), "{}", toast.text);
}

// ---- The real binary in tmux, a real MCP server and the mock model. ----

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
    Some(t)
}

/// The console with the fake server turned on, a question sent.
fn start_and_ask(home: &std::path::Path, mock: &Mock) -> Option<support::tmux::Tmux> {
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-console-tools"),
    ];
    let t = support::tmux::Tmux::start(home, &env, &["--model", "gpt-4o-mini"])?;
    t.wait_for("Prompt");
    t.keys(&["M-t"]);
    t.wait_for("MCP fake — not started");
    t.keys(&["Enter"]);
    t.wait_for("MCP fake — ready · 1 tools");
    t.wait_for("probe — Probes the server");
    t.keys(&["Escape"]);
    t.wait_gone("MCP fake");
    t.type_text("probe the server");
    t.keys(&["Enter"]);
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
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-console-tools"),
    ];
    let Some(t) = support::tmux::Tmux::start(home.path(), &env, &["--model", "gpt-4o-mini"]) else {
        return;
    };
    t.wait_for("Prompt");
    t.keys(&["M-t"]);
    t.wait_for("MCP time — not started");
    t.keys(&["Enter"]);
    t.wait_for("get_current_time");
    t.keys(&["Escape"]);
    t.wait_gone("MCP time");
    t.type_text("What time is it in Tokyo?");
    t.keys(&["Enter"]);
    t.wait_for("Run this tool?");
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
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-console-tools"),
    ];
    let Some(t) = support::tmux::Tmux::start(home.path(), &env, &["--model", "gpt-4o-mini"]) else {
        return;
    };
    t.wait_for("Prompt");
    t.keys(&["M-t"]);
    t.wait_for("MCP every — not started");
    t.keys(&["Enter"]);
    t.wait_for("MCP every — ready");
    t.keys(&["Escape"]);
    t.wait_gone("MCP every");
    t.type_text("Echo it and show the logo");
    t.keys(&["Enter"]);
    t.wait_for("Run this tool? (1 of 2)");
    t.keys(&["y"]);
    t.wait_gone("(1 of 2)");
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
