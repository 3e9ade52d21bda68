//! The path a conversation shows (the root's shown child down to the last
//! message), as runs of consecutive ids.
//!
//! A message is added after the one before it, so a conversation without
//! branches is one run however long it is; each branch taken adds one. As a
//! list of ids the path was the one thing a long session's heap still grew by
//! for every message (8 bytes each, copied again at each one).

use std::sync::Arc;

use super::conversation::NodeId;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Path {
    runs: Arc<[Run]>,
    len: usize,
}

/// `len` ids from `first` on, the first shown `at`th.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Run {
    first: NodeId,
    len: usize,
    at: usize,
}

impl Path {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`th message shown.
    pub fn get(&self, i: usize) -> Option<NodeId> {
        let run = self.runs.partition_point(|run| run.at + run.len <= i);
        let run = self.runs.get(run)?;
        Some(run.first + i - run.at)
    }

    pub fn first(&self) -> Option<NodeId> {
        self.runs.first().map(|run| run.first)
    }

    pub fn last(&self) -> Option<NodeId> {
        self.runs.last().map(|run| run.first + run.len - 1)
    }

    /// Where `id` is shown, if it is.
    pub fn position(&self, id: NodeId) -> Option<usize> {
        let run = self
            .runs
            .iter()
            .find(|run| (run.first..run.first + run.len).contains(&id))?;
        Some(run.at + id - run.first)
    }

    /// Its first `kept` messages, then `id`.
    pub fn cut_and_push(&self, kept: usize, id: NodeId) -> Path {
        let kept = kept.min(self.len);
        let mut runs: Vec<Run> = self
            .runs
            .iter()
            .copied()
            .take_while(|r| r.at < kept)
            .collect();
        if let Some(run) = runs.last_mut() {
            run.len = run.len.min(kept - run.at);
        }
        match runs.last_mut() {
            Some(run) if run.first + run.len == id => run.len += 1,
            _ => runs.push(Run {
                first: id,
                len: 1,
                at: kept,
            }),
        }
        Path {
            runs: runs.into(),
            len: kept + 1,
        }
    }

    pub fn iter(&self) -> Ids<'_> {
        Ids {
            path: self,
            front: 0,
            back: self.len,
            front_run: 0,
            back_run: self.runs.len().saturating_sub(1),
        }
    }

    pub fn to_vec(&self) -> Vec<NodeId> {
        self.iter().collect()
    }
}

impl FromIterator<NodeId> for Path {
    fn from_iter<I: IntoIterator<Item = NodeId>>(ids: I) -> Self {
        let mut runs: Vec<Run> = Vec::new();
        let mut len = 0;
        for id in ids {
            len += 1;
            match runs.last_mut() {
                Some(run) if run.first + run.len == id => run.len += 1,
                _ => runs.push(Run {
                    first: id,
                    len: 1,
                    at: len - 1,
                }),
            }
        }
        Path {
            runs: runs.into(),
            len,
        }
    }
}

impl std::fmt::Debug for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The ids of a path, in order, from either end (`front..back` of its
/// places: each step finds its run from the last one's).
pub struct Ids<'a> {
    path: &'a Path,
    front: usize,
    back: usize,
    front_run: usize,
    back_run: usize,
}

impl Iterator for Ids<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.front == self.back {
            return None;
        }
        let runs = &self.path.runs;
        while runs[self.front_run].at + runs[self.front_run].len <= self.front {
            self.front_run += 1;
        }
        let run = runs[self.front_run];
        self.front += 1;
        Some(run.first + self.front - 1 - run.at)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Ids<'_> {
    fn next_back(&mut self) -> Option<NodeId> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        let runs = &self.path.runs;
        while runs[self.back_run].at > self.back {
            self.back_run -= 1;
        }
        let run = runs[self.back_run];
        Some(run.first + self.back - run.at)
    }
}

impl ExactSizeIterator for Ids<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_reads_as_the_list_of_its_ids() {
        let ids = [1, 2, 3, 7, 8, 12, 4, 5];
        let path: Path = ids.into_iter().collect();
        assert_eq!(path.runs.len(), 4, "runs of consecutive ids");
        assert_eq!(path.len(), ids.len());
        assert_eq!(path.to_vec(), ids);
        assert_eq!(
            path.iter().rev().collect::<Vec<_>>(),
            [5, 4, 12, 8, 7, 3, 2, 1]
        );
        assert_eq!((path.first(), path.last()), (Some(1), Some(5)));
        assert_eq!(
            (path.get(3), path.get(7), path.get(8)),
            (Some(7), Some(5), None)
        );
        assert_eq!(path.position(12), Some(5));
        assert_eq!(path.position(6), None);
        assert_eq!(path.cut_and_push(4, 13).to_vec(), [1, 2, 3, 7, 13]);
        let mut both = path.iter();
        assert_eq!(
            (both.next(), both.next_back(), both.len()),
            (Some(1), Some(5), 6)
        );
        let long: Path = (1..10_000).collect();
        assert_eq!(
            long.runs.len(),
            1,
            "a conversation without branches is one run"
        );
        assert_eq!(long.cut_and_push(9_999, 10_000).runs.len(), 1);
        assert!(Path::default().is_empty() && Path::default().last().is_none());
    }
}
