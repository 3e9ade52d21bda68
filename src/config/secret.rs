//! An API key that cannot be printed, logged or serialized by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Trims the stray whitespace and newlines that `echo` and key files leave.
    pub fn new(raw: &str) -> Option<Self> {
        let key = raw.trim();
        if key.is_empty() {
            return None;
        }
        crate::log::register_secret(key);
        Some(Self(key.to_string()))
    }

    /// The key itself, for the one place that needs it: the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown: the first few characters and the length.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(3).collect();
        format!("{head}…({} chars)", self.0.chars().count())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
