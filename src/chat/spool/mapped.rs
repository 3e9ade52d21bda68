//! The spool on Linux: an unlinked file, mapped read-only.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The address space one mapping reserves; a text longer than half of it
/// gets a mapping of its own.
const SEGMENT: usize = 8 << 20;

/// A text written to the spool: valid while any copy of it lives. (Offsets
/// are 32-bit: every finished message's record holds one for the session.)
#[derive(Clone)]
pub(crate) struct Span {
    segment: Arc<Segment>,
    start: u32,
    len: u32,
}

impl Span {
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// The part of this span from byte `at` on (a char boundary of what was kept).
    pub(crate) fn from(&self, at: usize) -> Span {
        let at = u32::try_from(at).unwrap_or(u32::MAX).min(self.len);
        Span {
            segment: Arc::clone(&self.segment),
            start: self.start + at,
            len: self.len - at,
        }
    }

    /// The first `len` bytes of this span.
    pub(crate) fn until(&self, len: usize) -> Span {
        Span {
            segment: Arc::clone(&self.segment),
            start: self.start,
            len: u32::try_from(len).unwrap_or(u32::MAX).min(self.len),
        }
    }

    /// A copy of its bytes, whatever they are now: what is checked after
    /// the copy cannot change under the check.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.bytes().to_vec()
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `start..start + len` lies within the segment's mapping (kept
        // alive by `self.segment`) and was written before this span was made,
        // so it lies before the file's end: the file is append-only and has no
        // name (only a program of the same user could reach it, through /proc).
        unsafe {
            std::slice::from_raw_parts(
                self.segment.base.add(self.start as usize),
                self.len as usize,
            )
        }
    }

    /// Copies `out.len()` bytes from `at` into `out`; false (nothing copied)
    /// when they are not all inside the span. Copied from the mapping without
    /// borrowing the span's bytes: a `Tally` in it may be written meanwhile.
    pub(crate) fn read_at(&self, at: usize, out: &mut [u8]) -> bool {
        if at.checked_add(out.len()).is_none_or(|end| end > self.len()) {
            return false;
        }
        // SAFETY: `start + at..start + at + out.len()` lies within the span,
        // so within the mapping and before the file's end (see `bytes`); a
        // copy is what any concurrent write through the file can only tear,
        // which a `Tally`'s tag then refuses.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.segment.base.add(self.start as usize + at),
                out.as_mut_ptr(),
                out.len(),
            );
        }
        true
    }

    /// Writes `bytes` over the span's own from `at`: the only bytes of the
    /// spool written twice are a `Tally`'s, read only by copy (`read_at`).
    /// False when they are not all inside the span, or the write failed.
    pub(crate) fn overwrite(&self, at: usize, bytes: &[u8]) -> bool {
        use std::os::unix::fs::FileExt;
        let inside = at
            .checked_add(bytes.len())
            .is_some_and(|end| end <= self.len());
        inside
            && self
                .segment
                .file
                .write_all_at(
                    bytes,
                    self.segment.offset + u64::from(self.start) + at as u64,
                )
                .is_ok()
    }

    /// The segment it is in, to name other spans of it by their place alone.
    pub(crate) fn anchor(&self) -> Anchor {
        Anchor(Arc::clone(&self.segment))
    }

    /// Where it starts in its segment.
    pub(crate) fn start(&self) -> u32 {
        self.start
    }

    pub(crate) fn as_str(&self) -> &str {
        let bytes = self.bytes();
        // Checked on every read all the same: a program of the same user can
        // still write to the file through /proc. What it spoiled is cut off,
        // never read as text.
        match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        }
    }
}

/// A segment of the spool, kept mapped while held: spans of it written down
/// by their place (`Span::start`, `len`) are made again from it.
#[derive(Clone)]
pub(crate) struct Anchor(Arc<Segment>);

impl Anchor {
    /// Whether `span` lies in this segment.
    pub(crate) fn holds(&self, span: &Span) -> bool {
        Arc::ptr_eq(&self.0, &span.segment)
    }

    /// The span at `start..start + len` of the segment, if its bytes were
    /// written (never a place past them: the file may end there).
    pub(crate) fn span(&self, start: u32, len: u32) -> Option<Span> {
        let end = usize::try_from(start).ok()? + usize::try_from(len).ok()?;
        (end <= self.0.written.load(Ordering::Acquire)).then(|| Span {
            segment: Arc::clone(&self.0),
            start,
            len,
        })
    }
}

