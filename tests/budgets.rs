//! Budgets hold on every path: a headless `chat`, `prompts run` or `prompts test`
//! over a hard-stop budget is refused (naming the budget) unless
//! `--allow-over-budget` is given, and a test suite stops starting requests.

mod support;

use support::llmdeck;
use support::mock_server::Mock;

fn config(home: &std::path::Path, budgets: &str) {
    std::fs::create_dir_all(home.join("config")).unwrap();
    std::fs::write(home.join("config/config.toml"), budgets).unwrap();
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_headless_chat_over_a_hard_stop_budget_is_refused_unless_allowed() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    // The mock's answer costs $0.00475 on gpt-4o: the first one takes today over $0.004.
    config(
        home.path(),
        "[budgets]\ndaily_usd = 0.004\nhard_stop = true\n",
    );
    let chat = |extra: &[&str]| {
        let mut args = vec!["chat", "--model", "gpt-4o", "Say hi"];
        args.extend_from_slice(extra);
        llmdeck(home.path(), Some(&mock), &args, None)
    };
    let first = chat(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let refused = chat(&[]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("daily spend to $0.0047") && err.contains("of the $0.004 budget"),
        "{err}"
    );
    assert!(err.contains("--allow-over-budget"), "{err}");
    assert_eq!(mock.chat_requests().len(), 1, "nothing was sent");
    // `prompts run` goes through the same gate.
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hi.md"), PROMPT).unwrap();
    let run = llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "run", "hi", "--model", "gpt-4o"],
        None,
    );
    assert!(!run.status.success());
    assert!(stderr(&run).contains("daily spend"), "{}", stderr(&run));
    assert_eq!(mock.chat_requests().len(), 1);
    // One run let through.
    let allowed = chat(&["--allow-over-budget"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert_eq!(mock.chat_requests().len(), 2);
    // A soft budget only warns, as before.
    config(home.path(), "[budgets]\ndaily_usd = 0.004\n");
    assert!(chat(&[]).status.success());
}

const PROMPT: &str = "+++
name = \"hi\"
model = \"gpt-4o\"

[params]
max_output_tokens = 1000

[[tests]]
name = \"one\"
assert = [{ contains = \"mock\" }]

[[tests]]
name = \"two\"
assert = [{ contains = \"mock\" }]

[[tests]]
name = \"three\"
assert = [{ contains = \"mock\" }]
+++

# User

Say hi
";

#[test]
fn a_test_suite_stops_starting_requests_at_the_budget_and_says_what_it_skipped() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hi.md"), PROMPT).unwrap();
    // Each case may cost up to 1000 output tokens of gpt-4o ($0.01): two fit in $0.025.
    config(
        home.path(),
        "[budgets]\ndaily_usd = 0.025\nhard_stop = true\n",
    );
    let out = llmdeck(home.path(), Some(&mock), &["prompts", "test", "hi"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("skipped (budget)"), "{table}");
    assert!(table.contains("2/3 passed"), "{table}");
    assert!(
        table.contains(
            "✗ three × gpt-4o: skipped, not sent: This request would take the daily spend"
        ),
        "{table}"
    );
    assert!(
        stderr(&out).contains("1 of them skipped"),
        "{}",
        stderr(&out)
    );
    assert_eq!(mock.chat_requests().len(), 2);
    // --allow-over-budget runs them all (--no-cache: the answers kept would do otherwise).
    let out = llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "test", "hi", "--allow-over-budget", "--no-cache"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mock.chat_requests().len(), 5);
}

#[test]
fn running_a_library_prompt_in_the_console_over_a_hard_stop_budget_asks_first() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    // Any priced request goes over a budget of a millionth of a dollar.
    config(
        home.path(),
        &format!(
            "default_profile = \"mock\"\n[profiles.mock]\nbase_url = \"{}\"\napi_key_env = \"MOCK_KEY\"\nmodel = \"gpt-4o\"\n\
             [budgets]\ndaily_usd = 0.000001\nhard_stop = true\n",
            mock.base_url
        ),
    );
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hi.md"), PROMPT).unwrap();
    let Some(t) = support::tmux::Tmux::start(home.path(), &[("MOCK_KEY", "sk-test")], &[]) else {
        return;
    };
    t.wait_for("gpt-4o");
    t.keys(&["M-3"]);
    t.wait_for("hi");
    t.keys(&["Enter"]);
    let screen = t.wait_for("Send anyway? (y/n)");
    assert!(screen.contains("daily spend"), "{screen}");
    assert_eq!(mock.chat_requests().len(), 0, "sent before asking");
    // "n": nothing goes; the filled-in prompt waits in the input box.
    t.keys(&["n"]);
    t.wait_gone("Send anyway?");
    assert!(t.screen().contains("Say hi"), "{}", t.screen());
    assert_eq!(mock.chat_requests().len(), 0);
    // Enter asks again, and "y" sends it.
    t.keys(&["Enter"]);
    t.wait_for("Send anyway? (y/n)");
    t.keys(&["y"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while mock.chat_requests().is_empty() {
        assert!(std::time::Instant::now() < deadline, "never sent after yes");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sent = mock.chat_requests()[0].json();
    assert_eq!(
        sent["messages"].as_array().unwrap().last().unwrap()["content"],
        "Say hi"
    );
}

#[test]
fn a_test_suite_on_a_terminal_asks_once_and_a_yes_holds_for_the_run() {
    let mock = Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    config(
        home.path(),
        "[budgets]\ndaily_usd = 0.004\nhard_stop = true\n",
    );
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hi.md"), PROMPT).unwrap();
    // Today's spend goes over the budget.
    let first = llmdeck(
        home.path(),
        Some(&mock),
        &["chat", "--model", "gpt-4o", "Hi"],
        None,
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let on_terminal = |answer: &str| {
        let cmd = support::llmdeck_command(
            home.path(),
            Some(&mock),
            &["prompts", "test", "hi", "--no-cache"],
        );
        support::pty::on_terminal(cmd, &[("Send anyway? (y/n)", answer)])
    };
    // "n": nothing is sent, and the run fails.
    let (shown, status) = on_terminal("n");
    assert!(!status.success(), "{shown}");
    assert!(shown.contains("daily spend"), "{shown}");
    assert_eq!(mock.chat_requests().len(), 1);
    // "y": the run goes on past the budget, every case (asked once, not per case).
    let (shown, status) = on_terminal("y");
    assert!(status.success(), "{shown}");
    assert!(shown.contains("3/3 passed"), "{shown}");
    assert_eq!(shown.matches("Send anyway?").count(), 1, "{shown}");
    assert_eq!(mock.chat_requests().len(), 4);
}
