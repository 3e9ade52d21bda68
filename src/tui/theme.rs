//! A theme's looks (plain data in `config::theme`) as terminal styles.

use ratatui::style::{Color, Modifier, Style};

use crate::config::theme::{Colour, Look, Role, Theme};

/// `theme.style(Role::Muted)`: how the console draws a role.
pub trait Styled {
    fn style(&self, role: Role) -> Style;
}

impl Styled for Theme {
    fn style(&self, role: Role) -> Style {
        style(self.look(role))
    }
}

pub fn style(look: Look) -> Style {
    let mut style = Style::default();
    if let Some(fg) = look.fg {
        style = style.fg(color(fg));
    }
    if let Some(bg) = look.bg {
        style = style.bg(color(bg));
    }
    for (on, m) in [
        (look.bold, Modifier::BOLD),
        (look.italic, Modifier::ITALIC),
        (look.underline, Modifier::UNDERLINED),
        (look.dim, Modifier::DIM),
        (look.reversed, Modifier::REVERSED),
    ] {
        if on {
            style = style.add_modifier(m);
        }
    }
    style
}

fn color(c: Colour) -> Color {
    match c {
        Colour::Reset => Color::Reset,
        Colour::Black => Color::Black,
        Colour::Red => Color::Red,
        Colour::Green => Color::Green,
        Colour::Yellow => Color::Yellow,
        Colour::Blue => Color::Blue,
        Colour::Magenta => Color::Magenta,
        Colour::Cyan => Color::Cyan,
        Colour::Gray => Color::Gray,
        Colour::DarkGray => Color::DarkGray,
        Colour::LightRed => Color::LightRed,
        Colour::LightGreen => Color::LightGreen,
        Colour::LightYellow => Color::LightYellow,
        Colour::LightBlue => Color::LightBlue,
        Colour::LightMagenta => Color::LightMagenta,
        Colour::LightCyan => Color::LightCyan,
        Colour::White => Color::White,
        Colour::Indexed(i) => Color::Indexed(i),
        Colour::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}