/// One read-only mapping of a range of the file.
struct Segment {
    base: *const u8,
    size: usize,
    offset: u64,
    file: Arc<File>,
    /// How many of its bytes were written (a span is only ever made of those).
    written: AtomicUsize,
}

// SAFETY: the mapping is read-only and the bytes a span borrows (`bytes`)
// never change once written (a `Tally`'s, written again, are only copied);
// munmap happens once, when the last span is gone.
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
    let mut spool = lock();
    // Texts kept in an earlier spool are still given back with the new one's.
    let live = spool.take().map(|s| s.live).unwrap_or_default();
    *spool = Some(Spool {
        dir,
        file: None,
        current: None,
        end: 0,
        live,
    });
}

fn lock() -> std::sync::MutexGuard<'static, Option<Spool>> {
    SPOOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `text` written to the spool, or `None` when there is none or it failed
/// (a full disk): the caller keeps its own copy then.
pub(crate) fn keep(text: &str) -> Option<Span> {
    keep_parts(&[text])
}

/// `parts` written one after the other as one span (a record and its text);
/// `None` as for `keep`, and for nothing at all or more than 4 GB.
pub(crate) fn keep_parts(parts: &[&str]) -> Option<Span> {
    let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    keep_bytes(&parts)
}

/// `parts` of any bytes (not read as text) written as `keep_parts` writes them.
pub(crate) fn keep_bytes(parts: &[&[u8]]) -> Option<Span> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len == 0 || u32::try_from(len).is_err() {
        return None;
    }
    let mut guard = lock();
    let spool = guard.as_mut()?;
    let file = spool.file()?;
    // A text over half a segment gets a mapping of its own, written once.
    let alone = len > SEGMENT / 2;
    let (segment, used) = match &spool.current {
        Some((segment, used)) if !alone && used + len <= SEGMENT => (Arc::clone(segment), *used),
        _ => (spool.map(&file, len)?, 0),
    };
    {
        use std::os::unix::fs::FileExt;
        // A failed write (a full disk) leaves `used` where it was: the next
        // text overwrites whatever part of this one got there.
        let mut at = segment.offset + used as u64;
        for part in parts {
            file.write_all_at(part, at).ok()?;
            at += part.len() as u64;
        }
    }
    segment.written.fetch_max(used + len, Ordering::Release);
    if !alone {
        spool.current = Some((Arc::clone(&segment), used + len));
    }
    Some(Span {
        segment,
        start: used as u32,
        len: len as u32,
    })
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
        let offset = libc::off_t::try_from(self.end).ok()?;
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
                offset,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        // Pages are read where a text is, not in runs: a text whose pages the
        // kernel dropped comes back from disk alone, without readahead. (Pages
        // still in the page cache are mapped 64 KB at a time, fault-around,
        // which no advice turns off: until the next `release` the process holds
        // those windows around the texts read since.)
        // SAFETY: advice on the mapping just made; it changes no contents.
        unsafe { libc::madvise(base, size, libc::MADV_RANDOM) };
        let segment = Arc::new(Segment {
            base: base as *const u8,
            size,
            offset: self.end,
            file: Arc::clone(file),
            written: AtomicUsize::new(0),
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
/// can (O_TMPFILE, and O_EXCL: never to be linked into the folder), else named
/// at random and removed at once. Only on a local filesystem that reserves
/// space as it is written (`local`): a mapped page of a network one that
/// cannot be read back (a server gone) is a fault, not an error.
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
        .custom_flags(libc::O_TMPFILE | libc::O_EXCL);
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

/// Whether `dir` is on a filesystem whose pages are on this machine and
/// whose writes fail, if they do, when made.
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
        // The magic numbers are 32-bit; the field is wider on 64-bit systems.
        fs.f_type as u32
    };
    // ext2/3/4, xfs and tmpfs: their writes take the space they need when
    // made, so a full disk is the write's error, never a page lost later when
    // the kernel writes it back (copy-on-write filesystems can do that).
    const LOCAL: [u32; 3] = [0xEF53, 0x5846_5342, 0x0102_1994];
    LOCAL.contains(&kind)
}
