//! Files others wrote and files we write: a conversation file cannot name a
//! path outside its folder, what llmdeck writes is readable by the user alone,
//! a price file cannot lie, and two processes on one conversation lose no
//! exchange. Each test performs the attack or the race on the real binary.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::Utc;
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::store::Store;
use support::mock_server::{Mock, Reply};

/// The real binary under a shell with the usual `umask 022`, as a user runs it.
fn run(home: &Path, mock: &Mock, args: &[&str]) -> Output {
    spawn(home, mock, args).wait_with_output().unwrap()
}

fn spawn(home: &Path, mock: &Mock, args: &[&str]) -> std::process::Child {
    Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_llmdeck"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home)
        .env("OPENAI_BASE_URL", &mock.base_url)
        .env("OPENAI_API_KEY", "sk-trust-test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn conversations(home: &Path) -> PathBuf {
    home.join("data/conversations")
}

/// A saved conversation of one exchange, as llmdeck writes it.
fn saved(home: &Path, id: &str) -> Conversation {
    let mut conv = Conversation::new("gpt-4o", Utc::now());
    conv.id = id.into();
    let user = conv.append(0, llmdeck::chat::conversation::Role::User, "first question");
    conv.append(
        user,
        llmdeck::chat::conversation::Role::Assistant,
        "first answer",
    );
    Store::new(conversations(home)).save(&conv).unwrap();
    conv
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn a_conversation_file_cannot_choose_where_it_is_saved() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let outside = h.join("victim");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("precious.json"), "keep me").unwrap();
    // Someone sends two conversation files whose ids are paths: one relative,
    // one absolute. Their own names are plain.
    let template = saved(h, "template");
    for (name, id) in [
        ("evil", "../../victim/precious".to_string()),
        ("evil-abs", outside.join("precious").display().to_string()),
    ] {
        let mut conv = template.clone();
        conv.id = id;
        let json = serde_json::to_string_pretty(&conv).unwrap();
        std::fs::write(conversations(h).join(format!("{name}.json")), json).unwrap();
        let out = run(h, &mock, &["chat", "--continue", name, "second question"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(outside.join("precious.json")).unwrap(),
            "keep me",
            "{name}: a file outside the conversations folder was overwritten"
        );
        // The exchange went where the file is, under its own name.
        let kept = Store::new(conversations(h)).load(name).unwrap();
        assert_eq!(kept.id, name);
        assert!(
            kept.nodes.iter().any(|n| n.content == "second question"),
            "{name}: the exchange was saved in the file it came from"
        );
    }
    assert_eq!(
        files_under(&outside),
        vec![outside.join("precious.json")],
        "nothing new outside"
    );
}

#[test]
fn a_function_name_that_is_a_path_is_refused_with_a_message() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let mut conv = saved(h, "template");
    let mut json = serde_json::to_value(&conv).unwrap();
    json["tools"] = serde_json::json!([{
        "name": "../../../victim",
        "description": "edit me",
        "parameters": {"type": "object", "properties": {}}
    }]);
    conv.id = "evil".into();
    std::fs::write(
        conversations(h).join("evil.json"),
        serde_json::to_string(&json).unwrap(),
    )
    .unwrap();
    let out = run(h, &mock, &["chat", "--continue", "evil", "hi"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("evil.json") && err.contains("function name"),
        "{err}"
    );
    assert!(mock.chat_requests().is_empty(), "nothing was sent");
    // An id given on the command line is a name, never a path.
    let out = run(h, &mock, &["chat", "--continue", "../template", "hi"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a conversation id"), "{err}");
}

#[cfg(unix)]
#[test]
fn what_llmdeck_writes_is_readable_by_the_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    saved(h, "chat-1");
    // As an older llmdeck left them: the conversation, its folder and the
    // ledger readable by others. They are closed again when next written.
    let conv_file = conversations(h).join("chat-1.json");
    std::fs::set_permissions(&conv_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(conversations(h), std::fs::Permissions::from_mode(0o755)).unwrap();
    let old_ledger = h.join("data/ledger.sqlite3");
    std::fs::write(&old_ledger, "").unwrap();
    std::fs::set_permissions(&old_ledger, std::fs::Permissions::from_mode(0o644)).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let f = fresh.path();
    let log = f.join("state/llmdeck.log");
    let rec = f.join("data/rec/answers.json");
    for (home, args) in [
        (h, vec!["chat", "--continue", "chat-1", "hello"]),
        (
            f,
            vec![
                "--log",
                log.to_str().unwrap(),
                "--record",
                rec.to_str().unwrap(),
                "chat",
                "--model",
                "gpt-4o",
                "hello",
            ],
        ),
    ] {
        let out = run(home, &mock, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert!(log.exists() && rec.exists());
    let mut seen = 0;
    for p in files_under(h).into_iter().chain(files_under(f)) {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&p), want, "{} is {:o}", p.display(), mode(&p));
        seen += 1;
    }
    // The ledger, its WAL, the conversation, the log and the recording at least.
    let names: Vec<String> = files_under(f)
        .iter()
        .chain(files_under(h).iter())
        .filter_map(|p| p.file_name()?.to_str().map(String::from))
        .collect();
    for name in ["ledger.sqlite3", "llmdeck.log", "answers.json"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert!(seen >= 8, "{names:?}");
}

#[test]
fn a_price_file_that_lies_is_refused_naming_the_file_and_the_model() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::create_dir_all(h.join("config")).unwrap();
    std::fs::write(
        h.join("config/prices.toml"),
        "[models.\"gpt-4o\"]\ninput = -2.5\noutput = 10.0\n",
    )
    .unwrap();
    let out = run(h, &mock, &["chat", "--model", "gpt-4o", "--json", "hi"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("prices.toml") && err.contains("\"gpt-4o\"") && err.contains("negative"),
        "{err}"
    );
    // The embedded price still applies: the answer is not credited money.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cost_micros"], 4750, "{v}");
}

#[test]
fn two_processes_continuing_one_conversation_both_keep_their_exchange() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    saved(h, "shared");
    // Each answer streams for about a second, so the two runs overlap.
    for who in ["one", "two"] {
        mock.push(Reply::Stream {
            pieces: (0..10).map(|i| format!("{who}-{i} ")).collect(),
            finish: "stop".into(),
            gap_ms: 100,
        });
    }
    let a = spawn(h, &mock, &["chat", "--continue", "shared", "question A"]);
    let b = spawn(h, &mock, &["chat", "--continue", "shared", "question B"]);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let conv = Store::new(conversations(h)).load("shared").unwrap();
    let texts: Vec<&str> = conv.nodes.iter().map(|n| n.content.as_str()).collect();
    for q in ["question A", "question B"] {
        assert!(texts.contains(&q), "{q} was lost: {texts:?}");
    }
    let answers = texts.iter().filter(|t| t.contains("-9")).count();
    assert_eq!(answers, 2, "both answers kept: {texts:?}");
    // The second waited for the first, and said so.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert!(said.contains("open in another llmdeck"), "{said}");
    // The second continued after the first: its question follows the first answer.
    assert_eq!(conv.path().len(), 6, "{texts:?}");
}

#[test]
fn a_prompt_file_name_cannot_climb_out_of_the_library() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("prompts");
    std::fs::create_dir_all(&dir).unwrap();
    let lib = llmdeck::library::Library::load(&dir);
    for name in ["../outside.md", "group/../../outside.md", "/tmp/abs.md"] {
        let err = lib.create(name, "x").unwrap_err();
        assert!(err.contains("inside the library"), "{name}: {err}");
    }
    assert!(!home.path().join("outside.md").exists());
    // A group folder inside is fine.
    let made = lib
        .create("team/review.md", "+++\nname = \"review\"\n+++\n")
        .unwrap();
    assert!(made.starts_with(&dir));
}

/// The console opens a conversation a script is continuing: it continues it
/// in a copy and says so, and each keeps its own exchange.
#[test]
fn the_console_continues_a_conversation_held_elsewhere_in_a_copy() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    saved(h, "shared");
    // The script's answer streams for 12 s: it holds the conversation meanwhile.
    mock.push(Reply::Stream {
        pieces: (0..60).map(|i| format!("script-{i} ")).collect(),
        finish: "stop".into(),
        gap_ms: 200,
    });
    let script = spawn(
        h,
        &mock,
        &["chat", "--continue", "shared", "from the script"],
    );
    let lock = conversations(h).join(".shared.lock");
    // It holds the lock and its request has arrived, so the console's request
    // is the next one, answered at once.
    let start = std::time::Instant::now();
    while !lock.exists() || mock.chat_requests().is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the script never took the lock and sent its request"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-trust-test"),
    ];
    if let Some(t) = support::tmux::Tmux::start(h, &env, &[]) {
        t.wait_for("Prompt");
        t.keys(&["C-o"]);
        t.wait_for("first question");
        t.keys(&["Enter"]);
        t.wait_for("copy of first question");
        t.type_text("from the console");
        t.keys(&["Enter"]);
        t.wait_for("Hello from the mock.");
        t.keys(&["C-q"]);
        t.wait_exit();
    }
    let out = script.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::new(conversations(h));
    let texts = |id: &str| -> Vec<String> {
        store
            .load(id)
            .unwrap()
            .nodes
            .iter()
            .map(|n| n.content.to_string())
            .collect()
    };
    let shared = texts("shared");
    assert!(shared.iter().any(|t| t == "from the script"), "{shared:?}");
    assert!(
        !shared.iter().any(|t| t == "from the console"),
        "{shared:?}"
    );
    let copy = store
        .list()
        .into_iter()
        .find(|s| s.id != "shared" && s.id != "template")
        .expect("the console saved a copy");
    let copy = texts(&copy.id);
    assert!(copy.iter().any(|t| t == "first question"), "{copy:?}");
    assert!(copy.iter().any(|t| t == "from the console"), "{copy:?}");
    assert!(!lock.exists(), "no lock is left behind");
}

