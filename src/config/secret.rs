//! An API key that cannot be printed, logged or serialized by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Trims the stray whitespace and newlines that `echo` and key files leave.
    pub fn new(raw: &str) -> Option<Self> {
        let key = raw.trim();
        if key.is_empty() {
            return None;
        }
        crate::log::register_secret(key);
        Some(Self(key.to_string()))
    }

    /// The key itself, for the one place that needs it: the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown: the first few characters and the length.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(3).collect();
        format!("{head}…({} chars)", self.0.chars().count())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Header and query parameter names whose values are not secrets: the
/// built-in ones below and those a profile lists in `public_headers` and
/// `public_query`. Every other value of a profile's `headers` and `query` is
/// a secret (a gateway's subscription key, an Azure Functions `code`): it is
/// scrubbed from every text and shown in view code as an environment variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Public {
    pub headers: Vec<String>,
    pub query: Vec<String>,
}

/// Identify a client, never a person: OpenRouter's attribution headers and the like.
pub const PUBLIC_HEADERS: &[&str] = &[
    "HTTP-Referer",
    "Referer",
    "X-Title",
    "User-Agent",
    "OpenAI-Beta",
];
/// Azure OpenAI's API version.
pub const PUBLIC_QUERY: &[&str] = &["api-version"];

impl Public {
    pub fn header(&self, name: &str) -> bool {
        listed(PUBLIC_HEADERS.iter().copied(), name)
            || listed(self.headers.iter().map(String::as_str), name)
    }

    pub fn query(&self, name: &str) -> bool {
        listed(PUBLIC_QUERY.iter().copied(), name)
            || listed(self.query.iter().map(String::as_str), name)
    }
}

fn listed<'a>(mut names: impl Iterator<Item = &'a str>, name: &str) -> bool {
    names.any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `name` can name an environment variable in every snippet's
/// language (a shell's rules, the strictest).
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A url's parts as the rules below read them (no more than they need).
struct Url<'a> {
    scheme: Option<&'a str>,
    userinfo: Option<&'a str>,
    host: &'a str,
    /// After the `/` that ends the host; `None` without one.
    path: Option<&'a str>,
    query: Option<&'a str>,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Self {
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, url),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, Some(path)),
            None => (rest, None),
        };
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((info, host)) => (Some(info), host),
            None => (None, authority),
        };
        Self {
            scheme,
            userinfo,
            host,
            path,
            query,
        }
    }

    /// The segments of its path that look like tokens (`looks_like_token`).
    fn path_tokens(&self) -> impl Iterator<Item = &'a str> {
        let path = self.path.unwrap_or_default();
        path.split('/').filter(|s| looks_like_token(s))
    }
}

/// Whether a url may carry a secret: in its query, as user:password@, or as
/// a segment of its path that looks like a token (`/mcp/sk-ak-3f9c…/sse`).
pub fn carries_token(url: &str) -> bool {
    let parts = Url::parse(url);
    url.contains('?') || parts.userinfo.is_some() || parts.path_tokens().next().is_some()
}

/// What of `url` the scrubber must know apart, as an error may print the url
/// another way (reqwest adds a `/` before a query, drops a `:443`): the
/// password of a user:password@ (and its user when that looks like a token:
/// `https://TOKEN@host`), the query values that are secrets (named like one,
/// or looking like one), the path's tokens, and the url itself when it
/// carries any.
pub fn url_secrets(url: &str) -> Vec<&str> {
    let parts = Url::parse(url);
    let userinfo = parts.userinfo.into_iter().flat_map(|info| {
        let (user, pw) = info.split_once(':').unwrap_or((info, ""));
        let user = (looks_like_token(user) || user.len() >= 20).then_some(user);
        [user, Some(pw).filter(|p| !p.is_empty())]
            .into_iter()
            .flatten()
    });
    let query = parts.query.unwrap_or_default().split('&');
    let values = query.filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (names_a_secret(name) || looks_like_token(value) || value.len() >= 20).then_some(value)
    });
    let whole = carries_token(url).then_some(url);
    userinfo
        .chain(values)
        .chain(parts.path_tokens())
        .chain(whole)
        .collect()
}

/// Whether a flag's, a variable's or a header's name (`--api-key`,
/// `GITHUB_TOKEN`, `X-Api-Key:`, `--passwd`, `--oauth2Bearer`) says its value
/// is a secret: one of its words is a secret's (key, token, secret, pass,
/// password, passwd, passphrase, pwd, auth, authorization, bearer, oauth,
/// oauth2, credential(s), cookie, pat; alone or ending a word: `APIKEY`,
/// `accessToken`), unless it turns something on or off (`--no-auth`,
/// `DISABLE_AUTH`, `--require-oauth`) or names where or what the secret is
/// rather than the secret (`--key-file`, `--token-path`, `--auth-type`,
/// `--secret-id`); `--tokenizer`, `--keyspace`, `AUTHOR` are no secrets.
pub fn names_a_secret(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "key",
        "keys",
        "token",
        "secret",
        "secrets",
        "pass",
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "pwd",
        "auth",
        "authorization",
        "bearer",
        "oauth",
        "oauth2",
        "credential",
        "credentials",
        "cookie",
        "pat",
    ];
    const ENDINGS: &[&str] = &["key", "token", "secret", "password", "passwd"];
    const SWITCHES: &[&str] = &[
        "no", "disable", "enable", "require", "skip", "use", "with", "without",
    ];
    const NOUNS: &[&str] = &[
        "file", "path", "dir", "type", "mode", "id", "name", "env", "var", "format", "url", "uri",
        "endpoint", "header", "length", "size", "count", "method", "scheme", "provider", "store",
    ];
    let name = name.trim_start_matches('-').trim_end_matches(':');
    // Words by separators and by case: `oauth2Bearer` is oauth2, bearer.
    let mut words: Vec<String> = Vec::new();
    for part in name.split(['-', '_', '.', ' ']).filter(|p| !p.is_empty()) {
        let mut word = String::new();
        let mut prev_lower = false;
        for c in part.chars() {
            if c.is_ascii_uppercase() && prev_lower {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c.to_ascii_lowercase());
        }
        words.push(word);
    }
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    if SWITCHES.contains(&first.as_str()) || NOUNS.contains(&last.as_str()) {
        return false;
    }
    words.iter().any(|w| {
        WORDS.contains(&w.as_str()) || ENDINGS.iter().any(|e| w.len() > e.len() && w.ends_with(e))
    })
}

