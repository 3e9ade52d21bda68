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
    Scan::default().resume(src)
}

/// `stable_prefix` read a line at a time and kept between frames: a growing
/// answer's complete lines are read once, not every frame (the whole text
/// every frame made a long answer's frames cost more the longer it got).
#[derive(Clone, Copy)]
pub struct Scan {
    cut: Cut,
    /// The complete lines read, in bytes.
    offset: usize,
    /// The length of the text last given.
    seen: usize,
    /// A complete line stopped the reading: the cut is final.
    done: bool,
    prev_blank: bool,
    /// The open code fence: its character, its length, and the indent under
    /// which the item it is in (and so the fence) ends.
    fence: Option<(char, usize, usize)>,
    /// The end of the raw HTML block the text is in (these go past blank lines).
    html: Option<&'static str>,
    /// A blank line's end, until the line after it says how it is a cut.
    pending: Option<usize>,
    /// The list the text is in: `Some(None)` none, `None` not sure.
    list: Option<Option<Item>>,
    /// The list's last item holds a block (code, table, heading, rule, HTML)
    /// that ends in a blank line of its own: no cut before the next item.
    blocks: bool,
    /// The block holds raw HTML, which is drawn with no blank line after it.
    raw: bool,
}

impl Default for Scan {
    fn default() -> Self {
        Self {
            cut: Cut::default(),
            offset: 0,
            seen: 0,
            done: false,
            prev_blank: true,
            fence: None,
            html: None,
            pending: None,
            list: Some(None),
            blocks: false,
            raw: false,
        }
    }
}

impl Scan {
    /// The cut of `src`, which goes on from the text this scan was last
    /// given (a growing answer only appends): its complete lines are read
    /// and kept, its unfinished last line (which may yet change what it is)
    /// read on a copy. A shorter text (an answer started over) is read from
    /// its start.
    pub fn resume(&mut self, src: &str) -> Cut {
        if src.len() < self.seen
            || !src.is_char_boundary(self.offset)
            || !src.is_char_boundary(self.cut.at)
        {
            *self = Self::default();
        }
        self.seen = src.len();
        if self.done {
            return self.cut;
        }
        let rest = &src[self.offset..];
        let complete = rest.rfind('\n').map_or(0, |i| i + 1);
        for line in rest[..complete].split_inclusive('\n') {
            if !self.line(line) {
                self.done = true;
                return self.cut;
            }
        }
        match &rest[complete..] {
            "" => self.cut,
            unfinished => {
                let mut copy = *self;
                copy.line(unfinished);
                copy.cut
            }
        }
    }

