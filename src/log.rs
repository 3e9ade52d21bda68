//! Opt-in log to a file (`--log FILE` or `LLMDECK_LOG=FILE`): requests,
//! statuses, retries and stream endings, one line each. Secrets never reach
//! it: header and query values are redacted but for the public ones, and
//! every secret the program holds is scrubbed from every line.
//!
//! The scrubber here is the one every face uses: what the servers send, what
//! is stored and what is shown passes [`scrub`].

use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static FILE: OnceLock<Mutex<std::fs::File>> = OnceLock::new();
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

const REDACTED: &str = "[redacted]";

/// Starts logging to `path` (appending). Called once, at start-up.
pub fn init(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::config::files::create_private_dir(dir)?;
    }
    let file = crate::config::files::open_private_append(path)?;
    let _ = FILE.set(Mutex::new(file));
    Ok(())
}

pub fn enabled() -> bool {
    FILE.get().is_some()
}

/// Secrets shorter than this cannot be told apart from ordinary words and
/// numbers ("1", "eu", "dev"): scrubbing them would wreck every text.
pub const SHORTEST_SECRET: usize = 4;
/// From this length a secret is scrubbed wherever it occurs; shorter ones
/// only where they stand alone, as a whole token.
const ANYWHERE: usize = 8;

/// Remembers a secret so that no text can carry it. `false` when it is too
/// short to be scrubbed (the caller warns).
pub fn register_secret(secret: &str) -> bool {
    let n = secret.chars().count();
    if n < SHORTEST_SECRET {
        return n == 0;
    }
    if let Ok(mut s) = SECRETS.lock()
        && !s.iter().any(|x| x == secret)
    {
        s.push(secret.to_string());
        // As it appears inside a JSON string, too (a `"` or `\` escaped).
        let quoted = serde_json::to_string(secret).unwrap_or_default();
        if let Some(inner) = quoted.get(1..quoted.len() - 1)
            && inner != secret
        {
            s.push(inner.to_string());
        }
    }
    true
}

/// `text` with every known secret replaced by `[redacted]`: a secret of 8
/// characters or more wherever it occurs, a shorter one where it is a whole
/// token (no letter or digit on either side), so that `code=pw42&` loses its
/// value but "pw42x" in prose is left alone.
pub fn scrub(text: &str) -> String {
    scrub_owned(text.to_string())
}

/// `scrub` of a string already owned, returned as it is when it holds no
/// secret: a stream's every delta passes here, and is copied only to redact.
pub fn scrub_owned(mut out: String) -> String {
    if let Ok(secrets) = SECRETS.lock() {
        for s in secrets.iter() {
            if !out.contains(s.as_str()) {
                continue;
            }
            out = match s.chars().count() >= ANYWHERE {
                true => out.replace(s.as_str(), REDACTED),
                false => replace_tokens(&out, s),
            };
        }
    }
    out
}

fn replace_tokens(text: &str, secret: &str) -> String {
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(secret) {
        let end = at + secret.len();
        if at < last || alnum(text[..at].chars().next_back()) || alnum(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Writes one line: UTC time, what happened, the details.
pub fn line(what: &str, detail: &str) {
    let Some(file) = FILE.get() else { return };
    let text = scrub(&format!(
        "{} {what} {detail}\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    ));
    if let Ok(mut f) = file.lock() {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Headers as `name: value` pairs, every value redacted but those of the
/// built-in public headers and the organization and project: a header value
/// too short for [`scrub`] stays out of the log too.
pub fn headers<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let public = crate::config::secret::Public {
        headers: [
            "openai-organization",
            "openai-project",
            "content-type",
            "accept",
        ]
        .map(String::from)
        .to_vec(),
        query: Vec::new(),
    };
    pairs
        .map(|(k, v)| format!("{k}: {}", if public.header(k) { v } else { REDACTED }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A URL with the values of its query parameters redacted, but `api-version`'s.
pub fn url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let public = crate::config::secret::Public::default();
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if !public.query(k) => format!("{k}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_known_secrets_are_redacted() {
        let h = headers(
            [
                ("Authorization", "Bearer sk-abc"),
                ("api-key", "k"),
                ("x-title", "t"),
            ]
            .into_iter(),
        );
        assert_eq!(
            h,
            "Authorization: [redacted], api-key: [redacted], x-title: t"
        );
        let h = headers([("X-Pin", "42"), ("OpenAI-Project", "proj_1")].into_iter());
        assert_eq!(h, "X-Pin: [redacted], OpenAI-Project: proj_1");
        assert_eq!(
            url("http://h/v1/chat?api-version=1&code=ab"),
            "http://h/v1/chat?api-version=1&code=[redacted]"
        );
        register_secret("sk-very-secret-123");
        assert_eq!(
            scrub("url?key=sk-very-secret-123&x=1"),
            "url?key=[redacted]&x=1"
        );
    }

    #[test]
    fn short_secrets_are_scrubbed_as_whole_tokens() {
        assert!(register_secret("pw42"));
        assert!(!register_secret("abc"), "too short: the caller warns");
        assert_eq!(
            scrub("?code=pw42&x=pw42x, said \"pw42\"; pw42"),
            "?code=[redacted]&x=pw42x, said \"[redacted]\"; [redacted]"
        );
        assert_eq!(scrub("abc stays"), "abc stays");
        register_secret("q\"uote-secret");
        assert_eq!(scrub(r#"{"m":"q\"uote-secret"}"#), r#"{"m":"[redacted]"}"#);
    }
}
