//! The price catalog: pydantic's genai-prices data (MIT), about 2,300 models of
//! about 50 providers, each provider with the URL pattern of its API. Embedded
//! as `catalog.json` (made by `tools/genai_prices.py`, in genai-prices' own
//! layout) and read on the first lookup, never before the first frame: then
//! only the providers' heads; a provider's models when it is first asked, its
//! patterns when first matched (an idle console holds none of it).
//! `llmdeck pricing import` reads the same layout (their `prices/data.json`),
//! checked whole when it is imported.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::prices::{Price, Rates, check_rate, nanos};

/// `catalog.json` as build.rs splits it: the providers' heads (their models
/// left out), and their models, one provider's after another (`MODELS_AT`).
const HEADS: &str = include_str!(concat!(env!("OUT_DIR"), "/catalog_heads.json"));
const MODELS: &str = include_str!(concat!(env!("OUT_DIR"), "/catalog_models.json"));
include!(concat!(env!("OUT_DIR"), "/catalog_models.rs"));

/// A model-name test, as genai-prices writes it (names are compared lower-cased).
#[derive(Debug)]
enum Clause {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(Lazy),
    /// genai-prices' `^(?!X)`: the regex crate has no lookahead.
    NotRegex(Lazy),
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

    fn parse(v: &FileClause, check: bool) -> Result<Self, String> {
        let list = |l: &[FileClause]| {
            l.iter()
                .map(|c| Self::parse(c, check))
                .collect::<Result<Vec<_>, _>>()
        };
        if let Some(l) = &v.or {
            return Ok(Self::Any(list(l)?));
        }
        if let Some(l) = &v.and {
            return Ok(Self::All(list(l)?));
        }
        if let Some(re) = &v.regex {
            let compile = |re: &str| Lazy::new(re.to_string(), check);
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
        let text = |t: &Option<String>| t.as_deref().map(str::to_lowercase);
        None.or_else(|| text(&v.equals).map(Self::Equals))
            .or_else(|| text(&v.starts_with).map(Self::StartsWith))
            .or_else(|| text(&v.ends_with).map(Self::EndsWith))
            .or_else(|| text(&v.contains).map(Self::Contains))
            .ok_or_else(|| {
                "a match clause with none of or, and, regex, equals, starts_with, ends_with, contains"
                    .to_string()
            })
    }
}

/// A regex compiled on its first use: compiled, the catalog's 120 patterns held
/// megabytes, nearly all of them for providers and models never asked about.
/// An imported file's are checked when it is read (one bad pattern refuses the
/// file whole); the embedded file's are checked by a test.
#[derive(Debug)]
struct Lazy {
    pattern: String,
    /// What the pattern matches when it is a plain anchored string, as most
    /// providers' URL patterns are: no regex at all.
    prefix: Option<String>,
    compiled: OnceLock<regex_lite::Regex>,
}

impl Lazy {
    fn new(pattern: String, check: bool) -> Result<Self, String> {
        if check {
            regex_lite::Regex::new(&pattern).map_err(|e| format!("regex {pattern:?}: {e}"))?;
        }
        Ok(Self {
            prefix: plain_prefix(&pattern),
            pattern,
            compiled: OnceLock::new(),
        })
    }

    fn is_match(&self, text: &str) -> bool {
        match &self.prefix {
            Some(p) => text.starts_with(p.as_str()),
            None => self.get().is_match(text),
        }
    }

    fn get(&self) -> &regex_lite::Regex {
        self.compiled.get_or_init(|| {
            // Unchecked only in the embedded file, whose patterns a test compiles.
            regex_lite::Regex::new(&self.pattern)
                .unwrap_or_else(|_| regex_lite::Regex::new("$^").expect("a valid pattern"))
        })
    }
}

/// `^abc` or `^(?:abc)` with only escaped punctuation inside: the string it
/// starts with.
fn plain_prefix(pattern: &str) -> Option<String> {
    let body = pattern.strip_prefix('^')?;
    let body = match body.strip_prefix("(?:") {
        Some(b) => b.strip_suffix(')')?,
        None => body,
    };
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => out.push(e),
                _ => return None,
            },
            c if c.is_alphanumeric() || "-_/:@%=,;~'\"<>!&#".contains(c) => out.push(c),
            _ => return None,
        }
    }
    Some(out)
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
    api: Lazy,
    model_match: Option<Clause>,
    fallback: Vec<String>,
    /// The models as the file writes them, read on the provider's first lookup:
    /// most sessions ask one or two of about 50 providers.
    raw: Raw,
    models: OnceLock<Vec<Model>>,
    source: String,
    date: String,
}

