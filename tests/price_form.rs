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
