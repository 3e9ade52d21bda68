//! Where llmdeck keeps the files a user owns: everything under `LLMDECK_HOME`
//! when it is set (tests always set it), otherwise the platform directories.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    pub fn resolve() -> Self {
        if let Some(home) = std::env::var_os("LLMDECK_HOME").filter(|h| !h.is_empty()) {
            return Self::under(Path::new(&home));
        }
        match directories::ProjectDirs::from("", "", "llmdeck") {
            Some(dirs) => Self {
                config_dir: dirs.config_dir().to_path_buf(),
                data_dir: dirs.data_dir().to_path_buf(),
                state_dir: dirs
                    .state_dir()
                    .unwrap_or_else(|| dirs.cache_dir())
                    .to_path_buf(),
            },
            // No home directory at all (a bare container): keep files beside the process.
            None => Self::under(Path::new(".llmdeck")),
        }
    }

    pub fn under(home: &Path) -> Self {
        Self {
            config_dir: home.join("config"),
            data_dir: home.join("data"),
            state_dir: home.join("state"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    pub fn keymap_file(&self) -> PathBuf {
        self.config_dir.join("keymap.toml")
    }
    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }
    pub fn prices_file(&self) -> PathBuf {
        self.config_dir.join("prices.toml")
    }
    /// Prices written by `llmdeck pricing import`; prices.toml overrides them.
    pub fn imported_prices_file(&self) -> PathBuf {
        self.config_dir.join("prices.imported.toml")
    }
    /// A genai-prices file written by `llmdeck pricing import`; it replaces the embedded catalog.
    pub fn imported_catalog_file(&self) -> PathBuf {
        self.config_dir.join("prices.catalog.json")
    }
    pub fn ledger_file(&self) -> PathBuf {
        self.data_dir.join("ledger.sqlite3")
    }
    /// Eval runs kept for later, and the answers cache.
    pub fn evals_file(&self) -> PathBuf {
        self.data_dir.join("evals.sqlite3")
    }
    pub fn conversations_dir(&self) -> PathBuf {
        self.data_dir.join("conversations")
    }
    /// Function definitions, one JSON file each, in OpenAI's function format.
    pub fn tools_dir(&self) -> PathBuf {
        self.config_dir.join("tools")
    }
    pub fn prompts_dir(&self) -> PathBuf {
        self.data_dir.join("prompts")
    }
}
