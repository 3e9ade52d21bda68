//! Rendered messages, memoised: a finished message is laid out once per width
//! and theme; a growing one re-renders only what follows its last stable
//! paragraph break. Drawing stays flat in the length of the history.

use crate::tui::theme::Styled;
use std::collections::HashMap;

use ratatui::text::Line;

use super::widgets::markdown::{self, Rendered};
use super::widgets::table::OpenTable;
use super::widgets::{highlight, stable, wrap::wrap};
use crate::chat::conversation::{NodeId, Role};
use crate::config::theme::{Role as Look, Theme};
use crate::inert::inert;

struct Entry {
    /// The frame it was last drawn in, for eviction.
    used: u64,
    len: usize,
    growing: bool,
    highlighted: bool,
    lines: Vec<Line<'static>>,
    /// For a growing message: where its stable prefix ends, and how many
    /// of `lines` it fills (the rest is the open tail, redone every frame).
    prefix: Option<(stable::Cut, usize)>,
    /// The epoch each line was laid out in: it changes whenever a line
    /// already there may change.
    epochs: Epochs,
    /// For a growing message whose open tail is one open code block or one
    /// table: its complete lines (rows) are laid out once, and stay, like
    /// the prefix.
    open: Option<Tail>,
    /// For a growing message: its lines read so far for the stable prefix.
    scan: stable::Scan,
}

/// The epoch of each line of an entry, by runs: a growing message only
/// appends to its prefix, which keeps the epochs it has; lines laid out anew
/// from some line on (a code block that closed, a table whose columns
/// widened) take a new one there, and the lines above keep theirs, so the
/// screen goes on showing them instead of drawing the whole message again.
struct Epochs(Vec<(usize, u64)>);

impl Epochs {
    /// Every line in `epoch`.
    fn new(epoch: u64) -> Self {
        Self(vec![(0, epoch)])
    }

    /// Lines from `from` on are laid out anew, in `epoch`.
    fn relaid(&mut self, from: usize, epoch: u64) {
        let runs = self.0.partition_point(|&(start, _)| start < from);
        self.0.truncate(runs);
        self.0.push((from, epoch));
    }

    fn of(&self, line: usize) -> u64 {
        let run = self.0.partition_point(|&(start, _)| start <= line);
        self.0[run.saturating_sub(1)].1
    }
}

enum Tail {
    Code(Open),
    Table(Box<OpenTable>),
}

/// An open code block after the stable prefix at `cut`: `lines` of its code
/// lines are laid out, filling `lines` up to `fixed`.
#[derive(Clone, Copy)]
struct Open {
    cut: usize,
    /// The block's complete lines: how many, and their bytes (after the
    /// fence line), none of them a closing fence.
    lines: usize,
    complete: usize,
    fixed: usize,
}

impl Open {
    /// The block `code` (after its fence line) as it is now; the complete
    /// lines `last` (the last frame's block, if this is it grown) counted
    /// are not read again.
    fn grown(cut: usize, code: &str, last: Option<Open>, fixed: usize) -> Self {
        let (lines, seen) = last.map_or((0, 0), |o| (o.lines, o.complete));
        let Some(new) = code.get(seen..) else {
            return Self::grown(cut, code, None, fixed);
        };
        let complete = new.rfind('\n').map_or(seen, |i| seen + i + 1);
        Self {
            cut,
            lines: lines + new.matches('\n').count(),
            complete,
            fixed,
        }
    }
}

impl Entry {
    /// As kept for a message `growing` or not: a finished one's lines stay as
    /// they are until evicted, so they lose the slack of their growth.
    fn kept(mut self, growing: bool) -> Self {
        self.growing = growing;
        if !growing {
            self.lines.shrink_to_fit();
        }
        self
    }

    /// How many leading lines stay as they are for the rest of the epoch: a
    /// growing message's open tail may change, and a growing message without
    /// a stable prefix is all open tail (rendered anew whenever it grows).
    fn fixed(&self) -> usize {
        match (&self.open, self.prefix) {
            (Some(Tail::Code(open)), _) => open.fixed,
            (Some(Tail::Table(table)), _) => table.fixed,
            (None, None) if self.growing => 0,
            (None, prefix) => prefix.map_or(self.lines.len(), |(_, count)| count),
        }
    }
}

