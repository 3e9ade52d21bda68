//! Where a growing answer can be cut so that the part before never changes
//! again: the console lays that part out once and redoes only what follows
//! each frame (`tui::cache`). A property test there holds every cut to the
//! whole text's own render.

/// Where a growing message can be cut so the part before never changes again
/// (`at`, in bytes), and how what follows joins it: `apart`, after the blank
/// line between blocks, or right under it, as the next item of a list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cut {
    pub at: usize,
    pub apart: bool,
}

/// The last `Cut` of a growing message: after a blank line outside a code
/// fence once the line after it starts at the margin (an indented one may go
/// on the item before), or before an item of the top-level list the text is
/// in (the items before it are complete). Streams re-render only what
/// follows: a long list costs its last item a frame, not the whole list.
/// Where it cannot be sure what a line does to a list, it does not cut.
pub fn stable_prefix(src: &str) -> Cut {
    let mut in_fence = false;
    let mut cut = Cut::default();
    let mut offset = 0;
    let mut prev_blank = true;
    // A blank line's end, until the line after it says how it is a cut.
    let mut pending = None;
    // The list the text is in: `Some(None)` none, `None` not sure.
    let mut list: Option<Option<Item>> = Some(None);
    for line in src.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        let blank = trimmed.is_empty() && line.ends_with('\n');
        if blank {
            // Two paragraphs apart (the first of a run of blank lines).
            if !in_fence && !prev_blank {
                pending = Some(offset);
            }
        } else if !in_fence && line.starts_with([' ', '\t']) {
            pending = None;
            // Indented under an item as far as its text: its own. Anything
            // else indented may start a list or a code block.
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            if prev_blank || list.is_none_or(|l| l.is_none_or(|l| indent < l.indent)) {
                list = None;
            }
        } else if !in_fence {
            let item = list_item(line);
            // Whether the line is an item is known once it is one, ends, or
            // cannot become one: a cut once made is never made otherwise.
            let known = item.is_some()
                || line.ends_with('\n')
                || line.len() > 12
                || !line.starts_with(|c: char| matches!(c, '-' | '*' | '+' | '0'..='9'));
            let sure = list.zip(item);
            let next_item = sure.is_some_and(|(l, i)| l.is_some_and(|l| l.marker == i.marker));
            // A numbered item drawn apart keeps its own number: cut before it
            // only if it is the number the list gives it.
            let numbered = sure.is_some_and(|(l, i)| l.is_some_and(|l| l.number == i.number));
            if let Some(at) = pending.filter(|_| known) {
                // After a blank line: the list's next item, or a block apart.
                if (next_item && numbered) || (item.is_none() || sure.is_some()) && !next_item {
                    cut = Cut {
                        at,
                        apart: !next_item,
                    };
                }
                pending = None;
            } else if next_item && numbered && !prev_blank {
                cut = Cut {
                    at: start,
                    apart: false,
                };
            }
            let starts = line.starts_with(['-', '*', '+'])
                || line.starts_with("1.")
                || line.starts_with("1)");
            list = match (item, list) {
                _ if next_item => list.map(|l| l.map(Item::next)),
                // Anything at the margin after a blank line ends a list.
                (None, _) if prev_blank => Some(None),
                // Nor can a line that is no item start one.
                (None, Some(None)) => Some(None),
                // A list starts after a blank line or a list of another
                // marker, and after a paragraph with a bullet or a 1.
                (Some(i), Some(_)) if prev_blank || starts => Some(Some(i.next())),
                // Text under an item may go on its paragraph or end the list.
                _ => None,
            };
        }
        if fence {
            in_fence = !in_fence;
        }
        prev_blank = blank;
    }
    cut
}

/// A list item at the margin: its marker (`-`, `*` or `+`, or the `.` or `)`
/// after a number) and its number.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Item {
    marker: u8,
    number: Option<u32>,
    /// Where its text begins: lines indented as far go on it.
    indent: usize,
}

impl Item {
    /// The item a list expects after this one.
    fn next(self) -> Item {
        Item {
            number: self.number.map(|n| n.saturating_add(1)),
            ..self
        }
    }
}

/// The list item `line` starts, if it has something after its marker that
/// makes it no rule (`- - -`).
fn list_item(line: &str) -> Option<Item> {
    let b = line.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let (marker, at, number) = match b.first()? {
        m @ (b'-' | b'*' | b'+') => (*m, 1, None),
        _ if (1..=9).contains(&digits) && matches!(b.get(digits), Some(b'.' | b')')) => {
            (b[digits], digits + 1, line[..digits].parse().ok())
        }
        _ => return None,
    };
    let rest = &b[at..];
    let spaced = matches!(rest.first(), Some(b' ' | b'\t'));
    let text = rest
        .iter()
        .any(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n') && *c != marker);
    // One to four spaces after the marker; more, and the text is code. (A
    // tab's width is not worked out: nothing counts as indented that far.)
    let spaces = rest.iter().take_while(|c| **c == b' ').count();
    let indent = match rest.get(spaces) {
        Some(b'\t') => usize::MAX,
        _ => at + if (1..=4).contains(&spaces) { spaces } else { 1 },
    };
    (spaced && text).then_some(Item {
        marker,
        number,
        indent,
    })
}
