//! `llmdeck chat` with functions, schemas, reasoning and attachments, as a
//! script would run it: the calls listed, results sent with `--continue`,
//! answers checked against a schema, files refused before anything is sent.

mod support;

use serde_json::{Value, json};
use support::llmdeck;
use support::mock_server::{Mock, Reply};

const WEATHER: &str = r#"[{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}},
{"type":"function","name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}},"required":["zone"]}}]"#;

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn tool_calls_are_listed_then_results_continue_the_conversation() {
    for api in ["chat", "responses"] {
        let mock = Mock::start_in_background();
        let home = tempfile::tempdir().unwrap();
        let tools = home.path().join("tools.json");
        std::fs::write(&tools, WEATHER).unwrap();
        mock.push(Reply::Calls(vec![
            ("get_weather".into(), r#"{"city":"Paris"}"#.into()),
            ("get_time".into(), r#"{"zone":"CET"}"#.into()),
        ]));
        let tools_arg = tools.to_str().unwrap();
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &[
                "chat",
                "--model",
                "gpt-4o-mini",
                "--api",
                api,
                "--tools",
                tools_arg,
                "--tool-choice",
                "required",
                "--json",
                "Weather and time in Paris?",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{api}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = stdout_json(&out);
        assert_eq!(
            v["tool_calls"],
            json!([
                {"id": "call_mock_0", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "invalid": null},
                {"id": "call_mock_1", "name": "get_time", "arguments": "{\"zone\":\"CET\"}", "invalid": null}
            ]),
            "{api}"
        );
        assert_eq!(v["finish_reason"], json!("tool_calls"));
        let first = mock.received().last().unwrap().json();
        let path = mock.received().last().unwrap().path.clone();
        assert!(
            path.ends_with(if api == "chat" {
                "/chat/completions"
            } else {
                "/responses"
            }),
            "{path}"
        );
        assert_eq!(first["tool_choice"], json!("required"));

        // Without --json: the calls are printed, and how to continue.
        mock.push(Reply::Calls(vec![(
            "get_weather".into(),
            r#"{"city":"Oslo"}"#.into(),
        )]));
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &[
                "chat",
                "--model",
                "gpt-4o-mini",
                "--api",
                api,
                "--tools",
                tools_arg,
                "Oslo?",
            ],
            None,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("→ get_weather [call_mock_0]"), "{text}");
        assert!(
            text.contains("\"city\": \"Oslo\""),
            "pretty-printed: {text}"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--continue") && err.contains("--tool-result call_mock_0=..."),
            "{err}"
        );

        // A missing result is named, and nothing is sent.
        let id = v["conversation_id"].as_str().unwrap();
        let before = mock.received().len();
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &[
                "chat",
                "--model",
                "gpt-4o-mini",
                "--api",
                api,
                "--continue",
                id,
                "--tool-result",
                "call_mock_0=18 C",
            ],
            None,
        );
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("missing for: call_mock_1 (get_time)")
        );
        assert_eq!(mock.received().len(), before);

        // Both results: the answer comes, and the body carries calls and results.
        mock.push(Reply::Stream {
            pieces: vec!["18 C at 14:00.".into()],
            finish: "stop".into(),
            gap_ms: 0,
        });
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &[
                "chat",
                "--model",
                "gpt-4o-mini",
                "--api",
                api,
                "--continue",
                id,
                "--tool-result",
                "call_mock_0=18 C",
                "--tool-result",
                "call_mock_1=14:00",
                "--json",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout_json(&out)["text"], json!("18 C at 14:00."));
        let body = mock.received().last().unwrap().json();
        if api == "chat" {
            let m = &body["messages"];
            assert_eq!(m[1]["tool_calls"].as_array().unwrap().len(), 2);
            assert_eq!(
                m[2],
                json!({"role": "tool", "content": "18 C", "tool_call_id": "call_mock_0"})
            );
            assert_eq!(
                m[3],
                json!({"role": "tool", "content": "14:00", "tool_call_id": "call_mock_1"})
            );
        } else {
            let items = body["input"].as_array().unwrap();
            assert_eq!(
                items[3],
                json!({"type": "function_call_output", "call_id": "call_mock_0", "output": "18 C"})
            );
            assert_eq!(
                items[4],
                json!({"type": "function_call_output", "call_id": "call_mock_1", "output": "14:00"})
            );
        }
        // The ledger knows which API carried each request.
        let usage = llmdeck(
            home.path(),
            None,
            &["usage", "--json", "--by", "model"],
            None,
        );
        assert!(usage.status.success());
        let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
        let apis: Vec<String> = ledger
            .prepare("SELECT DISTINCT api FROM requests")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(apis, [api]);
    }
}

#[test]
fn answers_are_checked_against_the_schema() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let schema = home.path().join("person.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name","age"],"additionalProperties":false}"#,
    )
    .unwrap();
    let s = schema.to_str().unwrap();
    mock.push(Reply::Stream {
        pieces: vec![r#"{"name":"Ada","#.into(), r#""age":36}"#.into()],
        finish: "stop".into(),
        gap_ms: 0,
    });
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--schema",
            s,
            "--strict",
            "--json",
            "Who?",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout_json(&out)["schema"],
        json!({"valid": true, "error": null})
    );
    let body = mock.received().last().unwrap().json();
    assert_eq!(body["response_format"]["type"], json!("json_schema"));
    assert_eq!(
        body["response_format"]["json_schema"]["name"],
        json!("person")
    );
    assert_eq!(
        body["response_format"]["json_schema"]["strict"],
        json!(true)
    );

    mock.push(Reply::Stream {
        pieces: vec![r#"{"name":"Ada","age":-1}"#.into()],
        finish: "stop".into(),
        gap_ms: 0,
    });
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o-mini", "--schema", s, "Who?"],
        None,
    );
    assert!(
        !out.status.success(),
        "an answer that breaks the schema fails the command"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"age\":-1"),
        "the answer is still printed"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("schema violation at /age"), "{err}");

    // Over Responses the schema goes in text.format.
    mock.push(Reply::Stream {
        pieces: vec![r#"{"name":"Bo","age":3}"#.into()],
        finish: "stop".into(),
        gap_ms: 0,
    });
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--api",
            "responses",
            "--schema",
            s,
            "Who?",
        ],
        None,
    );
    assert!(out.status.success());
    let body = mock.received().last().unwrap().json();
    assert_eq!(body["text"]["format"]["type"], json!("json_schema"));
    assert_eq!(body["text"]["format"]["name"], json!("person"));

    std::fs::write(&schema, r#"{"type": 12}"#).unwrap();
    let before = mock.received().len();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o-mini", "--schema", s, "Who?"],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid JSON Schema"));
    assert_eq!(
        mock.received().len(),
        before,
        "nothing sent with a broken schema"
    );
}

