//! A tool result with an image (`@modelcontextprotocol/server-everything`'s
//! `get-tiny-image`, installed by `.ci/run`): shown as an attachment line
//! (name, type, size), never as base64, and sent back to the model in the
//! form each wire API accepts (checked against OpenAI's own schemas).

mod support;

use std::path::PathBuf;

use serde_json::{Value, json};
use support::llmdeck;
use support::mock_server::{Mock, Reply};
use support::openapi::validate;

/// The PNG signature, base64: what the image's bytes start with.
const PNG_B64: &str = "iVBORw0KGgo";

/// The everything server's entry script and node, or a skip.
fn everything_server() -> Option<(PathBuf, PathBuf)> {
    let js = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/mcp-npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let node = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("node"))
            .find(|p| p.is_file())
    });
    if let (true, Some(node)) = (js.is_file(), node) {
        return Some((js, node));
    }
    support::skip(
        "@modelcontextprotocol/server-everything or node is missing (.ci/run installs them)",
    );
    None
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_image_result_is_an_attachment_sent_in_each_apis_shape() {
    let Some((js, node)) = everything_server() else {
        return;
    };
    for api in ["chat", "responses"] {
        let home = support::home_with_config(&format!(
            "[mcp.everything]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\n",
            node.to_str().unwrap(),
            js.to_str().unwrap()
        ));
        let mock = Mock::start_in_background();
        mock.push(Reply::Calls(vec![("get-tiny-image".into(), "{}".into())]));
        let out = llmdeck(
            home.path(),
            Some(&mock),
            &[
                "chat",
                "--model",
                "gpt-4o-mini",
                "--api",
                api,
                "--mcp",
                "everything",
                "--approve",
                "always",
                "--json",
                "Show me the logo",
            ],
            None,
        );
        assert!(out.status.success(), "{api}: {}", stderr(&out));
        // On the terminal: the attachment line, never the bytes.
        let err = stderr(&out);
        assert!(
            err.contains("⊕ get-tiny-image-1.png · image/png · "),
            "{api}: {err}"
        );
        assert!(err.contains("Here's the image you requested:"), "{err}");
        assert!(
            !err.contains(PNG_B64),
            "{api}: base64 on the terminal: {err}"
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let attached = &v["steps"][0]["tool_runs"][0]["attachments"];
        assert!(
            attached[0]
                .as_str()
                .is_some_and(|a| a.starts_with("get-tiny-image-1.png · image/png · ")),
            "{v}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(PNG_B64));
        // To the model: the result's text, and the image itself.
        let received = mock.received();
        assert_eq!(received.len(), 2, "{api}");
        let body = received[1].json();
        if api == "chat" {
            validate("CreateChatCompletionRequest", &body).unwrap();
            let messages = body["messages"].as_array().unwrap();
            let at = messages.iter().position(|m| m["role"] == "tool").unwrap();
            let text = messages[at]["content"].as_str().unwrap();
            assert!(
                text.contains("[image get-tiny-image-1.png: attached]"),
                "{text}"
            );
            assert!(!text.contains(PNG_B64), "{text}");
            // A tool message is text only: the image follows as the user's.
            let user = &messages[at + 1];
            assert_eq!(user["role"], "user");
            assert_eq!(user["content"][1]["type"], "image_url");
            let url = user["content"][1]["image_url"]["url"].as_str().unwrap();
            assert!(
                url.starts_with(&format!("data:image/png;base64,{PNG_B64}")),
                "{url}"
            );
        } else {
            validate("CreateResponse", &body).unwrap();
            let output = body["input"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["type"] == "function_call_output")
                .unwrap()["output"]
                .clone();
            assert_eq!(output[0]["type"], "input_text");
            assert!(
                output[0]["text"]
                    .as_str()
                    .unwrap()
                    .contains("The image above is the MCP logo.")
            );
            assert_eq!(output[1]["type"], "input_image");
            let url = output[1]["image_url"].as_str().unwrap();
            assert!(
                url.starts_with(&format!("data:image/png;base64,{PNG_B64}")),
                "{url}"
            );
            assert_eq!(output.as_array().unwrap().len(), 2, "{output}");
        }
    }
}

#[test]
fn an_image_over_the_limit_or_not_an_image_is_left_out_with_a_reason() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    // A 1×1 PNG.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let result = json!({"content": [
        {"type": "text", "text": "two images"},
        {"type": "image", "data": b64(b"<svg/>"), "mimeType": "image/svg+xml"},
        {"type": "image", "data": "%%%", "mimeType": "image/png"},
    ]});
    let (text, images) = llmdeck::tools::mcp::render_with_images(&result, "draw");
    assert!(images.is_empty());
    assert!(
        text.starts_with("two images\n[image left out: cannot attach draw-1.svgxml: not a PNG"),
        "{text}"
    );
    assert!(
        text.contains("[image left out: cannot attach draw-1.png: not base64"),
        "{text}"
    );
    let ok = json!({"content": [{"type": "image", "data": png, "mimeType": "image/png"}]});
    let (text, images) = llmdeck::tools::mcp::render_with_images(&ok, "draw");
    assert_eq!(text, "[image draw-1.png: attached]");
    assert_eq!(
        (images[0].mime.as_str(), images[0].width),
        ("image/png", Some(1))
    );
    // Over the API's limit for an image (20 MB): left out, and the text says so.
    let mut big = base64::engine::general_purpose::STANDARD
        .decode(png)
        .unwrap();
    big.resize(21 * 1024 * 1024, 0);
    let huge = json!({"content": [{"type": "image", "data": b64(&big), "mimeType": "image/png"}]});
    let (text, images) = llmdeck::tools::mcp::render_with_images(&huge, "draw");
    assert!(images.is_empty());
    assert!(
        text.contains("larger than the 20.0 MB the API accepts"),
        "{text}"
    );
}
