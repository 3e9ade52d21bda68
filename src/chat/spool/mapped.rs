//! The spool on Linux: an unlinked file, mapped read-only.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// The address space one mapping reserves; a text longer than half of it
/// gets a mapping of its own.
const SEGMENT: usize = 8 << 20;

/// A text written to the spool: valid while any copy of it lives.
pub(crate) struct Span {
    segment: Arc<Segment>,
    start: usize,
    len: usize,
}

impl Span {
    pub(crate) fn as_str(&self) -> &str {
        // SAFETY: `start..start + len` lies within the segment's mapping (kept
        // alive by `self.segment`) and was written from a `&str` before this
        // span was made; the file is append-only and reachable through our
        // descriptor alone (unlinked, 0600, close-on-exec), so those bytes are
        // the same UTF-8 and lie before the file's end.
        unsafe {
            let bytes = std::slice::from_raw_parts(self.segment.base.add(self.start), self.len);
            std::str::from_utf8_unchecked(bytes)
        }
    }
}

impl Clone for Span {
    fn clone(&self) -> Self {
        Self {
            segment: Arc::clone(&self.segment),
            start: self.start,
            len: self.len,
        }
    }
}

/// One read-only mapping of a range of the file.
struct Segment {
    base: *const u8,
    size: usize,
    offset: u64,
    file: Arc<File>,
}

// SAFETY: the mapping is read-only and the bytes any span reads never change
// once written; munmap happens once, when the last span is gone.
unsafe impl Send for Segment {}
unsafe impl Sync for Segment {}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: `base..base + size` is the mapping this segment made, and no
        // span of it is left.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.size);
        }
        // Nothing reads this range again: its blocks go back to the disk.
        // SAFETY: fallocate on a descriptor we own; failing changes nothing.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                self.offset as libc::off_t,
                self.size as libc::off_t,
            );
        }
    }
}

struct Spool {
    /// Where its file is made, the first time a text is kept.
    dir: PathBuf,
    /// The file, once made (`Err`: it could not be; not tried again).
    file: Option<Result<Arc<File>, ()>>,
    /// The segment written into, and how much of it is used.
    current: Option<(Arc<Segment>, usize)>,
    /// Where the next segment starts in the file.
    end: u64,
    /// Every segment still in use, to give back after an exchange.
    live: Vec<Weak<Segment>>,
}

static SPOOL: Mutex<Option<Spool>> = Mutex::new(None);

/// Keeps text from now on in a new unlinked file in `dir`, made when the first
/// text is kept (the console calls it; without it `keep` keeps nothing and
/// text stays on the heap, as in the command line's short runs).
pub fn keep_in(dir: PathBuf) {
    *lock() = Some(Spool {
        dir,
        file: None,
        current: None,
        end: 0,
        live: Vec::new(),
    });
}

fn lock() -> std::sync::MutexGuard<'static, Option<Spool>> {
    SPOOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `text` written to the spool, or `None` when there is none or it failed
/// (a full disk): the caller keeps its own copy then.
pub(crate) fn keep(text: &str) -> Option<Span> {
    if text.is_empty() {
        return None;
    }
    let mut guard = lock();
    let spool = guard.as_mut()?;
    let file = spool.file()?;
    let (segment, used) = match spool.current.take() {
        Some((segment, used)) if used + text.len() <= segment.size => (segment, used),
        _ => {
            let segment = spool.map(&file, text.len())?;
            (segment, 0)
        }
    };
    let written = {
        use std::os::unix::fs::FileExt;
        file.write_all_at(text.as_bytes(), segment.offset + used as u64)
    };
    let span = written.ok().map(|()| Span {
        segment: Arc::clone(&segment),
        start: used,
        len: text.len(),
    });
    let used = used + span.as_ref().map_or(0, |s| s.len);
    // A large text's own segment is not written into again.
    if segment.size == SEGMENT {
        spool.current = Some((segment, used));
    }
    span
}

/// Gives the pages of text read since the last call back to the system: the
/// file keeps them (in the page cache, or on disk), the process no longer holds
/// them, and the next read maps them again. Called when an exchange is done.
pub fn release() {
    let mut guard = lock();
    let Some(spool) = guard.as_mut() else { return };
    spool.live.retain(|weak| match weak.upgrade() {
        Some(segment) => {
            // SAFETY: advice on our own read-only shared file mapping: the
            // pages are dropped from this process and read from the file
            // again on next access, with the same contents.
            unsafe {
                libc::madvise(
                    segment.base as *mut libc::c_void,
                    segment.size,
                    libc::MADV_DONTNEED,
                );
            }
            true
        }
        None => false,
    });
}

impl Spool {
    fn file(&mut self) -> Option<Arc<File>> {
        let file = self
            .file
            .get_or_insert_with(|| unlinked_file(&self.dir).map(Arc::new).map_err(|_| ()));
        file.as_ref().ok().cloned()
    }

    /// A new mapping of `file` for a text of `len` bytes, at its end.
    fn map(&mut self, file: &Arc<File>, len: usize) -> Option<Arc<Segment>> {
        let page = page_size();
        let size = if len <= SEGMENT / 2 {
            SEGMENT
        } else {
            len.div_ceil(page) * page
        };
        use std::os::fd::AsRawFd;
        // SAFETY: a new read-only shared mapping of our file; nothing else
        // is at the address the kernel picks.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                self.end as libc::off_t,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let segment = Arc::new(Segment {
            base: base as *const u8,
            size,
            offset: self.end,
            file: Arc::clone(file),
        });
        self.end += size as u64;
        self.live.retain(|w| w.strong_count() > 0);
        self.live.push(Arc::downgrade(&segment));
        Some(segment)
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant of the system.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// A file in `dir` nobody else can open: never named where the filesystem
/// can (O_TMPFILE), else named at random and removed at once. Only on a local
/// filesystem: a mapped page of a network one that cannot be read back (a
/// server gone) is a fault, not an error.
fn unlinked_file(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    crate::config::files::create_private_dir(dir)?;
    if !local(dir) {
        return Err(io::Error::other("not a local filesystem"));
    }
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE);
    if let Ok(file) = options.open(dir) {
        return Ok(file);
    }
    let path = dir.join(format!(".spool-{}", uuid::Uuid::now_v7()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// Whether `dir` is on a filesystem whose pages are on this machine.
fn local(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs fills the zeroed struct it is given from a valid C string.
    let kind = unsafe {
        let mut fs: libc::statfs = std::mem::zeroed();
        if libc::statfs(path.as_ptr(), &mut fs) != 0 {
            return false;
        }
        fs.f_type as i64
    };
    // ext2/3/4, xfs, btrfs, tmpfs, f2fs, zfs, overlay, bcachefs.
    const LOCAL: [i64; 8] = [
        0xEF53,
        0x5846_5342,
        0x9123_683E,
        0x0102_1994,
        0xF2F5_2010,
        0x2FC1_2FC1,
        0x794C_7630,
        0xCA45_1A4E,
    ];
    LOCAL.contains(&kind)
}
