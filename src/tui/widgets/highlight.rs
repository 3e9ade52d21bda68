//! Syntax highlighting of fenced code with syntect. Its definitions take tens
//! of milliseconds to load, so they load on a background thread after the first
//! frame; until then code is drawn plain and redrawn once they are ready.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::SyntaxSet;

struct Assets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();

/// Loads the definitions (blocking); call from a background thread.
pub fn warm_up() {
    ASSETS.get_or_init(|| Assets {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        themes: ThemeSet::load_defaults(),
    });
}

pub fn is_ready() -> bool {
    ASSETS.get().is_some()
}

/// Highlights `code` as `lang`; `None` when the definitions are not loaded yet
/// or the language is unknown (the caller draws it plain).
pub fn highlight(code: &str, lang: &str, theme: &str) -> Option<Vec<Vec<Span<'static>>>> {
    let assets = ASSETS.get()?;
    let syntax = assets
        .syntaxes
        .find_syntax_by_token(lang)
        .or_else(|| assets.syntaxes.find_syntax_by_extension(lang))?;
    let theme = assets
        .themes
        .themes
        .get(theme)
        .or_else(|| assets.themes.themes.get("base16-ocean.dark"))?;
    let mut h = HighlightLines::new(syntax, theme);
    let mut out = Vec::new();
    for line in syntect::util::LinesWithEndings::from(code) {
        let ranges = h.highlight_line(line, &assets.syntaxes).ok()?;
        out.push(
            ranges
                .into_iter()
                .map(|(style, text)| {
                    let mut s = Style::default().fg(Color::Rgb(
                        style.foreground.r,
                        style.foreground.g,
                        style.foreground.b,
                    ));
                    if style.font_style.contains(FontStyle::BOLD) {
                        s = s.add_modifier(Modifier::BOLD);
                    }
                    if style.font_style.contains(FontStyle::ITALIC) {
                        s = s.add_modifier(Modifier::ITALIC);
                    }
                    Span::styled(text.trim_end_matches(['\n', '\r']).to_string(), s)
                })
                .collect(),
        );
    }
    Some(out)
}
