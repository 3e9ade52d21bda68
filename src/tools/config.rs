//! `[mcp.NAME]` in config.toml: a local server started as a child process
//! (`command`, `args`, `env`) or a remote one over streamable HTTP (`url`,
//! `headers`), which llmdeck reaches itself or, with `hosted = true`, OpenAI
//! reaches for the model (a Responses API `mcp` tool).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::secret::{carries_token, looks_like_token, mcp_var, path_tokens, shown_url};

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

    /// Registers the header values, the values of env variables and flags
    /// named like secrets (a server's token), the arguments and url path
    /// segments that look like one, and a url that may carry one, with the
    /// scrubber, so that no error, stderr tail, log or export can show one.
    pub fn register_secrets(&self) {
        let env = self
            .env
            .iter()
            .filter(|(k, _)| secret_name(k))
            .map(|(_, v)| v.as_str());
        let url_tokens = self.url.as_deref().map(path_tokens).unwrap_or_default();
        for value in self
            .headers
            .values()
            .map(String::as_str)
            .chain(env)
            .chain(self.secret_args())
            .chain(url_tokens)
        {
            crate::log::register_secret(value);
        }
        if let Some(url) = self.url.as_deref().filter(|u| carries_token(u)) {
            crate::log::register_secret(url);
        }
    }

    /// Each argument with the part of it that is a secret (its end): the
    /// value of a flag named like one (`--api-key VALUE`, `--token=VALUE`),
    /// or the whole of one that looks like a token.
    fn args_and_secrets(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        let flag = |a: &str| a.starts_with('-') && !a.contains('=') && secret_name(a);
        let before = std::iter::once(None).chain(self.args.iter().map(|a| Some(a.as_str())));
        before.zip(&self.args).map(move |(before, arg)| {
            let secret = match arg.split_once('=') {
                Some((name, value)) if flag(name) => Some(value),
                _ if before.is_some_and(flag) || looks_like_token(arg) => Some(arg.as_str()),
                _ => None,
            };
            (arg.as_str(), secret)
        })
    }

    /// The secrets of the arguments the scrubber can take: a flag value that
    /// is a word (`--auth-mode none`) is hidden on screen but would wreck
    /// every text holding the word; one of 8 characters or more that mixes
    /// letters and digits, or of 20 or more, is taken.
    fn secret_args(&self) -> impl Iterator<Item = &str> {
        let key_like = |s: &str| {
            let n = s.chars().count();
            let mixed =
                s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(|c| c.is_alphabetic());
            n >= 20 || (n >= 8 && mixed)
        };
        self.args_and_secrets()
            .filter_map(|(_, secret)| secret)
            .filter(move |s| key_like(s))
    }

    /// How the tools panel shows the server: its command line or url with
    /// every secret in them replaced by `…`.
    pub fn how(&self) -> String {
        match (&self.command, &self.url) {
            (Some(cmd), _) => std::iter::once(cmd.to_string())
                .chain(self.args_and_secrets().map(|(arg, secret)| match secret {
                    Some(s) => format!("{}…", &arg[..arg.len() - s.len()]),
                    None => arg.to_string(),
                }))
                .collect::<Vec<_>>()
                .join(" "),
            (None, Some(url)) => shown_url(url),
            (None, None) => String::new(),
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

/// Whether a name (an env variable's, a flag's) says its value is a secret.
fn secret_name(name: &str) -> bool {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token in a url's path or in a command's arguments is hidden where the
    /// server is shown and scrubbed from what it says; names and short flag
    /// values are shown and scrub nothing.
    #[test]
    fn tokens_in_a_path_or_an_argument_are_hidden_and_scrubbed() {
        let remote = McpConfig {
            url: Some("https://mcp.example.org/mcp/sk-ak-3f9cA81kd02LmQ/sse?x=1".into()),
            ..Default::default()
        };
        assert_eq!(remote.how(), "https://mcp.example.org/mcp/…/sse?…");
        remote.register_secrets();
        let said = crate::log::scrub("404 at /mcp/sk-ak-3f9cA81kd02LmQ/sse");
        assert!(!said.contains("3f9cA81kd02LmQ"), "{said}");
        let local = McpConfig {
            command: Some("npx".into()),
            args: [
                "-y",
                "@modelcontextprotocol/server-github",
                "--auth-mode",
                "none",
                "--api-key",
                "ghp_8s7d6f5g4h3j2k1l0",
                "--password=correct-horse-battery-staple",
                "mcp-server-time==2025.1.14",
            ]
            .map(String::from)
            .to_vec(),
            ..Default::default()
        };
        assert_eq!(
            local.how(),
            "npx -y @modelcontextprotocol/server-github --auth-mode … --api-key … --password=… mcp-server-time==2025.1.14"
        );
        local.register_secrets();
        let said = crate::log::scrub(
            "none of ghp_8s7d6f5g4h3j2k1l0 or correct-horse-battery-staple; mcp-server-time",
        );
        assert_eq!(said, "none of [redacted] or [redacted]; mcp-server-time");
        let short_key = McpConfig {
            command: Some("server".into()),
            args: ["--api-key", "k3y-93kf"].map(String::from).to_vec(),
            ..Default::default()
        };
        short_key.register_secrets();
        assert_eq!(crate::log::scrub("key k3y-93kf"), "key [redacted]");
        let plain = McpConfig {
            url: Some("https://user:pw@docs.example.com/v1/mcp".into()),
            ..Default::default()
        };
        assert_eq!(plain.how(), "https://…@docs.example.com/v1/mcp");
    }

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
