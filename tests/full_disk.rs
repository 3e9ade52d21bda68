//! A full disk while saving loses the new write, never the old file. The disk
//! is "filled" by a file-size limit (RLIMIT_FSIZE) in a forked child, so the
//! write fails with EFBIG exactly as it would with ENOSPC.

use chrono::Utc;
use llmdeck::chat::conversation::{Conversation, Role};
use llmdeck::chat::store::Store;

#[test]
fn a_save_that_cannot_be_written_leaves_the_previous_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().to_path_buf());
    let mut conv = Conversation::new("gpt-4o", Utc::now());
    conv.append(0, Role::User, "the first, saved version");
    store.save(&conv).unwrap();
    let before = std::fs::read(dir.path().join(format!("{}.json", conv.id))).unwrap();
    assert!(before.len() < 4096);

    let last = conv.last();
    conv.append(last, Role::Assistant, &"a long answer ".repeat(2_000));
    // SAFETY: the child only makes system calls and writes a file, then _exits.
    let status = unsafe {
        let pid = libc::fork();
        if pid == 0 {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 4096,
                rlim_max: 4096,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            let failed = store.save(&conv).is_err();
            libc::_exit(if failed { 0 } else { 1 });
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        status
    };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the oversized save did not fail"
    );
    let after = std::fs::read(dir.path().join(format!("{}.json", conv.id))).unwrap();
    assert_eq!(after, before, "the old file is intact");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no half-written temporary file is left"
    );
    assert_eq!(store.load(&conv.id).unwrap().nodes.len(), 2);
}
