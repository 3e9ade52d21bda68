//! Tools that run, in the console, as state changes (no I/O): the tools
//! panel with its MCP servers and their status, the approval asked on a tool
//! card (and held while the keyboard is busy), and the agent loop's next step
//! checked against the budgets. tests/console_tools.rs drives the real binary.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use llmdeck::chat::machine::Input;
use llmdeck::provider::event::{FinishReason, StreamEvent, Usage, UsageSource};
use llmdeck::tools::agent::REFUSED;
use llmdeck::tools::mcp::McpTool;
use llmdeck::tui::core::mcp::{CallState, Mcp, ServerRow, Status};
use llmdeck::tui::overlays::tools::approve;
use llmdeck::tui::state::Overlay;
use llmdeck::tui::update::Command;
use support::console::Console;

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
/// What the app's timer does once the keyboard has rested: the approval
/// popup takes keys (it holds them for a moment after it opens).
fn rested(c: &mut Console) {
    assert!(c.state.keys_from.is_some(), "the popup holds keys first");
    c.state.keys_from = None;
}

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
    rested(&mut c);
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
fn keys_typed_as_the_popup_opens_do_not_answer_it() {
    // The popup opens by itself when the answer ends, under fingers typing the
    // next message: a y, an a or an Enter typed then must not run the tool.
    let mut c = called(&[("get_current_time", r#"{"timezone":"Asia/Tokyo"}"#)]);
    approve::after_answer(&mut c.state);
    assert!(c.state.keys_from.is_some(), "keys held at first");
    // As if it had just opened, whatever the machine's load: held for a minute.
    let opened = std::time::Instant::now() + std::time::Duration::from_secs(60);
    c.state.keys_from = Some(opened);
    let screen = c.screen(90, 30);
    assert!(screen.contains("read it first"), "{screen}");
    assert!(!screen.contains("y run once"), "{screen}");
    for key in [
        KeyCode::Char('y'),
        KeyCode::Char('a'),
        KeyCode::Enter,
        KeyCode::Char('x'),
    ] {
        c.press(key);
    }
    assert!(c.commands.is_empty(), "{:?}", c.commands);
    assert!(c.state.mcp.decided.is_empty());
    assert!(matches!(c.state.overlays.last(), Some(Overlay::Approve)));
    assert!(matches!(
        c.state.mcp.state_of("call_0"),
        Some((1, CallState::Asking))
    ));
    assert!(
        c.state.keys_from.unwrap() < opened,
        "every key held back starts the pause over (from itself)"
    );
    // Once the keyboard has rested, the keys answer it.
    rested(&mut c);
    let screen = c.screen(90, 30);
    assert!(screen.contains("y run once"), "{screen}");
    c.press(KeyCode::Char('y'));
    assert_eq!(c.commands, vec![Command::RunTools]);
    // Stopping is never held back.
    let mut c = called(&[("get_current_time", "{}")]);
    approve::after_answer(&mut c.state);
    c.press(KeyCode::Esc);
    assert_eq!(c.commands, vec![Command::RecordSteps]);
}

#[test]
fn the_loops_next_step_asks_first_when_a_budget_says_so() {
    use llmdeck::tui::overlays::send_check::continue_checked;
    let mut c = called(&[("get_current_time", "{}")]);
    // Under no budget the results go straight on.
    c.machine(Input::KeepToolResult {
        call_id: "call_0".into(),
        output: "10:00".into(),
    });
    assert!(!c.state.machine.is_streaming(), "kept, not sent");
    assert_eq!(
        continue_checked(&mut c.state),
        vec![Command::Machine(Input::Continue)]
    );
    // Over a hard-stop daily budget (the first step spent it) it asks, and a
    // "no" keeps the result in the conversation with nothing sent.
    c.state.budgets.daily_usd = Some(0.000_001);
    c.state.budgets.hard_stop = true;
    c.state.session_spend_micros = 50;
    assert!(continue_checked(&mut c.state).is_empty());
    let screen = c.screen(90, 30);
    assert!(screen.contains("Send anyway?"), "{screen}");
    // It opened by itself: a key typed before the keyboard rests does nothing.
    assert!(screen.contains("read it first"), "{screen}");
    c.press(KeyCode::Enter);
    assert!(c.commands.is_empty(), "{:?}", c.commands);
    rested(&mut c);
    c.press(KeyCode::Char('n'));
    assert!(c.state.overlays.is_empty());
    // The loop ends there, its steps recorded.
    assert_eq!(c.commands, vec![Command::RecordSteps]);
    let last = c.state.machine.conv.last();
    assert_eq!(c.state.machine.conv.nodes[last].content, "10:00");
    // A yes lets it go on.
    assert!(continue_checked(&mut c.state).is_empty());
    rested(&mut c);
    c.press(KeyCode::Char('y'));
    assert_eq!(
        c.commands,
        vec![Command::Machine(Input::Continue), Command::CountTokens]
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
    rested(&mut c);
    c.press(KeyCode::Char('a'));
    assert_eq!(
        c.state.mcp.asking.len(),
        1,
        "the other get_current_time is settled"
    );
    assert_eq!(c.state.mcp.asking[0].name, "convert_time");
    assert!(c.commands.is_empty());
    rested(&mut c); // another call is shown: read before answered
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
    rested(&mut c);
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
    // The result joins the conversation; the model goes on once the budgets allow.
    assert_eq!(
        c.commands[..2],
        [
            Command::Machine(Input::KeepToolResult {
                call_id: "call_0".into(),
                output: "12 degrees".into()
            }),
            Command::ContinueChecked
        ],
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
