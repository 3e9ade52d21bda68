//! Bytes the calling thread holds on the heap, for tests of what a long
//! session keeps. A binary that uses it installs the allocator:
//! `#[global_allocator] static COUNTING: support::heap::Counting = support::heap::Counting;`
//! (its tests run on threads of their own, so each counts only what it allocates).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    let _ = HELD.try_with(|h| h.set(h.get() + bytes));
}

pub fn held() -> isize {
    HELD.with(Cell::get)
}

pub struct Counting;

// SAFETY: every call is System's; the count is a thread-local cell.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        add(new as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new) }
    }
}
