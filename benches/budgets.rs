//! Speed and memory budgets, measured (not asserted in tests): `cargo bench`.
//! Prints one line per budget with the figure and the target; the README's
//! performance table is copied from this output.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use llmdeck::chat::conversation::{Conversation, Role};
use llmdeck::chat::machine::{Effect, Input, Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap::DEFAULT_KEYMAP;
use llmdeck::config::theme::Theme;
use llmdeck::provider::event::StreamEvent;
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::state::State;
use llmdeck::tui::views;
use llmdeck::tui::widgets::highlight;
use llmdeck::usage::PriceTable;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ANSWER: &str = "Here is a function:\n\n```rust\nfn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n```\n\nIt **adds** two numbers; see the `tests` below.\n\n| a | b | sum |\n|---|---|---|\n| 1 | 2 | 3 |\n";

fn state(messages: usize) -> State {
    let tables = toml::from_str(DEFAULT_KEYMAP).unwrap();
    let (keymap, _) = Keymap::from_tables(&tables);
    let origin = Origin {
        source: "bench".into(),
        profile: "demo".into(),
        host: "h".into(),
        api: "demo".into(),
    };
    let mut conv = Conversation::new("gpt-4o-mini", Utc::now());
    let mut at = 0;
    for i in 0..messages {
        let (role, text) = if i % 2 == 0 {
            (Role::User, "Write me a function that adds.")
        } else {
            (Role::Assistant, ANSWER)
        };
        at = conv.append(at, role, text);
    }
    let machine = Machine::new(conv, origin, Arc::new(PriceTable::embedded()));
    State::new(
        machine,
        Profile::demo(),
        Theme::built_in("dark").unwrap(),
        keymap,
        Vec::new(),
    )
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn frame_draw(messages: usize) -> Duration {
    let mut s = state(messages);
    let mut cache = RenderCache::default();
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    // Scroll a little so the frame is not just the cached tail.
    term.draw(|f| views::draw(f, &s, &mut cache)).unwrap();
    s.scroll = 5;
    let times: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            term.draw(|f| views::draw(f, &s, &mut cache)).unwrap();
            t.elapsed()
        })
        .collect();
    median(times)
}

/// 2,000 tokens through the state machine and the renderer, one frame per `per_frame` deltas.
fn stream_cpu(per_frame: usize) -> (f64, Duration) {
    let mut s = state(2);
    let mut cache = RenderCache::default();
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
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
            term.draw(|f| views::draw(f, &s, &mut cache)).unwrap();
            last = t.elapsed();
        }
    }
    (cpu_seconds() - cpu, last)
}

fn first_frame_and_rss() -> Option<(Duration, u64)> {
    if Command::new("tmux").arg("-V").output().is_err() {
        return None;
    }
    let home = std::env::temp_dir().join(format!("llmdeck-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);
    let report = home.join("first-frame");
    let mut frames = Vec::new();
    let mut rss = 0;
    for run in 0..5 {
        let _ = std::fs::remove_file(&report);
        let session = format!("llmdeck-bench-{}-{run}", std::process::id());
        let cmd = format!(
            "env -u OPENAI_API_KEY -u OPENAI_BASE_URL LLMDECK_HOME={} LLMDECK_FIRST_FRAME_FILE={} {}",
            home.display(),
            report.display(),
            env!("CARGO_BIN_EXE_llmdeck")
        );
        Command::new("tmux")
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
        // Idle memory, once the background start-up work has settled.
        std::thread::sleep(Duration::from_millis(1000));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &session])
            .status();
    }
    let _ = std::fs::remove_dir_all(&home);
    Some((median(frames), rss))
}

fn main() {
    // Benchmarks run with the highlighter loaded, as a session with code would.
    highlight::warm_up();
    println!(
        "llmdeck budgets (release build, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for n in [10, 1_000, 5_000] {
        println!(
            "frame draw, {n:>5} messages with code:  {:>8.3} ms   (budget 2 ms; issue 10: 1 ms)",
            frame_draw(n).as_secs_f64() * 1e3
        );
    }
    let (cpu, last) = stream_cpu(10);
    println!(
        "stream 2,000 tokens, ~10 per frame:     {cpu:>8.3} s CPU (budget 0.5 s); last frame {:.3} ms (budget 50 ms)",
        last.as_secs_f64() * 1e3
    );
    let (cpu, _) = stream_cpu(1);
    println!(
        "stream 2,000 tokens, a frame each:      {cpu:>8.3} s CPU (200 tok/s case; issue 10: 0.25 s)"
    );
    match first_frame_and_rss() {
        Some((frame, rss)) => {
            println!(
                "first frame after launch (demo mode):  {:>8.3} ms   (budget 50 ms; issue 10: 10 ms)",
                frame.as_secs_f64() * 1e3
            );
            println!(
                "idle memory (RSS):                     {:>8.1} MB   (budget 25 MB; issue 10: 8 MB)",
                rss as f64 / 1024.0
            );
        }
        None => println!("first frame / idle RSS: skipped (needs tmux)"),
    }
}
