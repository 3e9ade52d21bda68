//! A message's text, shared by the conversation, the snapshot the writer
//! saves and every request that sends it back.
//!
//! A long session used to copy its whole history twice an exchange (the
//! snapshot to save, the request's messages), as many small blocks as it has
//! messages; the answer streamed meanwhile landed between those copies, and
//! once they were freed the heap kept the pages around it (~9 KB an exchange
//! past the text itself). Shared, a copy is a count. And once its message is
//! finished the text can move out of the heap into the spool (`spooled`).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq)]
pub struct Text(Arc<Shared>);

impl Default for Text {
    /// One empty text shared by all (most answers' reasoning, kept for the
    /// whole session): a count, not an allocation each. Written to, it is
    /// copied first (`push_str`).
    fn default() -> Self {
        static EMPTY: std::sync::LazyLock<Text> = std::sync::LazyLock::new(|| Text(Arc::default()));
        EMPTY.clone()
    }
}

/// The tokenizers a text's count is remembered for (o200k, cl100k).
pub(crate) const TOKENIZERS: usize = 2;

#[derive(Default)]
struct Shared {
    text: Body,
    /// Its token count by each tokenizer once counted, plus one (0: not yet).
    /// The draft's count sends the whole history again after every pause in
    /// typing: each message is tokenized once, not once a keystroke.
    tokens: [AtomicU32; TOKENIZERS],
    /// Where a paged message's counts are kept in the spool (`chat::nodes`),
    /// written there too once counted: that message has no record on the
    /// heap to remember them, and each walk of the history makes its text anew.
    home: Option<super::spool::Tally>,
}

#[derive(Clone)]
enum Body {
    Heap(String),
    /// Written to the spool, read through its mapping.
    Spooled(super::spool::Span),
}

impl Default for Body {
    fn default() -> Self {
        Self::Heap(String::new())
    }
}

impl Body {
    fn as_str(&self) -> &str {
        match self {
            Self::Heap(s) => s,
            Self::Spooled(span) => span.as_str(),
        }
    }
}

impl Clone for Shared {
    fn clone(&self) -> Self {
        // A copy is made to be written to: the counts it keeps are its own.
        Self {
            text: self.text.clone(),
            tokens: self.counts(),
            home: None,
        }
    }
}

impl Shared {
    fn counts(&self) -> [AtomicU32; TOKENIZERS] {
        self.tokens
            .each_ref()
            .map(|t| AtomicU32::new(t.load(Relaxed)))
    }
}

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        self.text.as_str() == other.text.as_str()
    }
}

impl Eq for Shared {}

impl Text {
    /// Appends in place while the text is not shared (a streamed answer);
    /// a shared one is copied once first.
    pub fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let shared = Arc::make_mut(&mut self.0);
        if let Body::Spooled(span) = &shared.text {
            shared.text = Body::Heap(span.as_str().to_owned());
        }
        if let Body::Heap(text) = &mut shared.text {
            text.push_str(s);
        }
        for t in &mut shared.tokens {
            *t.get_mut() = 0;
        }
        shared.home = None;
    }

    pub fn as_str(&self) -> &str {
        self.0.text.as_str()
    }

    /// Its length, without reading a spooled text's pages back in.
    pub fn len(&self) -> usize {
        match &self.0.text {
            Body::Heap(text) => text.len(),
            Body::Spooled(span) => span.len(),
        }
    }

    /// Whether it is read from the spool.
    pub fn is_spooled(&self) -> bool {
        matches!(self.0.text, Body::Spooled(_))
    }

    /// Also for serde's `skip_serializing_if` (a `str` method is no path there).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same text moved out of the heap into the spool, with its counts;
    /// `None` when it is there already, empty, or the spool keeps nothing.
    pub fn spooled(&self) -> Option<Text> {
        let Body::Heap(text) = &self.0.text else {
            return None;
        };
        let span = super::spool::keep(text)?;
        Some(Self::from_spool(span, self.memo()))
    }

    /// Its counts as remembered (each one plus one, 0: not yet counted), to
    /// keep with a record that leaves the heap (`chat::nodes`).
    pub(crate) fn memo(&self) -> [u32; TOKENIZERS] {
        std::array::from_fn(|which| self.remembered(which))
    }

    /// Its count by tokenizer `which`, plus one, as remembered here or, for a
    /// paged message, in the spool (read there only when asked: a walk makes
    /// the text of every message, and counts by one tokenizer).
    fn remembered(&self, which: usize) -> u32 {
        let slot = &self.0.tokens[which];
        match (slot.load(Relaxed), &self.0.home) {
            (0, Some(home)) => {
                let memo = home.get(which);
                slot.store(memo, Relaxed);
                memo
            }
            (memo, _) => memo,
        }
    }

    /// The text at `span` of the spool, with the counts `memo` gave.
    pub(crate) fn from_spool(span: super::spool::Span, memo: [u32; TOKENIZERS]) -> Text {
        Self::from_page(span, memo, None)
    }

    /// As `from_spool`, its counts also kept in `home` (one number for each
    /// tokenizer): read from there when first asked for, written there once made.
    pub(crate) fn from_page(
        span: super::spool::Span,
        memo: [u32; TOKENIZERS],
        home: Option<super::spool::Tally>,
    ) -> Text {
        if span.len() == 0 {
            return Text::default();
        }
        Self(Arc::new(Shared {
            text: Body::Spooled(span),
            tokens: memo.map(AtomicU32::new),
            home,
        }))
    }

    /// Where it is in the spool; `None` on the heap.
    pub(crate) fn span(&self) -> Option<&super::spool::Span> {
        match &self.0.text {
            Body::Spooled(span) => Some(span),
            Body::Heap(_) => None,
        }
    }

    /// The text's tokens by tokenizer `which` (< TOKENIZERS), whose count is
    /// `count`: it runs the first time only. Only `tokens::Encoding` asks,
    /// so one slot always means one tokenizer.
    pub(crate) fn tokens(&self, which: usize, count: impl FnOnce(&str) -> u64) -> u64 {
        match self.remembered(which) {
            0 => {
                let text = self.as_str();
                let n = count(text).min(u64::from(u32::MAX - 1));
                // A spooled text spoiled from outside reads cut off: its count
                // is not kept (it would stay once the bytes were put back).
                if text.len() == self.len() {
                    self.0.tokens[which].store(n as u32 + 1, Relaxed);
                    if let Some(home) = &self.0.home {
                        home.set(which, n as u32 + 1);
                    }
                }
                n
            }
            memo => u64::from(memo - 1),
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(Arc::new(Shared {
            text: Body::Heap(s),
            tokens: Default::default(),
            home: None,
        }))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self::from(s.to_string())
    }
}

