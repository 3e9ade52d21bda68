//! What a theme file says: roles, colours and looks as plain data, read from
//! TOML. Apart from the console, so that the build reads the built-in themes
//! with it too (build.rs: they are compiled in already read, not parsed at
//! every start).

use std::collections::BTreeMap;

use serde::Deserialize;

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

/// A theme file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeFile {
    name: Option<String>,
    /// syntect theme used for fenced code.
    syntax: Option<String>,
    #[serde(default)]
    roles: BTreeMap<Role, StyleSpec>,
}

/// The syntect theme of a theme that names none (nor its base).
pub const DEFAULT_SYNTAX: &str = "base16-ocean.dark";

/// What a theme file sets, read: its name (`name`, the file's, if it gives
/// none), the syntect theme it names, and the looks of the roles it sets.
pub struct Read {
    pub name: String,
    pub syntax: Option<String>,
    pub looks: Vec<(Role, Look)>,
}

impl ThemeFile {
    pub fn read(self, name: &str) -> Result<Read, String> {
        let looks = self
            .roles
            .iter()
            .map(|(role, spec)| Ok((*role, spec.to_look()?)))
            .collect::<Result<_, String>>()?;
        Ok(Read {
            name: self.name.unwrap_or_else(|| name.to_string()),
            syntax: self.syntax,
            looks,
        })
    }
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
