//! The price catalog: pydantic's genai-prices data (MIT), about 2,300 models of
//! about 50 providers, each provider with the URL pattern of its API. Embedded
//! as `catalog.json` (made by `tools/genai_prices.py`, in genai-prices' own
//! layout) and parsed on the first lookup, never before the first frame.
//! `llmdeck pricing import` reads the same layout (their `prices/data.json`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use super::prices::{Price, Rates, check_rate, nanos};

const EMBEDDED: &str = include_str!("catalog.json");

/// A model-name test, as genai-prices writes it (names are compared lower-cased).
#[derive(Debug)]
enum Clause {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(regex::Regex),
    /// genai-prices' `^(?!X)`: the regex crate has no lookahead.
    NotRegex(regex::Regex),
    Any(Vec<Clause>),
    All(Vec<Clause>),
}

impl Clause {
    fn matches(&self, model: &str) -> bool {
        match self {
            Self::Equals(s) => model == s,
            Self::StartsWith(s) => model.starts_with(s.as_str()),
            Self::EndsWith(s) => model.ends_with(s.as_str()),
            Self::Contains(s) => model.contains(s.as_str()),
            Self::Regex(r) => r.is_match(model),
            Self::NotRegex(r) => !r.is_match(model),
            Self::Any(c) => c.iter().any(|c| c.matches(model)),
            Self::All(c) => c.iter().all(|c| c.matches(model)),
        }
    }

    fn parse(v: &Value) -> Result<Self, String> {
        let text = |k: &str| v[k].as_str().map(str::to_lowercase);
        let list = |k: &str| -> Result<Vec<Clause>, String> {
            v[k].as_array()
                .ok_or("a clause list is not a list")?
                .iter()
                .map(Self::parse)
                .collect()
        };
        if v.get("or").is_some() {
            return Ok(Self::Any(list("or")?));
        }
        if v.get("and").is_some() {
            return Ok(Self::All(list("and")?));
        }
        if let Some(re) = v["regex"].as_str() {
            let compile =
                |re: &str| regex::Regex::new(re).map_err(|e| format!("regex {re:?}: {e}"));
            // `^(?!X)Y`: not `^X`, and `^Y`.
            return Ok(match lookahead(re) {
                Some((not, "")) => Self::NotRegex(compile(&format!("^{not}"))?),
                Some((not, rest)) => Self::All(vec![
                    Self::NotRegex(compile(&format!("^{not}"))?),
                    Self::Regex(compile(&format!("^{rest}"))?),
                ]),
                None => Self::Regex(compile(re)?),
            });
        }
        None.or_else(|| text("equals").map(Self::Equals))
            .or_else(|| text("starts_with").map(Self::StartsWith))
            .or_else(|| text("ends_with").map(Self::EndsWith))
            .or_else(|| text("contains").map(Self::Contains))
            .ok_or_else(|| format!("unknown match clause {v}"))
    }
}

