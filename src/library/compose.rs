//! New prompt files, as both faces make them: from the template (`prompts
//! new`, the Library's "new") or from a conversation ("save as prompt").

use super::prompt::{self, Meta};
use crate::chat::conversation::{Conversation, Role};
use crate::chat::request::WireRole;

/// A new prompt's file (`group/name.md`) and starting text.
pub fn new_prompt(name: &str) -> (String, String) {
    let (group, base) = match name.rsplit_once('/') {
        Some((g, n)) => (format!("{g}/"), n.to_string()),
        None => (String::new(), name.to_string()),
    };
    let file = format!("{group}{}.md", super::file_stem(&base));
    (file, template(&base))
}

/// The conversation as a prompt file named `name`: system, the turns before
/// the last question as examples, that question as the user message.
pub fn from_conversation(conv: &Conversation, name: &str) -> (String, String) {
    let path = conv.path();
    let mut messages = Vec::new();
    if !conv.system.trim().is_empty() {
        messages.push((WireRole::System, prompt::escape(&conv.system)));
    }
    let last_user = path
        .iter()
        .rposition(|id| conv.nodes[id].role == Role::User);
    for (i, id) in path.iter().enumerate() {
        let node = &conv.nodes[id];
        let role = match node.role {
            Role::User => WireRole::User,
            Role::Assistant => WireRole::Assistant,
            _ => continue,
        };
        if Some(i) > last_user || node.content.trim().is_empty() {
            continue;
        }
        messages.push((role, prompt::escape(&node.content)));
    }
    let meta = Meta {
        name: name.to_string(),
        description: format!("Saved from the conversation \"{}\"", conv.display_title()),
        model: Some(conv.model.clone()),
        params: conv.params.clone(),
        ..Meta::default()
    };
    let file = format!("{}.md", super::file_stem(name));
    (file, prompt::to_file(&meta, &messages))
}

/// A new prompt's starting text: every part of the format, ready to edit.
pub fn template(name: &str) -> String {
    format!(
        r#"+++
name = {name:?}
description = "What this prompt does"
tags = ["draft"]
# model = "gpt-4o-mini"

[params]
temperature = 0.2

[[variables]]
name = "text"
description = "The text to work on"
required = true

[[variables]]
name = "tone"
default = "plain"

[[tests]]
name = "keeps it short"
vars = {{ text = "llmdeck is a terminal console for the OpenAI API." }}
assert = [{{ max_cost_usd = 0.01 }}, {{ not_contains = "As an AI" }}]
+++

# System

You are a careful editor. Answer in a {{{{tone}}}} tone. Literal braces are written \{{{{like this}}}}.

# User

{{{{text}}}}
"#
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_template_parses() {
        let p = crate::library::prompt::parse(&super::template("x")).unwrap();
        assert_eq!(p.meta.variables.len(), 2);
        assert!(p.messages[0].1.contains("\\{{like this}}"));
    }
}
