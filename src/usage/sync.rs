//! `usage sync`: pull the organization's completions usage (by model and
//! project) and costs (by project and line item) and store them.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::Ledger;
use super::org;
use crate::config::profile::OPENAI_BASE_URL;
use crate::config::{Endpoint, Profile, Secret, Settings};
use crate::provider::org::OrgClient;

/// Where the organization admin key may go for `profile`: the `admin_base_url`
/// it names (https, or http to this machine only), else api.openai.com when
/// the profile is OpenAI's own. A profile that talks to any other server gets
/// a message: its gateway must not receive the key by default.
pub fn admin_base_url(settings: &Settings, profile: &Profile) -> Result<String, String> {
    let named = settings
        .profiles
        .get(&profile.name)
        .and_then(|p| p.admin_base_url.as_deref());
    if let Some(url) = named {
        check_admin_url(url).map_err(|why| format!("profile {:?}: {why}", profile.name))?;
        return Ok(url.trim_end_matches('/').to_string());
    }
    match &profile.endpoint {
        Endpoint::Http(h) if h.base_url != OPENAI_BASE_URL => Err(format!(
            "the organization admin key goes only to api.openai.com, and profile {:?} talks to \
             {}: to sync OpenAI's figures, set admin_base_url = \"{OPENAI_BASE_URL}\" in the \
             profile (or the admin endpoint you trust)",
            profile.name,
            h.host()
        )),
        _ => Ok(OPENAI_BASE_URL.to_string()),
    }
}

/// https anywhere; plain http only to this machine (a local mock or tunnel).
fn check_admin_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("admin_base_url {url:?} is not a URL: {e}"))?;
    let origin = parsed.origin().ascii_serialization();
    let host = parsed.host_str().unwrap_or("").trim_matches(['[', ']']);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "admin_base_url {origin} is plain http: the admin key goes over https \
             (http only to 127.0.0.1, ::1 or localhost)"
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Synced {
    pub usage_rows: usize,
    pub cost_rows: usize,
    pub cost_micros: i64,
}

pub async fn sync(
    base_url: &str,
    admin_key: Secret,
    ledger: &Path,
    since: DateTime<Utc>,
) -> Result<Synced, String> {
    let client = OrgClient::new(base_url, admin_key).map_err(|e| e.to_string())?;
    let start = since.timestamp();
    let usage = client
        .buckets(
            "/organization/usage/completions",
            start,
            &["model", "project_id"],
        )
        .await
        .map_err(|e| format!("usage API: {e}"))?;
    let costs = client
        .buckets("/organization/costs", start, &["project_id", "line_item"])
        .await
        .map_err(|e| format!("costs API: {e}"))?;
    let usage = org::parse_usage(&usage);
    let costs = org::parse_costs(&costs);
    let mut ledger = Ledger::open(ledger).map_err(|e| e.to_string())?;
    org::store(&mut ledger, &usage, &costs).map_err(|e| e.to_string())?;
    Ok(Synced {
        usage_rows: usage.len(),
        cost_rows: costs.len(),
        cost_micros: costs.iter().map(|c| c.amount_micros).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::check_admin_url;

    #[test]
    fn the_admin_key_goes_over_https_or_to_this_machine() {
        for ok in [
            "https://api.openai.com/v1",
            "https://admin.example.com/v1",
            "http://127.0.0.1:8080/v1",
            "http://[::1]:8080/v1",
            "http://localhost/v1",
        ] {
            assert_eq!(check_admin_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://api.openai.com/v1",
            "http://127.0.0.1.evil.example/v1",
            "http://10.0.0.1/v1",
            "ftp://127.0.0.1/v1",
            "api.openai.com/v1",
        ] {
            assert!(check_admin_url(bad).is_err(), "{bad}");
        }
    }
}
