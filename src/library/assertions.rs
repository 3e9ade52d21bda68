//! What a prompt test checks about an answer: its text, its JSON, its cost
//! and its latency. Each failure says what was expected.

use serde::{Deserialize, Serialize};

/// One check, written in TOML as `{ contains = "x" }`, `{ max_cost_usd = 0.01 }`...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Assertion {
    Contains(String),
    NotContains(String),
    Regex(String),
    Equals(String),
    /// The answer parses as JSON (`{ is_json = true }`).
    IsJson(bool),
    /// The answer is JSON matching this schema (inline, as a TOML table).
    JsonSchema(serde_json::Value),
    MaxCostUsd(f64),
    MaxLatencyMs(u64),
}

/// What a test run knows about one answer.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub text: String,
    pub cost_micros: Option<i64>,
    pub latency_ms: Option<u64>,
}

impl Assertion {
    /// `None` when it holds, else why not.
    pub fn check(&self, o: &Outcome) -> Option<String> {
        let text = o.text.trim();
        let short = |s: &str| {
            let mut t: String = s.chars().take(60).collect();
            if s.chars().count() > 60 {
                t.push('…');
            }
            t
        };
        match self {
            Self::Contains(s) => {
                (!o.text.contains(s.as_str())).then(|| format!("does not contain {s:?}"))
            }
            Self::NotContains(s) => o
                .text
                .contains(s.as_str())
                .then(|| format!("contains {s:?}")),
            Self::Regex(re) => match regex::Regex::new(re) {
                Err(e) => Some(format!("bad regex {re:?}: {e}")),
                Ok(r) => (!r.is_match(&o.text)).then(|| format!("does not match /{re}/")),
            },
            Self::Equals(s) => {
                (text != s.trim()).then(|| format!("is {:?}, not {:?}", short(text), short(s)))
            }
            Self::IsJson(want) => {
                let ok = crate::chat::schema::pretty(text).is_some();
                (ok != *want).then(|| {
                    if *want {
                        "is not valid JSON".into()
                    } else {
                        "is JSON".into()
                    }
                })
            }
            Self::JsonSchema(schema) => {
                let v = crate::chat::schema::check(schema, text);
                (!v.is_valid()).then(|| v.label())
            }
            Self::MaxCostUsd(max) => match o.cost_micros {
                None => Some("cost unknown (the model has no price)".into()),
                Some(c) if c as f64 / 1e6 > *max => {
                    Some(format!("cost {} over {}", crate::usage::format_usd(c), max))
                }
                Some(_) => None,
            },
            Self::MaxLatencyMs(max) => match o.latency_ms {
                Some(ms) if ms > *max => Some(format!("took {ms} ms, over {max} ms")),
                None => Some("latency unknown".into()),
                Some(_) => None,
            },
        }
    }

    /// A short label for matrices: `contains "x"`.
    pub fn label(&self) -> String {
        match self {
            Self::Contains(s) => format!("contains {s:?}"),
            Self::NotContains(s) => format!("not contains {s:?}"),
            Self::Regex(r) => format!("regex /{r}/"),
            Self::Equals(s) => format!("equals {s:?}"),
            Self::IsJson(_) => "valid JSON".into(),
            Self::JsonSchema(_) => "matches schema".into(),
            Self::MaxCostUsd(c) => format!("cost ≤ ${c}"),
            Self::MaxLatencyMs(m) => format!("latency ≤ {m} ms"),
        }
    }
}
