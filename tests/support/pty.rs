//! Pseudo-terminals for tests of the real binary on a terminal.

use std::os::fd::FromRawFd;

/// A pseudo-terminal: a child gets the slave as its stdin, stdout or stderr;
/// the test reads (and types on) the master.
pub struct Pty {
    pub master: std::fs::File,
    pub slave: std::fs::File,
}

pub fn pty() -> Pty {
    // SAFETY: plain POSIX calls on descriptors this function owns.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(m >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let name = std::ffi::CStr::from_ptr(libc::ptsname(m))
            .to_string_lossy()
            .into_owned();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name)
            .unwrap();
        Pty {
            master: std::fs::File::from_raw_fd(m),
            slave,
        }
    }
}
