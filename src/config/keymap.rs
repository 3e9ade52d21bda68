//! Reading `keymap.toml`. The tables stay strings here; the TUI turns them
//! into actions, laying the user's entries over the embedded defaults.

use std::collections::BTreeMap;
use std::path::Path;

use super::files::{self, FileError};

/// section → key → action name.
pub type KeyTables = BTreeMap<String, BTreeMap<String, String>>;

pub const DEFAULT_KEYMAP: &str = include_str!("keymap.toml");

pub fn defaults() -> KeyTables {
    toml::from_str(DEFAULT_KEYMAP).expect("default keymap parses")
}

/// The user's file, if there is one and it parses.
pub fn load_user(user_file: &Path) -> (Option<KeyTables>, Option<FileError>) {
    match files::read_optional(user_file) {
        Ok(Some(text)) => match files::parse_toml::<KeyTables>(user_file, &text) {
            Ok(user) => (Some(user), None),
            Err(e) => (None, Some(e)),
        },
        Ok(None) => (None, None),
        Err(e) => (None, Some(e)),
    }
}