    /// Reads one line (with its `\n`, unless it is the text's unfinished
    /// last); false when the cut can go no further.
    fn line(&mut self, line: &str) -> bool {
        LINES_READ.with(|n| n.set(n.get() + 1));
        let Self {
            mut cut,
            mut offset,
            seen,
            done,
            mut prev_blank,
            mut fence,
            mut html,
            mut pending,
            mut list,
            mut blocks,
            mut raw,
        } = *self;
        let start = offset;
        offset += line.len();
        let goes_on = 'line: {
            // Markdown's white space is ASCII: a line of U+00A0 is text, not blank.
            let trimmed = line.trim_matches([' ', '\t', '\x0b', '\x0c', '\r', '\n']);
            let body = line.trim_start_matches([' ', '\t']);
            let indent = columns(&line[..line.len() - body.len()]);
            let blank = trimmed.is_empty() && line.ends_with('\n');
            // A fence in an item ends with the item: at a line less indented.
            if fence.is_some_and(|(_, _, at)| !blank && indent < at) {
                fence = None;
            }
            if let Some((c, n, at)) = fence {
                let run = body.chars().take_while(|&x| x == c).count();
                let closes = run >= n && body[run * c.len_utf8()..].trim().is_empty();
                // Indented four columns past its block, a fence line is code.
                if closes && indent - at <= 3 && line.ends_with('\n') {
                    fence = None;
                }
                prev_blank = false;
                break 'line true;
            }
            if let Some(end) = html {
                if line.contains(end) {
                    html = None;
                }
                (prev_blank, raw) = (false, true);
                break 'line true;
            }
            // A line of only other white space (U+00A0…) is a paragraph drawn as
            // nothing, which parts drawn apart do not show as the whole does.
            if !trimmed.is_empty() && trimmed.trim().is_empty() {
                break 'line false;
            }
            // A fence in an item closes with it; one at the top level only by a
            // fence. Indented where it is not known to be in an item, it cannot be
            // told which: no more cuts.
            let item_at = list.flatten().map_or(0, |l| l.indent);
            let at = if indent > 0 && indent >= item_at {
                item_at
            } else {
                0
            };
            // Nor under an item whose text a tab put where it is not worked out,
            // nor right under raw HTML (the fence line may be its text).
            let fence_line = opens_fence(body);
            let unsure =
                (indent > 0 && (list.is_none() || item_at == usize::MAX)) || raw && !prev_blank;
            if fence_line.is_some() && unsure {
                break 'line false;
            }
            let opens = fence_line
                .filter(|_| indent - at <= 3)
                .map(|(c, n)| (c, n, at));
            if blank {
                // Two paragraphs apart (the first of a run of blank lines).
                if !prev_blank {
                    pending = Some(offset);
                }
            } else if indent > 0 {
                pending = None;
                // Indented under an item as far as its text: its own. Anything
                // else indented may start a list or a code block.
                if prev_blank || list.is_none_or(|l| l.is_none_or(|l| indent < l.indent)) {
                    list = None;
                }
                blocks |= holds_block(body);
            } else {
                let item = list_item(line);
                // Whether the line is an item is known once it is one, ends, or
                // cannot become one: a cut once made is never made otherwise.
                let known = item.is_some() || line.ends_with('\n') || !could_be_item(line);
                let sure = list.zip(item);
                let next_item = sure.is_some_and(|(l, i)| l.is_some_and(|l| l.marker == i.marker));
                // A numbered item drawn apart keeps its own number: cut before it
                // only if it is the number the list gives it; and an item holding
                // a block is drawn with a blank line after it.
                let numbered = sure.is_some_and(|(l, i)| l.is_some_and(|l| l.number == i.number));
                let joins = next_item && numbered && !blocks;
                let bare = is_bare_marker(trimmed);
                if let Some(at) = pending.filter(|_| known) {
                    // After a blank line: the list's next item, or a block apart.
                    let apart = (item.is_none() && !bare) || (sure.is_some() && !next_item);
                    if (joins || apart) && !raw {
                        cut = Cut { at, apart };
                    }
                    pending = None;
                } else if joins && !prev_blank {
                    cut = Cut {
                        at: start,
                        apart: false,
                    };
                }
                let starts = line.starts_with(['-', '*', '+'])
                    || line.starts_with("1.")
                    || line.starts_with("1)");
                list = match (item, list) {
                    // Raw HTML and an empty item: not worked out.
                    _ if line.starts_with('<') || bare => None,
                    // The next number, and text under it as far as its own.
                    (Some(i), _) if next_item => list.map(|l| {
                        l.map(|l| Item {
                            indent: i.indent,
                            ..l.next()
                        })
                    }),
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
                if let Some(i) = item {
                    let text = &line[i.marker_end..];
                    let inner = text.trim_start_matches([' ', '\t']);
                    // Five columns on, the text is a code block of the item's.
                    let gap = columns_from(i.marker_end, &text[..text.len() - inner.len()])
                        - i.marker_end;
                    blocks = holds_block(text) || gap > 4;
                    // A fence the item opens closes with the item. Where a tab
                    // puts its text is not worked out, nor whether a line that
                    // looks like an item goes on a paragraph instead.
                    if let Some((c, n)) = opens_fence(inner) {
                        if i.indent == usize::MAX || list.flatten().is_none() {
                            break 'line false;
                        }
                        if gap <= 4 && line.ends_with('\n') {
                            fence = Some((c, n, i.indent));
                        }
                    }
                }
                html = ["<!--", "<pre", "<script", "<style", "<textarea"]
                    .iter()
                    .zip(["-->", "</pre>", "</script>", "</style>", "</textarea>"])
                    .find(|(open, end)| {
                        body.get(..open.len())
                            .is_some_and(|b| b.eq_ignore_ascii_case(open))
                            && !body[open.len()..].contains(*end)
                    })
                    .map(|(_, end)| end);
            }
            if opens.is_some() && line.ends_with('\n') {
                fence = opens;
            }
            if !blank {
                raw = (raw && !prev_blank) || (indent == 0 && body.starts_with('<'));
            }
            prev_blank = blank;
            true
        };
        *self = Self {
            cut,
            offset,
            seen,
            done,
            prev_blank,
            fence,
            html,
            pending,
            list,
            blocks,
            raw,
        };
        goes_on
    }
}