/// A provider's models unread: in place in the embedded text, else a copy.
enum Raw {
    Embedded(&'static str),
    Copied(Box<RawValue>),
}

impl Raw {
    fn get(&self) -> &str {
        match self {
            Self::Embedded(r) => r,
            Self::Copied(r) => r.get(),
        }
    }
}

impl Provider {
    pub fn models(&self) -> &[Model] {
        // The embedded file is read here unchecked (a test reads it all); an
        // imported one was read whole, and refused on any error, by `parse`.
        self.models
            .get_or_init(|| self.read_models(false).unwrap_or_default())
    }

    fn read_models(&self, check: bool) -> Result<Vec<Model>, String> {
        let files: Vec<FileModel> = serde_json::from_str(self.raw.get())
            .map_err(|e| format!("provider {:?}: {e}", self.id))?;
        files
            .into_iter()
            .map(|m| model(m, &self.source, &self.date, check))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("provider {:?}: {e}", self.id))
    }
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

// The file's shapes, read straight into types: read through `serde_json::Value`
// first, the 441 KB catalog took about 12 MB that malloc kept after it was freed.
#[derive(Deserialize)]
struct FileDoc<'a> {
    source: Option<String>,
    date: Option<String>,
    #[serde(borrow)]
    providers: Vec<FileProvider<'a>>,
}

#[derive(Deserialize)]
struct FileProvider<'a> {
    id: String,
    name: String,
    api_pattern: String,
    model_match: Option<FileClause>,
    #[serde(default)]
    fallback_model_providers: Vec<String>,
    #[serde(borrow)]
    models: &'a RawValue,
}

#[derive(Deserialize)]
struct FileModel {
    id: String,
    #[serde(rename = "match")]
    matcher: FileClause,
    prices: FilePrices,
    #[serde(default)]
    price_variants: Vec<FileVariant>,
}

#[derive(Deserialize, Default)]
struct FileClause {
    or: Option<Vec<FileClause>>,
    and: Option<Vec<FileClause>>,
    regex: Option<String>,
    equals: Option<String>,
    starts_with: Option<String>,
    ends_with: Option<String>,
    contains: Option<String>,
}

type FileRates = BTreeMap<String, Amount>;

/// One set of prices, or a dated list of which the last started one applies.
#[derive(Deserialize)]
#[serde(untagged)]
enum FilePrices {
    One(FileRates),
    Dated(Vec<FileDated>),
}

#[derive(Deserialize)]
struct FileDated {
    constraint: Option<FileConstraint>,
    prices: FileRates,
}

#[derive(Deserialize)]
struct FileConstraint {
    start_date: Option<String>,
    start_time: Option<serde::de::IgnoredAny>,
}

/// A price: a number, or `{base, tiers: [{start, price}]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Flat(f64),
    Tiered {
        base: f64,
        #[serde(default)]
        tiers: Vec<Tier>,
    },
}

#[derive(Deserialize)]
struct Tier {
    start: Option<u64>,
    price: f64,
}

#[derive(Deserialize)]
struct FileVariant {
    #[serde(default)]
    when: BTreeMap<String, Value>,
    prices: FileRates,
    constraint: Option<FileConstraint>,
}

/// The token prices llmdeck costs with; other prices (audio, images, tool
/// calls) are kept, per 1M tokens or per 1000 calls, for `llmdeck pricing`.
const TEXT: [&str; 4] = [
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "output_mtok",
];

/// A price's base and its tiers (start, price), each checked.
fn amount(model: &str, what: &str, v: &Amount) -> Result<(f64, Vec<(u64, f64)>), String> {
    let checked = |x: f64| check_rate(model, what, x).map(|()| x);
    Ok(match v {
        Amount::Flat(x) => (checked(*x)?, Vec::new()),
        Amount::Tiered { base, tiers } => {
            let mut t = Vec::with_capacity(tiers.len());
            for tier in tiers {
                t.push((tier.start.unwrap_or(u64::MAX), checked(tier.price)?));
            }
            t.sort_by_key(|t| t.0);
            (checked(*base)?, t)
        }
    })
}

fn started(c: &Option<FileConstraint>, today: &str) -> bool {
    c.as_ref().is_none_or(|c| {
        c.start_date.as_deref().is_some_and(|d| d <= today) && c.start_time.is_none()
    })
}

/// The prices in force today: the last started of a dated list (time-of-day
/// prices are not used).
fn in_force(prices: FilePrices, today: &str) -> FileRates {
    match prices {
        FilePrices::One(p) => p,
        FilePrices::Dated(mut list) => {
            let pick = list.iter().rposition(|d| started(&d.constraint, today));
            match pick {
                Some(i) => list.swap_remove(i).prices,
                None if !list.is_empty() => list.swap_remove(0).prices,
                None => FileRates::new(),
            }
        }
    }
}

