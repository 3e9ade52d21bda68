//! View code with remote MCP servers (`hosted = true`): each snippet sends
//! the server as llmdeck sends it, its url and header values read from
//! environment variables (never in the snippet), each variable its own.

mod support;

use std::collections::BTreeMap;

use llmdeck::chat::request::{WireMessage, WireRole};
use llmdeck::provider::code::snippets;
use support::mock_server::Mock;
use support::snippets::{
    curl_sends_what_llmdeck_sent, python_and_node_send, request, responses_profile, send_as_llmdeck,
};

/// A remote MCP server OpenAI connects to: every snippet sends it as llmdeck
/// does (url, headers, allowed tools), its headers and a url with a token read
/// from the environment, never written out. Before, the snippets left the
/// server's url out: the copied request named a server OpenAI could not reach.
#[test]
fn a_remote_mcp_server_is_in_every_snippet_its_secrets_read_from_the_environment() {
    use llmdeck::chat::tools::HostedTool;
    use llmdeck::tools::config::McpConfig;
    const URL: &str = "https://mcp.example.org/mcp?token=tok-url-SECRET";
    let mock = Mock::start_in_background();
    let p = responses_profile(&mock);
    let config = McpConfig {
        url: Some(URL.into()),
        headers: BTreeMap::from([("Authorization".into(), "Bearer hdr-SECRET".into())]),
        hosted: true,
        allowed_tools: Some(vec!["search_docs".into()]),
        ..Default::default()
    };
    let mut req = request();
    req.params.hosted = vec![HostedTool::Mcp {
        server: "docs".into(),
    }];
    // A message that holds a variable's very name is sent as it is.
    req.messages
        .push(WireMessage::text(WireRole::User, "$LLMDECK_MCP_DOCS_URL"));
    send_as_llmdeck(
        &p,
        &req,
        BTreeMap::from([("docs".into(), config.remote().unwrap())]),
    );
    let shown = BTreeMap::from([("docs".into(), config.shown("docs").unwrap())]);
    let all = snippets(&p, &req, false, &shown);
    for s in &all {
        for secret in ["tok-url-SECRET", "hdr-SECRET", "sk-view-code-secret"] {
            assert!(!s.code.contains(secret), "{}: {}", s.label, s.code);
        }
    }
    let env = [
        ("MOCK_KEY", "sk-from-env"),
        ("LLMDECK_MCP_DOCS_URL", URL),
        ("LLMDECK_MCP_DOCS_HEADER_AUTHORIZATION", "Bearer hdr-SECRET"),
    ];
    let llmdeck = curl_sends_what_llmdeck_sent(&mock, &all[0].code, &env);
    assert_eq!(llmdeck["tools"][0]["server_url"], URL);
    assert_eq!(
        llmdeck["tools"][0]["headers"]["Authorization"],
        "Bearer hdr-SECRET"
    );
    assert_eq!(llmdeck["tools"][0]["allowed_tools"][0], "search_docs");
    // Python and Node: the same request.
    for (label, body) in python_and_node_send(&all, &env) {
        assert_eq!(body, llmdeck, "{label} sends what llmdeck sends");
    }
    assert!(
        all[3]
            .code
            .contains(r#"body["tools"][0]["headers"]["Authorization"] = std::env::var("LLMDECK_MCP_DOCS_HEADER_AUTHORIZATION")?.into();"#),
        "{}",
        all[3].code
    );
    assert!(all[3].code.contains("serde_json::from_value(body)?"));
    // Any url is a variable (a token can sit in its path, where no rule
    // sees it), presenter mode or not.
    let plain = McpConfig {
        url: Some("https://docs.example.com/mcp/s/tok-path-SECRET/mcp".into()),
        ..config.clone()
    };
    let shown = BTreeMap::from([("docs".into(), plain.shown("docs").unwrap())]);
    for presenter in [false, true] {
        for s in snippets(&p, &req, presenter, &shown) {
            assert!(!s.code.contains("docs.example.com"), "{}", s.code);
            assert!(s.code.contains("LLMDECK_MCP_DOCS_URL"), "{}", s.code);
        }
    }
}

/// Two servers whose names differ only in punctuation (and two headers
/// whose names do) would read the same variables: each is read from its own,
/// and the snippet sends each server's own url and header (before, both
/// servers were sent the first one's).
#[test]
fn servers_whose_names_read_the_same_variable_each_get_their_own() {
    use llmdeck::chat::tools::HostedTool;
    use llmdeck::tools::config::McpConfig;
    let mock = Mock::start_in_background();
    let p = responses_profile(&mock);
    let server = |url: &str, headers: &[(&str, &str)]| McpConfig {
        url: Some(url.into()),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        hosted: true,
        ..Default::default()
    };
    let configs = BTreeMap::from([
        (
            "docs-v2".to_string(),
            server(
                "https://one.example/mcp",
                &[("X-Key", "key-one"), ("X_Key", "key-two")],
            ),
        ),
        (
            "docs_v2".to_string(),
            server("https://two.example/mcp", &[("X-Key", "key-three")]),
        ),
    ]);
    let mut req = request();
    req.params.hosted = configs
        .keys()
        .map(|name| HostedTool::Mcp {
            server: name.clone(),
        })
        .collect();
    let remote = configs
        .iter()
        .map(|(n, c)| (n.clone(), c.remote().unwrap()));
    send_as_llmdeck(&p, &req, remote.collect());
    let shown = configs
        .iter()
        .map(|(n, c)| (n.clone(), c.shown(n).unwrap()))
        .collect();
    let curl = &snippets(&p, &req, false, &shown)[0].code;
    let env = [
        ("MOCK_KEY", "sk-from-env"),
        ("LLMDECK_MCP_DOCS_V2_URL", "https://one.example/mcp"),
        ("LLMDECK_MCP_DOCS_V2_HEADER_X_KEY", "key-one"),
        ("LLMDECK_MCP_DOCS_V2_HEADER_X_KEY_2", "key-two"),
        ("LLMDECK_MCP_DOCS_V2_URL_2", "https://two.example/mcp"),
        ("LLMDECK_MCP_DOCS_V2_HEADER_X_KEY_3", "key-three"),
    ];
    for (var, _) in &env[1..] {
        assert!(curl.contains(&format!("${var}\"")), "{var}: {curl}");
    }
    curl_sends_what_llmdeck_sent(&mock, curl, &env);
}
