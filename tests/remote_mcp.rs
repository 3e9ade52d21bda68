//! Remote MCP servers OpenAI connects to (`[mcp.NAME]` with `url` and
//! `hosted = true`, then `--mcp NAME`): the request's `mcp` tool, the stream's
//! `mcp_list_tools`, `mcp_approval_request` and `mcp_call` items (the mock
//! streams the spec's shapes and events), each approval answered by llmdeck's
//! own approval and sent back as an `mcp_approval_response` item. The headers
//! are secrets: they reach OpenAI in the request and nothing else.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use llmdeck::chat::machine::Input;
use llmdeck::chat::tools::{HostedCall, HostedTool, RemoteMcp};
use llmdeck::provider::event::{FinishReason, StreamEvent};
use llmdeck::tui::core::mcp::{Mcp, ServerRow, Status};
use llmdeck::tui::overlays::tools::approve;
use llmdeck::tui::state::Overlay;
use llmdeck::tui::update::Command;
use serde_json::{Value, json};
use support::console::Console;
use support::llmdeck;
use support::mock_server::{Mock, Reply};
use support::openapi::validate;

const SECRET: &str = "remote-mcp-secret-4242";
const URL: &str = "https://mcp.example.org/mcp";

fn home() -> tempfile::TempDir {
    support::home_with_config(&format!(
        "[mcp.docs]\nurl = \"{URL}\"\nhosted = true\nheaders = {{ Authorization = \"Bearer {SECRET}\" }}\nallowed_tools = [\"search_docs\"]\n"
    ))
}

fn list_tools() -> Value {
    json!({"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "docs",
           "tools": [{"name": "search_docs", "description": "Search the docs",
                      "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
                      "annotations": null}],
           "error": null})
}

fn approval(n: u32) -> Value {
    json!({"id": format!("mcpr_{n}"), "type": "mcp_approval_request", "server_label": "docs",
           "name": "search_docs", "arguments": format!("{{\"q\":\"rmcp {n}\"}}")})
}

fn call(n: u32) -> Value {
    json!({"id": format!("mcp_{n}"), "type": "mcp_call", "server_label": "docs",
           "name": "search_docs", "arguments": format!("{{\"q\":\"rmcp {n}\"}}"),
           "output": "rmcp is the official Rust SDK \u{1b}[2J", "error": null,
           "status": "completed", "approval_request_id": format!("mcpr_{n}")})
}

fn hosted(items: Vec<Value>, text: &str) -> Reply {
    let pieces = match text.is_empty() {
        true => Vec::new(),
        false => vec![text.to_string()],
    };
    Reply::Hosted { items, pieces }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The input items of request `n` of `kind`.
fn sent(mock: &Mock, n: usize, kind: &str) -> Vec<Value> {
    let body = mock.received()[n].json();
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == kind)
        .cloned()
        .collect()
}

/// Every file under `dir` but the config holds no `SECRET`.
fn assert_no_secret_in_files(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_secret_in_files(&path);
        } else if !path.ends_with("config/config.toml") {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "the header value is in {}",
                path.display()
            );
        }
    }
}

#[test]
fn the_mock_streams_the_spec_shapes_of_remote_mcp_items() {
    validate("MCPListTools", &list_tools()).unwrap();
    validate("MCPApprovalRequest", &approval(1)).unwrap();
    validate("MCPToolCall", &call(1)).unwrap();
}

