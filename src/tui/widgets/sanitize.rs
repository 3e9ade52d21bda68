//! Model output is untrusted: escape sequences, OSC 52 clipboard writes, BEL,
//! C1 controls and bidi overrides must never reach the terminal raw. They are
//! shown inert, as visible symbols.

use std::borrow::Cow;

fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Replaces hostile characters: ESC becomes `␛`, other C0 controls their
/// control-picture, everything else `�`. Tabs become four spaces.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_hostile(c) || c == '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if is_hostile(c) => out.push(match c as u32 {
                0x00..=0x1f => char::from_u32(0x2400 + c as u32).unwrap_or('�'),
                0x7f => '␡',
                _ => '�',
            }),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_made_visible() {
        assert_eq!(inert("a\x1b[31mred\x07"), "a␛[31mred␇");
        assert_eq!(inert("\u{202e}evil"), "�evil");
        assert_eq!(inert("\u{9b}31m"), "�31m");
        assert!(matches!(inert("plain\ntext"), Cow::Borrowed(_)));
    }
}
