//! Exports: Markdown for people, and the export file's name. (The JSON export,
//! a valid Chat Completions request body, is wire format:
//! `provider::chat_completions::to_request_json`.)

use super::conversation::{AnswerStatus, Conversation, Role};
use crate::usage::format_usd;

/// `title-slug-1234abcd.md`: the title's first 40 letters and digits, then
/// the start of the id (all of it when shorter), so exports sort and never collide.
pub fn file_name(conv: &Conversation, ext: &str) -> String {
    let slug = conv
        .display_title()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    // The id is only a suffix here, and only its safe characters: a file's id is not trusted.
    let id: String = conv
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    let slug: String = slug.chars().take(40).collect();
    format!("{slug}-{id}.{ext}")
}

pub fn to_markdown(conv: &Conversation) -> String {
    let mut out = format!("# {}\n\n_model: {}_\n\n", conv.display_title(), conv.model);
    if !conv.system.trim().is_empty() {
        out.push_str(&format!("## System\n\n{}\n\n", conv.system.trim_end()));
    }
    for id in conv.path().iter() {
        let node = &conv.nodes[id];
        match node.role {
            Role::User => out.push_str("## User\n\n"),
            Role::Assistant => out.push_str("## Assistant\n\n"),
            Role::Tool => out.push_str(&format!(
                "## Tool result (`{}`)\n\n",
                node.call_id.as_deref().unwrap_or("?")
            )),
            Role::Root => continue,
        }
        for a in &node.attachments {
            out.push_str(&format!("📎 {}\n\n", a.summary()));
        }
        if node.role == Role::Tool {
            out.push_str(&fenced("", node.content.trim_end()));
        } else if !node.content.trim().is_empty() {
            out.push_str(&embedded(node.content.trim_end()));
            out.push_str("\n\n");
        }
        for call in &node.tool_calls {
            let args = super::schema::pretty(&call.arguments).unwrap_or(call.arguments.clone());
            out.push_str(&format!("Called `{}` (`{}`):\n\n", call.name, call.id));
            out.push_str(&fenced("json", &args));
        }
        if let Some(meta) = &node.meta {
            let mut facts = Vec::new();
            if let Some(u) = meta.usage {
                facts.push(format!("{} in / {} out tokens", u.input, u.output));
            }
            if let Some(c) = meta.cost_micros {
                facts.push(format_usd(c));
            }
            if meta.status != AnswerStatus::Done {
                facts.push(format!("{:?}", meta.status).to_lowercase());
            }
            if !facts.is_empty() {
                out.push_str(&format!("_{}_\n\n", facts.join(" · ")));
            }
        }
    }
    out
}

/// `text` in a code block whose fence no run of backticks inside it closes.
fn fenced(lang: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{text}\n{fence}\n\n")
}

/// A message as part of the export: its headings moved two levels down (the
/// export's own are `#` and `##`), and a code block it left open (an answer
/// stopped mid-code) closed, so what follows is not swallowed into it.
fn embedded(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // The open fence's character and length, per CommonMark.
    let mut open: Option<(char, usize)> = None;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let run = |c: char| body.chars().take_while(|x| *x == c).count();
        let fence = ['`', '~']
            .into_iter()
            .map(|c| (c, run(c)))
            .find(|(_, n)| *n >= 3 && indent < 4);
        match (open, fence) {
            (None, Some(f)) => open = Some(f),
            (Some((c, n)), Some((fc, fln)))
                if c == fc && fln >= n && body[fln..].trim().is_empty() =>
            {
                open = None
            }
            (None, None) if indent < 4 => {
                let hashes = run('#');
                let setext = !body.is_empty()
                    && (body.trim_end().chars().all(|c| c == '=')
                        || body.trim_end().chars().all(|c| c == '-'));
                let after_text = out.last().is_some_and(|p| is_plain(p));
                if (1..=6).contains(&hashes)
                    && body[hashes..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == ' ' || c == '\t')
                {
                    let level = (hashes + 2).min(6);
                    out.push(format!("{}{}", "#".repeat(level), &body[hashes..]));
                    continue;
                }
                if setext && after_text {
                    let level = if body.starts_with('=') { 3 } else { 4 };
                    let title = out.pop().unwrap_or_default();
                    out.push(format!("{} {}", "#".repeat(level), title.trim()));
                    continue;
                }
            }
            _ => {}
        }
        out.push(line.to_string());
    }
    if let Some((c, n)) = open {
        out.push(c.to_string().repeat(n));
    }
    out.join("\n")
}

/// A line of paragraph text (what a setext underline turns into a heading).
fn is_plain(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty()
        && line.len() - t.len() < 4
        && !t.starts_with(['#', '>', '|', '-', '*', '+', '`', '~'])
        && !is_ordered_item(t)
}

fn is_ordered_item(t: &str) -> bool {
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && t[digits..].starts_with(['.', ')'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn export_names_take_what_the_id_has_however_short() {
        let mut conv = Conversation::new("gpt-4o", Utc::now());
        conv.title = "Rust vs Python: a CLI?".into();
        for (id, tail) in [
            ("019a2b3c-1234-7abc", "019a2b3c"),
            ("ab", "ab"),
            ("", ""),
            // Multi-byte characters used to be cut mid-character.
            ("ééééé", ""),
            ("../../x", "x"),
        ] {
            conv.id = id.into();
            assert_eq!(
                file_name(&conv, "md"),
                format!("rust-vs-python-a-cli-{tail}.md"),
                "{id:?}"
            );
        }
    }
}
