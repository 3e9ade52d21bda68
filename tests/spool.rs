//! Finished messages' text kept out of the heap (`chat::spool`): what a long
//! session holds stops growing with its text, and nothing a user sees, sends
//! or saves changes. The spool is one per process, so this binary's tests run
//! one at a time over the same one.

#![cfg(target_os = "linux")]

mod support;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use llmdeck::chat::conversation::Role;
use llmdeck::chat::machine::{Input, Machine};
use llmdeck::chat::request::ChatRequest;
use llmdeck::chat::text::Text;
use llmdeck::chat::tokens::count_request;
use llmdeck::provider::event::{StreamEvent, Usage};
use support::heap;
use support::started;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The spool kept in a fresh folder (the console keeps it in its state folder).
fn spool_in() -> (MutexGuard<'static, ()>, tempfile::TempDir) {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    llmdeck::chat::spool::keep_in(dir.path().join("state"));
    (guard, dir)
}

/// Whether `text` is read from the spool kept in `home`: a mapping of an
/// unlinked file in its state folder (not a copy elsewhere on the heap).
fn in_spool(text: &str, home: &tempfile::TempDir) -> bool {
    let state = home.path().join("state");
    let at = text.as_ptr() as usize;
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.ends_with("(deleted)") && l.contains(&*state.to_string_lossy()))
        .any(|l| {
            let (lo, hi) = l
                .split_whitespace()
                .next()
                .unwrap()
                .split_once('-')
                .unwrap();
            let range =
                usize::from_str_radix(lo, 16).unwrap()..usize::from_str_radix(hi, 16).unwrap();
            range.contains(&at)
        })
}

/// The spool's file, through this process's descriptor of it.
fn spool_file(home: &tempfile::TempDir) -> std::path::PathBuf {
    let state = home.path().join("state");
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|fd| fd.path())
        .find(|fd| {
            std::fs::read_link(fd)
                .is_ok_and(|t| t.starts_with(&state) && t.to_string_lossy().ends_with("(deleted)"))
        })
        .expect("the spool's descriptor")
}

/// `n` exchanges of `answer`, streamed in pieces; the console spools after
/// each (once the save and the count that follow it are done).
fn session(m: &mut Machine, n: u64, answer: &str, spool: bool) {
    let t0 = Instant::now();
    for i in 0..n {
        let at = |ms| t0 + Duration::from_millis(i * 10 + ms);
        let fx = m.handle(Input::Send(format!("question {i}")), at(0), Utc::now());
        let id = started(&fx);
        for piece in answer.as_bytes().chunks(64) {
            let piece = std::str::from_utf8(piece).unwrap().to_string();
            m.handle(
                Input::Stream(id, StreamEvent::TextDelta(piece)),
                at(1),
                Utc::now(),
            );
        }
        let usage = Usage {
            input: 2_000,
            output: 2_000,
            ..Usage::default()
        };
        m.handle(
            Input::Stream(id, StreamEvent::Usage(usage)),
            at(2),
            Utc::now(),
        );
        m.handle(Input::Stream(id, StreamEvent::End), at(2), Utc::now());
        if spool {
            m.spool();
        }
    }
}

