//! The render cache held to the whole render, and its costs counted.

use super::*;

/// A frame at the end of a growing 400-line code block highlights, lays
/// out and reads for a closing fence no more lines than one at the end of
/// a 4-line block: its complete lines stay as they were (counted, not
/// timed, on a loaded machine), and it shows what a render of it in one go
/// shows.
#[test]
fn a_growing_code_block_costs_only_its_new_lines_each_frame() {
    highlight::warm_up("base16-ocean.dark");
    let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
    let code: String = (0..400)
        .map(|n| format!("fn scale_{n}(x: u32) -> u32 {{ x * {n} }}\n"))
        .collect();
    // After a paragraph, and as the answer's first line.
    for intro in ["Here is the module:\n\n", ""] {
        let answer = format!("{intro}```rust\n{code}```\n");
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
                    markdown::fence_lines_read(),
                )
            };
            let before = counts();
            let shown = text(cache.body(1, Role::Assistant, &answer[..at], true, &theme));
            let after = counts();
            // Lines so far, counted as if after the intro's two.
            let lines = (answer[..at].matches('\n').count() + 2)
                .saturating_sub(intro.matches('\n').count());
            per_frame.push((
                lines,
                after.0 - before.0,
                after.1 - before.1,
                after.2 - before.2,
            ));
            if lines % 50 == 0 {
                let mut fresh = RenderCache::default();
                fresh.prepare(100, &theme);
                let whole = text(fresh.body(2, Role::Assistant, &answer[..at], true, &theme));
                assert_eq!(shown, whole, "at {at}");
            }
        }
        let most = |range, f: fn(&(usize, usize, usize, usize)) -> usize| {
            most_at(&per_frame, range, |p| p.0, f)
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
        let (early, late) = (most(3..8, |p| p.3), most(395..403, |p| p.3));
        assert!(
            late <= early.max(2),
            "{late} lines read for a closing fence a frame at 400 lines, {early} at 4"
        );
    }
}

/// The most a frame cost (`cost`) among the frames whose line count
/// (`lines`) is in `range`.
fn most_at<T>(
    frames: &[T],
    range: std::ops::Range<usize>,
    lines: impl Fn(&T) -> usize,
    cost: impl Fn(&T) -> usize,
) -> usize {
    frames
        .iter()
        .filter(|f| range.contains(&lines(f)))
        .map(cost)
        .max()
        .expect("frames in the range")
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
    // After a paragraph (its line and a blank one above the table), and
    // as the answer's first line.
    for (intro, above) in [("Latency by region:\n\n", 2), ("", 0)] {
        let answer =
            format!("{intro}| model | region | p50 | cost |\n|---|---|--:|--:|\n{rows}\nDone.\n");
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
                    (e.epochs.of(e.fixed() - 1), e.fixed())
                };
                // The lines fixed: those above, the table's top, head and
                // rule, and every complete row.
                assert_eq!(fixed, above + 3 + rows_done, "after {so_far:?}");
                if last != Some(epoch) {
                    epochs.push(epoch);
                    last = Some(epoch);
                }
            }
        }
        assert_eq!(epochs.len(), 1, "rows laid out again: {epochs:?}");
    }
}

