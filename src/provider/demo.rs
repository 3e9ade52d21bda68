//! The offline demo provider: no key, no network. It streams realistic
//! markdown answers (code, a table, lists) at a human-visible pace, with
//! plausible token usage so costs and the ledger fill in during a workshop.

use std::time::Duration;

use super::event::{FinishReason, StreamEvent, Usage, UsageSource};
use crate::chat::request::ChatRequest;

/// Models the demo offers; priced in the embedded table so costs show.
pub const MODELS: [&str; 4] = ["gpt-4o-mini", "gpt-4.1-nano", "gpt-4o", "o4-mini"];

const CODE_ANSWER: &str = r#"## Reading a file line by line in Rust

Use a `BufReader` so the file is read in chunks, not all at once:

```rust
use std::fs::File;
use std::io::{self, BufRead, BufReader};

fn main() -> io::Result<()> {
    let file = File::open("notes.txt")?;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        println!("{:>4}: {}", n + 1, line?);
    }
    Ok(())
}
```

A few things worth knowing:

- `lines()` strips the trailing `\n` (and `\r\n`) for you.
- Each `line?` can fail on **invalid UTF-8**; use `read_until` for raw bytes.
- For huge files this keeps memory flat: only one buffer is alive.

| approach | memory | speed |
|---|---|---|
| `read_to_string` | whole file | fastest for small files |
| `BufReader::lines` | one line | good for any size |
| `mmap` | paged by the OS | best for random access |
"#;

const TABLE_ANSWER: &str = r#"## Choosing a model

Here is how the common OpenAI models compare for a **prototype**:

| model | strengths | input $/1M | output $/1M |
|---|---|---|---|
| gpt-4o-mini | cheap, fast, good enough for most prompts | 0.15 | 0.60 |
| gpt-4.1 | long context, careful instruction following | 2.00 | 8.00 |
| o4-mini | reasoning on a budget | 1.10 | 4.40 |

> Start with the cheapest model that passes your prompt tests, then move up
> only where the tests fail.

1. Write three or four test cases first.
2. Run them against two models side by side.
3. Keep the one whose *cost per passing answer* is lowest.
"#;

const GENERAL_ANSWER: &str = r#"## You are in the offline demo

llmdeck is running **without a key**, so this answer comes from the built-in demo
provider. Everything else is real: the tokens, the *estimated cost*, the timings
and the ledger entry for this request.

To talk to a real model:

1. Set `OPENAI_API_KEY` (or point `OPENAI_BASE_URL` at Ollama, vLLM, llama.cpp...).
2. Restart llmdeck, or pick a profile from `config.toml` with `--profile`.

Meanwhile, try asking for *code* or a *comparison table*:

```python
from openai import OpenAI

client = OpenAI()  # reads OPENAI_API_KEY
stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello!"}],
    stream=True,
)
for chunk in stream:
    print(chunk.choices[0].delta.content or "", end="")
```

| key | what it does |
|---|---|
| `Enter` | send the prompt |
| `Esc` | stop the answer, keep what came |
| `?` / `F1` | every key of this pane |
"#;

