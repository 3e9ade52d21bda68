//! `[mcp.NAME]` in config.toml: a local server started as a child process
//! (`command`, `args`, `env`) or a remote one over streamable HTTP (`url`,
//! `headers`), which llmdeck reaches itself or, with `hosted = true`, OpenAI
//! reaches for the model (a Responses API `mcp` tool).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::secret::{carries_token, mcp_var};

#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// The program to run (found on llmdeck's PATH); talks JSON-RPC on stdio.
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// The server's whole environment: nothing of llmdeck's own is passed on
    /// (name PATH here if the server needs one).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A streamable HTTP server instead of a command.
    pub url: Option<String>,
    /// Sent with every request to `url`; the values are secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How long the server may take to start and list its tools (default 30 s).
    pub start_secs: Option<u64>,
    /// How long one tool call may take (default 60 s).
    pub call_secs: Option<u64>,
    /// A remote server OpenAI connects to (Responses API), not llmdeck: its
    /// url must be reachable from OpenAI; its calls are approved as local ones.
    #[serde(default)]
    pub hosted: bool,
    /// With `hosted`: the tools OpenAI may call (default: all the server lists).
    pub allowed_tools: Option<Vec<String>>,
}

/// Header and env values may be secrets: Debug shows their names only.
impl std::fmt::Debug for McpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpConfig")
            .field("command", &self.command)
            .field("args", &self.args.len())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("url", &self.url.as_ref().map(|_| "…"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("hosted", &self.hosted)
            .finish()
    }
}

impl McpConfig {
    pub fn start_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.start_secs.unwrap_or(30).max(1))
    }

    pub fn call_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.call_secs.unwrap_or(60).max(1))
    }

    /// Checks that exactly one way to reach the server is given.
    pub fn check(&self, name: &str) -> Result<(), String> {
        match (&self.command, &self.url) {
            (Some(_), Some(_)) => Err(format!(
                "[mcp.{name}]: give either command (a local server) or url (a remote one), not both"
            )),
            (None, None) => Err(format!(
                "[mcp.{name}]: give command (a local server) or url (a remote one)"
            )),
            (None, Some(_)) if !self.args.is_empty() || !self.env.is_empty() => Err(format!(
                "[mcp.{name}]: args and env are for a command, not a url"
            )),
            (Some(_), None) if !self.headers.is_empty() => Err(format!(
                "[mcp.{name}]: headers are for a url, not a command"
            )),
            (Some(_), None) if self.hosted => Err(format!(
                "[mcp.{name}]: hosted = true is for a url OpenAI connects to, not a command"
            )),
            (None, Some(_)) if self.allowed_tools.is_some() && !self.hosted => Err(format!(
                "[mcp.{name}]: allowed_tools is for a hosted server (hosted = true)"
            )),
            _ => Ok(()),
        }
    }

    /// The server as a request names it for OpenAI (`hosted = true` with a
    /// url), its header values registered as secrets; `None` otherwise.
    pub fn remote(&self) -> Option<crate::chat::tools::RemoteMcp> {
        let remote = self.hosted_remote()?;
        self.register_secrets();
        Some(remote)
    }

    fn hosted_remote(&self) -> Option<crate::chat::tools::RemoteMcp> {
        let url = self
            .url
            .as_ref()
            .filter(|_| self.hosted && self.command.is_none())?;
        Some(crate::chat::tools::RemoteMcp {
            url: url.clone(),
            headers: self.headers.clone(),
            allowed_tools: self.allowed_tools.clone(),
        })
    }

    /// Registers the header values, and the values of env variables named like
    /// secrets (a server's token), with the scrubber, so that no error, stderr
    /// tail, log or export can show one.
    pub fn register_secrets(&self) {
        let secret_name = |name: &str| {
            let name = name.to_ascii_uppercase();
            [
                "KEY",
                "TOKEN",
                "SECRET",
                "PASSWORD",
                "PASS",
                "AUTH",
                "CREDENTIAL",
            ]
            .iter()
            .any(|w| name.contains(w))
        };
        let env = self
            .env
            .iter()
            .filter(|(k, _)| secret_name(k))
            .map(|(_, v)| v);
        for value in self.headers.values().chain(env) {
            crate::log::register_secret(value);
        }
        if let Some(url) = self.url.as_deref().filter(|u| carries_token(u)) {
            crate::log::register_secret(url);
        }
    }

    /// The server `name` as view code writes it (`hosted = true` with a url):
    /// its url and each header's value replaced by the environment variable
    /// the code reads it from (a url may carry a token where no rule can tell,
    /// in its path). No secret is in it.
    pub fn shown(&self, name: &str) -> Option<crate::chat::tools::RemoteMcp> {
        let mut shown = self.hosted_remote()?;
        shown.url = mcp_var(name, "url");
        for (header, value) in shown.headers.iter_mut() {
            *value = mcp_var(name, &format!("header_{header}"));
        }
        Some(shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A remote server's url may carry its token: an error that echoes the
    /// url must not show it (it showed it before the url was registered).
    #[test]
    fn a_url_with_a_token_is_a_secret_and_a_plain_one_is_not() {
        let with_token = McpConfig {
            url: Some("https://mcp.example.org/mcp?token=tok-4fd21e9a77".into()),
            ..Default::default()
        };
        with_token.register_secrets();
        let shown =
            crate::log::scrub("cannot reach https://mcp.example.org/mcp?token=tok-4fd21e9a77");
        assert!(!shown.contains("tok-4fd21e9a77"), "{shown}");
        let with_user = McpConfig {
            url: Some("https://bot:pw-83jd92kq@mcp.example.net/mcp".into()),
            ..Default::default()
        };
        with_user.register_secrets();
        assert!(
            !crate::log::scrub("at https://bot:pw-83jd92kq@mcp.example.net/mcp")
                .contains("pw-83jd92kq")
        );
        let plain = McpConfig {
            url: Some("https://docs.example.com/mcp".into()),
            ..Default::default()
        };
        plain.register_secrets();
        assert!(crate::log::scrub("https://docs.example.com/mcp").contains("docs.example.com"));
    }
}
