//! Profiles: which endpoint to talk to, with which key, model and headers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::secret::Public;
use super::{Secret, Settings};
pub use crate::chat::params::Api;

pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEMO_MODEL: &str = "gpt-4o-mini";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    pub base_url: Option<String>,
    /// Name of the environment variable that holds the key.
    pub api_key_env: Option<String>,
    /// A command whose standard output is the key (a password manager, say).
    pub api_key_command: Option<String>,
    /// How the key is sent: `bearer` (default) or `api-key` (Azure OpenAI).
    #[serde(default)]
    pub auth: AuthStyle,
    pub model: Option<String>,
    /// Models offered when the endpoint cannot list its own.
    #[serde(default)]
    pub models: Vec<String>,
    pub organization: Option<String>,
    pub project: Option<String>,
    /// Extra headers (OpenRouter's `HTTP-Referer`, say).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Extra query parameters (Azure's `api-version`).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Headers whose values may be shown (besides `HTTP-Referer`, `X-Title`...);
    /// every other header value is a secret.
    #[serde(default)]
    pub public_headers: Vec<String>,
    /// Query parameters whose values may be shown (besides `api-version`).
    #[serde(default)]
    pub public_query: Vec<String>,
    /// This profile's own spend limits (instead of the global ones).
    pub budgets: Option<crate::usage::budget::Budgets>,
    /// `chat` or `responses`; by default Responses on api.openai.com, Chat elsewhere.
    pub api: Option<Api>,
    /// Let the Responses API keep responses on the server (off: requests are stateless).
    #[serde(default)]
    pub store: bool,
    /// This profile's prompt library folder (a team's repository, say).
    pub library: Option<std::path::PathBuf>,
    /// Where `usage sync` sends the organization admin key; without it, only
    /// to api.openai.com and only from a profile that talks to it.
    pub admin_base_url: Option<String>,
    /// `true`: models served on your own machine or network, free, shown as
    /// "local". `false`: never local, even on loopback (a proxy to paid APIs).
    /// Unset: a loopback endpoint's models no price list knows are local.
    pub local: Option<bool>,
}

impl ProfileConfig {
    /// Which of its header and query values are not secrets.
    pub fn public(&self) -> Public {
        Public {
            headers: self.public_headers.clone(),
            query: self.public_query.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthStyle {
    #[default]
    Bearer,
    ApiKey,
}

/// A resolved profile: everything needed to make requests.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// The profile's own budgets, if it has them.
    pub budgets: Option<crate::usage::budget::Budgets>,
    pub endpoint: Endpoint,
    pub model: String,
    pub models: Vec<String>,
    pub library: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone)]
pub enum Endpoint {
    /// The offline demo: no network at all.
    Demo,
    Http(HttpEndpoint),
}

#[derive(Debug, Clone)]
pub struct HttpEndpoint {
    pub base_url: String,
    pub key: Option<Secret>,
    /// The environment variable code samples read the key from.
    pub key_env: String,
    pub auth: AuthStyle,
    pub organization: Option<String>,
    pub project: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// Which header and query values are not secrets (boxed: rarely read, kept small).
    pub public: Box<Public>,
    /// The wire API requests use unless a conversation asks for the other.
    pub api: Api,
    pub store: bool,
}

impl HttpEndpoint {
    pub fn host(&self) -> String {
        host_of(&self.base_url)
    }

    /// The secret header and query values: `("header" | "query", name, value)`.
    pub fn secrets(&self) -> impl Iterator<Item = (&'static str, &str, &str)> {
        let headers = self.headers.iter().filter(|(k, _)| !self.public.header(k));
        let query = self.query.iter().filter(|(k, _)| !self.public.query(k));
        headers
            .map(|(k, v)| ("header", k.as_str(), v.as_str()))
            .chain(query.map(|(k, v)| ("query", k.as_str(), v.as_str())))
    }

    /// Registers the secret values with the scrubber; warns (in the list
    /// returned) of those too short to be told apart from ordinary words.
    pub fn register_secrets(&self) -> Vec<String> {
        let mut short = Vec::new();
        for (kind, name, value) in self.secrets() {
            if !crate::log::register_secret(value) {
                short.push(format!(
                    "the value of {kind} {name:?} is shorter than {} characters: it is hidden in view code but cannot be scrubbed from text (list it in public_{} if it is not a secret)",
                    crate::log::SHORTEST_SECRET,
                    if kind == "header" { "headers" } else { "query" },
                ));
            }
        }
        short
    }
}

impl Profile {
    pub fn is_demo(&self) -> bool {
        matches!(self.endpoint, Endpoint::Demo)
    }

    /// What the status bar shows: the host, never a key.
    pub fn host(&self) -> String {
        match &self.endpoint {
            Endpoint::Demo => "offline demo".into(),
            Endpoint::Http(h) => h.host(),
        }
    }

    /// What presenter mode keeps off the screen wherever it appears (a server's
    /// error naming the URL or the organization, say): the host unless it is
    /// OpenAI's, the organization and the project ids.
    pub fn presenter_secrets(&self) -> Vec<String> {
        let Endpoint::Http(h) = &self.endpoint else {
            return Vec::new();
        };
        let host = (h.base_url != OPENAI_BASE_URL).then(|| h.host());
        [host, h.organization.clone(), h.project.clone()]
            .into_iter()
            .flatten()
            .collect()
    }

    pub fn demo() -> Self {
        Self {
            name: "demo".into(),
            budgets: None,
            endpoint: Endpoint::Demo,
            model: DEMO_MODEL.into(),
            models: crate::provider::demo::MODELS
                .iter()
                .map(|m| m.to_string())
                .collect(),
            library: None,
        }
    }
}

pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    // Never show credentials embedded in a URL.
    authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .to_string()
}

