//! What the README promises and nothing else tested: retries that then succeed
//! on every status it names and on a dropped connection, the token limit's
//! name on api.openai.com, and the attachment limits.

mod support;

use std::io::{Read, Write};

use llmdeck::chat::attachment::{self, Attachment};
use llmdeck::chat::params::Params;
use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::provider::chat_completions::{self, MaxTokensField};
use llmdeck::provider::event::StreamEvent;
use llmdeck::provider::http::{self, HttpClient, Timeouts};
use support::mock_server::{Mock, Reply};
use support::text;

fn endpoint(base_url: &str) -> llmdeck::config::profile::HttpEndpoint {
    support::endpoint(base_url, "sk-promises", llmdeck::chat::params::Api::Chat)
}

fn request(params: Params) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![WireMessage::text(WireRole::User, "Hi")],
        params,
        tools: Vec::new(),
    }
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect_secs: 5,
        first_byte_secs: 10,
        idle_secs: 10,
        max_attempts: 3,
        max_retry_wait_secs: 2,
    }
}

async fn collect(base_url: &str) -> Vec<StreamEvent> {
    let client = HttpClient::new(endpoint(base_url), timeouts()).unwrap();
    let mut events = Vec::new();
    client
        .stream_chat(&request(Params::default()), &mut |e| events.push(e))
        .await;
    events
}

#[tokio::test]
async fn every_status_the_readme_names_is_retried_and_then_succeeds() {
    for status in [408, 409, 500, 502, 503, 504] {
        let mock = Mock::start().await;
        mock.push(Reply::Status {
            status,
            body: r#"{"error":{"message":"try again","type":"server_error"}}"#.into(),
            headers: vec![("retry-after-ms".into(), "10".into())],
        });
        let events = collect(&mock.base_url).await;
        assert!(
            matches!(events[0], StreamEvent::Retrying { attempt: 2, .. }),
            "{status}: {events:?}"
        );
        assert_eq!(text(&events), "Hello from the mock.", "{status}");
        assert_eq!(mock.chat_requests().len(), 2, "{status}");
    }
    // And a status that is not retried is not.
    let mock = Mock::start().await;
    mock.push(Reply::Status {
        status: 400,
        body: r#"{"error":{"message":"bad","type":"invalid_request_error"}}"#.into(),
        headers: vec![],
    });
    collect(&mock.base_url).await;
    assert_eq!(mock.chat_requests().len(), 1);
}

/// A server that closes the first connection without a word (a proxy
/// restarting), then answers: the client retries on a new connection.
#[tokio::test]
async fn a_dropped_connection_before_the_first_byte_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let mut served = 0;
        for conn in listener.incoming().take(2) {
            let mut conn = conn.unwrap();
            // Read the request head and body (enough to know it arrived).
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            served += 1;
            if served == 1 {
                drop(conn);
                continue;
            }
            let chunk = support::mock_server::chunk(
                "gpt-4o-mini",
                r#"{"content":"after the drop"}"#,
                "\"stop\"",
            );
            let body = format!("data: {chunk}\n\ndata: [DONE]\n\n");
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}"
                )
                .as_bytes(),
            );
        }
        served
    });
    let events = collect(&base_url).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::Retrying { .. })),
        "{events:?}"
    );
    assert_eq!(text(&events), "after the drop");
    assert_eq!(server.join().unwrap(), 2);
}

#[test]
fn api_openai_com_gets_max_completion_tokens_and_others_max_tokens() {
    let params = Params {
        max_output_tokens: Some(256),
        ..Params::default()
    };
    let req = request(params);
    let openai = endpoint("https://api.openai.com/v1");
    assert_eq!(
        http::max_tokens_field(&openai),
        MaxTokensField::MaxCompletionTokens
    );
    let body = serde_json::to_value(chat_completions::body(
        &req,
        http::max_tokens_field(&openai),
    ))
    .unwrap();
    assert_eq!(body["max_completion_tokens"], 256);
    assert!(body.get("max_tokens").is_none(), "{body}");
    let local = endpoint("http://127.0.0.1:8080/v1");
    let body =
        serde_json::to_value(chat_completions::body(&req, http::max_tokens_field(&local))).unwrap();
    assert_eq!(body["max_tokens"], 256);
    assert!(body.get("max_completion_tokens").is_none(), "{body}");
}

/// A PDF of `pages` page objects.
fn pdf(pages: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    for i in 0..pages {
        out.extend(format!("{} 0 obj << /Type /Page /Parent 1 0 R >> endobj\n", i + 2).bytes());
    }
    out.extend(b"1 0 obj << /Type /Pages >> endobj\n%%EOF\n");
    out
}