impl From<Text> for String {
    /// The string itself when nothing else holds it, else a copy.
    fn from(t: Text) -> Self {
        match Arc::try_unwrap(t.0) {
            Ok(Shared {
                text: Body::Heap(s),
                ..
            }) => s,
            Ok(shared) => shared.text.as_str().to_owned(),
            Err(shared) => shared.text.as_str().to_owned(),
        }
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_the_text_and_a_later_append_leaves_the_copy_as_it_was() {
        let mut answer = Text::from("Hello");
        let snapshot = answer.clone();
        assert!(
            std::ptr::eq(answer.as_str(), snapshot.as_str()),
            "a copy is the same text, not a second one"
        );
        answer.push_str(", world");
        assert_eq!(answer, "Hello, world");
        assert_eq!(snapshot, "Hello", "the snapshot keeps what it was given");
    }

    #[test]
    fn empty_texts_are_one_until_written_to() {
        let (mut reasoning, other) = (Text::default(), Text::default());
        assert!(
            Arc::ptr_eq(&reasoning.0, &other.0),
            "no allocation for each empty text"
        );
        reasoning.push_str("thinking");
        assert_eq!(reasoning, "thinking");
        assert_eq!(other, "", "the others stay empty");
        assert_eq!(Text::default(), "");
    }

    #[test]
    fn an_unshared_text_grows_in_place() {
        let mut answer = Text::from(String::with_capacity(256));
        answer.push_str(&"x".repeat(100));
        let before = answer.as_ptr();
        answer.push_str("y");
        assert_eq!(answer.as_ptr(), before, "grown within its capacity");
        let shared = answer.clone();
        answer.push_str("");
        assert!(
            std::ptr::eq(answer.as_str(), shared.as_str()),
            "an empty delta copies nothing"
        );
    }

    #[test]
    fn a_text_is_counted_once_by_each_tokenizer_and_again_once_it_grows() {
        let counted = std::cell::Cell::new(0);
        let count = |s: &str| {
            counted.set(counted.get() + 1);
            s.split(' ').count() as u64
        };
        let mut answer = Text::from("three small words");
        let sent = answer.clone();
        assert_eq!(answer.tokens(0, count), 3);
        assert_eq!(sent.tokens(0, count), 3, "a copy shares the count");
        assert_eq!(counted.get(), 1);
        assert_eq!(answer.tokens(1, count), 3);
        assert_eq!(counted.get(), 2, "another tokenizer counts for itself");
        assert_eq!((answer.tokens(0, count), answer.tokens(1, count)), (3, 3));
        assert_eq!(counted.get(), 2, "each tokenizer's count is kept");
        answer.push_str(" and more");
        assert_eq!(answer.tokens(0, count), 5, "grown: counted again");
        assert_eq!(answer.tokens(1, count), 5);
        assert_eq!(counted.get(), 4);
        assert_eq!(sent.tokens(0, count), 3, "the copy kept its text and count");
        assert_eq!(counted.get(), 4);
    }

    #[test]
    fn it_reads_and_writes_as_a_plain_json_string() {
        let t: Text = serde_json::from_str(r#""a \"quoted\" line\n""#).unwrap();
        assert_eq!(t, "a \"quoted\" line\n");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""a \"quoted\" line\n""#
        );
    }
}
