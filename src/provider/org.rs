//! The organization's Usage and Costs API (admin key). Queries are built by
//! hand: arrays go as `group_by[]=...` pairs, which async-openai's query
//! serializer cannot encode; pages are followed until `has_more` is false.

use std::time::Duration;

use serde::Deserialize;

use super::event::ProviderError;
use super::limits;
use crate::config::Secret;

#[derive(Debug, Deserialize)]
struct Page {
    data: Vec<serde_json::Value>,
    #[serde(default)]
    has_more: bool,
    next_page: Option<String>,
}

pub struct OrgClient {
    client: reqwest::Client,
    base_url: String,
    admin_key: Secret,
}

/// A runaway server (a `next_page` that never ends) must not loop forever.
const MAX_PAGES: usize = 1000;

/// Per request, body included.
const TIMEOUT: Duration = Duration::from_secs(60);

impl OrgClient {
    pub fn new(base_url: &str, admin_key: Secret) -> Result<Self, ProviderError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(TIMEOUT)
            .redirect(super::http::same_origin_redirects())
            .build()
            .map_err(|e| ProviderError::Other(format!("cannot start the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            admin_key,
        })
    }

    /// Every bucket of `path` from `start_time` (unix seconds), following pages.
    pub async fn buckets(
        &self,
        path: &str,
        start_time: i64,
        group_by: &[&str],
    ) -> Result<Vec<serde_json::Value>, ProviderError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        let mut read = 0;
        for _ in 0..MAX_PAGES {
            let mut query: Vec<(&str, String)> = vec![
                ("start_time", start_time.to_string()),
                ("bucket_width", "1d".into()),
                ("limit", "31".into()),
            ];
            for g in group_by {
                query.push(("group_by[]", g.to_string()));
            }
            if let Some(p) = &page {
                query.push(("page", p.clone()));
            }
            let url = format!("{}{path}?{}", self.base_url, encode(&query));
            crate::log::line("request", &format!("GET {url} [authorization: [redacted]]"));
            let resp = self
                .client
                .get(&url)
                .bearer_auth(self.admin_key.expose())
                .send()
                .await
                .map_err(|e| ProviderError::Connect(super::http::describe(&e)))?;
            let what = format!("a page of {path}");
            let body = limits::body_of(resp, limits::MAX_ORG_PAGE_BYTES, TIMEOUT, &what).await?;
            read += body.len();
            if read > limits::MAX_ORG_TOTAL_BYTES {
                return Err(limits::too_large(path, limits::MAX_ORG_TOTAL_BYTES));
            }
            let p: Page = serde_json::from_slice(&body)
                .map_err(|e| ProviderError::Malformed(format!("{path}: {e}")))?;
            out.extend(p.data);
            match (p.has_more, p.next_page) {
                (true, Some(next)) => page = Some(next),
                _ => return Ok(out),
            }
        }
        Err(ProviderError::Other(format!(
            "{path}: more than {MAX_PAGES} pages"
        )))
    }
}

fn encode(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (and keeps `[]` in keys readable).
fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'[' | b']' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
