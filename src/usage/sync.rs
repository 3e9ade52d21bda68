//! `usage sync`: pull the organization's completions usage (by model and
//! project) and costs (by project and line item) and store them.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::Ledger;
use super::org;
use crate::config::Secret;
use crate::provider::org::OrgClient;

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
