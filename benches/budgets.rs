//! Speed and memory budgets, measured (not asserted in tests): `cargo bench`.
//! Prints one line per budget with the figure and the target; the README's
//! performance table is copied from this output.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use llmdeck::chat::machine::{Effect, Input};
use llmdeck::provider::event::StreamEvent;
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::state::State;
use llmdeck::tui::views;
use llmdeck::tui::widgets::highlight;

const ANSWER: &str = "Here is a function:\n\n```rust\nfn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n```\n\nIt **adds** two numbers; see the `tests` below.\n\n| a | b | sum |\n|---|---|---|\n| 1 | 2 | 3 |\n";

fn state(messages: usize) -> State {
    common::state(messages, "Write me a function that adds.", ANSWER)
}

/// This process's CPU time (user + system), to the nanosecond.
fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn frame_draw(messages: usize) -> Duration {
    let mut s = state(messages);
    let mut cache = RenderCache::default();
    let mut screen = common::screen();
    // Scroll a little so the frame is not just the cached tail.
    screen
        .draw(|f, ids| views::frame(f, ids.whole(), &s, &mut cache))
        .unwrap();
    let times: Vec<Duration> = (0..200)
        .map(|i| {
            // Each frame scrolled a line from the one the screen shows, so the
            // diff and the escape sequences have something to do.
            s.scroll = 5 + i % 2;
            let t = Instant::now();
            // Drawn whole: rows kept from the last frame would make this nothing.
            screen
                .draw(|f, ids| views::frame(f, ids.whole(), &s, &mut cache))
                .unwrap();
            t.elapsed()
        })
        .collect();
    median(times)
}

/// 2,000 tokens through the state machine and the renderer, one frame per
/// `per_frame` deltas, the thread idle for `idle` after each frame.
fn stream_cpu(per_frame: usize, idle: Duration) -> (f64, Duration) {
    let mut s = state(2);
    let mut cache = RenderCache::default();
    let mut screen = common::screen();
    let base: Vec<&str> = llmdeck::provider::demo::pieces(ANSWER);
    let t0 = Instant::now();
    let fx = s.machine.handle(Input::Send("go".into()), t0, Utc::now());
    let id = fx
        .iter()
        .find_map(|e| {
            if let Effect::Start { request_id, .. } = e {
                Some(*request_id)
            } else {
                None
            }
        })
        .unwrap();
    let cpu = cpu_seconds();
    let mut last = Duration::ZERO;
    for i in 0..2000 {
        s.machine.handle(
            Input::Stream(id, StreamEvent::TextDelta(base[i % base.len()].to_string())),
            t0,
            Utc::now(),
        );
        if i % per_frame == per_frame - 1 || i == 1999 {
            let t = Instant::now();
            screen
                .draw(|f, ids| views::frame(f, ids, &s, &mut cache))
                .unwrap();
            last = t.elapsed();
            if !idle.is_zero() {
                std::thread::sleep(idle);
            }
        }
    }
    (cpu_seconds() - cpu, last)
}

/// The median first frame (demo mode) and idle RSS of five starts, with
/// `config` as config.toml and `fill` adding to the home (saved files).
fn first_frame_and_rss(config: &str, fill: &dyn Fn(&std::path::Path)) -> Option<(Duration, u64)> {
    first_frames(config, fill).map(|f| (f.from_main, f.rss_kb))
}

struct FirstFrame {
    /// From `main` to the first frame written (the console's own work).
    from_main: Duration,
    /// From the `exec` of the binary: the loader, relocations and page faults too.
    from_exec: Duration,
    rss_kb: u64,
}

