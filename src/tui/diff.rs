//! Which cells of a new frame the terminal must be sent: the same answer as
//! ratatui's `Buffer::diff` (a property test holds it to that) for less work.
//! ratatui compares each cell symbol first, through a `memcmp` call, and
//! measures every cell's width; here the style fields go first, one-byte
//! symbols compare as bytes, and widths are measured only for wider symbols.
//! The diff of a 120x40 screen every frame was 15% of the CPU of streaming.

use std::ops::Range;

use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::style::{Color, Modifier};

/// Modifiers a terminal paints on a blank cell (as ratatui's diff has them).
const VISIBLE_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// Fills `out` with the indexes into `next.content` of the cells to send, in order.
pub fn changed(prev: &Buffer, next: &Buffer, out: &mut Vec<usize>) {
    out.clear();
    changed_in(prev, next, 0..next.content.len(), out);
}

/// Adds to `out` the indexes of the cells to send among `cells` (whole rows:
/// nothing outside them is looked at).
pub fn changed_in(prev: &Buffer, next: &Buffer, cells: Range<usize>, out: &mut Vec<usize>) {
    let len = prev.content.len().min(next.content.len()).min(cells.end);
    let (prev, next) = (&prev.content[..len], &next.content[..len]);
    let mut i = cells.start;
    while i < len {
        let (cur, old) = (&next[i], &prev[i]);
        let at = i;
        i += 1;
        if is_skip(cur) {
            continue;
        }
        if let CellDiffOption::ForcedWidth(w) = cur.diff_option {
            i = i.saturating_add(usize::from(w.get()) - 1);
            if !same(cur, old) {
                out.push(at);
            }
            continue;
        }
        let w = width(cur);
        if cur.diff_option == CellDiffOption::None && same(cur, old) {
            i += w.saturating_sub(1);
            continue;
        }
        out.push(at);
        if w > 1 && cur.symbol().contains('\u{FE0F}') {
            // Some terminals leave the trailing cell of an emoji sequence as it was.
            i = trailing(prev, next, at + 1, (at + w).min(len), false, out);
        } else if w > 1 {
            i += w - 1;
        } else if width(old) > w
            && (old.bg != Color::Reset || old.modifier.intersects(VISIBLE_ON_BLANK))
        {
            // The wide character it replaces painted its style on the columns after it.
            i = trailing(prev, next, at + 1, at + width(old), true, out);
        }
    }
}

/// The cells after a wide one that must be sent anyway; returns where to go on.
fn trailing(
    prev: &[Cell],
    next: &[Cell],
    mut j: usize,
    mut end: usize,
    force: bool,
    out: &mut Vec<usize>,
) -> usize {
    let len = prev.len().min(next.len());
    while j < end && j < len {
        let at = j;
        j += width(&next[at]).max(1);
        end = end.max(j).min(len);
        if !is_skip(&next[at]) && (force || prev[at].symbol() != next[at].symbol()) {
            out.push(at);
        }
    }
    end
}

fn width(cell: &Cell) -> usize {
    let s = cell.symbol();
    if s.len() == 1 {
        1
    } else {
        usize::from(s.cell_width())
    }
}

#[allow(deprecated)] // `skip` still counts in ratatui's own diff
fn is_skip(cell: &Cell) -> bool {
    matches!(cell.diff_option, CellDiffOption::Skip)
        || (cell.skip && matches!(cell.diff_option, CellDiffOption::None))
}

/// `Cell`'s `==`, cheapest fields first.
#[allow(deprecated)]
fn same(a: &Cell, b: &Cell) -> bool {
    a.fg == b.fg
        && a.bg == b.bg
        && a.modifier == b.modifier
        && a.underline_color == b.underline_color
        && a.diff_option == b.diff_option
        && a.skip == b.skip
        && same_symbol(a.symbol().as_bytes(), b.symbol().as_bytes())
}

fn same_symbol(a: &[u8], b: &[u8]) -> bool {
    match (a, b) {
        ([x], [y]) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    const SYMBOLS: &[&str] = &["a", " ", "b", "é", "中", "文", "😀", "❤\u{FE0F}", "ab"];

    /// Cells as widgets write them: strings set through the buffer, so wide
    /// symbols reset the cells they cover, plus now and then a skipped cell.
    fn screen(ops: &[(u16, u16, usize, u8, bool)]) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 4));
        for &(x, y, sym, style, skip) in ops {
            let style = match style % 4 {
                0 => Style::new(),
                1 => Style::new().bg(Color::Blue),
                2 => Style::new().fg(Color::Red).add_modifier(Modifier::REVERSED),
                _ => Style::new().add_modifier(Modifier::BOLD),
            };
            buf.set_string(x % 12, y % 4, SYMBOLS[sym % SYMBOLS.len()], style);
            if skip {
                buf[(x % 12, y % 4)].set_diff_option(CellDiffOption::Skip);
            }
        }
        buf
    }

    fn ops() -> impl Strategy<Value = Vec<(u16, u16, usize, u8, bool)>> {
        proptest::collection::vec(
            (
                0u16..12,
                0u16..4,
                0usize..9,
                0u8..4,
                proptest::bool::weighted(0.05),
            ),
            0..40,
        )
    }

    proptest! {
        #[test]
        fn sends_exactly_the_cells_ratatui_would_send(a in ops(), b in ops()) {
            let (prev, next) = (screen(&a), screen(&b));
            let mut ours = Vec::new();
            changed(&prev, &next, &mut ours);
            let theirs: Vec<usize> = prev
                .diff(&next)
                .into_iter()
                .map(|(x, y, _)| usize::from(y) * 12 + usize::from(x))
                .collect();
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn an_unchanged_frame_sends_nothing_and_one_new_letter_sends_one_cell() {
        let prev = screen(&[(0, 0, 4, 0, false), (3, 1, 0, 2, false)]);
        let mut out = vec![99];
        changed(&prev, &prev.clone(), &mut out);
        assert!(out.is_empty());
        let mut next = prev.clone();
        next.set_string(5, 2, "x", Style::new());
        changed(&prev, &next, &mut out);
        assert_eq!(out, vec![2 * 12 + 5]);
    }
}
