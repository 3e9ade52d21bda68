//! One prompt file: TOML front matter between `+++` lines (name, description,
//! tags, model, parameters, variables, tests), then Markdown with `# System`,
//! `# User` and `# Assistant` sections holding `{{variable}}` placeholders.
//! `\{{` writes a literal `{{`. CRLF, a BOM and any Unicode are fine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chat::params::Params;
use crate::chat::request::{WireMessage, WireRole};
use crate::evals::graders::Check;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default, rename = "assert")]
    pub assertions: Vec<Check>,
    /// The weighted score that passes (0..=1); without it every check must pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

/// The front matter, as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub params: Params,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
    /// A JSONL or CSV file of cases (beside the prompt, or a path): one per row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Checks every case gets (each dataset row, and every `[[tests]]` entry too).
    #[serde(default, rename = "assert", skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// The weighted score a case passes with, unless the case sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

fn is_default(p: &Params) -> bool {
    *p == Params::default()
}

/// A parsed prompt: its front matter, its messages (templates), its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub meta: Meta,
    pub messages: Vec<(WireRole, String)>,
    /// A short hash of the file's content: every change makes a new version.
    pub version: String,
}

/// Why a prompt file cannot be used, with the line it is about (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// The text as llmdeck reads it: no BOM, `\n` line ends.
pub fn normalize(text: &str) -> String {
    text.trim_start_matches('\u{feff}').replace("\r\n", "\n")
}

/// FNV-1a over the normalized text: 8 hex digits, stable across platforms.
pub fn version_of(text: &str) -> String {
    let h = crate::chat::tokens::fnv1a(normalize(text).as_bytes());
    format!("{:08x}", (h >> 32) ^ (h & 0xffff_ffff))
}