const JSON_ANSWER: &str = r#"```json
{
  "name": "llmdeck",
  "kind": "terminal developer console",
  "panes": ["Playground", "Spend", "Library"],
  "offline_demo": true,
  "demo_scenario": "JSON",
  "cost_usd": 0.0,
  "tags": ["openai", "tui", "rust"]
}
```
"#;

const REFUSAL: &str = "I can't help with that. If you're testing how your app handles refusals, \
this is what one looks like: a short, polite answer that ends normally, with its tokens \
counted and priced like any other.";

const ESSAY_PARAGRAPH: &str = "Terminal tools earn their place by being there when you need them: they start \
instantly, they work over SSH, and they never ask you to leave the keyboard. A console for language \
models adds one more duty, which is honesty about cost. Every answer has a price, and a tool that \
shows it next to the words changes how people prompt: they notice when a long system prompt is \
resent on every turn, when a cheaper model would have done, when a test suite quietly doubled the \
bill. ";

/// Which canned answer a prompt gets: the scenarios a workshop can show with no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Code,
    Table,
    Json,
    Essay,
    Refusal,
    General,
}

impl Scenario {
    /// The kind of answer the prompt asks for. What is asked for (a table,
    /// code, JSON, an essay) wins over what it is about: "compare Python and
    /// Rust in a table" is a table, though it names two languages.
    pub fn for_prompt(prompt: &str) -> Self {
        let p = prompt.to_lowercase();
        let words: Vec<&str> = p.split(|c: char| !c.is_alphanumeric()).collect();
        let has = |list: &[&str]| list.iter().any(|w| words.contains(w));
        if has(&["hack", "weapon", "steal", "malware", "refuse", "refusal"]) {
            Self::Refusal
        } else if has(&["table", "compare", "comparison", "versus", "vs", "tabulate"]) {
            Self::Table
        } else if has(&["json", "schema", "structured"]) {
            Self::Json
        } else if has(&["essay", "story", "article", "long"]) {
            Self::Essay
        } else if has(&[
            "code",
            "function",
            "program",
            "script",
            "snippet",
            "implement",
        ]) {
            Self::Code
        } else if has(&["rust", "python", "javascript", "file"]) {
            // Only a topic: a language asked about, with nothing said of the form.
            Self::Code
        } else if has(&["model", "models", "price", "prices", "cost"]) {
            Self::Table
        } else {
            Self::General
        }
    }

    /// How the answer says which scenario gave it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Table => "table",
            Self::Json => "JSON",
            Self::Essay => "essay",
            Self::Refusal => "refusal",
            Self::General => "welcome",
        }
    }

    pub fn answer(self) -> std::borrow::Cow<'static, str> {
        match self {
            Self::Code => CODE_ANSWER.into(),
            Self::Table => TABLE_ANSWER.into(),
            Self::Json => JSON_ANSWER.into(),
            Self::Refusal => REFUSAL.into(),
            Self::General => GENERAL_ANSWER.into(),
            Self::Essay => {
                let mut essay = String::from("## Why terminal tools last\n\n");
                for _ in 0..8 {
                    essay.push_str(ESSAY_PARAGRAPH);
                    essay.push_str("\n\n");
                }
                essay.into()
            }
        }
    }
}

/// The answer the demo gives to a request, chosen from the last user message;
/// with tools it calls one, after a result it uses it, with a schema it fills it.
pub fn answer_for(req: &ChatRequest) -> std::borrow::Cow<'static, str> {
    use crate::chat::params::ResponseFormat;
    use crate::chat::request::WireRole;
    if let Some(last) = req.messages.last().filter(|m| m.role == WireRole::Tool) {
        return format!(
            "The function answered `{}`.\n\nBased on that result, here is the answer: **it worked** — \
             in a real session the model would now use the data it got back.",
            last.content.replace('`', "'")
        )
        .into();
    }
    if let ResponseFormat::JsonSchema { schema, .. } = &req.params.response_format {
        return serde_json::to_string_pretty(&sample(schema, "answer"))
            .expect("JSON serializes")
            .into();
    }
    let last = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == crate::chat::request::WireRole::User)
        .map(|m| m.content.to_lowercase())
        .unwrap_or_default();
    let scenario = Scenario::for_prompt(&last);
    if scenario == Scenario::Json {
        // Stays pure JSON (it names its scenario inside), as a script would parse it.
        return scenario.answer();
    }
    // Said at the end, so a workshop knows what else to ask for.
    format!(
        "{}\n\n---\n\n_Offline demo, scenario: **{}**. Ask for code, a table, JSON, an essay \
         or something to refuse to see the others._\n",
        scenario.answer().trim_end(),
        scenario.label()
    )
    .into()
}

/// The call the demo makes when the request offers functions: the chosen one,
/// else the first, with arguments made up from its schema.
pub fn call_for(req: &ChatRequest) -> Option<(String, String)> {
    use crate::chat::tools::ToolChoice;
    let last = req.messages.last()?;
    if last.role != crate::chat::request::WireRole::User {
        return None;
    }
    let tool = match req.params.tool_choice.clone().unwrap_or_default() {
        ToolChoice::None => return None,
        ToolChoice::Function(name) => req.tools.iter().find(|t| t.name == name),
        ToolChoice::Auto | ToolChoice::Required => req.tools.first(),
    }?;
    Some((
        tool.name.clone(),
        sample(&tool.parameters, &tool.name).to_string(),
    ))
}

