//! `[mcp.NAME]` in config.toml: a local server started as a child process
//! (`command`, `args`, `env`) or a remote one over streamable HTTP (`url`,
//! `headers`), which llmdeck reaches itself or, with `hosted = true`, OpenAI
//! reaches for the model (a Responses API `mcp` tool).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::secret::{
    looks_like_token, mcp_var, names_a_secret, plainly_no_secret, shown_url, url_secrets,
};

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
            .filter(|(k, v)| names_a_secret(k) && !plainly_no_secret(v))
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

    /// Each argument as the panel shows it, with the secrets in it, each
    /// shown as `…`: the value of a flag named like a secret (`--api-key
    /// VALUE`), of a setting named like one (`--token=VALUE`, `-e
    /// API_KEY=VALUE`, `--env=DB_PASSWORD=VALUE`, `User Id=sa;Password=VALUE`),
    /// of a header named like one (`Authorization: Bearer VALUE`, also with
    /// no space), a url's (`url_secrets`), and a word that looks like a token.
    /// A value that is plainly no secret (`true`, `4096`, a path) is neither.
    fn args_shown(&self) -> Vec<(String, Vec<&str>)> {
        let flag = |a: &str| a.starts_with('-') && !a.contains('=') && names_a_secret(a);
        let before = std::iter::once(None).chain(self.args.iter().map(|a| Some(a.as_str())));
        before
            .zip(&self.args)
            .map(|(before, arg)| {
                let arg = arg.as_str();
                if before.is_some_and(flag) && !arg.starts_with('-') {
                    return match plainly_no_secret(arg) {
                        true => (arg.to_string(), Vec::new()),
                        false => ("…".to_string(), vec![arg]),
                    };
                }
                if arg.contains("://") && !arg.contains(char::is_whitespace) {
                    return (shown_url(arg), url_secrets(arg));
                }
                if let Some(shown) = header_secret(arg).or_else(|| settings_secrets(arg)) {
                    return shown;
                }
                let (mut shown, mut secrets) = (Vec::new(), Vec::new());
                for word in arg.split(' ') {
                    if looks_like_token(word) {
                        secrets.push(word);
                    }
                    shown.push(if looks_like_token(word) { "…" } else { word });
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

/// An argument that is a header (`Name: value`, or `Name:value`) named like
/// a secret, or `Authorization`, `Cookie`: shown with its value as `…` (after
/// its scheme: `Bearer …`).
fn header_secret(arg: &str) -> Option<(String, Vec<&str>)> {
    let (name, value) = arg.split_once(':')?;
    let header = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let secret = ["authorization", "proxy-authorization", "cookie"]
        .contains(&name.to_ascii_lowercase().as_str())
        || names_a_secret(name);
    if !header(name) || !secret {
        return None;
    }
    let value = value.trim();
    let scheme_word =
        |w: &str| ["bearer", "basic", "token"].contains(&w.to_ascii_lowercase().as_str());
    if value.is_empty() || scheme_word(value) {
        return None;
    }
    let (scheme, token) = match value.split_once(char::is_whitespace) {
        Some((scheme, token)) if scheme_word(scheme) => (format!("{scheme} "), token.trim()),
        _ => (String::new(), value),
    };
    Some((format!("{name}: {scheme}…"), vec![token]))
}

/// An argument of settings (`NAME=VALUE`, several joined by `;`, `&` or `,`,
/// a flag's `--env=NAME=VALUE`) where a name says its value is a secret: each
/// such value shown as `…`. `None` when no setting is a secret.
fn settings_secrets(arg: &str) -> Option<(String, Vec<&str>)> {
    if !arg.contains('=') {
        return None;
    }
    let mut secrets = Vec::new();
    let mut shown = String::new();
    let mut rest = arg;
    while !rest.is_empty() {
        let end = rest.find([';', '&', ',']).map_or(rest.len(), |i| i + 1);
        let (pair, tail) = rest.split_at(end);
        let (body, sep) = match pair.strip_suffix([';', '&', ',']) {
            Some(body) => (body, &pair[body.len()..]),
            None => (pair, ""),
        };
        // `--env=NAME=VALUE`: the setting is the one inside the flag's value.
        let mut name_end = body.find('=');
        while let Some(at) = name_end {
            let name = body[..at].rsplit('=').next().unwrap_or_default();
            let value = &body[at + 1..];
            if names_a_secret(name.trim()) && !plainly_no_secret(value) && !value.is_empty() {
                shown.push_str(&body[..=at]);
                shown.push('…');
                secrets.push(value);
                break;
            }
            name_end = body[at + 1..].find('=').map(|i| at + 1 + i);
        }
        if name_end.is_none() {
            shown.push_str(body);
        }
        shown.push_str(sep);
        rest = tail;
    }
    (!secrets.is_empty()).then_some((shown, secrets))
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
        // Names a substring rule missed, settings inside settings, headers
        // written without a space.
        let more = McpConfig {
            command: Some("server".into()),
            args: [
                "--passwd",
                "hunter2x",
                "--oauth2Bearer",
                "a8Kd0qLz",
                "--env=DB_PASSWORD=correct-horse-battery",
                "Authorization:Bearer tok3n-abcdef12",
                "Server=db;User Id=sa;Password=Sup3rS3cret!;",
            ]
            .map(String::from)
            .to_vec(),
            env: BTreeMap::from([("DB_PASSWD".into(), "pw-0f3k2m9q".into())]),
            ..Default::default()
        };
        assert_eq!(
            more.how(),
            "server --passwd … --oauth2Bearer … --env=DB_PASSWORD=… Authorization: Bearer … \
             Server=db;User Id=sa;Password=…;"
        );
        more.register_secrets();
        for secret in [
            "hunter2x",
            "a8Kd0qLz",
            "correct-horse-battery",
            "tok3n-abcdef12",
            "Sup3rS3cret!",
            "pw-0f3k2m9q",
        ] {
            assert_eq!(
                crate::log::scrub(&format!("({secret})")),
                "([redacted])",
                "{secret}"
            );
        }
        // A token as a url's user, where an error prints the url another way.
        let user = McpConfig {
            url: Some("https://u7Hq2Zp9Lw3Xv8Rt1@mcp.example.com?x=1".into()),
            ..Default::default()
        };
        user.register_secrets();
        let said = crate::log::scrub("at https://u7Hq2Zp9Lw3Xv8Rt1@mcp.example.com/?x=1");
        assert!(!said.contains("u7Hq2Zp9Lw3Xv8Rt1"), "{said}");
        // Words, switches, numbers, scripts, hosts, files and paths are no
        // secrets: shown, and not scrubbed from what anything says.
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
                "--require-oauth=true",
                "--auth",
                "false",
                "--oauth",
                "server.py",
                "--max-tokens",
                "4096",
                "--key-file",
                "keys.pem",
                "--system-prompt",
                "Answer in basic English: the token budget",
            ]
            .map(String::from)
            .to_vec(),
            env: BTreeMap::from([
                ("TOKENIZERS_PARALLELISM".into(), "false".into()),
                ("AUTHOR".into(), "Alice".into()),
                ("DISABLE_AUTH".into(), "enabled".into()),
            ]),
            ..Default::default()
        };
        words.register_secrets();
        assert_eq!(words.how(), format!("server {}", words.args.join(" ")));
        let text = "cl100k_base analytics2024 /home/alice/projects/site postgres16.corp.example \
                    sales2024q3.sqlite ubuntu2204-runner-01 true false server.py 4096 keys.pem \
                    English budget Alice enabled";
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