pub fn parse(text: &str) -> Result<Prompt, ParseError> {
    let text = normalize(text);
    let version = version_of(&text);
    let mut lines = text.split('\n');
    if lines.next().map(str::trim_end) != Some("+++") {
        return Err(err(
            1,
            "a prompt file starts with a `+++` line (TOML front matter)",
        ));
    }
    let mut front = String::new();
    let mut body_start = None;
    for (i, line) in lines.by_ref().enumerate() {
        if line.trim_end() == "+++" {
            // `i` counts from the second line; the body starts on the line after this one.
            body_start = Some(i + 3);
            break;
        }
        front.push_str(line);
        front.push('\n');
    }
    let body_start =
        body_start.ok_or_else(|| err(1, "the front matter is never closed with `+++`"))?;
    let meta: Meta = toml::from_str(&front).map_err(|e| {
        let line = e
            .span()
            .map(|s| front[..s.start].matches('\n').count() + 2)
            .unwrap_or(2);
        err(line, e.message().to_string())
    })?;
    if meta.name.trim().is_empty() {
        return Err(err(2, "the front matter needs a `name`"));
    }
    let mut seen = std::collections::HashSet::new();
    for v in &meta.variables {
        if !is_identifier(&v.name) {
            return Err(err(
                2,
                format!("variable name {:?} must be letters, digits or _", v.name),
            ));
        }
        if !seen.insert(v.name.as_str()) {
            return Err(err(2, format!("variable {:?} is declared twice", v.name)));
        }
    }
    let body: Vec<&str> = lines.collect();
    let messages = sections(&body, body_start)?;
    // Every placeholder must be declared.
    for (offset, line) in body.iter().enumerate() {
        for name in placeholders(line) {
            if !meta.variables.iter().any(|v| v.name == name) {
                return Err(err(
                    body_start + offset,
                    format!("placeholder {{{{{name}}}}} is not declared in `variables`"),
                ));
            }
        }
    }
    let thresholds = meta
        .tests
        .iter()
        .map(|t| (format!("test {:?}", t.name), t.threshold))
        .chain([("the front matter".to_string(), meta.threshold)]);
    for (whose, t) in thresholds {
        if let Some(t) = t.filter(|t| !(0.0..=1.0).contains(t)) {
            return Err(err(
                2,
                format!("{whose}: threshold {t} is not between 0 and 1"),
            ));
        }
    }
    for case in &meta.tests {
        for k in case.vars.keys() {
            if !meta.variables.iter().any(|v| &v.name == k) {
                return Err(err(
                    2,
                    format!("test {:?} sets undeclared variable {k:?}", case.name),
                ));
            }
        }
    }
    Ok(Prompt {
        meta,
        messages,
        version,
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `# System`, `# User`, `# Assistant` headings split the body; text before
/// the first heading is a user message.
fn sections(body: &[&str], first_line: usize) -> Result<Vec<(WireRole, String)>, ParseError> {
    let mut out: Vec<(WireRole, String)> = Vec::new();
    let mut role = None;
    let mut text = String::new();
    let mut in_fence = false;
    let flush = |role: Option<WireRole>, text: &mut String, out: &mut Vec<(WireRole, String)>| {
        let t = text.trim().to_string();
        if !t.is_empty() {
            out.push((role.unwrap_or(WireRole::User), t));
        }
        text.clear();
    };
    for (i, line) in body.iter().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let heading = (!in_fence)
            .then(|| line.strip_prefix("# "))
            .flatten()
            .map(|h| h.trim().to_ascii_lowercase());
        let next = match heading.as_deref() {
            Some("system") => Some(WireRole::System),
            Some("user") => Some(WireRole::User),
            Some("assistant") => Some(WireRole::Assistant),
            _ => None,
        };
        match next {
            Some(r) => {
                flush(role, &mut text, &mut out);
                if r == WireRole::System && out.iter().any(|(x, _)| *x != WireRole::System) {
                    return Err(err(
                        first_line + i,
                        "`# System` must come before the other sections",
                    ));
                }
                role = Some(r);
            }
            None => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    flush(role, &mut text, &mut out);
    if !out.iter().any(|(r, _)| *r == WireRole::User) {
        return Err(err(
            first_line,
            "the prompt has no user message (a `# User` section)",
        ));
    }
    Ok(out)
}

/// Names of the `{{name}}` placeholders in `line`, escaped ones left out.
pub fn placeholders(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_placeholder(line, |piece| {
        if let Piece::Var(name) = piece {
            out.push(name.to_string());
        }
    });
    out
}

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn each_placeholder<'a>(text: &'a str, mut f: impl FnMut(Piece<'a>)) {
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        if at > 0 && rest.as_bytes()[at - 1] == b'\\' {
            f(Piece::Text(&rest[..at - 1]));
            f(Piece::Text("{{"));
            rest = &rest[at + 2..];
            continue;
        }
        let Some(end) = rest[at + 2..].find("}}") else {
            break;
        };
        let name = rest[at + 2..at + 2 + end].trim();
        f(Piece::Text(&rest[..at]));
        if is_identifier(name) {
            f(Piece::Var(name));
        } else {
            f(Piece::Text(&rest[at..at + 4 + end]));
        }
        rest = &rest[at + 4 + end..];
    }
    f(Piece::Text(rest));
}

/// `template` with each `{{name}}` replaced by `value(name)`; a name without a
/// value stays as written, so a missing column shows in what fails.
pub fn fill(template: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut text = String::with_capacity(template.len());
    each_placeholder(template, |p| match p {
        Piece::Text(t) => text.push_str(t),
        Piece::Var(name) => match value(name) {
            Some(v) => text.push_str(&v),
            None => {
                text.push_str("{{");
                text.push_str(name);
                text.push_str("}}");
            }
        },
    });
    text
}

impl Prompt {
    /// The messages with every placeholder filled from `vars` (then defaults).
    /// A required variable left empty is an error naming it.
    pub fn render(&self, vars: &BTreeMap<String, String>) -> Result<Vec<WireMessage>, String> {
        for k in vars.keys() {
            if !self.meta.variables.iter().any(|v| &v.name == k) {
                return Err(format!(
                    "{}: no variable {k:?} (declared: {})",
                    self.meta.name,
                    self.variable_names()
                ));
            }
        }
        let mut values = BTreeMap::new();
        for v in &self.meta.variables {
            let value = vars
                .get(&v.name)
                .filter(|s| !s.is_empty())
                .or(v.default.as_ref())
                .cloned()
                .unwrap_or_default();
            if value.trim().is_empty() && v.required {
                return Err(format!(
                    "{}: required variable {:?} is empty{}",
                    self.meta.name,
                    v.name,
                    if v.description.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", v.description)
                    }
                ));
            }
            values.insert(v.name.as_str(), value);
        }
        Ok(self
            .messages
            .iter()
            .map(|(role, template)| {
                // Every placeholder is declared (checked at parse), so each has a value.
                let text = fill(template, &|name| {
                    Some(values.get(name).cloned().unwrap_or_default())
                });
                WireMessage::text(*role, &text)
            })
            .collect())
    }

    pub fn variable_names(&self) -> String {
        let names: Vec<&str> = self
            .meta
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// The text fuzzy search looks at besides the body.
    pub fn haystack(&self) -> String {
        format!(
            "{} {} {}",
            self.meta.name,
            self.meta.tags.join(" "),
            self.meta.description
        )
    }
}

/// A prompt written as a file: front matter, then the sections.
pub fn to_file(meta: &Meta, messages: &[(WireRole, String)]) -> String {
    let front = toml::to_string(meta).expect("prompt front matter serializes");
    let mut out = format!("+++\n{front}+++\n");
    for (role, text) in messages {
        let heading = match role {
            WireRole::System => "System",
            WireRole::User | WireRole::Tool => "User",
            WireRole::Assistant => "Assistant",
        };
        out.push_str(&format!("\n# {heading}\n\n{}\n", text.trim_end()));
    }
    out
}

/// Literal `{{` in text that becomes a template (a saved conversation, say).
pub fn escape(text: &str) -> String {
    text.replace("{{", "\\{{")
}
