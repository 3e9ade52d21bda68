//! What the console asks of glibc's allocator, so that memory it is done
//! with goes back to the system.

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

/// An answer's worth of temporary allocations (re-rendered tails, parse states)
/// is freed when it ends; glibc keeps freed pages unless asked to give them back.
pub(super) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
