//! An unpriced model is one key away from priced: on an answer shown as
//! unpriced, `$` opens the price form, whose figures land in prices.toml; the
//! answer is priced at once. (The console's own write is `App::save_price`,
//! which calls the same `add_price` as this test.)

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Effect, Input, Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap;
use llmdeck::config::theme::Theme;
use llmdeck::provider::event::{StreamEvent, Usage};
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::state::{Overlay, State};
use llmdeck::tui::update::{self, Command};
use llmdeck::usage::PriceTable;
use llmdeck::usage::cost::CostSource;

const MODEL: &str = "acme/llm-7b";

fn key(state: &mut State, code: KeyCode) -> Vec<Command> {
    update::on_event(state, &Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// A console whose one answer, from a model no price list knows, is unpriced.
fn console() -> State {
    let (keymap, _) = Keymap::from_tables(&keymap::defaults(), None);
    let origin = Origin {
        source: "test".into(),
        profile: "p".into(),
        host: "llm.example.com".into(),
        api: "chat".into(),
    };
    let mut m = Machine::new(
        Conversation::new(MODEL, Utc::now()),
        origin,
        Arc::new(PriceTable::embedded()),
    );
    m.endpoint = llmdeck::usage::cost::Endpoint::new("https://llm.example.com/v1", false);
    let now = Instant::now();
    let start = m.handle(Input::Send("Hi".into()), now, Utc::now());
    let id = start
        .iter()
        .find_map(|e| match e {
            Effect::Start { request_id, .. } => Some(*request_id),
            _ => None,
        })
        .unwrap();
    let usage = Usage {
        input: 1_000_000,
        cached_input: 0,
        output: 1_000_000,
        ..Usage::default()
    };
    m.handle(
        Input::Stream(id, StreamEvent::Usage(usage)),
        now,
        Utc::now(),
    );
    m.handle(Input::Stream(id, StreamEvent::End), now, Utc::now());
    let state = State::new(
        m,
        Profile::demo(),
        Theme::built_in("dark").unwrap(),
        keymap,
        Vec::new(),
    );
    let answer = state.machine.conv.last();
    assert_eq!(
        state.machine.conv.nodes[answer]
            .meta
            .as_ref()
            .unwrap()
            .cost_micros,
        None
    );
    state
}

#[test]
fn the_price_form_writes_prices_toml_and_prices_the_answer() {
    let mut state = console();
    key(&mut state, KeyCode::Esc); // to the transcript
    assert!(key(&mut state, KeyCode::Char('$')).is_empty());
    let Some(Overlay::Prompt(form)) = state.overlays.last() else {
        panic!("the price form opens");
    };
    assert!(form.title.contains(MODEL), "{}", form.title);
    // A figure that is not a number is named, and the form stays open.
    for c in "0.5 x".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    assert!(key(&mut state, KeyCode::Enter).is_empty());
    let Some(Overlay::Prompt(form)) = state.overlays.last() else {
        panic!("the form stays open");
    };
    assert!(
        form.error
            .as_deref()
            .unwrap()
            .contains("\"x\" is not a number")
    );
    key(&mut state, KeyCode::Backspace);
    for c in "0.25 1.5".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    let commands = key(&mut state, KeyCode::Enter);
    let Some(Command::SavePrice { model, rates }) = commands.into_iter().next() else {
        panic!("the form asks for the price to be saved");
    };
    assert_eq!((model.as_str(), rates), (MODEL, (0.5, Some(0.25), 1.5)));
    assert!(state.overlays.is_empty());
    // What the console does with it: prices.toml gains the table, the rest kept.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prices.toml");
    std::fs::write(
        &file,
        "# mine\n[models.\"other\"]\ninput = 1.0\noutput = 1.0\n",
    )
    .unwrap();
    llmdeck::usage::price_form::add_price(&file, &model, rates).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# mine\n[models.\"other\"]"), "{text}");
    assert!(
        text.contains("[models.\"acme/llm-7b\"]\ninput = 0.5\ncached_input = 0.25\noutput = 1.5\n"),
        "{text}"
    );
    let (prices, errors) = PriceTable::load(&[&file]);
    assert!(errors.is_empty());
    state.machine.set_prices(Arc::new(prices));
    assert_eq!(state.machine.reprice(MODEL), 1);
    let answer = state.machine.conv.last();
    let meta = state.machine.conv.nodes[answer].meta.as_ref().unwrap();
    // 1M in at $0.50 + 1M out at $1.50.
    assert_eq!(meta.cost_micros, Some(2_000_000));
    assert_eq!(meta.cost_source, Some(CostSource::Override));
}

mod support;

/// Every cost the ledger holds, oldest first, with where it came from.
fn ledger_costs(home: &std::path::Path) -> Vec<(Option<i64>, Option<String>)> {
    let Ok(ledger) = rusqlite::Connection::open(home.join("data/ledger.sqlite3")) else {
        return Vec::new();
    };
    let Ok(mut query) =
        ledger.prepare("SELECT cost_micros, cost_source FROM requests ORDER BY ts, rowid")
    else {
        return Vec::new();
    };
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_console_price_form_prices_what_the_console_sends_next_a_library_test_run_too() {
    let mock = support::mock_server::Mock::start_in_background();
    // `local = false`: a proxy on loopback, so a model no list knows is unpriced.
    let home = support::home_with_config(&format!(
        "default_profile = \"proxy\"\n[profiles.proxy]\nbase_url = \"{}\"\napi_key_env = \"MOCK_KEY\"\nmodel = \"team-llm\"\nlocal = false\n",
        mock.base_url
    ));
    let dir = home.path().join("data/prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hi.md"),
        "+++\nname = \"hi\"\nmodel = \"team-llm\"\n\n[[tests]]\nname = \"one\"\nassert = [{ contains = \"mock\" }]\n+++\n\n# User\n\nSay hi\n",
    )
    .unwrap();
    let Some(t) = support::tmux::Tmux::start(home.path(), &[("MOCK_KEY", "sk-test")], &[]) else {
        return;
    };
    t.wait_for("team-llm");
    t.type_text("Hi");
    t.keys(&["Enter"]);
    t.wait_for("unpriced");
    let wait_rows = |n: usize| {
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let rows = ledger_costs(home.path());
            if rows.len() >= n {
                return rows;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} ledger rows",
                rows.len()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    assert_eq!(wait_rows(1), [(None, None)]);
    // `$` on the unpriced answer: $1 in, $2 out per 1M.
    t.keys(&["Escape"]);
    t.keys(&["$"]);
    t.wait_for(MODEL_FORM_TITLE);
    t.type_text("1 2");
    t.keys(&["Enter"]);
    t.wait_for("priced in");
    // A test run from the Library, started after the form, is priced by it too.
    t.keys(&["M-3"]);
    t.wait_for("hi");
    t.keys(&["M-t"]);
    t.wait_for("Test hi on");
    t.keys(&["Enter"]);
    let rows = wait_rows(2);
    // The mock's usage: 1200 in × $1 + 300 out × $2 per 1M.
    assert_eq!(rows[1], (Some(1_800), Some("override".into())), "{rows:?}");
    // The console's run is kept like the command line's: the Evals pane lists it.
    t.keys(&["M-4"]);
    t.wait_for("1/1 passed  hi @");
}

const MODEL_FORM_TITLE: &str = "Price of team-llm";
