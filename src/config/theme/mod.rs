//! Themes: semantic roles (title, muted, cost, error...) mapped to looks (colours
//! and emphasis as plain data), read from TOML. Built-ins are embedded; user
//! files in the themes dir override them. The console turns a look into a
//! terminal style (`tui::theme`); nothing here knows the terminal.

use std::collections::BTreeMap;
use std::path::Path;

use super::files::{self, FileError};

mod spec;
pub use spec::{Colour, Look, Role};
use spec::{DEFAULT_SYNTAX, ThemeFile};

/// The built-in themes' files: what users copy to make their own.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    ("presenter", include_str!("../../../themes/presenter.toml")),
];

/// A built-in theme as build.rs read its file, with `spec` as the console
/// reads a user's: the file's name, the theme's, its syntect theme, its looks.
type BuiltIn = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(Role, Look)],
);

// `READ`: every built-in.
include!(concat!(env!("OUT_DIR"), "/themes.rs"));

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub syntax: String,
    looks: BTreeMap<Role, Look>,
    /// `NO_COLOR`: keep bold/italic/underline, drop every colour.
    pub monochrome: bool,
}

impl Theme {
    pub fn look(&self, role: Role) -> Look {
        self.looks.get(&role).copied().unwrap_or_default()
    }

    pub fn built_in(name: &str) -> Option<Self> {
        let (_, theme, syntax, looks) = READ.iter().find(|(n, ..)| *n == name)?;
        Some(Self {
            name: theme.to_string(),
            syntax: syntax.to_string(),
            looks: looks.iter().copied().collect(),
            monochrome: false,
        })
    }

    /// Loads `name` from the user's themes dir, else a built-in. Returns the
    /// dark theme and the error when the user's file is broken.
    pub fn load(name: &str, themes_dir: &Path, no_color: bool) -> (Self, Option<FileError>) {
        let dark = || Self::built_in("dark").expect("dark is built in");
        let path = themes_dir.join(format!("{name}.toml"));
        let result = match files::read_optional(&path) {
            Ok(Some(text)) => files::parse_toml::<ThemeFile>(&path, &text).and_then(|file| {
                // A user theme fills the roles it leaves out from the built-in of the same name, or dark.
                let base = Self::built_in(name).unwrap_or_else(dark);
                Self::from_file(name, file, Some(&base), no_color).map_err(|message| {
                    FileError::Parse {
                        path: path.clone(),
                        line: String::new(),
                        message,
                    }
                })
            }),
            Ok(None) => Self::built_in(name).ok_or_else(|| FileError::Parse {
                path: path.clone(),
                line: String::new(),
                message: format!(
                    "no theme named {name:?} (built in: {})",
                    BUILT_IN.map(|(n, _)| n).join(", ")
                ),
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(mut theme) => {
                theme.set_monochrome(no_color);
                (theme, None)
            }
            Err(e) => {
                let mut theme = dark();
                theme.set_monochrome(no_color);
                (theme, Some(e))
            }
        }
    }

    fn from_file(
        name: &str,
        file: ThemeFile,
        base: Option<&Theme>,
        no_color: bool,
    ) -> Result<Self, String> {
        let read = file.read(name)?;
        let mut looks = base.map(|b| b.looks.clone()).unwrap_or_default();
        looks.extend(read.looks);
        let mut theme = Self {
            name: read.name,
            syntax: read
                .syntax
                .or(base.map(|b| b.syntax.clone()))
                .unwrap_or_else(|| DEFAULT_SYNTAX.into()),
            looks,
            monochrome: false,
        };
        theme.set_monochrome(no_color);
        Ok(theme)
    }

    fn set_monochrome(&mut self, on: bool) {
        if on {
            self.monochrome = true;
            for look in self.looks.values_mut() {
                look.fg = None;
                look.bg = None;
            }
            // Without colour, selection and badges still need to stand out.
            for role in [Role::Selection, Role::Badge, Role::Status] {
                let reversed = Look {
                    reversed: true,
                    ..Look::default()
                };
                self.looks.insert(role, reversed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-ins compiled in are their files as a user's theme file is
    /// read (the build reads them with `spec`; this reads them at run time).
    #[test]
    fn each_built_in_theme_is_its_file_read() {
        for (name, text) in BUILT_IN {
            let file: ThemeFile = toml::from_str(text).unwrap();
            let read = Theme::from_file(name, file, None, false).unwrap();
            let built = Theme::built_in(name).unwrap();
            assert_eq!(
                (&built.name, &built.syntax),
                (&read.name, &read.syntax),
                "{name}"
            );
            assert_eq!(built.looks, read.looks, "{name}");
            assert!(built.looks.len() >= 20, "{name}: {:?}", built.looks);
        }
        assert_eq!(READ.len(), BUILT_IN.len());
    }
}
