//! Text from outside (model output, server messages, files and team rows
//! others wrote) is untrusted: escape sequences (CSI, OSC 52 clipboard
//! writes, DCS), BEL, C1 controls and bidi overrides must never reach a
//! terminal raw. Both faces, the console and the command line, show them
//! inert, as visible symbols. One implementation for both.

use std::borrow::Cow;

/// Controls (C0 but newline and tab, DEL, C1) and the invisible characters
/// that reorder or disguise text on screen (bidi embeddings, overrides,
/// isolates and marks, as in "Trojan Source"; line and paragraph separators).
fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Replaces hostile characters: ESC becomes `␛`, other C0 controls their
/// control-picture, everything else `�`. Tabs become four spaces. With ESC
/// and the C1 introducers gone, no sequence (CSI, OSC, DCS, ST) can start.
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

/// Serialized JSON with the hostile characters JSON leaves raw (C1, bidi)
/// written as `\uXXXX` escapes: the same JSON value, inert on a terminal.
/// JSON's own syntax is ASCII, so such a character can only be inside a string.
pub fn json(serialized: &str) -> Cow<'_, str> {
    if !serialized.chars().any(is_hostile) {
        return Cow::Borrowed(serialized);
    }
    let mut out = String::with_capacity(serialized.len() + 16);
    for c in serialized.chars() {
        if is_hostile(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
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
        assert_eq!(inert("\u{9b}31m\u{90}dcs\u{9c}"), "�31m�dcs�");
        assert_eq!(inert("x\u{2067}y\u{061c}"), "x�y�");
        assert!(matches!(inert("plain\ntext"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_its_value_and_loses_its_teeth() {
        let v = serde_json::json!({"m": "a\u{9b}2J\u{202e}b\u{1b}]52;c;x\u{7}"});
        let text = serde_json::to_string(&v).unwrap();
        let safe = json(&text);
        assert!(!safe.chars().any(is_hostile), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), v);
    }
}
