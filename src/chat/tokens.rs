//! Counting tokens with the model's tokenizer (o200k for gpt-4o and later,
//! cl100k before): OpenAI's byte-pair encoding over their published
//! vocabularies, kept compact. A general-purpose tokenizer library holds
//! ~45 MB for o200k; here the vocabulary (1.6 MB) and its lookup table (1 MB,
//! built at compile time) are read in place from the binary, so only the pages
//! a text touches are resident, and the splitting pattern is matched by hand
//! (`token_split`), so nothing is built at run time. Only counting is needed,
//! so there is no decoder.

use std::sync::OnceLock;

use super::request::ChatRequest;
use super::text::Text;
use super::token_split::{Pattern, pieces};
pub use super::token_table::fnv1a;
use super::token_table::{PLACE_MASK, slot_and_tag, token_at};

/// Per-message framing that Chat Completions adds (role markers), as OpenAI documents it.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

/// Tokens are looked up by their bytes in a table built at compile time (see
/// `token_table`), read where it lies in the binary.
pub struct Encoding {
    vocab: &'static [u8],
    table: &'static [u8],
    pattern: Pattern,
    /// Its slot in a message's remembered counts (`Text::tokens`).
    memo_slot: usize,
}

impl Encoding {
    fn new(vocab: &'static [u8], table: &'static [u8], pattern: Pattern, memo_slot: usize) -> Self {
        Self {
            vocab,
            table,
            pattern,
            memo_slot,
        }
    }

    /// The token's place in `vocab`, which orders tokens as their ranks do.
    fn rank(&self, bytes: &[u8]) -> Option<u32> {
        let slots = self.table.len() / 4;
        let (mut slot, tag) = slot_and_tag(bytes, slots);
        loop {
            let at = slot * 4;
            let s = u32::from_le_bytes(self.table[at..at + 4].try_into().expect("four bytes"));
            match s {
                0 => return None,
                s if s & !PLACE_MASK == tag
                    && token_at(self.vocab, ((s & PLACE_MASK) - 1) as usize) == bytes =>
                {
                    return Some((s & PLACE_MASK) - 1);
                }
                _ => slot = (slot + 1) & (slots - 1),
            }
        }
    }

    /// Tokens of `text`, as `encode_ordinary(text).len()` in tiktoken.
    pub fn count(&self, text: &str) -> u64 {
        pieces(self.pattern, text)
            .map(|p| self.piece_tokens(p.as_bytes()))
            .sum()
    }

    /// Tokens of a message's text, counted once and remembered with it.
    pub fn count_message(&self, text: &Text) -> u64 {
        text.tokens(self.memo_slot, |s| self.count(s))
    }

    /// Byte-pair merging of one piece, as tiktoken does it: repeatedly join the
    /// adjacent pair whose joined bytes have the lowest rank.
    fn piece_tokens(&self, piece: &[u8]) -> u64 {
        if piece.len() == 1 || self.rank(piece).is_some() {
            return 1;
        }
        // (start, rank of the pair starting here)
        let mut parts: Vec<(usize, u32)> = (0..piece.len() - 1)
            .map(|i| (i, self.rank(&piece[i..i + 2]).unwrap_or(u32::MAX)))
            .collect();
        parts.push((piece.len() - 1, u32::MAX));
        parts.push((piece.len(), u32::MAX));
        let pair_rank = |parts: &[(usize, u32)], i: usize| {
            if i + 3 < parts.len() {
                self.rank(&piece[parts[i].0..parts[i + 3].0])
                    .unwrap_or(u32::MAX)
            } else {
                u32::MAX
            }
        };
        loop {
            let (i, min) = parts[..parts.len() - 1]
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, r))| *r)
                .map(|(i, (_, r))| (i, *r))
                .unwrap_or((0, u32::MAX));
            if min == u32::MAX {
                break;
            }
            if i > 0 {
                parts[i - 1].1 = pair_rank(&parts, i - 1);
            }
            parts[i].1 = pair_rank(&parts, i);
            parts.remove(i + 1);
        }
        (parts.len() - 1) as u64
    }
}

static O200K: OnceLock<Encoding> = OnceLock::new();
static CL100K: OnceLock<Encoding> = OnceLock::new();

