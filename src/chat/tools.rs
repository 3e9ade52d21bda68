//! Function tools: definitions in OpenAI's function format (from the console or
//! `tools/*.json`), the calls a model makes, and which tool the model may choose.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::{self, Verdict};

/// One function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// JSON Schema of the arguments.
    #[serde(default = "empty_object")]
    pub parameters: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Results saved with the tool, offered when the model calls it (an llmdeck extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canned_results: Vec<String>,
    /// The MCP server that runs it (an llmdeck extension): offered only while
    /// that server is on for the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

fn empty_object() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

/// A call the model made: arguments arrive as a JSON text, piece by piece.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// A remote MCP server's tool that OpenAI asks approval to run (a
    /// Responses `mcp_approval_request`): the server's label. `id` is then the
    /// approval request's; once approved OpenAI runs the call itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

impl ToolCall {
    /// Arguments checked against the tool's parameters; `None` when the tool is unknown.
    pub fn check(&self, tools: &[ToolDef]) -> Option<Verdict> {
        let tool = tools.iter().find(|t| t.name == self.name)?;
        Some(schema::check(&tool.parameters, &self.arguments))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    Required,
    /// This function and no other.
    Function(String),
}

impl ToolChoice {
    /// `auto`, `none`, `required`, or a function's name.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "auto" | "" => Self::Auto,
            "none" => Self::None,
            "required" => Self::Required,
            name => Self::Function(name.to_string()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::Auto => "auto",
            Self::None => "none",
            Self::Required => "required",
            Self::Function(name) => name,
        }
    }

    /// The next choice in the panel's cycle: auto, required, none, then each function.
    pub fn next(&self, tools: &[ToolDef]) -> Self {
        let mut all = vec![Self::Auto, Self::Required, Self::None];
        all.extend(tools.iter().map(|t| Self::Function(t.name.clone())));
        let at = all.iter().position(|c| c == self).unwrap_or(0);
        all[(at + 1) % all.len()].clone()
    }
}

/// Reads tool definitions from a JSON text: one tool or an array, each in the
/// Chat Completions shape (`{"type":"function","function":{...}}`), the
/// Responses shape (`{"type":"function","name":...}`) or bare (`{"name":...}`).
pub fn parse(text: &str) -> Result<Vec<ToolDef>, String> {
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("line {}: {e}", e.line()))?;
    let items = match value {
        Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| one(item).map_err(|e| format!("tool {}: {e}", i + 1)))
        .collect()
}

fn one(mut item: Value) -> Result<ToolDef, String> {
    let canned = item.get("canned_results").cloned();
    if let Some(kind) = item.get("type").and_then(Value::as_str)
        && kind != "function"
    {
        return Err(format!("type {kind:?} is not a function tool"));
    }
    if let Some(inner) = item.get_mut("function").map(Value::take) {
        item = inner;
    }
    if let (Some(obj), Some(c)) = (item.as_object_mut(), canned) {
        obj.insert("canned_results".into(), c);
    }
    if let Some(obj) = item.as_object_mut() {
        obj.remove("type");
    }
    let tool: ToolDef = serde_json::from_value(item).map_err(|e| e.to_string())?;
    if !crate::config::files::is_plain_name(&tool.name) {
        return Err(format!(
            "name {:?} must be letters, digits, _ or - (as the API requires)",
            tool.name
        ));
    }
    if let Verdict::BadSchema(e) = schema::check_value(&tool.parameters, &Value::Null) {
        return Err(format!(
            "{}: parameters are not a valid JSON Schema: {e}",
            tool.name
        ));
    }
    Ok(tool)
}

/// A tool as saved to `tools/NAME.json`: OpenAI's Chat Completions function format.
pub fn to_file(tool: &ToolDef) -> String {
    let mut function = serde_json::json!({
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
    });
    if let Some(strict) = tool.strict {
        function["strict"] = Value::Bool(strict);
    }
    let mut v = serde_json::json!({"type": "function", "function": function});
    if !tool.canned_results.is_empty() {
        v["canned_results"] = serde_json::json!(tool.canned_results);
    }
    serde_json::to_string_pretty(&v).expect("tools serialize") + "\n"
}

