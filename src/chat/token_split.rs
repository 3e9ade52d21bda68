//! tiktoken's splitting patterns, written out. Before byte-pair merging,
//! tiktoken cuts a text into pieces with a regular expression; compiled by the
//! regex crate, o200k's (Unicode letter classes) held ~2.3 MB for the rest of
//! the session, more than the whole tokenizer besides. Each pattern is an
//! alternation tried in order, each alternative a few greedy runs of kinds of
//! character, so it is matched here as a backtracking regex engine matches it
//! (leftmost-first, greedy, giving back what a later run needs), over a table
//! of kinds built from the regex crate's own Unicode tables (`build.rs`). The
//! tests hold every split to the regex's.

use std::cmp::Ordering;

/// Which tokenizer's pattern.
#[derive(Clone, Copy, Debug)]
pub enum Pattern {
    O200k,
    Cl100k,
}

/// What the patterns tell characters apart by.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Other,
    /// `\p{Lu}`, `\p{Lt}`
    Upper,
    /// `\p{Ll}`
    Lower,
    /// `\p{Lm}`, `\p{Lo}`: neither upper nor lower case
    Letter,
    /// `\p{M}`
    Mark,
    /// `\p{N}`
    Number,
    /// `\s`
    Space,
}

/// (first, last, kind) of every run of characters of one kind, sorted.
static KINDS: &[(u32, u32, u8)] = include!(concat!(env!("OUT_DIR"), "/char_kinds.rs"));

fn kind(c: char) -> Kind {
    let kind = match c {
        'A'..='Z' => 1,
        'a'..='z' => 2,
        '0'..='9' => 5,
        '\t'..='\r' | ' ' => 6,
        _ if c.is_ascii() => 0,
        _ => from_table(c),
    };
    [
        Kind::Other,
        Kind::Upper,
        Kind::Lower,
        Kind::Letter,
        Kind::Mark,
        Kind::Number,
        Kind::Space,
    ][usize::from(kind)]
}

