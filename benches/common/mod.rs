//! What the benchmarks share: a console state over a long conversation, and
//! the screen the console draws on, sending its escape sequences nowhere.

use std::sync::Arc;

use chrono::Utc;
use llmdeck::chat::conversation::{Conversation, Role};
use llmdeck::chat::machine::{Machine, Origin};
use llmdeck::config::Profile;
use llmdeck::config::keymap;
use llmdeck::config::theme::Theme;
use llmdeck::tui::keymap::Keymap;
use llmdeck::tui::screen::Screen;
use llmdeck::tui::state::State;
use llmdeck::usage::PriceTable;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// A playground whose conversation alternates `question` and `answer`, `messages` long.
pub fn state(messages: usize, question: &str, answer: &str) -> State {
    let (keymap, _) = Keymap::from_tables(&keymap::defaults(), None);
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
            (Role::User, question)
        } else {
            (Role::Assistant, answer)
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

/// A 120x40 screen drawn as the console draws (diff and escape sequences), into `io::sink()`.
pub fn screen() -> Screen<CrosstermBackend<std::io::Sink>> {
    let viewport = Viewport::Fixed(Rect::new(0, 0, 120, 40));
    let backend = CrosstermBackend::new(std::io::sink());
    Screen::new(Terminal::with_options(backend, TerminalOptions { viewport }).unwrap())
}
