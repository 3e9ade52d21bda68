//! MCP servers through the official SDK (`rmcp`): each starts on first use,
//! lists its tools and runs calls within its time limits. A server that
//! exits, hangs or speaks malformed JSON-RPC gives an error result (with the
//! tail of what it wrote to stderr) and is started afresh on its next use.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use serde_json::Value;

use super::config::McpConfig;

/// One tool a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    pub server: String,
    /// Its name on the server.
    pub name: String,
    pub description: String,
    /// JSON Schema of its arguments.
    pub schema: Value,
}

/// What one call gave: the text sent back to the model, and its images.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub text: String,
    /// Image blocks of the result, as attachments (checked as files the
    /// user attaches are: a known image type, within the API's size limit).
    pub images: Vec<crate::chat::attachment::Attachment>,
    /// The server flagged the result as an error, or the call failed.
    pub is_error: bool,
    pub duration: Duration,
}

/// How much of a server's stderr is kept for its failure messages.
const STDERR_TAIL: usize = 2048;

struct Live {
    service: RunningService<RoleClient, ()>,
    tools: Vec<McpTool>,
}

pub struct Server {
    pub name: String,
    config: McpConfig,
    live: tokio::sync::Mutex<Option<Arc<Live>>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub fn new(name: &str, config: McpConfig) -> Self {
        config.register_secrets();
        Self {
            name: name.to_string(),
            config,
            live: Default::default(),
            stderr: Default::default(),
        }
    }

    /// The server's tools, starting it if it is not running.
    pub async fn tools(&self) -> Result<Vec<McpTool>, String> {
        Ok(self.live().await?.tools.clone())
    }

    async fn live(&self) -> Result<Arc<Live>, String> {
        let mut slot = self.live.lock().await;
        if let Some(live) = slot.as_ref() {
            return Ok(live.clone());
        }
        self.config.check(&self.name)?;
        let limit = self.config.start_timeout();
        let live = match tokio::time::timeout(limit, self.start()).await {
            Ok(Ok(live)) => Arc::new(live),
            Ok(Err(e)) => return Err(self.failed(&format!("cannot start: {e}"))),
            Err(_) => {
                return Err(self.failed(&format!("did not start within {} s", limit.as_secs())));
            }
        };
        *slot = Some(live.clone());
        Ok(live)
    }