/// What the command line asked for, on top of the config file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub demo: bool,
    pub api: Option<Api>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no profile named {0:?} in config.toml (known: {1})")]
    Unknown(String, String),
    #[error("profile {profile:?}: environment variable {var} is not set")]
    MissingKeyEnv { profile: String, var: String },
    #[error(
        "profile {profile:?}: api_key_env {var:?} is not a variable name (letters, digits and _, not starting with a digit)"
    )]
    BadKeyEnv { profile: String, var: String },
    #[error(
        "profile {profile:?}: the {what} name {name:?} would read as an environment variable in view code's snippets"
    )]
    NameIsAVariable {
        profile: String,
        what: &'static str,
        name: String,
    },
    #[error("profile {profile:?}: api_key_command failed: {reason}")]
    KeyCommand { profile: String, reason: String },
    #[error("profile {profile:?}: the key contains characters that cannot be sent in a header")]
    InvalidKey { profile: String },
}

/// Picks the profile: `--demo`, then `--profile`, then the config's default, then
/// the `OPENAI_*` environment, and with none of those the offline demo.
pub fn resolve(
    settings: &Settings,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Profile, ProfileError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let mut profile = if overrides.demo {
        Profile::demo()
    } else if let Some(name) = overrides
        .profile
        .clone()
        .or(settings.default_profile.clone())
    {
        let config = settings.profiles.get(&name).ok_or_else(|| {
            let known: Vec<_> = settings.profiles.keys().cloned().collect();
            ProfileError::Unknown(name.clone(), known.join(", "))
        })?;
        from_config(&name, config, overrides, &env)?
    } else if overrides.base_url.is_some()
        || env("OPENAI_API_KEY").is_some()
        || env("OPENAI_BASE_URL").is_some()
    {
        from_config("env", &ProfileConfig::default(), overrides, &env)?
    } else {
        Profile::demo()
    };
    if let Some(model) = &overrides.model {
        profile.model = model.clone();
    }
    if let (Some(api), Endpoint::Http(h)) = (overrides.api, &mut profile.endpoint) {
        h.api = api;
    }
    Ok(profile)
}

fn from_config(
    name: &str,
    config: &ProfileConfig,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Profile, ProfileError> {
    let base_url = overrides
        .base_url
        .clone()
        .or(config.base_url.clone())
        .or_else(|| env("OPENAI_BASE_URL"))
        .unwrap_or_else(|| OPENAI_BASE_URL.to_string())
        .trim_end_matches('/')
        .to_string();
    // A snippet writes header and query names as they are: one that spells
    // `$OPENAI_...` would be filled in by the shell (values become variables).
    let names = (config.headers.keys().map(|k| ("header", k)))
        .chain(config.query.keys().map(|k| ("query parameter", k)));
    for (what, n) in names {
        if crate::config::secret::names_a_variable(n) {
            return Err(ProfileError::NameIsAVariable {
                profile: name.into(),
                what,
                name: n.clone(),
            });
        }
    }
    let key = resolve_key(name, config, env)?;
    if let Some(k) = &key
        && k.expose().chars().any(|c| c.is_control() || !c.is_ascii())
    {
        return Err(ProfileError::InvalidKey {
            profile: name.into(),
        });
    }
    let default_model = if base_url == OPENAI_BASE_URL {
        "gpt-4o-mini"
    } else {
        ""
    };
    let model = config
        .model
        .clone()
        .or_else(|| config.models.first().cloned())
        .unwrap_or_else(|| default_model.to_string());
    let api = config.api.unwrap_or(if base_url == OPENAI_BASE_URL {
        Api::Responses
    } else {
        Api::Chat
    });
    let endpoint = HttpEndpoint {
        base_url,
        key,
        key_env: config
            .api_key_env
            .clone()
            .unwrap_or_else(|| "OPENAI_API_KEY".into()),
        auth: config.auth,
        organization: config.organization.clone().or_else(|| env("OPENAI_ORG_ID")),
        project: config.project.clone().or_else(|| env("OPENAI_PROJECT_ID")),
        headers: config.headers.clone(),
        query: config.query.clone(),
        public: Box::new(config.public()),
        api,
        store: config.store,
    };
    endpoint.register_secrets();
    Ok(Profile {
        name: name.into(),
        budgets: config.budgets,
        endpoint: Endpoint::Http(endpoint),
        model,
        models: config.models.clone(),
        library: config.library.clone(),
    })
}

fn resolve_key(
    name: &str,
    config: &ProfileConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ProfileError> {
    // View code writes it into shell, Python, Node and Rust as a name (even
    // when the key comes from a command).
    if let Some(var) = config
        .api_key_env
        .as_ref()
        .filter(|v| !crate::config::secret::is_variable_name(v))
    {
        return Err(ProfileError::BadKeyEnv {
            profile: name.into(),
            var: var.clone(),
        });
    }
    if let Some(command) = &config.api_key_command {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| ProfileError::KeyCommand {
                profile: name.into(),
                reason: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(ProfileError::KeyCommand {
                profile: name.into(),
                reason: format!("exited with {}", output.status),
            });
        }
        return Ok(Secret::new(&String::from_utf8_lossy(&output.stdout)));
    }
    if let Some(var) = &config.api_key_env {
        return match env(var) {
            Some(v) => Ok(Secret::new(&v)),
            None => Err(ProfileError::MissingKeyEnv {
                profile: name.into(),
                var: var.clone(),
            }),
        };
    }
    Ok(env("OPENAI_API_KEY").and_then(|v| Secret::new(&v)))
}
