//! The Spend pane over a real ledger: whole-screen snapshots, keys, budgets.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Input, Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap;
use llmdeck::config::theme::Theme;
use llmdeck::provider::event::Usage;
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::state::{Overlay, Pane, State};
use llmdeck::tui::update::{self, Command};
use llmdeck::tui::views;
use llmdeck::usage::budget::Budgets;
use llmdeck::usage::ledger::{Ledger, LedgerRow, Status};
use llmdeck::usage::report::GroupBy;
use llmdeck::usage::{PriceTable, org, spend};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn row(
    day: &str,
    model: &str,
    profile: &str,
    cost: Option<i64>,
    status: Status,
    ttft: u64,
) -> LedgerRow {
    LedgerRow {
        id: uuid::Uuid::now_v7().to_string(),
        ts: DateTime::parse_from_rfc3339(&format!("{day}T09:30:00Z"))
            .unwrap()
            .to_utc(),
        source: "tui".into(),
        profile: profile.into(),
        host: "api.openai.com".into(),
        api: "chat".into(),
        model_requested: model.into(),
        model_reported: None,
        service_tier: None,
        usage: Usage {
            input: 1000,
            output: 200,
            ..Usage::default()
        },
        cost_micros: cost,
        cost_source: cost.map(|_| llmdeck::usage::cost::CostSource::Catalog),
        rates: None,
        ttft_ms: Some(ttft),
        duration_ms: Some(ttft + 2000),
        status,
        error_kind: None,
        conversation_id: Some("c1".into()),
        prompt: None,
        tags: vec![],
    }
}

fn ledger(dir: &std::path::Path) -> Ledger {
    let mut l = Ledger::open(&dir.join("ledger.sqlite3")).unwrap();
    for (i, day) in ["2026-11-18", "2026-11-19", "2026-11-20"]
        .iter()
        .enumerate()
    {
        for k in 0..=i {
            l.insert(&row(
                day,
                "gpt-4o",
                "work",
                Some(4500),
                Status::Ok,
                300 + 100 * k as u64,
            ))
            .unwrap();
        }
        l.insert(&row(day, "gpt-4o-mini", "home", Some(270), Status::Ok, 200))
            .unwrap();
    }
    l.insert(&row(
        "2026-11-20",
        "llama3.2",
        "local",
        None,
        Status::Error,
        50,
    ))
    .unwrap();
    l
}

fn state() -> State {
    let (keymap, _) = Keymap::from_tables(&keymap::defaults(), None);
    let origin = Origin {
        source: "test".into(),
        profile: "demo".into(),
        host: "h".into(),
        api: "demo".into(),
    };
    let machine = Machine::new(
        Conversation::new("gpt-4o", Utc::now()),
        origin,
        Arc::new(PriceTable::embedded()),
    );
    let mut s = State::new(
        machine,
        Profile::demo(),
        Theme::built_in("dark").unwrap(),
        keymap,
        Vec::new(),
    );
    s.pane = Pane::Spend;
    s.budgets = Budgets {
        daily_usd: Some(0.02),
        monthly_usd: Some(1.0),
        ..Budgets::default()
    };
    s
}

fn screen(s: &State, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| views::draw(f, s, &mut RenderCache::default()))
        .unwrap();
    term.backend().to_string()
}

fn load(s: &mut State, l: &Ledger) {
    let data = spend::load(l, s.spend.by, &s.spend.filter(now()), now()).unwrap();
    s.totals = Some(data.totals.clone());
    s.spend.data = Some(data);
    s.spend.apply_sort();
}

