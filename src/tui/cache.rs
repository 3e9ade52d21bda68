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
    /// Changes whenever lines already there may change (a growing message
    /// only appends to its prefix, so that keeps its epoch).
    epoch: u64,
    /// For a growing message whose open tail is one open code block or one
    /// table: its complete lines (rows) are laid out once, and stay, like
    /// the prefix.
    open: Option<Tail>,
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
    lines: usize,
    fixed: usize,
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
    /// growing message's open tail may change (a growing message without a
    /// stable prefix is rendered anew, in a new epoch, whenever it grows).
    fn fixed(&self) -> usize {
        match (&self.open, self.prefix) {
            (Some(Tail::Code(open)), _) => open.fixed,
            (Some(Tail::Table(table)), _) => table.fixed,
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
        (i < e.fixed()).then_some(e.epoch)
    }

    /// A message's lines as last rendered by `body` (none if it never was).
    pub fn lines(&self, id: NodeId) -> &[Line<'static>] {
        self.entries.get(&id).map_or(&[], |e| &e.lines)
    }

    /// `epoch` is a new one, the entry's unless it only appends to `prev`.
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
                epoch,
                open: None,
            };
        }
        let cut = if growing {
            stable::stable_prefix(content)
        } else {
            stable::Cut::default()
        };
        if cut.at == 0 {
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
                epoch,
                open: None,
            };
        }
        // The stable part only grows: render just what became stable since the
        // last frame and append it, so a long answer costs the same per frame
        // at its end as at its start. The prefix's lines stay where they are;
        // only the open tail after them is replaced.
        let fence = markdown::open_fence(&content[cut.at..]);
        let mut prev = prev.filter(|e| e.prefix.is_some());
        if let Some(e) = prev.as_mut()
            && let Some(Tail::Table(table)) = e.open.as_mut()
            && table.cut == cut.at
            && let Some(kept) = table.show(&content[cut.at..], &mut e.lines, width, theme)
        {
            // The same open table, grown: only its new rows are laid out.
            let e = prev.expect("resumes");
            return Entry {
                len: content.len(),
                growing,
                epoch: if kept { e.epoch } else { epoch },
                ..e
            };
        }
        let open_code = match prev.as_ref().and_then(|e| e.open.as_ref()) {
            Some(Tail::Code(open)) => Some(*open),
            _ => None,
        };
        if let (Some((header, lang)), Some(open)) = (&fence, open_code.filter(|o| o.cut == cut.at))
        {
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
                epoch: e.epoch,
                open: Some(Tail::Code(Open {
                    cut: cut.at,
                    lines: code.matches('\n').count(),
                    fixed,
                })),
            };
        }
        let (mut lines, prefix_ok, epoch) = match prev.and_then(|e| Some((e.prefix?, e))) {
            Some(((from, count), mut e)) if from.at <= cut.at => {
                e.lines.truncate(count);
                let r: Rendered = markdown::render(&content[from.at..cut.at], width, theme);
                join(&mut e.lines, r.lines, from.apart);
                // Lines an open block had fixed are laid out anew: a new epoch.
                let epoch = if e.open.is_some() { epoch } else { e.epoch };
                (e.lines, e.highlighted && r.fully_highlighted, epoch)
            }
            _ => {
                let r: Rendered = markdown::render(&content[..cut.at], width, theme);
                (r.lines, r.fully_highlighted, epoch)
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
                epoch,
                open: Some(Tail::Code(Open {
                    cut: cut.at,
                    lines: code.matches('\n').count(),
                    fixed,
                })),
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
                epoch,
                open: Some(Tail::Table(Box::new(table))),
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
            epoch,
            open: None,
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
mod tests {
    use super::*;

    /// A frame at the end of a growing 400-line code block highlights and
    /// lays out no more lines than one at the end of a 4-line block: its
    /// complete lines stay as they were (counted, not timed, on a loaded
    /// machine), and it shows what a render of it in one go shows.
    #[test]
    fn a_growing_code_block_costs_only_its_new_lines_each_frame() {
        highlight::warm_up("base16-ocean.dark");
        let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
        let code: String = (0..400)
            .map(|n| format!("fn scale_{n}(x: u32) -> u32 {{ x * {n} }}\n"))
            .collect();
        let answer = format!("Here is the module:\n\n```rust\n{code}```\n");
        let mut cache = RenderCache::default();
        cache.prepare(100, &theme);
        // Three pieces of four bytes a frame, as at 200 tok/s.
        let mut per_frame = Vec::new();
        let mut at = 0;
        while at < answer.len() {
            at = (at + 12).min(answer.len());
            let counts = || {
                (
                    highlight::lines_highlighted(),
                    markdown::code_lines_laid_out(),
                )
            };
            let before = counts();
            let shown = text(cache.body(1, Role::Assistant, &answer[..at], true, &theme));
            let after = counts();
            let lines = answer[..at].matches('\n').count();
            per_frame.push((lines, after.0 - before.0, after.1 - before.1));
            if lines % 50 == 0 {
                let mut fresh = RenderCache::default();
                fresh.prepare(100, &theme);
                let whole = text(fresh.body(2, Role::Assistant, &answer[..at], true, &theme));
                assert_eq!(shown, whole, "at {at}");
            }
        }
        let most = |range: std::ops::Range<usize>, f: fn(&(usize, usize, usize)) -> usize| {
            per_frame
                .iter()
                .filter(|p| range.contains(&p.0))
                .map(f)
                .max()
                .unwrap()
        };
        let (early, late) = (most(3..8, |p| p.1), most(395..403, |p| p.1));
        assert!(
            late <= early.max(2),
            "{late} lines highlighted a frame at 400 lines, {early} at 4"
        );
        let (early, late) = (most(3..8, |p| p.2), most(395..403, |p| p.2));
        assert!(
            late <= early.max(2),
            "{late} lines laid out a frame at 400 lines, {early} at 4"
        );
    }

    /// A table streaming at the end of an answer lays out only its new rows
    /// while no column widens: the rows before stay the lines they were (the
    /// screen sends them no more), and it shows what the whole text shows.
    #[test]
    fn a_growing_table_keeps_its_complete_rows_while_no_column_widens() {
        let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
        let rows: String = (0..24)
            .map(|i| {
                format!(
                    "| gpt-4o | eu-{} | {} ms | ${}.{:02} |\n",
                    i % 5,
                    120 + i % 9,
                    i % 9,
                    i * 37 % 100
                )
            })
            .collect();
        let answer = format!(
            "Latency by region:\n\n| model | region | p50 | cost |\n|---|---|--:|--:|\n{rows}\nDone.\n"
        );
        let mut cache = RenderCache::default();
        cache.prepare(100, &theme);
        let (mut epochs, mut last) = (Vec::new(), None);
        for (at, c) in answer.char_indices() {
            let so_far = &answer[..at + c.len_utf8()];
            let shown = text(cache.body(1, Role::Assistant, so_far, true, &theme));
            // The row being written too, as the whole text streamed shows it.
            let whole = text(&markdown::render_growing(so_far, 100, &theme).lines);
            assert_eq!(shown, whole, "after {so_far:?}");
            let rows_done = so_far
                .split_inclusive('\n')
                .filter(|l| l.starts_with("| gpt") && l.ends_with('\n'))
                .count();
            if (3..24).contains(&rows_done) {
                let (epoch, fixed) = {
                    let e = &cache.entries[&1];
                    (e.epoch, e.fixed())
                };
                // The lines fixed: the text and blank line, the table's top,
                // head and rule, and every complete row.
                assert_eq!(fixed, 2 + 3 + rows_done, "after {so_far:?}");
                if last != Some(epoch) {
                    epochs.push(epoch);
                    last = Some(epoch);
                }
            }
        }
        assert_eq!(epochs.len(), 1, "rows laid out again: {epochs:?}");
    }

    /// A long session: 200 exchanges, each message drawn as it came and
    /// then scrolled away, leave the cache holding about `KEEP_LINES` lines,
    /// and it stops growing (the memory of a session that runs all day).
    #[test]
    fn two_hundred_exchanges_hold_no_more_than_the_cache_keeps() {
        let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
        let answer: String = (0..20)
            .map(|n| format!("Paragraph {n} of a long answer, long enough to wrap at this width once or twice.\n\n"))
            .collect();
        let mut cache = RenderCache::default();
        let mut held = Vec::new();
        let mut biggest = 0;
        for id in 1..=400 {
            cache.prepare(80, &theme);
            let (role, body) = match id % 2 {
                1 => (Role::User, "a question"),
                _ => (Role::Assistant, answer.as_str()),
            };
            biggest = biggest.max(cache.body(id, role, body, false, &theme).len());
            held.push(cache.entries.values().map(|e| e.lines.len()).sum::<usize>());
        }
        let most = |r: std::ops::Range<usize>| held[r].iter().copied().max().unwrap();
        assert!(
            most(0..400) <= KEEP_LINES + 2 * biggest,
            "{} lines held, {KEEP_LINES} kept",
            most(0..400)
        );
        assert!(most(300..400) <= most(100..200), "still growing: {held:?}");
    }

    /// Thousands of tool results drawn one after another keep no more
    /// pretty-printed copies than a few screens show.
    #[test]
    fn derived_values_are_kept_for_a_few_screens_not_the_whole_session() {
        let mut memo: Memo<Option<String>> = Memo::default();
        let mut made = 0;
        for id in 0..2_000 {
            memo.get((id, 0, 10), || {
                made += 1;
                Some(format!("result {id}"))
            });
            assert!(memo.0.len() <= KEEP_MEMOS, "{} kept", memo.0.len());
        }
        assert_eq!(made, 2_000);
        let last = (1_999, 0, 10);
        assert_eq!(
            memo.get(last, || None),
            Some("result 1999".into()),
            "the latest is kept"
        );
    }

    fn text(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    /// A streamed answer shows, at every paragraph break, what the finished
    /// answer will show: the stable part is rendered once and appended to.
    #[test]
    fn a_growing_answer_matches_the_whole_render_at_each_paragraph_break() {
        let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
        let answer = "# Title\n\nSome **bold** text and `code`.\n\n- one\n- two\n\n\
                      | a | b |\n|---|---|\n| 1 | 2 |\n\n```text\nplain code\n```\n\n\
                      A closing paragraph that is long enough to wrap at this width, twice over.\n\n";
        let mut cache = RenderCache::default();
        cache.prepare(40, &theme);
        for (at, _) in answer.char_indices().skip(1) {
            let so_far = &answer[..at];
            let shown = text(cache.body(1, Role::Assistant, so_far, true, &theme));
            if so_far.ends_with("\n\n") {
                let whole = text(&markdown::render(so_far, 40, &theme).lines);
                assert_eq!(shown, whole, "after {so_far:?}");
            }
        }
    }

    /// A growing list is cut before its last item, each item laid out once;
    /// what it shows at every line end is what the whole text shows, for
    /// bullets, nested items, numbers, a second list and what ends a list.
    #[test]
    fn a_growing_list_matches_the_whole_render_at_every_line() {
        let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
        let items: String = (1..=30)
            .map(|n| {
                format!(
                    "- **step {n}:** a step long enough to wrap at this width\n  - a nested note\n"
                )
            })
            .collect();
        let answer = format!(
            "Intro line\n- first bullet after a paragraph\n- second\n\n{items}* another list\n* its item\n\
             # A heading\n- after the heading\n- more\n\n8. eight\n9. nine\n10. ten\n11) other\n\
             - - -\n- last\n"
        );
        streams_as_the_whole(&answer, &theme);
        let tail = &answer[..answer.find("* another").unwrap()];
        let cut = stable::stable_prefix(tail).at;
        assert_eq!(
            &tail[cut..],
            "- **step 30:** a step long enough to wrap at this width\n  - a nested note\n"
        );
    }

    /// Lines as answers mix them: items of three kinds of list, nested and
    /// indented lines, text under an item, blank lines, headings, rules,
    /// tables, fences and quotes.
    const LINES: &[&str] = &[
        "- a bullet item long enough to wrap at forty columns here",
        "- short",
        "* star item",
        "+ plus",
        "1. first",
        "2. second",
        "7) seventh",
        "  - nested item",
        "  indented text",
        "    four spaces in",
        "plain text under it",
        "",
        "",
        "# Heading",
        "---",
        "- - -",
        "| a | b |",
        "|---|---|",
        "```",
        "> quoted",
        "**bold** start",
        "10. ten",
        "-\ttabbed item",
        "- a\ttab inside",
        "1.  two spaces",
        "   - three in",
        "   ```bash",
        "  ```",
        "   | t | u |",
        "  # heading in an item",
        "- # heading item",
        "<div>",
        "<!--",
        "-->",
        "````md",
        "~~~",
        "-",
        "3.",
        "- - - - - - - x",
        "\t```",
        " \t```",
        "    ```",
        "\tindented by a tab",
        "-\t```",
        "- ```",
        "2. ~~~~",
        "-     five in",
        "-\t\ttwo tabs in",
        "\u{a0}",
        "| 1 | a cell wider than the others |",
        "| x |",
        "| a | b | c |",
        "a | b",
        "|",
        "| `x|y` | **b** \\| c |",
        "| [l](http://u) | ![i](p) |",
        "|:--|--:|",
        "    | indented | row |",
        "| t | u | v | w | x | y | z | many columns to shrink |",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Whatever the lines, a growing answer drawn a few bytes at a time
        /// shows at every line end what the whole text shows.
        #[test]
        fn a_growing_answer_shows_what_the_whole_text_shows_at_every_line_end(
            picks in proptest::collection::vec(0..LINES.len(), 1..40),
            step in 1usize..9,
        ) {
            let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
            let answer: String = picks.iter().map(|&i| format!("{}\n", LINES[i])).collect();
            let mut cache = RenderCache::default();
            cache.prepare(40, &theme);
            let ends: Vec<usize> = answer.match_indices('\n').map(|(i, _)| i + 1).collect();
            let mut at = 0;
            while at < answer.len() {
                let mut next = (at + step).min(answer.len());
                while !answer.is_char_boundary(next) {
                    next += 1;
                }
                // Stop at each line end on the way.
                at = ends.iter().copied().find(|&e| e > at && e <= next).unwrap_or(next);
                let so_far = &answer[..at];
                let shown = text(cache.body(1, Role::Assistant, so_far, true, &theme));
                if so_far.ends_with('\n') {
                    let whole = text(&markdown::render(so_far, 40, &theme).lines);
                    proptest::prop_assert_eq!(shown, whole, "after {:?}", so_far);
                }
            }
        }
    }

    /// What a review found: an item ending in a code block, raw HTML, a
    /// fence inside a longer fence, an empty item: each streamed shows at
    /// every line end what the whole text shows.
    #[test]
    fn items_with_blocks_html_nested_fences_and_empty_items_stream_as_the_whole() {
        let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
        for answer in [
            "1. Install:\n   ```bash\n   npm i\n   ```\n2. Run:\n3. Done\n",
            "1. Install:\n   ```bash\n   npm i\n   ```\n\n2. Run:\n",
            "- # A\n- b\n- c\n",
            "<div>\n- a\n- b\n\n# After\n",
            "<!--\n\nhidden\n-->\n\ntext\n",
            "````md\n```\n- a\n- b\n```\n````\n- c\n",
            "- a\n\n-\n  b\n",
            // Tabs, and fences an item opens on its own line.
            "- a\ttab inside\n-\ttabbed item\n   ```bash\n-\ttabbed item\n- - - - - - - x\n",
            "-\t```\n-\ttabbed item\n",
            "```\n  ```\n-\t```\n\n\n# Heading\n",
            "- ```\n\n\n# Heading\n",
            "-     five in\n-\ttabbed item\n",
            "-\n\t```\n\n\n# Heading\n",
            "```\n    ```\n- not an item: still code\n",
            // From a review: a tab five columns on, and a line of no-break spaces.
            "-\t\tx\n  ```\n```\n\nfoo\n",
            "1.\t\tx\n   ```\n```\n\nfoo\n",
            "foo\n\u{a0}\nbar\n",
            "\u{a0}\n\n- a bullet item\n",
            "<div>\n~~~\n\n~~~\n\n- a bullet item\n\n# Heading\n",
            "  indented text\n2. ~~~~\n   ```bash\n- a bullet item\n\n# Heading\n",
        ] {
            streams_as_the_whole(answer, &theme);
        }
    }

    /// Streams `answer` a character at a time at 40 columns: at every line
    /// end the cache shows what the whole text rendered at once shows.
    fn streams_as_the_whole(answer: &str, theme: &Theme) {
        let mut cache = RenderCache::default();
        cache.prepare(40, theme);
        for (at, c) in answer.char_indices() {
            let so_far = &answer[..at + c.len_utf8()];
            let shown = text(cache.body(1, Role::Assistant, so_far, true, theme));
            if c == '\n' {
                let whole = text(&markdown::render(so_far, 40, theme).lines);
                assert_eq!(shown, whole, "after {so_far:?}");
            }
        }
    }
}
