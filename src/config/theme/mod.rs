//! Themes: semantic roles (title, muted, cost, error...) mapped to looks (colours
//! and emphasis as plain data), read from TOML. Built-ins are embedded; user
//! files in the themes dir override them. The console turns a look into a
//! terminal style (`tui::theme`); nothing here knows the terminal.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::files::{self, FileError};

pub const BUILT_IN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("presenter", include_str!("../../themes/presenter.toml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Text,
    Muted,
    Title,
    Accent,
    User,
    Assistant,
    System,
    Cost,
    Error,
    Warning,
    Success,
    Border,
    BorderFocus,
    Selection,
    Status,
    Badge,
    Heading,
    Link,
    Quote,
    Code,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    dim: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    /// syntect theme used for fenced code.
    syntax: Option<String>,
    #[serde(default)]
    roles: BTreeMap<Role, StyleSpec>,
}

/// A colour as a theme names it: one of the terminal's sixteen, its default
/// (`Reset`), a 256-colour index or RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Reset,
    Black,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    Gray,
    DarkGray,
    LightRed,
    LightGreen,
    LightYellow,
    LightBlue,
    LightMagenta,
    LightCyan,
    White,
    Indexed(u8),
    Rgb(u8, u8, u8),
}

/// How one role looks: colours (none: the terminal's own) and emphasis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    pub fg: Option<Colour>,
    pub bg: Option<Colour>,
    pub bold: bool,
    pub italic: bool,
    pub underline: bool,
    pub dim: bool,
    /// Foreground and background swapped (selection without colour).
    pub reversed: bool,
}

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
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name)?;
        let file: ThemeFile = toml::from_str(text).expect("built-in themes parse");
        Some(Self::from_file(name, file, None, false).expect("built-in colours are valid"))
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
        let mut looks = base.map(|b| b.looks.clone()).unwrap_or_default();
        for (role, spec) in file.roles {
            looks.insert(role, spec.to_look()?);
        }
        let mut theme = Self {
            name: file.name.unwrap_or_else(|| name.to_string()),
            syntax: file
                .syntax
                .or(base.map(|b| b.syntax.clone()))
                .unwrap_or_else(|| "base16-ocean.dark".into()),
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

impl StyleSpec {
    fn to_look(&self) -> Result<Look, String> {
        Ok(Look {
            fg: self.fg.as_deref().map(parse_colour).transpose()?,
            bg: self.bg.as_deref().map(parse_colour).transpose()?,
            bold: self.bold,
            italic: self.italic,
            underline: self.underline,
            dim: self.dim,
            reversed: false,
        })
    }
}

/// The names terminals and themes use for colours, as ratatui reads them
/// ("bright"/"light", "grey"/"gray", spaces, dashes and case ignored), a
/// 256-colour index, or `#rrggbb`.
fn parse_colour(s: &str) -> Result<Colour, String> {
    // What themes mostly hold first: no name to normalize.
    if let Some((r, g, b)) = hex(s) {
        return Ok(Colour::Rgb(r, g, b));
    }
    if let Ok(index) = s.parse::<u8>() {
        return Ok(Colour::Indexed(index));
    }
    let name = s
        .to_lowercase()
        .replace([' ', '-', '_'], "")
        .replace("bright", "light")
        .replace("grey", "gray")
        .replace("silver", "gray")
        .replace("lightblack", "darkgray")
        .replace("lightwhite", "white")
        .replace("lightgray", "white");
    Ok(match name.as_str() {
        "reset" => Colour::Reset,
        "black" => Colour::Black,
        "red" => Colour::Red,
        "green" => Colour::Green,
        "yellow" => Colour::Yellow,
        "blue" => Colour::Blue,
        "magenta" => Colour::Magenta,
        "cyan" => Colour::Cyan,
        "gray" => Colour::Gray,
        "darkgray" => Colour::DarkGray,
        "lightred" => Colour::LightRed,
        "lightgreen" => Colour::LightGreen,
        "lightyellow" => Colour::LightYellow,
        "lightblue" => Colour::LightBlue,
        "lightmagenta" => Colour::LightMagenta,
        "lightcyan" => Colour::LightCyan,
        "white" => Colour::White,
        _ => {
            return Err(format!(
                "{s:?} is not a colour (use a name like \"cyan\" or \"#rrggbb\")"
            ));
        }
    })
}

fn hex(s: &str) -> Option<(u8, u8, u8)> {
    if !s.starts_with('#') || s.len() != 7 {
        return None;
    }
    let byte = |at: usize| u8::from_str_radix(s.get(at..at + 2)?, 16).ok();
    Some((byte(1)?, byte(3)?, byte(5)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_read_as_terminals_name_them() {
        for (text, colour) in [
            ("cyan", Colour::Cyan),
            ("Bright Blue", Colour::LightBlue),
            ("dark-grey", Colour::DarkGray),
            ("light gray", Colour::White),
            ("8", Colour::Indexed(8)),
            ("#2e3440", Colour::Rgb(0x2e, 0x34, 0x40)),
        ] {
            assert_eq!(parse_colour(text), Ok(colour), "{text}");
        }
        for bad in ["#12345", "#gg0000", "chartreuse", "256"] {
            assert!(
                parse_colour(bad).unwrap_err().contains("is not a colour"),
                "{bad}"
            );
        }
    }
}
