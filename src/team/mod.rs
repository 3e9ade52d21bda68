//! Team spend on a shared PostgreSQL: every local ledger row also reaches the
//! team database through an outbox in the local ledger (the source of truth),
//! pushed in batches with retries; aggregates are read back for the team view.
//! Nothing here runs unless config.toml has a `[team]` section.

pub mod push;
pub mod query;
pub mod schema;
mod tls;
mod url;

use serde::Deserialize;

use crate::config::Secret;

/// `[team]` in config.toml. The URL itself lives in an environment variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSettings {
    /// The variable holding `postgres://member:password@host/db` (verified TLS unless
    /// its `sslmode` says otherwise).
    pub database_url_env: String,
    /// Who this machine's rows belong to: the member's database role.
    pub member: String,
    /// The team's budgets, for the status bar.
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

/// How the connection to the team database is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TLS, the certificate checked (against `sslrootcert` or the system's roots)
    /// and its name: the default, and `sslmode=verify-full` / `verify-ca`.
    Verified,
    /// `sslmode=require`: encrypted, but whoever is in the middle may answer.
    Unverified,
    /// `sslmode=disable`: the password and the rows travel in clear.
    Plain,
    /// A Unix socket with no `sslmode`: no network, so no TLS (as libpq).
    Local,
}

impl Transport {
    /// What the status bar says when the server is not verified.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            Self::Unverified => Some("unverified TLS"),
            Self::Plain => Some("unverified: no TLS"),
            Self::Verified | Self::Local => None,
        }
    }

    /// What `llmdeck team status` says.
    pub fn described(self) -> &'static str {
        match self {
            Self::Verified => "verified TLS",
            Self::Unverified => "unverified TLS (sslmode=require: any certificate is accepted)",
            Self::Plain => "unverified: no TLS (sslmode=disable: the password travels in clear)",
            Self::Local => "local socket",
        }
    }
}

/// A team database to talk to: the parsed URL (its password registered as a
/// secret, so it is scrubbed from every message) and the member name.
#[derive(Clone)]
pub struct Team {
    pub settings: TeamSettings,
    config: tokio_postgres::Config,
    pub transport: Transport,
    /// `sslrootcert`: the team's CA, instead of the system's roots.
    roots: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
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
        let not_url = |e: &dyn std::fmt::Display| {
            format!(
                "team: the URL in {} is not a PostgreSQL URL: {e}",
                settings.database_url_env
            )
        };
        let split = url::split(url).map_err(|e| not_url(&e))?;
        let mut config: tokio_postgres::Config = split.rest.parse().map_err(|e| not_url(&e))?;
        // libpq's `system`: the platform's roots, as with no sslrootcert.
        let roots = match split.sslrootcert.as_deref() {
            None | Some("system") => None,
            Some(path) => Some(tls::read_roots(path)?),
        };
        let local = config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, tokio_postgres::config::Host::Unix(_)));
        let transport = match split.sslmode.as_deref() {
            None if local && !config.get_hosts().is_empty() => Transport::Local,
            None | Some("verify-full" | "verify-ca") => Transport::Verified,
            // As libpq: a CA file given makes `require` check against it.
            Some("require") if roots.is_some() => Transport::Verified,
            Some("require") => Transport::Unverified,
            Some("disable") => Transport::Plain,
            Some(mode @ ("prefer" | "allow")) => {
                return Err(format!(
                    "team: sslmode={mode} sends the password in clear to anyone in the middle who \
                     declines TLS; leave sslmode out (verified TLS, with sslrootcert=PATH for a \
                     team's own CA), or choose sslmode=require or sslmode=disable knowingly"
                ));
            }
            Some(_) => {
                return Err("team: sslmode in the URL must be verify-full, verify-ca, \
                            require or disable"
                    .into());
            }
        };
        config.ssl_mode(match transport {
            Transport::Verified | Transport::Unverified => tokio_postgres::config::SslMode::Require,
            Transport::Plain | Transport::Local => tokio_postgres::config::SslMode::Disable,
        });
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
            transport,
            roots,
            shown: format!("{host}:{port}/{db}"),
            _password: password,
        })
    }

    /// A connection, its driver spawned on the current runtime, within a few
    /// seconds (a server that accepts and never answers included). Every
    /// failure is one line that names the server, never the password.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, String> {
        let mut config = self.config.clone();
        config.connect_timeout(CONNECT_TIMEOUT);
        let shown = &self.shown;
        let unverifiable = |why: String| {
            format!(
                "team database {shown}: its certificate could not be verified ({why}), so the \
                 password was not sent; for a team's own CA add sslrootcert=PATH to the URL"
            )
        };
        let tls = match self.transport {
            Transport::Verified => {
                Some(tls::verified(self.roots.as_deref()).map_err(unverifiable)?)
            }
            Transport::Unverified => Some(tls::unverified()),
            Transport::Plain | Transport::Local => None,
        };
        let connect = async {
            let client = match tls {
                Some(tls) => {
                    let (client, conn) = config.connect(tls).await?;
                    tokio::spawn(conn);
                    client
                }
                None => {
                    let (client, conn) = config.connect(tokio_postgres::NoTls).await?;
                    tokio::spawn(conn);
                    client
                }
            };
            Ok::<_, tokio_postgres::Error>(client)
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(match tls::certificate_problem(&e) {
                Some(why) => unverifiable(why),
                None => format!("team database {shown}: {}", describe(&e)),
            }),
            Err(_) => Err(format!(
                "team database {shown}: no answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            )),
        }
    }
}

