//! Keys typed into a text box mean what they mean at a shell prompt
//! (readline): Ctrl-U deletes to the start of the line (the text area would
//! undo), Ctrl-W the word before the cursor, Ctrl-A and Ctrl-E go to the
//! line's start and end. Undo is Ctrl-Z.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// Applies `key` to `text`; whether the text changed.
pub fn type_key(text: &mut TextArea, key: &KeyEvent) -> bool {
    let ctrl =
        key.modifiers.contains(KeyModifiers::CONTROL) && !key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Char('u') if ctrl => text.delete_line_by_head(),
        KeyCode::Char('z') if ctrl => text.undo(),
        _ => text.input(*key),
    }
}
