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

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(Arc<String>);

impl Text {
    /// Appends in place while the text is not shared (a streamed answer);
    /// a shared one is copied once first.
    pub fn push_str(&mut self, s: &str) {
        Arc::make_mut(&mut self.0).push_str(s);
    }

    /// Gives back what growing left over (an answer's text, once whole).
    pub fn shrink_to_fit(&mut self) {
        if self.0.capacity() > self.0.len() {
            Arc::make_mut(&mut self.0).shrink_to_fit();
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(Arc::new(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(Arc::new(s.to_string()))
    }
}

impl From<Text> for String {
    /// The string itself when nothing else holds it, else a copy.
    fn from(t: Text) -> Self {
        Arc::unwrap_or_clone(t.0)
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
        assert_eq!(answer.0.capacity(), answer.len());
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
