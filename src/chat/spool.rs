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

#[cfg(target_os = "linux")]
mod mapped;
#[cfg(target_os = "linux")]
pub(crate) use mapped::{Anchor, Span, keep, keep_bytes, keep_parts};
#[cfg(target_os = "linux")]
pub use mapped::{keep_in, release};

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
