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

/// The answer the demo gives to a request, chosen from the last user message.
pub fn answer_for(req: &ChatRequest) -> &'static str {
    let last = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == crate::chat::request::WireRole::User)
        .map(|m| m.content.to_lowercase())
        .unwrap_or_default();
    let has = |words: &[&str]| words.iter().any(|w| last.contains(w));
    if has(&["code", "rust", "function", "python", "program", "file"]) {
        CODE_ANSWER
    } else if has(&["table", "compare", "model", "price", "cost"]) {
        TABLE_ANSWER
    } else {
        GENERAL_ANSWER
    }
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
    let pieces = pieces(answer);
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
    let mut ticker = gap.map(tokio::time::interval);
    for piece in &pieces {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        emit(StreamEvent::TextDelta(piece.to_string()));
    }
    let input = req
        .messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + 4)
        .sum::<u64>()
        + 3;
    emit(StreamEvent::Finish(FinishReason::Stop));
    emit(StreamEvent::Usage(Usage {
        input,
        output: pieces.len() as u64,
        source: UsageSource::Reported,
        ..Usage::default()
    }));
    emit(StreamEvent::End);
}

/// A rough count for when no tokenizer is at hand: about four bytes a token.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}
