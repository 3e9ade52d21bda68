//! Opt-in log to a file (`--log FILE` or `LLMDECK_LOG=FILE`): requests,
//! statuses, retries and stream endings, one line each. Secrets never reach
//! it: `Authorization` and `api-key` values are redacted, and every key the
//! program holds is scrubbed from every line.

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

/// Remembers a secret so that no log line can carry it.
pub fn register_secret(secret: &str) {
    if secret.len() >= 8
        && let Ok(mut s) = SECRETS.lock()
        && !s.iter().any(|x| x == secret)
    {
        s.push(secret.to_string());
    }
}

/// `line` with every known secret replaced.
pub fn scrub(line: &str) -> String {
    let mut out = line.to_string();
    if let Ok(secrets) = SECRETS.lock() {
        for s in secrets.iter() {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
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

/// Headers as `name: value` pairs, with credentials redacted.
pub fn headers<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .map(|(k, v)| {
            let secret = matches!(
                k.to_ascii_lowercase().as_str(),
                "authorization" | "api-key" | "x-api-key"
            );
            format!("{k}: {}", if secret { REDACTED } else { v })
        })
        .collect::<Vec<_>>()
        .join(", ")
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
        register_secret("sk-very-secret-123");
        assert_eq!(
            scrub("url?key=sk-very-secret-123&x=1"),
            "url?key=[redacted]&x=1"
        );
    }
}
