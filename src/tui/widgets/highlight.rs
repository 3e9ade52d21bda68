//! Syntax highlighting of fenced code with syntect. A language's definitions
//! load the first time a block of it is drawn, from a dump of that language
//! and those it embeds (`build/syntax_split.rs`: loading syntect's whole
//! default set kept every language's contexts for the session). The colour
//! theme loads on a background thread after the first frame; until then code
//! is drawn plain and redrawn once it is ready.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

// `SYNTAXES` (each default syntax's name, extensions and dump) and `DUMPS`.
include!(concat!(env!("OUT_DIR"), "/syntax_sets.rs"));

/// The dumps loaded so far: a conversation highlights a language or two.
static SETS: LazyLock<Vec<OnceLock<SyntaxSet>>> =
    LazyLock::new(|| DUMPS.iter().map(|_| OnceLock::new()).collect());

/// The one colour theme in use, by name. Only it is kept: the seven default
/// themes hold ~140 KB, and a console draws with one (another name loads the
/// defaults again and keeps that one instead).
static THEME: Mutex<Option<(String, Arc<Theme>)>> = Mutex::new(None);

static READY: AtomicBool = AtomicBool::new(false);

/// The theme highlighting falls back to when a name is not one of syntect's.
const FALLBACK_THEME: &str = "base16-ocean.dark";

/// Loads the colour theme `theme` (blocking); call from a background thread.
pub fn warm_up(theme: &str) {
    theme_named(theme);
    READY.store(true, Ordering::Release);
}

pub fn is_ready() -> bool {
    READY.load(Ordering::Acquire)
}

/// The syntax a fence's language names, as syntect's `find_syntax_by_token`
/// finds it in the default set (by extension, then by name; the last of the
/// set first), and the loaded dump that holds it.
fn syntax_for(token: &str) -> Option<(&'static SyntaxSet, &'static SyntaxReference)> {
    let index = SYNTAXES
        .iter()
        .rposition(|(_, extensions, _)| extensions.iter().any(|e| e.eq_ignore_ascii_case(token)))
        .or_else(|| {
            SYNTAXES
                .iter()
                .rposition(|(name, _, _)| name.eq_ignore_ascii_case(token))
        })?;
    let dump = SYNTAXES[index].2;
    // A syntax keeps its index in every dump.
    let set = SETS[dump].get_or_init(|| {
        let set = syntect::dumps::from_binary(DUMPS[dump]);
        crate::rodata::let_go(DUMPS[dump]);
        set
    });
    Some((set, set.syntaxes().get(index)?))
}

fn theme_named(name: &str) -> Option<Arc<Theme>> {
    let mut kept = THEME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((kept_name, theme)) = kept.as_ref()
        && kept_name == name
    {
        return Some(theme.clone());
    }
    let mut themes = ThemeSet::load_defaults().themes;
    let theme = Arc::new(
        themes
            .remove(name)
            .or_else(|| themes.remove(FALLBACK_THEME))?,
    );
    *kept = Some((name.to_string(), theme.clone()));
    Some(theme)
}

/// Where highlighting of the last code block stopped: a growing block (a stream)
/// resumes from its last complete line instead of starting over every frame.
struct Resume {
    lang: String,
    theme: String,
    /// The complete lines already highlighted.
    done: String,
    state: (
        syntect::highlighting::HighlightState,
        syntect::parsing::ParseState,
    ),
    lines: Vec<Vec<Span<'static>>>,
}

thread_local! {
    static LAST: std::cell::RefCell<Option<Resume>> = const { std::cell::RefCell::new(None) };
    /// Lines handed to syntect on this thread, for tests and benches: a growing
    /// block must cost the new lines, not the block.
    static HIGHLIGHTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many lines this thread has highlighted so far.
pub fn lines_highlighted() -> usize {
    HIGHLIGHTED.with(std::cell::Cell::get)
}

fn count_line() {
    HIGHLIGHTED.with(|n| n.set(n.get() + 1));
}

fn to_spans(ranges: Vec<(syntect::highlighting::Style, &str)>) -> Vec<Span<'static>> {
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
        .collect()
}

/// Highlights `code` as `lang`; `None` when the definitions are not loaded yet
/// or the language is unknown (the caller draws it plain). An unfinished last
/// line (a stream's) is highlighted on a copy of the parser state, anew each
/// time: drawn plain until it ended, every code line reached the terminal
/// twice, plain and then in colour.
pub fn highlight(code: &str, lang: &str, theme: &str) -> Option<Vec<Vec<Span<'static>>>> {
    highlight_from(code, lang, theme, 0)
}

