//! The console's Evals pane: kept runs listed, one opened as a matrix of cases ×
//! models with a summary per model, filtered to failures, reordered, and a
//! cell's answers and verdicts; driven by keys as the app drives it (no I/O),
//! drawn with TestBackend, and once through the real binary in tmux.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use llmdeck::evals::graders::Verdict;
use llmdeck::evals::store::RunInfo;
use llmdeck::library::testing::CaseResult;
use llmdeck::tui::evals::{CaseOrder, OpenRun};
use llmdeck::tui::state::Pane;
use llmdeck::tui::update::Command;
use support::console::{Console, flat};

fn result(case: &str, target: &str, pass: bool, cost: i64, ms: u64) -> CaseResult {
    CaseResult {
        case: case.into(),
        target: target.into(),
        repeat: 1,
        pass,
        score: if pass { 1.0 } else { 0.25 },
        verdicts: vec![Verdict {
            check: "rubric".into(),
            pass,
            score: if pass { 1.0 } else { 0.25 },
            weight: 1.0,
            reason: Some(
                if pass {
                    "names the capital"
                } else {
                    "says Sydney"
                }
                .into(),
            ),
            error: None,
        }],
        failures: if pass {
            Vec::new()
        } else {
            vec!["rubric: says Sydney".into()]
        },
        answer: format!("**{case}** answered by {target}"),
        cost_micros: Some(cost),
        latency_ms: Some(ms),
        ..CaseResult::default()
    }
}

fn run() -> (RunInfo, Vec<CaseResult>) {
    let results = vec![
        result("france", "gpt-4o", true, 1_000, 300),
        result("france", "gpt-4o-mini", true, 100, 200),
        result("australia", "gpt-4o", true, 1_200, 900),
        result("australia", "gpt-4o-mini", false, 120, 250),
        result("chile", "gpt-4o", true, 5_000, 400),
        result("chile", "gpt-4o-mini", true, 90, 150),
    ];
    let info = RunInfo {
        id: "0193abcd1234".into(),
        prompt: "capitals".into(),
        version: "v3f2a".into(),
        against: None,
        started: "2026-12-03T06:00:00+00:00".into(),
        runs: 6,
        passed: 5,
        interrupted: false,
    };
    (info, results)
}

fn cases(open: &OpenRun) -> Vec<&str> {
    open.rows
        .iter()
        .map(|&c| open.grid.cases[c].as_str())
        .collect()
}

#[test]
fn a_run_opens_as_a_matrix_that_filters_to_failures_and_reorders() {
    let (info, results) = run();
    let mut open = OpenRun::new(info, results);
    assert_eq!(cases(&open), ["france", "australia", "chile"]);
    assert_eq!(open.grid.targets, ["gpt-4o", "gpt-4o-mini"]);
    // One model per summary: 3/3 and 2/3, cost per passing answer.
    let mini = &open.summaries[1];
    assert_eq!((mini.passed, mini.runs), (2, 3));
    assert_eq!(mini.cost_per_pass_micros, Some(155));
    open.step_row(1);
    open.toggle_failures();
    assert_eq!(
        cases(&open),
        ["australia"],
        "only the case that failed somewhere"
    );
    assert_eq!(open.row, 0, "the selected case stays selected");
    open.toggle_failures();
    open.next_order();
    assert_eq!(open.order, CaseOrder::Failures);
    assert_eq!(cases(&open), ["australia", "france", "chile"]);
    open.next_order();
    assert_eq!(
        cases(&open),
        ["chile", "australia", "france"],
        "most expensive first"
    );
    open.next_order();
    assert_eq!(
        cases(&open),
        ["australia", "chile", "france"],
        "slowest first"
    );
    // The cell under the cursor.
    open.step_column(5);
    let (case, target, runs) = open.cell().unwrap();
    assert_eq!((case, target, runs.len()), ("australia", "gpt-4o-mini", 1));
    assert!(!runs[0].pass);
}

#[test]
fn two_kept_runs_open_side_by_side_each_model_once_per_version() {
    let (earlier, results) = run();
    let mut later = earlier.clone();
    later.id = "0193ffff0000".into();
    later.version = "v4b1c".into();
    later.passed = 6;
    let fixed: Vec<CaseResult> = results
        .iter()
        .map(|r| CaseResult {
            pass: true,
            ..r.clone()
        })
        .collect();
    let (info, both) =
        llmdeck::evals::report::beside((earlier.clone(), results.clone()), (later.clone(), fixed));
    let open = OpenRun::new(info, both);
    assert_eq!(
        open.grid.targets,
        [
            "gpt-4o @ v3f2a",
            "gpt-4o-mini @ v3f2a",
            "gpt-4o @ v4b1c",
            "gpt-4o-mini @ v4b1c"
        ]
    );
    assert_eq!(open.info.version, "v3f2a → v4b1c");
    assert_eq!((open.info.passed, open.info.runs), (11, 12));
    assert_eq!(
        open.summaries[3].passed, 3,
        "the later version passes everywhere"
    );
    // The same version run twice: told apart by the runs' ids.
    let (info, _) = llmdeck::evals::report::beside(
        (earlier.clone(), results.clone()),
        (
            RunInfo {
                id: "0193ffff0000".into(),
                ..earlier
            },
            results,
        ),
    );
    assert_eq!(info.version, "v3f2a");
    // In the list: c marks the newest, Enter on the earlier opens both.
    let mut c = Console::new("gpt-4o");
    c.key(KeyCode::Char('4'), KeyModifiers::ALT);
    let (first, _) = run();
    c.state.evals.runs = Some(Ok(vec![later, first]));
    c.press(KeyCode::Char('c'));
    assert_eq!(c.state.evals.marked.as_deref(), Some("0193ffff0000"));
    assert!(flat(&c.screen(100, 30)).contains("◆"));
    c.press(KeyCode::Down);
    c.press(KeyCode::Enter);
    assert_eq!(
        c.commands,
        [Command::CompareEvalRuns(
            "0193abcd1234".into(),
            "0193ffff0000".into()
        )]
    );
    assert_eq!(c.state.evals.marked, None);
    // Opened, R reads both again.
    let (a, b) = (run(), run());
    c.state.evals.open = Some(OpenRun::new(
        llmdeck::evals::report::beside(a, b).0,
        Vec::new(),
    ));
    c.press(KeyCode::Char('R'));
    assert_eq!(
        c.commands,
        [Command::CompareEvalRuns(
            "0193abcd1234".into(),
            "0193abcd1234".into()
        )]
    );
}