/// The standard rates and the long-context ones, each applying to the whole
/// request above its input-token threshold (ascending). A price unset is the
/// base rates' (for a service tier), else the input's (cache rates), else free.
fn rates(
    model: &str,
    prices: &FileRates,
    base: Option<&Rates>,
) -> Result<(Rates, Vec<(u64, Rates)>), String> {
    let mut read = Vec::with_capacity(TEXT.len());
    for key in TEXT {
        read.push(match prices.get(key) {
            Some(v) => Some(amount(model, key, v)?),
            None => None,
        });
    }
    let mut starts: Vec<u64> = read
        .iter()
        .flatten()
        .flat_map(|(_, tiers)| tiers.iter().map(|t| t.0))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    // The rates at `above` input tokens (none: the standard ones).
    let at = |above: Option<u64>| {
        let mut r = [0i64; 4];
        for (i, price) in read.iter().enumerate() {
            r[i] = match (price, base, i) {
                (Some((b, tiers)), ..) => {
                    let tier = tiers.iter().rev().find(|t| above.is_some_and(|a| t.0 <= a));
                    nanos(tier.map_or(*b, |t| t.1))
                }
                (None, Some(base), _) => {
                    [base.input, base.cached_input, base.cache_write, base.output][i]
                }
                (None, None, 1 | 2) => r[0],
                _ => 0,
            };
        }
        Rates {
            input: r[0],
            cached_input: r[1],
            cache_write: r[2],
            output: r[3],
        }
    };
    let long = starts.iter().map(|&s| (s, at(Some(s)))).collect();
    Ok((at(None), long))
}

