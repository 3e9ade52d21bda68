//! The price table: embedded OpenAI prices, overridden by the user's
//! `prices.toml`. Rates are held as integer nano-dollars per token so cost
//! arithmetic never drifts; a model with no price is unpriced, never $0.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chat::event::Usage;
use crate::config::files::{self, FileError};

const EMBEDDED: &str = include_str!("prices.toml");

/// The service tier of answers given through the Batch API.
pub const BATCH: &str = "batch";

/// Rates in nano-dollars per token (= USD per 1M tokens × 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rates {
    pub input: i64,
    pub cached_input: i64,
    pub cache_write: i64,
    pub output: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub rates: Rates,
    /// Rates of other processing tiers (batch, flex, priority), where known.
    pub tiers: BTreeMap<String, Rates>,
    /// Higher rates for the whole request above each many input tokens (ascending).
    pub long_context: Vec<(u64, Rates)>,
    pub source: String,
    pub date: String,
    /// Other prices the catalog gives (audio and image tokens per 1M, tool calls
    /// per 1000), by genai-prices' names: audio tokens are costed with them;
    /// the others are shown.
    pub extras: BTreeMap<String, f64>,
    /// From the user's files (prices.toml, an import): it overrides the catalog.
    #[serde(skip)]
    pub user: bool,
}

#[derive(Clone, Default)]
pub struct PriceTable {
    /// The embedded table lies under `models` (see [`embedded_models`]).
    embedded: bool,
    /// Prices from files (imports, the user's), over the embedded ones.
    models: BTreeMap<String, Price>,
    /// A genai-prices file from `llmdeck pricing import`, used instead of the
    /// embedded catalog; read and parsed on first use, like the embedded one.
    pub(super) catalog_file: Option<std::path::PathBuf>,
    pub(super) imported:
        std::sync::Arc<std::sync::OnceLock<Option<Result<super::catalog::Catalog, String>>>>,
}

