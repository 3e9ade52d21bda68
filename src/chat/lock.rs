//! One writer per conversation. Each process that may save a conversation
//! holds its lock (`.ID.lock` beside it, an advisory `flock`), so two
//! terminals or a script with `chat --continue` never save over each other's
//! exchanges: the console continues a conversation held elsewhere in a copy,
//! and the command line waits for it, then refuses with a message.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held until dropped; the lock file goes with it.
#[derive(Debug)]
pub struct ConversationLock {
    id: String,
    path: PathBuf,
    file: File,
}

/// Another process holds the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub id: String,
    /// The holder's process id, when it wrote one.
    pub pid: Option<u32>,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "conversation {} is open in another llmdeck", self.id)?;
        if let Some(pid) = self.pid {
            write!(f, " (pid {pid})")?;
        }
        Ok(())
    }
}

impl ConversationLock {
    /// The lock of conversation `id` (a checked id) in `dir`, if nobody holds it.
    pub fn try_acquire(dir: &Path, id: &str) -> std::io::Result<Result<Self, Held>> {
        let path = dir.join(format!(".{id}.lock"));
        crate::config::files::create_private_dir(dir)?;
        loop {
            let mut file = crate::config::files::open_private_append(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ =
                        std::fs::File::open(&path).and_then(|mut f| f.read_to_string(&mut text));
                    let pid = text.trim().parse().ok();
                    return Ok(Err(Held {
                        id: id.to_string(),
                        pid,
                    }));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
            // The holder before us removes the file as it lets go; a lock on a
            // file no longer at `path` guards nothing, so take the new one.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0)?;
            file.rewind()?;
            let _ = write!(file, "{}", std::process::id());
            return Ok(Ok(Self {
                id: id.to_string(),
                path,
                file,
            }));
        }
    }

    /// Waits up to `patience` for the holder to let go, telling `waiting` once.
    pub fn acquire_waiting(
        dir: &Path,
        id: &str,
        patience: Duration,
        waiting: impl FnOnce(&Held),
    ) -> Result<Self, String> {
        let start = Instant::now();
        let mut waiting = Some(waiting);
        loop {
            match Self::try_acquire(dir, id) {
                Ok(Ok(lock)) => return Ok(lock),
                Ok(Err(held)) if start.elapsed() < patience => {
                    if let Some(tell) = waiting.take() {
                        tell(&held);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(Err(held)) => {
                    return Err(format!(
                        "{held}; waited {} s (close it there, or continue it when it is done)",
                        patience.as_secs()
                    ));
                }
                Err(e) => return Err(format!("cannot lock conversation {id}: {e}")),
            }
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for ConversationLock {
    fn drop(&mut self) {
        // Removed while still held, so nobody can lock the old file and think it current.
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_next_one_gets_it_after() {
        let dir = tempfile::tempdir().unwrap();
        let a = ConversationLock::try_acquire(dir.path(), "c1")
            .unwrap()
            .unwrap();
        let held = ConversationLock::try_acquire(dir.path(), "c1")
            .unwrap()
            .unwrap_err();
        assert_eq!(held.pid, Some(std::process::id()));
        assert!(held.to_string().contains("open in another llmdeck"));
        // Another conversation is free.
        let _b = ConversationLock::try_acquire(dir.path(), "c2")
            .unwrap()
            .unwrap();
        drop(a);
        assert!(!dir.path().join(".c1.lock").exists(), "the lock file goes");
        let _c = ConversationLock::try_acquire(dir.path(), "c1")
            .unwrap()
            .unwrap();
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go_or_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let a = ConversationLock::try_acquire(dir.path(), "c")
            .unwrap()
            .unwrap();
        let mut told = 0;
        let err = ConversationLock::acquire_waiting(dir.path(), "c", Duration::ZERO, |_| told += 1)
            .unwrap_err();
        assert!(err.contains("open in another llmdeck"), "{err}");
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            ConversationLock::acquire_waiting(&path, "c", Duration::from_secs(60), |_| {}).is_ok()
        });
        std::thread::sleep(Duration::from_millis(100));
        drop(a);
        assert!(waiter.join().unwrap());
    }
}
