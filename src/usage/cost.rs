//! The one place a request's cost is decided, for the console, the command
//! line and the ledger alike: the server's own figure when it gave one, else
//! the price of the model *on that endpoint* (OpenRouter's `openai/gpt-4o` is
//! OpenRouter's price), else its vendor's; a local endpoint is free.

use serde::{Deserialize, Serialize};

use super::catalog::Catalog;
use super::prices::{MAX_REQUEST_MICROS, Price, PriceTable, cost_micros_in};
use crate::chat::event::{Usage, UsageSource};

/// Where requests go, as pricing sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub base_url: String,
    /// The profile's `local`: `true`, its models cost nothing; `false`, never
    /// taken for local even on loopback (a LiteLLM proxy there); unset, loopback is.
    pub local: Option<bool>,
}

impl Endpoint {
    /// `local`: the profile says `local = true`.
    pub fn new(base_url: &str, local: bool) -> Self {
        Self {
            base_url: base_url.to_string(),
            local: local.then_some(true),
        }
    }

    /// A loopback address serves models on this machine.
    pub fn is_loopback(&self) -> bool {
        let host = crate::config::profile::host_of(&self.base_url);
        let host = host.rsplit_once(':').map_or(host.as_str(), |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host.as_str()
            }
        });
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Where a cost came from; the ledger keeps it beside the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The server said what the request cost (OpenRouter, a LiteLLM proxy).
    Server,
    /// The embedded prices (genai-prices' catalog, or the checked OpenAI table).
    Catalog,
    /// The user's prices.toml or an imported price file.
    Override,
    /// Priced, but on token counts the server did not report.
    Estimated,
    /// A local model: free.
    Local,
}

impl CostSource {
    pub fn label(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Catalog => "catalog",
            Self::Override => "override",
            Self::Estimated => "estimated",
            Self::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Server,
            Self::Catalog,
            Self::Override,
            Self::Estimated,
            Self::Local,
        ]
        .into_iter()
        .find(|c| c.label() == s)
    }
}

/// What a model costs on an endpoint.
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    Price(&'a Price, CostSource),
    Local,
    Unpriced,
}

/// The price of `model` on `endpoint`: the user's own first, then the endpoint's
/// provider list, then the checked OpenAI table, then the model's vendor; a
/// model no list knows is free on a local endpoint and unpriced elsewhere.
pub fn find<'a>(prices: &'a PriceTable, endpoint: &Endpoint, model: &str) -> Found<'a> {
    if endpoint.local == Some(true) {
        return Found::Local;
    }
    let table = prices.lookup(model);
    if let Some(p) = table.filter(|p| p.user) {
        return Found::Price(p, CostSource::Override);
    }
    let catalog = prices.catalog();
    let provider = catalog.provider_for_url(&endpoint.base_url);
    let openai = provider.is_some_and(|p| catalog.providers[p].id == "openai");
    if provider.is_some()
        && !openai
        && let Some((_, m)) = catalog.lookup(provider, model)
    {
        return Found::Price(&m.price, CostSource::Catalog);
    }
    if let Some(p) = table {
        return Found::Price(p, CostSource::Catalog);
    }
    if let Some((_, m)) = catalog.lookup(provider, model) {
        return Found::Price(&m.price, CostSource::Catalog);
    }
    // A LiteLLM proxy on localhost forwards to paid APIs: only a model no list knows is local.
    if endpoint.local.is_none() && endpoint.is_loopback() {
        return Found::Local;
    }
    Found::Unpriced
}

/// A hosted tool's fee per call (web search, file search) for `model` on
/// `endpoint`, in micro-dollars, from the catalog (`*_kcount`: USD per 1,000
/// calls); `None` where the source has none (code interpreter sessions).
pub fn tool_fee(prices: &PriceTable, endpoint: &Endpoint, model: &str, tool: &str) -> Option<i64> {
    let key = match tool {
        "web_search" => "web_searches_kcount",
        "file_search" => "storage_searches_kcount",
        _ => return None,
    };
    let catalog = prices.catalog();
    let (_, m) = catalog.lookup(catalog.provider_for_url(&endpoint.base_url), model)?;
    let per_thousand = m.price.extras.get(key)?;
    Some((per_thousand * 1_000.0).round() as i64)
}

/// A request's cost and where it came from (`None`: unpriced).
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub micros: Option<i64>,
    pub source: Option<CostSource>,
    /// The rates used (input, cached, output nano-dollars per token) and their date.
    pub rates: Option<(i64, i64, i64, String)>,
}

/// The cost of one request: `server` (micro-dollars the server reported) wins;
/// else `usage` at the price of `model` on `endpoint` in `tier`.
pub fn cost(
    prices: &PriceTable,
    endpoint: &Endpoint,
    model: &str,
    usage: &Usage,
    tier: Option<&str>,
    server: Option<i64>,
) -> Cost {
    let found = find(prices, endpoint, model);
    let rates = match found {
        Found::Price(p, _) => Some((
            p.rates.input,
            p.rates.cached_input,
            p.rates.output,
            p.date.clone(),
        )),
        _ => None,
    };
    if let Some(s) = server {
        return Cost {
            micros: Some(s.clamp(0, MAX_REQUEST_MICROS)),
            source: Some(CostSource::Server),
            rates,
        };
    }
    let (micros, source) = match found {
        Found::Price(p, source) => {
            let source = match usage.source {
                UsageSource::Estimated => CostSource::Estimated,
                UsageSource::Reported => source,
            };
            (Some(cost_micros_in(p, usage, tier)), Some(source))
        }
        Found::Local => (Some(0), Some(CostSource::Local)),
        Found::Unpriced => (None, None),
    };
    Cost {
        micros,
        source,
        rates,
    }
}