impl std::fmt::Debug for PriceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PriceTable")
            .field("embedded", &self.embedded)
            .field("models", &self.models.len())
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    date: Option<String>,
    source: Option<String>,
    #[serde(default)]
    models: BTreeMap<String, RateFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateFile {
    input: f64,
    cached_input: Option<f64>,
    cache_write: Option<f64>,
    output: f64,
    long_context: Option<LongContextFile>,
    #[serde(default)]
    batch: Option<TierFile>,
    #[serde(default)]
    flex: Option<TierFile>,
    #[serde(default)]
    priority: Option<TierFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    input: f64,
    cached_input: Option<f64>,
    output: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LongContextFile {
    above_input_tokens: u64,
    input: f64,
    cached_input: Option<f64>,
    output: f64,
}

/// The most a price file may ask per 1M tokens: no model costs near this, so
/// a larger figure is a typo or a hostile file, not a price.
pub const MAX_USD_PER_MILLION: f64 = 10_000.0;

/// The most one request can cost, in micro-dollars ($1M). A real request stays far
/// below it (10M tokens at the largest price is $100,000), and millions of rows
/// at the cap still sum inside an i64, so aggregates never overflow.
pub const MAX_REQUEST_MICROS: i64 = 1_000_000_000_000;

impl RateFile {
    fn check(&self, model: &str) -> Result<(), String> {
        let mut rates = vec![
            ("input", Some(self.input)),
            ("cached_input", self.cached_input),
            ("cache_write", self.cache_write),
            ("output", Some(self.output)),
        ];
        if let Some(l) = &self.long_context {
            rates.extend([
                ("long_context.input", Some(l.input)),
                ("long_context.cached_input", l.cached_input),
                ("long_context.output", Some(l.output)),
            ]);
        }
        for (tier, t) in [
            ("batch", &self.batch),
            ("flex", &self.flex),
            ("priority", &self.priority),
        ] {
            if let Some(t) = t {
                rates.extend([
                    (tier, Some(t.input)),
                    (tier, t.cached_input),
                    (tier, Some(t.output)),
                ]);
            }
        }
        rates
            .into_iter()
            .filter_map(|(what, v)| Some((what, v?)))
            .try_for_each(|(what, v)| check_rate(model, what, v))
    }
}

/// USD per 1M tokens → nano-dollars per token, rounded once at load.
pub(super) fn nanos(usd_per_million: f64) -> i64 {
    (usd_per_million * 1000.0).round() as i64
}

/// A rate a file gives, checked before it can price anything.
pub(super) fn check_rate(model: &str, what: &str, usd_per_million: f64) -> Result<(), String> {
    if !usd_per_million.is_finite() {
        return Err(format!("model {model:?}: {what} price is not a number"));
    }
    if usd_per_million < 0.0 {
        return Err(format!(
            "model {model:?}: {what} price {usd_per_million} is negative"
        ));
    }
    if usd_per_million > MAX_USD_PER_MILLION {
        return Err(format!(
            "model {model:?}: {what} price {usd_per_million} per 1M tokens is above ${MAX_USD_PER_MILLION} and cannot be right"
        ));
    }
    Ok(())
}

impl PriceTable {
    pub fn embedded() -> Self {
        Self {
            embedded: true,
            ..Self::default()
        }
    }

    /// The embedded table with the given files laid over it, in order (a missing
    /// file is skipped; a broken one is reported and the rest still apply).
    pub fn load(files: &[&Path]) -> (Self, Vec<FileError>) {
        let mut table = Self::embedded();
        let mut errors = Vec::new();
        for file in files {
            let result = files::read_optional(file).and_then(|text| {
                text.map_or(Ok(()), |t| {
                    table.merge(&t, &file.display().to_string(), true)
                })
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        (table, errors)
    }

    fn merge(&mut self, text: &str, origin: &str, user: bool) -> Result<(), FileError> {
        merge_into(&mut self.models, text, origin, user)
    }

    /// Lays the user's price file `text` over the table (checked whole first).
    pub fn merge_user(&mut self, text: &str, origin: &str) -> Result<(), FileError> {
        self.merge(text, origin, true)
    }

    /// Whether `model` has a price of its own here (not through a family or prefix).
    pub fn has_own(&self, model: &str) -> bool {
        self.get(model).is_some()
    }

    /// Every priced model, by name: the files' prices over the embedded ones.
    pub fn models(&self) -> impl Iterator<Item = (&String, &Price)> {
        let mut all: BTreeMap<&String, &Price> = BTreeMap::new();
        if self.embedded {
            all.extend(embedded_models());
        }
        all.extend(&self.models);
        all.into_iter()
    }

    /// The price of a model id, resolving `openai/` prefixes and date suffixes.
    pub fn lookup(&self, model: &str) -> Option<&Price> {
        let bare = model.rsplit('/').next().unwrap_or(model);
        [model, bare, strip_date(bare)]
            .into_iter()
            .find_map(|name| self.get(name))
    }

    /// `name`'s own price: a file's, else the embedded one.
    fn get(&self, name: &str) -> Option<&Price> {
        self.models
            .get(name)
            .or_else(|| self.embedded.then(embedded_models)?.get(name))
    }

    /// Cost of one request in micro-dollars, or `None` when the model is unpriced.
    pub fn cost_micros(&self, model: &str, usage: &Usage) -> Option<i64> {
        let price = self.lookup(model)?;
        Some(cost_micros(price, usage))
    }
}

/// The embedded table, parsed on first use: no price is asked before the
/// console's first frame, and parsing it was a tenth of the time to that frame.
fn embedded_models() -> &'static BTreeMap<String, Price> {
    static MODELS: std::sync::OnceLock<BTreeMap<String, Price>> = std::sync::OnceLock::new();
    MODELS.get_or_init(|| {
        let mut models = BTreeMap::new();
        merge_into(&mut models, EMBEDDED, "embedded", false).expect("embedded price table parses");
        models
    })
}

/// Lays the price file `text` over `models`, checked whole first.
fn merge_into(
    models: &mut BTreeMap<String, Price>,
    text: &str,
    origin: &str,
    user: bool,
) -> Result<(), FileError> {
    let file: TableFile = files::parse_toml(Path::new(origin), text)?;

    // Every rate is checked before any is used: a file is taken whole or not at all.
    for (model, r) in &file.models {
        r.check(model).map_err(|message| FileError::Parse {
            path: origin.into(),
            line: String::new(),
            message,
        })?;
    }
    let date = file.date.unwrap_or_default();
    let source = file.source.unwrap_or_else(|| origin.to_string());
    for (model, r) in file.models {
        let rates = Rates {
            input: nanos(r.input),
            cached_input: nanos(r.cached_input.unwrap_or(r.input)),
            cache_write: nanos(r.cache_write.unwrap_or(r.input)),
            output: nanos(r.output),
        };
        let long_context = r
            .long_context
            .into_iter()
            .map(|l| {
                (
                    l.above_input_tokens,
                    Rates {
                        input: nanos(l.input),
                        cached_input: nanos(l.cached_input.unwrap_or(l.input)),
                        cache_write: nanos(l.input),
                        output: nanos(l.output),
                    },
                )
            })
            .collect();
        let tiers = [
            ("batch", &r.batch),
            ("flex", &r.flex),
            ("priority", &r.priority),
        ]
        .into_iter()
        .filter_map(|(name, t)| {
            let t = t.as_ref()?;
            Some((
                name.to_string(),
                Rates {
                    input: nanos(t.input),
                    cached_input: nanos(t.cached_input.unwrap_or(t.input)),
                    cache_write: nanos(t.input),
                    output: nanos(t.output),
                },
            ))
        })
        .collect();
        models.insert(
            model,
            Price {
                rates,
                tiers,
                long_context,
                source: source.clone(),
                date: date.clone(),
                extras: BTreeMap::new(),
                user,
            },
        );
    }
    Ok(())
}

impl Price {
    /// The rates that apply: the tier's when the server named a known one,
    /// else the long-context tier above its threshold, else the standard ones.
    /// A batch answer of a model with no batch price costs half of those
    /// (OpenAI's Batch API discount).
    pub fn rates_for(&self, input_tokens: u64, service_tier: Option<&str>) -> Rates {
        if let Some(r) = service_tier.and_then(|t| self.tiers.get(t)) {
            return *r;
        }
        let rates = self
            .long_context
            .iter()
            .rev()
            .find(|(threshold, _)| input_tokens > *threshold)
            .map_or(self.rates, |(_, long)| *long);
        if service_tier == Some(BATCH) {
            Rates {
                input: rates.input / 2,
                cached_input: rates.cached_input / 2,
                cache_write: rates.cache_write / 2,
                output: rates.output / 2,
            }
        } else {
            rates
        }
    }

    /// Whether a batch answer is priced at this model's own batch rates (else at half its standard ones).
    pub fn has_batch_rates(&self) -> bool {
        self.tiers.contains_key(BATCH)
    }
}

/// Cost at standard rates; see `cost_micros_in`.
pub fn cost_micros(price: &Price, usage: &Usage) -> i64 {
    cost_micros_in(price, usage, None)
}

/// (input − cached − cache_write)·input + cached·cached_rate + cache_write·write_rate + output·output_rate,
/// at the rates of `service_tier`; audio tokens among the uncached input and the
/// output at the audio rates when the price has them. Reasoning tokens are part of output.
pub fn cost_micros_in(price: &Price, usage: &Usage, service_tier: Option<&str>) -> i64 {
    let rates = price.rates_for(usage.input, service_tier);
    // Cached, written and audio tokens are part of the input (audio of the output):
    // a server that counts more of them than it was sent is held to what it was sent.
    let cached = usage.cached_input.min(usage.input);
    let written = usage.cache_write.min(usage.input - cached);
    let audio_in = usage.input_audio.min(usage.input - cached - written);
    let uncached = usage.input - cached - written - audio_in;
    let audio_out = usage.output_audio.min(usage.output);
    let audio = |key: &str, text: i64| price.extras.get(key).map_or(text, |r| nanos(*r));
    // In i128: token counts come from the server, and no u64 count times a
    // checked rate overflows it; the result is then held to the cap.
    let term = |tokens: u64, rate: i64| tokens as i128 * rate as i128;
    let nanos = term(uncached, rates.input)
        + term(cached, rates.cached_input)
        + term(written, rates.cache_write)
        + term(audio_in, audio("input_audio_mtok", rates.input))
        + term(usage.output - audio_out, rates.output)
        + term(audio_out, audio("output_audio_mtok", rates.output));
    // Round half up to whole micro-dollars.
    let micros = (nanos + 500).div_euclid(1000);
    micros.clamp(0, MAX_REQUEST_MICROS as i128) as i64
}

/// `gpt-4o-2024-08-06` → `gpt-4o`; `o3-mini-20250131` → `o3-mini`.
fn strip_date(model: &str) -> &str {
    let bytes = model.as_bytes();
    let n = bytes.len();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if n > 11 && bytes[n - 11] == b'-' && bytes[n - 3] == b'-' && bytes[n - 6] == b'-' {
        let d = &bytes[n - 10..];
        if digits(&d[..4]) && digits(&d[5..7]) && digits(&d[8..]) {
            return &model[..n - 11];
        }
    }
    if n > 9 && bytes[n - 9] == b'-' && digits(&bytes[n - 8..]) {
        return &model[..n - 9];
    }
    model
}

/// Turns litellm's `model_prices_and_context_window.json` into our TOML layout:
/// OpenAI's chat and responses models, per-token USD turned into per-1M.
pub fn import_litellm(json: &str, date: &str) -> Result<(String, usize), String> {
    let all: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| format!("not litellm's price JSON: {e}"))?;
    let mut out = format!(
        "# Imported from litellm's model_prices_and_context_window.json by `llmdeck pricing import`.\n\
         # Regenerated on every import; put your own prices in prices.toml, which wins.\n\
         date = \"{date}\"\nsource = \"litellm model_prices_and_context_window.json\"\n"
    );
    let mut n = 0;
    for (model, v) in all {
        let provider = v["litellm_provider"].as_str().unwrap_or("");
        let mode = v["mode"].as_str().unwrap_or("");
        let (Some(input), Some(output)) = (
            v["input_cost_per_token"].as_f64(),
            v["output_cost_per_token"].as_f64(),
        ) else {
            continue;
        };
        if provider != "openai" || !matches!(mode, "chat" | "responses") || model.contains('/') {
            continue;
        }
        let cached = v["cache_read_input_token_cost"].as_f64();
        // An absurd figure refuses the whole import, naming the model, rather than price anything.
        for (what, rate) in [
            ("input", Some(input)),
            ("output", Some(output)),
            ("cached_input", cached),
        ] {
            if let Some(rate) = rate {
                check_rate(&model, what, rate * 1e6)?;
            }
        }
        out.push_str(&format!(
            "\n[models.{model:?}]\ninput = {}\noutput = {}\n",
            input * 1e6,
            output * 1e6
        ));
        if let Some(cached) = cached {
            out.push_str(&format!("cached_input = {}\n", cached * 1e6));
        }
        n += 1;
    }
    if n == 0 {
        return Err("no OpenAI chat models with prices found in the file".into());
    }
    Ok((out, n))
}

/// "$0.000525", "$0.10", "$12.34": enough digits to be honest about small amounts.
pub fn format_usd(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    if m >= 10_000_000 {
        return format!("{sign}${}.{:02}", m / 1_000_000, (m % 1_000_000) / 10_000);
    }
    let frac = format!("{:06}", m % 1_000_000);
    format!(
        "{sign}${}.{:0<2}",
        m / 1_000_000,
        frac.trim_end_matches('0')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, cached: u64, output: u64) -> Usage {
        Usage {
            input,
            cached_input: cached,
            output,
            ..Usage::default()
        }
    }

    #[test]
    fn costs_are_exact_integers() {
        let t = PriceTable::embedded();
        // gpt-4o-mini: 1000 uncached × 0.15 + 1000 cached × 0.075 + 500 × 0.60 per 1M
        assert_eq!(
            t.cost_micros("gpt-4o-mini", &usage(2000, 1000, 500)),
            Some(525)
        );
        // A million gpt-4o output tokens cost exactly $10.
        assert_eq!(
            t.cost_micros("gpt-4o", &usage(0, 0, 1_000_000)),
            Some(10_000_000)
        );
    }

    #[test]
    fn dated_ids_resolve_and_unknown_models_are_unpriced() {
        let t = PriceTable::embedded();
        assert!(t.lookup("gpt-4o-2024-08-06").is_some());
        assert_eq!(t.lookup("openai/gpt-4.1-mini").unwrap().rates.input, 400);
        assert_eq!(t.cost_micros("llama3.2:3b", &usage(10, 0, 10)), None);
    }

    #[test]
    fn a_file_price_wins_over_the_embedded_one_at_every_step_of_a_lookup() {
        let mut t = PriceTable::embedded();
        let embedded_4o = t.lookup("gpt-4o").unwrap().rates.input;
        t.merge_user(
            "[models.\"gpt-4o\"]\ninput = 1.0\noutput = 2.0\n[models.\"local-7b\"]\ninput = 0.0\noutput = 0.0\n",
            "prices.toml",
        )
        .unwrap();
        // The exact id, the bare one after a prefix, the family of a dated one.
        for id in ["gpt-4o", "openai/gpt-4o", "gpt-4o-2024-08-06"] {
            let p = t.lookup(id).unwrap();
            assert_eq!((p.rates.input, p.user), (1_000, true), "{id}");
        }
        assert_ne!(embedded_4o, 1_000);
        // The embedded models stay under it, listed once each, in order.
        assert!(t.has_own("gpt-4.1-mini") && t.has_own("local-7b"));
        let names: Vec<&String> = t.models().map(|(name, _)| name).collect();
        assert!(names.is_sorted() && names.iter().filter(|n| **n == "gpt-4o").count() == 1);
        assert!(names.len() > 2);
        // An empty table has nothing embedded under it.
        assert_eq!(PriceTable::default().lookup("gpt-4o"), None);
    }

    #[test]
    fn long_context_tier_applies_above_threshold() {
        let t = PriceTable::embedded();
        let small = t.cost_micros("gpt-5.4", &usage(272_000, 0, 0)).unwrap();
        let big = t.cost_micros("gpt-5.4", &usage(272_001, 0, 0)).unwrap();
        assert_eq!(small, 680_000);
        assert_eq!(big, 1_360_005);
    }

    #[test]
    fn litellm_prices_import_and_round_trip() {
        let json = r#"{
            "sample_spec": {"mode": "chat"},
            "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
                       "cache_read_input_token_cost": 1.25e-06, "litellm_provider": "openai", "mode": "chat"},
            "gpt-9": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.2e-05,
                      "litellm_provider": "openai", "mode": "responses"},
            "claude-x": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                         "litellm_provider": "anthropic", "mode": "chat"},
            "text-embedding-3-small": {"input_cost_per_token": 2e-08, "output_cost_per_token": 0,
                                       "litellm_provider": "openai", "mode": "embedding"}
        }"#;
        let (text, n) = import_litellm(json, "2026-11-23").unwrap();
        assert_eq!(n, 2);
        let mut t = PriceTable::default();
        t.merge(&text, "imported", true).unwrap();
        let p = t.lookup("gpt-9").unwrap();
        assert_eq!(
            (p.rates.input, p.rates.output, p.rates.cached_input),
            (3000, 12000, 3000)
        );
        assert_eq!(t.lookup("gpt-4o").unwrap().rates.cached_input, 1250);
        assert_eq!(p.date, "2026-11-23");
        assert!(t.lookup("claude-x").is_none());
    }

    #[test]
    fn the_tier_the_server_used_sets_the_price() {
        let t = PriceTable::embedded();
        let p = t.lookup("gpt-5").unwrap();
        let u = usage(1_000_000, 0, 1_000_000);
        assert_eq!(cost_micros_in(p, &u, None), 11_250_000);
        assert_eq!(cost_micros_in(p, &u, Some("default")), 11_250_000);
        assert_eq!(cost_micros_in(p, &u, Some("flex")), 5_625_000);
        assert_eq!(cost_micros_in(p, &u, Some("priority")), 22_500_000);
        assert_eq!(cost_micros_in(p, &u, Some("batch")), 5_625_000);
        assert!(p.has_batch_rates());
    }

    #[test]
    fn a_batch_answer_without_a_batch_price_costs_half_the_standard_one() {
        let mut t = PriceTable::default();
        t.merge("[models.mine]\ninput = 2.0\noutput = 8.0\n", "mine", true)
            .unwrap();
        let p = t.lookup("mine").unwrap();
        assert!(!p.has_batch_rates());
        let u = usage(1_000_000, 0, 1_000_000);
        assert_eq!(cost_micros_in(p, &u, None), 10_000_000);
        assert_eq!(cost_micros_in(p, &u, Some("batch")), 5_000_000);
        // Another tier the price does not know is still the standard price.
        assert_eq!(cost_micros_in(p, &u, Some("flex")), 10_000_000);
    }

    #[test]
    fn dollars_format_with_enough_digits() {
        assert_eq!(format_usd(525), "$0.000525");
        assert_eq!(format_usd(100_000), "$0.10");
        assert_eq!(format_usd(12_345_678), "$12.34");
        assert_eq!(format_usd(0), "$0.00");
    }

    #[test]
    fn absurd_prices_are_refused_with_file_and_model_named() {
        for (rate, why) in [
            ("-1.0", "negative"),
            ("nan", "not a number"),
            ("inf", "not a number"),
            ("10000.5", "cannot be right"),
        ] {
            for field in ["input", "output", "cached_input", "batch"] {
                let text = match field {
                    "batch" => format!(
                        "[models.evil]\ninput = 1.0\noutput = 1.0\nbatch = {{ input = {rate}, output = 1.0 }}\n"
                    ),
                    "input" => format!("[models.evil]\ninput = {rate}\noutput = 1.0\n"),
                    "output" => format!("[models.evil]\ninput = 1.0\noutput = {rate}\n"),
                    _ => {
                        format!("[models.evil]\ninput = 1.0\noutput = 1.0\ncached_input = {rate}\n")
                    }
                };
                let text = format!("[models.fine]\ninput = 1.0\noutput = 2.0\n\n{text}");
                let mut t = PriceTable::default();
                let err = t
                    .merge(&text, "/home/u/prices.toml", true)
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("/home/u/prices.toml"), "{field}={rate}: {err}");
                assert!(
                    err.contains("\"evil\"") && err.contains(why),
                    "{field}={rate}: {err}"
                );
                // Refused whole: not even the good model of that file is taken.
                assert!(t.lookup("fine").is_none() && t.lookup("evil").is_none());
            }
        }
        // The largest sane price is still accepted.
        let mut t = PriceTable::default();
        t.merge("[models.big]\ninput = 10000.0\noutput = 0.0\n", "p", true)
            .unwrap();
        assert_eq!(t.lookup("big").unwrap().rates.input, 10_000_000);
    }

    #[test]
    fn an_imported_file_with_an_absurd_price_is_refused() {
        let json = r#"{"gpt-evil": {"input_cost_per_token": -0.5, "output_cost_per_token": 1e-05,
                       "litellm_provider": "openai", "mode": "chat"}}"#;
        let err = import_litellm(json, "2026-12-02").unwrap_err();
        assert!(
            err.contains("gpt-evil") && err.contains("negative"),
            "{err}"
        );
    }

    #[test]
    fn cost_never_wraps_whatever_the_server_counts() {
        let mut t = PriceTable::default();
        t.merge(
            "[models.big]\ninput = 10000.0\noutput = 10000.0\n",
            "p",
            true,
        )
        .unwrap();
        let p = t.lookup("big").unwrap();
        let huge = usage(u64::MAX, 0, u64::MAX);
        assert_eq!(cost_micros(p, &huge), MAX_REQUEST_MICROS);
        // More cached than sent is held to what was sent.
        assert_eq!(
            cost_micros(p, &usage(1, u64::MAX, 0)),
            cost_micros(p, &usage(1, 1, 0))
        );
        // A million requests at the cap still sum inside an i64.
        assert!(MAX_REQUEST_MICROS.checked_mul(1_000_000).is_some());
    }
}