fn first_frames(config: &str, fill: &dyn Fn(&std::path::Path)) -> Option<FirstFrame> {
    if Command::new("tmux").arg("-V").output().is_err() {
        return None;
    }
    let home = std::env::temp_dir().join(format!("llmdeck-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::create_dir_all(home.join("config"));
    std::fs::write(home.join("config/config.toml"), config).ok()?;
    fill(&home);
    // A server of its own (not the developer's), kept alive between the starts
    // by a session that only waits: one that exits races the next start.
    let socket = format!("llmdeck-bench-{}", std::process::id());
    let tmux = || {
        let mut c = Command::new("tmux");
        c.args(["-L", &socket, "-f", "/dev/null"]);
        c
    };
    tmux()
        .args(["new-session", "-d", "-s", "keep", "sleep 3600"])
        .status()
        .ok()?;
    let report = home.join("first-frame");
    let stamp = home.join("exec-stamp");
    let (mut frames, mut execs) = (Vec::new(), Vec::new());
    let mut rss = 0;
    for run in 0..5 {
        let _ = std::fs::remove_file(&report);
        let session = format!("llmdeck-bench-{}-{run}", std::process::id());
        // The exec is stamped on the monotonic clock right before it happens.
        let exec = format!(
            "import os,time; open('{}','w').write(str(time.monotonic_ns())); os.execv('{bin}', ['{bin}'])",
            stamp.display(),
            bin = env!("CARGO_BIN_EXE_llmdeck"),
        );
        let cmd = format!(
            "env -u OPENAI_API_KEY -u OPENAI_BASE_URL LLMDECK_HOME={} LLMDECK_FIRST_FRAME_FILE={} python3 -c \"{exec}\"",
            home.display(),
            report.display(),
        );
        tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "120",
                "-y",
                "40",
                &cmd,
            ])
            .status()
            .ok()?;
        let start = Instant::now();
        while !report.exists() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        let text = std::fs::read_to_string(&report).ok()?;
        let mut parts = text.split_whitespace();
        let pid: u32 = parts.next()?.parse().ok()?;
        let micros: u64 = parts.next()?.parse().ok()?;
        frames.push(Duration::from_micros(micros));
        let shown: u64 = parts.next()?.parse().ok()?;
        let stamped: u64 = std::fs::read_to_string(&stamp).ok()?.trim().parse().ok()?;
        execs.push(Duration::from_nanos(shown.saturating_sub(stamped)));
        // Idle memory, once the background start-up work has settled.
        std::thread::sleep(Duration::from_millis(1000));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let _ = tmux().args(["kill-session", "-t", &session]).status();
    }
    let _ = tmux().arg("kill-server").status();
    let _ = std::fs::remove_dir_all(&home);
    Some(FirstFrame {
        from_main: median(frames),
        from_exec: median(execs),
        rss_kb: rss,
    })
}

/// A ledger of 1,000,000 requests over 90 days (built once, kept in target/).
fn big_ledger() -> std::path::PathBuf {
    let home = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ledger-1m");
    let path = home.join("data/ledger.sqlite3");
    if path.exists() {
        return home;
    }
    let _ = std::fs::create_dir_all(home.join("data"));
    let tmp = home.join("data/building.sqlite3");
    let _ = std::fs::remove_file(&tmp);
    let mut ledger = llmdeck::usage::Ledger::open(&tmp).unwrap();
    let models = [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
    ];
    let profiles = ["work", "home", "ci", "demo"];
    let now = Utc::now();
    ledger
        .write(|tx| {
            let mut stmt = tx.prepare(
                "INSERT INTO requests (id, ts, day, source, profile, host, api, model_requested, input_tokens,
                    cached_tokens, cache_write_tokens, output_tokens, reasoning_tokens, usage_source, cost_micros,
                    ttft_ms, duration_ms, status, tags)
                 VALUES (?1, ?2, ?3, 'bench', ?4, 'api.openai.com', 'chat', ?5, ?6, ?7, 0, ?8, 0, 'reported', ?9,
                    ?10, ?11, ?12, ?13)",
            )?;
            for i in 0..1_000_000u64 {
                let ts = now - chrono::Duration::seconds((i * 7_776) as i64 / 1000);
                let x = i.wrapping_mul(2654435761) % 1000;
                stmt.execute(rusqlite::params![
                    format!("{i:016x}"),
                    ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    ts.format("%Y-%m-%d").to_string(),
                    profiles[(i % 4) as usize],
                    models[(i % 8) as usize],
                    500 + x as i64,
                    (x / 2) as i64,
                    100 + (x / 3) as i64,
                    (x * 7) as i64,
                    200 + x as i64,
                    1500 + 3 * x as i64,
                    if x < 10 { "error" } else { "ok" },
                    if x % 3 == 0 { "eval" } else { "" },
                ])?;
            }
            Ok(())
        })
        .unwrap();
    drop(ledger);
    std::fs::rename(&tmp, &path).unwrap();
    home
}

fn ledger_budgets() {
    let home = big_ledger();
    let ledger = llmdeck::usage::Ledger::open(&home.join("data/ledger.sqlite3")).unwrap();
    let now = Utc::now();
    let filter = llmdeck::usage::report::Filter::days(
        llmdeck::usage::report::days_back(now, 30),
        now + chrono::Days::new(1),
    );
    let by = llmdeck::usage::report::GroupBy::Model;
    let _ = llmdeck::usage::spend::load(&ledger, by, &filter, now).unwrap();
    let times: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            let _ = llmdeck::usage::spend::load(&ledger, by, &filter, now).unwrap();
            t.elapsed()
        })
        .collect();
    println!(
        "spend pane aggregates, 1,000,000 rows:  {:>8.1} ms   (budget 100 ms, warm)",
        median(times).as_secs_f64() * 1e3
    );
    let times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_llmdeck"))
                .env("LLMDECK_HOME", &home)
                .args(["usage", "--by", "model", "--since", "90d"])
                .output()
                .unwrap();
            assert!(out.status.success());
            t.elapsed()
        })
        .collect();
    println!(
        "`llmdeck usage --by model`, 1M rows:    {:>8.1} ms   (budget 300 ms, whole process)",
        median(times).as_secs_f64() * 1e3
    );
}

