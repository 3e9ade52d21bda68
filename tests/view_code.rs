//! "View code": every snippet carries the request that would be sent, the key
//! stays an environment variable, and the curl one sends byte for byte what
//! llmdeck sends.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use llmdeck::chat::params::Params;
use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::config::profile::{AuthStyle, HttpEndpoint};
use llmdeck::config::{Endpoint, Profile, Secret};
use llmdeck::provider::code::snippets;
use llmdeck::provider::http::{HttpClient, Timeouts};
use support::mock_server::Mock;

fn profile(mock: &Mock) -> Profile {
    let mut headers = BTreeMap::new();
    headers.insert("X-Title".to_string(), "it's llmdeck".to_string());
    Profile {
        name: "mock".into(),
        budgets: None,
        endpoint: Endpoint::Http(HttpEndpoint {
            base_url: mock.base_url.clone(),
            key: Secret::new("sk-view-code-secret"),
            key_env: "MOCK_KEY".into(),
            auth: AuthStyle::Bearer,
            organization: Some("org-123".into()),
            project: None,
            headers,
            query: BTreeMap::new(),
            public: Default::default(),
            api: llmdeck::chat::params::Api::Chat,
            store: false,
        }),
        model: "gpt-4o".into(),
        models: vec![],
        library: None,
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![
            WireMessage::text(
                WireRole::System,
                "Answer in 'single quotes' and \"double\" ones.",
            ),
            WireMessage::text(WireRole::User, "Ünïcode, \"\"\" and \"# in here"),
        ],
        params: Params {
            temperature: Some(0.3),
            max_output_tokens: Some(50),
            ..Params::default()
        },
        tools: Vec::new(),
    }
}

/// Runs a curl snippet with `env` set; it must succeed. Its output.
fn run_curl(code: &str, env: &[(&str, &str)]) -> String {
    run_curl_in(tempfile::tempdir().unwrap().path(), code, env)
}

/// `run_curl` in folder `dir`.
fn run_curl_in(dir: &std::path::Path, code: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(code)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_sends_exactly_the_bytes_llmdeck_sends() {
    let mock = Mock::start_in_background();
    let p = profile(&mock);
    // What llmdeck itself sends.
    send_as_llmdeck(&p, &request(), BTreeMap::new());
    let curl = &snippets(&p, &request(), false, &BTreeMap::new())[0];
    assert_eq!(curl.label, "curl");
    assert!(
        !curl.code.contains("sk-view-code-secret"),
        "the key is never in a snippet"
    );
    let out = run_curl(&curl.code, &[("MOCK_KEY", "sk-from-env")]);
    let sent = mock.chat_requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].body, sent[0].body, "byte-identical bodies");
    assert_eq!(sent[1].header("authorization"), Some("Bearer sk-from-env"));
    assert_eq!(sent[1].header("openai-organization"), Some("org-123"));
    assert_eq!(sent[1].header("x-title"), Some("it's llmdeck"));
    assert!(
        out.contains(r#""content":"Hello""#),
        "the answer streamed back"
    );
}

