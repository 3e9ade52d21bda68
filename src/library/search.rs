//! Instant search over the library: fuzzy on name, tags and description
//! (nucleo, as in helix), then every word of the query found in the body.
//! A query that extends the last one searches only the last one's matches.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::Entry;

#[derive(Default)]
pub struct Search {
    last_query: String,
    last: Vec<usize>,
    matcher: Option<Matcher>,
}

impl Search {
    /// Indices of `entries` matching `query`, best first (all, in order, for an empty query).
    pub fn run(&mut self, entries: &[Entry], query: &str) -> Vec<usize> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            self.last_query.clear();
            self.last = (0..entries.len()).collect();
            return self.last.clone();
        }
        let pool: Vec<usize> = if !self.last_query.is_empty()
            && query.starts_with(&self.last_query)
            && self.last.len() <= entries.len()
        {
            std::mem::take(&mut self.last)
        } else {
            (0..entries.len()).collect()
        };
        let matcher = self
            .matcher
            .get_or_insert_with(|| Matcher::new(Config::DEFAULT));
        let pattern = Pattern::parse(&query, CaseMatching::Ignore, Normalization::Smart);
        let words: Vec<&str> = query.split_whitespace().collect();
        let mut buf = Vec::new();
        let mut scored: Vec<(usize, u32)> = pool
            .into_iter()
            .filter_map(|i| {
                let e = entries.get(i)?;
                let fuzzy = pattern.score(Utf32Str::new(&e.haystack, &mut buf), matcher);
                // Body hits rank below any name, tag or description match.
                let in_body = words.iter().all(|w| e.body.contains(w));
                match (fuzzy, in_body) {
                    (Some(s), _) => Some((i, s + 1000)),
                    (None, true) => Some((i, 1)),
                    (None, false) => None,
                }
            })
            .collect();
        scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.last = scored.into_iter().map(|(i, _)| i).collect();
        self.last_query = query;
        self.last.clone()
    }
}
