//! Markdown to pre-wrapped terminal lines: headings, emphasis, lists, quotes,
//! inline code, links, tables and fenced code highlighted by language.
//! Lines come out already wrapped to the width so heights are exact and cacheable.

use crate::tui::theme::Styled;
use std::borrow::Cow;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::highlight;
use super::wrap::wrap;
use crate::config::theme::{Role, Theme};
use crate::inert::inert;

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub lines: Vec<Line<'static>>,
    /// The fenced code blocks, raw, for "copy code".
    pub code_blocks: Vec<String>,
    /// False when some code was drawn plain because highlighting was not loaded yet.
    pub fully_highlighted: bool,
}

enum Container {
    Quote,
    List(Option<u64>),
    /// A list item; the marker is drawn on its first line only.
    Item {
        marker: String,
        drawn: bool,
    },
}

struct Table {
    rows: Vec<Vec<String>>,
    header_rows: usize,
    cell: String,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    out: Rendered,
    inline: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    code: Option<(String, String)>,
    table: Option<Table>,
    link: Option<String>,
}

/// Renders the part of a message still being streamed (see `render` for the
/// rest): a table's next row shows once it has begun.
pub fn render_growing(src: &str, width: u16, theme: &Theme) -> Rendered {
    render(held_back(src), width, theme)
}

/// A growing text as it is drawn: a last line that is only the `|` opening a
/// table's next row is no row yet: it ends the table, and a token later the
/// row is there and the table back. Held back, the table grows by a row
/// instead of jumping down and up.
pub fn held_back(src: &str) -> &str {
    match src.rsplit_once('\n') {
        Some((head, last)) if last.trim() == "|" => &src[..=head.len()],
        None if src.trim() == "|" => "",
        _ => src,
    }
}

const OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS);

pub fn render(src: &str, width: u16, theme: &Theme) -> Rendered {
    let mut r = Renderer::new(width, theme);
    for event in Parser::new_ext(src, OPTIONS) {
        r.event(event);
    }
    // A stream may stop inside an open code block or table: draw what there is.
    if r.code.is_some() {
        r.end_code();
    }
    if r.table.is_some() {
        r.end_table();
    }
    r.flush();
    while r.out.lines.last().is_some_and(|l| l.spans.is_empty()) {
        r.out.lines.pop();
    }
    r.out
}

/// The cells of `src` when it is one table and nothing else, read as
/// `render` reads them.
pub fn table_cells(src: &str, theme: &Theme) -> Option<super::table::Cells> {
    let mut r = Renderer::new(8, theme);
    let mut events = Parser::new_ext(src, OPTIONS);
    let Event::Start(tag @ Tag::Table(_)) = events.next()? else {
        return None;
    };
    r.start(tag);
    for event in events.by_ref() {
        if event == Event::End(TagEnd::Table) {
            break;
        }
        r.event(event);
    }
    let table = r.table.take().filter(|_| events.next().is_none())?;
    Some(super::table::Cells {
        rows: table.rows,
        header_rows: table.header_rows,
    })
}

/// When `src` is one open fenced code block (its fence line first, whole,
/// and no closing fence after it): the length of the fence line and the
/// block's language. A growing answer's tail that is one lays out only its
/// new lines each frame (`open_block`). The block's first `seen` bytes are
/// complete lines already found not to close it (the last frame's): only
/// the lines from there on are looked at, so a frame at the end of a long
/// block reads what is new, not the whole block.
pub fn open_fence(src: &str, seen: usize) -> Option<(usize, String)> {
    let (first, rest) = src.split_once('\n')?;
    let (mark, n) = super::stable::opens_fence(first)?;
    let info = first[n..].trim();
    let rest = rest.get(seen..).unwrap_or(rest);
    let closed = rest.split('\n').any(|line| {
        FENCE_LINES.with(|n| n.set(n.get() + 1));
        let t = line.trim_start();
        line.len() - t.len() < 4
            && t.chars().take_while(|c| *c == mark).count() >= n
            && t.trim_end().chars().all(|c| c == mark)
    });
    let lang = info.split([' ', ',']).next().unwrap_or("").to_string();
    (!closed).then_some((first.len() + 1, lang))
}