#[test]
fn python_node_and_rust_carry_the_same_body_and_parse() {
    let mock = Mock::start_in_background();
    let p = profile(&mock);
    let all = snippets(&p, &request(), false, &BTreeMap::new());
    let Endpoint::Http(ep) = &p.endpoint else {
        unreachable!()
    };
    let body: serde_json::Value =
        serde_json::from_slice(&llmdeck::provider::http::body(ep, &request())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for s in &all[1..] {
        assert!(!s.code.contains("sk-view-code-secret"));
        assert!(
            s.code.contains("MOCK_KEY"),
            "{} reads the key from the environment",
            s.label
        );
        // The body inside the snippet is the request's body.
        let start = s
            .code
            .find("{\n  \"")
            .unwrap_or_else(|| panic!("{}: no body", s.label));
        let end = s.code[start..].find("\n}").unwrap() + start + 2;
        let embedded: serde_json::Value = serde_json::from_str(&s.code[start..end]).unwrap();
        assert_eq!(embedded, body, "{}", s.label);
    }
    // They are valid programs in their languages, where the tools are here.
    std::fs::write(dir.path().join("s.py"), &all[1].code).unwrap();
    let py = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(dir.path().join("s.py"))
        .output();
    match py {
        Ok(py) => assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        ),
        Err(_) => support::skip("python3 is not installed: the Python snippet is not compiled"),
    }
    std::fs::write(dir.path().join("s.mjs"), &all[2].code).unwrap();
    match Command::new("node")
        .arg("--check")
        .arg(dir.path().join("s.mjs"))
        .output()
    {
        Ok(node) => assert!(
            node.status.success(),
            "{}",
            String::from_utf8_lossy(&node.stderr)
        ),
        Err(_) => support::skip(
            "node is not installed (.ci/run installs it): the Node snippet is not checked",
        ),
    }
    assert!(all[3].code.contains("r#\"") || all[3].code.contains("r##\""));
    assert!(all[3].code.contains("create_stream(request)"));
}

#[test]
fn presenter_mode_shows_ids_and_hosts_as_variables() {
    let mock = Mock::start_in_background();
    let all = snippets(&profile(&mock), &request(), true, &BTreeMap::new());
    for s in &all {
        assert!(!s.code.contains("org-123"), "{}", s.label);
        assert!(!s.code.contains("127.0.0.1"), "{}", s.label);
    }
    assert!(
        all[0]
            .code
            .contains("-H \"OpenAI-Organization: $OPENAI_ORG_ID\""),
        "{}",
        all[0].code
    );
    assert!(
        all[0]
            .code
            .starts_with("curl --globoff \"$OPENAI_BASE_URL/chat/completions\"")
    );
    assert!(
        all[1]
            .code
            .contains("organization=os.environ[\"OPENAI_ORG_ID\"]")
    );
    assert!(all[2].code.contains("baseURL: process.env.OPENAI_BASE_URL"));
    assert!(
        all[3]
            .code
            .contains(".with_org_id(std::env::var(\"OPENAI_ORG_ID\")?)")
    );
    // The presenter's curl still runs, with the ids and the host from the environment.
    run_curl(
        &all[0].code,
        &[
            ("MOCK_KEY", "sk-x"),
            ("OPENAI_ORG_ID", "org-from-env"),
            ("OPENAI_BASE_URL", &mock.base_url),
        ],
    );
    assert_eq!(
        mock.chat_requests()[0].header("openai-organization"),
        Some("org-from-env")
    );
}