    async fn start(&self) -> Result<Live, String> {
        let service = match (&self.config.command, &self.config.url) {
            (Some(command), None) => {
                let program = find_program(command)?;
                let mut cmd = tokio::process::Command::new(program);
                // The server gets the environment its config names, nothing of ours.
                cmd.args(&self.config.args)
                    .env_clear()
                    .envs(&self.config.env)
                    .kill_on_drop(true);
                let (transport, stderr) = rmcp::transport::TokioChildProcess::builder(cmd)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("{command}: {e}"))?;
                let tail = stderr.map(|s| tokio::spawn(keep_tail(s, self.stderr.clone())));
                match ().serve(transport).await {
                    Ok(service) => service,
                    Err(e) => {
                        // A server that fails to start says why on stderr as it
                        // ends: read that (briefly) before saying it failed.
                        if let Some(tail) = tail {
                            let _ = tokio::time::timeout(Duration::from_millis(500), tail).await;
                        }
                        return Err(e.to_string());
                    }
                }
            }
            (None, Some(url)) => {
                use rmcp::transport::StreamableHttpClientTransport;
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                let mut headers = std::collections::HashMap::new();
                for (k, v) in &self.config.headers {
                    let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                        .map_err(|_| format!("header {k:?} is not a valid header name"))?;
                    let value = reqwest::header::HeaderValue::from_str(v)
                        .map_err(|_| format!("the value of header {k:?} is not valid"))?;
                    headers.insert(name, value);
                }
                let _ = rustls::crypto::ring::default_provider().install_default();
                // No redirects: the headers (secrets) go to the url configured, nowhere else.
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("llmdeck/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| e.to_string())?;
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(headers);
                let transport = StreamableHttpClientTransport::with_client(client, config);
                ().serve(transport).await.map_err(|e| e.to_string())?
            }
            _ => return Err("give command or url".into()),
        };
        let listed = service.list_all_tools().await.map_err(|e| e.to_string())?;
        let tools = listed
            .into_iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .map(|t| McpTool {
                server: self.name.clone(),
                name: str_of(&t, "name"),
                description: str_of(&t, "description"),
                schema: t
                    .get("inputSchema")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({"type": "object"})),
            })
            .collect();
        Ok(Live { service, tools })
    }

    /// Runs one tool; every failure is an error result the conversation goes on with.
    pub async fn call(&self, tool: &str, arguments: &str) -> CallOutcome {
        let started = Instant::now();
        let result = self.try_call(tool, arguments).await;
        let (text, images, is_error) = match result {
            Ok(Rendered { text, images }) => {
                let is_error = text.1;
                (text.0, images, is_error)
            }
            Err(e) => (format!("error: {e}"), Vec::new(), true),
        };
        CallOutcome {
            text: crate::log::scrub(&text),
            images,
            is_error,
            duration: started.elapsed(),
        }
    }

    async fn try_call(&self, tool: &str, arguments: &str) -> Result<Rendered, String> {
        let args = match arguments.trim() {
            "" => serde_json::Map::new(),
            text => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                _ => return Err(format!("the arguments of {tool} are not a JSON object")),
            },
        };
        let live = self.live().await?;
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
        let limit = self.config.call_timeout();
        match tokio::time::timeout(limit, live.service.call_tool(params)).await {
            Ok(Ok(result)) => {
                let v = serde_json::to_value(&result).unwrap_or(Value::Null);
                let is_error = v.get("isError").and_then(Value::as_bool).unwrap_or(false);
                let (text, images) = render_with_images(&v, tool);
                Ok(Rendered {
                    text: (text, is_error),
                    images,
                })
            }
            Ok(Err(e)) => {
                self.forget().await;
                let why = match e {
                    rmcp::ServiceError::TransportClosed => {
                        "the server exited or closed its output".to_string()
                    }
                    other => other.to_string(),
                };
                Err(self.failed(&format!("{tool} failed: {why}")))
            }
            Err(_) => {
                self.forget().await;
                Err(self.failed(&format!(
                    "{tool} did not answer within {} s (the server was stopped)",
                    limit.as_secs()
                )))
            }
        }
    }

    /// Stops the server (a call stopped by the user may have left it busy or
    /// hung): the next use starts it afresh.
    pub async fn stop(&self) {
        self.forget().await
    }

    /// Stops the server (if running): the next use starts it afresh.
    async fn forget(&self) {
        if let Some(live) = self.live.lock().await.take() {
            live.service.cancellation_token().cancel();
        }
    }

    /// A failure message naming the server, with the tail of its stderr (scrubbed).
    fn failed(&self, what: &str) -> String {
        // rmcp names its transport's Rust type in some errors: noise to a user.
        let what = regex::Regex::new(r" ?\[rmcp::[^\]]*\]")
            .map(|re| re.replace_all(what, "").into_owned())
            .unwrap_or_else(|_| what.to_string());
        let tail = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        let tail = tail.trim();
        let msg = match tail.is_empty() {
            true => format!("MCP server {}: {what}", self.name),
            false => format!("MCP server {}: {what}; its stderr ends: {tail}", self.name),
        };
        crate::log::scrub(&msg)
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A call's result: (text, is_error) and its images.
struct Rendered {
    text: (String, bool),
    images: Vec<crate::chat::attachment::Attachment>,
}

/// A tool result as text and images: each `image` block (base64 and its
/// mimeType) becomes an attachment named after the tool (`TOOL-1.png`),
/// named in the text by a line in its place; an image that is not a known
/// type, is over the API's limit, or would take the result past what one
/// request may carry is left out, and the line says why.
pub fn render_with_images(
    result: &Value,
    tool: &str,
) -> (String, Vec<crate::chat::attachment::Attachment>) {
    use crate::chat::attachment::{Attachment, check_total};
    use base64::Engine;
    let mut images: Vec<Attachment> = Vec::new();
    let text = render_blocks(result, &mut |block| {
        let mime = str_of(block, "mimeType");
        let ext = mime
            .rsplit('/')
            .next()
            .unwrap_or("img")
            .replace("jpeg", "jpg");
        let ext: String = ext
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let name = format!("{}-{}.{ext}", plain(tool), images.len() + 1);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(str_of(block, "data").trim())
            .map_err(|e| format!("cannot attach {name}: not base64 ({e})"))
            .and_then(|bytes| Attachment::from_bytes(&name, &bytes));
        match decoded {
            Ok(image) => {
                images.push(image);
                match check_total(&images) {
                    Ok(()) => format!("[image {name}: attached]"),
                    Err(e) => {
                        images.pop();
                        format!("[image {name} left out: {e}]")
                    }
                }
            }
            Err(e) => format!("[image left out: {e}]"),
        }
    });
    (text, images)
}

/// A tool's name as part of a file name.
fn plain(tool: &str) -> String {
    let name: String = tool
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                true => c,
                false => '_',
            },
        )
        .take(48)
        .collect();
    if name.is_empty() {
        "image".into()
    } else {
        name
    }
}