/// Connecting, TLS and login included: a team database never holds anything up long.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long one exchange with the team database (a query, a migration, one
/// batch of a push) may take once connected: a server, or a machine in the
/// middle, that logs in and then goes silent holds nothing up for longer.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

/// `work` if it ends within `ANSWER_WITHIN`, else a message naming the server.
pub async fn within<T>(
    shown: &str,
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(ANSWER_WITHIN, work)
        .await
        .map_err(|_| {
            format!(
                "team database {shown} did not answer within {} s",
                ANSWER_WITHIN.as_secs()
            )
        })?
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

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(url: &str) -> Result<Transport, String> {
        let settings = TeamSettings {
            database_url_env: "URL".into(),
            member: "ada".into(),
            daily_usd: None,
            monthly_usd: None,
        };
        Team::from_url(&settings, url).map(|t| t.transport)
    }

    #[test]
    fn no_sslmode_means_verified_tls_and_weaker_modes_are_explicit() {
        use Transport::*;
        for (url, expected) in [
            ("postgres://ada:pw@127.0.0.1/db", Verified),
            (
                "postgres://ada:pw@db.example.com/db?sslmode=verify-full",
                Verified,
            ),
            (
                "postgres://ada:pw@db.example.com/db?sslmode=verify-ca",
                Verified,
            ),
            (
                "postgres://ada:pw@db.example.com/db?sslmode=require",
                Unverified,
            ),
            ("postgres://ada:pw@db.example.com/db?sslmode=disable", Plain),
            ("host=db.example.com user=ada sslmode=require", Unverified),
            ("host=db.example.com user=ada", Verified),
            ("host=/run/postgresql user=ada", Local),
            (
                "host=/run/postgresql user=ada sslmode=verify-full",
                Verified,
            ),
        ] {
            assert_eq!(transport(url), Ok(expected), "{url}");
        }
        for url in [
            "postgres://ada:pw@h/db?sslmode=prefer",
            "postgres://ada:pw@h/db?sslmode=allow",
            "postgres://ada:pw@h/db?sslmode=verify_full",
            "postgres://ada:pw@h/db?sslrootcert=/nonexistent/ca.pem",
        ] {
            let err = transport(url).unwrap_err();
            assert!(!err.contains("pw@"), "{err}");
        }
    }
}