thread_local! {
    /// Lines read on this thread, for tests: a frame must cost the new lines.
    static LINES_READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many lines this thread has read for stable prefixes so far.
pub fn lines_read() -> usize {
    LINES_READ.with(std::cell::Cell::get)
}

/// How many columns leading white space takes, tabs to the next multiple
/// of four.
fn columns(space: &str) -> usize {
    columns_from(0, space)
}

/// The column white space starting at column `at` ends at.
fn columns_from(at: usize, space: &str) -> usize {
    space
        .chars()
        .fold(at, |at, c| if c == '\t' { at / 4 * 4 + 4 } else { at + 1 })
}

/// The character and length of the code fence `body` (a line without its
/// indent) opens, if it opens one.
pub fn opens_fence(body: &str) -> Option<(char, usize)> {
    let c = body.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let n = body.chars().take_while(|&x| x == c).count();
    let info = &body[n..];
    (n >= 3 && !(c == '`' && info.contains('`'))).then_some((c, n))
}

/// Whether `body` (a line of an item, without its indent or marker) starts a
/// block that is drawn with a blank line after it, or might.
fn holds_block(body: &str) -> bool {
    let t = body.trim();
    // A rule or a heading's underline: one of these characters, and spaces.
    let rule = ['-', '*', '_', '=']
        .iter()
        .any(|&c| t.starts_with(c) && t.chars().all(|x| x == c || x == ' ' || x == '\t'));
    rule || t.starts_with(['`', '~', '|', '#', '<', '>'])
}

/// A list marker with nothing after it (`-`, `2.`): an item that may go on
/// on the next line.
fn is_bare_marker(trimmed: &str) -> bool {
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    matches!(trimmed, "-" | "*" | "+")
        || ((1..=9).contains(&digits) && matches!(&trimmed[digits..], "." | ")"))
}

/// Whether `line`, not yet ended, may still turn out a list item.
fn could_be_item(line: &str) -> bool {
    let b = line.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let at = match b.first() {
        Some(b'-' | b'*' | b'+') => 1,
        Some(b'0'..=b'9') if digits <= 9 => match b.get(digits) {
            None => return true,
            Some(b'.' | b')') => digits + 1,
            Some(_) => return false,
        },
        _ => return false,
    };
    matches!(b.get(at), None | Some(b' ' | b'\t'))
}

/// A list item at the margin: its marker (`-`, `*` or `+`, or the `.` or `)`
/// after a number) and its number.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Item {
    marker: u8,
    number: Option<u32>,
    /// Where its text begins: lines indented as far go on it.
    indent: usize,
    /// Where its marker ends, in its own line.
    marker_end: usize,
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
        marker_end: at,
    })
}
