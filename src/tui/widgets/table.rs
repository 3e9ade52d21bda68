//! Markdown tables: their layout (each column as wide as its widest cell,
//! the widest shrunk until the table fits), and a table still streaming at
//! the end of an answer laid out a row at a time (`OpenTable`): its complete
//! rows stay as they are on screen while no column widens, so a frame costs
//! the row being written, not the table.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::markdown;
use super::wrap::truncate;
use crate::config::theme::{Role, Theme};
use crate::tui::theme::Styled;

/// A table's cells as the renderer reads them (marks dropped, made inert),
/// its header rows first.
pub struct Cells {
    pub rows: Vec<Vec<String>>,
    pub header_rows: usize,
}

/// Widens `widths` (one a column, at least 1) to hold `row`'s cells.
pub fn widen(widths: &mut Vec<usize>, row: &[String]) {
    if widths.len() < row.len() {
        widths.resize(row.len(), 1);
    }
    for (w, cell) in widths.iter_mut().zip(row) {
        *w = (*w).max(cell.width());
    }
}

/// The columns of a table laid out in a width, and the looks it is drawn in.
#[derive(PartialEq)]
pub struct Layout {
    widths: Vec<usize>,
    border: Style,
    text: Style,
    head: Style,
}

impl Layout {
    /// Columns of `natural` widths (`widen`) in `avail` columns: the widest
    /// shrink until the table fits (3 columns of separators each), no
    /// column below 3.
    pub fn fit(natural: &[usize], avail: usize, theme: &Theme) -> Self {
        let mut widths = natural.to_vec();
        let room = avail.saturating_sub(3 * widths.len() + 1);
        while widths.iter().sum::<usize>() > room {
            let (i, w) = widths
                .iter()
                .enumerate()
                .max_by_key(|(_, w)| **w)
                .map(|(i, w)| (i, *w))
                .expect("a table has a column");
            if w <= 3 {
                break;
            }
            widths[i] -= 1;
        }
        let text = theme.style(Role::Text);
        Self {
            widths,
            border: theme.style(Role::Border),
            text,
            head: text.add_modifier(Modifier::BOLD),
        }
    }

    fn rule(&self, l: char, m: char, r: char) -> Vec<Span<'static>> {
        let mut line = String::from(l);
        for (i, w) in self.widths.iter().enumerate() {
            if i > 0 {
                line.push(m);
            }
            line.extend(std::iter::repeat_n('─', w + 2));
        }
        line.push(r);
        vec![Span::styled(line, self.border)]
    }

    pub fn top(&self) -> Vec<Span<'static>> {
        self.rule('┌', '┬', '┐')
    }

    pub fn bottom(&self) -> Vec<Span<'static>> {
        self.rule('└', '┴', '┘')
    }

    /// The lines of `rows`, the first of them the table's row `first`: the
    /// header rows bold, the rule under the last of them.
    pub fn rows(
        &self,
        rows: &[Vec<String>],
        first: usize,
        header_rows: usize,
    ) -> Vec<Vec<Span<'static>>> {
        let mut out = Vec::with_capacity(rows.len() + 1);
        for (r, row) in (first..).zip(rows) {
            let mut spans = Vec::with_capacity(2 * self.widths.len() + 1);
            spans.push(Span::styled("│", self.border));
            for (i, &w) in self.widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                let mut padded = String::with_capacity(cell.len() + w + 2);
                padded.push(' ');
                let width = cell.width();
                let used = if width <= w {
                    padded.push_str(cell);
                    width
                } else {
                    let cut = truncate(cell, w);
                    padded.push_str(&cut);
                    cut.width().min(w)
                };
                padded.extend(std::iter::repeat_n(' ', w - used + 1));
                let style = if r < header_rows {
                    self.head
                } else {
                    self.text
                };
                spans.push(Span::styled(padded, style));
                spans.push(Span::styled("│", self.border));
            }
            out.push(spans);
            if r + 1 == header_rows {
                out.push(self.rule('├', '┼', '┤'));
            }
        }
        out
    }
}

/// A table at the top level of a growing answer's open tail (the text after
/// its stable prefix), and nothing after it: what of it is read, and what of
/// it is laid out. Each frame reads only what the stream added (a row of a
/// table is read on its own line, under the table's head, as in the whole
/// text) and lays out only the rows that came, unless a column widened.
pub struct OpenTable {
    /// The stable prefix it follows, in bytes.
    pub cut: usize,
    /// The head: the header row and the delimiter row, whole.
    head: String,
    /// Bytes of the tail read into `rows`: the head and complete rows.
    read: usize,
    cells: Cells,
    natural: Vec<usize>,
    /// Where the table's lines start; whether a blank line goes before it.
    base: usize,
    apart: bool,
    /// How the lines are laid out, how many rows, and how many lines stay.
    layout: Option<Layout>,
    laid: usize,
    pub fixed: usize,
}

