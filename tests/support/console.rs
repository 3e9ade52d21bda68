//! The console's state driven by keys as the app drives it (no I/O), and
//! its screens drawn with ratatui's TestBackend.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use llmdeck::chat::conversation::Conversation;
use llmdeck::chat::machine::{Effect, Input, Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap;
use llmdeck::config::theme::Theme;
use llmdeck::provider::event::{FinishReason, StreamEvent};
use llmdeck::tui::cache::RenderCache;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::state::State;
use llmdeck::tui::update::{self, Command};
use llmdeck::tui::views;
use llmdeck::usage::PriceTable;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// The console's state driven by keys, as the app drives it (no I/O).
pub struct Console {
    pub state: State,
    request: Option<u64>,
    /// Commands the last key returned.
    pub commands: Vec<Command>,
}

impl Console {
    pub fn new(model: &str) -> Self {
        let (keymap, _) = Keymap::from_tables(&keymap::defaults(), None);
        let origin = Origin {
            source: "test".into(),
            profile: "demo".into(),
            host: "offline demo".into(),
            api: "demo".into(),
        };
        let mut conv = Conversation::new(model, Utc::now());
        conv.id = "first-hour".into();
        let machine = Machine::new(conv, origin, Arc::new(PriceTable::embedded()));
        let mut profile = Profile::demo();
        profile.model = model.into();
        let theme = Theme::built_in("dark").unwrap();
        let state = State::new(machine, profile, theme, keymap, Vec::new());
        Self {
            state,
            request: None,
            commands: Vec::new(),
        }
    }

    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) {
        let event = Event::Key(KeyEvent::new(code, mods));
        self.commands = update::on_event(&mut self.state, &event);
        for c in self.commands.clone() {
            if let Command::Machine(input) = c {
                self.machine(input);
            }
        }
    }

    pub fn press(&mut self, code: KeyCode) {
        self.key(code, KeyModifiers::NONE);
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    pub fn machine(&mut self, input: Input) {
        for e in self.state.machine.handle(input, Instant::now(), Utc::now()) {
            if let Effect::Start { request_id, .. } = e {
                self.request = Some(request_id);
            }
        }
    }

    /// Sends `prompt` and streams `answer` to its end.
    pub fn exchange(&mut self, prompt: &str, answer: &str) {
        self.type_text(prompt);
        self.press(KeyCode::Enter);
        let id = self.request.expect("a request started");
        for e in [
            StreamEvent::TextDelta(answer.into()),
            StreamEvent::Finish(FinishReason::Stop),
            StreamEvent::End,
        ] {
            self.machine(Input::Stream(id, e));
        }
    }

    pub fn screen(&mut self, width: u16, height: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| views::draw(f, &self.state, &mut RenderCache::default()))
            .unwrap();
        term.backend().to_string()
    }

    /// The cells drawn, colours and all.
    pub fn cells(&mut self, width: u16, height: u16) -> Buffer {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| views::draw(f, &self.state, &mut RenderCache::default()))
            .unwrap();
        term.backend().buffer().clone()
    }

    /// The same console in another built-in theme.
    pub fn set_theme(&mut self, name: &str) {
        self.state.theme = Theme::built_in(name).unwrap();
    }

    pub fn sent(&self) -> Option<&Input> {
        self.commands.iter().find_map(|c| match c {
            Command::Machine(i @ (Input::Send(_) | Input::Edit { .. })) => Some(i),
            _ => None,
        })
    }
}

/// The screen's text with its rows joined and runs of spaces made one.
pub fn flat(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_matches('"'))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The screen's text with no whitespace and no row quotes.
pub fn bare(text: &str) -> String {
    text.lines()
        .map(|l| l.trim_matches('"'))
        .collect::<String>()
        .split_whitespace()
        .collect()
}
