//! The tools of the servers enabled for a conversation, under the function
//! names the model sees: a tool's own name when that is a valid, unique
//! function name, else `SERVER__TOOL` made valid.

use std::sync::Arc;

use super::mcp::{McpTool, Server, Servers};
use crate::chat::tools::ToolDef;

#[derive(Default)]
pub struct Toolbox {
    /// (function name, server, the tool).
    entries: Vec<(String, Arc<Server>, McpTool)>,
}

impl Toolbox {
    /// Starts each named server (first use) and gathers its tools.
    pub async fn load(servers: &Servers, names: &[String]) -> Result<Self, String> {
        let mut me = Self::default();
        for name in names {
            let server = servers.get(name).ok_or_else(|| {
                let known: Vec<&String> = servers.names().collect();
                match known.is_empty() {
                    true => format!("no MCP server {name:?}: add [mcp.{name}] to config.toml"),
                    false => format!(
                        "no MCP server {name:?} in config.toml (configured: {})",
                        known
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            })?;
            for tool in server.tools().await? {
                me.add(server.clone(), tool);
            }
        }
        Ok(me)
    }

    /// Adds a tool of a started server (under the name the model will see).
    pub fn add(&mut self, server: Arc<Server>, tool: McpTool) {
        let taken = |n: &str| self.entries.iter().any(|(f, _, _)| f == n);
        let name = if crate::config::files::is_plain_name(&tool.name)
            && tool.name.len() <= 64
            && !taken(&tool.name)
        {
            tool.name.clone()
        } else {
            let plain: String = format!("{}__{}", server.name, tool.name)
                .chars()
                .map(
                    |c| match c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        true => c,
                        false => '_',
                    },
                )
                .take(64)
                .collect();
            if taken(&plain) {
                return; // two tools that read the same once made valid: the first wins
            }
            plain
        };
        self.entries.push((name, server, tool));
    }

    /// The server and the tool's own name behind a function name.
    pub fn find(&self, function: &str) -> Option<(Arc<Server>, String)> {
        self.entries
            .iter()
            .find(|(f, _, _)| f == function)
            .map(|(_, s, t)| (s.clone(), t.name.clone()))
    }

    /// Each function name with the server behind it.
    pub fn functions(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(f, s, _)| (f.clone(), s.name.clone()))
            .collect()
    }

    /// The tools as functions for the request.
    pub fn defs(&self) -> Vec<ToolDef> {
        self.entries
            .iter()
            .map(|(name, _, t)| ToolDef {
                name: name.clone(),
                description: t.description.clone(),
                parameters: t.schema.clone(),
                strict: None,
                canned_results: Vec::new(),
                server: Some(t.server.clone()),
            })
            .collect()
    }
}