#[test]
fn attachments_are_encoded_and_oversized_files_never_sent() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(640u32.to_be_bytes());
    png.extend(480u32.to_be_bytes());
    png.extend([8, 2, 0, 0, 0]);
    let img = home.path().join("shot.png");
    std::fs::write(&img, &png).unwrap();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--attach",
            img.to_str().unwrap(),
            "--reasoning-effort",
            "low",
            "--json",
            "What is this?",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = mock.received().last().unwrap().json();
    let content = &body["messages"][0]["content"];
    assert_eq!(content[0], json!({"type": "text", "text": "What is this?"}));
    use base64::Engine;
    let expected = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    assert_eq!(
        content[1],
        json!({"type": "image_url", "image_url": {"url": expected}})
    );
    assert_eq!(body["reasoning_effort"], json!("low"));

    let big = home.path().join("big.pdf");
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(33 * 1024 * 1024, b' ');
    std::fs::write(&big, &pdf).unwrap();
    let before = mock.received().len();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--attach",
            big.to_str().unwrap(),
            "Summarise",
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("big.pdf") && err.contains("larger than the 32.0 MB"),
        "{err}"
    );
    assert_eq!(mock.received().len(), before, "nothing was sent");
}

#[test]
fn the_offline_demo_calls_functions_too() {
    let home = tempfile::tempdir().unwrap();
    let tools = home.path().join("t.json");
    std::fs::write(&tools, WEATHER).unwrap();
    let out = llmdeck(
        home.path(),
        None,
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--demo",
            "--tools",
            tools.to_str().unwrap(),
            "--tool-choice",
            "get_time",
            "--json",
            "What time is it?",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["tool_calls"][0]["name"], json!("get_time"));
    assert_eq!(
        v["tool_calls"][0]["arguments"],
        json!(r#"{"zone":"example"}"#)
    );
    let out = llmdeck(
        home.path(),
        None,
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--demo",
            "--tools",
            tools.to_str().unwrap(),
            "--tool-choice",
            "nope",
            "x",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tool-choice nope: no such function"));
}