/// The rows of an open code block (`open_fence`) from its code line `from`
/// on: its header first if `header`, its complete lines, then (apart,
/// as they change every frame) the unfinished last line and the closing
/// border, as `render_growing` draws the block. The bool: highlighted.
pub fn open_block(
    code: &str,
    lang: &str,
    (from, header): (usize, bool),
    width: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Vec<Line<'static>>, bool) {
    let code_style = theme.style(Role::Code);
    let muted = theme.style(Role::Muted);
    let avail = usize::from(width).max(8).max(4);
    let mut done = Vec::new();
    if header {
        let label = if lang.is_empty() {
            "code".to_string()
        } else {
            inert(lang).into_owned()
        };
        done.push(Line::from(vec![Span::styled(format!("╭─ {label}"), muted)]));
    }
    let mut full = true;
    let highlighted = if theme.monochrome || lang.is_empty() {
        None
    } else {
        let h = highlight::highlight_from(code, lang, &theme.syntax, from);
        full = h.is_some() || highlight::is_ready();
        h
    };
    let lines: Vec<Vec<Span<'static>>> = highlighted.unwrap_or_else(|| {
        code.lines()
            .skip(from)
            .map(|l| vec![Span::styled(l.to_string(), code_style)])
            .collect()
    });
    let partial = !code.is_empty() && !code.ends_with('\n');
    let complete = lines.len() - usize::from(partial);
    let mut open = Vec::new();
    for (i, spans) in lines.into_iter().enumerate() {
        let rows = code_rows(spans, avail, code_style)
            .into_iter()
            .map(Line::from);
        if i < complete {
            done.extend(rows);
        } else {
            open.extend(rows);
        }
    }
    open.push(Line::from(vec![Span::styled("╰─".to_string(), muted)]));
    (done, open, full)
}

/// The fenced code blocks of a message, raw, in order.
pub fn code_blocks(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(src, Options::empty()) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => current = Some(String::new()),
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out.extend(current);
    out
}

impl<'t> Renderer<'t> {
    fn new(width: u16, theme: &'t Theme) -> Self {
        Self {
            theme,
            width: usize::from(width).max(8),
            out: Rendered {
                fully_highlighted: true,
                ..Rendered::default()
            },
            inline: Vec::new(),
            styles: vec![theme.style(Role::Text)],
            containers: Vec::new(),
            code: None,
            table: None,
            link: None,
        }
    }

    fn style(&self) -> Style {
        *self.styles.last().expect("base style")
    }

    fn push_style(&mut self, f: impl FnOnce(Style) -> Style) {
        let s = f(self.style());
        self.styles.push(s);
    }

