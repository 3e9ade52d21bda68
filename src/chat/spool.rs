//! Where finished messages' text (and their records, `chat::nodes`) is kept
//! out of the heap: a file of the console's own, unlinked (nobody else can
//! name it), mapped read-only.
//!
//! A session keeps its whole history: every request sends it back and the
//! transcript scrolls over it. On the heap it is memory the system can never
//! take back (~5.5 KB an exchange of a long session, never freed). Written
//! here it is file pages: read back by the mapping when a request or the
//! screen needs it, given back after each exchange (`release`), and the
//! kernel may drop them under pressure like any file's.
//!
//! The file is written with `pwrite`, never through the mapping: a full disk is
//! an error to handle (the text stays on the heap), not a fault. Only bytes
//! already written are ever read, so the mapping never reaches past the end.
//!
//! Linux only: elsewhere text stays on the heap (the pages are given back
//! with MADV_DONTNEED, whose meaning differs on other systems).
//!
//! Another program of the same user can write to the file through /proc:
//! records, their index and counts are checked against a keyed hash made
//! when they were written (`seal`), and what it changed is refused, never
//! followed; a text is only checked as UTF-8 (what is not is cut off).

#[cfg(target_os = "linux")]
mod mapped;
#[cfg(target_os = "linux")]
pub(crate) use mapped::{Anchor, Span, keep, keep_bytes, keep_parts};
#[cfg(target_os = "linux")]
pub use mapped::{keep_in, release};

/// A hash of `parts`, one after the other, keyed at random for this process:
/// bytes changed in the file from outside no longer match it.
pub(crate) fn seal(parts: &[&[u8]]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static KEY: std::sync::LazyLock<std::hash::RandomState> =
        std::sync::LazyLock::new(std::hash::RandomState::new);
    let mut hasher = KEY.build_hasher();
    for part in parts {
        hasher.write(part);
    }
    hasher.finish()
}

/// Numbers kept in the spool and written again later (a paged message's
/// token counts, `chat::nodes::paged`): each with a tag of the seal's over
/// `key`, its place and itself, so one changed from outside, or read while
/// half written by another thread, reads as none (0).
#[derive(Clone)]
pub(crate) struct Tally {
    span: Span,
    key: u64,
}

/// Bytes of one number in a `Tally`: the value, then its tag.
pub(crate) const TALLIED: usize = 8;

impl Tally {
    /// The numbers in `span` (`TALLIED` bytes each), tagged for `key` (unique
    /// to what they belong to: another's, copied here, read as none).
    pub(crate) fn new(span: Span, key: u64) -> Tally {
        Tally { span, key }
    }

    /// `value` as number `i` is written: the bytes `set` writes.
    pub(crate) fn bytes(key: u64, i: usize, value: u32) -> [u8; TALLIED] {
        let tag = seal(&[&key.to_le_bytes(), &i.to_le_bytes(), &value.to_le_bytes()]) as u32;
        let mut out = [0; TALLIED];
        out[..4].copy_from_slice(&value.to_le_bytes());
        out[4..].copy_from_slice(&tag.to_le_bytes());
        out
    }

    /// Number `i`, or 0 when it is not as written.
    pub(crate) fn get(&self, i: usize) -> u32 {
        let mut b = [0; TALLIED];
        if !self.span.read_at(i * TALLIED, &mut b) {
            return 0;
        }
        let value = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if Self::bytes(self.key, i, value) == b {
            value
        } else {
            0
        }
    }

    /// Writes `value` as number `i` (a failed write leaves it as it was).
    pub(crate) fn set(&self, i: usize, value: u32) {
        self.span
            .overwrite(i * TALLIED, &Self::bytes(self.key, i, value));
    }
}

#[cfg(not(target_os = "linux"))]
mod elsewhere {
    /// Never made: nothing is spooled.
    #[derive(Clone)]
    pub(crate) enum Span {}

    impl Span {
        pub(crate) fn len(&self) -> usize {
            match *self {}
        }

        pub(crate) fn as_str(&self) -> &str {
            match *self {}
        }

        pub(crate) fn to_vec(&self) -> Vec<u8> {
            match *self {}
        }

        pub(crate) fn from(&self, _at: usize) -> Span {
            match *self {}
        }

        pub(crate) fn until(&self, _len: usize) -> Span {
            match *self {}
        }

        pub(crate) fn read_at(&self, _at: usize, _out: &mut [u8]) -> bool {
            match *self {}
        }

        pub(crate) fn overwrite(&self, _at: usize, _bytes: &[u8]) -> bool {
            match *self {}
        }

        pub(crate) fn anchor(&self) -> Anchor {
            match *self {}
        }

        pub(crate) fn start(&self) -> u32 {
            match *self {}
        }
    }

    /// Never made: nothing is spooled.
    #[derive(Clone)]
    pub(crate) enum Anchor {}

    impl Anchor {
        pub(crate) fn holds(&self, _span: &Span) -> bool {
            match *self {}
        }

        pub(crate) fn span(&self, _start: u32, _len: u32) -> Option<Span> {
            match *self {}
        }
    }

    pub fn keep_in(_dir: std::path::PathBuf) {}

    pub(crate) fn keep(_text: &str) -> Option<Span> {
        None
    }

    pub(crate) fn keep_parts(_parts: &[&str]) -> Option<Span> {
        None
    }

    pub(crate) fn keep_bytes(_parts: &[&[u8]]) -> Option<Span> {
        None
    }

    pub fn release() {}
}
#[cfg(not(target_os = "linux"))]
pub(crate) use elsewhere::{Anchor, Span, keep, keep_bytes, keep_parts};
#[cfg(not(target_os = "linux"))]
pub use elsewhere::{keep_in, release};