/// A code block that closes and a table whose column widens are laid out
/// anew, and only they: the lines above keep their ids, so the screen goes
/// on showing them instead of drawing the whole answer again (as it did
/// twice in each section of a mixed answer). And a line that keeps its id
/// from one frame to the next is the line it was.
#[test]
fn a_block_laid_out_anew_leaves_the_lines_above_it_their_ids() {
    highlight::warm_up("base16-ocean.dark");
    let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
    let answer = "A paragraph above.\n\n- an item\n- another\n\n```rust\nfn a() {}\nfn b() {}\n```\n\n\
                  Text between.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 1000000 | 2 |\n\nThe end.\n";
    let mut cache = RenderCache::default();
    cache.prepare(100, &theme);
    let mut before: Vec<(Option<u64>, Line<'static>)> = Vec::new();
    let mut above = None;
    for (at, c) in answer.char_indices() {
        let so_far = &answer[..at + c.len_utf8()];
        let lines = cache
            .body(1, Role::Assistant, so_far, true, &theme)
            .to_vec();
        let now: Vec<_> = (0..lines.len())
            .map(|i| cache.fixed_line(1, i))
            .zip(lines)
            .collect();
        for (i, (id, line)) in now.iter().enumerate() {
            if let (Some(id), Some((Some(old), old_line))) = (id, before.get(i))
                && id == old
            {
                assert_eq!(
                    line, old_line,
                    "line {i} kept its id but changed, at {so_far:?}"
                );
            }
        }
        // The paragraph and the list, once the code block under them opened.
        let ids: Vec<Option<u64>> = now.iter().take(4).map(|(id, _)| *id).collect();
        if so_far.ends_with("```rust\n") {
            assert!(ids.iter().all(Option::is_some), "fixed by then: {ids:?}");
            above = Some(ids);
        } else if let Some(above) = &above {
            assert_eq!(&ids, above, "the lines above laid out again at {so_far:?}");
        }
        before = now;
    }
    assert!(above.is_some());
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
            format!("- **step {n}:** a step long enough to wrap at this width\n  - a nested note\n")
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

/// A frame at the end of a long answer reads no more of it for its stable
/// prefix than one at its start: the lines complete at the last frame are
/// not read again (counted, not timed).
#[test]
fn a_long_answer_reads_each_line_once_for_its_stable_prefix() {
    let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
    let answer: String = (0..400)
        .map(|n| format!("Paragraph {n}, a line of prose.\n- an item\n- another\n\n"))
        .collect();
    let mut cache = RenderCache::default();
    cache.prepare(100, &theme);
    let (mut at, mut per_frame) = (0, Vec::new());
    while at < answer.len() {
        at = (at + 12).min(answer.len());
        let before = stable::lines_read();
        cache.body(1, Role::Assistant, &answer[..at], true, &theme);
        per_frame.push((
            answer[..at].matches('\n').count(),
            stable::lines_read() - before,
        ));
    }
    let most = |lines| most_at(&per_frame, lines, |p| p.0, |p| p.1);
    let (early, late) = (most(4..20), most(1580..1600));
    assert!(
        late <= early,
        "{late} lines read a frame at 1,600 lines, {early} at 20"
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

    /// The stable prefix read a few bytes at a time, each line once, cuts
    /// where reading the text so far from its start cuts; a shorter text
    /// (an answer started over) is read afresh.
    #[test]
    fn the_stable_prefix_read_on_from_the_last_frame_cuts_as_read_whole(
        picks in proptest::collection::vec(0..LINES.len(), 1..40),
        steps in proptest::collection::vec(1usize..30, 1..8),
        other in proptest::collection::vec(0..LINES.len(), 1..10),
    ) {
        let answer: String = picks.iter().map(|&i| format!("{}\n", LINES[i])).collect();
        let mut scan = stable::Scan::default();
        let mut at = 0;
        for step in steps.iter().cycle() {
            if at == answer.len() {
                break;
            }
            at = (at + step).min(answer.len());
            while !answer.is_char_boundary(at) {
                at += 1;
            }
            let so_far = &answer[..at];
            proptest::prop_assert_eq!(scan.resume(so_far), stable::stable_prefix(so_far), "after {:?}", so_far);
        }
        let other: String = other.iter().map(|&i| format!("{}\n", LINES[i])).collect();
        let shorter = &other[..other.floor_char_boundary(answer.len() - 1)];
        let shorter = &shorter[..shorter.rfind('\n').map_or(0, |i| i + 1)];
        proptest::prop_assert_eq!(scan.resume(shorter), stable::stable_prefix(shorter));
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

/// An answer that opens with a code block and is started over (a shorter
/// text under the same id, the block's cut the same) is laid out afresh:
/// none of the lines the last answer's open block had fixed are kept.
#[test]
fn an_open_block_started_over_keeps_none_of_the_last_answers_lines() {
    let theme = Theme::load("dark", std::path::Path::new("/nonexistent"), false).0;
    let mut cache = RenderCache::default();
    cache.prepare(60, &theme);
    let first = "```rust\nfn first_answer() {}\nfn more_of_it() {}\nfn and_more() {}\n";
    cache.body(1, Role::Assistant, first, true, &theme);
    let again = "```rust\nlet x = 1;\n";
    let shown = text(cache.body(1, Role::Assistant, again, true, &theme));
    let mut fresh = RenderCache::default();
    fresh.prepare(60, &theme);
    let whole = text(fresh.body(2, Role::Assistant, again, true, &theme));
    assert_eq!(shown, whole);
    assert!(
        !shown.iter().any(|l| l.contains("first_answer")),
        "{shown:?}"
    );
}