/// A value of a secret's name that is plainly none: a yes or no (`true`,
/// `none`), a small number, a path or a script (`server.py`). The scrubber
/// would wreck every text holding it.
pub fn plainly_no_secret(value: &str) -> bool {
    const SWITCHES: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "none", "null", "enabled", "disabled",
    ];
    const SCRIPTS: &[&str] = &[
        ".py", ".js", ".mjs", ".cjs", ".ts", ".json", ".toml", ".yaml", ".yml", ".sh",
    ];
    let v = value.trim().to_ascii_lowercase();
    SWITCHES.contains(&v.as_str())
        || (v.len() < 8 && v.chars().all(|c| c.is_ascii_digit()))
        || ["/", "./", "../", "~/"].iter().any(|p| v.starts_with(p))
        || SCRIPTS.iter().any(|x| v.ends_with(x))
}

/// A word that looks like a key or token rather than a name, a version, a
/// host or a file: 16 characters or more of a token's alphabet (`%` of a
/// url's encoding too) where letters and digits alternate, twice within a
/// run of 8 or more (`3f9cA81kd02LmQ`, a uuid's `550e8400`) or, with a dot
/// in it (a file, a host, a JWT), four times in all (not `ubuntu2204-runner`,
/// `postgres16.corp.example`, `sales2024q3.sqlite`, `mcp-server-time==2025.1.14`).
pub fn looks_like_token(s: &str) -> bool {
    let turns = |run: &str| {
        let kinds: Vec<bool> = run.chars().map(|c| c.is_ascii_digit()).collect();
        kinds.windows(2).filter(|w| w[0] != w[1]).count()
    };
    let runs = || s.split(|c: char| !c.is_ascii_alphanumeric());
    s.len() >= 16
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~+=%".contains(c))
        && match s.contains('.') {
            false => runs().any(|run| run.len() >= 8 && turns(run) >= 2),
            true => runs().map(turns).sum::<usize>() >= 4,
        }
}

/// `url` as the screen may show it: its scheme, host and path, a token of
/// the path, a user:password@ and the query each replaced by `…`.
pub fn shown_url(url: &str) -> String {
    let parts = Url::parse(url);
    let scheme = parts.scheme.map(|s| format!("{s}://")).unwrap_or_default();
    let user = if parts.userinfo.is_some() { "…@" } else { "" };
    let path = parts.path.map(|path| {
        let segments: Vec<&str> = path
            .split('/')
            .map(|s| if looks_like_token(s) { "…" } else { s })
            .collect();
        format!("/{}", segments.join("/"))
    });
    let query = if parts.query.is_some() { "?…" } else { "" };
    format!(
        "{scheme}{user}{}{}{query}",
        parts.host,
        path.unwrap_or_default()
    )
}

/// The variable a value of view code's stands for: `$OPENAI_...` or
/// `$LLMDECK_...` (a literal value that merely starts with `$` stays literal).
pub fn variable(s: &str) -> Option<&str> {
    let var = s.strip_prefix('$')?;
    let ours = var.starts_with("OPENAI_") || var.starts_with("LLMDECK_");
    let name = var
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    (ours && name).then_some(var)
}

/// Whether `s` holds text a snippet would take for one of its variables.
pub fn names_a_variable(s: &str) -> bool {
    variable_parts(s).iter().any(|&(_, var)| var)
}

/// `s` cut into its literal pieces and its `$OPENAI_...`/`$LLMDECK_...`
/// variables (`true`), in order.
pub fn variable_parts(s: &str) -> Vec<(&str, bool)> {
    let mut parts = Vec::new();
    let mut literal = 0;
    let mut at = 0;
    while let Some(found) = s[at..].find('$') {
        let start = at + found;
        let name_len = s[start + 1..]
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(s.len() - start - 1);
        let end = start + 1 + name_len;
        if variable(&s[start..end]).is_some() {
            parts.push((&s[literal..start], false));
            parts.push((&s[start..end], true));
            literal = end;
        }
        at = end.max(start + 1);
    }
    parts.push((&s[literal..], false));
    parts.retain(|(part, _)| !part.is_empty());
    parts
}

/// The environment variable view code reads a secret header or query value
/// from: `LLMDECK_HEADER_OCP_APIM_SUBSCRIPTION_KEY`, `LLMDECK_QUERY_CODE`.
pub fn env_var(kind: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_uppercase(),
            false => '_',
        })
        .collect();
    format!("LLMDECK_{}_{name}", kind.to_ascii_uppercase())
}

/// The environment variable view code reads a remote MCP server's `what`
/// from, as a snippet names it: `$LLMDECK_MCP_DOCS_URL`,
/// `$LLMDECK_MCP_DOCS_HEADER_AUTHORIZATION`.
pub fn mcp_var(server: &str, what: &str) -> String {
    format!("${}", env_var("mcp", &format!("{server}_{what}")))
}
