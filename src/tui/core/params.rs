//! The parameters panel's fields: how each is shown, stepped with ←/→, typed
//! exactly, or reset to "default" (which means: not sent).

use crate::chat::params::{Api, Params, ReasoningEffort, ReasoningSummary, ResponseFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Model,
    System,
    Temperature,
    TopP,
    MaxOutputTokens,
    PresencePenalty,
    FrequencyPenalty,
    Seed,
    Stop,
    ResponseFormat,
    Strict,
    ReasoningEffort,
    ReasoningSummary,
    Api,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Model,
        Field::System,
        Field::Temperature,
        Field::TopP,
        Field::MaxOutputTokens,
        Field::PresencePenalty,
        Field::FrequencyPenalty,
        Field::Seed,
        Field::Stop,
        Field::ResponseFormat,
        Field::Strict,
        Field::ReasoningEffort,
        Field::ReasoningSummary,
        Field::Api,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::System => "system prompt",
            Field::Temperature => "temperature",
            Field::TopP => "top_p",
            Field::MaxOutputTokens => "max output tokens",
            Field::PresencePenalty => "presence penalty",
            Field::FrequencyPenalty => "frequency penalty",
            Field::Seed => "seed",
            Field::Stop => "stop sequences",
            Field::ResponseFormat => "response format",
            Field::Strict => "schema strict",
            Field::ReasoningEffort => "reasoning effort",
            Field::ReasoningSummary => "reasoning summary",
            Field::Api => "wire API",
        }
    }
}

const DEFAULT: &str = "default";

fn num(v: Option<f32>) -> String {
    v.map(|v| {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    })
    .unwrap_or_else(|| DEFAULT.into())
}

