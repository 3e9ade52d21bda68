//! The evals budget, measured (not asserted): `cargo bench --bench evals`.
//! 1,000 dataset cases × 2 models against the in-process mock, which answers
//! at once: llmdeck's own CPU time and peak memory (the child's rusage), and
//! the time to reopen the kept run. The README's figures come from this output.

use std::process::Command;
use std::time::Instant;

// The tests' mock, at the top so its `super::` paths find each other.
#[path = "../tests/support/mock_batch.rs"]
mod mock_batch;
#[path = "../tests/support/mock_responses.rs"]
mod mock_responses;
#[path = "../tests/support/mock_server.rs"]
mod mock_server;
#[path = "../tests/support/openapi.rs"]
mod openapi;

const CASES: usize = 1000;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bench.md"),
        "+++\nname = \"bench\"\ndataset = \"cases.jsonl\"\nassert = [{ contains = \"{{expected}}\" }, { max_latency_ms = 60000 }]\n\n[[variables]]\nname = \"q\"\n+++\n\n# System\n\nAnswer briefly.\n\n# User\n\n{{q}}\n",
    )
    .unwrap();
    let rows: String = (0..CASES)
        .map(|i| format!("{{\"q\":\"Question number {i}?\",\"expected\":\"mock\"}}\n"))
        .collect();
    std::fs::write(dir.join("cases.jsonl"), rows).unwrap();
    let mock = mock_server::Mock::start_in_background();
    let run = |args: &[&str]| {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LLMDECK_HOME", home.path())
            .env("OPENAI_BASE_URL", &mock.base_url)
            .env("OPENAI_API_KEY", "sk-bench")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (t.elapsed(), out)
    };
    let before = children();
    let (wall, out) = run(&[
        "prompts",
        "test",
        "bench",
        "--model",
        "gpt-4o-mini",
        "--model",
        "gpt-4o",
        "--no-cache",
        "--concurrency",
        "8",
        "--json",
    ]);
    let after = children();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), CASES * 2);
    println!(
        "evals, {CASES} cases × 2 models:  CPU {:>6.2} s (budget 2 s)  peak RSS {:>5.1} MB (budget 40 MB)  wall {:>6.2} s",
        after.0 - before.0,
        after.1 as f64 / 1024.0,
        wall.as_secs_f64()
    );
    let id = v["run"].as_str().unwrap().to_string();
    let times: Vec<f64> = (0..5)
        .map(|_| {
            run(&["prompts", "runs", "--open", &id, "--json"])
                .0
                .as_secs_f64()
                * 1e3
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "reopening that run (`prompts runs --open`, whole process): {:>6.1} ms median",
        sorted[sorted.len() / 2]
    );
    // The console's Evals pane: what Enter on the run does (read it from the
    // evals database, arrange the matrix) and the first frame that shows it.
    let db = home.path().join("data/evals.sqlite3");
    let (keymap, _) =
        llmdeck::tui::keymap::Keymap::from_tables(&llmdeck::config::keymap::defaults(), None);
    let conv = llmdeck::chat::conversation::Conversation::new("gpt-4o", chrono::Utc::now());
    let machine = llmdeck::chat::machine::Machine::new(
        conv,
        llmdeck::chat::machine::Origin {
            source: "bench".into(),
            profile: "demo".into(),
            host: "offline demo".into(),
            api: "demo".into(),
        },
        std::sync::Arc::new(llmdeck::usage::PriceTable::embedded()),
    );
    let mut state = llmdeck::tui::state::State::new(
        machine,
        llmdeck::config::Profile::demo(),
        llmdeck::config::theme::Theme::built_in("dark").unwrap(),
        keymap,
        Vec::new(),
    );
    state.pane = llmdeck::tui::state::Pane::Evals;
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let (info, results) = llmdeck::evals::store::load_run(&db, &id).unwrap();
            state.evals.open = Some(llmdeck::tui::evals::OpenRun::new(info, results));
            let backend = ratatui::backend::TestBackend::new(120, 40);
            let mut term = ratatui::Terminal::new(backend).unwrap();
            term.draw(|f| {
                llmdeck::tui::views::draw(
                    f,
                    &state,
                    &mut llmdeck::tui::cache::RenderCache::default(),
                )
            })
            .unwrap();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "opening that run in the console's Evals pane (read, arrange, first frame at 120x40): {:>6.1} ms median (budget 50 ms)",
        times[times.len() / 2]
    );
}

/// CPU seconds (user + system) and peak RSS (KiB) of the children waited for so far.
fn children() -> (f64, i64) {
    // SAFETY: a zeroed rusage is a valid value for getrusage to fill.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid rusage to fill.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(u.ru_utime) + secs(u.ru_stime), u.ru_maxrss)
}
