//! "View code": the request that would be sent now, as curl, Python, Node and
//! Rust, each with the same body and the key read from an environment variable,
//! as every secret header or query value is (`$LLMDECK_HEADER_...`,
//! `$LLMDECK_QUERY_...`), and a remote MCP server's url and headers
//! (`$LLMDECK_MCP_..._URL`, `..._HEADER_...`). The curl body is the exact bytes
//! llmdeck sends once the variables are set.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::http::{api_of, body_with_remote, url};
use crate::chat::params::Api;
use crate::chat::request::ChatRequest;
use crate::chat::tools::{HostedTool, RemoteMcp};
use crate::config::profile::{AuthStyle, HttpEndpoint, OPENAI_BASE_URL};
use crate::config::secret::{
    carries_token, env_var, mcp_var, names_a_variable, variable, variable_parts,
};
use crate::config::{Endpoint, Profile};

#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    pub label: &'static str,
    /// The fence language, for highlighting.
    pub lang: &'static str,
    pub code: String,
}

/// The endpoint code samples talk to (the demo's requests are shown against OpenAI).
fn endpoint(profile: &Profile) -> HttpEndpoint {
    match &profile.endpoint {
        Endpoint::Http(h) => h.clone(),
        Endpoint::Demo => HttpEndpoint {
            base_url: OPENAI_BASE_URL.into(),
            key: None,
            key_env: "OPENAI_API_KEY".into(),
            auth: AuthStyle::Bearer,
            organization: None,
            project: None,
            headers: Default::default(),
            query: Default::default(),
            public: Default::default(),
            api: Api::Responses,
            store: false,
        },
    }
}

/// `presenter`: organization and project ids and a non-OpenAI host are shown as
/// environment variables, so a projector never displays them (as is, always,
/// a base url that carries credentials). `remote`: the remote MCP servers as
/// `McpConfig::shown` writes them, no secret in them.
pub fn snippets(
    profile: &Profile,
    req: &ChatRequest,
    presenter: bool,
    remote: &BTreeMap<String, RemoteMcp>,
) -> Vec<Snippet> {
    let mut ep = endpoint(profile);
    // Every `$OPENAI_...` and `$LLMDECK_...` in a snippet is one put there
    // here: a value that holds such text itself (a public header of
    // "$OPENAI_ADMIN_KEY") is read from the environment too, never expanded.
    for (k, v) in ep.headers.iter_mut() {
        if !ep.public.header(k) || names_a_variable(v) {
            *v = format!("${}", env_var("header", k));
        }
    }
    for (k, v) in ep.query.iter_mut() {
        if !ep.public.query(k) || names_a_variable(v) {
            *v = format!("${}", env_var("query", k));
        }
    }
    let hide = |v: &mut Option<String>, var: &str| {
        if v.as_deref()
            .is_some_and(|v| presenter || names_a_variable(v))
        {
            *v = Some(var.into());
        }
    };
    hide(&mut ep.organization, "$OPENAI_ORG_ID");
    hide(&mut ep.project, "$OPENAI_PROJECT_ID");
    if (presenter && ep.base_url != OPENAI_BASE_URL)
        || carries_token(&ep.base_url)
        || names_a_variable(&ep.base_url)
    {
        ep.base_url = "$OPENAI_BASE_URL".into();
    }
    let api = api_of(&ep, req);
    let remote = named_servers(req, remote);
    let body = body_with_remote(&ep, req, &remote).expect("every server named is in `remote`");
    let body = String::from_utf8(body).expect("JSON is UTF-8");
    let value = serde_json::from_str::<serde_json::Value>(&body).expect("valid JSON");
    let fills = fills(&value);
    let pretty = serde_json::to_string_pretty(&value).expect("JSON serializes");
    vec![
        Snippet {
            label: "curl",
            lang: "bash",
            code: curl(&ep, api, &body, &fills),
        },
        Snippet {
            label: "Python",
            lang: "python",
            code: python(&ep, api, &pretty, &fills),
        },
        Snippet {
            label: "Node",
            lang: "javascript",
            code: node(&ep, api, &pretty, &fills),
        },
        Snippet {
            label: "Rust",
            lang: "rust",
            code: rust(&ep, api, &pretty, &fills),
        },
    ]
}