/// A library of 10,000 prompt files (built once under target/tmp/).
fn big_library() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("library-10k");
    if dir.join("done").exists() {
        return dir;
    }
    let words = [
        "summary",
        "release",
        "notes",
        "translate",
        "review",
        "code",
        "sql",
        "email",
        "support",
        "triage",
    ];
    for i in 0..10_000 {
        let group = dir.join(format!("team{}", i % 20));
        std::fs::create_dir_all(&group).unwrap();
        let (a, b) = (words[i % 10], words[(i / 10) % 10]);
        let text = format!(
            "+++\nname = \"{a}-{b}-{i}\"\ndescription = \"{a} then {b}, variant {i}\"\ntags = [\"{a}\", \"{b}\"]\n\n[[variables]]\nname = \"input\"\nrequired = true\n+++\n\n# System\n\nYou help with {a} and {b} work. {}\n\n# User\n\n{{{{input}}}}\n",
            "Be precise, cite the source, keep it short. ".repeat(10)
        );
        std::fs::write(group.join(format!("{a}-{b}-{i}.md")), text).unwrap();
    }
    std::fs::write(dir.join("done"), "").unwrap();
    dir
}

fn library_budgets() {
    let dir = big_library();
    let loads: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let lib = llmdeck::library::Library::load(&dir);
            assert_eq!(lib.entries.len(), 10_000);
            t.elapsed()
        })
        .collect();
    println!(
        "load a library of 10,000 prompt files:  {:>8.1} ms   (issue 4: 500 ms, off the first frame)",
        median(loads).as_secs_f64() * 1e3
    );
    let lib = llmdeck::library::Library::load(&dir);
    // Typing "release notes" a key at a time, then a fresh word: the worst keystroke counts.
    let mut worst = Duration::ZERO;
    let mut all = Vec::new();
    for _ in 0..5 {
        let mut search = llmdeck::library::search::Search::default();
        let mut typed = String::new();
        for c in "release notes variant 77"
            .chars()
            .chain(std::iter::once('\u{8}'))
        {
            if c == '\u{8}' {
                typed = "cite".into();
            } else {
                typed.push(c);
            }
            let t = Instant::now();
            std::hint::black_box(search.run(&lib.entries, &typed));
            let e = t.elapsed();
            worst = worst.max(e);
            all.push(e);
        }
    }
    println!(
        "fuzzy search over 10,000 prompts:       {:>8.3} ms per keystroke (median; worst {:.3} ms; issue 4: 5 ms)",
        median(all).as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3
    );
}