fn key(s: &mut State, code: KeyCode) -> Vec<Command> {
    update::on_event(s, &Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

#[test]
fn the_pane_shows_totals_days_breakdown_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let l = ledger(dir.path());
    let mut s = state();
    load(&mut s, &l);
    let data = s.spend.data.as_ref().unwrap();
    // 6 gpt-4o requests at 4,500 µ$ and 3 gpt-4o-mini at 270 µ$; llama is unpriced.
    assert_eq!(data.totals.month, (27_810, 10));
    assert_eq!(data.totals.today, (13_770, 5));
    let top: Vec<_> = data
        .rows
        .iter()
        .map(|r| (r.key.as_str(), r.requests, r.unpriced))
        .collect();
    assert_eq!(
        top,
        [("gpt-4o", 6, 0), ("gpt-4o-mini", 3, 0), ("llama3.2", 1, 1)]
    );
    let gpt4o = data.latency.iter().find(|l| l.model == "gpt-4o").unwrap();
    assert_eq!(
        (gpt4o.ttft_p50_ms, gpt4o.ttft_p95_ms, gpt4o.samples),
        (300, 500, 6)
    );
    assert!(
        data.latency.iter().all(|l| l.model != "llama3.2"),
        "errors are not latency samples"
    );
    insta::assert_snapshot!("spend_by_model", screen(&s, 110, 30));
}

#[test]
fn keys_regroup_filter_sort_and_drill() {
    let dir = tempfile::tempdir().unwrap();
    let l = ledger(dir.path());
    let mut s = state();
    load(&mut s, &l);
    assert_eq!(key(&mut s, KeyCode::Tab), [Command::LoadSpend]);
    assert_eq!(s.spend.by, GroupBy::Prompt);
    s.spend.by = GroupBy::Status;
    load(&mut s, &l);
    let keys: Vec<_> = s
        .spend
        .data
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| r.key.clone())
        .collect();
    assert_eq!(keys, ["ok", "error"]);
    assert_eq!(key(&mut s, KeyCode::Char('m')), [Command::LoadSpend]);
    assert_eq!(s.spend.model.as_deref(), Some("gpt-4o"));
    load(&mut s, &l);
    assert_eq!(
        s.spend.data.as_ref().unwrap().totals.month.1,
        10,
        "the status totals ignore filters"
    );
    assert_eq!(s.spend.data.as_ref().unwrap().rows[0].requests, 6);
    key(&mut s, KeyCode::Char('s'));
    assert_eq!(s.spend.sort.label(), "requests");
    assert_eq!(
        key(&mut s, KeyCode::Enter),
        [Command::LoadDrill("ok".into())]
    );
    assert_eq!(key(&mut s, KeyCode::Esc), Vec::<Command>::new());
    assert_eq!(s.pane, Pane::Playground, "Esc leaves the pane");
}

#[test]
fn the_organization_view_sits_beside_the_local_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = ledger(dir.path());
    let usage = vec![org::UsageRow {
        day: "2026-11-19".into(),
        project_id: "proj_a".into(),
        model: "gpt-4o".into(),
        requests: 9,
        input_tokens: 9000,
        cached_tokens: 0,
        output_tokens: 1800,
    }];
    let costs = vec![org::CostRow {
        day: "2026-11-19".into(),
        project_id: "proj_a".into(),
        line_item: "gpt-4o, input".into(),
        amount_micros: 40_500,
        currency: "usd".into(),
    }];
    org::store(&mut l, &usage, &costs).unwrap();
    org::store(&mut l, &usage, &costs).unwrap();
    let mut s = state();
    load(&mut s, &l);
    key(&mut s, KeyCode::Char('o'));
    let data = s.spend.data.as_ref().unwrap();
    assert_eq!(
        data.org_projects,
        [("proj_a".to_string(), 40_500)],
        "a re-sync replaces, never adds"
    );
    assert_eq!(data.org_models[0].org_tokens, 10_800);
    assert_eq!(data.org_models[0].local_tokens, 7_200);
    insta::assert_snapshot!("spend_org", screen(&s, 110, 30));
}