/// Each remote MCP server `req` names, as `remote` shows it (one the config
/// lacks: its url alone, a variable as always).
fn named_servers(
    req: &ChatRequest,
    remote: &BTreeMap<String, RemoteMcp>,
) -> BTreeMap<String, RemoteMcp> {
    let named = req.params.hosted.iter().filter_map(|h| match h {
        HostedTool::Mcp { server } => Some(server),
        _ => None,
    });
    let mut servers = named
        .map(|server| {
            let shown = remote.get(server).cloned().unwrap_or_else(|| RemoteMcp {
                url: mcp_var(server, "url"),
                ..Default::default()
            });
            (server.clone(), shown)
        })
        .collect();
    distinct_variables(&mut servers);
    servers
}

/// Each variable read once: servers or headers whose names differ only in
/// case or punctuation (`docs-v2`, `docs_v2`) would read the same one, and
/// send one server's url for both. The later ones get `_2`, `_3`….
fn distinct_variables(servers: &mut BTreeMap<String, RemoteMcp>) {
    let mut seen = std::collections::HashSet::new();
    for shown in servers.values_mut() {
        let values = std::iter::once(&mut shown.url).chain(shown.headers.values_mut());
        for value in values.filter(|v| variable(v).is_some()) {
            let base = value.clone();
            let mut n = 1;
            while !seen.insert(value.clone()) {
                n += 1;
                *value = format!("{base}_{n}");
            }
        }
    }
}

/// A value of the body that each snippet reads from the environment: a
/// remote MCP server's url (`header: None`) or one of its headers.
struct Fill {
    /// Its place in the body's `tools`.
    tool: usize,
    header: Option<String>,
    /// As the body has it: `$LLMDECK_MCP_...`.
    placeholder: String,
}

