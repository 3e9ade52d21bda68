//! The real binary in a real terminal: tmux runs it, `send-keys` types,
//! `capture-pane` reads the screen — as a new user would see it.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::home_with_config;
use support::mock_server::Mock;
use support::tmux::Tmux;

#[test]
fn demo_mode_answers_a_typed_prompt_and_quits_cleanly() {
    let home = home_with_config("[demo]\ntokens_per_second = 400\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    let screen = t.wait_for("DEMO");
    assert!(
        screen.contains("no API key or endpoint is configured"),
        "{screen}"
    );
    t.type_text("show me some rust code");
    t.keys(&["Enter"]);
    let screen = t.wait_for("tok/s");
    assert!(screen.contains("best for random access"), "{screen}");
    assert!(
        screen.contains("$0.0"),
        "the answer shows its cost: {screen}"
    );
    // The conversation was saved and a ledger row written.
    t.keys(&["C-c"]);
    let start = Instant::now();
    while t.alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!t.alive(), "Ctrl-C quits");
    let saved: Vec<_> = std::fs::read_dir(home.path().join("data/conversations"))
        .unwrap()
        .collect();
    assert_eq!(saved.len(), 1);
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let (status, api): (String, String) = ledger
        .query_row("SELECT status, api FROM requests", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((status.as_str(), api.as_str()), ("ok", "demo"));
}

#[test]
fn esc_stops_a_stream_and_keeps_the_partial_answer() {
    let home = home_with_config("[demo]\ntokens_per_second = 20\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("hello");
    t.keys(&["Enter"]);
    t.wait_for("You are in the offline demo");
    t.keys(&["Escape"]);
    let screen = t.wait_for("stopped");
    assert!(
        screen.contains("≈"),
        "usage of a stopped answer is estimated: {screen}"
    );
    assert!(
        !screen.contains("every key of this pane"),
        "the stream really stopped: {screen}"
    );
}

#[test]
fn a_real_endpoint_streams_and_the_key_never_shows() {
    let mock = Mock::start_in_background();
    let home = home_with_config("");
    let key = "sk-llmdeck-test-SECRET-0123456789";
    let Some(t) = Tmux::start(
        home.path(),
        &[("OPENAI_BASE_URL", &mock.base_url), ("OPENAI_API_KEY", key)],
        &["--model", "gpt-4o-mini"],
    ) else {
        return;
    };
    let screen = t.wait_for("Prompt");
    assert!(!screen.contains("DEMO"), "{screen}");
    assert!(
        screen.contains("127.0.0.1"),
        "the status bar names the host: {screen}"
    );
    t.type_text("hi there");
    t.keys(&["Enter"]);
    let screen = t.wait_for("Hello from the mock.");
    assert!(screen.contains("1200 in (1000 cached)"), "{screen}");
    assert!(!screen.contains("SECRET"), "{screen}");
    let sent = mock.chat_requests();
    assert_eq!(
        sent[0].header("authorization"),
        Some(&*format!("Bearer {key}"))
    );
    t.keys(&["C-q"]);
    // Once it has exited, everything it wrote is there.
    t.wait_exit();
    // Nothing llmdeck wrote holds the key.
    for entry in walk(home.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "key found in {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Pane flags after the program ended: (dead, still in the alternate screen).
fn pane_state(session: &str) -> (bool, bool) {
    let out = support::tmux::tmux()
        .args([
            "display",
            "-p",
            "-t",
            session,
            "#{pane_dead} #{alternate_on}",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut parts = text.split_whitespace();
    (parts.next() == Some("1"), parts.next() == Some("1"))
}

#[test]
fn sigterm_sighup_and_sigint_mid_stream_restore_the_terminal_and_keep_the_partial_answer() {
    for signal in ["TERM", "HUP", "INT"] {
        let home = home_with_config("[demo]\ntokens_per_second = 15\n");
        let Some(t) = Tmux::start(home.path(), &[], &[]) else {
            return;
        };
        support::tmux::tmux()
            .args(["set-option", "-t", &t.session, "remain-on-exit", "on"])
            .status()
            .unwrap();
        t.wait_for("DEMO");
        t.type_text("hello");
        t.keys(&["Enter"]);
        t.wait_for("You are in the offline demo");
        let pid = t.pid();
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        let start = Instant::now();
        while !pane_state(&t.session).0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "SIG{signal} did not end llmdeck"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            !pane_state(&t.session).1,
            "SIG{signal}: the alternate screen was left"
        );
        let conv = std::fs::read_dir(home.path().join("data/conversations"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(conv.path()).unwrap()).unwrap();
        let answer = saved["nodes"].as_array().unwrap().last().unwrap().clone();
        assert!(
            answer["content"]
                .as_str()
                .unwrap()
                .starts_with("## You are in the offline demo")
        );
        assert_eq!(answer["meta"]["status"], "stopped", "SIG{signal}");
    }
}

#[test]
fn chat_on_a_terminal_shows_escape_sequences_inert() {
    let mock = Mock::start_in_background();
    mock.push(support::mock_server::Reply::Stream {
        pieces: vec!["before \u{1b}]52;c;cHduZWQ=\u{7} \u{1b}[2J after".into()],
        finish: "stop".into(),
        gap_ms: 0,
    });
    let home = home_with_config("");
    let session = format!("llmdeck-hostile-{}", std::process::id());
    let cmd = format!(
        "env LLMDECK_HOME={} OPENAI_BASE_URL={} OPENAI_API_KEY=sk-x {} chat --model gpt-4o-mini hi; sleep 5",
        home.path().display(),
        mock.base_url,
        env!("CARGO_BIN_EXE_llmdeck")
    );
    if Command::new("tmux").arg("-V").output().is_err() {
        support::skip("tmux is not installed (.ci/run installs it)");
        return;
    }
    let t = Tmux::run(session, &cmd);
    let screen = t.wait_for("after");
    assert!(
        screen.contains("before ␛]52;c;cHduZWQ=␇ ␛[2J after"),
        "{screen}"
    );
}

#[test]
fn broken_theme_and_keymap_files_are_named_and_the_console_still_opens() {
    let home = home_with_config("theme = \"mine\"\n");
    std::fs::create_dir_all(home.path().join("config/themes")).unwrap();
    std::fs::write(
        home.path().join("config/themes/mine.toml"),
        "name = \"mine\"\n[roles]\ntext = { fg = \"not-a-colour\" }\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join("config/keymap.toml"),
        "[input]\n\"enter\" = \"launch_rockets\"\n",
    )
    .unwrap();
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    // The keymap is read just after the first frame: its warning joins on the next.
    let screen = t.wait_for("launch_rockets");
    assert!(screen.contains("DEMO"), "{screen}");
    assert!(screen.contains("mine.toml"), "{screen}");
    assert!(screen.contains("not a colour"), "{screen}");
    assert!(screen.contains("launch_rockets"), "{screen}");
    // Enter still sends: the broken entry was dropped, the default kept.
    t.type_text("hello");
    t.keys(&["Enter"]);
    t.wait_for("You are in the offline demo");
    assert_eq!(
        std::fs::read_to_string(home.path().join("config/keymap.toml")).unwrap(),
        "[input]\n\"enter\" = \"launch_rockets\"\n"
    );
}

#[test]
fn an_idle_console_uses_no_cpu_and_does_not_grow() {
    let home = home_with_config("[demo]\ntokens_per_second = 400\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("hello");
    t.keys(&["Enter"]);
    t.wait_for("tok/s");
    let pid = t.pid();
    let sample = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<u64> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let rss: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap();
        // utime + stime (fields 14 and 15 of stat; 11 and 12 after the state letter is dropped)
        (fields[10] + fields[11], rss)
    };
    // Wait for the toast and the background work after the answer to settle:
    // until a whole second passes with no CPU used and no memory moved (on a
    // loaded machine that may take a while; it must come within 30 s).
    let start = Instant::now();
    let mut last = sample();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = sample();
        if now == last {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the console never settled: {last:?} then {now:?}"
        );
        last = now;
    }
    let (cpu_before, rss_before) = last;
    std::thread::sleep(Duration::from_secs(3));
    let (cpu_after, rss_after) = sample();
    assert_eq!(cpu_after, cpu_before, "an idle console runs no timer");
    assert_eq!(rss_after, rss_before, "and its memory does not move");
}

#[test]
fn demo_function_call_round_trip_with_a_saved_result_and_an_attachment() {
    let home = home_with_config("[demo]\ntokens_per_second = 400\n");
    std::fs::create_dir_all(home.path().join("config/tools")).unwrap();
    std::fs::write(
        home.path().join("config/tools/get_weather.json"),
        r#"{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},"canned_results":["{\"temp\": 21}"]}"#,
    )
    .unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(800u32.to_be_bytes());
    png.extend(600u32.to_be_bytes());
    png.extend([8, 2, 0, 0, 0]);
    let img = home.path().join("shot.png");
    std::fs::write(&img, &png).unwrap();
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    // The tools panel lists the folder's function; Enter turns it on.
    t.keys(&["F7"]);
    t.wait_for("[ ] get_weather");
    t.keys(&["Enter"]);
    t.wait_for("[x] get_weather");
    t.keys(&["Escape"]);
    t.wait_gone("[x] get_weather");
    t.type_text(&format!("/attach {}", img.display()));
    t.keys(&["Enter"]);
    let screen = t.wait_for("⊕ shot.png");
    assert!(screen.contains("≈765 tokens"), "{screen}");
    t.type_text("Weather in this city?");
    t.keys(&["Enter"]);
    let screen = t.wait_for("waiting for the result of get_weather");
    assert!(screen.contains("✓ arguments match the schema"), "{screen}");
    assert!(
        screen.contains("shot.png · image/png"),
        "the message shows its file: {screen}"
    );
    // Alt-C offers the saved result; Enter picks it, Enter sends it.
    t.keys(&["M-c"]);
    t.wait_for("Saved results");
    t.keys(&["Enter"]);
    t.wait_for("{\"temp\": 21}");
    t.keys(&["Enter"]);
    let screen = t.wait_for("The function answered");
    assert!(screen.contains("Result of get_weather"), "{screen}");
    t.keys(&["C-c"]);
    // The saved conversation carries the tools, the call and the result.
    let start = Instant::now();
    while t.alive() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = home.path().join("data/conversations");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
    assert_eq!(saved["tools"][0]["name"], "get_weather");
    let nodes = saved["nodes"].as_array().unwrap();
    assert!(
        nodes
            .iter()
            .any(|n| n["tool_calls"][0]["name"] == "get_weather")
    );
    assert!(
        nodes
            .iter()
            .any(|n| n["role"] == "tool" && n["content"] == "{\"temp\": 21}")
    );
    assert!(
        nodes
            .iter()
            .any(|n| n["attachments"][0]["mime"] == "image/png")
    );
}

#[test]
fn library_search_fill_and_run_then_save_a_conversation_as_a_prompt() {
    let home = home_with_config("[demo]\ntokens_per_second = 400\n");
    let dir = home.path().join("data/prompts/geo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("capital.md"),
        "+++\nname = \"capital\"\ndescription = \"The capital of a country\"\n\n[[variables]]\nname = \"country\"\nrequired = true\n+++\n\n# System\n\nOne word.\n\n# User\n\nCapital of {{country}}?\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join("data/prompts/zzz.md"),
        "+++\nname = \"zzz\"\n+++\n{{ghost}}\n",
    )
    .unwrap();
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.keys(&["M-3"]);
    let screen = t.wait_for("geo/capital");
    assert!(
        screen.contains("⚠ zzz — line 4"),
        "a broken file is listed with its line: {screen}"
    );
    t.type_text("capi");
    t.wait_for("Prompts 1/2");
    t.keys(&["Enter"]);
    t.wait_for("country (required)");
    // Enter on an empty required field says so and runs nothing.
    t.keys(&["Enter"]);
    t.wait_for("country is required");
    t.type_text("Chile");
    t.keys(&["Enter"]);
    let screen = t.wait_for("tok/s");
    assert!(
        screen.contains("4 Evals  capital"),
        "the conversation is named after the prompt: {screen}"
    );
    // Alt-S saves the conversation back to the library as a new prompt.
    t.keys(&["M-s"]);
    t.wait_for("Save the conversation as a prompt named");
    t.keys(&["C-u"]);
    t.type_text("chile-question");
    t.keys(&["Enter"]);
    t.wait_for("saved as");
    t.keys(&["C-c"]);
    let saved =
        std::fs::read_to_string(home.path().join("data/prompts/chile-question.md")).unwrap();
    let p = llmdeck::library::prompt::parse(&saved).unwrap();
    assert_eq!(p.meta.name, "chile-question");
    assert!(
        p.messages
            .iter()
            .any(|(_, text)| text == "Capital of Chile?"),
        "{saved}"
    );
    let ledger = rusqlite::Connection::open(home.path().join("data/ledger.sqlite3")).unwrap();
    let prompt: String = ledger
        .query_row("SELECT prompt_name FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(prompt, "capital", "the run is recorded with its prompt");
}

#[test]
fn kill_9_mid_stream_keeps_everything_that_was_on_screen() {
    let home = home_with_config("[demo]\ntokens_per_second = 20\n");
    let Some(t) = Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.type_text("hello");
    t.keys(&["Enter"]);
    t.wait_for("built-in demo");
    let pid = t.pid();
    Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    // Gone once its /proc entry is: nothing more can be written after that.
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "kill -9 did not end it"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Reopened, the answer holds at least what the screen showed.
    let store = llmdeck::chat::store::Store::new(home.path().join("data/conversations"));
    let list = store.list();
    let conv = store.load(&list[0].id).unwrap();
    let answer = &conv.nodes[conv.last()];
    assert!(
        answer.content.starts_with("## You are in the offline demo\n\nllmdeck is running **without a key**, so this answer comes from the built-in demo"),
        "{:?}",
        answer.content
    );
    assert_eq!(
        answer.meta.as_ref().unwrap().status,
        llmdeck::chat::conversation::AnswerStatus::Interrupted
    );
}

/// The loader maps no libm, and no libgcc_s where build.rs linked the
/// unwinder in (`static_unwinder`: x86-64, rust-lld, GCC's libgcc_eh.a at
/// hand): a program that needs libm for one function pays ~500 KB resident
/// and its symbol binding at every start (`src/cmath.rs`); libgcc_s costs a
/// library's loading and a constructor that asks the CPU its features,
/// 0.1-0.15 ms a start. glibc's loader lists what it would map when asked
/// to trace (what `ldd` does).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_starts_without_libm_or_libgcc_s() {
    let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("libc.so"), "the loader listed: {listed}");
    assert!(
        !listed.contains("libm.so"),
        "the loader maps libm: {listed}"
    );
    if option_env!("LLMDECK_STATIC_UNWINDER").is_some() {
        assert!(
            !listed.contains("libgcc_s"),
            "the loader maps libgcc_s: {listed}"
        );
    }
}

/// A terminal can go away without a SIGHUP reaching the console (it was not
/// the terminal's session, or a wrapper such as sudo or strace led that
/// session): its input then reads end-of-file forever. Idle, the console
/// notices, and exits as if told to quit, rather than outliving its terminal
/// at 100% of a core (crossterm 0.29's reader re-reads a dead terminal
/// without end).
#[test]
fn an_idle_console_whose_terminal_goes_away_exits() {
    let (status, answer) = close_the_terminal(400, "tok/s", Duration::from_secs(2));
    assert!(status.success(), "{status:?}");
    assert!(answer.contains("built-in"), "{answer:?}");
}

/// Mid-answer, the frame that can no longer be written may end the console
/// first: the answer so far is saved all the same, and nothing panics
/// (`eprintln!` to the dead terminal would).
#[test]
fn a_console_whose_terminal_goes_away_mid_answer_saves_it() {
    let (status, answer) = close_the_terminal(20, "built-in", Duration::ZERO);
    assert_ne!(status.code(), Some(101), "a panic");
    assert!(
        answer.contains("built-in"),
        "the answer shown so far: {answer:?}"
    );
}

/// Starts the demo on a terminal that is not its controlling one (closing it
/// sends no signal), asks, closes the terminal once `shown` is on it and the
/// console has then written nothing for `quiet`, and returns how the console
/// ended and the answer it saved.
fn close_the_terminal(
    tokens_per_second: u32,
    shown: &str,
    quiet: Duration,
) -> (std::process::ExitStatus, String) {
    use std::io::{Read, Write};
    let home = home_with_config(&format!(
        "[demo]\ntokens_per_second = {tokens_per_second}\n"
    ));
    // The pty is not the console's controlling terminal: closing it sends no signal.
    let support::pty::Pty { master, slave } = support::pty::pty();
    // SAFETY: sets the size of a terminal this test owns.
    unsafe {
        let size = libc::winsize {
            ws_row: 30,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&slave),
            libc::TIOCSWINSZ,
            &size,
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env("LLMDECK_HOME", home.path())
        .env("TERM", "xterm-256color")
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    // Read on this thread only while waiting, so that no copy of the master
    // outlives the moment it is closed.
    let mut master = master;
    let mut seen = String::new();
    let mut wait_for = |master: &mut std::fs::File, text: &str, quiet: Duration| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut buf = [0u8; 65536];
        let mut last = Instant::now();
        while !seen.contains(text) || last.elapsed() < quiet {
            assert!(Instant::now() < deadline, "no {text:?} on the terminal");
            let mut poll = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&*master),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd for a descriptor this test owns.
            if unsafe { libc::poll(&mut poll, 1, 100) } == 1 {
                let n = master.read(&mut buf).unwrap();
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                last = Instant::now();
            }
        }
    };
    wait_for(&mut master, "DEMO", Duration::ZERO);
    master.write_all(b"hello").unwrap();
    wait_for(&mut master, "hello", Duration::ZERO);
    master.write_all(b"\r").unwrap();
    wait_for(&mut master, shown, quiet);
    drop(master);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the console outlived its terminal by 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let store = llmdeck::chat::store::Store::new(home.path().join("data/conversations"));
    let list = store.list();
    let conv = store.load(&list[0].id).unwrap();
    (status, conv.nodes[conv.last()].content.to_string())
}