    fn text(&mut self, t: &str) {
        if let Some((_, code)) = self.code.as_mut() {
            code.push_str(t);
        } else if let Some(table) = self.table.as_mut() {
            table.cell.push_str(t);
        } else {
            let style = self.style();
            self.inline.push(Span::styled(inert(t).into_owned(), style));
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                if let Some(table) = self.table.as_mut() {
                    table.cell.push_str(&t);
                } else {
                    let style = self.theme.style(Role::Code);
                    self.inline
                        .push(Span::styled(inert(&t).into_owned(), style));
                }
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.inline.push(Span::raw("\n")),
            Event::Rule => {
                self.flush();
                let w = self.width.saturating_sub(self.prefix_width());
                let rule = Span::styled("─".repeat(w), self.theme.style(Role::Border));
                self.emit(vec![rule]);
                self.blank();
            }
            Event::Html(t) | Event::InlineHtml(t) => self.text(&t),
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(t) => self.text(&format!("[{t}]")),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.flush();
                let hashes = match level {
                    HeadingLevel::H1 => "# ",
                    HeadingLevel::H2 => "## ",
                    _ => "### ",
                };
                let style = self.theme.style(Role::Heading);
                self.inline.push(Span::styled(
                    hashes.to_string(),
                    style.add_modifier(Modifier::DIM),
                ));
                self.styles.push(style);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.containers.push(Container::Quote);
                let q = self.theme.style(Role::Quote);
                self.styles.push(q);
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => {
                        l.split([' ', ',']).next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush();
                self.containers.push(Container::List(start));
            }
            Tag::Item => {
                self.flush();
                let marker = match self.containers.last_mut() {
                    Some(Container::List(Some(n))) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_string(),
                };
                self.containers.push(Container::Item {
                    marker,
                    drawn: false,
                });
            }
            Tag::Emphasis => self.push_style(|s| s.add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(|s| s.add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(|s| s.add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                let link = self.theme.style(Role::Link);
                self.styles.push(link);
                self.link = Some(dest_url.to_string());
            }
            Tag::Image { dest_url, .. } => {
                self.text("[image: ");
                self.link = Some(dest_url.to_string());
                let link = self.theme.style(Role::Link);
                self.styles.push(link);
            }
            Tag::Table(_) => {
                self.flush();
                self.table = Some(Table {
                    rows: Vec::new(),
                    header_rows: 0,
                    cell: String::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = self.table.as_mut() {
                    t.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {
                if let Some(t) = self.table.as_mut() {
                    t.cell.clear();
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                if !self.in_item() {
                    self.blank();
                }
            }
            TagEnd::Heading(_) => {
                self.styles.pop();
                self.flush();
                self.blank();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.styles.pop();
                self.containers.pop();
                if self.containers.is_empty() {
                    self.blank();
                }
            }
            TagEnd::CodeBlock => self.end_code(),
            TagEnd::List(_) => {
                self.flush();
                self.containers.pop();
                if !self.in_item() {
                    self.blank();
                }
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.styles.pop();
                let dest = self.link.take().unwrap_or_default();
                let shown: String = self
                    .inline
                    .last()
                    .map(|s| s.content.to_string())
                    .unwrap_or_default();
                if matches!(tag, TagEnd::Image) {
                    self.text("]");
                }
                if !dest.is_empty() && shown != dest && self.table.is_none() {
                    let muted = self.theme.style(Role::Muted);
                    self.inline
                        .push(Span::styled(format!(" ⟨{}⟩", inert(&dest)), muted));
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = self.table.as_mut() {
                    let cell = inert(t.cell.trim()).into_owned();
                    if let Some(row) = t.rows.last_mut() {
                        row.push(cell);
                    }
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = self.table.as_mut() {
                    t.header_rows = t.rows.len();
                }
            }
            TagEnd::Table => self.end_table(),
            _ => {}
        }
    }

    fn in_item(&self) -> bool {
        self.containers
            .iter()
            .any(|c| matches!(c, Container::Item { .. }))
    }

    fn prefix_width(&self) -> usize {
        self.containers
            .iter()
            .map(|c| match c {
                Container::Quote => 2,
                Container::List(_) => 0,
                Container::Item { marker, .. } => marker.width(),
            })
            .sum()
    }

    /// The spans that start a line: quote bars, list markers or their indent.
    fn prefix(&mut self) -> Vec<Span<'static>> {
        let quote = self.theme.style(Role::Quote);
        let accent = self.theme.style(Role::Accent);
        let mut out = Vec::new();
        for c in &mut self.containers {
            match c {
                Container::Quote => out.push(Span::styled("│ ", quote)),
                Container::List(_) => {}
                Container::Item { marker, drawn } => {
                    if *drawn {
                        out.push(Span::raw(super::spaces(marker.width())));
                    } else {
                        out.push(Span::styled(marker.clone(), accent));
                        *drawn = true;
                    }
                }
            }
        }
        out
    }

    fn emit(&mut self, body: Vec<Span<'static>>) {
        let mut spans = self.prefix();
        spans.extend(body);
        self.out.lines.push(Line::from(spans));
    }

    fn blank(&mut self) {
        if self.out.lines.last().is_some_and(|l| !l.spans.is_empty()) {
            let prefix: Vec<_> = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote))
                .map(|_| Span::styled("│ ", self.theme.style(Role::Quote)))
                .collect();
            self.out.lines.push(Line::from(prefix));
        }
    }

    /// Wraps the pending inline text into lines under the current prefix.
    fn flush(&mut self) {
        if self.inline.is_empty() {
            return;
        }
        let spans = std::mem::take(&mut self.inline);
        let avail = self.width.saturating_sub(self.prefix_width()).max(4);
        for line in wrap(&spans, avail) {
            self.emit(line);
        }
    }

    fn end_code(&mut self) {
        let Some((lang, code)) = self.code.take() else {
            return;
        };
        let code_style = self.theme.style(Role::Code);
        let muted = self.theme.style(Role::Muted);
        let avail = self.width.saturating_sub(self.prefix_width()).max(4);
        let label = if lang.is_empty() {
            "code".to_string()
        } else {
            inert(&lang).into_owned()
        };
        self.emit(vec![Span::styled(format!("╭─ {label}"), muted)]);
        let highlighted = if self.theme.monochrome || lang.is_empty() {
            None
        } else {
            let h = highlight::highlight(&code, &lang, &self.theme.syntax);
            if h.is_none() && !highlight::is_ready() {
                self.out.fully_highlighted = false;
            }
            h
        };
        let plain = || {
            code.lines()
                .map(|l| vec![Span::styled(l.to_string(), code_style)])
                .collect()
        };
        for spans in highlighted.unwrap_or_else(plain) {
            for row in code_rows(spans, avail, code_style) {
                self.emit(row);
            }
        }
        self.emit(vec![Span::styled("╰─".to_string(), muted)]);
        self.out.code_blocks.push(code);
        self.blank();
    }

    fn end_table(&mut self) {
        let Some(table) = self.table.take() else {
            return;
        };
        let mut natural = Vec::new();
        for row in &table.rows {
            super::table::widen(&mut natural, row);
        }
        if natural.is_empty() {
            return;
        }
        let avail = self.width.saturating_sub(self.prefix_width());
        let layout = super::table::Layout::fit(&natural, avail, self.theme);
        self.emit(layout.top());
        // An open table is laid out again every frame only where the render
        // cache cannot lay it out a row at a time (`table::OpenTable`).
        for line in layout.rows(&table.rows, 0, table.header_rows) {
            self.emit(line);
        }
        self.emit(layout.bottom());
        self.blank();
    }
}

thread_local! {
    /// Code lines laid out on this thread, for tests: a growing block must
    /// cost its new lines, not the block.
    static CODE_LINES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many code lines this thread has laid out so far.
pub fn code_lines_laid_out() -> usize {
    CODE_LINES.with(std::cell::Cell::get)
}

thread_local! {
    /// Lines of open code blocks read for a closing fence on this thread,
    /// for tests: a growing block must read its new lines, not the block.
    static FENCE_LINES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many lines this thread has read looking for a closing fence so far.
pub fn fence_lines_read() -> usize {
    FENCE_LINES.with(std::cell::Cell::get)
}

/// One line of code (its highlighted spans) as rows of `avail` columns: cut
/// at the width (code keeps its spaces), each padded so the block reads as
/// one background.
pub fn code_rows(
    spans: Vec<Span<'static>>,
    avail: usize,
    code_style: Style,
) -> Vec<Vec<Span<'static>>> {
    CODE_LINES.with(|n| n.set(n.get() + 1));
    let mut rows = Vec::new();
    let mut row = |mut line: Vec<Span<'static>>, used: usize| {
        line.push(Span::styled(
            super::spaces(avail.saturating_sub(used)),
            code_style,
        ));
        rows.push(line);
    };
    // A span that fits is moved, not copied.
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let style = code_style.patch(span.style);
        let cleaned = match inert(&span.content) {
            Cow::Owned(o) => Some(o),
            Cow::Borrowed(_) => None,
        };
        let text: Cow<'static, str> = cleaned.map_or(span.content, Cow::Owned);
        if text.is_empty() {
            continue;
        }
        if truncate_at(&text, avail - used) == text.len() {
            used += text.width();
            line.push(Span::styled(text, style));
            continue;
        }
        let mut rest: &str = &text;
        while !rest.is_empty() {
            let take = truncate_at(rest, avail - used);
            if take == 0 {
                row(std::mem::take(&mut line), used);
                used = 0;
                continue;
            }
            let (piece, tail) = rest.split_at(take);
            used += piece.width();
            line.push(Span::styled(piece.to_string(), style));
            rest = tail;
        }
    }
    row(line, used);
    rows
}

/// How many bytes of `s` fit in `cols` columns.
fn truncate_at(s: &str, cols: usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > cols {
            return i;
        }
        used += w;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    /// A table wider than the pane shrinks its widest columns and cuts their
    /// cells with an ellipsis: every row as wide as the pane at most, the
    /// borders in one column, narrow cells whole.
    #[test]
    fn a_table_wider_than_the_pane_cuts_its_widest_cells() {
        let theme = Theme::built_in("dark").unwrap();
        let src = "| id | description | 名前 |\n|---|---|---|\n\
                   | 1 | a very long description that cannot fit | 日本語の名前です |\n\
                   | 22 | short | x |\n";
        let lines: Vec<String> = render(src, 36, &theme).lines.iter().map(text).collect();
        let rows: Vec<&String> = lines.iter().filter(|l| !l.is_empty()).collect();
        assert_eq!(rows.len(), 6, "{lines:#?}");
        let width = rows[0].width();
        assert!(width <= 36, "{lines:#?}");
        for row in &rows {
            assert_eq!(row.width(), width, "{lines:#?}");
        }
        let borders = |l: &str| {
            let mut at = Vec::new();
            let mut col = 0;
            for c in l.chars() {
                if "│┌┬┐├┼┤└┴┘".contains(c) {
                    at.push(col);
                }
                col += c.to_string().width();
            }
            at
        };
        for row in &rows {
            assert_eq!(borders(row), borders(rows[0]), "{lines:#?}");
        }
        assert!(
            rows[3].contains("a very") && rows[3].contains('…'),
            "{lines:#?}"
        );
        assert!(
            rows[3].contains('…') && rows[4].contains(" 22 "),
            "{lines:#?}"
        );
        assert!(rows[4].contains(" short "), "{lines:#?}");
    }
}