/// The value as shown in the panel.
pub fn show(field: Field, p: &Params, model: &str, system: &str) -> String {
    match field {
        Field::Model => model.to_string(),
        Field::System => {
            if system.trim().is_empty() {
                "(none)".into()
            } else {
                let first = system.lines().next().unwrap_or("");
                format!(
                    "{} ({} chars)",
                    first.chars().take(24).collect::<String>(),
                    system.chars().count()
                )
            }
        }
        Field::Temperature => num(p.temperature),
        Field::TopP => num(p.top_p),
        Field::PresencePenalty => num(p.presence_penalty),
        Field::FrequencyPenalty => num(p.frequency_penalty),
        Field::MaxOutputTokens => p
            .max_output_tokens
            .map(|v| v.to_string())
            .unwrap_or_else(|| DEFAULT.into()),
        Field::Seed => p
            .seed
            .map(|v| v.to_string())
            .unwrap_or_else(|| DEFAULT.into()),
        Field::Stop => {
            if p.stop.is_empty() {
                DEFAULT.into()
            } else {
                p.stop
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        Field::ResponseFormat => p.response_format.label().to_string(),
        Field::Strict => match &p.response_format {
            ResponseFormat::JsonSchema { strict, .. } => if *strict { "on" } else { "off" }.into(),
            _ => "(json_schema only)".into(),
        },
        Field::ReasoningSummary => p
            .reasoning_summary
            .map(|e| e.label().to_string())
            .unwrap_or_else(|| DEFAULT.into()),
        Field::Api => p
            .api
            .map(|a| a.label().to_string())
            .unwrap_or_else(|| "the profile's".into()),
        Field::ReasoningEffort => p
            .reasoning_effort
            .map(|e| e.label().to_string())
            .unwrap_or_else(|| DEFAULT.into()),
    }
}

fn step_f32(v: Option<f32>, default: f32, step: f32, min: f32, max: f32, dir: f32) -> Option<f32> {
    let next = v.unwrap_or(default) + if v.is_some() { step * dir } else { 0.0 };
    Some(((next.clamp(min, max)) * 100.0).round() / 100.0)
}

/// ←/→ on a field. The first press on a default value sets the server's default explicitly.
pub fn step(field: Field, p: &mut Params, dir: i32) {
    let d = dir as f32;
    match field {
        Field::Temperature => p.temperature = step_f32(p.temperature, 1.0, 0.1, 0.0, 2.0, d),
        Field::TopP => p.top_p = step_f32(p.top_p, 1.0, 0.05, 0.0, 1.0, d),
        Field::PresencePenalty => {
            p.presence_penalty = step_f32(p.presence_penalty, 0.0, 0.1, -2.0, 2.0, d)
        }
        Field::FrequencyPenalty => {
            p.frequency_penalty = step_f32(p.frequency_penalty, 0.0, 0.1, -2.0, 2.0, d)
        }
        Field::MaxOutputTokens => {
            let v = p.max_output_tokens.unwrap_or(1024) as i64;
            let next = if p.max_output_tokens.is_none() {
                v
            } else if dir > 0 {
                v * 2
            } else {
                v / 2
            };
            p.max_output_tokens = Some(next.clamp(16, 1_000_000) as u32);
        }
        Field::Seed => p.seed = Some(p.seed.map(|s| s + dir as i64).unwrap_or(0)),
        Field::ResponseFormat => {
            p.response_format = match (&p.response_format, dir > 0) {
                (ResponseFormat::Text, true) => ResponseFormat::JsonObject,
                (ResponseFormat::JsonObject, false) => ResponseFormat::Text,
                (ResponseFormat::JsonObject, true) => ResponseFormat::JsonSchema {
                    name: "answer".into(),
                    schema: serde_json::json!({"type": "object", "properties": {}, "additionalProperties": true}),
                    strict: false,
                },
                (ResponseFormat::JsonSchema { .. }, false) => ResponseFormat::JsonObject,
                (other, _) => other.clone(),
            }
        }
        Field::ReasoningEffort => {
            p.reasoning_effort = cycle(&ReasoningEffort::ALL, p.reasoning_effort, dir)
        }
        Field::Strict => {
            if let ResponseFormat::JsonSchema { strict, .. } = &mut p.response_format {
                *strict = dir > 0;
            }
        }
        Field::ReasoningSummary => {
            p.reasoning_summary = cycle(&ReasoningSummary::ALL, p.reasoning_summary, dir)
        }
        Field::Api => p.api = cycle(&[Api::Chat, Api::Responses], p.api, dir),
        Field::Model | Field::System | Field::Stop => {}
    }
}

/// The next of `all` (or none, before the first), clamped at the ends.
fn cycle<T: Copy + PartialEq>(all: &[T], v: Option<T>, dir: i32) -> Option<T> {
    let i = v.and_then(|e| all.iter().position(|x| *x == e));
    match (i, dir > 0) {
        (None, true) => Some(all[0]),
        (None, false) => None,
        (Some(i), true) => Some(all[(i + 1).min(all.len() - 1)]),
        (Some(0), false) => None,
        (Some(i), false) => Some(all[i - 1]),
    }
}

pub fn reset(field: Field, p: &mut Params) {
    match field {
        Field::Temperature => p.temperature = None,
        Field::TopP => p.top_p = None,
        Field::PresencePenalty => p.presence_penalty = None,
        Field::FrequencyPenalty => p.frequency_penalty = None,
        Field::MaxOutputTokens => p.max_output_tokens = None,
        Field::Seed => p.seed = None,
        Field::Stop => p.stop.clear(),
        Field::ResponseFormat => p.response_format = ResponseFormat::Text,
        Field::ReasoningEffort => p.reasoning_effort = None,
        Field::ReasoningSummary => p.reasoning_summary = None,
        Field::Api => p.api = None,
        Field::Strict => step(Field::Strict, p, -1),
        Field::Model | Field::System => {}
    }
}

/// The text a typed value starts from.
pub fn editable(field: Field, p: &Params) -> String {
    match field {
        Field::Stop => p.stop.join(" | "),
        Field::ResponseFormat => match &p.response_format {
            ResponseFormat::JsonSchema { schema, .. } => schema.to_string(),
            _ => String::new(),
        },
        f => {
            let s = show(f, p, "", "");
            if s == DEFAULT { String::new() } else { s }
        }
    }
}

/// Sets a typed value; an empty one resets to default.
pub fn set(field: Field, p: &mut Params, text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        reset(field, p);
        return Ok(());
    }
    let float = |min: f32, max: f32| -> Result<Option<f32>, String> {
        let v: f32 = t.parse().map_err(|_| format!("{t:?} is not a number"))?;
        if !(min..=max).contains(&v) {
            return Err(format!("must be between {min} and {max}"));
        }
        Ok(Some(v))
    };
    match field {
        Field::Temperature => p.temperature = float(0.0, 2.0)?,
        Field::TopP => p.top_p = float(0.0, 1.0)?,
        Field::PresencePenalty => p.presence_penalty = float(-2.0, 2.0)?,
        Field::FrequencyPenalty => p.frequency_penalty = float(-2.0, 2.0)?,
        Field::MaxOutputTokens => {
            p.max_output_tokens = Some(
                t.parse()
                    .map_err(|_| format!("{t:?} is not a whole number"))?,
            )
        }
        Field::Seed => {
            p.seed = Some(
                t.parse()
                    .map_err(|_| format!("{t:?} is not a whole number"))?,
            )
        }
        Field::Stop => {
            let stops: Vec<String> = t
                .split('|')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if stops.len() > 4 {
                return Err("at most 4 stop sequences".into());
            }
            p.stop = stops;
        }
        Field::ResponseFormat => {
            // `@path` reads the schema from a file.
            let (text, name) = match t.strip_prefix('@') {
                Some(path) => {
                    let path = std::path::Path::new(path.trim());
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                    (text, stem)
                }
                None => (t.to_string(), None),
            };
            let schema: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("not JSON (line {}): {e}", e.line()))?;
            if let crate::chat::schema::Verdict::BadSchema(e) =
                crate::chat::schema::check_value(&schema, &serde_json::Value::Null)
            {
                return Err(format!("not a valid JSON Schema: {e}"));
            }
            let strict = matches!(
                p.response_format,
                ResponseFormat::JsonSchema { strict: true, .. }
            );
            p.response_format = ResponseFormat::JsonSchema {
                name: name
                    .map(|n| {
                        n.chars()
                            .map(|c| {
                                if c.is_ascii_alphanumeric() || c == '-' {
                                    c
                                } else {
                                    '_'
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_else(|| "answer".into()),
                schema,
                strict,
            };
        }
        Field::ReasoningEffort => {
            p.reasoning_effort = Some(
                ReasoningEffort::ALL
                    .into_iter()
                    .find(|e| e.label() == t)
                    .ok_or("one of minimal, low, medium, high")?,
            )
        }
        Field::ReasoningSummary => {
            p.reasoning_summary = Some(
                ReasoningSummary::ALL
                    .into_iter()
                    .find(|e| e.label() == t)
                    .ok_or("one of auto, concise, detailed")?,
            )
        }
        Field::Api => p.api = Some(Api::parse(t).ok_or("chat or responses")?),
        Field::Strict => match t {
            "on" | "true" => step(Field::Strict, p, 1),
            "off" | "false" => step(Field::Strict, p, -1),
            _ => return Err("on or off".into()),
        },
        Field::Model | Field::System => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_starts_at_the_server_default_and_reset_unsets() {
        let mut p = Params::default();
        step(Field::Temperature, &mut p, 1);
        assert_eq!(p.temperature, Some(1.0));
        step(Field::Temperature, &mut p, -1);
        assert_eq!(p.temperature, Some(0.9));
        reset(Field::Temperature, &mut p);
        assert_eq!(p, Params::default());
    }

    #[test]
    fn typed_values_are_checked() {
        let mut p = Params::default();
        assert!(set(Field::Temperature, &mut p, "3").is_err());
        set(Field::Stop, &mut p, "END | ###").unwrap();
        assert_eq!(p.stop, ["END", "###"]);
        set(Field::Stop, &mut p, "").unwrap();
        assert!(p.stop.is_empty());
    }
}
