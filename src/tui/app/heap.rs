//! What the console asks of glibc's allocator, so that memory it is done
//! with goes back to the system; and when, after an exchange, finished
//! messages move to the spool (`chat::spool`) and its pages go back too.

use std::time::{Duration, Instant};

/// Buffers that grow with the conversation (its saved JSON, the request
/// body, the request's copy of the messages) are made and freed every
/// exchange. glibc's dynamic threshold moves such sizes, once one is freed,
/// from their own mappings into its heaps, where they stay after free: the
/// resident memory grew by ~25 KB an exchange for a 6 KB answer. A fixed
/// threshold keeps every allocation over 128 KB in a mapping of its own,
/// returned when freed.
pub(super) fn map_large_allocations_apart() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter (under glibc's own lock).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// An answer's worth of temporary allocations (re-rendered tails, parse states,
/// the request, the save, the ledger's write, the count that follows) is freed
/// once it and what it sets off are done; glibc keeps freed pages unless asked
/// to give them back. Asked when the token count that follows the answer comes
/// back (the last of that work), else 500 ms after the answer; not at its end:
/// there, what follows it had yet to run (1.4 MB stayed behind after 200
/// exchanges).
#[derive(Default)]
pub(super) struct Trim(Option<Instant>);

const TRIM_AFTER: Duration = Duration::from_millis(500);

impl Trim {
    /// An answer ended now, or a conversation was opened (a later one moves
    /// the moment on).
    pub(super) fn after_work(&mut self, now: Instant) {
        self.0 = Some(now + TRIM_AFTER);
    }

    /// The count that follows an answer came back: its work is done.
    pub(super) fn after_count(&mut self, now: Instant) {
        if self.0.is_some() {
            self.0 = Some(now);
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.0
    }

    /// Whether it is time to give memory back (once per moment set).
    pub(super) fn due(&mut self, now: Instant) -> bool {
        let due = self.0.is_some_and(|t| t <= now);
        if due {
            self.0 = None;
        }
        due
    }
}

impl super::App {
    /// Work was done whose garbage and finished text go back to the system
    /// once what it set off is done too.
    pub(in crate::tui) fn release_soon(&mut self) {
        self.trim.after_work(Instant::now());
    }

    /// Once due: finished messages leave the heap (`chat::spool`) before it
    /// gives back what is free, and the spool's pages read meanwhile go too.
    pub(super) fn release_if_due(&mut self, now: Instant) {
        if self.trim.due(now) {
            self.state.machine.spool();
            release_freed_memory();
            crate::chat::spool::release();
        }
    }
}

fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trim_waits_for_what_an_answer_sets_off_and_runs_once() {
        let mut trim = Trim::default();
        assert_eq!(trim.deadline(), None, "no answer, no trim");
        let end = Instant::now();
        trim.after_work(end);
        assert_eq!(trim.deadline(), Some(end + TRIM_AFTER));
        assert!(
            !trim.due(end + TRIM_AFTER / 2),
            "too early: the save and count still run"
        );
        assert!(trim.deadline().is_some());
        // A second answer ending meanwhile moves the moment on.
        let later = end + TRIM_AFTER / 2;
        trim.after_work(later);
        assert!(!trim.due(end + TRIM_AFTER));
        assert_eq!(trim.deadline(), Some(later + TRIM_AFTER));
        assert!(trim.due(later + TRIM_AFTER));
        assert!(!trim.due(later + TRIM_AFTER), "once");
        assert_eq!(
            trim.deadline(),
            None,
            "done, and the loop no longer wakes for it"
        );
    }

    #[test]
    fn the_count_after_an_answer_brings_the_trim_forward_and_no_other_count_does() {
        let mut trim = Trim::default();
        let end = Instant::now();
        trim.after_count(end);
        assert_eq!(trim.deadline(), None, "a count while typing trims nothing");
        trim.after_work(end);
        let counted = end + Duration::from_millis(130);
        trim.after_count(counted);
        assert_eq!(trim.deadline(), Some(counted));
        assert!(trim.due(counted));
        assert_eq!(trim.deadline(), None);
    }
}