/// The template a new tool starts from in the editor.
pub fn template(name: &str) -> ToolDef {
    ToolDef {
        name: name.to_string(),
        description: "Describe what the function does and when to call it.".into(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": {"query": {"type": "string", "description": "What to look up"}},
            "required": ["query"],
            "additionalProperties": false
        }),
        strict: None,
        canned_results: vec![r#"{"result": "..."}"#.into()],
        server: None,
    }
}

/// Every tool in `dir/*.json`, sorted by name, with one message per file that
/// does not parse (the file is left as it is).
pub fn load_dir(dir: &Path) -> (Vec<ToolDef>, Vec<String>) {
    let mut tools = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (tools, problems);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| parse(&t))
        {
            Ok(found) => tools.extend(found),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools.dedup_by(|a, b| a.name == b.name);
    (tools, problems)
}

/// A tool the Responses API runs on OpenAI's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostedTool {
    WebSearch,
    /// Searches these vector stores.
    FileSearch {
        vector_store_ids: Vec<String>,
    },
    CodeInterpreter,
    /// A remote MCP server OpenAI connects to: `[mcp.NAME]` with `url` and
    /// `hosted = true`. Only the name is kept with the conversation; its url
    /// and headers (secrets) join the request as it is sent (`RemoteMcp`).
    Mcp {
        server: String,
    },
}

/// Where a remote MCP server is, for the request that names it: read from
/// the config as the request is sent, never kept with the conversation.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RemoteMcp {
    pub url: String,
    /// Sent to OpenAI for the server; the values are secrets.
    pub headers: std::collections::BTreeMap<String, String>,
    /// The tools OpenAI may call (`None`: all the server lists).
    pub allowed_tools: Option<Vec<String>>,
}

/// Header values are secrets: Debug shows their names only.
impl std::fmt::Debug for RemoteMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteMcp")
            .field("url", &"…")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("allowed_tools", &self.allowed_tools)
            .finish()
    }
}

impl HostedTool {
    /// `web_search`, `file_search:VS_ID[,VS_ID…]` or `code_interpreter`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (name, ids) = s.split_once(':').unwrap_or((s, ""));
        let ids: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(String::from)
            .collect();
        match (name.trim(), ids.is_empty()) {
            ("web_search", true) => Ok(Self::WebSearch),
            ("code_interpreter", true) => Ok(Self::CodeInterpreter),
            ("file_search", false) => Ok(Self::FileSearch {
                vector_store_ids: ids,
            }),
            ("file_search", true) => {
                Err("file_search needs its vector stores: file_search:VS_ID[,VS_ID…]".into())
            }
            ("mcp", _) => Err(
                "a remote MCP server OpenAI connects to is [mcp.NAME] with url and hosted = true in config.toml, then --mcp NAME"
                    .into(),
            ),
            _ => Err(format!(
                "{s:?}: expected web_search, file_search:VS_ID[,…] or code_interpreter"
            )),
        }
    }
}

/// One call of a hosted tool, as the response reported it: what the tool card
/// shows (server text, untrusted: shown inert).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedCall {
    pub id: String,
    /// web_search, file_search or code_interpreter.
    pub tool: String,
    pub status: String,
    /// The searches' queries, or the code run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// Sources found (URLs or file names), and what the code printed or made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
    /// A remote MCP call (`mcp`) or a server that could not list its tools
    /// (`mcp_list_tools`): the server's label.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server: String,
    /// The remote tool called, with its arguments (JSON text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arguments: String,
    /// What the remote tool gave back, or why it failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// The approval request the call answers, if it was asked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub approval_request_id: String,
}