/// A value that fits `schema` (the first enum value, required properties...).
fn sample(schema: &serde_json::Value, name: &str) -> serde_json::Value {
    use serde_json::{Value, json};
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    match schema["type"].as_str().unwrap_or("object") {
        "object" => {
            let mut out = serde_json::Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in props {
                    out.insert(k.clone(), sample(v, k));
                }
            }
            Value::Object(out)
        }
        "array" => json!([sample(&schema["items"], name)]),
        "integer" => json!(3),
        "number" => json!(21.5),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!(match name {
            n if n.contains("city") || n.contains("location") => "Paris",
            n if n.contains("date") => "2026-11-23",
            n if n.contains("email") => "ada@example.com",
            _ => "example",
        }),
    }
}

/// What a reasoning model "thinks" before it answers, in the demo.
const THOUGHTS: &str = "The user wants a clear answer. Consider the options, weigh cost against quality, \
and check the edge cases before answering.";

fn pieces_of(text: &'static str) -> Vec<&'static str> {
    pieces(text)
}

/// Splits text into token-sized pieces (about four characters, on word edges).
pub fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut count = 0;
    for (i, c) in text.char_indices() {
        count += 1;
        let boundary = c.is_whitespace() || c.is_ascii_punctuation();
        if (boundary && count >= 2) || count >= 5 {
            let end = i + c.len_utf8();
            out.push(&text[start..end]);
            start = end;
            count = 0;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Streams the demo answer at `tokens_per_second` (0 = as fast as possible).
pub async fn stream(
    req: &ChatRequest,
    tokens_per_second: u32,
    emit: &mut (dyn FnMut(StreamEvent) + Send),
) {
    let answer = answer_for(req);
    let pieces = pieces(&answer);
    // A short "thinking" pause so the time to first token is visible.
    tokio::time::sleep(Duration::from_millis(if tokens_per_second == 0 {
        0
    } else {
        250
    }))
    .await;
    emit(StreamEvent::Started {
        model: Some(req.model.clone()),
    });
    let gap =
        (tokens_per_second > 0).then(|| Duration::from_secs_f64(1.0 / tokens_per_second as f64));
    // A reasoning model thinks first, slowly: its reasoning tokens are counted and priced as output.
    let thoughts = if crate::chat::params::is_reasoning_model(&req.model) {
        pieces_of(THOUGHTS)
    } else {
        Vec::new()
    };
    let mut ticker = gap.map(|g| tokio::time::interval(g * 3));
    for piece in &thoughts {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        emit(StreamEvent::ReasoningDelta(piece.to_string()));
    }
    let mut ticker = gap.map(tokio::time::interval);
    let call = call_for(req);
    let mut output = pieces.len();
    if let Some((name, args)) = &call {
        emit(StreamEvent::ToolCallDelta {
            index: 0,
            id: Some(format!("call_demo_{}", req.messages.len())),
            name: Some(name.clone()),
            arguments: String::new(),
        });
        let args_pieces = self::pieces(args);
        output = args_pieces.len() + 4;
        for piece in args_pieces {
            if let Some(t) = ticker.as_mut() {
                t.tick().await;
            }
            emit(StreamEvent::ToolCallDelta {
                index: 0,
                id: None,
                name: None,
                arguments: piece.to_string(),
            });
        }
    } else {
        for piece in &pieces {
            if let Some(t) = ticker.as_mut() {
                t.tick().await;
            }
            emit(StreamEvent::TextDelta(piece.to_string()));
        }
    }
    let input = req
        .messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + 4)
        .sum::<u64>()
        + req.attachment_tokens()
        + 3;
    emit(StreamEvent::Finish(match call {
        Some(_) => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    }));
    emit(StreamEvent::Usage(Usage {
        input,
        output: (output + thoughts.len()) as u64,
        reasoning: thoughts.len() as u64,
        source: UsageSource::Reported,
        ..Usage::default()
    }));
    emit(StreamEvent::End);
}

/// A rough count for when no tokenizer is at hand: about four bytes a token.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}