impl PriceTable {
    /// The catalog this table lays over: an imported genai-prices file, else the embedded one.
    pub fn catalog(&self) -> &Catalog {
        match self.imported_catalog() {
            Some(Ok(c)) => c,
            _ => Catalog::embedded(),
        }
    }

    /// The imported catalog, when there is one: parsed, or why it cannot be.
    pub fn imported_catalog(&self) -> Option<&Result<Catalog, String>> {
        let path = self.catalog_file.as_ref()?;
        self.imported
            .get_or_init(|| {
                let text = crate::config::files::read_optional(path);
                match text {
                    Ok(None) => None,
                    Ok(Some(t)) => {
                        Some(Catalog::parse(&t, "").map_err(|e| format!("{}: {e}", path.display())))
                    }
                    Err(e) => Some(Err(e.to_string())),
                }
            })
            .as_ref()
    }

    /// Uses the genai-prices file at `path` (if it exists) instead of the embedded catalog.
    pub fn with_catalog_file(mut self, path: std::path::PathBuf) -> Self {
        self.catalog_file = Some(path);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64) -> Usage {
        Usage {
            input,
            output,
            ..Usage::default()
        }
    }

    #[test]
    fn the_endpoint_chooses_the_price_list() {
        let t = PriceTable::embedded();
        let openrouter = Endpoint::new("https://openrouter.ai/api/v1", false);
        let openai = Endpoint::new("https://api.openai.com/v1", false);
        let groq = Endpoint::new("https://api.groq.com/openai/v1", false);
        let Found::Price(p, CostSource::Catalog) = find(&t, &openai, "gpt-4o") else {
            panic!("gpt-4o on OpenAI is priced");
        };
        assert_eq!(p.rates.input, 2500);
        let Found::Price(p, _) = find(&t, &openrouter, "openai/gpt-4o") else {
            panic!("openai/gpt-4o on OpenRouter is priced");
        };
        assert_eq!(
            p.source,
            t.catalog().source,
            "OpenRouter's list, not OpenAI's table"
        );
        let Found::Price(p, _) = find(&t, &groq, "llama-3.1-8b-instant") else {
            panic!("a Groq model on Groq is priced");
        };
        assert!(p.rates.input > 0);
        // A vendor's model on an endpoint no list knows: the vendor's price.
        let azure_like = Endpoint::new("https://llm.example.com/v1", false);
        assert!(matches!(
            find(&t, &azure_like, "claude-3-5-haiku-latest"),
            Found::Price(..)
        ));
        assert!(matches!(
            find(&t, &azure_like, "my-finetune"),
            Found::Unpriced
        ));
    }

    #[test]
    fn local_models_are_free_and_say_so() {
        let t = PriceTable::embedded();
        let ollama = Endpoint::new("http://localhost:11434/v1", false);
        let c = cost(&t, &ollama, "llama3.2:3b", &usage(100, 100), None, None);
        assert_eq!((c.micros, c.source), (Some(0), Some(CostSource::Local)));
        let v6 = Endpoint::new("http://[::1]:8080/v1", false);
        assert!(matches!(find(&t, &v6, "qwen3:8b"), Found::Local));
        // `local = true` makes even a known name free (a local copy of an open model).
        let marked = Endpoint::new("http://gpu-box:8000/v1", true);
        assert!(matches!(find(&t, &marked, "gpt-4o"), Found::Local));
        // `local = false`: a proxy on loopback with its own model names is not free.
        let proxy = Endpoint {
            local: Some(false),
            ..ollama.clone()
        };
        assert!(matches!(find(&t, &proxy, "team-alias"), Found::Unpriced));
        // A proxy on loopback forwarding a paid model is priced.
        let c = cost(&t, &ollama, "gpt-4o", &usage(0, 1_000_000), None, None);
        assert_eq!(c.micros, Some(10_000_000));
    }

    #[test]
    fn the_servers_figure_wins_and_is_held_to_the_cap() {
        let t = PriceTable::embedded();
        let e = Endpoint::new("https://openrouter.ai/api/v1", false);
        let c = cost(&t, &e, "openai/gpt-4o", &usage(10, 10), None, Some(1234));
        assert_eq!((c.micros, c.source), (Some(1234), Some(CostSource::Server)));
        let c = cost(&t, &e, "x", &usage(1, 1), None, Some(i64::MAX));
        assert_eq!(c.micros, Some(MAX_REQUEST_MICROS));
        let c = cost(&t, &e, "x", &usage(1, 1), None, Some(-5));
        assert_eq!(c.micros, Some(0));
    }
}
