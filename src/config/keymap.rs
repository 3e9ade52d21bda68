//! Reading `keymap.toml`. The tables stay strings here; the TUI turns them
//! into actions, laying the user's entries over the embedded defaults.

use std::collections::BTreeMap;
use std::path::Path;

use super::files::{self, FileError};

/// section → key → action name.
pub type KeyTables = BTreeMap<String, BTreeMap<String, String>>;

pub const DEFAULT_KEYMAP: &str = include_str!("keymap.toml");

/// The embedded defaults, read line by line: the file keeps to `[section]`
/// and `"key" = "action"` lines, and parsing it with the toml crate was a
/// sixth of the work before the first frame. A test holds this reading to
/// toml's.
pub fn defaults() -> KeyTables {
    // `"key" = "action"`: the key may be any character but a quote, `=` too.
    let entry = |line: &str| {
        let (key, rest) = line.strip_prefix('"')?.split_once('"')?;
        let action = rest.trim_start().strip_prefix('=')?.trim_start();
        let action = action.strip_prefix('"')?.strip_suffix('"')?;
        Some((key.to_string(), action.to_string()))
    };
    let mut tables = KeyTables::new();
    let mut section = String::new();
    for line in DEFAULT_KEYMAP.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            tables.entry(section.clone()).or_default();
            continue;
        }
        // An entry belongs to the section above it: none above is no keymap.
        let (Some(keys), Some((key, action))) = (tables.get_mut(&section), entry(line)) else {
            panic!("the default keymap keeps to its line format: {line}");
        };
        keys.insert(key, action);
    }
    tables
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_keymap_reads_as_toml_reads_it() {
        let toml: KeyTables = toml::from_str(DEFAULT_KEYMAP).unwrap();
        let ours = defaults();
        assert_eq!(ours, toml);
        assert!(ours["global"].len() > 10 && ours.len() > 5);
    }
}
