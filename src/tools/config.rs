//! `[mcp.NAME]` in config.toml: a local server started as a child process
//! (`command`, `args`, `env`) or a remote one over streamable HTTP (`url`,
//! `headers`), which llmdeck reaches itself or, with `hosted = true`, OpenAI
//! reaches for the model (a Responses API `mcp` tool).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::secret::{looks_like_token, mcp_var, names_a_secret, shown_url, url_secrets};

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

    /// Registers the header values, the values of env variables named like
    /// secrets (a server's token), the secrets of its arguments and of its
    /// url, with the scrubber, so that no error, stderr tail, log or export
    /// can show one.
    pub fn register_secrets(&self) {
        let env = self
            .env
            .iter()
            .filter(|(k, _)| secret_name(k))
            .map(|(_, v)| v.as_str());
        let url = self.url.as_deref().map(url_secrets).unwrap_or_default();
        let args = self
            .args_shown()
            .into_iter()
            .flat_map(|(_, secrets)| secrets);
        for value in self
            .headers
            .values()
            .map(String::as_str)
            .chain(env)
            .chain(args)
            .chain(url)
        {
            crate::log::register_secret(value);
        }
    }

    /// Each argument as the panel shows it, with the secrets in it: the value
    /// of a flag or setting named like one (`--api-key VALUE`,
    /// `--token=VALUE`, `API_KEY=VALUE`), a url's (`url_secrets`), a word
    /// after `Bearer` or a header named like one (`--header "X-Api-Key: …"`),
    /// and a word that looks like a token. Each is shown as `…`.
    fn args_shown(&self) -> Vec<(String, Vec<&str>)> {
        let flag = |a: &str| a.starts_with('-') && !a.contains('=') && names_a_secret(a);
        let before = std::iter::once(None).chain(self.args.iter().map(|a| Some(a.as_str())));
        before
            .zip(&self.args)
            .map(|(before, arg)| {
                let arg = arg.as_str();
                if before.is_some_and(flag) && !arg.starts_with('-') {
                    return ("…".to_string(), vec![arg]);
                }
                if arg.contains("://") && !arg.contains(char::is_whitespace) {
                    return (shown_url(arg), url_secrets(arg));
                }
                if let Some((name, value)) = arg.split_once('=')
                    && !name.contains(char::is_whitespace)
                    && names_a_secret(name)
                {
                    return (format!("{name}=…"), vec![value]);
                }
                let mut secrets = Vec::new();
                let mut shown = Vec::new();
                let mut prev: Option<&str> = None;
                // `Authorization: Bearer TOKEN`: the scheme is a word, not a secret.
                let scheme = |w: &str| {
                    ["bearer", "basic", "token"].contains(&w.to_ascii_lowercase().as_str())
                };
                for word in arg.split(' ') {
                    let after = prev.is_some_and(|p| {
                        scheme(p)
                            || p.eq_ignore_ascii_case("authorization:")
                            || (p.ends_with(':') && names_a_secret(p))
                    });
                    if !scheme(word) && (after || looks_like_token(word)) {
                        secrets.push(word);
                        shown.push("…");
                    } else {
                        shown.push(word);
                    }
                    prev = Some(word).filter(|w| !w.is_empty());
                }
                (shown.join(" "), secrets)
            })
            .collect()
    }

    /// How the tools panel shows the server: its command line or url with
    /// every secret in them replaced by `…`.
    pub fn how(&self) -> String {
        match (&self.command, &self.url) {
            (Some(cmd), _) => std::iter::once(cmd.to_string())
                .chain(self.args_shown().into_iter().map(|(shown, _)| shown))
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
    /// server is shown and scrubbed from what it says; names, hosts, files
    /// and versions are shown and scrub nothing (a word scrubbed would be
    /// `[redacted]` in every answer).
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
                "-e",
                "API_KEY=horsebatterystaple",
                "--header",
                "Authorization: Bearer gho_16C7e42F292c6912E7710c838347Ae178B4a",
                "mcp-remote",
                "https://mcp.example.com/sse?token=Zq81mL0xPw4Rt7Yv",
                "https://mcp.example.net/m/sk%2Dak3f9cA81kd02LmQ/sse",
            ]
            .map(String::from)
            .to_vec(),
            ..Default::default()
        };
        assert_eq!(
            local.how(),
            "npx -y @modelcontextprotocol/server-github --auth-mode none --api-key … \
             --password=… mcp-server-time==2025.1.14 -e API_KEY=… --header Authorization: Bearer … \
             mcp-remote https://mcp.example.com/sse?… https://mcp.example.net/m/…/sse"
        );
        local.register_secrets();
        let said = crate::log::scrub(
            "none of ghp_8s7d6f5g4h3j2k1l0 or correct-horse-battery-staple; mcp-server-time",
        );
        assert_eq!(said, "none of [redacted] or [redacted]; mcp-server-time");
        // Each secret on its own, also where an error prints the url another way.
        for secret in [
            "horsebatterystaple",
            "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "Zq81mL0xPw4Rt7Yv",
            "sk%2Dak3f9cA81kd02LmQ",
        ] {
            let said = crate::log::scrub(&format!(
                "at https://mcp.example.com/?token={secret} and {secret}"
            ));
            assert!(!said.contains(secret), "{said}");
        }
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
        // Words, hosts, files and paths are no secrets.
        let words = McpConfig {
            command: Some("server".into()),
            args: [
                "--tokenizer",
                "cl100k_base",
                "--keyspace",
                "analytics2024",
                "--no-auth",
                "/home/alice/projects/site",
                "postgres16.corp.example",
                "sales2024q3.sqlite",
                "ubuntu2204-runner-01",
            ]
            .map(String::from)
            .to_vec(),
            ..Default::default()
        };
        words.register_secrets();
        assert_eq!(words.how(), format!("server {}", words.args.join(" ")));
        let text = "cl100k_base analytics2024 /home/alice/projects/site postgres16.corp.example sales2024q3.sqlite ubuntu2204-runner-01";
        assert_eq!(crate::log::scrub(text), text);
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