impl OpenTable {
    /// The table `tail` (after the stable prefix at `cut`) is, once its head
    /// is complete, laid out after `lines` (a blank line between if
    /// `apart`); `None` (and `lines` untouched) when `tail` is anything else.
    pub fn start(
        cut: usize,
        tail: &str,
        lines: &mut Vec<Line<'static>>,
        apart: bool,
        width: u16,
        theme: &Theme,
    ) -> Option<Self> {
        let mut ends = tail.match_indices('\n').map(|(i, _)| i + 1);
        let head_end = ends.nth(1)?;
        let head = &tail[..head_end];
        let cells = markdown::table_cells(head, theme)?;
        if cells.header_rows == 0 || cells.rows.len() != cells.header_rows {
            return None;
        }
        let mut natural = Vec::new();
        for row in &cells.rows {
            widen(&mut natural, row);
        }
        let apart = apart && !lines.is_empty();
        let mut table = Self {
            cut,
            head: head.to_string(),
            read: head_end,
            cells,
            natural,
            base: lines.len() + usize::from(apart),
            apart,
            layout: None,
            laid: 0,
            fixed: 0,
        };
        table.show(tail, lines, width, theme)?;
        Some(table)
    }

    /// The first of its lines (the blank line before it, if any): where a
    /// table whose columns widen is laid out anew from.
    pub fn first_line(&self) -> usize {
        self.base - usize::from(self.apart)
    }

    /// Shows `tail` grown: its new complete rows read and laid out, the row
    /// being written and the bottom border after them. `Some(true)` when
    /// the lines before the new ones stayed as they were; `None` (and
    /// nothing changed) when `tail` is no longer one table.
    pub fn show(
        &mut self,
        tail: &str,
        lines: &mut Vec<Line<'static>>,
        width: u16,
        theme: &Theme,
    ) -> Option<bool> {
        let tail = markdown::held_back(tail);
        let done = tail.rfind('\n').map_or(0, |i| i + 1).max(self.read);
        let new = &tail[self.read..done];
        let rows = match new.is_empty() {
            true => Vec::new(),
            false => self.rows_of(new, new.matches('\n').count(), theme)?,
        };
        let open = &tail[done..];
        let open = match open.is_empty() {
            true => Vec::new(),
            false => self.rows_of(open, 1, theme)?,
        };
        self.read = done;
        for row in rows {
            widen(&mut self.natural, &row);
            self.cells.rows.push(row);
        }
        let mut natural = self.natural.clone();
        for row in &open {
            widen(&mut natural, row);
        }
        let avail = usize::from(width).max(8);
        let layout = Layout::fit(&natural, avail, theme);
        let header_rows = self.cells.header_rows;
        let kept = self.layout.as_ref() == Some(&layout) && lines.len() >= self.fixed;
        if kept {
            lines.truncate(self.fixed);
        } else {
            lines.truncate(self.base - usize::from(self.apart));
            if self.apart {
                lines.push(Line::default());
            }
            lines.push(Line::from(layout.top()));
            self.laid = 0;
        }
        let rows = &self.cells.rows[self.laid..];
        lines.extend(
            layout
                .rows(rows, self.laid, header_rows)
                .into_iter()
                .map(Line::from),
        );
        self.laid = self.cells.rows.len();
        self.fixed = lines.len();
        let first = self.laid;
        lines.extend(
            layout
                .rows(&open, first, header_rows)
                .into_iter()
                .map(Line::from),
        );
        lines.push(Line::from(layout.bottom()));
        self.layout = Some(layout);
        Some(kept)
    }

    /// `text` (`count` whole lines, or the one being written) read as rows
    /// under the table's head: `None` unless each line is one row.
    fn rows_of(&self, text: &str, count: usize, theme: &Theme) -> Option<Vec<Vec<String>>> {
        let cells = markdown::table_cells(&format!("{}{text}", self.head), theme)?;
        let header_rows = self.cells.header_rows;
        (cells.header_rows == header_rows && cells.rows.len() == header_rows + count)
            .then(|| cells.rows.into_iter().skip(header_rows).collect())
    }
}