/// `^(?!X)Y` split into X and Y (escapes and classes skipped when finding the end of X).
fn lookahead(re: &str) -> Option<(&str, &str)> {
    let body = re.strip_prefix("^(?!")?;
    let (mut depth, mut class, mut escaped) = (1, false, false);
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => class = true,
            ']' => class = false,
            '(' if !class => depth += 1,
            ')' if !class => {
                depth -= 1;
                if depth == 0 {
                    return Some((&body[..i], &body[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

pub struct Provider {
    pub id: String,
    pub name: String,
    api: regex::Regex,
    model_match: Option<Clause>,
    fallback: Vec<String>,
    pub models: Vec<Model>,
}

pub struct Model {
    pub id: String,
    matcher: Clause,
    pub price: Price,
}

/// A lookup: the endpoint's provider (if known) and the model, lower-cased.
type MemoKey = (Option<usize>, String);

pub struct Catalog {
    pub source: String,
    pub date: String,
    pub providers: Vec<Provider>,
    /// (provider index, or none, and the model lower-cased) → (provider, model) found:
    /// a scan is done once per model, every later lookup is one hash probe.
    memo: Mutex<HashMap<MemoKey, Option<(usize, usize)>>>,
    /// Base URL → provider: a profile has one, so the patterns run once.
    by_url: Mutex<HashMap<String, Option<usize>>>,
}

#[derive(Deserialize)]
struct FileProvider {
    id: String,
    name: String,
    api_pattern: String,
    model_match: Option<Value>,
    #[serde(default)]
    fallback_model_providers: Vec<String>,
    models: Vec<FileModel>,
}

#[derive(Deserialize)]
struct FileModel {
    id: String,
    #[serde(rename = "match")]
    matcher: Value,
    prices: Value,
    #[serde(default)]
    price_variants: Vec<FileVariant>,
}

#[derive(Deserialize)]
struct FileVariant {
    #[serde(default)]
    when: BTreeMap<String, Value>,
    prices: BTreeMap<String, Value>,
    constraint: Option<Value>,
}

/// The token prices llmdeck costs with; other prices (audio, images, tool
/// calls) are kept, per 1M tokens or per 1000 calls, for `llmdeck pricing`.
const TEXT: [&str; 4] = [
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "output_mtok",
];

/// A price of the file: a number, or `{base, tiers: [{start, price}]}`.
fn amount(model: &str, what: &str, v: &Value) -> Result<(f64, Option<(u64, f64)>), String> {
    let checked = |x: Option<f64>| -> Result<f64, String> {
        let x = x.ok_or_else(|| format!("model {model:?}: {what} is not a number"))?;
        check_rate(model, what, x)?;
        Ok(x)
    };
    if v.is_number() {
        return Ok((checked(v.as_f64())?, None));
    }
    let base = checked(v["base"].as_f64())?;
    let tier = match v["tiers"].as_array().and_then(|t| t.first()) {
        Some(t) => Some((
            t["start"].as_u64().unwrap_or(u64::MAX),
            checked(t["price"].as_f64())?,
        )),
        None => None,
    };
    Ok((base, tier))
}

/// The prices in force today of a model's `prices`: one set, or a dated list
/// of which the last started one applies (time-of-day prices are not used).
fn in_force<'a>(prices: &'a Value, today: &str) -> &'a Value {
    let Some(list) = prices.as_array() else {
        return prices;
    };
    let active = |c: &Value| {
        c.is_null()
            || c["start_date"]
                .as_str()
                .is_some_and(|d| d <= today && c.get("start_time").is_none())
    };
    list.iter()
        .rev()
        .find(|cp| active(&cp["constraint"]))
        .or(list.first())
        .map(|cp| &cp["prices"])
        .unwrap_or(&Value::Null)
}

fn rates(
    model: &str,
    prices: &BTreeMap<String, Value>,
    base: Option<&Rates>,
) -> Result<(Rates, Option<(u64, Rates)>), String> {
    let mut std = [0i64; 4];
    let mut long = [0i64; 4];
    let mut above = None;
    for (i, key) in TEXT.iter().enumerate() {
        let (b, t) = match prices.get(*key) {
            Some(v) => amount(model, key, v)?,
            None => {
                // Unset: the base rates' (a tier), the input's (cache rates), else free.
                let fallback = match (base, i) {
                    (Some(r), _) => [r.input, r.cached_input, r.cache_write, r.output][i],
                    (None, 1 | 2) => std[0],
                    _ => 0,
                };
                std[i] = fallback;
                long[i] = fallback;
                continue;
            }
        };
        std[i] = nanos(b);
        long[i] = std[i];
        if let Some((start, p)) = t {
            above = Some(start);
            long[i] = nanos(p);
        }
    }
    let r = |a: [i64; 4]| Rates {
        input: a[0],
        cached_input: a[1],
        cache_write: a[2],
        output: a[3],
    };
    Ok((r(std), above.map(|a| (a, r(long)))))
}

fn model(m: FileModel, source: &str, date: &str) -> Result<Model, String> {
    let prices: BTreeMap<String, Value> =
        serde_json::from_value(in_force(&m.prices, date).clone()).unwrap_or_default();
    let (standard, long_context) = rates(&m.id, &prices, None)?;
    let mut tiers = BTreeMap::new();
    for v in m.price_variants {
        let tier = match (v.when.get("service_tier"), v.when.get("processing")) {
            (Some(t), None) | (None, Some(t)) if v.when.len() == 1 => t.as_str(),
            _ => None,
        };
        let started = v
            .constraint
            .as_ref()
            .is_none_or(|c| c["start_date"].as_str().is_some_and(|d| d <= date));
        if let Some(tier) = tier.filter(|_| started) {
            tiers.insert(
                tier.to_string(),
                rates(&m.id, &v.prices, Some(&standard))?.0,
            );
        }
    }
    let mut extras = BTreeMap::new();
    for (k, v) in &prices {
        if !TEXT.contains(&k.as_str()) {
            extras.insert(k.clone(), amount(&m.id, k, v)?.0);
        }
    }
    Ok(Model {
        matcher: Clause::parse(&m.matcher).map_err(|e| format!("model {:?}: {e}", m.id))?,
        id: m.id,
        price: Price {
            rates: standard,
            tiers,
            long_context,
            source: source.to_string(),
            date: date.to_string(),
            extras,
            user: false,
        },
    })
}

impl Catalog {
    /// The embedded catalog, parsed on first use.
    pub fn embedded() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Self::parse(EMBEDDED, "").expect("the embedded catalog parses"))
    }

    /// genai-prices' layout: their list of providers, or our `{source, date, providers}`.
    /// Every price is checked first: a file with one absurd price is refused whole.
    pub fn parse(json: &str, today: &str) -> Result<Self, String> {
        let doc: Value =
            serde_json::from_str(json).map_err(|e| format!("not genai-prices' JSON: {e}"))?;
        let (source, date, list) = match &doc {
            Value::Array(_) => ("genai-prices data.json".to_string(), today.to_string(), doc),
            _ => (
                doc["source"].as_str().unwrap_or("genai-prices").to_string(),
                doc["date"].as_str().unwrap_or(today).to_string(),
                doc["providers"].clone(),
            ),
        };
        let files: Vec<FileProvider> =
            serde_json::from_value(list).map_err(|e| format!("not genai-prices' JSON: {e}"))?;
        let mut providers = Vec::with_capacity(files.len());
        for p in files {
            let models = p
                .models
                .into_iter()
                .map(|m| model(m, &source, &date))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("provider {:?}: {e}", p.id))?;
            providers.push(Provider {
                api: regex::Regex::new(&format!("^(?:{})", p.api_pattern))
                    .map_err(|e| format!("provider {:?}: api_pattern: {e}", p.id))?,
                model_match: p.model_match.as_ref().map(Clause::parse).transpose()?,
                fallback: p.fallback_model_providers,
                id: p.id,
                name: p.name,
                models,
            });
        }
        if providers.iter().all(|p| p.models.is_empty()) {
            return Err("no models with prices in the file".into());
        }
        Ok(Self {
            source,
            date,
            providers,
            memo: Mutex::default(),
            by_url: Mutex::default(),
        })
    }

    /// The provider whose API pattern matches `base_url` (OpenRouter, Groq...).
    pub fn provider_for_url(&self, base_url: &str) -> Option<usize> {
        let mut memo = self.by_url.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = memo.get(base_url) {
            return *found;
        }
        let found = self.providers.iter().position(|p| p.api.is_match(base_url));
        if memo.len() < 256 {
            memo.insert(base_url.to_string(), found);
        }
        found
    }

    pub fn provider_id(&self, id: &str) -> Option<usize> {
        self.providers.iter().position(|p| p.id == id)
    }

    /// A model's price: in `provider`'s list (and its fallbacks) when the endpoint
    /// is known, else with the model's own vendor (`openai/gpt-4o` → OpenAI,
    /// `claude-…` → Anthropic).
    pub fn lookup(&self, provider: Option<usize>, model: &str) -> Option<(&Provider, &Model)> {
        let key = (provider, model.to_lowercase());
        let found = {
            let memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            memo.get(&key).copied()
        };
        let found = match found {
            Some(f) => f,
            None => {
                let f = self.scan(provider, &key.1);
                let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
                // Held to a bound: model names come from servers and users.
                if memo.len() < 4096 {
                    memo.insert(key, f);
                }
                f
            }
        };
        found.map(|(p, m)| (&self.providers[p], &self.providers[p].models[m]))
    }

    fn scan(&self, provider: Option<usize>, model: &str) -> Option<(usize, usize)> {
        let in_list = |p: usize, name: &str| {
            let m = self.providers[p]
                .models
                .iter()
                .position(|m| m.matcher.matches(name))?;
            Some((p, m))
        };
        if let Some(p) = provider {
            if let Some(found) = in_list(p, model) {
                return Some(found);
            }
            for id in &self.providers[p].fallback {
                if let Some(found) = self.provider_id(id).and_then(|f| in_list(f, model)) {
                    return Some(found);
                }
            }
        }
        // The vendor: named before a slash, else the provider whose names it has.
        if let Some((vendor, name)) = model.split_once('/')
            && let Some(found) = self.provider_id(vendor).and_then(|v| in_list(v, name))
        {
            return Some(found);
        }
        let bare = model.rsplit('/').next().unwrap_or(model);
        self.providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.model_match.as_ref().is_some_and(|c| c.matches(bare)))
            .find_map(|(i, _)| in_list(i, bare))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookahead_becomes_a_negative_clause() {
        assert_eq!(lookahead("^(?!.*-tts(?:$|-))"), Some((".*-tts(?:$|-)", "")));
        assert_eq!(
            lookahead("^(?![^/]+/)(?:a|b)x"),
            Some(("[^/]+/", "(?:a|b)x"))
        );
        assert_eq!(lookahead("^gpt-4o"), None);
        let c = Clause::parse(&serde_json::json!({"regex": "^(?![^/]+/)mi(?:s|x)tral"})).unwrap();
        assert!(c.matches("mistral-large") && !c.matches("mistralai/mistral-large"));
    }

    #[test]
    fn a_genai_prices_file_with_an_absurd_price_is_refused_whole() {
        let file = |price: &str| {
            format!(
                r#"[{{"id":"p","name":"P","api_pattern":"https://p\\.example","models":[
                {{"id":"ok","match":{{"equals":"ok"}},"prices":{{"input_mtok":1,"output_mtok":2}}}},
                {{"id":"evil","match":{{"equals":"evil"}},"prices":{{"input_mtok":{price},"output_mtok":1}}}}]}}]"#
            )
        };
        let c = Catalog::parse(&file("3"), "2026-12-02").unwrap();
        let p = c.provider_for_url("https://p.example/v1");
        assert_eq!(c.lookup(p, "OK").unwrap().1.price.rates.output, 2000);
        for bad in [
            "-1",
            "20000",
            "{\"base\": 1, \"tiers\": [{\"start\": 10, \"price\": -3}]}",
        ] {
            let err = Catalog::parse(&file(bad), "2026-12-02").err().unwrap();
            assert!(err.contains("\"evil\""), "{bad}: {err}");
        }
        assert!(Catalog::parse("{\"x\": 1}", "").is_err());
    }

    #[test]
    fn the_embedded_catalog_parses_with_its_providers() {
        let c = Catalog::embedded();
        assert!(c.providers.len() >= 40, "{}", c.providers.len());
        let models: usize = c.providers.iter().map(|p| p.models.len()).sum();
        assert!(models > 2000, "{models}");
        for id in [
            "openai",
            "openrouter",
            "groq",
            "together",
            "fireworks",
            "mistral",
            "deepseek",
            "azure",
        ] {
            assert!(c.provider_id(id).is_some(), "{id}");
        }
    }
}