/// A server that reports absurd token counts (near i64::MAX, twice, so a sum
/// would overflow) is held to what one request can have: the reports still
/// add up instead of failing with an integer overflow.
#[test]
fn absurd_token_counts_from_a_server_are_held_and_reports_still_add_up() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let huge = r#"{"prompt_tokens":9223372036854775807,"completion_tokens":18446744073709551615,"total_tokens":1}"#;
    for _ in 0..2 {
        let text = support::mock_server::chunk("gpt-4o", r#"{"content":"hi"}"#, "\"stop\"");
        let usage = format!(
            r#"{{"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{huge}}}"#
        );
        mock.push(Reply::Raw(
            format!("data: {text}\n\ndata: {usage}\n\ndata: [DONE]\n\n").into_bytes(),
        ));
    }
    for _ in 0..2 {
        let out = run(home.path(), &mock, &["chat", "--model", "gpt-4o", "hi"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(home.path(), &mock, &["usage", "--by", "model", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v.to_string();
    let max = llmdeck::provider::event::MAX_TOKENS;
    assert!(
        text.contains(&(2 * max).to_string()),
        "two held counts summed: {text}"
    );
}

/// The console lets go of a conversation it no longer shows, and reopening
/// the one it shows is not "held elsewhere".
#[test]
fn the_console_holds_only_the_conversation_it_shows() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.as_str()),
        ("OPENAI_API_KEY", "sk-trust-test"),
    ];
    let Some(t) = support::tmux::Tmux::start(h, &env, &["--model", "gpt-4o"]) else {
        return;
    };
    t.wait_for("Prompt");
    t.type_text("kept question");
    t.keys(&["Enter"]);
    t.wait_for("Hello from the mock.");
    // Reopening the conversation shown is not a copy.
    t.keys(&["C-o"]);
    t.wait_for("kept question");
    t.keys(&["Enter"]);
    t.wait_gone("Conversations");
    assert!(!t.screen().contains("copy of"), "{}", t.screen());
    let id = Store::new(conversations(h)).list()[0].id.clone();
    assert!(conversations(h).join(format!(".{id}.lock")).exists());
    // A new conversation: the old one is free for a script at once.
    t.keys(&["C-n"]);
    let start = std::time::Instant::now();
    while conversations(h).join(format!(".{id}.lock")).exists() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the console still holds the conversation it left"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = run(h, &mock, &["chat", "--continue", &id, "from a script"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting"));
    t.keys(&["C-q"]);
    t.wait_exit();
    assert_eq!(
        Store::new(conversations(h)).list().len(),
        1,
        "no copy was made"
    );
}

