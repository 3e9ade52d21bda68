//! `config.toml`: the user's settings. Keys are never written here by the program.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::files::{self, FileError};
use super::profile::ProfileConfig;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Theme name: a built-in (dark, light, high-contrast) or a file in the themes dir.
    pub theme: Option<String>,
    /// The profile used when `--profile` is not given.
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileConfig>,
    #[serde(default)]
    pub demo: DemoSettings,
    /// Connect, first-byte and idle timeouts and retries (see README).
    #[serde(default)]
    pub timeouts: crate::provider::http::Timeouts,
    /// Spend limits for every profile (a profile's own `budgets` replaces them).
    #[serde(default)]
    pub budgets: crate::usage::budget::Budgets,
    /// The prompt library folder (default: the data dir's `prompts/`).
    pub library: Option<std::path::PathBuf>,
    /// A shared PostgreSQL for the team's spend (absent: everything stays local).
    pub team: Option<crate::team::TeamSettings>,
    /// The most model calls one answer may take while it runs tools, in the
    /// console (default 10; `chat --max-steps` on the command line).
    pub max_steps: Option<u32>,
    /// MCP servers by name (`[mcp.NAME]`), started on first use.
    #[serde(default)]
    pub mcp: BTreeMap<String, crate::tools::config::McpConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// How fast the offline demo streams, in tokens per second.
    #[serde(default = "DemoSettings::default_speed")]
    pub tokens_per_second: u32,
}

impl DemoSettings {
    fn default_speed() -> u32 {
        80
    }
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            tokens_per_second: Self::default_speed(),
        }
    }
}

/// Loads the settings. A broken file is reported, never overwritten, and the
/// defaults are used so the console still opens.
pub fn load(path: &Path) -> (Settings, Option<FileError>) {
    match files::read_optional(path) {
        Ok(None) => (Settings::default(), None),
        Ok(Some(text)) => match files::parse_toml::<Settings>(path, &text) {
            Ok(settings) => {
                let warning = readable_by_others_warning(path, &settings);
                (settings, warning)
            }
            Err(e) => (Settings::default(), Some(e)),
        },
        Err(e) => (Settings::default(), Some(e)),
    }
}

/// The config never needs a key, but a user may paste one into a header or
/// a query parameter: every value not marked public is a secret.
fn readable_by_others_warning(path: &Path, settings: &Settings) -> Option<FileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let looks_secret = settings.profiles.values().any(|p| {
            let public = p.public();
            p.headers.keys().any(|h| !public.header(h)) || p.query.keys().any(|q| !public.query(q))
        });
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if looks_secret && mode & 0o044 != 0 {
            return Some(FileError::Parse {
                path: path.to_path_buf(),
                line: String::new(),
                message: "holds secret header or query values and is readable by others (chmod 600 it, or use api_key_env)".into(),
            });
        }
    }
    let _ = (path, settings);
    None
}