#[test]
fn a_hard_stop_asks_before_going_over_budget_and_keeps_the_draft_on_no() {
    let mut s = state();
    s.pane = Pane::Playground;
    s.budgets = Budgets {
        daily_usd: Some(0.01),
        hard_stop: true,
        ..Budgets::default()
    };
    s.totals = Some(spend::Totals {
        today: (9_990, 3),
        ..Default::default()
    });
    // Asked on the exact draft sent ("hi"), not on the status bar's count.
    for c in "hi".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    match s.overlays.last() {
        Some(Overlay::Confirm { question, .. }) => {
            assert!(question.contains("of the $0.01 budget"), "{question}")
        }
        _ => panic!("no confirmation"),
    }
    key(&mut s, KeyCode::Char('n'));
    assert_eq!(s.draft(), "hi");
    key(&mut s, KeyCode::Enter);
    let commands = key(&mut s, KeyCode::Char('y'));
    assert_eq!(commands[0], Command::Machine(Input::Send("hi".into())));
    assert_eq!(s.draft(), "");
}

#[test]
fn presenter_mode_hides_hosts_and_project_ids_on_the_spend_pane() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = ledger(dir.path());
    let usage = vec![org::UsageRow {
        day: "2026-11-19".into(),
        project_id: "proj_secret42".into(),
        model: "gpt-4o".into(),
        requests: 1,
        input_tokens: 10,
        cached_tokens: 0,
        output_tokens: 10,
    }];
    org::store(&mut l, &usage, &[]).unwrap();
    let costs = vec![org::CostRow {
        day: "2026-11-19".into(),
        project_id: "proj_secret42".into(),
        line_item: "gpt-4o, input".into(),
        amount_micros: 500,
        currency: "usd".into(),
    }];
    org::store(&mut l, &usage, &costs).unwrap();
    let mut s = state();
    s.presenter = true;
    s.spend.by = GroupBy::Profile;
    load(&mut s, &l);
    let keys: Vec<_> = s
        .spend
        .data
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| r.key.clone())
        .collect();
    assert!(
        keys.iter().any(|k| k.contains("api.openai.com")),
        "{keys:?}"
    );
    let shown = screen(&s, 110, 30);
    assert!(!shown.contains("api.openai.com"), "{shown}");
    assert!(shown.contains("work @ ●●●"), "{shown}");
    // The drill-down names the key too.
    s.spend.drill = Some(llmdeck::tui::spend::Drill {
        key: keys[0].clone(),
        rows: Vec::new(),
        selected: 0,
    });
    let shown = screen(&s, 110, 30);
    assert!(!shown.contains("api.openai.com"), "{shown}");
    s.spend.drill = None;
    key(&mut s, KeyCode::Char('o'));
    let shown = screen(&s, 110, 30);
    assert!(!shown.contains("proj_secret42"), "{shown}");
    assert!(shown.contains("project 1"), "{shown}");
}

#[test]
fn spend_groups_by_where_each_cost_came_from_and_the_team_view_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let l = ledger(dir.path());
    let mut s = state();
    load(&mut s, &l);
    // Tab steps through every grouping; "cost source" comes after "member".
    s.spend.by = GroupBy::Member;
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.spend.by, GroupBy::CostSource);
    load(&mut s, &l);
    let data = s.spend.data.as_ref().unwrap();
    let requests: i64 = data.rows.iter().map(|r| r.requests).sum();
    assert_eq!(requests, data.totals.month.1, "every request in one source");
    let keys: Vec<_> = data
        .rows
        .iter()
        .map(|r| (r.key.as_str(), r.requests))
        .collect();
    assert_eq!(keys, [("catalog", 9), ("unpriced", 1)]);
    let shown = screen(&s, 100, 30);
    assert!(shown.contains("cost source"), "{shown}");
    // The team database does not keep sources: its view shows members instead
    // and Tab passes over the grouping.
    key(&mut s, KeyCode::Char('t'));
    assert!(s.spend.team);
    assert_eq!(s.spend.by, GroupBy::Member);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.spend.by, GroupBy::Day);
    key(&mut s, KeyCode::BackTab);
    key(&mut s, KeyCode::BackTab);
    assert_eq!(s.spend.by, GroupBy::Status);
}
