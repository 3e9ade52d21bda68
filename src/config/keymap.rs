//! Reading `keymap.toml`: the embedded defaults with the user's file laid over them.
//! The tables stay strings here; the TUI turns them into actions.

use std::collections::BTreeMap;
use std::path::Path;

use super::files::{self, FileError};

/// section → key → action name.
pub type KeyTables = BTreeMap<String, BTreeMap<String, String>>;

pub const DEFAULT_KEYMAP: &str = include_str!("../tui/keymap.toml");

pub fn load(user_file: &Path) -> (KeyTables, Option<FileError>) {
    let mut tables: KeyTables = toml::from_str(DEFAULT_KEYMAP).expect("default keymap parses");
    let error = match files::read_optional(user_file) {
        Ok(Some(text)) => match files::parse_toml::<KeyTables>(user_file, &text) {
            Ok(user) => {
                for (section, keys) in user {
                    tables.entry(section).or_default().extend(keys);
                }
                None
            }
            Err(e) => Some(e),
        },
        Ok(None) => None,
        Err(e) => Some(e),
    };
    (tables, error)
}