#[test]
fn a_spooled_conversation_shows_sends_counts_and_saves_exactly_what_it_did() {
    let (_one, home) = spool_in();
    let mut m = support::machine("gpt-4o-mini");
    m.conv.system = Text::from("You answer in haiku. ¿Qué? 日本語 🦀");
    session(
        &mut m,
        12,
        "An answer with ünïcödé, `code` and\n\n| a | table |\n",
        false,
    );
    let texts: Vec<String> = m.conv.nodes.iter().map(|n| n.content.to_string()).collect();
    let saved = serde_json::to_string(&m.conv).unwrap();
    let sent = llmdeck::provider::chat_completions::to_request_json(&m.conv);
    let count = |m: &Machine| count_request(&ChatRequest::for_node(&m.conv, m.conv.last()));
    let tokens = count(&m);
    assert!(!in_spool(&m.conv.nodes[2].content, &home));

    m.spool();
    assert!(
        in_spool(&m.conv.system, &home),
        "the system prompt left the heap"
    );
    for node in m.conv.nodes.iter().skip(1) {
        assert!(
            in_spool(&node.content, &home),
            "{:?} left the heap",
            node.content
        );
    }
    // The pages given back, as after every exchange: read again from the file.
    llmdeck::chat::spool::release();
    let after: Vec<String> = m.conv.nodes.iter().map(|n| n.content.to_string()).collect();
    assert_eq!(after, texts, "every message reads as it did");
    assert_eq!(
        serde_json::to_string(&m.conv).unwrap(),
        saved,
        "saved the same"
    );
    assert_eq!(
        llmdeck::provider::chat_completions::to_request_json(&m.conv),
        sent,
        "sent the same"
    );
    assert_eq!(count(&m), tokens, "counted the same");

    // A message edited or continued after it was spooled grows like any other,
    // and what else holds it keeps what it was.
    let kept = m.conv.nodes[2].content.clone();
    m.conv.nodes[2].content.push_str(" and more");
    assert!(m.conv.nodes[2].content.ends_with("table |\n and more"));
    assert_eq!(kept.as_str(), texts[2]);

    // Spooled again: only what is not there yet is written.
    m.spool();
    assert_eq!(m.conv.nodes[3].content.as_str(), texts[3]);
    assert!(m.conv.nodes[2].content.ends_with(" and more"));
}

#[test]
fn the_spool_is_a_file_nobody_else_can_open() {
    let (_one, dir) = spool_in();
    let mut m = support::machine("gpt-4o-mini");
    session(&mut m, 3, "a secret answer", true);
    let fd: i32 = spool_file(&dir)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(
        flags & libc::FD_CLOEXEC != 0,
        "tools and servers started later do not inherit it"
    );
    let state = dir.path().join("state");
    let named: Vec<_> = std::fs::read_dir(&state).unwrap().flatten().collect();
    assert!(named.is_empty(), "no name in the folder: {named:?}");
    // It exists only as this process's descriptor, removed from the folder.
    let ours: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .filter(|target| target.starts_with(&*state.to_string_lossy()))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].ends_with("(deleted)"), "{ours:?}");
    // Nor can it be given a name through /proc (O_EXCL with O_TMPFILE).
    let from = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).unwrap();
    let to = std::ffi::CString::new(state.join("linked").to_str().unwrap()).unwrap();
    // SAFETY: linkat with two valid C strings.
    let linked = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    assert_eq!(linked, -1, "the spool was linked into its folder");
    assert!(!state.join("linked").exists());
    // Read at random: a text whose pages left the page cache comes back
    // alone, without the readahead of the pages after it.
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let flags = smaps
        .split_inclusive('\n')
        .skip_while(|l| !(l.contains(&*state.to_string_lossy()) && l.contains("(deleted)")))
        .find(|l| l.starts_with("VmFlags:"))
        .expect("the spool's mapping");
    assert!(flags.split_whitespace().any(|f| f == "rr"), "{flags}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "its folder is the user's alone");
}