#[test]
fn alt_4_lists_kept_runs_and_keys_walk_into_a_cell_and_back_out() {
    let mut c = Console::new("gpt-4o");
    c.key(KeyCode::Char('4'), KeyModifiers::ALT);
    assert_eq!(c.state.pane, Pane::Evals);
    assert_eq!(c.commands, [Command::LoadEvalRuns]);
    let shown = flat(&c.screen(100, 30));
    assert!(shown.contains("reading the kept runs"), "{shown}");
    c.state.evals.runs = Some(Ok(Vec::new()));
    let shown = flat(&c.screen(100, 30));
    assert!(shown.contains("No runs kept yet"), "{shown}");
    let (info, results) = run();
    c.state.evals.runs = Some(Ok(vec![info.clone()]));
    c.press(KeyCode::Enter);
    assert_eq!(c.commands, [Command::OpenEvalRun("0193abcd1234".into())]);
    c.state.evals.open = Some(OpenRun::new(info, results));
    let shown = flat(&c.screen(100, 30));
    assert!(shown.contains("capitals @ v3f2a"), "{shown}");
    assert!(shown.contains("gpt-4o-mini: 2/3 passed"), "{shown}");
    c.press(KeyCode::Down);
    c.press(KeyCode::Right);
    c.press(KeyCode::Char('f'));
    c.press(KeyCode::Enter);
    let shown = flat(&c.screen(100, 30));
    assert!(shown.contains("australia on gpt-4o-mini"), "{shown}");
    assert!(
        shown.contains("✗ rubric (score 0.25, weight 1): says Sydney"),
        "{shown}"
    );
    insta::assert_snapshot!("evals_cell", c.screen(100, 30));
    // Esc closes the cell, then the run, then the pane.
    c.press(KeyCode::Esc);
    assert!(!c.state.evals.open.as_ref().unwrap().detail);
    c.press(KeyCode::Esc);
    assert!(c.state.evals.open.is_none());
    c.press(KeyCode::Esc);
    assert_eq!(c.state.pane, Pane::Playground);
}

#[test]
fn a_kept_test_run_opens_in_the_console_with_its_verdicts() {
    let mock = support::mock_server::Mock::start_in_background();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hello.md"),
        "+++\nname = \"hello\"\nmodel = \"gpt-4o-mini\"\n\n[[tests]]\nname = \"says-mock\"\nassert = [{ contains = \"mock\" }]\n\n[[tests]]\nname = \"says-paris\"\nassert = [{ contains = \"Paris\" }]\n+++\n\n# User\n\nSay hi\n",
    )
    .unwrap();
    let out = support::llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "test", "hello"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Some(t) = support::tmux::Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.keys(&["M-4"]);
    t.wait_for("1/2 passed  hello @");
    t.keys(&["Enter"]);
    let screen = t.wait_for("says-paris");
    assert!(screen.contains("says-mock"), "{screen}");
    assert!(screen.contains("gpt-4o-mini: 1/2 passed"), "{screen}");
    t.keys(&["f"]);
    t.wait_for("failures only");
    t.wait_gone("says-mock");
    t.keys(&["Enter"]);
    let screen = t.wait_for("says-paris on gpt-4o-mini");
    assert!(screen.contains("failed · score 0.00"), "{screen}");
    // One Esc at a time: two at once read as Alt-Esc.
    t.keys(&["Escape"]);
    t.wait_gone("says-paris on gpt-4o-mini");
    t.keys(&["Escape"]);
    t.wait_for("kept test runs");
    t.keys(&["C-q"]);
    t.wait_exit();
    // A new version of the prompt fixes the failing case; the two runs side by side.
    let text = std::fs::read_to_string(dir.join("hello.md")).unwrap();
    std::fs::write(
        dir.join("hello.md"),
        text.replace("contains = \"Paris\"", "contains = \"mock\""),
    )
    .unwrap();
    let out = support::llmdeck(
        home.path(),
        Some(&mock),
        &["prompts", "test", "hello"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Some(t) = support::tmux::Tmux::start(home.path(), &[], &[]) else {
        return;
    };
    t.wait_for("DEMO");
    t.keys(&["M-4"]);
    t.wait_for("2/2 passed  hello @");
    // Newest first: mark it, then Enter on the earlier one.
    t.keys(&["c"]);
    t.wait_for("◆");
    t.keys(&["Down"]);
    t.keys(&["Enter"]);
    let screen = t.wait_for("→");
    assert!(screen.contains("3/4 passed"), "{screen}");
    // The earlier version's column comes first: ✗ there, ✓ in the later one.
    let row = screen
        .lines()
        .find(|l| l.contains("says-paris"))
        .unwrap_or_else(|| panic!("{screen}"));
    let (fail, pass) = (row.find('✗').unwrap(), row.find('✓').unwrap());
    assert!(fail < pass, "{row}");
}