fn main() {
    // `LLMDECK_BUDGETS=tools cargo bench --bench budgets`: the MCP figures alone.
    if std::env::var("LLMDECK_BUDGETS").is_ok_and(|v| v == "tools") {
        return tools_budgets();
    }
    // Benchmarks run with the highlighter loaded, as a session with code would.
    highlight::warm_up("base16-ocean.dark");
    println!(
        "llmdeck budgets (release build, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for n in [10, 1_000, 5_000] {
        println!(
            "frame draw, {n:>5} messages, scrolled a line: {:>8.3} ms (budget 2 ms; issue 10: 1 ms)",
            frame_draw(n).as_secs_f64() * 1e3
        );
    }
    let (cpu, last) = stream_cpu(10, Duration::ZERO);
    println!(
        "stream 2,000 tokens, ~10 per frame, in process (no HTTP, SSE or journal): {cpu:>8.3} s CPU (budget 0.5 s); draw of the last frame alone {:.3} ms",
        last.as_secs_f64() * 1e3
    );
    let (cpu, _) = stream_cpu(1, Duration::ZERO);
    println!("stream 2,000 tokens, a frame each, in process: {cpu:>8.3} s CPU (stress case)");
    // At 200 tok/s a stream frame (33 ms, `tui::pacer`) takes seven deltas and
    // the process sleeps between frames; work after an idle stretch costs more
    // (see the README).
    let paced = || stream_cpu(7, Duration::from_millis(33)).0;
    println!(
        "stream 2,000 tokens as at 200 tok/s, in process: {:>8.3} s CPU (7 per frame, idle 33 ms between)",
        paced()
    );
    // `LLMDECK_BUDGETS=stream cargo bench --bench budgets`: the streaming figures
    // alone, five times over, to compare two builds of the render path.
    if std::env::var("LLMDECK_BUDGETS").is_ok_and(|v| v == "stream") {
        for _ in 0..4 {
            let each = stream_cpu(1, Duration::ZERO).0;
            println!(
                "  again: {each:.3} s CPU a frame each, {:.3} s as at 200 tok/s",
                paced()
            );
        }
        return;
    }
    ledger_budgets();
    library_budgets();
    match first_frames("", &|_| {}) {
        Some(f) => {
            println!(
                "first frame after launch (demo mode), from main: {:>8.3} ms; from exec: {:.3} ms   (budget 50 ms; issue 10: 10 ms)",
                f.from_main.as_secs_f64() * 1e3,
                f.from_exec.as_secs_f64() * 1e3
            );
            println!(
                "idle memory (RSS):                     {:>8.1} MB   (budget 25 MB; issue 10: 8 MB)",
                f.rss_kb as f64 / 1024.0
            );
        }
        None => println!("first frame / idle RSS: skipped (needs tmux)"),
    }
    // A long-lived home: 10,000 saved conversations and a 1,000,000-row ledger.
    let ledger = big_ledger().join("data/ledger.sqlite3");
    let lived = |home: &std::path::Path| {
        let data = home.join("data");
        let store = llmdeck::chat::store::Store::new(data.join("conversations"));
        let s = state(4);
        for i in 0..10_000 {
            let mut conv = s.machine.conv.clone();
            conv.id = format!("{i:08}");
            store.save(&conv).unwrap();
        }
        std::fs::copy(&ledger, data.join("ledger.sqlite3")).unwrap();
    };
    if let Some((frame, rss)) = first_frame_and_rss("", &lived) {
        println!(
            "first frame with 10,000 saved conversations and a 1,000,000-row ledger: {:>8.3} ms, idle RSS {:.1} MB (issue 23: nothing added)",
            frame.as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
    }
    for n in [1_000, 5_000] {
        println!(
            "open a saved conversation of {n} messages, to its first frame: {:>8.3} ms (issue 23: 50 ms at 5,000)",
            open_saved(n).as_secs_f64() * 1e3
        );
    }
    tools_budgets();
}

/// Opening a saved conversation: read from disk, then its first frame drawn
/// with an empty render cache (median of 5).
fn open_saved(messages: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let store = llmdeck::chat::store::Store::new(dir.path().to_path_buf());
    let saved = state(messages);
    store.save(&saved.machine.conv).unwrap();
    let id = saved.machine.conv.id.clone();
    let times = (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut s = state(0);
            s.machine.conv = store.load(&id).unwrap();
            let mut cache = RenderCache::default();
            let mut screen = common::screen();
            screen
                .draw(|f, ids| views::frame(f, ids.whole(), &s, &mut cache))
                .unwrap();
            t.elapsed()
        })
        .collect();
    median(times)
}

fn tools_budgets() {
    // Servers start on first use: three configured must add nothing before the first frame.
    let servers: String = (1..=3)
        .map(|n| {
            format!(
                "[mcp.s{n}]\ncommand = \"python3\"\nargs = [{:?}, \"env\"]\n",
                fake_server()
            )
        })
        .collect();
    if let (Some(none), Some(three)) = (first_frames("", &|_| {}), first_frames(&servers, &|_| {}))
    {
        println!(
            "first frame with three stdio MCP servers configured: {:.3} ms from main, {:.3} ms from exec; with none {:.3} / {:.3} ms (issue 20: nothing added)",
            three.from_main.as_secs_f64() * 1e3,
            three.from_exec.as_secs_f64() * 1e3,
            none.from_main.as_secs_f64() * 1e3,
            none.from_exec.as_secs_f64() * 1e3
        );
    }
    tool_round_trip();
}

fn fake_server() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mcp/fake_server.py"
    )
    .to_string()
}

/// A tool call through rmcp to a stdio server and back, 300 times: the wall
/// time (the server's own time included) and llmdeck's own CPU per call.
fn tool_round_trip() {
    use llmdeck::tools::config::McpConfig;
    use llmdeck::tools::mcp::Server;
    let config = McpConfig {
        command: Some("python3".into()),
        args: vec![fake_server(), "env".into()],
        env: [("PATH".to_string(), "/usr/bin:/bin".to_string())].into(),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = Server::new("bench", config);
        if let Err(e) = server.tools().await {
            println!("tool round trip: skipped ({e})");
            return;
        }
        for _ in 0..20 {
            server.call("probe", "{}").await; // warm
        }
        let (mut walls, cpu) = (Vec::new(), cpu_seconds());
        let n = 300;
        for _ in 0..n {
            let start = Instant::now();
            let out = server.call("probe", "{}").await;
            assert!(!out.is_error, "{}", out.text);
            walls.push(start.elapsed());
        }
        let own = (cpu_seconds() - cpu) / f64::from(n);
        println!(
            "MCP tool round trip (stdio): {:.3} ms median wall, the server's time included; llmdeck's own CPU {:.3} ms a call (issue 20: under 5 ms)",
            median(walls).as_secs_f64() * 1e3,
            own * 1e3
        );
        server.stop().await;
    });
}
