//! Themes: semantic roles (title, muted, cost, error...) mapped to styles, read
//! from TOML. Built-ins are embedded; user files in the themes dir override them.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
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

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub syntax: String,
    styles: BTreeMap<Role, Style>,
    /// `NO_COLOR`: keep bold/italic/underline, drop every colour.
    pub monochrome: bool,
}

impl Theme {
    pub fn style(&self, role: Role) -> Style {
        self.styles.get(&role).copied().unwrap_or_default()
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
        let mut styles = base.map(|b| b.styles.clone()).unwrap_or_default();
        for (role, spec) in file.roles {
            styles.insert(role, spec.to_style()?);
        }
        let mut theme = Self {
            name: file.name.unwrap_or_else(|| name.to_string()),
            syntax: file
                .syntax
                .or(base.map(|b| b.syntax.clone()))
                .unwrap_or_else(|| "base16-ocean.dark".into()),
            styles,
            monochrome: false,
        };
        theme.set_monochrome(no_color);
        Ok(theme)
    }

    fn set_monochrome(&mut self, on: bool) {
        if on {
            self.monochrome = true;
            for style in self.styles.values_mut() {
                style.fg = None;
                style.bg = None;
            }
            // Without colour, selection and badges still need to stand out.
            for role in [Role::Selection, Role::Badge, Role::Status] {
                self.styles
                    .insert(role, Style::default().add_modifier(Modifier::REVERSED));
            }
        }
    }
}

impl StyleSpec {
    fn to_style(&self) -> Result<Style, String> {
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(parse_color(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(parse_color(bg)?);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.dim, Modifier::DIM),
        ] {
            if on {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

fn parse_color(s: &str) -> Result<Color, String> {
    s.parse::<Color>()
        .map_err(|_| format!("{s:?} is not a colour (use a name like \"cyan\" or \"#rrggbb\")"))
}