/// A PNG header of 100x100 followed by `size` bytes in all.
fn png(size: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    out.extend(100u32.to_be_bytes());
    out.extend(100u32.to_be_bytes());
    out.extend([8, 6, 0, 0, 0]);
    out.resize(size, 0);
    out
}

#[test]
fn a_pdf_of_more_than_100_pages_is_refused_and_100_is_taken() {
    assert_eq!(
        Attachment::from_bytes("ok.pdf", &pdf(100)).unwrap().pages,
        Some(100)
    );
    let err = Attachment::from_bytes("long.pdf", &pdf(101)).unwrap_err();
    assert!(
        err.contains("long.pdf") && err.contains("101 pages") && err.contains("100"),
        "{err}"
    );
}

#[test]
fn attachments_over_50_mb_in_one_request_are_refused_before_anything_is_sent() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    // Three images each under the 20 MB image limit, 54 MB together.
    let mut args = vec!["chat".to_string(), "--model".into(), "gpt-4o".into()];
    for name in ["a.png", "b.png", "c.png"] {
        let path = home.path().join(name);
        std::fs::write(&path, png(18 * 1024 * 1024)).unwrap();
        args.push("--attach".into());
        args.push(path.display().to_string());
    }
    args.push("what stands out?".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = support::llmdeck(home.path(), Some(&mock), &args, None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("54.0 MB") && err.contains("50.0 MB"), "{err}");
    assert!(mock.chat_requests().is_empty(), "nothing was sent");
    // Under the limit they go.
    assert_eq!(attachment::MAX_REQUEST_BYTES, 50 * 1024 * 1024);
}

#[test]
fn more_than_four_models_on_the_command_line_are_refused() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["chat"];
    for m in ["a", "b", "c", "d", "e"] {
        args.extend(["--model", m]);
    }
    args.push("hi");
    let out = support::llmdeck(home.path(), Some(&mock), &args, None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("compare at most 4 models"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(mock.chat_requests().is_empty());
}

#[test]
fn the_external_editor_suspends_the_console_and_its_text_comes_back() {
    let home = support::home_with_config("[demo]\ntokens_per_second = 400\n");
    // An "editor" that replaces the draft, as a user saving in vi would.
    let editor = home.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'written in the editor' > \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let editor = editor.display().to_string();
    let Some(t) =
        support::tmux::Tmux::start(home.path(), &[("EDITOR", &editor), ("VISUAL", "")], &[])
    else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("typed first");
    t.keys(&["C-e"]);
    // Back in the console, whole (title bar and all), with the editor's text.
    let screen = t.wait_for("written in the editor");
    assert!(
        screen.contains("Playground") && screen.contains("DEMO"),
        "{screen}"
    );
    assert!(!screen.contains("typed first"), "{screen}");
    t.keys(&["Enter"]);
    let screen = t.wait_for("tok/s");
    assert!(screen.contains("written in the editor"), "{screen}");
    t.keys(&["C-q"]);
    t.wait_exit();
}

#[test]
fn f6_switches_profile_and_the_next_request_goes_to_its_endpoint() {
    let one = Mock::start_in_background();
    let two = Mock::start_in_background();
    let home = support::home_with_config(&format!(
        "default_profile = \"one\"\n\
         [profiles.one]\nbase_url = \"{}\"\napi_key_env = \"KEY_ONE\"\nmodel = \"gpt-4o-mini\"\n\
         [profiles.two]\nbase_url = \"{}\"\napi_key_env = \"KEY_TWO\"\nmodel = \"gpt-4o\"\n",
        one.base_url, two.base_url
    ));
    let Some(t) = support::tmux::Tmux::start(
        home.path(),
        &[("KEY_ONE", "sk-one-key"), ("KEY_TWO", "sk-two-key")],
        &[],
    ) else {
        return;
    };
    t.wait_for("one @");
    t.keys(&["F6"]);
    t.wait_for("Profile");
    t.type_text("two");
    t.keys(&["Enter"]);
    let screen = t.wait_for("two @");
    assert!(screen.contains("gpt-4o "), "the profile's model: {screen}");
    t.type_text("which endpoint?");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    assert!(
        one.chat_requests().is_empty(),
        "nothing went to the first profile"
    );
    let sent = two.chat_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("authorization"), Some("Bearer sk-two-key"));
    assert_eq!(sent[0].json()["model"], "gpt-4o");
    t.keys(&["C-q"]);
    t.wait_exit();
}