#[derive(Default)]
pub struct RenderCache {
    width: u16,
    theme: String,
    entries: HashMap<NodeId, Entry>,
    /// Answers drawn in compare columns, at their column's width.
    columns: HashMap<(NodeId, u16), Entry>,
    /// Set when some code was drawn plain while highlighting loads.
    pub wants_highlighting: bool,
    frame: u64,
    /// Schema checks of finished answers and calls: each compiles a validator.
    pub verdicts: Memo<Option<crate::chat::schema::Verdict>>,
    /// JSON pretty-printed for display (structured answers, call arguments).
    pub pretty: Memo<Option<String>>,
    /// What the screen keeps between frames (`views` lends it to the views).
    pub memory: crate::tui::memory::FrameMemory,
    epochs: u64,
}

/// Values derived from a message's text, by (message, part, text length): a
/// finished text does not change, so each is worked out once, not every frame.
#[derive(Debug)]
pub struct Memo<T>(HashMap<(NodeId, usize, usize), T>, u64);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self(HashMap::new(), 0)
    }
}

impl<T: Clone> Memo<T> {
    /// Forgets everything when what the values also depend on (`stamp`) changed.
    pub fn stamped(&mut self, stamp: u64) {
        if self.1 != stamp {
            self.0.clear();
            self.1 = stamp;
        }
    }

    pub fn get(&mut self, key: (NodeId, usize, usize), make: impl FnOnce() -> T) -> T {
        // Bounded like the rendered lines: a session of thousands of tool
        // results would otherwise keep a pretty copy of each. A screen shows
        // far fewer, so starting over costs the next frame a few.
        if self.0.len() >= KEEP_MEMOS && !self.0.contains_key(&key) {
            self.0.clear();
        }
        self.0.entry(key).or_insert_with(make).clone()
    }
}

/// Derived values kept at most (more than any screen shows at once).
const KEEP_MEMOS: usize = 256;

/// Rendered lines kept for messages off screen: some 25 screens to scroll back
/// and forth without re-rendering, not the whole history's worth of memory
/// (a line of styled spans is ~250 bytes).
const KEEP_LINES: usize = 1_000;

impl RenderCache {
    /// Forget everything when the width or theme changes.
    pub fn fit(&mut self, width: u16, theme: &Theme) {
        if self.width != width || self.theme != theme.name {
            self.entries.clear();
            self.width = width;
            self.theme = theme.name.clone();
        }
    }

    /// Starts a frame (once a frame: `views` does it): fits the width and
    /// theme, and forgets what has not been drawn for longest.
    pub fn prepare(&mut self, width: u16, theme: &Theme) {
        self.fit(width, theme);
        self.frame += 1;
        self.evict();
    }

    /// Forgets the least recently drawn messages once more than `KEEP_LINES` are held.
    fn evict(&mut self) {
        let mut total: usize = self.entries.values().map(|e| e.lines.len()).sum();
        if total <= KEEP_LINES {
            return;
        }
        let mut by_age: Vec<(u64, NodeId, usize)> = self
            .entries
            .iter()
            .map(|(id, e)| (e.used, *id, e.lines.len()))
            .collect();
        by_age.sort_unstable();
        for (used, id, lines) in by_age {
            if total <= KEEP_LINES || used + 1 >= self.frame {
                break;
            }
            self.entries.remove(&id);
            total -= lines;
        }
    }

