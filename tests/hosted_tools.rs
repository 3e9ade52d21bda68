//! `llmdeck chat --hosted`: tools OpenAI runs itself on the Responses API
//! (web search, file search with vector stores, code interpreter). The request
//! and the stream items are checked against OpenAI's own schemas; the calls
//! come out as cards (queries, code, numbered sources) and in the ledger.

mod support;

use serde_json::{Value, json};
use support::llmdeck;
use support::mock_server::{Mock, Reply};
use support::openapi::validate;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn hosted_tools_are_requested_in_the_responses_api_shape() {
    let home = tempfile::tempdir().unwrap();
    let mock = Mock::start_in_background();
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &[
            "chat",
            "--model",
            "gpt-4o-mini",
            "--hosted",
            "web_search",
            "--hosted",
            "file_search:vs_abc, vs_def",
            "--hosted",
            "code_interpreter",
            "Find it",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = &mock.received()[0];
    assert!(
        sent.path.ends_with("/responses"),
        "hosted tools need the Responses API: {}",
        sent.path
    );
    let body = sent.json();
    assert_eq!(
        body["tools"],
        json!([
            {"type": "web_search"},
            {"type": "file_search", "vector_store_ids": ["vs_abc", "vs_def"]},
            {"type": "code_interpreter", "container": {"type": "auto"}}
        ])
    );
    validate("CreateResponse", &body).unwrap();
    // A file search names its vector stores; an unknown tool is named.
    for (bad, says) in [
        ("file_search", "vector stores"),
        ("browser", "expected web_search"),
    ] {
        let mock = Mock::start_in_background();
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &["chat", "--model", "m", "--hosted", bad, "x"],
            None,
        );
        assert!(!out.status.success());
        assert!(stderr(&out).contains(says), "{bad}: {}", stderr(&out));
        assert!(mock.received().is_empty());
    }
}

fn items() -> Vec<Value> {
    vec![
        json!({"id": "ws_1", "type": "web_search_call", "status": "completed",
               "action": {"type": "search", "query": "rust \u{1b}[2Jmcp sdk",
                          "sources": [{"type": "url", "url": "https://example.org/rmcp"},
                                      {"type": "url", "url": "https://example.org/spec"}]}}),
        json!({"id": "fs_1", "type": "file_search_call", "status": "completed",
               "queries": ["budget 2026"],
               "results": [{"file_id": "file_1", "filename": "plan.pdf", "score": 0.9, "text": "…"}]}),
        json!({"id": "ci_1", "type": "code_interpreter_call", "status": "completed",
               "container_id": "cntr_1", "code": "print(6 * 7)",
               "outputs": [{"type": "logs", "logs": "42\n"}]}),
    ]
}

#[test]
fn hosted_calls_stream_into_cards_with_their_numbered_sources() {
    let items = items();
    for (item, schema) in items.iter().zip([
        "WebSearchToolCall",
        "FileSearchToolCall",
        "CodeInterpreterToolCall",
    ]) {
        validate(schema, item).unwrap_or_else(|e| panic!("{schema}: {e}"));
    }
    for json_out in [true, false] {
        let home = tempfile::tempdir().unwrap();
        let mock = Mock::start_in_background();
        mock.push(Reply::Hosted {
            items: items.clone(),
            pieces: vec!["It is ".into(), "42.".into()],
        });
        let mut args = vec![
            "chat",
            "--model",
            "gpt-4o-mini",
            "--hosted",
            "web_search",
            "Look it up",
        ];
        if json_out {
            args.push("--json");
        }
        let out = llmdeck(home.path(), Some(&mock), &args, None);
        assert!(out.status.success(), "{}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if json_out {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(v["text"], "It is 42.");
            assert_eq!(
                v["hosted_calls"],
                json!([
                    {"id": "ws_1", "tool": "web_search", "status": "completed",
                     "queries": ["rust \u{1b}[2Jmcp sdk"],
                     "results": ["https://example.org/rmcp", "https://example.org/spec"]},
                    {"id": "fs_1", "tool": "file_search", "status": "completed",
                     "queries": ["budget 2026"], "results": ["plan.pdf"]},
                    {"id": "ci_1", "tool": "code_interpreter", "status": "completed",
                     "code": "print(6 * 7)", "results": ["42\n"]}
                ])
            );
            // Each hosted call is a tool run in the ledger, linked to its answer.
            let ledger =
                llmdeck::usage::Ledger::open(&home.path().join("data/ledger.sqlite3")).unwrap();
            // A web search costs gpt-4o-mini's $10 per 1,000 calls, a file search
            // $2.50 per 1,000 (the catalog's fees); code interpreter sessions have no
            // fee in the source, so they stay unpriced.
            let runs: Vec<(String, String, i64, Option<i64>)> = ledger
                .connection()
                .prepare("SELECT tool, outcome, step, cost_micros FROM tool_runs ORDER BY tool")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                runs,
                vec![
                    ("code_interpreter".to_string(), "ok".to_string(), 1, None),
                    ("file_search".into(), "ok".into(), 1, Some(2_500)),
                    ("web_search".into(), "ok".into(), 1, Some(10_000))
                ]
            );
            let fees: Vec<Value> = v["steps"][0]["tool_runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["cost_micros"].clone())
                .collect();
            assert_eq!(fees, [json!(10_000), json!(2_500), json!(null)], "{v}");
            // The answer's total is its tokens and those fees.
            let tokens = v["steps"][0]["cost_micros"].as_i64().unwrap();
            assert_eq!(v["total_cost_micros"], json!(tokens + 12_500), "{v}");
        } else {
            // Under the answer: each call, then its sources numbered; server text inert.
            assert!(stdout.starts_with("It is 42.\n"), "{stdout}");
            assert!(
                stdout.contains("[web_search completed] \"rust ␛[2Jmcp sdk\""),
                "{stdout}"
            );
            assert!(
                stdout.contains("  1. https://example.org/rmcp\n  2. https://example.org/spec\n"),
                "{stdout}"
            );
            assert!(stdout.contains("  3. plan.pdf"), "{stdout}");
            assert!(stdout.contains("    print(6 * 7)\n  4. 42"), "{stdout}");
            assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
        }
    }
}