/// A server that echoes the key back a few characters at a time, as a model
/// streams: each piece alone holds no secret, the answer kept does not either.
#[test]
fn a_key_echoed_across_streamed_pieces_is_scrubbed_from_the_answer_kept() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    saved(h, "echo");
    mock.push(Reply::Stream {
        pieces: ["your key is sk-t", "rust-", "te", "st, ", "right?"]
            .map(String::from)
            .to_vec(),
        finish: "stop".into(),
        gap_ms: 0,
    });
    let out = run(
        h,
        &mock,
        &["chat", "--continue", "echo", "--json", "what is my key?"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("sk-trust-test"), "{stdout}");
    let saved = std::fs::read_to_string(conversations(h).join("echo.json")).unwrap();
    assert!(!saved.contains("sk-trust-test"), "{saved}");
    assert!(saved.contains("your key is [redacted], right?"), "{saved}");
}

#[test]
fn a_toast_carrying_server_or_tool_text_is_inert() {
    // A failing MCP server's stderr tail or a server's error reaches a toast.
    let mut c = support::console::Console::new("gpt-4o");
    c.state.toast(
        llmdeck::tui::state::Level::Error,
        "server said: \u{202e}evil\u{1b}]52;c;aGk=\u{7}\nsecond line",
    );
    let text = &c.state.toast.as_ref().unwrap().text;
    assert!(
        !text.contains('\u{202e}') && !text.contains('\u{1b}'),
        "{text:?}"
    );
    assert!(
        text.contains("evil") && text.contains("\nsecond line"),
        "{text:?}"
    );
}