pub fn o200k() -> &'static Encoding {
    O200K.get_or_init(|| {
        Encoding::new(
            include_bytes!("../../assets/tokenizers/o200k_base.bin"),
            include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.table")),
            Pattern::O200k,
            0,
        )
    })
}

pub fn cl100k() -> &'static Encoding {
    CL100K.get_or_init(|| {
        Encoding::new(
            include_bytes!("../../assets/tokenizers/cl100k_base.bin"),
            include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.table")),
            Pattern::Cl100k,
            1,
        )
    })
}

/// Lets go of the tokenizers' pages a count made resident (`rodata`). A long
/// session counts after every exchange and, token by token, touches most of the 2.6 MB.
pub fn let_go() {
    for e in [O200K.get(), CL100K.get()].into_iter().flatten() {
        crate::rodata::let_go(e.vocab);
        crate::rodata::let_go(e.table);
    }
}

fn encoding_for(model: &str) -> &'static Encoding {
    let m = model.rsplit('/').next().unwrap_or(model);
    // Models before gpt-4o use cl100k; everything since (and unknown models) o200k.
    if m.starts_with("gpt-4-") || m == "gpt-4" || m.starts_with("gpt-3.5") {
        cl100k()
    } else {
        o200k()
    }
}

pub fn count_text(model: &str, text: &str) -> u64 {
    encoding_for(model).count(text)
}

/// Input tokens of a request, as the server will count them (within a few).
pub fn count_request(req: &ChatRequest) -> u64 {
    let enc = encoding_for(&req.model);
    let calls = |m: &crate::chat::request::WireMessage| {
        m.tool_calls
            .iter()
            .map(|c| enc.count(&c.name) + enc.count(&c.arguments))
            .sum::<u64>()
    };
    // Tool definitions are sent as text the model reads: counted as their JSON.
    let tools = req
        .tools
        .iter()
        .map(|t| {
            enc.count(&t.name) + enc.count(&t.description) + enc.count(&t.parameters.to_string())
        })
        .sum::<u64>();
    req.messages
        .iter()
        .map(|m| PER_MESSAGE + enc.count_message(&m.content) + calls(m))
        .sum::<u64>()
        + tools
        + req.attachment_tokens()
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
            messages: vec![WireMessage::text(WireRole::User, "Hello, world!")],
            params: Default::default(),
            tools: Vec::new(),
        };
        assert_eq!(count_request(&req), 3 + 4 + 3);
    }

    #[test]
    fn counts_the_same_after_letting_go_of_the_pages() {
        let text = "Tokens, counted — then the tables' pages are let go: 数え直し. ".repeat(50);
        let before = (count_text("gpt-4o", &text), count_text("gpt-4", &text));
        let_go();
        assert_eq!(
            (count_text("gpt-4o", &text), count_text("gpt-4", &text)),
            before
        );
        let_go();
        let_go();
        assert_eq!(count_text("gpt-4o", &text), before.0);
        // The tables are where it is safe to let go: in the binary's file mapping.
        #[cfg(target_os = "linux")]
        assert!(
            crate::rodata::read_from_file(o200k().vocab)
                && crate::rodata::read_from_file(cl100k().table)
        );
    }

    #[test]
    fn a_remembered_count_is_the_count_for_each_model_family() {
        let words = "A message of a long session, counted again after every keystroke. ";
        let messages: Vec<WireMessage> = (0..6)
            .map(|i| WireMessage::text(WireRole::User, &words.repeat(i * 7 + 1)))
            .collect();
        let request = |model: &str, messages: Vec<WireMessage>| ChatRequest {
            model: model.into(),
            messages,
            params: Default::default(),
            tools: Vec::new(),
        };
        // The same texts (shared) through both tokenizers, twice each, against
        // copies that were never counted.
        for model in ["gpt-4o", "gpt-4", "gpt-4o", "gpt-4"] {
            let fresh = messages
                .iter()
                .map(|m| WireMessage::text(m.role, &m.content))
                .collect();
            assert_eq!(
                count_request(&request(model, messages.clone())),
                count_request(&request(model, fresh)),
                "{model}"
            );
        }
        assert_ne!(
            count_request(&request("gpt-4o", messages.clone())),
            count_request(&request("gpt-4", messages)),
            "the two tokenizers differ on this text, so a mixed-up memo would show"
        );
    }
}
