//! Counting tokens with the model's tokenizer. The tokenizer tables take tens
//! of milliseconds and megabytes to load, so they load on first use, off the
//! first frame; callers run this in a blocking task.

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

use super::request::ChatRequest;

/// Per-message framing that Chat Completions adds (role markers), as OpenAI documents it.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

fn encoding_for(model: &str) -> &'static CoreBPE {
    static O200K: OnceLock<&'static CoreBPE> = OnceLock::new();
    static CL100K: OnceLock<&'static CoreBPE> = OnceLock::new();
    let m = model.rsplit('/').next().unwrap_or(model);
    // Models before gpt-4o use cl100k; everything since (and unknown models) o200k.
    if m.starts_with("gpt-4-") || m == "gpt-4" || m.starts_with("gpt-3.5") {
        CL100K.get_or_init(tiktoken_rs::cl100k_base_singleton)
    } else {
        O200K.get_or_init(tiktoken_rs::o200k_base_singleton)
    }
}

pub fn count_text(model: &str, text: &str) -> u64 {
    encoding_for(model).encode_ordinary(text).len() as u64
}

/// Input tokens of a request, as the server will count them (within a few).
pub fn count_request(req: &ChatRequest) -> u64 {
    let bpe = encoding_for(&req.model);
    req.messages
        .iter()
        .map(|m| PER_MESSAGE + bpe.encode_ordinary(&m.content).len() as u64)
        .sum::<u64>()
        + REPLY_PRIMING
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::request::{WireMessage, WireRole};

    #[test]
    fn counts_like_openai() {
        assert_eq!(count_text("gpt-4o", "Hello, world!"), 4);
        let req = ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![WireMessage {
                role: WireRole::User,
                content: "Hello, world!".into(),
            }],
            params: Default::default(),
        };
        assert_eq!(count_request(&req), 3 + 4 + 3);
    }
}