fn from_table(c: char) -> u8 {
    let n = u32::from(c);
    KINDS
        .binary_search_by(|&(first, last, _)| {
            if last < n {
                Ordering::Less
            } else if first > n {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .map_or(0, |i| KINDS[i].2)
}

fn letter(k: Kind) -> bool {
    matches!(k, Kind::Upper | Kind::Lower | Kind::Letter)
}

/// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`
fn upperish(k: Kind) -> bool {
    matches!(k, Kind::Upper | Kind::Letter | Kind::Mark)
}

/// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`
fn lowerish(k: Kind) -> bool {
    matches!(k, Kind::Lower | Kind::Letter | Kind::Mark)
}

/// `[^\s\p{L}\p{N}]`
fn symbol(k: Kind) -> bool {
    matches!(k, Kind::Other | Kind::Mark)
}

/// The pieces of `text`, as tiktoken's pattern cuts it.
pub fn pieces(pattern: Pattern, text: &str) -> impl Iterator<Item = &str> {
    let piece = match pattern {
        Pattern::O200k => o200k,
        Pattern::Cl100k => cl100k,
    };
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at;
        let c = text[start..].chars().next()?;
        let end = ascii(pattern, text, start).unwrap_or_else(|| piece(text, start));
        // Every character starts some alternative; the floor is only a guard.
        at = end.max(start + c.len_utf8());
        Some(&text[start..at])
    })
}

/// The piece at `s` when every character that decides it is ASCII (most text
/// a console counts): the same alternatives, tried on bytes, with no kind
/// lookups and no alternative that cannot match. `None` when a character
/// past ASCII could change the piece (a run reaching one, or one next to a
/// prefix): the general matcher decides those.
fn ascii(pattern: Pattern, t: &str, s: usize) -> Option<usize> {
    let b = t.as_bytes();
    let at = |i: usize| b.get(i).copied();
    // Where a run of bytes `keep` takes ends; `None` if it ends on non-ASCII.
    let run = |i: usize, keep: fn(&u8) -> bool| {
        let end = b[i..]
            .iter()
            .position(|c| !keep(c))
            .map_or(b.len(), |j| i + j);
        at(end).is_none_or(|c| c.is_ascii()).then_some(end)
    };
    let first = at(s)?;
    if !first.is_ascii() {
        return None;
    }
    let cl100k = matches!(pattern, Pattern::Cl100k);
    // The letters of a word starting at `i` (a letter), and (o200k) its contraction.
    let word = |i: usize| {
        if cl100k {
            run(i, u8::is_ascii_alphabetic)
        } else {
            // `[A-Z]*[a-z]+` or `[A-Z]+[a-z]*`: the capitals, then the small letters.
            let end = run(run(i, u8::is_ascii_uppercase)?, u8::is_ascii_lowercase)?;
            Some(contraction(t, end))
        }
    };
    if cl100k && first == b'\'' {
        let end = contraction(t, s);
        if end > s {
            return Some(end);
        }
    }
    if first.is_ascii_alphabetic() {
        return word(s);
    }
    if first.is_ascii_digit() {
        // `\p{N}{1,3}`: a fourth digit starts the next piece; a non-ASCII
        // character among the three may be a number.
        let end = run(s, u8::is_ascii_digit)?;
        return Some(end.min(s + 3));
    }
    // `[^\r\n\p{L}\p{N}]?` then a word.
    let next = at(s + 1);
    if first != b'\r' && first != b'\n' {
        match next {
            Some(c) if c.is_ascii_alphabetic() => return word(s + 1),
            Some(c) if !c.is_ascii() => return None,
            _ => {}
        }
    }
    // ` ?[^\s\p{L}\p{N}]+` then `[\r\n/]*` (cl100k: `[\r\n]*`).
    let from = if first == b' ' && next.is_some_and(|c| symbol_byte(&c)) {
        s + 1
    } else {
        s
    };
    if symbol_byte(&first) || from > s {
        let end = run(from, symbol_byte)?;
        let tail = if cl100k { &b"\r\n"[..] } else { &b"\r\n/"[..] };
        return Some(
            b[end..]
                .iter()
                .position(|c| !tail.contains(c))
                .map_or(b.len(), |j| end + j),
        );
    }
    // White space: up to its last line break, else all but the last space
    // before a word (cl100k: all of it at the end of the text).
    let end = run(s, space_byte)?;
    if cl100k && end == b.len() {
        return Some(end);
    }
    if let Some(j) = b[s..end].iter().rposition(|c| matches!(c, b'\r' | b'\n')) {
        return Some(s + j + 1);
    }
    Some(if end < b.len() && end - s > 1 {
        end - 1
    } else {
        end
    })
}

/// An ASCII `\s`.
fn space_byte(c: &u8) -> bool {
    c.is_ascii() && kind(char::from(*c)) == Kind::Space
}

/// An ASCII `[^\s\p{L}\p{N}]`.
fn symbol_byte(c: &u8) -> bool {
    c.is_ascii() && symbol(kind(char::from(*c)))
}

/// The end of the piece at `s`, by
/// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
/// |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
/// |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
fn o200k(t: &str, s: usize) -> usize {
    word(t, s, lower_after_upper)
        .or_else(|| word(t, s, upper_then_lower))
        .or_else(|| numbers(t, s))
        .or_else(|| symbols(t, s, &['\r', '\n', '/']))
        .or_else(|| line_breaks(t, s))
        .unwrap_or_else(|| spaces(t, s))
}

/// The end of the piece at `s`, by `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++
/// |\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`.
fn cl100k(t: &str, s: usize) -> usize {
    let letters = |t: &str, i| {
        let end = run(t, i, letter);
        (end > i).then_some(end)
    };
    let to_the_end = || {
        let end = run(t, s, |k| k == Kind::Space);
        (end > s && end == t.len()).then_some(end)
    };
    Some(contraction(t, s))
        .filter(|&end| end > s)
        .or_else(|| word(t, s, letters))
        .or_else(|| numbers(t, s))
        .or_else(|| symbols(t, s, &['\r', '\n']))
        .or_else(to_the_end)
        .or_else(|| line_breaks(t, s))
        .unwrap_or_else(|| spaces(t, s))
}

/// The character at byte `i` and its kind.
fn at(t: &str, i: usize) -> Option<(char, Kind)> {
    t[i..].chars().next().map(|c| (c, kind(c)))
}

/// Where the run of characters from byte `i` whose kind `keep` takes ends.
fn run(t: &str, i: usize, keep: impl Fn(Kind) -> bool) -> usize {
    t[i..]
        .char_indices()
        .find(|&(_, c)| !keep(kind(c)))
        .map_or(t.len(), |(j, _)| i + j)
}

/// `[^\r\n\p{L}\p{N}]?` then `rest`: with that character first, as the
/// regex prefers, and without it if `rest` fails after it.
fn word(t: &str, s: usize, rest: impl Fn(&str, usize) -> Option<usize>) -> Option<usize> {
    let (c, k) = at(t, s)?;
    if c != '\r'
        && c != '\n'
        && !letter(k)
        && k != Kind::Number
        && let Some(end) = rest(t, s + c.len_utf8())
    {
        return Some(end);
    }
    rest(t, s)
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` and a
/// contraction: the first run gives back characters until the second can
/// start.
fn lower_after_upper(t: &str, i: usize) -> Option<usize> {
    let mut from = run(t, i, upperish);
    loop {
        if at(t, from).is_some_and(|(_, k)| lowerish(k)) {
            return Some(contraction(t, run(t, from, lowerish)));
        }
        from -= t[i..from].chars().next_back()?.len_utf8();
    }
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` and a contraction.
fn upper_then_lower(t: &str, i: usize) -> Option<usize> {
    let end = run(t, i, upperish);
    (end > i).then(|| contraction(t, run(t, end, lowerish)))
}

/// Past `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i` if it is there, else `i`.
/// Case-insensitive as the regex crate is: `ſ` (long s) folds to `s`.
fn contraction(t: &str, i: usize) -> usize {
    let Some(rest) = t[i..].strip_prefix('\'') else {
        return i;
    };
    let mut chars = rest.chars();
    let fold = |c: char| {
        if c == 'ſ' {
            's'
        } else {
            c.to_ascii_lowercase()
        }
    };
    let (Some(a), b) = (chars.next(), chars.next()) else {
        return i;
    };
    match (fold(a), b.map(fold)) {
        ('s' | 't' | 'm' | 'd', _) => i + 1 + a.len_utf8(),
        ('r' | 'v', Some('e')) | ('l', Some('l')) => i + 1 + a.len_utf8() + 1,
        _ => i,
    }
}

/// `\p{N}{1,3}`
fn numbers(t: &str, s: usize) -> Option<usize> {
    let len: usize = t[s..]
        .chars()
        .take(3)
        .take_while(|&c| kind(c) == Kind::Number)
        .map(char::len_utf8)
        .sum();
    (len > 0).then_some(s + len)
}

/// ` ?[^\s\p{L}\p{N}]+` then any of `tail`.
fn symbols(t: &str, s: usize, tail: &[char]) -> Option<usize> {
    let mut i = s;
    if t[s..].starts_with(' ') && at(t, s + 1).is_some_and(|(_, k)| symbol(k)) {
        i += 1;
    }
    let end = run(t, i, symbol);
    (end > i).then(|| {
        t[end..]
            .char_indices()
            .find(|(_, c)| !tail.contains(c))
            .map_or(t.len(), |(j, _)| end + j)
    })
}

/// `\s*[\r\n]+` (and cl100k's `\s*[\r\n]`, the same here): white space up to
/// its last line break.
fn line_breaks(t: &str, s: usize) -> Option<usize> {
    let end = run(t, s, |k| k == Kind::Space);
    t[s..end].rfind(['\r', '\n']).map(|j| s + j + 1)
}

/// `\s+(?!\S)|\s+`: a run of white space gives its last character to the
/// word that follows it, unless it is all the run has.
fn spaces(t: &str, s: usize) -> usize {
    let end = run(t, s, |k| k == Kind::Space);
    match t[s..end].chars().next_back() {
        Some(last) if end < t.len() && end - s > last.len_utf8() => end - last.len_utf8(),
        _ => end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;
    use std::sync::LazyLock;

    // The patterns as the regex crate runs them (tiktoken's, with the
    // look-ahead `\s+(?!\S)` done by hand in `by_regex`).
    const O200K: &str = concat!(
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+",
    );
    const CL100K: &str = concat!(
        r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*",
        r"|\s+$|\s*[\r\n]|\s+",
    );

    fn by_regex<'t>(re: &Regex, text: &'t str) -> Vec<&'t str> {
        let mut at = 0;
        let mut out = Vec::new();
        while let Some(m) = re.find_at(text, at) {
            assert_eq!(m.start(), at, "the pattern matches at every place");
            let piece = m.as_str();
            let mut end = m.end();
            let followed = text[end..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace());
            // Only a run the last alternative took: one with a line break
            // was taken by an earlier one.
            let last_alternative =
                piece.chars().all(char::is_whitespace) && !piece.contains(['\r', '\n']);
            if followed && last_alternative && piece.chars().count() > 1 {
                end -= piece.chars().last().map_or(0, char::len_utf8);
            }
            out.push(&text[at..end]);
            at = end;
        }
        out
    }

    fn same_as_regex(text: &str) {
        // Compiled once: in a debug build each takes a good part of a second.
        static REGEXES: LazyLock<[Regex; 2]> =
            LazyLock::new(|| [Regex::new(O200K).unwrap(), Regex::new(CL100K).unwrap()]);
        for (pattern, regex) in [Pattern::O200k, Pattern::Cl100k].into_iter().zip(&*REGEXES) {
            let ours: Vec<&str> = pieces(pattern, text).collect();
            assert_eq!(ours, by_regex(regex, text), "{pattern:?}: {text:?}");
        }
    }

    #[test]
    fn ascii_kinds_agree_with_the_table() {
        for c in (0u8..128).map(char::from) {
            let table = from_table(c);
            assert_eq!(kind(c) as u8, table, "{c:?}");
        }
    }

    #[test]
    fn whitespace_runs_give_their_last_space_to_the_next_word() {
        let split: Vec<&str> = pieces(Pattern::O200k, "a   b\n\n  c  ").collect();
        assert_eq!(split, ["a", "  ", " b", "\n\n", " ", " c", "  "]);
    }

    #[test]
    fn splits_as_the_regex_does() {
        for text in [
            "Hello, world! I'm sure they'll've DONE it.",
            "a   b\n\n  c  ",
            " \n  \r\n\t x",
            "HTTPServer JSONParser ǅungla ʰello ſ 'ſ 'S 'LL 'Ve",
            "e\u{301}\u{301}x \u{301}1 \u{301}\u{301} ab\u{301}CD",
            "日本語のテキスト 한국어 ١٢٣٤ ⅣⅤ 12345 3.14",
            "//usr/bin/\n\n/// x ?!\r\n",
            "\u{85}\u{a0}\u{2028}x\u{3000}y",
            "",
            " ",
        ] {
            same_as_regex(text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Mostly ASCII, as most text is (the byte matcher's ground), with
        /// the characters next to which it hands over to the general one.
        #[test]
        fn ascii_text_splits_as_the_regex_does(
            text in r"([ -~]|[ \t\n\r\x0b\x0c\x1f]|'[sStTrRvVmMlLdD]|[a-z]{2,6}|[0-9]{2,5}|é|ſ|\u{301}|\u{a0}|\u{2028}|日|٣|Ⅳ|ǅ|ʰ){0,40}"
        ) {
            same_as_regex(&text);
        }

        #[test]
        fn any_text_splits_as_the_regex_does(
            text in r"(\p{Lu}|\p{Ll}|\p{Lt}|\p{Lm}|\p{Lo}|\p{M}|\p{N}|\s|\p{P}|\p{S}|[ \r\n'/]|'[sStTrRvVmMlLdDeEſ]|\PC){0,24}"
        ) {
            same_as_regex(&text);
        }
    }
}
