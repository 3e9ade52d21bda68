//! Local JSON Schema checks: tool-call arguments against the function's
//! parameters, and structured answers against the `json_schema` format.

use serde_json::Value;

/// What a local check of a JSON text found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Not JSON at all (the parser's message).
    NotJson(String),
    /// JSON, but the first place it breaks the schema: "at /path: message".
    Violates(String),
    /// The schema itself is not one a validator accepts.
    BadSchema(String),
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid)
    }

    pub fn label(&self) -> String {
        match self {
            Self::Valid => "valid against the schema".into(),
            Self::NotJson(e) => format!("not valid JSON: {e}"),
            Self::Violates(e) => format!("schema violation {e}"),
            Self::BadSchema(e) => format!("the schema itself is invalid: {e}"),
        }
    }
}

/// Checks `text` against `schema`, reporting the first violation.
pub fn check(schema: &Value, text: &str) -> Verdict {
    let value: Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => return Verdict::NotJson(e.to_string()),
    };
    check_value(schema, &value)
}

pub fn check_value(schema: &Value, value: &Value) -> Verdict {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => return Verdict::BadSchema(e.to_string()),
    };
    match validator.iter_errors(value).next() {
        None => Verdict::Valid,
        Some(e) => {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            Verdict::Violates(format!("at {at}: {e}"))
        }
    }
}

/// `text` pretty-printed when it is JSON, else unchanged.
pub fn pretty(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text.trim()).ok()?;
    serde_json::to_string_pretty(&v).ok()
}
