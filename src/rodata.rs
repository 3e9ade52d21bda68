//! Data compiled into the binary and read in place (the tokenizers' tables,
//! the price catalog, syntax dumps): once a pass over it is done, its pages
//! are given back. They are clean pages of the binary's file, so the kernel
//! keeps them in its page cache (shared, reclaimable) and a later read maps
//! them back without I/O; until then they are not this process's memory.

/// Lets go of the whole pages inside `bytes`, when they lie in the binary's
/// file mapping (anything else is left alone).
#[cfg(target_os = "linux")]
pub fn let_go(bytes: &'static [u8]) {
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
    if page == 0 || !read_from_file(bytes) {
        return;
    }
    let start = (bytes.as_ptr() as usize).div_ceil(page) * page;
    let end = (bytes.as_ptr() as usize + bytes.len()) / page * page;
    if end > start {
        // SAFETY: [start, end) lies inside `bytes`, in a read-only mapping of a
        // file (checked above: a packed or copied binary's anonymous pages
        // would come back as zeros), so the pages read back are the same bytes.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

#[cfg(not(target_os = "linux"))]
pub fn let_go(_: &'static [u8]) {}

/// Whether `bytes` lie in a read-only mapping of a file (the binary as the
/// loader mapped it), read from /proc/self/maps once.
#[cfg(target_os = "linux")]
pub fn read_from_file(bytes: &'static [u8]) -> bool {
    use std::sync::OnceLock;
    static MAPS: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
    let maps = MAPS.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (range, perms, _, _, inode) =
                    (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
                let (lo, hi) = range.split_once('-')?;
                let file_backed = inode != "0" && perms.starts_with('r') && !perms.contains('w');
                file_backed.then(|| {
                    Some((
                        usize::from_str_radix(lo, 16).ok()?,
                        usize::from_str_radix(hi, 16).ok()?,
                    ))
                })?
            })
            .collect()
    });
    let (lo, hi) = (
        bytes.as_ptr() as usize,
        bytes.as_ptr() as usize + bytes.len(),
    );
    maps.iter().any(|&(a, b)| a <= lo && hi <= b)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    static DATA: [u8; 3 * 4096 * 4] = [7; 3 * 4096 * 4];

    #[test]
    fn only_the_binarys_own_pages_are_let_go_and_they_read_back_the_same() {
        assert!(read_from_file(&DATA));
        let heap: &'static [u8] = Box::leak(vec![1u8; 64 * 1024].into_boxed_slice());
        assert!(!read_from_file(heap));
        let before: u64 = DATA.iter().map(|&b| u64::from(b)).sum();
        let_go(&DATA);
        let_go(heap);
        assert_eq!(DATA.iter().map(|&b| u64::from(b)).sum::<u64>(), before);
        assert!(heap.iter().all(|&b| b == 1));
    }
}
