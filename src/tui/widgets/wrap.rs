//! Word wrapping of styled spans to a width, so the transcript knows the exact
//! height of every message without asking ratatui to lay it out.

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Wraps `spans` to `width` columns. A span whose text is "\n" forces a break.
pub fn wrap(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let mut lines: Vec<Vec<Span<'static>>> = Vec::new();
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    let mut pending_space: Option<Style> = None;
    for span in spans {
        if span.content == "\n" {
            lines.push(std::mem::take(&mut line));
            used = 0;
            pending_space = None;
            continue;
        }
        for piece in pieces(&span.content) {
            if piece.chars().all(char::is_whitespace) {
                if used > 0 {
                    pending_space = Some(span.style);
                }
                continue;
            }
            let w = piece.width();
            let space = usize::from(pending_space.is_some());
            if used > 0 && used + space + w > width {
                lines.push(std::mem::take(&mut line));
                used = 0;
                pending_space = None;
            }
            if let Some(style) = pending_space.take()
                && used > 0
            {
                push(&mut line, " ", style);
                used += 1;
            }
            if w <= width - used.min(width) {
                push(&mut line, piece, span.style);
                used += w;
                continue;
            }
            // A word longer than the line: break it by characters.
            for c in piece.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > width && used > 0 {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
                let mut buf = [0u8; 4];
                push(&mut line, c.encode_utf8(&mut buf), span.style);
                used += cw;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Appends text, merging with the last span when the style is the same.
fn push(line: &mut Vec<Span<'static>>, text: &str, style: Style) {
    if let Some(last) = line.last_mut()
        && last.style == style
    {
        last.content.to_mut().push_str(text);
        return;
    }
    line.push(Span::styled(text.to_string(), style));
}

/// Splits into alternating runs of whitespace and non-whitespace.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let ws = first.is_whitespace();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_whitespace() != ws)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// A box title of hints (" a — b, c · d ") made to fit `width` columns: whole
/// hints are dropped from the end, so no word is cut at the border; only a
/// title whose first part alone is too wide is cut, and then with `…`.
pub fn fit_title(title: &str, width: usize) -> String {
    if title.width() <= width {
        return title.to_string();
    }
    let body = title.trim();
    let mut end = body.len();
    while let Some(cut) = [" · ", ", ", " — ", " ("]
        .iter()
        .filter_map(|sep| body[..end].rfind(sep))
        .max()
    {
        end = cut;
        let fitted = format!(" {} ", &body[..end]);
        if fitted.width() <= width {
            return fitted;
        }
    }
    truncate(&format!(" {body}"), width)
}

/// Truncates to `width` columns, ending with `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Vec<Span<'static>>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wraps_on_words_and_breaks_long_ones() {
        let spans = vec![
            Span::raw("the quick brown fox jumps"),
            Span::raw(" abcdefghijkl"),
        ];
        assert_eq!(
            texts(&wrap(&spans, 10)),
            ["the quick", "brown fox", "jumps", "abcdefghij", "kl"]
        );
    }

    #[test]
    fn titles_drop_whole_hints_to_fit() {
        let t = " Enter run · Ctrl-E edit · Alt-D duplicate · Del ";
        assert_eq!(fit_title(t, 60), t);
        assert_eq!(fit_title(t, 30), " Enter run · Ctrl-E edit ");
        assert_eq!(
            fit_title(" Result for f (c) — Enter sends it, Alt-C saved ", 36),
            " Result for f (c) — Enter sends it "
        );
        assert_eq!(fit_title(" Conversations ", 8), " Conver…");
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(
            texts(&wrap(&[Span::raw("日本語のテキスト")], 6)),
            ["日本語", "のテキ", "スト"]
        );
    }
}