fn fills(body: &serde_json::Value) -> Vec<Fill> {
    let mut out = Vec::new();
    let tools = body["tools"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (tool, t) in tools.iter().enumerate().filter(|(_, t)| t["type"] == "mcp") {
        let placeholder = |v: &serde_json::Value| {
            v.as_str()
                .filter(|v| variable(v).is_some())
                .map(String::from)
        };
        if let Some(placeholder) = placeholder(&t["server_url"]) {
            out.push(Fill {
                tool,
                header: None,
                placeholder,
            });
        }
        for (header, value) in t["headers"].as_object().into_iter().flatten() {
            if let Some(placeholder) = placeholder(value) {
                out.push(Fill {
                    tool,
                    header: Some(header.clone()),
                    placeholder,
                });
            }
        }
    }
    out
}

/// The assignments that put each fill into `body` (a parsed copy of the
/// JSON), each line made by `line(tool, field, value)`, with a comment.
fn fill_lines(
    fills: &[Fill],
    comment: &str,
    line: impl Fn(usize, &str, &str) -> String,
    value: fn(&str) -> String,
) -> String {
    if fills.is_empty() {
        return String::new();
    }
    let mut out = format!("{comment} The remote MCP servers' secrets, from the environment:\n");
    for f in fills {
        let field = match &f.header {
            None => "[\"server_url\"]".to_string(),
            Some(h) => format!("[\"headers\"][{}]", py_str(h)),
        };
        out.push_str(&line(f.tool, &field, &value(&f.placeholder)));
        out.push('\n');
    }
    out
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A URL or header as one shell word in which only the `$OPENAI_...` and
/// `$LLMDECK_...` variables put there are filled in: double-quoted with every
/// other `$`, backquote, quote and backslash escaped, or where it holds a `!`
/// (history expansion in an interactive shell, which no escape inside double
/// quotes stops) single-quoted pieces around each variable.
fn shell_arg(s: &str) -> String {
    let parts = variable_parts(s);
    if parts.iter().all(|(_, var)| !var) {
        return shell_quote(s);
    }
    if s.contains('!') {
        return parts
            .iter()
            .map(|&(part, var)| match var {
                true => format!("\"{part}\""),
                false => shell_quote(part),
            })
            .collect();
    }
    let mut out = String::from("\"");
    for (part, var) in parts {
        match var {
            true => out.push_str(part),
            false => {
                for c in part.chars() {
                    if matches!(c, '$' | '`' | '"' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out.push('"');
    out
}

/// `"key": value` entries of a map, each value written by `value`.
fn entries(
    map: &std::collections::BTreeMap<String, String>,
    value: fn(&str) -> String,
) -> Vec<String> {
    map.iter()
        .map(|(k, v)| format!("{}: {}", py_str(k), value(v)))
        .collect()
}

/// A value that may be `$NAME` (read from the environment) in each language.
fn py_value(s: &str) -> String {
    match variable(s) {
        Some(var) => format!("os.environ[{}]", py_str(var)),
        None => py_str(s),
    }
}

/// JSON as a JavaScript object literal that makes the same object: a
/// `"__proto__": {...}` entry of a literal sets the object's prototype instead
/// of adding the key (a schema's property of that name left the request),
/// while a computed `["__proto__"]` adds it. A `"` in JSON that follows
/// white space, `{` or `,` opens a key or a value, never sits inside a string.
fn own_proto_keys(json: &str) -> String {
    let key = "\"__proto__\":";
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find(key) {
        let opens = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',');
        out.push_str(&rest[..at]);
        out.push_str(if opens { "[\"__proto__\"]:" } else { key });
        rest = &rest[at + key.len()..];
    }
    out.push_str(rest);
    out
}

fn js_value(s: &str) -> String {
    match variable(s) {
        Some(var) => format!("process.env.{var}"),
        None => py_str(s),
    }
}

fn rs_value(s: &str) -> String {
    match variable(s) {
        Some(var) => format!("std::env::var({})?", py_str(var)),
        None => py_str(s),
    }
}

/// Headers other than the key, as (name, value).
fn plain_headers(ep: &HttpEndpoint) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(o) = &ep.organization {
        out.push(("OpenAI-Organization".into(), o.clone()));
    }
    if let Some(p) = &ep.project {
        out.push(("OpenAI-Project".into(), p.clone()));
    }
    out.extend(ep.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

fn curl(ep: &HttpEndpoint, api: Api, body: &str, fills: &[Fill]) -> String {
    // curl reads [] and {} in a url (an IPv6 host, a gateway's path, a
    // value the shell fills in) as ranges and sets of urls to fetch:
    // --globoff sends it as written.
    let mut s = format!(
        "curl --globoff {} \\\n  -H 'Content-Type: application/json' \\\n",
        shell_arg(&url(ep, api.path()))
    );
    match ep.auth {
        AuthStyle::Bearer => s.push_str(&format!(
            "  -H \"Authorization: Bearer ${}\" \\\n",
            ep.key_env
        )),
        AuthStyle::ApiKey => s.push_str(&format!("  -H \"api-key: ${}\" \\\n", ep.key_env)),
    }
    for (k, v) in plain_headers(ep) {
        s.push_str(&format!("  -H {} \\\n", shell_arg(&format!("{k}: {v}"))));
    }
    s.push_str(&format!("  --data-binary {}\n", shell_body(body, fills)));
    s
}

/// The body as one shell word: single-quoted but for the fills, which the
/// shell fills in (`"$VAR"`). Each is looked for only in its own entry of
/// `tools`, so a message that holds the same text stays as it is.
fn shell_body(body: &str, fills: &[Fill]) -> String {
    #[derive(Deserialize)]
    struct Tools<'a> {
        #[serde(borrow, default)]
        tools: Vec<&'a RawValue>,
    }
    let tools = serde_json::from_str::<Tools>(body).map_or_else(|_| Vec::new(), |t| t.tools);
    let mut at: Vec<(usize, &str)> = fills
        .iter()
        .filter_map(|f| {
            let raw = tools.get(f.tool)?.get();
            let start = raw.as_ptr() as usize - body.as_ptr() as usize;
            let key = match &f.header {
                None => py_str("server_url"),
                Some(h) => py_str(h),
            };
            let pair = format!("{key}:\"{}\"", f.placeholder);
            let found = raw.find(&pair)?;
            // The variable's own `$`, after the key, the colon and the quote.
            Some((start + found + key.len() + 2, f.placeholder.as_str()))
        })
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut out = String::new();
    let mut from = 0;
    for (pos, placeholder) in at {
        out.push_str(&shell_quote(&body[from..pos]));
        out.push_str(&format!("\"{placeholder}\""));
        from = pos + placeholder.len();
    }
    out.push_str(&shell_quote(&body[from..]));
    out
}

fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn python(ep: &HttpEndpoint, api: Api, body: &str, fills: &[Fill]) -> String {
    let mut args = vec![
        format!("    base_url={},", py_value(&ep.base_url)),
        format!("    api_key=os.environ[{}],", py_str(&ep.key_env)),
    ];
    if let Some(o) = &ep.organization {
        args.push(format!("    organization={},", py_value(o)));
    }
    if let Some(p) = &ep.project {
        args.push(format!("    project={},", py_value(p)));
    }
    let mut headers = entries(&ep.headers, py_value);
    if ep.auth == AuthStyle::ApiKey {
        headers.push(format!("\"api-key\": os.environ[{}]", py_str(&ep.key_env)));
    }
    if !headers.is_empty() {
        args.push(format!("    default_headers={{{}}},", headers.join(", ")));
    }
    if !ep.query.is_empty() {
        args.push(format!(
            "    default_query={{{}}},",
            entries(&ep.query, py_value).join(", ")
        ));
    }
    // JSON's true/false/null are read by json.loads, so the body is pasted as JSON.
    format!(
        "import json\nimport os\n\nfrom openai import OpenAI\n\nclient = OpenAI(\n{}\n)\nbody = json.loads(r\"\"\"\n{}\n\"\"\")\n{}{}print()\n",
        args.join("\n"),
        body.replace("\"\"\"", "\\\"\\\"\\\""),
        fill_lines(
            fills,
            "#",
            |tool, field, value| format!("body[\"tools\"][{tool}]{field} = {value}"),
            py_value
        ),
        match api {
            Api::Chat =>
                "stream = client.chat.completions.create(**body)\nfor chunk in stream:\n    if chunk.choices and chunk.choices[0].delta.content:\n        print(chunk.choices[0].delta.content, end=\"\", flush=True)\n",
            Api::Responses =>
                "stream = client.responses.create(**body)\nfor event in stream:\n    if event.type == \"response.output_text.delta\":\n        print(event.delta, end=\"\", flush=True)\n",
        }
    )
}

fn node(ep: &HttpEndpoint, api: Api, body: &str, fills: &[Fill]) -> String {
    let mut args = vec![
        format!("  baseURL: {},", js_value(&ep.base_url)),
        format!("  apiKey: process.env.{},", ep.key_env),
    ];
    if let Some(o) = &ep.organization {
        args.push(format!("  organization: {},", js_value(o)));
    }
    if let Some(p) = &ep.project {
        args.push(format!("  project: {},", js_value(p)));
    }
    let mut headers = entries(&ep.headers, js_value);
    if ep.auth == AuthStyle::ApiKey {
        headers.push(format!("\"api-key\": process.env.{}", ep.key_env));
    }
    if !headers.is_empty() {
        args.push(format!("  defaultHeaders: {{ {} }},", headers.join(", ")));
    }
    if !ep.query.is_empty() {
        args.push(format!(
            "  defaultQuery: {{ {} }},",
            entries(&ep.query, js_value).join(", ")
        ));
    }
    format!(
        "import OpenAI from \"openai\";\n\nconst client = new OpenAI({{\n{}\n}});\nconst body = {};\n{}{}process.stdout.write(\"\\n\");\n",
        args.join("\n"),
        own_proto_keys(body),
        fill_lines(
            fills,
            "//",
            |tool, field, value| format!("body[\"tools\"][{tool}]{field} = {value};"),
            js_value
        ),
        match api {
            Api::Chat =>
                "const stream = await client.chat.completions.create(body);\nfor await (const chunk of stream) {\n  process.stdout.write(chunk.choices[0]?.delta?.content ?? \"\");\n}\n",
            Api::Responses =>
                "const stream = await client.responses.create(body);\nfor await (const event of stream) {\n  if (event.type === \"response.output_text.delta\") process.stdout.write(event.delta);\n}\n",
        }
    )
}

fn rust(ep: &HttpEndpoint, api: Api, body: &str, fills: &[Fill]) -> String {
    // Enough #s that the body cannot close the raw string.
    let mut hashes = String::from("#");
    while body.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    let mut config = format!(
        "OpenAIConfig::new()\n        .with_api_base({})",
        rs_value(&ep.base_url)
    );
    match ep.auth {
        AuthStyle::Bearer => config.push_str(&format!(
            "\n        .with_api_key(std::env::var({})?)",
            py_str(&ep.key_env)
        )),
        // Left unset it is read from OPENAI_API_KEY (or OPENAI_ADMIN_KEY), and
        // async-openai sends it to this host whatever the header.
        AuthStyle::ApiKey => config.push_str("\n        .with_api_key(\"\")"),
    }
    if let Some(o) = &ep.organization {
        config.push_str(&format!("\n        .with_org_id({})", rs_value(o)));
    }
    if let Some(p) = &ep.project {
        config.push_str(&format!("\n        .with_project_id({})", rs_value(p)));
    }
    // Header names as `with_header` takes a literal one: lower case.
    for (k, v) in &ep.headers {
        config.push_str(&format!(
            "\n        .with_header({}, {})?",
            py_str(&k.to_ascii_lowercase()),
            rs_value(v)
        ));
    }
    if ep.auth == AuthStyle::ApiKey {
        config.push_str(&format!(
            "\n        .with_header(\"api-key\", std::env::var({})?)?",
            py_str(&ep.key_env)
        ));
    }
    let query = match ep.query.is_empty() {
        true => String::new(),
        false => format!(
            "    // OpenAIConfig sends no query parameters; this endpoint wants{}.\n",
            ep.query
                .iter()
                .map(|(k, v)| format!(" {}={}", py_str(k), py_str(v)))
                .collect::<String>()
        ),
    };
    let (use_type, request_type, read) = match api {
        Api::Chat => (
            "types::chat::CreateChatCompletionRequest",
            "CreateChatCompletionRequest",
            "    let mut stream = client.chat().create_stream(request).await?;\n    while let Some(chunk) = stream.next().await {\n        for choice in chunk?.choices {\n            if let Some(text) = choice.delta.content {\n                print!(\"{text}\");\n            }\n        }\n    }\n",
        ),
        Api::Responses => (
            "types::responses::{CreateResponse, ResponseStreamEvent}",
            "CreateResponse",
            "    let mut stream = client.responses().create_stream(request).await?;\n    while let Some(event) = stream.next().await {\n        if let ResponseStreamEvent::ResponseOutputTextDelta(d) = event? {\n            print!(\"{}\", d.delta);\n        }\n    }\n",
        ),
    };
    let json = format!("serde_json::from_str(r{hashes}\"\n{body}\n\"{hashes})?");
    let parse = match fills {
        [] => format!("    let request: {request_type} = {json};\n"),
        _ => format!(
            "    let mut body: serde_json::Value = {json};\n{}    let request: {request_type} = serde_json::from_value(body)?;\n",
            fill_lines(
                fills,
                "    //",
                |tool, field, value| format!(
                    "    body[\"tools\"][{tool}]{field} = {value}.into();"
                ),
                rs_value
            )
        ),
    };
    format!(
        "// Cargo.toml: async-openai = \"0.43\", tokio = {{ version = \"1\", features = [\"full\"] }},\n//             futures = \"0.3\", serde_json = \"1\"\nuse async_openai::{{Client, config::OpenAIConfig, {use_type}}};\nuse futures::StreamExt;\n\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    let config = {config};\n{query}    let client = Client::with_config(config);\n{parse}{read}    println!();\n    Ok(())\n}}\n"
    )
}
