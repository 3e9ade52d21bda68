//! Compare targets: `model[@profile][?param=value&...]`, so the same prompt can
//! go to different models, endpoints, or the same model with other parameters.

use super::params::{Params, ReasoningEffort};

/// How many targets one question may go to: side by side, more would not be readable.
pub const MAX_TARGETS: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub model: String,
    /// Another profile's endpoint, when not the conversation's.
    pub profile: Option<Via>,
    /// Parameters for this target, when they differ from the conversation's.
    pub params: Option<Params>,
    /// How the target is named on screen and in output.
    pub label: String,
}

/// Another profile a request goes through: its name and host (for the ledger)
/// and its endpoint as pricing sees it (the whole base URL, its `local`).
#[derive(Debug, Clone, PartialEq)]
pub struct Via {
    pub name: String,
    pub host: String,
    pub endpoint: crate::usage::cost::Endpoint,
}

impl From<&str> for Target {
    fn from(model: &str) -> Self {
        Self {
            model: model.into(),
            profile: None,
            params: None,
            label: model.into(),
        }
    }
}

/// Splits a spec into (model, profile name, parameters); `base` is what the
/// parameters start from.
pub fn parse(
    spec: &str,
    base: &Params,
) -> Result<(String, Option<String>, Option<Params>), String> {
    let spec = spec.trim();
    let (head, query) = match spec.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (spec, None),
    };
    let (model, profile) = match head.rsplit_once('@') {
        Some((m, p)) if !p.is_empty() => (m, Some(p.to_string())),
        _ => (head, None),
    };
    if model.is_empty() {
        return Err(format!("{spec:?}: no model"));
    }
    let params = match query {
        None => None,
        Some(q) => {
            let mut p = base.clone();
            for pair in q.split('&').filter(|s| !s.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("{spec:?}: {pair:?} is not name=value"))?;
                let bad = || format!("{spec:?}: {v:?} is not a valid {k}");
                match k {
                    "temperature" => p.temperature = Some(v.parse().map_err(|_| bad())?),
                    "top_p" => p.top_p = Some(v.parse().map_err(|_| bad())?),
                    "max_tokens" | "max_output_tokens" => {
                        p.max_output_tokens = Some(v.parse().map_err(|_| bad())?)
                    }
                    "seed" => p.seed = Some(v.parse().map_err(|_| bad())?),
                    "presence_penalty" => p.presence_penalty = Some(v.parse().map_err(|_| bad())?),
                    "frequency_penalty" => {
                        p.frequency_penalty = Some(v.parse().map_err(|_| bad())?)
                    }
                    "reasoning_effort" => {
                        p.reasoning_effort = Some(
                            ReasoningEffort::ALL
                                .into_iter()
                                .find(|e| e.label() == v)
                                .ok_or_else(|| {
                                    format!(
                                        "{spec:?}: reasoning_effort is minimal, low, medium or high"
                                    )
                                })?,
                        )
                    }
                    other => return Err(format!("{spec:?}: unknown parameter {other:?}")),
                }
            }
            Some(p)
        }
    };
    Ok((model.to_string(), profile, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_model_profile_and_parameters() {
        let base = Params::default();
        assert_eq!(
            parse("gpt-4o", &base).unwrap(),
            ("gpt-4o".into(), None, None)
        );
        assert_eq!(
            parse("llama3.2:3b@ollama", &base).unwrap().1.as_deref(),
            Some("ollama")
        );
        let (m, p, params) = parse("gpt-4o?temperature=0.2&seed=7", &base).unwrap();
        assert_eq!((m.as_str(), p), ("gpt-4o", None));
        let params = params.unwrap();
        assert_eq!((params.temperature, params.seed), (Some(0.2), Some(7)));
        assert!(
            parse("gpt-4o?warmth=3", &base)
                .unwrap_err()
                .contains("unknown parameter")
        );
    }
}