/// `highlight`'s lines from line `from` on: a growing block asks only for its
/// new lines, and gets no copy of the others.
pub fn highlight_from(
    code: &str,
    lang: &str,
    theme: &str,
    from: usize,
) -> Option<Vec<Vec<Span<'static>>>> {
    if !is_ready() {
        return None;
    }
    let (syntaxes, syntax) = syntax_for(lang)?;
    let theme_name = theme;
    let theme = theme_named(theme)?;
    let theme = theme.as_ref();
    let resume = LAST.with(|l| {
        let mut l = l.borrow_mut();
        match l.take() {
            Some(r) if r.lang == lang && r.theme == theme_name && code.starts_with(&r.done) => {
                Some(r)
            }
            _ => None,
        }
    });
    let (mut h, mut lines, start) = match resume {
        Some(r) => {
            let len = r.done.len();
            (
                HighlightLines::from_state(theme, r.state.0, r.state.1),
                r.lines,
                len,
            )
        }
        None => (HighlightLines::new(syntax, theme), Vec::new(), 0),
    };
    let rest = &code[start..];
    // Complete lines are kept for next time; a last line without its newline may still grow.
    let complete = rest.rfind('\n').map(|i| i + 1).unwrap_or(0);
    for line in syntect::util::LinesWithEndings::from(&rest[..complete]) {
        count_line();
        lines.push(to_spans(h.highlight_line(line, syntaxes).ok()?));
    }
    let done = code[..start + complete].to_string();
    let mut out = lines.get(from..).unwrap_or_default().to_vec();
    let partial = &rest[complete..];
    let state = if partial.is_empty() {
        h.state()
    } else {
        // Highlight the unfinished line on a copy, so the saved state stays at the line start.
        let saved = h.state();
        let mut copy = HighlightLines::from_state(theme, saved.0.clone(), saved.1.clone());
        count_line();
        out.push(to_spans(copy.highlight_line(partial, syntaxes).ok()?));
        saved
    };
    LAST.with(|l| {
        *l.borrow_mut() = Some(Resume {
            lang: lang.to_string(),
            theme: theme_name.to_string(),
            done,
            state,
            lines,
        })
    });
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Vec<Span<'static>>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    /// syntect's whole default set, as the console loaded it before the split.
    fn whole() -> &'static SyntaxSet {
        static WHOLE: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);
        &WHOLE
    }

    #[test]
    fn every_language_name_and_extension_finds_the_syntax_the_whole_set_finds() {
        let mut tokens: Vec<String> = vec!["".into(), "nope".into(), "RS".into(), "c++".into()];
        for s in whole().syntaxes() {
            tokens.push(s.name.clone());
            tokens.push(s.name.to_uppercase());
            tokens.extend(s.file_extensions.iter().cloned());
        }
        for token in &tokens {
            let ours = syntax_for(token).map(|(_, s)| (&s.name, &s.scope));
            let theirs = whole()
                .find_syntax_by_token(token)
                .map(|s| (&s.name, &s.scope));
            assert_eq!(ours, theirs, "{token:?}");
        }
    }

    /// Each language highlights as it did from the whole set, embedded
    /// languages included (Markdown's fences, HTML's script and style, PHP in
    /// HTML).
    #[test]
    fn a_language_highlights_from_its_own_dump_as_from_the_whole_set() {
        warm_up("base16-ocean.dark");
        let samples = [
            (
                "rust",
                "/// Doc.\nfn main() {\n    let s = \"a {x}\";\n    println!(\"{s}\"); // done\n}\n",
            ),
            (
                "python",
                "@dataclass\nclass A:\n    def f(self, x: int) -> str:\n        return f\"{x!r}\"  # c\n",
            ),
            (
                "markdown",
                "# Title\n\n```rust\nfn f() {}\n```\n\n```json\n{\"a\": [1, true]}\n```\n\n- *item* `code`\n",
            ),
            (
                "html",
                "<!DOCTYPE html>\n<style>p { color: red; }</style>\n<script>let x = 1 + 2;</script>\n<p class=\"a\">hi</p>\n",
            ),
            (
                "php",
                "<p><?php echo $x + 1; ?></p>\n<?php\nfunction f($a) { return \"s\"; }\n",
            ),
            (
                "sh",
                "#!/bin/sh\nfor f in *.rs; do echo \"$f\" | wc -l; done\n",
            ),
            (
                "sql",
                "SELECT a, count(*) FROM t WHERE b = 'x' GROUP BY a;\n",
            ),
            ("yaml", "a:\n  - b: 1\n    c: \"d\"\n"),
        ];
        let theme = theme_named("base16-ocean.dark").unwrap();
        for (lang, code) in samples {
            LAST.with(|l| *l.borrow_mut() = None);
            let ours = highlight(code, lang, "base16-ocean.dark").unwrap();
            let syntax = whole().find_syntax_by_token(lang).unwrap();
            let mut h = HighlightLines::new(syntax, &theme);
            let theirs: Vec<Vec<Span<'static>>> = syntect::util::LinesWithEndings::from(code)
                .map(|line| to_spans(h.highlight_line(line, whole()).unwrap()))
                .collect();
            assert_eq!(ours, theirs, "{lang}");
            let colours: std::collections::HashSet<_> =
                ours.iter().flatten().map(|s| s.style.fg).collect();
            assert!(colours.len() > 2, "{lang} is highlighted: {colours:?}");
        }
    }

    #[test]
    fn a_growing_block_resumes_and_matches_a_fresh_highlight() {
        warm_up("base16-ocean.dark");
        let full = "fn main() {\n    let s = \"a string\";\n    println!(\"{s}\");\n}\n";
        let mut last = None;
        for cut in 1..=full.len() {
            if full.is_char_boundary(cut) {
                last = highlight(&full[..cut], "rust", "base16-ocean.dark");
            }
        }
        let resumed = last.unwrap();
        LAST.with(|l| *l.borrow_mut() = None);
        let fresh = highlight(full, "rust", "base16-ocean.dark").unwrap();
        assert_eq!(text(&resumed), text(&fresh));
        let styles = |v: &[Vec<Span<'static>>]| -> Vec<Vec<Style>> {
            v.iter()
                .map(|l| l.iter().map(|s| s.style).collect())
                .collect()
        };
        assert_eq!(styles(&resumed), styles(&fresh));
    }
}
