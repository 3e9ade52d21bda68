//! Bringing prompts in from other tools: fabric's patterns
//! (`<name>/system.md`) and simonw/llm's YAML templates (`$var` → `{{var}}`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::prompt::{Meta, Variable, escape, to_file};
use crate::chat::params::Params;
use crate::chat::request::WireRole;

/// One prompt made from a foreign file: its file name and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub file: String,
    pub text: String,
}

/// Everything importable under `path`: a fabric pattern folder, a folder of
/// them, an llm template, or a folder of templates.
pub fn scan(path: &Path) -> Result<Vec<Imported>, String> {
    let mut out = Vec::new();
    if path.is_file() {
        out.push(llm_template(path)?);
        return Ok(out);
    }
    if path.join("system.md").is_file() {
        out.push(fabric(path)?);
        return Ok(out);
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.join("system.md").is_file() {
            out.push(fabric(&p)?);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(llm_template(&p)?);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no fabric patterns (<name>/system.md) or llm templates (*.yaml) found",
            path.display()
        ));
    }
    Ok(out)
}

fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into())
}

/// A fabric pattern: its system.md, with the input as the user message.
fn fabric(dir: &Path) -> Result<Imported, String> {
    let read = |f: &str| std::fs::read_to_string(dir.join(f));
    let system = read("system.md").map_err(|e| format!("{}/system.md: {e}", dir.display()))?;
    let name = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut messages = vec![(WireRole::System, escape(&super::prompt::normalize(&system)))];
    let user = read("user.md").ok().filter(|u| !u.trim().is_empty());
    let mut text = user.map(|u| escape(&u) + "\n\n").unwrap_or_default();
    text.push_str("{{input}}");
    messages.push((WireRole::User, text));
    let meta = Meta {
        name: name.clone(),
        description: format!("Imported from fabric pattern {name}"),
        tags: vec!["fabric".into()],
        variables: vec![Variable {
            name: "input".into(),
            description: "The text the pattern works on".into(),
            default: None,
            required: true,
        }],
        ..Meta::default()
    };
    Ok(Imported {
        file: format!("{}.md", super::file_stem(&name)),
        text: to_file(&meta, &messages),
    })
}

#[derive(Deserialize)]
struct LlmTemplate {
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    defaults: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    options: BTreeMap<String, serde_yaml_ng::Value>,
}

/// An llm template: `system` and `prompt` with `$var` (or `${var}`), `$input`
/// for the piped text, `defaults` for optional variables, `options` for parameters.
fn llm_template(path: &Path) -> Result<Imported, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // llm also accepts a bare string: the prompt.
    let t: LlmTemplate = match serde_yaml_ng::from_str::<LlmTemplate>(&text) {
        Ok(t) => t,
        Err(e) => match serde_yaml_ng::from_str::<String>(&text) {
            Ok(prompt) => LlmTemplate {
                system: None,
                prompt: Some(prompt),
                model: None,
                defaults: BTreeMap::new(),
                options: BTreeMap::new(),
            },
            Err(_) => return Err(format!("{}: {e}", path.display())),
        },
    };
    let name = name_of(path);
    let mut vars: Vec<String> = Vec::new();
    let mut messages = Vec::new();
    if let Some(s) = &t.system {
        messages.push((WireRole::System, dollars(s, &mut vars)));
    }
    let prompt = t.prompt.clone().unwrap_or_else(|| "$input".into());
    messages.push((WireRole::User, dollars(&prompt, &mut vars)));
    let scalar = |v: &serde_yaml_ng::Value| match v {
        serde_yaml_ng::Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    let variables = vars
        .iter()
        .map(|v| Variable {
            name: v.clone(),
            description: String::new(),
            default: t.defaults.get(v).map(scalar),
            required: !t.defaults.contains_key(v),
        })
        .collect();
    let mut params = Params::default();
    let num = |k: &str| t.options.get(k).and_then(|v| v.as_f64());
    params.temperature = num("temperature").map(|v| v as f32);
    params.top_p = num("top_p").map(|v| v as f32);
    params.max_output_tokens = num("max_tokens").map(|v| v as u32);
    params.seed = num("seed").map(|v| v as i64);
    let meta = Meta {
        name: name.clone(),
        description: format!("Imported from llm template {name}"),
        tags: vec!["llm".into()],
        model: t.model,
        params,
        variables,
        ..Meta::default()
    };
    Ok(Imported {
        file: format!("{}.md", super::file_stem(&name)),
        text: to_file(&meta, &messages),
    })
}

/// llm's `$name` / `${name}` become `{{name}}`; `$$` is a literal `$`;
/// literal `{{` is escaped. Each variable is noted once, in order.
pub fn dollars(text: &str, vars: &mut Vec<String>) -> String {
    let text = escape(&super::prompt::normalize(text));
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        let braced = chars.get(i + 1) == Some(&'{');
        let start = i + 1 + usize::from(braced);
        let mut end = start;
        while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
            end += 1;
        }
        let valid = end > start
            && (chars[start].is_ascii_alphabetic() || chars[start] == '_')
            && (!braced || chars.get(end) == Some(&'}'));
        if !valid {
            out.push('$');
            i += 1;
            continue;
        }
        let name: String = chars[start..end].iter().collect();
        out.push_str(&format!("{{{{{name}}}}}"));
        if !vars.contains(&name) {
            vars.push(name);
        }
        i = end + usize::from(braced);
    }
    out
}