fn model(m: FileModel, source: &str, date: &str, check: bool) -> Result<Model, String> {
    let prices = in_force(m.prices, date);
    let (standard, long_context) = rates(&m.id, &prices, None)?;
    let mut tiers = BTreeMap::new();
    for v in m.price_variants {
        let tier = match (v.when.get("service_tier"), v.when.get("processing")) {
            (Some(t), None) | (None, Some(t)) if v.when.len() == 1 => t.as_str(),
            _ => None,
        };
        if let Some(tier) = tier.filter(|_| started(&v.constraint, date)) {
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
        matcher: Clause::parse(&m.matcher, check).map_err(|e| format!("model {:?}: {e}", m.id))?,
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
        CATALOG.get_or_init(|| {
            let catalog = Self::read_embedded();
            // A lookup later reads one provider's models, not the heads again.
            crate::rodata::let_go(HEADS.as_bytes());
            catalog
        })
    }

    /// The embedded file read afresh: the providers now, each one's models on
    /// its first lookup, in place (`embedded` keeps one for the process).
    pub fn read_embedded() -> Self {
        Self::read(HEADS, "", false, |i, _| {
            let (from, to) = MODELS_AT[i];
            Raw::Embedded(&MODELS[from..to])
        })
        .expect("the embedded catalog parses")
    }

    /// genai-prices' layout: their list of providers, or our `{source, date, providers}`.
    /// Every price is checked first: a file with one absurd price is refused whole.
    pub fn parse(json: &str, today: &str) -> Result<Self, String> {
        Self::read(json, today, true, |_, r| Raw::Copied(r.to_owned()))
    }

    /// Read with `check`, every model and pattern now; without, each provider's
    /// models on first use.
    fn read<'a>(
        json: &'a str,
        today: &str,
        check: bool,
        keep: impl Fn(usize, &'a RawValue) -> Raw,
    ) -> Result<Self, String> {
        let bad = |e: serde_json::Error| format!("not genai-prices' JSON: {e}");
        let (source, date, files): (_, _, Vec<FileProvider>) = if json.trim_start().starts_with('[')
        {
            let list = serde_json::from_str(json).map_err(bad)?;
            (
                "genai-prices data.json".to_string(),
                today.to_string(),
                list,
            )
        } else {
            let doc: FileDoc = serde_json::from_str(json).map_err(bad)?;
            (
                doc.source.unwrap_or_else(|| "genai-prices".into()),
                doc.date.unwrap_or_else(|| today.into()),
                doc.providers,
            )
        };
        let mut providers = Vec::with_capacity(files.len());
        for (i, p) in files.into_iter().enumerate() {
            let provider = Provider {
                api: Lazy::new(format!("^(?:{})", p.api_pattern), check)
                    .map_err(|e| format!("provider {:?}: api_pattern: {e}", p.id))?,
                model_match: p
                    .model_match
                    .as_ref()
                    .map(|c| Clause::parse(c, check))
                    .transpose()?,
                fallback: p.fallback_model_providers,
                id: p.id,
                name: p.name,
                raw: keep(i, p.models),
                models: OnceLock::new(),
                source: source.clone(),
                date: date.clone(),
            };
            if check {
                let models = provider.read_models(true)?;
                let _ = provider.models.set(models);
            }
            providers.push(provider);
        }
        // Cheap without reading the models: an empty list is two bytes.
        if providers.iter().all(|p| p.raw.get().trim() == "[]") {
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
        found.map(|(p, m)| (&self.providers[p], &self.providers[p].models()[m]))
    }

    fn scan(&self, provider: Option<usize>, model: &str) -> Option<(usize, usize)> {
        let in_list = |p: usize, name: &str| {
            let m = self.providers[p]
                .models()
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

    const EMBEDDED: &str = include_str!("catalog.json");

    /// The catalog as build.rs split it holds the file's providers, in its
    /// order, each with its heads and its models exactly as the file has them.
    #[test]
    fn the_split_catalog_is_the_file() {
        let split = Catalog::read_embedded();
        let whole: FileDoc = serde_json::from_str(EMBEDDED).unwrap();
        assert_eq!(split.providers.len(), whole.providers.len());
        assert_eq!(MODELS_AT.len(), whole.providers.len());
        for (s, w) in split.providers.iter().zip(&whole.providers) {
            assert_eq!((&s.id, &s.name), (&w.id, &w.name));
            assert_eq!(s.fallback, w.fallback_model_providers, "{}", s.id);
            assert_eq!(s.raw.get(), w.models.get(), "{}", s.id);
        }
        assert_eq!(Some(split.source), whole.source);
        assert_eq!(Some(split.date), whole.date);
    }

    #[test]
    fn a_lookahead_becomes_a_negative_clause() {
        assert_eq!(lookahead("^(?!.*-tts(?:$|-))"), Some((".*-tts(?:$|-)", "")));
        assert_eq!(
            lookahead("^(?![^/]+/)(?:a|b)x"),
            Some(("[^/]+/", "(?:a|b)x"))
        );
        assert_eq!(lookahead("^gpt-4o"), None);
        let c = Clause::parse(
            &FileClause {
                regex: Some("^(?![^/]+/)mi(?:s|x)tral".into()),
                ..Default::default()
            },
            true,
        )
        .unwrap();
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
    fn every_long_context_tier_applies_above_its_threshold() {
        // As OpenRouter's qwen3.7-flash: two tiers on input and output alike,
        // cache reads unset (the tier's input rate).
        let c = Catalog::parse(
            r#"[{"id":"p","name":"P","api_pattern":"https://p\\.example","models":[
            {"id":"m","match":{"equals":"m"},"prices":{
              "input_mtok":{"base":0.03,"tiers":[{"start":256000,"price":0.2},{"start":32000,"price":0.1}]},
              "output_mtok":{"base":0.13,"tiers":[{"start":32000,"price":0.4},{"start":256000,"price":0.8}]}}}]}]"#,
            "2026-12-02",
        )
        .unwrap();
        let p = c.provider_for_url("https://p.example/v1");
        let price = &c.lookup(p, "m").unwrap().1.price;
        let at = |input| {
            let r = price.rates_for(input, None);
            (r.input, r.cached_input, r.output)
        };
        assert_eq!(at(32_000), (30, 30, 130));
        assert_eq!(at(32_001), (100, 100, 400));
        assert_eq!(at(256_000), (100, 100, 400));
        assert_eq!(at(256_001), (200, 200, 800));
    }

    #[test]
    fn a_plain_pattern_needs_no_regex() {
        assert_eq!(
            plain_prefix("^(?:https://api\\.groq\\.com)").as_deref(),
            Some("https://api.groq.com")
        );
        for not_plain in [
            "^(?:https://[^/]+\\.modal\\.run)",
            "https://x",
            "^a.b",
            "^a\\d",
        ] {
            assert_eq!(plain_prefix(not_plain), None, "{not_plain}");
        }
    }

    #[test]
    fn a_lookup_reads_only_the_provider_it_asks() {
        let c = Catalog::read_embedded();
        let read = |c: &Catalog| {
            c.providers
                .iter()
                .filter(|p| p.models.get().is_some())
                .count()
        };
        assert_eq!(read(&c), 0, "nothing is read before a lookup");
        let openai = c.provider_for_url("https://api.openai.com/v1");
        assert_eq!(c.lookup(openai, "gpt-4o").unwrap().1.id, "gpt-4o");
        assert_eq!(read(&c), 1);
        let azure = c.provider_for_url("https://myco.openai.azure.com/openai");
        assert_eq!(c.providers[azure.unwrap()].id, "azure");
    }

    #[test]
    fn the_embedded_catalog_parses_with_its_providers() {
        // Checked whole, as an imported file is: every price and every pattern.
        Catalog::parse(EMBEDDED, "").unwrap();
        let c = Catalog::embedded();
        assert!(c.providers.len() >= 40, "{}", c.providers.len());
        let models: usize = c.providers.iter().map(|p| p.models().len()).sum();
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