#[test]
fn a_full_disk_keeps_the_text_on_the_heap_and_loses_nothing() {
    let (_one, home) = spool_in();
    let mut m = support::machine("gpt-4o-mini");
    session(&mut m, 4, "an answer that cannot be written", false);
    let texts: Vec<String> = m.conv.nodes.iter().map(|n| n.content.to_string()).collect();
    // The disk is "full" in a forked child (a file-size limit: writes fail
    // with EFBIG as they would with ENOSPC), then has room again.
    // SAFETY: the child takes no lock another thread could hold (this binary's
    // tests run one at a time) and _exits.
    let status = unsafe {
        let pid = libc::fork();
        if pid == 0 {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            let heap: Vec<*const u8> = m.conv.nodes.iter().map(|n| n.content.as_ptr()).collect();
            m.spool();
            let same = |m: &Machine| {
                m.conv
                    .nodes
                    .iter()
                    .map(|n| n.content.to_string())
                    .eq(texts.iter().cloned())
            };
            let kept = m
                .conv
                .nodes
                .iter()
                .map(|n| n.content.as_ptr())
                .eq(heap.iter().copied());
            limit.rlim_cur = libc::RLIM_INFINITY;
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            m.spool();
            let moved = m
                .conv
                .nodes
                .iter()
                .skip(1)
                .all(|n| in_spool(&n.content, &home));
            let code = match (same(&m), kept, moved) {
                (true, true, true) => 0,
                (false, ..) => 1,
                (_, false, _) => 2,
                (.., false) => 3,
            };
            libc::_exit(code);
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        status
    };
    assert!(
        libc::WIFEXITED(status),
        "the child ended by a signal ({status})"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "1: a text changed; 2: a text moved though the disk was full; 3: not spooled once it had room"
    );
}

/// Another program of the same user writes to the spool through /proc (the
/// one way in): what it spoiled is never read as text; the rest still is.
#[test]
fn bytes_spoiled_in_the_spool_from_outside_are_never_read_as_text() {
    let (_one, home) = spool_in();
    let text = Text::from("kept: an answer about the spool, spoiled here")
        .spooled()
        .expect("spooled");
    let path = spool_file(&home);
    let bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(text.len())
        .position(|w| w == text.as_bytes())
        .expect("the text in the file");
    let outside = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    use std::os::unix::fs::FileExt;
    outside
        .write_all_at(&[0xFF, 0xFE], (at + "kept: an answer".len()) as u64)
        .unwrap();
    llmdeck::chat::spool::release();
    assert!(std::str::from_utf8(text.as_bytes()).is_ok());
    assert_eq!(text.as_str(), "kept: an answer");
    assert_eq!(
        serde_json::to_string(&text).unwrap(),
        r#""kept: an answer""#
    );
}

/// A message's record changed in the spool from outside (here: made its own
/// reply, which would send a walk of the tree round in circles) is never
/// followed: the message reads as spoiled, and the walk ends there.
#[test]
fn a_record_spoiled_in_the_spool_from_outside_is_never_followed() {
    let (_one, home) = spool_in();
    let mut m = support::machine("gpt-4o-mini");
    session(&mut m, 2, "An answer.", true);
    assert_eq!(m.conv.nodes.live(), 0);
    let store = llmdeck::chat::store::Store::new(home.path().join("conversations"));
    store.save(&m.conv).unwrap();
    let path = spool_file(&home);
    let bytes = std::fs::read(&path).unwrap();
    let links = br#""children":[2]"#;
    let at = bytes
        .windows(links.len())
        .position(|w| w == links)
        .expect("the first question's record in the file");
    let outside = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    use std::os::unix::fs::FileExt;
    outside
        .write_all_at(br#""children":[1]"#, at as u64)
        .unwrap();
    llmdeck::chat::spool::release();
    // Saved, it would overwrite the good copy on disk: the save fails instead.
    let error = store.save(&m.conv).expect_err("not saved").to_string();
    assert!(error.contains("changed on disk"), "{error}");
    // Shown, it is what the slot kept (role, parent, text), not what it says.
    let question = &m.conv.nodes[1];
    assert!(question.children.is_empty(), "{:?}", question.children);
    assert_eq!(
        (question.role, question.parent, question.content.as_str()),
        (Role::User, Some(0), "question 0")
    );
    m.conv.switch_branch(1, 0);
    assert_eq!(
        m.conv.path().to_vec(),
        [1],
        "the walk ends at the spoiled record"
    );
    assert_eq!(
        m.conv.nodes[4].content, "An answer.",
        "the others as they were"
    );
    // Written to (a reply to it, and the spool again after the exchange), it
    // is still never saved: before, the reply made it a record like any other
    // and the next save wrote it, links lost, over the good copy.
    let fx = m.handle(
        Input::Send("a reply to the spoiled one".into()),
        Instant::now(),
        Utc::now(),
    );
    let id = started(&fx);
    m.handle(
        Input::Stream(id, StreamEvent::End),
        Instant::now(),
        Utc::now(),
    );
    m.spool();
    assert_eq!(m.conv.nodes[1].children.len(), 1, "the reply hangs from it");
    let error = store.save(&m.conv).expect_err("not saved").to_string();
    assert!(error.contains("changed on disk"), "{error}");
    let on_disk = store.load(&m.conv.id).unwrap();
    assert_eq!(on_disk.nodes[1].children, vec![2], "the good copy stays");
    assert_eq!(on_disk.nodes.len(), 5);
}

/// Texts larger than a segment, texts that fill several, all read back the
/// same once their pages were given back; and the file's blocks go back to
/// the disk once nothing uses them.
#[test]
fn large_texts_and_many_segments_read_back_whole_and_free_their_blocks() {
    let (_one, home) = spool_in();
    let piece = |n: usize, c: char| -> String {
        let line = format!("{c} line of a long text, with ✓ and 日本 in it\n");
        line.repeat(n / line.len() + 1)
    };
    let sizes = [
        (3 << 20, 'a'),
        (3 << 20, 'b'),
        (5 << 20, 'c'),
        (3 << 20, 'd'),
        (9 << 20, 'e'),
        (10, 'f'),
    ];
    let plain: Vec<String> = sizes.iter().map(|&(n, c)| piece(n, c)).collect();
    let texts: Vec<Text> = plain
        .iter()
        .map(|p| Text::from(p.as_str()).spooled().expect("spooled"))
        .collect();
    llmdeck::chat::spool::release();
    for (text, plain) in texts.iter().zip(&plain) {
        assert!(in_spool(text, &home));
        assert_eq!(text.len(), plain.len());
        assert!(
            text.as_str() == plain.as_str(),
            "a {} byte text reads back whole",
            plain.len()
        );
    }
    let blocks =
        || std::os::unix::fs::MetadataExt::blocks(&std::fs::metadata(spool_file(&home)).unwrap());
    let before = blocks();
    assert!(before * 512 >= 20 << 20, "{before} blocks");
    drop(texts);
    assert!(
        blocks() * 512 < (10 << 20),
        "{} of {before} blocks kept once no text uses them",
        blocks()
    );
}

#[global_allocator]
static COUNTING: heap::Counting = heap::Counting;

#[test]
fn a_long_session_holds_its_messages_records_not_their_text() {
    let (_one, home) = spool_in();
    let answer = "A line of an answer, long enough to look like one. ".repeat(110);
    let mut m = support::machine("gpt-4o-mini");
    session(&mut m, 100, &answer, true);
    let at_100 = heap::held();
    // 128 more exchanges: two more blocks of 128 records, and as many in the
    // block still open as at 100.
    session(&mut m, 128, &answer, true);
    let grew = heap::held() - at_100;
    let text = 128 * (answer.len() + "question 99".len());
    // A message's record is in the spool with its text, read back when asked
    // for; its slot and its text's handle too once its block of 128 is full
    // (~100 bytes a message before: a slot and a handle; ~1 KB before that).
    assert!(
        grew < 512,
        "128 more exchanges of {text} bytes of text grew the heap by {grew}"
    );
    assert_eq!(m.conv.nodes.paged(), 3 * 128);
    assert_eq!(m.conv.nodes.live(), 0, "every record in the spool");
    // A walk of the whole history (the next request and its count, as after
    // every pause in typing) reads no record back to keep.
    let before = heap::held();
    let sent = ChatRequest::for_node(&m.conv, m.conv.last());
    assert_eq!(sent.messages.len(), 456);
    assert!(count_request(&sent) > 100_000);
    drop(sent);
    let kept = heap::held() - before;
    assert!(kept < 4096, "the request's walk kept {kept} bytes");
    let before = heap::held();
    let history: usize = m.conv.nodes.iter().map(|n| n.content.len()).sum();
    assert!(
        history > 228 * answer.len(),
        "the text is all still there: {history}"
    );
    // That walk read every record back (as an export or a switch of branch
    // does): they go at the next freeze, and so does the table that held them.
    assert!(
        heap::held() - before > 456 * 100,
        "the records were read back"
    );
    m.spool();
    let kept = heap::held() - before;
    assert!(kept < 1024, "a walk reading every record kept {kept} bytes");
    let last = &m.conv.nodes.last().unwrap().content;
    assert!(last.starts_with("A line of") && in_spool(last, &home));
}

/// The real console: once an answer is done its text is in the spool (a
/// mapping of an unlinked file in the state folder), and the next request,
/// a re-layout of the screen and the saved conversation still carry it whole.
#[test]
fn the_console_spools_finished_answers_and_still_sends_shows_and_saves_them() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mock = support::mock_server::Mock::start_in_background();
    let home = support::home_with_config("");
    let Some(t) = support::tmux::Tmux::start(
        home.path(),
        &[
            ("OPENAI_BASE_URL", &mock.base_url),
            ("OPENAI_API_KEY", "sk-test-spool"),
        ],
        &["--model", "gpt-4o-mini"],
    ) else {
        return;
    };
    t.wait_for("Prompt");
    t.type_text("the first question, ünïcödé 日本");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    let state = home.path().join("state");
    let maps = format!("/proc/{}/maps", t.pid());
    let spooled = || {
        std::fs::read_to_string(&maps)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains(&*state.to_string_lossy()) && l.ends_with("(deleted)"))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !spooled() {
        assert!(
            Instant::now() < deadline,
            "no text was spooled: {}",
            std::fs::read_to_string(&maps).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The answer itself is in it, read through the console's descriptor.
    let pid = t.pid();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
    let spool = fds
        .flatten()
        .map(|fd| fd.path())
        .find(|fd| std::fs::read_link(fd).is_ok_and(|t| t.starts_with(&state)))
        .expect("the console's spool");
    let bytes = std::fs::read(&spool).unwrap();
    let kept = String::from_utf8_lossy(&bytes);
    assert!(
        kept.contains("Hello from the mock."),
        "the answer was spooled"
    );
    assert!(
        kept.contains("the first question, ünïcödé 日本"),
        "so was the question"
    );

    t.type_text("the second question");
    t.keys(&["Enter"]);
    let screen = t.wait_for_all(&["the second question", "Hello from the mock."]);
    assert!(
        screen.contains("the first question, ünïcödé 日本"),
        "{screen}"
    );
    // The screen shows the second question as soon as it is typed, and the
    // first answer's text is already there: wait for the request itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    while mock.chat_requests().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the second question was not sent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // And for its answer (the same text as the first) before looking further.
    while t.screen().matches("Hello from the mock.").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "no second answer: {}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = mock.chat_requests();
    let messages = sent.last().unwrap().json()["messages"].clone();
    let said: Vec<(String, String)> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().into(),
                m["content"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let first = said
        .iter()
        .position(|(role, text)| role == "user" && text == "the first question, ünïcödé 日本")
        .expect("the first question sent back whole");
    assert_eq!(
        said[first + 1],
        ("assistant".into(), "Hello from the mock.".into())
    );

    // A narrower pane lays every message out again, from the spool.
    support::tmux::tmux()
        .args(["resize-window", "-t", &t.session, "-x", "72", "-y", "30"])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let screen = t.wait_for("the first question, ünïcödé 日本");
    assert!(screen.contains("the second question"), "{screen}");

    t.keys(&["C-q"]);
    t.wait_exit();
    let dir = home.path().join("data/conversations");
    let saved: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(saved.len(), 1);
    assert!(
        saved[0].contains("the first question, ünïcödé 日本"),
        "{}",
        saved[0]
    );
    assert_eq!(
        saved[0].matches("Hello from the mock.").count(),
        2,
        "{}",
        saved[0]
    );
    let named: Vec<_> = std::fs::read_dir(&state)
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    assert!(
        named.is_empty(),
        "nothing is left in the state folder: {named:?}"
    );
}
