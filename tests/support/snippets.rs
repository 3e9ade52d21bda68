//! What the view-code tests share: a profile on the mock, a request, and
//! each snippet run as a user would run it (curl in `sh`; Python and Node
//! against a stand-in for the openai package) beside what llmdeck sends.

use std::collections::BTreeMap;
use std::process::Command;

use llmdeck::chat::params::Params;
use llmdeck::chat::request::{ChatRequest, WireMessage, WireRole};
use llmdeck::config::profile::{AuthStyle, HttpEndpoint};
use llmdeck::config::{Endpoint, Profile, Secret};
use llmdeck::provider::code::Snippet;
use llmdeck::provider::http::{HttpClient, Timeouts};

use super::mock_server::Mock;

/// A profile on `mock` (the Chat API): a key read from `MOCK_KEY`, an
/// organization, a header with a quote in its value.
pub fn profile(mock: &Mock) -> Profile {
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

/// A request whose messages hold quotes of every kind and non-ASCII text.
pub fn request() -> ChatRequest {
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
pub fn run_curl(code: &str, env: &[(&str, &str)]) -> String {
    run_curl_in(tempfile::tempdir().unwrap().path(), code, env)
}

/// `run_curl` in folder `dir`.
pub fn run_curl_in(dir: &std::path::Path, code: &str, env: &[(&str, &str)]) -> String {
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

/// The mock's profile on the Responses API (where remote MCP servers go).
pub fn responses_profile(mock: &Mock) -> Profile {
    let mut p = profile(mock);
    if let Endpoint::Http(ep) = &mut p.endpoint {
        ep.api = llmdeck::chat::params::Api::Responses;
    }
    p
}

/// Sends `req` as llmdeck does (with these remote MCP servers) to the mock.
pub fn send_as_llmdeck(
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
pub fn curl_sends_what_llmdeck_sent(
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

/// The body the Python and the Node snippet (`all[1]`, `all[2]`) hand the
/// openai package, run with `env` against a stand-in for it that prints the
/// body it is given (a language not installed is skipped).
pub fn python_and_node_send(
    all: &[Snippet],
    env: &[(&str, &str)],
) -> Vec<(&'static str, serde_json::Value)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("openai.py"),
        "import json\nclass _Create:\n    def create(self, **body):\n        print(json.dumps(body))\n        return []\nclass _Chat:\n    completions = _Create()\nclass OpenAI:\n    def __init__(self, **kw):\n        self.responses = _Create()\n        self.chat = _Chat()\n",
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
        "const create = async (body) => { console.log(JSON.stringify(body)); return []; };\nexport default class OpenAI {\n  constructor() {\n    this.responses = { create };\n    this.chat = { completions: { create } };\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("s.mjs"), &all[2].code).unwrap();
    let mut sent = Vec::new();
    for (label, program, file) in [("Python", "python3", "s.py"), ("Node", "node", "s.mjs")] {
        let Ok(out) = Command::new(program)
            .arg(dir.path().join(file))
            .current_dir(dir.path())
            .env("PYTHONPATH", dir.path())
            .envs(env.iter().copied())
            .output()
        else {
            super::skip(&format!(
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
        let body = serde_json::from_str(stdout.lines().next().unwrap_or_default()).unwrap();
        sent.push((label, body));
    }
    sent
}
