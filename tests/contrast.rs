//! Every built-in theme is readable: the console is drawn in each theme
//! through a tour of its screens (panes, popups, messages of each level,
//! budgets, selections), and every foreground/background pair of a visible
//! character is held at WCAG AA (4.5:1); the presenter and high-contrast
//! themes at AAA (7:1). Box lines are interface parts, held at 3:1.

mod support;

use crossterm::event::{KeyCode, KeyModifiers};
use llmdeck::tui::state::{Level, Pane};
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use support::console::Console;

/// The terminal a theme is made for: its background and default text colour
/// (what `Reset` shows). The dark theme is Nord's (`#2e3440`, the lighter and
/// so harder of the usual dark backgrounds).
fn terminal(theme: &str) -> ([u8; 3], [u8; 3]) {
    match theme {
        "light" => ([0xff, 0xff, 0xff], [0x24, 0x29, 0x2f]),
        "dark" => ([0x2e, 0x34, 0x40], [0xd8, 0xde, 0xe9]),
        _ => ([0, 0, 0], [0xff, 0xff, 0xff]),
    }
}

/// xterm's default palette for the 16 named colours.
fn rgb(c: Color, default: [u8; 3]) -> [u8; 3] {
    match c {
        Color::Reset => default,
        Color::Black => [0, 0, 0],
        Color::Red => [205, 0, 0],
        Color::Green => [0, 205, 0],
        Color::Yellow => [205, 205, 0],
        Color::Blue => [0, 0, 238],
        Color::Magenta => [205, 0, 205],
        Color::Cyan => [0, 205, 205],
        Color::Gray => [229, 229, 229],
        Color::DarkGray => [127, 127, 127],
        Color::LightRed => [255, 0, 0],
        Color::LightGreen => [0, 255, 0],
        Color::LightYellow => [255, 255, 0],
        Color::LightBlue => [92, 92, 255],
        Color::LightMagenta => [255, 0, 255],
        Color::LightCyan => [0, 255, 255],
        Color::White => [255, 255, 255],
        Color::Rgb(r, g, b) => [r, g, b],
        Color::Indexed(i) => indexed(i),
    }
}

fn indexed(i: u8) -> [u8; 3] {
    const BASE: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match i {
        0..=15 => rgb(BASE[usize::from(i)], [0, 0, 0]),
        16..=231 => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            let i = i - 16;
            [level(i / 36), level((i / 6) % 6), level(i % 6)]
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            [v, v, v]
        }
    }
}

fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

fn ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// The pairs below `min` among the visible characters of `buf`.
fn low_pairs(theme: &str, buf: &Buffer, min: f64, out: &mut Vec<String>) {
    let (bg, fg) = terminal(theme);
    for cell in buf.content() {
        if cell.symbol().trim().is_empty() {
            continue;
        }
        let (mut f, mut b) = (rgb(cell.fg, fg), rgb(cell.bg, bg));
        if cell.modifier.contains(ratatui::style::Modifier::REVERSED) {
            std::mem::swap(&mut f, &mut b);
        }
        let r = ratio(f, b);
        // Box lines are not text: WCAG 1.4.11 asks 3:1 of interface parts.
        let line = cell
            .symbol()
            .chars()
            .all(|c| ('\u{2500}'..='\u{259f}').contains(&c));
        if r < if line { 3.0 } else { min } {
            let pair = format!(
                "{theme}: {:?} on {:?} = {r:.2} (e.g. {:?})",
                cell.fg,
                cell.bg,
                cell.symbol()
            );
            if !out
                .iter()
                .any(|p| p.starts_with(&pair[..pair.find(" (e.g.").unwrap()]))
            {
                out.push(pair);
            }
        }
    }
}

/// The screens of the tour, drawn in `theme`.
fn tour(theme: &str) -> Vec<Buffer> {
    let mut screens = Vec::new();
    let mut c = Console::new("gpt-4o");
    c.set_theme(theme);
    c.state.presenter = theme == "presenter";
    screens.push(c.cells(100, 30));
    c.exchange(
        "show me everything",
        "## A heading\n\nText with **bold**, *italic*, `code` and a [link](https://example.com).\n\n> a quote\n\n```rust\nfn main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- item",
    );
    screens.push(c.cells(100, 40));
    // The transcript focused, a message selected.
    c.press(KeyCode::Esc);
    screens.push(c.cells(100, 40));
    c.press(KeyCode::Char('i'));
    for level in [Level::Info, Level::Warning, Level::Error] {
        c.state.toast(level, "a message of this level");
        screens.push(c.cells(100, 30));
    }
    c.state.toast = None;
    // Budgets at each level, and the next request's estimate.
    c.state.budgets.daily_usd = Some(1.0);
    for spent in [100_000, 850_000, 1_200_000] {
        c.state.totals = Some(llmdeck::usage::spend::Totals {
            today: (spent, 1),
            ..Default::default()
        });
        c.state.draft_tokens = Some(120);
        screens.push(c.cells(140, 30));
    }
    for (key, mods) in [
        (KeyCode::Char('p'), KeyModifiers::CONTROL),
        (KeyCode::Char('k'), KeyModifiers::CONTROL),
        (KeyCode::Char('s'), KeyModifiers::CONTROL),
        (KeyCode::F(1), KeyModifiers::NONE),
        (KeyCode::F(7), KeyModifiers::NONE),
        (KeyCode::Char('g'), KeyModifiers::CONTROL),
    ] {
        c.key(key, mods);
        screens.push(c.cells(100, 30));
        c.press(KeyCode::Esc);
        c.state.overlays.clear();
    }
    c.state.conversations = vec![llmdeck::chat::store::Summary {
        id: "a".into(),
        title: "a conversation".into(),
        updated: chrono::Utc::now(),
        messages: 2,
        error: Some("cannot be read".into()),
    }];
    if !c.state.presenter {
        c.key(KeyCode::Char('o'), KeyModifiers::CONTROL);
        screens.push(c.cells(100, 30));
        c.state.overlays.clear();
    }
    for pane in [Pane::Spend, Pane::Library] {
        c.state.pane = pane;
        screens.push(c.cells(120, 30));
    }
    screens
}

#[test]
fn every_built_in_theme_meets_wcag_contrast_on_everything_it_draws() {
    let mut low = Vec::new();
    for (theme, _) in llmdeck::config::theme::BUILT_IN {
        let min = match theme {
            "presenter" | "high-contrast" => 7.0,
            _ => 4.5,
        };
        for screen in tour(theme) {
            low_pairs(theme, &screen, min, &mut low);
        }
    }
    assert!(low.is_empty(), "pairs below WCAG:\n{}", low.join("\n"));
}

#[test]
fn the_ratio_is_wcag_s() {
    assert!((ratio([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
    assert!((ratio([0x77, 0x77, 0x77], [255, 255, 255]) - 4.48).abs() < 0.01);
}
