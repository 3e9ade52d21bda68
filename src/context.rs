//! What every face of llmdeck (console or command line) starts from: paths,
//! settings, the chosen profile and the price table, plus the problems found
//! loading them (reported, never fatal unless the user asked for the broken thing).

use std::sync::{Arc, RwLock};

use crate::config::profile::{self, Overrides, ProfileError};
use crate::config::{Paths, Profile, Settings, settings};
use crate::provider::http::Timeouts;
use crate::usage::PriceTable;

pub struct Context {
    pub paths: Paths,
    pub settings: Settings,
    pub profile: Profile,
    /// Replaced whole when the console's price form writes prices.toml, so every
    /// request priced afterwards (a new conversation, a Library test run) uses it.
    prices: RwLock<Arc<PriceTable>>,
    pub warnings: Vec<String>,
    /// Recording or replaying this session's answers.
    pub session: crate::provider::Session,
    /// `--allow-over-budget`: requests over a budget go anyway, for this run.
    pub allow_over_budget: bool,
}

impl Context {
    pub fn load(overrides: &Overrides) -> Result<Self, ProfileError> {
        Self::load_with(Paths::resolve(), overrides, &|name| {
            std::env::var(name).ok()
        })
    }

    /// `load` from `paths` and the environment `env` gives (a test's own home
    /// and endpoint, without touching the process's environment).
    pub fn load_with(
        paths: Paths,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ProfileError> {
        let mut warnings = Vec::new();
        let (settings, err) = settings::load(&paths.config_file());
        if let Some(e) = err {
            warnings.push(format!("{e} — using defaults"));
        }
        let profile = profile::resolve(&settings, overrides, env)?;
        if let crate::config::Endpoint::Http(h) = &profile.endpoint {
            for w in h.register_secrets() {
                warnings.push(format!("profile {:?}: {w}", profile.name));
            }
        }
        // MCP servers' header values (and env secrets) are secrets from the start,
        // whether llmdeck or OpenAI connects to the server.
        for server in settings.mcp.values() {
            server.register_secrets();
        }
        let (prices, errors) = load_prices(&paths);
        for e in errors {
            warnings.push(format!("{e} — its prices are not used"));
        }
        Ok(Self {
            paths,
            settings,
            profile,
            prices: RwLock::new(Arc::new(prices)),
            warnings,
            session: Default::default(),
            allow_over_budget: false,
        })
    }

    /// The price table in force.
    pub fn prices(&self) -> Arc<PriceTable> {
        Arc::clone(&self.prices.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads prices.toml and the imports again (the price form wrote one); a
    /// broken file leaves the table as it was and says why.
    pub fn reload_prices(&self) -> Result<Arc<PriceTable>, String> {
        let (prices, errors) = load_prices(&self.paths);
        if let Some(e) = errors.first() {
            return Err(e.to_string());
        }
        let prices = Arc::new(prices);
        *self.prices.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&prices);
        Ok(prices)
    }

    pub fn timeouts(&self) -> Timeouts {
        self.settings.timeouts
    }

    /// The provider for `profile`, recording or replaying as the session asks.
    pub fn provider(
        &self,
        profile: &crate::config::Profile,
        demo_speed: u32,
    ) -> Result<crate::provider::Provider, String> {
        crate::provider::Provider::new(profile, self.timeouts(), demo_speed)
            .map_err(|e| e.to_string())?
            .with_remote_mcp(self.remote_mcp())
            .with_session(&self.session)
    }

    /// The remote MCP servers OpenAI connects to (`hosted = true`), by name.
    pub fn remote_mcp(&self) -> std::collections::BTreeMap<String, crate::chat::tools::RemoteMcp> {
        self.settings
            .mcp
            .iter()
            .filter_map(|(name, c)| Some((name.clone(), c.remote()?)))
            .collect()
    }

    pub fn demo_speed(&self) -> u32 {
        self.settings.demo.tokens_per_second
    }

    /// The budgets in force for `profile`: its own, else the global ones.
    pub fn budgets(&self, profile: &Profile) -> crate::usage::budget::Budgets {
        profile.budgets.unwrap_or(self.settings.budgets)
    }

    /// Where `profile` sends requests, as pricing sees it (`local = true` in its config: free).
    pub fn price_endpoint(&self, profile: &Profile) -> crate::usage::cost::Endpoint {
        match &profile.endpoint {
            crate::config::Endpoint::Demo => Default::default(),
            crate::config::Endpoint::Http(h) => crate::usage::cost::Endpoint {
                base_url: h.base_url.clone(),
                local: self
                    .settings
                    .profiles
                    .get(&profile.name)
                    .and_then(|c| c.local),
            },
        }
    }

    /// A conversation's state machine, pricing for `profile`'s endpoint.
    pub fn machine(
        &self,
        conv: crate::chat::conversation::Conversation,
        profile: &Profile,
        source: &str,
    ) -> crate::chat::machine::Machine {
        let mut m =
            crate::chat::machine::Machine::new(conv, origin(profile, source), self.prices());
        m.endpoint = self.price_endpoint(profile);
        m
    }

    /// Compare targets from specs like `gpt-4o`, `llama3.2@ollama`, `gpt-4o?temperature=0.2`.
    pub fn compare_targets(
        &self,
        specs: &[String],
        base: &crate::chat::params::Params,
    ) -> Result<Vec<crate::chat::compare::Target>, String> {
        specs
            .iter()
            .map(|spec| {
                let (model, profile, params) = crate::chat::compare::parse(spec, base)?;
                let profile = match profile {
                    Some(name) => {
                        let p = self.switch(&name).map_err(|e| e.to_string())?;
                        Some(crate::chat::compare::Via {
                            name: p.name.clone(),
                            host: p.host(),
                            endpoint: self.price_endpoint(&p),
                        })
                    }
                    None => None,
                };
                Ok(crate::chat::compare::Target {
                    model,
                    profile,
                    params,
                    label: spec.trim().to_string(),
                })
            })
            .collect()
    }

    /// The prompt library: the profile's folder, else the config's, else the data dir's
    /// `prompts/`. A relative folder is read from the config dir, `~/` from home.
    pub fn library_dir(&self, profile: &Profile) -> std::path::PathBuf {
        let Some(dir) = profile.library.as_ref().or(self.settings.library.as_ref()) else {
            return self.paths.prompts_dir();
        };
        if let (Ok(rest), Some(home)) = (dir.strip_prefix("~"), std::env::var_os("HOME")) {
            return std::path::PathBuf::from(home).join(rest);
        }
        self.paths.config_dir.join(dir)
    }

    /// The team database, when `[team]` is configured (an error when its URL is not set).
    pub fn team(&self) -> Option<Result<crate::team::Team, String>> {
        let settings = self.settings.team.as_ref()?;
        Some(crate::team::Team::from_settings(settings, &|n| {
            std::env::var(n).ok()
        }))
    }

    /// The local ledger, queueing rows for the team database when there is one.
    pub fn ledger(&self) -> Result<crate::usage::Ledger, String> {
        self.ledger_file().open()
    }

    /// Where conversations are saved: the one store both faces write through.
    pub fn store(&self) -> crate::chat::store::Store {
        crate::chat::store::Store::new(self.paths.conversations_dir())
    }

    /// The ledger, to open where it is needed (a thread of its own, say).
    pub fn ledger_file(&self) -> crate::usage::LedgerFile {
        crate::usage::LedgerFile {
            path: self.paths.ledger_file(),
            outbox: self.settings.team.is_some(),
        }
    }

    /// Every profile a user can switch to: the configured ones, then the demo.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.settings.profiles.keys().cloned().collect();
        names.push("demo".into());
        names
    }

    /// Switching inside the console: a named profile, or "demo".
    pub fn switch(&self, name: &str) -> Result<Profile, ProfileError> {
        let overrides = Overrides {
            profile: (name != "demo").then(|| name.to_string()),
            demo: name == "demo",
            ..Overrides::default()
        };
        profile::resolve(&self.settings, &overrides, &|n| std::env::var(n).ok())
    }
}

/// Where a request comes from, for its ledger row.
pub fn origin(profile: &Profile, source: &str) -> crate::chat::machine::Origin {
    crate::chat::machine::Origin {
        source: source.into(),
        profile: profile.name.clone(),
        host: profile.host(),
        api: match &profile.endpoint {
            crate::config::Endpoint::Demo => "demo".into(),
            crate::config::Endpoint::Http(h) => h.api.label().into(),
        },
    }
}

/// Providers of other profiles (compare targets like `model@profile`), made once each.
#[derive(Default)]
pub struct Providers(std::collections::HashMap<String, crate::provider::Provider>);

impl Providers {
    pub fn get(
        &mut self,
        ctx: &Context,
        profile: &str,
        demo_speed: u32,
    ) -> Result<crate::provider::Provider, String> {
        if let Some(p) = self.0.get(profile) {
            return Ok(p.clone());
        }
        let p = ctx.switch(profile).map_err(|e| e.to_string())?;
        let provider = ctx.provider(&p, demo_speed)?;
        self.0.insert(profile.to_string(), provider.clone());
        Ok(provider)
    }
}

/// The embedded table, then the imports and the user's prices.toml over it.
fn load_prices(paths: &Paths) -> (PriceTable, Vec<crate::config::files::FileError>) {
    let (prices, errors) = PriceTable::load(&[&paths.imported_prices_file(), &paths.prices_file()]);
    (
        prices.with_catalog_file(paths.imported_catalog_file()),
        errors,
    )
}