    /// The width messages are laid out at.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Forget one conversation's worth (node ids are per conversation).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.columns.clear();
        self.verdicts.0.clear();
        self.pretty.0.clear();
    }

    /// An answer's lines at a column's `width` (compare view). Rendered whole
    /// while it grows: columns are narrow and few.
    pub fn column(
        &mut self,
        id: NodeId,
        content: &str,
        growing: bool,
        width: u16,
        theme: &Theme,
    ) -> &[Line<'static>] {
        let key = (id, width);
        let stale = self.columns.get(&key).is_none_or(|e| {
            e.len != content.len()
                || e.growing != growing
                || (!e.highlighted && highlight::is_ready())
        });
        if stale {
            // Compare columns are all own lines to the transcript: no epoch needed.
            let entry =
                Self::render(width, Role::Assistant, content, false, theme, None, 0).kept(growing);
            if !entry.highlighted {
                self.wants_highlighting = true;
            }
            self.columns.insert(key, entry);
        }
        &self.columns[&key].lines
    }

    /// The body lines of a message at the prepared width.
    /// `growing`: the message is being streamed (render incrementally).
    pub fn body(
        &mut self,
        id: NodeId,
        role: Role,
        content: &str,
        growing: bool,
        theme: &Theme,
    ) -> &[Line<'static>] {
        let stale = match self.entries.get(&id) {
            Some(e) => {
                e.len != content.len()
                    || e.growing != growing
                    || (!e.highlighted && highlight::is_ready())
            }
            None => true,
        };
        if stale {
            let prev = self
                .entries
                .remove(&id)
                .filter(|e| growing && (e.highlighted || !highlight::is_ready()));
            self.epochs += 1;
            let entry = Self::render(self.width, role, content, growing, theme, prev, self.epochs)
                .kept(growing);
            if !entry.highlighted {
                self.wants_highlighting = true;
            }
            self.entries.insert(id, entry);
        }
        let entry = self.entries.get_mut(&id).expect("inserted above");
        entry.used = self.frame;
        &entry.lines
    }

    /// What identifies line `i` of a message for the rest of its epoch, if
    /// that line will not change: equal ids mean equal lines.
    pub fn fixed_line(&self, id: NodeId, i: usize) -> Option<u64> {
        let e = self.entries.get(&id)?;
        (i < e.fixed()).then(|| e.epochs.of(i))
    }

    /// A message's lines as last rendered by `body` (none if it never was).
    pub fn lines(&self, id: NodeId) -> &[Line<'static>] {
        self.entries.get(&id).map_or(&[], |e| &e.lines)
    }

    /// `epoch` is a new one, for the lines laid out anew (all of them unless
    /// it only appends to `prev`).
    fn render(
        width: u16,
        role: Role,
        content: &str,
        growing: bool,
        theme: &Theme,
        prev: Option<Entry>,
        epoch: u64,
    ) -> Entry {
        if role == Role::User {
            // What the user typed is shown as typed, wrapped, not as markdown.
            let style = theme.style(Look::Text);
            let mut lines = Vec::new();
            for l in content.split('\n') {
                let span = ratatui::text::Span::styled(inert(l).into_owned(), style);
                lines.extend(
                    wrap(&[span], usize::from(width))
                        .into_iter()
                        .map(Line::from),
                );
            }
            return Entry {
                used: 0,
                len: content.len(),
                growing,
                highlighted: true,
                lines,
                prefix: None,
                epochs: Epochs::new(epoch),
                open: None,
                scan: stable::Scan::default(),
            };
        }
        // Only a growing entry's scan goes on: a finished text may have been rewritten.
        let mut scan = prev
            .as_ref()
            .filter(|e| e.growing)
            .map(|e| e.scan)
            .unwrap_or_default();
        let cut = if growing {
            scan.resume(content)
        } else {
            stable::Cut::default()
        };
        // The last frame's open code block, if the tail can still be that
        // block grown (the same cut, a text no shorter: one started over is
        // read afresh); it is read on from the lines it did not yet have.
        let open_code = match prev.as_ref().and_then(|e| Some((e, e.open.as_ref()?))) {
            Some((e, Tail::Code(o))) if o.cut == cut.at && e.len <= content.len() => Some(*o),
            _ => None,
        };
        // The open code block the growing tail is, if it is one.
        let fence = match growing {
            true => markdown::open_fence(&content[cut.at..], open_code.map_or(0, |o| o.complete)),
            false => None,
        };
        // An answer that opens with a code block or a table has no stable
        // prefix yet: it takes the path below too (an empty prefix), so that
        // block or table is laid out a line or a row at a time as well.
        let opens_a_block = fence.is_some() || content.starts_with('|');
        if cut.at == 0 && !(growing && opens_a_block) {
            let r = if growing {
                markdown::render_growing(content, width, theme)
            } else {
                markdown::render(content, width, theme)
            };
            return Entry {
                used: 0,
                len: content.len(),
                growing,
                highlighted: r.fully_highlighted,
                lines: r.lines,
                prefix: None,
                epochs: Epochs::new(epoch),
                open: None,
                scan,
            };
        }
        // The stable part only grows: render just what became stable since the
        // last frame and append it, so a long answer costs the same per frame
        // at its end as at its start. The prefix's lines stay where they are;
        // only the open tail after them is replaced.
        let mut prev = prev.filter(|e| e.prefix.is_some());
        if let Some(e) = prev.as_mut()
            && let Some(Tail::Table(table)) = e.open.as_mut()
            && table.cut == cut.at
            && let Some(kept) = table.show(&content[cut.at..], &mut e.lines, width, theme)
        {
            // The same open table, grown: only its new rows are laid out,
            // unless a column widened (all its lines then, and only them).
            let from = table.first_line();
            let mut e = prev.expect("resumes");
            if !kept {
                e.epochs.relaid(from, epoch);
            }
            return Entry {
                len: content.len(),
                growing,
                scan,
                ..e
            };
        }
        if let (Some((header, lang)), Some(open)) = (&fence, open_code) {
            // The same open block, grown: only its new lines are laid out.
            let mut e = prev.expect("resumes");
            let prefix = e.prefix.expect("resumes");
            let code = &content[cut.at + header..];
            e.lines.truncate(open.fixed);
            let (done, rest, full) =
                markdown::open_block(code, lang, (open.lines, false), width, theme);
            e.lines.extend(done);
            let fixed = e.lines.len();
            e.lines.extend(rest);
            return Entry {
                used: 0,
                len: content.len(),
                growing,
                highlighted: e.highlighted && full,
                lines: e.lines,
                prefix: Some(prefix),
                epochs: e.epochs,
                open: Some(Tail::Code(Open::grown(cut.at, code, Some(open), fixed))),
                scan,
            };
        }
        let (mut lines, prefix_ok, epochs) = match prev.and_then(|e| Some((e.prefix?, e))) {
            Some(((from, count), mut e)) if from.at <= cut.at => {
                let old = e.lines.split_off(count);
                let r: Rendered = markdown::render(&content[from.at..cut.at], width, theme);
                join(&mut e.lines, r.lines, from.apart);
                // Lines an open block had fixed are laid out anew: a new epoch
                // from the first that came out different (a closed code
                // block's lines mostly come out as they were).
                if e.open.is_some() {
                    let same = old
                        .iter()
                        .zip(&e.lines[count..])
                        .take_while(|(a, b)| a == b);
                    e.epochs.relaid(count + same.count(), epoch);
                }
                (e.lines, e.highlighted && r.fully_highlighted, e.epochs)
            }
            _ => {
                let r: Rendered = markdown::render(&content[..cut.at], width, theme);
                (r.lines, r.fully_highlighted, Epochs::new(epoch))
            }
        };
        let count = lines.len();
        if let Some((header, lang)) = fence {
            let code = &content[cut.at + header..];
            let (done, rest, full) = markdown::open_block(code, &lang, (0, true), width, theme);
            join(&mut lines, done, cut.apart);
            let fixed = lines.len();
            lines.extend(rest);
            return Entry {
                used: 0,
                len: content.len(),
                growing,
                highlighted: prefix_ok && full,
                lines,
                prefix: Some((cut, count)),
                epochs,
                open: Some(Tail::Code(Open::grown(cut.at, code, None, fixed))),
                scan,
            };
        }
        let tail = &content[cut.at..];
        if let Some(table) = OpenTable::start(cut.at, tail, &mut lines, cut.apart, width, theme) {
            return Entry {
                used: 0,
                len: content.len(),
                growing,
                highlighted: prefix_ok,
                lines,
                prefix: Some((cut, count)),
                epochs,
                open: Some(Tail::Table(Box::new(table))),
                scan,
            };
        }
        let tail = markdown::render_growing(tail, width, theme);
        join(&mut lines, tail.lines, cut.apart);
        Entry {
            used: 0,
            len: content.len(),
            growing,
            highlighted: prefix_ok && tail.fully_highlighted,
            lines,
            prefix: Some((cut, count)),
            epochs,
            open: None,
            scan,
        }
    }
}

/// Parts of one text rendered apart join as the text rendered whole shows
/// them: blocks `apart` with the blank line between them, the items of one
/// list right under each other.
fn join(lines: &mut Vec<Line<'static>>, more: Vec<Line<'static>>, apart: bool) {
    if apart && !lines.is_empty() && !more.is_empty() {
        lines.push(Line::default());
    }
    lines.extend(more);
}

#[cfg(test)]
mod tests;
