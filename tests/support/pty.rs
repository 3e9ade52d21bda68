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
        // Close-on-exec: a child holding the master would keep its own
        // terminal from ever hanging up.
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        // ptsname_r: ptsname's static buffer, shared by tests running on
        // other threads, once gave two tests the same terminal.
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
        let name = std::ffi::CStr::from_ptr(name.as_ptr())
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

/// Runs `cmd` on a terminal (stdin, stdout and stderr), typing each answer
/// once the output so far holds its prompt; what the terminal showed, and how
/// the program ended.
pub fn on_terminal(
    mut cmd: std::process::Command,
    answers: &[(&str, &str)],
) -> (String, std::process::ExitStatus) {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let Pty { master, slave } = pty();
    let mut child = cmd
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    // The command keeps its copies of the slave until it is dropped.
    drop(cmd);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut reader = master.try_clone().unwrap();
    let into = seen.clone();
    let read = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Linux answers EIO once the last slave descriptor is closed.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut writer = master;
    let mut from = 0;
    for (prompt, answer) in answers {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = seen.lock().unwrap().clone();
            if let Some(at) = text[from..].find(prompt) {
                from += at + prompt.len();
                break;
            }
            assert!(Instant::now() < deadline, "no {prompt:?} in {text:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        writer.write_all(format!("{answer}\n").as_bytes()).unwrap();
    }
    let status = child.wait().unwrap();
    drop(writer);
    read.join().unwrap();
    let text = seen.lock().unwrap().clone();
    (text, status)
}
