//! Team spend on a shared PostgreSQL: every local ledger row also reaches the
//! team database through an outbox in the local ledger (the source of truth),
//! pushed in batches with retries; aggregates are read back for the team view.
//! Nothing here runs unless config.toml has a `[team]` section.

pub mod push;
pub mod query;
pub mod schema;
mod tls;

use serde::Deserialize;

use crate::config::Secret;

/// `[team]` in config.toml. The URL itself lives in an environment variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSettings {
    /// The variable holding `postgres://member:password@host/db?sslmode=require`.
    pub database_url_env: String,
    /// Who this machine's rows belong to: the member's database role.
    pub member: String,
    /// The team's budgets, for the status bar.
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

/// A team database to talk to: the parsed URL (its password registered as a
/// secret, so it is scrubbed from every message) and the member name.
#[derive(Clone)]
pub struct Team {
    pub settings: TeamSettings,
    config: tokio_postgres::Config,
    /// `sslmode=verify-full` / `verify-ca`: check the server's certificate.
    verify: bool,
    /// Where it is, for messages: host and database, never the password.
    pub shown: String,
    _password: Option<Secret>,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Team({}, member {})", self.shown, self.settings.member)
    }
}

impl Team {
    /// The team database the settings name, reading the URL from the environment.
    pub fn from_settings(
        settings: &TeamSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let var = &settings.database_url_env;
        let url = env(var)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("team: environment variable {var} is not set"))?;
        Self::from_url(settings, url.trim())
    }

    pub fn from_url(settings: &TeamSettings, url: &str) -> Result<Self, String> {
        // tokio-postgres knows disable/prefer/require; verify-* are require plus a check.
        let verify = url.contains("sslmode=verify-full") || url.contains("sslmode=verify-ca");
        let url = url
            .replace("sslmode=verify-full", "sslmode=require")
            .replace("sslmode=verify-ca", "sslmode=require");
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            format!(
                "team: the URL in {} is not a PostgreSQL URL: {e}",
                settings.database_url_env
            )
        })?;
        let password = config
            .get_password()
            .and_then(|p| Secret::new(&String::from_utf8_lossy(p)));
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config.get_dbname().unwrap_or("postgres").to_string();
        if settings.member.trim().is_empty() {
            return Err("team: `member` is empty in [team]".into());
        }
        Ok(Self {
            settings: settings.clone(),
            config,
            verify,
            shown: format!("{host}:{port}/{db}"),
            _password: password,
        })
    }

    /// A connection, its driver spawned on the current runtime. Every failure
    /// is one line that names the server, never the password.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, String> {
        let mut config = self.config.clone();
        config.connect_timeout(std::time::Duration::from_secs(5));
        let wrap =
            |e: tokio_postgres::Error| format!("team database {}: {}", self.shown, describe(&e));
        let client = if self.config.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
            let (client, conn) = config.connect(tokio_postgres::NoTls).await.map_err(wrap)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            client
        } else {
            let tls = tls::connector(self.verify);
            let (client, conn) = config.connect(tls).await.map_err(wrap)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            client
        };
        Ok(client)
    }
}

/// The error and its causes, with the server's own message when it sent one.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    use std::error::Error;
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    crate::log::scrub(&msg)
}