/// A tool result as text for the model: text blocks as they are, structured
/// content pretty-printed when there is no text, other blocks named.
pub fn render(result: &Value) -> String {
    render_blocks(result, &mut |block| {
        let mime = str_of(block, "mimeType");
        let bytes = str_of(block, "data").len() * 3 / 4;
        format!("[image {mime}, {bytes} bytes]")
    })
}

/// `render`, with each image block's line given by `image`.
fn render_blocks(result: &Value, image: &mut dyn FnMut(&Value) -> String) -> String {
    let mut parts = Vec::new();
    for block in result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "text" => parts.push(str_of(block, "text")),
            "resource" => {
                let r = block.get("resource").cloned().unwrap_or(Value::Null);
                match r.get("text").and_then(Value::as_str) {
                    Some(t) => parts.push(t.to_string()),
                    None => parts.push(format!("[resource {}]", str_of(&r, "uri"))),
                }
            }
            "resource_link" => parts.push(format!("[resource {}]", str_of(block, "uri"))),
            "image" => parts.push(image(block)),
            other => {
                let mime = str_of(block, "mimeType");
                let bytes = str_of(block, "data").len() * 3 / 4;
                parts.push(format!("[{other} {mime}, {bytes} bytes]"));
            }
        }
    }
    if parts.is_empty()
        && let Some(s) = result.get("structuredContent")
    {
        return serde_json::to_string_pretty(s).unwrap_or_default();
    }
    parts.join("\n")
}

/// Keeps the last `STDERR_TAIL` bytes the server writes to stderr.
async fn keep_tail(stderr: tokio::process::ChildStderr, into: Arc<Mutex<String>>) {
    use tokio::io::AsyncReadExt;
    let mut stderr = stderr;
    let mut buf = [0u8; 1024];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if let Ok(mut s) = into.lock() {
            s.push_str(&String::from_utf8_lossy(&buf[..n]));
            if s.len() > STDERR_TAIL {
                let mut cut = s.len() - STDERR_TAIL;
                while !s.is_char_boundary(cut) {
                    cut += 1;
                }
                s.drain(..cut);
            }
        }
    }
}

/// The configured command as a path: llmdeck's own PATH finds it (the
/// server's environment may have none).
fn find_program(command: &str) -> Result<std::path::PathBuf, String> {
    if command.contains('/') {
        return Ok(command.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{command}: not found on PATH"))
}

/// Every configured server, by name; none runs until first used.
#[derive(Default)]
pub struct Servers {
    servers: BTreeMap<String, Arc<Server>>,
}

impl Servers {
    pub fn new(configs: &BTreeMap<String, McpConfig>) -> Self {
        let servers = configs
            .iter()
            .map(|(name, c)| (name.clone(), Arc::new(Server::new(name, c.clone()))))
            .collect();
        Self { servers }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Server>> {
        self.servers.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.servers.keys()
    }
}
