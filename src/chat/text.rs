//! A message's text, shared by the conversation, the snapshot the writer
//! saves and every request that sends it back.
//!
//! A long session used to copy its whole history twice an exchange (the
//! snapshot to save, the request's messages), as many small blocks as it has
//! messages; the answer streamed meanwhile landed between those copies, and
//! once they were freed the heap kept the pages around it (~9 KB an exchange
//! past the text itself). Shared, a copy is a count.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(Arc<Shared>);

#[derive(Default)]
struct Shared {
    text: String,
    /// Its token count by one tokenizer once counted: the tokenizer's tag in
    /// the top byte, the count below; 0 when not counted. The draft's count
    /// sends the whole history again after every pause in typing: each
    /// message is tokenized once, not once a keystroke.
    tokens: AtomicU64,
}

const COUNT: u64 = (1 << 56) - 1;

impl Clone for Shared {
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            tokens: AtomicU64::new(self.tokens.load(Relaxed)),
        }
    }
}

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Shared {}

impl Text {
    /// Appends in place while the text is not shared (a streamed answer);
    /// a shared one is copied once first.
    pub fn push_str(&mut self, s: &str) {
        let shared = Arc::make_mut(&mut self.0);
        shared.text.push_str(s);
        *shared.tokens.get_mut() = 0;
    }

    /// Gives back what growing left over (an answer's text, once whole).
    pub fn shrink_to_fit(&mut self) {
        if self.0.text.capacity() > self.0.text.len() {
            Arc::make_mut(&mut self.0).text.shrink_to_fit();
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The text's tokens by the tokenizer `tag` (not 0): `count` runs the
    /// first time, and again only for another tokenizer.
    pub fn tokens(&self, tag: u8, count: impl FnOnce(&str) -> u64) -> u64 {
        debug_assert!(tag != 0, "0 means not counted");
        let memo = self.0.tokens.load(Relaxed);
        if memo >> 56 == u64::from(tag) {
            return memo & COUNT;
        }
        let n = count(&self.0.text).min(COUNT);
        self.0.tokens.store(u64::from(tag) << 56 | n, Relaxed);
        n
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.text
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0.text
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(Arc::new(Shared {
            text: s,
            tokens: AtomicU64::new(0),
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
        Arc::try_unwrap(t.0)
            .map(|s| s.text)
            .unwrap_or_else(|shared| shared.text.clone())
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
        f.write_str(self)
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
    fn an_unshared_text_grows_in_place_and_gives_back_its_slack() {
        let mut answer = Text::from(String::with_capacity(256));
        answer.push_str(&"x".repeat(100));
        let before = answer.as_ptr();
        answer.push_str("y");
        assert_eq!(answer.as_ptr(), before, "grown within its capacity");
        answer.shrink_to_fit();
        assert_eq!(answer.0.text.capacity(), answer.len());
    }

    #[test]
    fn a_text_is_counted_once_per_tokenizer_and_again_once_it_grows() {
        let counted = std::cell::Cell::new(0);
        let count = |s: &str| {
            counted.set(counted.get() + 1);
            s.split(' ').count() as u64
        };
        let mut answer = Text::from("three small words");
        let sent = answer.clone();
        assert_eq!(answer.tokens(1, count), 3);
        assert_eq!(sent.tokens(1, count), 3, "a copy shares the count");
        assert_eq!(counted.get(), 1);
        answer.push_str(" and more");
        assert_eq!(answer.tokens(1, count), 5, "grown: counted again");
        assert_eq!(counted.get(), 2);
        assert_eq!(sent.tokens(1, count), 3, "the copy kept its text and count");
        assert_eq!(counted.get(), 2);
        assert_eq!(answer.tokens(2, count), 5);
        assert_eq!(counted.get(), 3, "another tokenizer counts anew");
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