/// A gateway's subscription key and an Azure Functions `code` are secrets:
/// never in a snippet (presenter mode or not), read from the environment,
/// and the curl snippet still sends them. Public values stay literal.
#[test]
fn secret_headers_and_query_values_are_environment_variables() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.headers.insert(
        "Ocp-Apim-Subscription-Key".into(),
        "apim-SECRET-1234".into(),
    );
    ep.headers.insert("X-Team".into(), "platform".into());
    ep.public.headers.push("x-team".into());
    ep.query.insert("code".into(), "fn-SECRET-code".into());
    ep.query.insert("api-version".into(), "2024-10-21".into());
    for presenter in [false, true] {
        for s in snippets(&p, &request(), presenter, &BTreeMap::new()) {
            assert!(
                !s.code.contains("apim-SECRET-1234"),
                "{}: {}",
                s.label,
                s.code
            );
            assert!(
                !s.code.contains("fn-SECRET-code"),
                "{}: {}",
                s.label,
                s.code
            );
        }
    }
    let all = snippets(&p, &request(), false, &BTreeMap::new());
    assert!(all[1].code.contains(
        r#""Ocp-Apim-Subscription-Key": os.environ["LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY"]"#
    ));
    assert!(
        all[1]
            .code
            .contains(r#""code": os.environ["LLMDECK_QUERY_CODE"]"#)
    );
    assert!(all[1].code.contains(r#""api-version": "2024-10-21""#));
    assert!(
        all[2]
            .code
            .contains(r#""code": process.env.LLMDECK_QUERY_CODE"#)
    );
    assert!(all[2].code.contains(r#""X-Team": "platform""#));
    run_curl(
        &all[0].code,
        &[
            ("MOCK_KEY", "sk-x"),
            ("LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY", "apim-from-env"),
            ("LLMDECK_QUERY_CODE", "code-from-env"),
        ],
    );
    let sent = &mock.chat_requests()[0];
    assert_eq!(
        sent.header("ocp-apim-subscription-key"),
        Some("apim-from-env")
    );
    assert_eq!(sent.header("x-team"), Some("platform"));
    assert!(
        sent.path
            .ends_with("?api-version=2024-10-21&code=code-from-env"),
        "{}",
        sent.path
    );
    // Python and Node still parse.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.py"), &all[1].code).unwrap();
    if let Ok(py) = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(dir.path().join("s.py"))
        .output()
    {
        assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        );
    }
    std::fs::write(dir.path().join("s.mjs"), &all[2].code).unwrap();
    if let Ok(node) = Command::new("node")
        .arg("--check")
        .arg(dir.path().join("s.mjs"))
        .output()
    {
        assert!(
            node.status.success(),
            "{}",
            String::from_utf8_lossy(&node.stderr)
        );
    }
}

/// The mock's profile on the Responses API (where remote MCP servers go).
fn responses_profile(mock: &Mock) -> Profile {
    let mut p = profile(mock);
    if let Endpoint::Http(ep) = &mut p.endpoint {
        ep.api = llmdeck::chat::params::Api::Responses;
    }
    p
}

/// Sends `req` as llmdeck does (with these remote MCP servers) to the mock.
fn send_as_llmdeck(
    p: &Profile,
    req: &ChatRequest,
    remote: BTreeMap<String, llmdeck::chat::tools::RemoteMcp>,
) {
    let Endpoint::Http(ep) = &p.endpoint else {
        unreachable!()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut client = HttpClient::new(ep.clone(), Timeouts::default()).unwrap();
    client.set_remote_mcp(remote);
    rt.block_on(client.stream_chat(req, &mut |_| {}));
}

/// Runs the curl snippet `code` with `env`: it sends the mock byte for byte
/// the Responses request llmdeck sent before it (returned, parsed).
fn curl_sends_what_llmdeck_sent(
    mock: &Mock,
    code: &str,
    env: &[(&str, &str)],
) -> serde_json::Value {
    run_curl(code, env);
    let sent = mock.responses_requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        String::from_utf8_lossy(&sent[1].body),
        String::from_utf8_lossy(&sent[0].body),
        "curl sends byte for byte what llmdeck sends"
    );
    serde_json::from_slice(&sent[0].body).unwrap()
}

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
    // Python and Node, run against a stand-in for the openai package that
    // prints the body it is given: the same request.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("openai.py"),
        "import json\nclass _Create:\n    def create(self, **body):\n        print(json.dumps(body))\n        return []\nclass OpenAI:\n    def __init__(self, **kw):\n        self.responses = _Create()\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("s.py"), &all[1].code).unwrap();
    let module = dir.path().join("node_modules/openai");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("package.json"),
        r#"{"name": "openai", "type": "module", "main": "index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        module.join("index.js"),
        "export default class OpenAI {\n  constructor() {\n    this.responses = { create: async (body) => { console.log(JSON.stringify(body)); return []; } };\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("s.mjs"), &all[2].code).unwrap();
    for (label, program, file) in [("Python", "python3", "s.py"), ("Node", "node", "s.mjs")] {
        let Ok(out) = Command::new(program)
            .arg(dir.path().join(file))
            .current_dir(dir.path())
            .env("PYTHONPATH", dir.path())
            .envs(env)
            .output()
        else {
            support::skip(&format!(
                "{program} is not installed: the {label} snippet is not run"
            ));
            continue;
        };
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let body: serde_json::Value =
            serde_json::from_str(stdout.lines().next().unwrap_or_default()).unwrap();
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

/// A base url that the curl snippet double-quotes (because a secret query
/// value makes it hold a variable) cannot run a command or read another
/// variable: before, a base url with `$(...)` in it ran the command when the
/// snippet was pasted. With a `!` (history expansion in an interactive shell)
/// it is quoted another way, as safely.
#[test]
fn nothing_in_a_url_runs_in_the_shell() {
    let mock = Mock::start_in_background();
    let env = [
        ("MOCK_KEY", "sk-x"),
        ("LLMDECK_QUERY_CODE", "code-from-env"),
    ];
    let tails = [
        "$(touch${IFS}pwned)$HOME/v1",
        "$(touch${IFS}pwned)!$HOME\\/v1",
    ];
    for tail in tails {
        let mut p = profile(&mock);
        let Endpoint::Http(ep) = &mut p.endpoint else {
            unreachable!()
        };
        ep.base_url = format!("{}/{tail}", mock.base_url);
        ep.query.insert("code".into(), "fn-SECRET-code".into());
        let dir = tempfile::tempdir().unwrap();
        let curl = &snippets(&p, &request(), false, &BTreeMap::new())[0];
        let before = mock.received().len();
        run_curl_in(dir.path(), &curl.code, &env);
        // Pasted into an interactive bash too, where a `!` inside double
        // quotes is history expansion ("event not found"), not a character.
        // Its own history file, and a session of its own: no terminal to take.
        let mut bash = Command::new("bash");
        bash.args(["--norc", "--noprofile", "-i"])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("HISTFILE", dir.path().join("history"))
            .envs(env);
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid only, between fork and exec.
        unsafe {
            bash.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut bash = bash
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = bash.stdin.take().unwrap();
        stdin.write_all(curl.code.as_bytes()).unwrap();
        drop(stdin);
        let out = bash.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("event not found"), "{err}");
        assert!(!dir.path().join("pwned").exists(), "{}", curl.code);
        let sent = &mock.received()[before..];
        assert_eq!(sent.len(), 2, "{err}");
        for sent in sent {
            assert!(sent.path.contains(tail), "{} in {}", tail, sent.path);
            assert!(sent.path.ends_with("?code=code-from-env"), "{}", sent.path);
        }
    }
}

/// A base url with a user and password in it is a variable in every snippet.
#[test]
fn a_base_url_with_credentials_is_a_variable() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.base_url = mock.base_url.replace("http://", "http://bot:pw-SECRET-77@");
    for s in snippets(&p, &request(), false, &BTreeMap::new()) {
        assert!(!s.code.contains("pw-SECRET-77"), "{}: {}", s.label, s.code);
        assert!(
            s.code.contains("OPENAI_BASE_URL"),
            "{}: {}",
            s.label,
            s.code
        );
    }
}

/// The Rust snippet sends the profile's headers, and the key as `api-key`
/// where the endpoint takes it so (it sent neither before).
#[test]
fn the_rust_snippet_sends_the_headers_and_the_key_as_the_endpoint_wants() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let rust = &snippets(&p, &request(), false, &BTreeMap::new())[3].code;
    assert!(
        rust.contains(r#".with_header("x-title", "it's llmdeck")?"#),
        "{rust}"
    );
    assert!(
        rust.contains(r#".with_api_key(std::env::var("MOCK_KEY")?)"#),
        "{rust}"
    );
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.auth = AuthStyle::ApiKey;
    ep.query.insert("api-version".into(), "2024-10-21".into());
    let rust = &snippets(&p, &request(), false, &BTreeMap::new())[3].code;
    assert!(
        rust.contains(r#".with_header("api-key", std::env::var("MOCK_KEY")?)?"#),
        "{rust}"
    );
    // Left unset, async-openai would read OPENAI_API_KEY (or the admin key)
    // and send it to this host as well.
    assert!(rust.contains(r#".with_api_key("")"#), "{rust}");
    assert!(!rust.contains("with_api_key(std::env"), "{rust}");
    assert!(rust.contains(r#""api-version"="2024-10-21""#), "{rust}");
}

/// A public header, query value or id whose text names one of the snippets'
/// variables (`$OPENAI_ADMIN_KEY`) is sent as that text: read from the
/// environment like a secret, never expanded. Before, curl expanded it and
/// Python read it from the environment, sending the admin key to the host.
#[test]
fn a_value_that_names_a_variable_is_not_expanded() {
    let mock = Mock::start_in_background();
    let mut p = profile(&mock);
    let Endpoint::Http(ep) = &mut p.endpoint else {
        unreachable!()
    };
    ep.headers
        .insert("X-Title".into(), "$OPENAI_ADMIN_KEY".into());
    ep.organization = Some("$LLMDECK_".into());
    for s in snippets(&p, &request(), false, &BTreeMap::new()) {
        assert!(
            !s.code.contains("OPENAI_ADMIN_KEY"),
            "{}: {}",
            s.label,
            s.code
        );
        assert!(
            s.code.contains("LLMDECK_HEADER_X_TITLE"),
            "{}: {}",
            s.label,
            s.code
        );
    }
    let curl = &snippets(&p, &request(), false, &BTreeMap::new())[0];
    run_curl(
        &curl.code,
        &[
            ("MOCK_KEY", "sk-x"),
            ("OPENAI_ADMIN_KEY", "sk-admin-canary"),
            ("LLMDECK_HEADER_X_TITLE", "$OPENAI_ADMIN_KEY"),
            ("OPENAI_ORG_ID", "$LLMDECK_"),
        ],
    );
    let sent = &mock.chat_requests()[0];
    assert_eq!(sent.header("x-title"), Some("$OPENAI_ADMIN_KEY"));
    assert_eq!(sent.header("openai-organization"), Some("$LLMDECK_"));
}

/// A profile's `api_key_env` is written into view code's snippets as a name:
/// one that is no variable name (a shell command, a dash) is refused with its
/// reason, never run or read in part.
#[test]
fn an_api_key_env_that_is_not_a_variable_name_is_refused() {
    let mock = Mock::start_in_background();
    // Also beside api_key_command, which reads the key some other way.
    let cases = [
        ("K$(touch pwned)", ""),
        ("MY-KEY", ""),
        ("9KEY", ""),
        ("K$(touch pwned)", "api_key_command = \"printf sk-x\"\n"),
    ];
    for (var, command) in cases {
        let home = support::home_with_config(&format!(
            "default_profile = \"gw\"\n[profiles.gw]\nbase_url = \"{}\"\napi_key_env = {}\n{command}",
            mock.base_url,
            toml::Value::String(var.into())
        ));
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("LLMDECK_HOME", home.path())
            .current_dir(home.path())
            .args(["chat", "hello"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}: {err}");
        assert!(err.contains("is not a variable name"), "{var}: {err}");
        assert!(!home.path().join("pwned").exists());
        assert!(mock.received().is_empty(), "nothing was sent");
    }
}

/// A header or query parameter whose name spells a snippet variable
/// (`$OPENAI_ADMIN_KEY`) would be filled in by the shell when a curl snippet
/// is pasted: the profile is refused with that reason.
#[test]
fn a_header_or_query_name_that_spells_a_variable_is_refused() {
    let mock = Mock::start_in_background();
    for table in ["headers", "query"] {
        let home = support::home_with_config(&format!(
            "default_profile = \"gw\"\n[profiles.gw]\nbase_url = \"{}\"\n[profiles.gw.{table}]\n\"X-$OPENAI_ADMIN_KEY\" = \"a\"\n",
            mock.base_url
        ));
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("LLMDECK_HOME", home.path())
            .env("OPENAI_API_KEY", "sk-x")
            .args(["chat", "hello"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{table}: {err}");
        assert!(
            err.contains("would read as an environment variable"),
            "{table}: {err}"
        );
        assert!(mock.received().is_empty(), "nothing was sent");
    }
}