#[test]
fn an_approved_remote_call_is_answered_and_its_output_is_a_card() {
    let home = home();
    let mock = Mock::start_in_background();
    mock.push(hosted(vec![list_tools(), approval(1)], ""));
    mock.push(hosted(vec![call(1)], "Found it."));
    let log = home.path().join("llmdeck.log");
    let args = [
        "--log",
        log.to_str().unwrap(),
        "chat",
        "--model",
        "gpt-4o-mini",
        "--mcp",
        "docs",
        "--approve",
        "always",
        "--json",
        "What is rmcp?",
    ];
    let out = llmdeck(home.path(), Some(&mock), &args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let received = mock.received();
    assert_eq!(received.len(), 2, "the approval is a second request");
    for r in &received {
        assert!(r.path.ends_with("/responses"), "{}", r.path);
        validate("CreateResponse", &r.json()).unwrap();
    }
    // The server as the request names it: its url, headers and allowed tools
    // join from the config; every call asks for approval.
    assert_eq!(
        received[0].json()["tools"],
        json!([{"type": "mcp", "server_label": "docs", "server_url": URL,
                "headers": {"Authorization": format!("Bearer {SECRET}")},
                "allowed_tools": ["search_docs"], "require_approval": "always"}])
    );
    // The continuation carries the request and its answer (stateless: as items).
    assert_eq!(sent(&mock, 1, "mcp_approval_request"), vec![approval(1)]);
    assert_eq!(
        sent(&mock, 1, "mcp_approval_response"),
        vec![
            json!({"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": true})
        ]
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], "Found it.");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{v}");
    assert_eq!(steps[0]["tool_runs"][0]["outcome"], "approved", "{v}");
    assert_eq!(steps[0]["tool_runs"][0]["server"], "docs", "{v}");
    let card = &steps[1]["hosted_calls"][0];
    assert_eq!(
        (&card["tool"], &card["server"], &card["name"]),
        (&json!("mcp"), &json!("docs"), &json!("search_docs")),
        "{v}"
    );
    assert_eq!(card["output"], "rmcp is the official Rust SDK \u{1b}[2J");
    // The ledger: the call OpenAI ran, of its server, in step 2 (the approval is no run).
    assert_eq!(
        tool_runs(home.path()),
        vec![("search_docs".into(), "docs".into(), "ok".into(), 2)]
    );
    // The header value went to OpenAI and nowhere else: not the output, the
    // ledger, the conversation, its journal or the log.
    assert!(log.is_file());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!stderr(&out).contains(SECRET));
    assert_no_secret_in_files(home.path());
    // The card without --json: server, tool, arguments, output; inert.
    let mock = Mock::start_in_background();
    mock.push(hosted(vec![approval(1)], ""));
    mock.push(hosted(vec![call(1)], "Found it."));
    let plain: Vec<&str> = args[2..9].iter().chain([&args[10]]).copied().collect();
    let out = llmdeck(home.path(), Some(&mock), &plain, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[mcp completed] docs.search_docs({\"q\":\"rmcp 1\"})\n    rmcp is the official Rust SDK ␛[2J"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
}

#[test]
fn a_refused_remote_call_sends_its_reason_back() {
    let home = home();
    let mock = Mock::start_in_background();
    mock.push(hosted(vec![list_tools(), approval(1)], ""));
    mock.push(hosted(Vec::new(), "I could not search."));
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--mcp",
            "docs",
            "--approve",
            "never",
            "x",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let body = mock.received()[1].json();
    validate("CreateResponse", &body).unwrap();
    assert_eq!(
        sent(&mock, 1, "mcp_approval_response"),
        vec![
            json!({"type": "mcp_approval_response", "approval_request_id": "mcpr_1",
                    "approve": false,
                    "reason": "the user refused to run this tool (tool runs are turned off)"})
        ]
    );
    assert!(
        stderr(&out).contains("search_docs({\"q\":\"rmcp 1\"}) on remote MCP server docs refused"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn always_is_asked_once_in_a_conversation_and_a_reason_goes_back() {
    let home = home();
    let args = [
        "chat",
        "--model",
        "gpt-4o-mini",
        "--mcp",
        "docs",
        "--approve",
        "ask",
        "go",
    ];
    // "a": the second request of the same tool is approved without asking.
    let mock = Mock::start_in_background();
    mock.push(hosted(vec![list_tools(), approval(1)], ""));
    mock.push(hosted(vec![call(1), approval(2)], ""));
    mock.push(hosted(vec![call(2)], "Both found."));
    let cmd = support::llmdeck_command(home.path(), Some(&mock), &args);
    let (shown, _) = support::pty::on_terminal(cmd, &[("[n]o: ", "a")]);
    assert_eq!(shown.matches("[n]o: ").count(), 1, "asked once: {shown}");
    assert!(
        shown.contains("on remote MCP server docs (OpenAI runs it)"),
        "{shown}"
    );
    assert_eq!(mock.received().len(), 3, "{shown}");
    for (n, id) in [(1, "mcpr_1"), (2, "mcpr_2")] {
        let answers = sent(&mock, n, "mcp_approval_response");
        let last = answers.last().unwrap();
        assert_eq!(
            (&last["approval_request_id"], &last["approve"]),
            (&json!(id), &json!(true))
        );
        validate("CreateResponse", &mock.received()[n].json()).unwrap();
    }
    // The earlier call goes back as the item it was (the model keeps its output).
    assert_eq!(sent(&mock, 2, "mcp_call")[0]["output"], call(1)["output"]);
    // "n" and a reason: the reason goes back with the refusal.
    let mock = Mock::start_in_background();
    mock.push(hosted(vec![approval(1)], ""));
    let cmd = support::llmdeck_command(home.path(), Some(&mock), &args);
    let (shown, _) = support::pty::on_terminal(
        cmd,
        &[
            ("[n]o: ", "n"),
            ("Reason for the model (Enter for none): ", "not the docs"),
        ],
    );
    assert_eq!(
        sent(&mock, 1, "mcp_approval_response")[0]["reason"],
        "the user refused to run this tool: not the docs",
        "{shown}"
    );
}

#[test]
fn a_hosted_server_needs_a_url() {
    let home = support::home_with_config("[mcp.docs]\ncommand = \"server\"\nhosted = true\n");
    let mock = Mock::start_in_background();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "m",
            "--mcp",
            "docs",
            "--approve",
            "always",
            "x",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("hosted = true is for a url"),
        "{}",
        stderr(&out)
    );
    assert!(mock.received().is_empty());
}

// ---- The console: the panel, the approval popup, the card. ----

fn console() -> Console {
    let mut c = Console::new("gpt-4o-mini");
    c.state.mcp = Mcp::new(
        vec![ServerRow {
            name: "docs".into(),
            how: URL.into(),
            status: Status::Hosted(Default::default()),
            on: false,
        }],
        10,
    );
    c
}

#[test]
fn the_console_turns_a_remote_server_on_and_presenter_mode_hides_its_url() {
    for presenter in [false, true] {
        let mut c = console();
        c.state.presenter = presenter;
        c.key(KeyCode::Char('t'), KeyModifiers::ALT);
        let screen = c.screen(100, 30);
        assert!(
            screen.contains("MCP docs — remote, OpenAI connects"),
            "{screen}"
        );
        assert_eq!(screen.contains(URL), !presenter, "{screen}");
        assert!(!screen.contains(SECRET));
        c.press(KeyCode::Enter);
        let p = &c.state.machine.conv.params;
        assert_eq!(
            p.hosted,
            vec![HostedTool::Mcp {
                server: "docs".into()
            }]
        );
        assert_eq!(p.api, Some(llmdeck::chat::params::Api::Responses));
        assert!(c.screen(100, 30).contains("[x] MCP docs"));
        c.press(KeyCode::Enter);
        assert!(c.state.machine.conv.params.hosted.is_empty(), "off again");
    }
}

#[test]
fn the_console_asks_in_its_popup_and_sends_the_answer_as_an_approval_response() {
    let mut c = console();
    c.state.machine.conv.params.hosted = vec![HostedTool::Mcp {
        server: "docs".into(),
    }];
    c.state.machine.conv.params.api = Some(llmdeck::chat::params::Api::Responses);
    c.type_text("What is rmcp?");
    c.press(KeyCode::Enter);
    let id = c.state.machine.streams[0].request_id;
    for e in [
        StreamEvent::McpApproval {
            index: 0,
            server: "docs".into(),
            id: "mcpr_1".into(),
            name: "search_docs".into(),
            arguments: r#"{"q":"rmcp"}"#.into(),
        },
        StreamEvent::Finish(FinishReason::ToolCalls),
        StreamEvent::End,
    ] {
        c.machine(Input::Stream(id, e));
    }
    assert!(approve::after_answer(&mut c.state).is_empty());
    assert!(matches!(c.state.overlays.last(), Some(Overlay::Approve)));
    let screen = c.screen(100, 30);
    assert!(screen.contains("on remote MCP server docs"), "{screen}");
    assert!(
        screen.contains("remote MCP tool of docs (OpenAI runs it)"),
        "{screen}"
    );
    // The popup takes keys once the keyboard has rested (the app's timer).
    c.state.keys_from = None;
    c.press(KeyCode::Char('a'));
    assert_eq!(c.commands, vec![Command::RunTools]);
    // The app runs the decided calls with the domain's executor: approving is all.
    let decided = std::mem::take(&mut c.state.mcp.decided);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runs = rt.block_on(llmdeck::tools::agent::run_calls(
        &Default::default(),
        decided,
    ));
    assert_eq!(runs[0].outcome, "approved");
    // As the app does with a finished run: on the card, then to the machine.
    c.state.mcp.set(
        "mcpr_1",
        1,
        llmdeck::tui::core::mcp::CallState::Done(runs[0].clone()),
    );
    c.machine(runs[0].input());
    // Then the model goes on, once the budgets allow (none here).
    c.machine(Input::Continue);
    let request = c.state.machine.streams[0].request.clone();
    let remote = [(
        "docs".to_string(),
        RemoteMcp {
            url: URL.into(),
            headers: [("Authorization".to_string(), format!("Bearer {SECRET}"))].into(),
            allowed_tools: None,
        },
    )]
    .into();
    let body = llmdeck::provider::responses::with_remote(
        llmdeck::provider::responses::body(&request, false),
        &remote,
    )
    .unwrap();
    let body = serde_json::to_value(&body).unwrap();
    validate("CreateResponse", &body).unwrap();
    let input = body["input"].as_array().unwrap();
    assert_eq!(
        input[1],
        json!({"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "docs",
               "name": "search_docs", "arguments": "{\"q\":\"rmcp\"}"})
    );
    assert_eq!(
        input[2],
        json!({"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": true})
    );
    // The call OpenAI ran: a card with server, tool, arguments and output, inert.
    let id = c.state.machine.streams[0].request_id;
    let item = call(1);
    let ran = HostedCall::from_item(&item).unwrap();
    for e in [
        StreamEvent::Hosted(Box::new(ran)),
        StreamEvent::TextDelta("Found it.".into()),
        StreamEvent::End,
    ] {
        c.machine(Input::Stream(id, e));
    }
    let screen = c.screen(100, 60);
    assert!(
        screen.contains("⌁ docs.search_docs · remote MCP · completed"),
        "{screen}"
    );
    assert!(
        screen.contains("rmcp is the official Rust SDK ␛[2J"),
        "{screen}"
    );
    assert!(
        screen.contains("✓ approved: OpenAI runs it on docs"),
        "{screen}"
    );
    assert!(
        !screen.contains(SECRET) && !screen.contains(URL),
        "{screen}"
    );
}

#[test]
fn the_console_approves_a_remote_call_in_its_popup_against_the_mock() {
    let home = home();
    let mock = Mock::start_in_background();
    mock.push(hosted(vec![list_tools(), approval(1)], ""));
    mock.push(hosted(vec![call(1)], "Found it."));
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-remote-mcp"),
    ];
    let args = ["--model", "gpt-4o-mini", "--presenter"];
    let Some(t) = support::tmux::Tmux::start(home.path(), &env, &args) else {
        return;
    };
    t.wait_for("Prompt");
    t.keys(&["M-t"]);
    let panel = t.wait_for("MCP docs — remote, OpenAI connects");
    assert!(
        !panel.contains("mcp.example.org"),
        "presenter mode hides the url: {panel}"
    );
    t.keys(&["Enter"]);
    t.wait_for("[x] MCP docs");
    t.keys(&["Escape"]);
    t.wait_gone("MCP docs");
    t.type_text("What is rmcp?");
    t.keys(&["Enter"]);
    let popup = t.wait_for("Run this tool?");
    assert!(popup.contains("on remote MCP server docs"), "{popup}");
    t.wait_for("y run once"); // its keys work once the keyboard has rested
    t.keys(&["y"]);
    let screen = t.wait_for("Found it.");
    let screen = match screen.contains("⌁ docs.search_docs") {
        true => screen,
        false => t.wait_for("⌁ docs.search_docs"),
    };
    assert!(
        !screen.contains(SECRET) && !screen.contains('\u{1b}'),
        "{screen}"
    );
    let received = mock.received();
    assert_eq!(received.len(), 2);
    for r in &received {
        validate("CreateResponse", &r.json()).unwrap();
    }
    assert_eq!(received[0].json()["tools"][0]["server_url"], URL);
    assert_eq!(
        sent(&mock, 1, "mcp_approval_response"),
        vec![
            json!({"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": true})
        ]
    );
    t.keys(&["C-q"]);
    t.wait_exit();
    assert_no_secret_in_files(home.path());
    // The call OpenAI ran is a tool run of its server, in the answer's second step.
    assert_eq!(
        tool_runs(home.path()),
        vec![("search_docs".into(), "docs".into(), "ok".into(), 2)]
    );
}

#[test]
fn a_conversation_moved_to_chat_completions_leaves_remote_approvals_out() {
    use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
    let mut asked = WireMessage::text(WireRole::Assistant, "");
    asked.tool_calls = vec![llmdeck::chat::tools::ToolCall {
        id: "mcpr_1".into(),
        name: "search_docs".into(),
        arguments: "{}".into(),
        server: Some("docs".into()),
    }];
    let mut answered = WireMessage::text(WireRole::Tool, "approved");
    answered.tool_call_id = Some("mcpr_1".into());
    answered.approved = Some(true);
    let req = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            WireMessage::text(WireRole::User, "What is rmcp?"),
            asked,
            answered,
            WireMessage::text(WireRole::Assistant, "Found it."),
            WireMessage::text(WireRole::User, "Thanks"),
        ],
        params: Default::default(),
        tools: Vec::new(),
    };
    let body = llmdeck::provider::chat_completions::body(
        &req,
        llmdeck::provider::chat_completions::MaxTokensField::MaxCompletionTokens,
    );
    let body = serde_json::to_value(&body).unwrap();
    validate("CreateChatCompletionRequest", &body).unwrap();
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"], "{body}");
}

#[test]
fn a_failed_remote_call_goes_back_with_its_error() {
    use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
    let mut failed = call(1);
    failed["status"] = json!("failed");
    failed["output"] = Value::Null;
    failed["error"] =
        json!({"type": "mcp_protocol_error", "code": -32000, "message": "server down"});
    validate("MCPToolCall", &failed).unwrap();
    let card = HostedCall::from_item(&failed).unwrap();
    assert_eq!(card.error, "server down (-32000)");
    let mut answer = WireMessage::text(WireRole::Assistant, "It failed.");
    answer.hosted = vec![card];
    let req = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            WireMessage::text(WireRole::User, "What is rmcp?"),
            answer,
            WireMessage::text(WireRole::User, "Try again"),
        ],
        params: Default::default(),
        tools: Vec::new(),
    };
    let body = serde_json::to_value(llmdeck::provider::responses::body(&req, false)).unwrap();
    validate("CreateResponse", &body).unwrap();
    let item = &body["input"][1];
    assert_eq!(
        (&item["type"], &item["status"]),
        (&json!("mcp_call"), &json!("failed"))
    );
    assert_eq!(
        item["error"],
        json!({"type": "mcp_tool_execution_error", "content": "server down (-32000)"})
    );
}

/// The ledger's tool runs: (tool, server, outcome, step).
fn tool_runs(home: &std::path::Path) -> Vec<(String, String, String, i64)> {
    let ledger = llmdeck::usage::Ledger::open(&home.join("data/ledger.sqlite3")).unwrap();
    ledger
        .connection()
        .prepare("SELECT tool, server, outcome, step FROM tool_runs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
