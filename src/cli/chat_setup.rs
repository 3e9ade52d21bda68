//! How `llmdeck chat` turns its flags into a conversation and the inputs that
//! start it: a new or continued conversation, tools, schema, reasoning,
//! attachments and function results, all checked before anything is sent.

use std::path::Path;

use chrono::Utc;

use super::args::ChatArgs;
use super::out::errln;
use crate::chat::attachment::Attachment;
use crate::chat::conversation::Conversation;
use crate::chat::lock::ConversationLock;
use crate::chat::machine::Input;
use crate::chat::params::{ReasoningEffort, ReasoningSummary, ResponseFormat};
use crate::chat::store::Store;
use crate::chat::tools::{self, ToolChoice};
use crate::context::Context;

/// The conversation to run and what to feed the machine, in order; the last
/// input (a message, or the last function result) starts the request.
pub struct Setup {
    pub conv: Conversation,
    pub inputs: Vec<Input>,
    pub continued: bool,
    /// Held until the run has saved: another llmdeck continuing the same
    /// conversation waits for it instead of saving over this exchange.
    pub lock: Option<ConversationLock>,
}

/// How long `chat --continue` waits for another llmdeck to finish with the conversation.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

pub fn setup(
    ctx: &Context,
    args: &ChatArgs,
    mut prompt: Option<String>,
    models: &[String],
) -> Result<Setup, String> {
    let store = ctx.store();
    let mut lock = None;
    let (mut conv, continued) = match (&args.continue_id, &args.library_prompt) {
        (Some(id), _) => {
            let (conv, held) = load(&store, id)?;
            lock = Some(held);
            (conv, true)
        }
        (None, Some(name)) => {
            let lib = crate::library::Library::load(&ctx.library_dir(&ctx.profile));
            let p = lib.get(name)?;
            let model = crate::library::testing::model_for(
                p,
                models.first().map(String::as_str),
                &ctx.profile.model,
            );
            let (conv, last) =
                crate::library::testing::conversation(p, &args.vars.collect()?, &model)?;
            prompt = Some(last);
            (conv, false)
        }
        (None, None) => (Conversation::new(&ctx.profile.model, Utc::now()), false),
    };
    if args.library_prompt.is_none() && (!continued || !models.is_empty()) {
        conv.model = ctx.profile.model.clone();
    }
    if conv.model.is_empty() {
        return Err("no model: pass --model or set one in the profile".into());
    }
    if let Some(system) = &args.system {
        conv.system = system.as_str().into();
    }
    let p = &mut conv.params;
    p.temperature = args.temperature.or(p.temperature);
    p.max_output_tokens = args.max_tokens.or(p.max_output_tokens);
    if let Some(e) = &args.reasoning_effort {
        p.reasoning_effort = ReasoningEffort::ALL.into_iter().find(|x| x.label() == e);
    }
    if let Some(s) = &args.reasoning_summary {
        p.reasoning_summary = ReasoningSummary::ALL.into_iter().find(|x| x.label() == s);
    }
    if let Some(path) = &args.schema {
        p.response_format = schema_format(path, args.strict)?;
    }
    for path in &args.tools {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let found = tools::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for tool in found {
            conv.tools.retain(|t| t.name != tool.name);
            conv.tools.push(tool);
        }
    }
    if !args.hosted.is_empty() {
        for name in &args.hosted {
            let tool = tools::HostedTool::parse(name).map_err(|e| format!("--hosted {e}"))?;
            if !conv.params.hosted.contains(&tool) {
                conv.params.hosted.push(tool);
            }
        }
        // Only the Responses API has them.
        conv.params.api = Some(crate::chat::params::Api::Responses);
    }
    if let Some(choice) = &args.tool_choice {
        let choice = ToolChoice::parse(choice);
        if let ToolChoice::Function(name) = &choice
            && !conv.tools.iter().any(|t| &t.name == name)
        {
            return Err(format!(
                "--tool-choice {name}: no such function in --tools (use auto, none, required or a function's name)"
            ));
        }
        conv.params.tool_choice = Some(choice);
    }
    let mut inputs = Vec::new();
    for path in &args.attach {
        inputs.push(Input::Attach(Attachment::from_path(path)?));
    }
    let attached: Vec<Attachment> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Attach(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    crate::chat::attachment::check_total(&attached)?;
    if !args.tool_result.is_empty() {
        if prompt.is_some() || !attached.is_empty() {
            return Err(
                "give either --tool-result or a prompt, not both: the results are the next message"
                    .into(),
            );
        }
        inputs.extend(tool_results(&conv, &args.tool_result)?);
    } else {
        let text = prompt.ok_or("give a prompt, or pipe one on standard input")?;
        inputs.push(Input::Send(text));
    }
    Ok(Setup {
        conv,
        inputs,
        continued,
        lock,
    })
}

/// The conversation to continue, read after its lock is taken so that an
/// exchange another process saved meanwhile is part of it.
fn load(store: &Store, id: &str) -> Result<(Conversation, ConversationLock), String> {
    let id = if id == "last" {
        store
            .list()
            .into_iter()
            .find(|s| s.error.is_none())
            .map(|s| s.id)
            .ok_or("there is no saved conversation to continue")?
    } else {
        id.to_string()
    };
    let lock = store.lock_waiting(&id, LOCK_PATIENCE, |held| {
        errln!("llmdeck: {held}: waiting for it to finish…");
    })?;
    let conv = store.load(&id).map_err(|e| e.to_string())?;
    Ok((conv, lock))
}

fn schema_format(path: &Path, strict: bool) -> Result<ResponseFormat, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let schema: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}:{}: {e}", path.display(), e.line()))?;
    if let crate::chat::schema::Verdict::BadSchema(e) =
        crate::chat::schema::check_value(&schema, &serde_json::Value::Null)
    {
        return Err(format!("{}: not a valid JSON Schema: {e}", path.display()));
    }
    // The API wants a name of letters, digits, _ and -.
    let name: String = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(ResponseFormat::JsonSchema {
        name: if name.is_empty() {
            "answer".into()
        } else {
            name
        },
        schema,
        strict,
    })
}

/// `ID=TEXT` pairs, each naming a call the conversation is waiting on.
fn tool_results(conv: &Conversation, pairs: &[String]) -> Result<Vec<Input>, String> {
    let pending = conv.pending_calls();
    if pending.is_empty() {
        return Err("the conversation is not waiting for any function result".into());
    }
    let ids = || {
        pending
            .iter()
            .map(|c| format!("{} ({})", c.id, c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    for pair in pairs {
        let (id, text) = pair
            .split_once('=')
            .ok_or_else(|| format!("--tool-result {pair:?}: expected ID=TEXT"))?;
        if !pending.iter().any(|c| c.id == id) {
            return Err(format!(
                "--tool-result: no pending call {id:?}; waiting for: {}",
                ids()
            ));
        }
        out.push(Input::ToolResult {
            call_id: id.to_string(),
            output: text.to_string(),
        });
    }
    let missing: Vec<_> = pending
        .iter()
        .filter(|c| {
            !pairs
                .iter()
                .any(|p| p.split_once('=').is_some_and(|(id, _)| id == c.id))
        })
        .map(|c| format!("{} ({})", c.id, c.name))
        .collect();
    if !missing.is_empty() {
        return Err(format!("--tool-result missing for: {}", missing.join(", ")));
    }
    Ok(out)
}