impl HostedCall {
    /// Reads a `web_search_call`, `file_search_call`, `code_interpreter_call`
    /// or `mcp_call` output item (or an `mcp_list_tools` that failed); `None`
    /// for any other item.
    pub fn from_item(item: &Value) -> Option<Self> {
        let s = |v: &Value| v.as_str().map(String::from);
        if item["type"] == "mcp_call" || item["type"] == "mcp_list_tools" {
            return remote_item(item);
        }
        let list = |v: &Value, key: &str| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| s(&x[key]))
                .collect()
        };
        let tool = item["type"].as_str()?.strip_suffix("_call")?.to_string();
        let mut call = Self {
            id: s(&item["id"]).unwrap_or_default(),
            status: s(&item["status"]).unwrap_or_default(),
            ..Default::default()
        };
        match tool.as_str() {
            "web_search" => {
                let action = &item["action"];
                call.queries.extend(s(&action["query"]));
                call.queries.extend(
                    action["queries"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(s),
                );
                call.results = list(&action["sources"], "url");
                call.results.extend(s(&action["url"]));
            }
            "file_search" => {
                call.queries = item["queries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(s)
                    .collect();
                call.results = list(&item["results"], "filename");
            }
            "code_interpreter" => {
                call.code = s(&item["code"]).unwrap_or_default();
                for out in item["outputs"].as_array().into_iter().flatten() {
                    call.results
                        .extend(s(&out["logs"]).or_else(|| s(&out["url"])));
                }
            }
            _ => return None,
        }
        call.tool = tool;
        Some(call)
    }

    /// Every string scrubbed of known secrets.
    pub fn scrubbed(self) -> Self {
        let scrub = crate::log::scrub;
        let all = |v: Vec<String>| v.iter().map(|x| scrub(x)).collect();
        Self {
            id: scrub(&self.id),
            tool: scrub(&self.tool),
            status: scrub(&self.status),
            queries: all(self.queries),
            code: scrub(&self.code),
            results: all(self.results),
            server: scrub(&self.server),
            name: scrub(&self.name),
            arguments: scrub(&self.arguments),
            output: scrub(&self.output),
            error: scrub(&self.error),
            approval_request_id: scrub(&self.approval_request_id),
        }
    }

    /// A remote MCP server's call (or its failure to list its tools).
    pub fn is_remote(&self) -> bool {
        self.tool == "mcp" || self.tool == "mcp_list_tools"
    }
}

/// The text of a remote MCP call's error, whichever of the spec's shapes
/// (`MCPToolCallError`: protocol, execution or HTTP error) or a plain string.
fn remote_error(e: &Value) -> String {
    match e {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        e => match (e["message"].as_str(), &e["content"]) {
            (Some(m), _) => match e["code"].as_i64() {
                Some(code) => format!("{m} ({code})"),
                None => m.to_string(),
            },
            (None, Value::Null) => e.to_string(),
            (None, Value::String(c)) => c.clone(),
            (None, content) => content.to_string(),
        },
    }
}

/// An `mcp_call` item, or an `mcp_list_tools` item that failed (one that
/// listed its tools is no card: `None`).
fn remote_item(item: &Value) -> Option<HostedCall> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let error = remote_error(&item["error"]);
    let tool = item["type"].as_str()?;
    if tool == "mcp_list_tools" && error.is_empty() {
        return None;
    }
    let status = match (item["status"].as_str(), error.is_empty()) {
        (Some(st), _) => st.to_string(),
        (None, true) => "completed".into(),
        (None, false) => "failed".into(),
    };
    Some(HostedCall {
        id: s(&item["id"]),
        tool: tool.strip_suffix("_call").unwrap_or(tool).to_string(),
        status,
        server: s(&item["server_label"]),
        name: s(&item["name"]),
        arguments: s(&item["arguments"]),
        output: s(&item["output"]),
        error,
        approval_request_id: s(&item["approval_request_id"]),
        ..Default::default()
    })
}
