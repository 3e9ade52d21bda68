//! Keys → actions, per place, from data: the embedded default keymap with the
//! user's `keymap.toml` laid over it (see `config::keymap`).

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use serde::de::value::StrDeserializer;

use super::action::{Action, Place, Purpose};
use crate::config::keymap::KeyTables;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    pub fn from_event(ev: &KeyEvent) -> Self {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            // The character already says whether shift was held.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                })
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, mods }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        // Case ignored, without a lowercase copy per modifier.
        let prefix = |s: &str, p: &str| {
            s.as_bytes()
                .get(..p.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
        };
        loop {
            let (m, len) = if prefix(rest, "ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if prefix(rest, "alt-") {
                (KeyModifiers::ALT, 4)
            } else if prefix(rest, "shift-") && rest.len() > 6 {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.starts_with('f')
                && f.len() > 1
                && f[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                KeyCode::F(f[1..].parse().map_err(|_| format!("bad key {text:?}"))?)
            }
            _ if rest.chars().count() == 1 => {
                let c = rest.chars().next().unwrap_or(' ');
                if mods.contains(KeyModifiers::SHIFT) {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    })
                }
            }
            _ => return Err(format!("unknown key {text:?}")),
        };
        Ok(Self { code, mods })
    }

    /// How the help screen writes the key.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            s.push_str("Shift-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            KeyCode::BackTab => s.push_str("Shift-Tab"),
            KeyCode::PageUp => s.push_str("PgUp"),
            KeyCode::PageDown => s.push_str("PgDn"),
            other => s.push_str(&format!("{other:?}")),
        }
        s
    }
}

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    places: HashMap<&'static str, Vec<(Chord, Action)>>,
}

impl Keymap {
    /// The defaults with `user_file` laid over them, and what was wrong in
    /// that file: every problem names the file, so the user knows where to look.
    pub fn load(user_file: &std::path::Path) -> (Self, Vec<String>) {
        let (user, err) = crate::config::keymap::load_user(user_file);
        let mut warnings: Vec<String> = err
            .map(|e| format!("{e} — using the default keys"))
            .into_iter()
            .collect();
        let (keymap, problems) =
            Keymap::from_tables(&crate::config::keymap::defaults(), user.as_ref());
        warnings.extend(
            problems
                .into_iter()
                .map(|p| format!("{}: {p}", user_file.display())),
        );
        (keymap, warnings)
    }

    /// The embedded defaults with the user's entries laid over them. A user entry
    /// that does not parse is reported and the default for that key kept.
    pub fn from_tables(defaults: &KeyTables, user: Option<&KeyTables>) -> (Self, Vec<String>) {
        let mut map = Keymap::default();
        let mut problems = Vec::new();
        let sections = std::iter::once("global").chain(Place::ALL.iter().map(|p| p.section()));
        for section in sections {
            let mut entries: Vec<(Chord, Action)> = Vec::new();
            let layers = [defaults.get(section), user.and_then(|u| u.get(section))];
            for keys in layers.into_iter().flatten() {
                for (key, name) in keys {
                    let chord = Chord::parse(key);
                    // The name straight to its variant (no JSON value built for it).
                    let name_of = StrDeserializer::<serde::de::value::Error>::new(name);
                    let action = Action::deserialize(name_of);
                    match (chord, action) {
                        (Ok(c), Ok(a)) => {
                            entries.retain(|(existing, _)| *existing != c);
                            entries.push((c, a));
                        }
                        (Err(e), _) => problems.push(format!("keymap [{section}]: {e}")),
                        (_, Err(_)) => problems.push(format!(
                            "keymap [{section}] {key:?}: unknown action {name:?}"
                        )),
                    }
                }
            }
            map.places.insert(section, entries);
        }
        for section in user.into_iter().flat_map(|u| u.keys()) {
            if section != "global" && !Place::ALL.iter().any(|p| p.section() == section) {
                problems.push(format!("keymap: unknown section [{section}]"));
            }
        }
        (map, problems)
    }

    fn find(&self, section: &str, chord: &Chord) -> Option<Action> {
        self.places
            .get(section)?
            .iter()
            .find(|(c, _)| c == chord)
            .map(|(_, a)| *a)
    }

    /// The place's own binding, else the global one.
    pub fn action(&self, place: Place, key: &KeyEvent) -> Option<Action> {
        let chord = Chord::from_event(key);
        self.find(place.section(), &chord)
            .or_else(|| self.find("global", &chord))
            .filter(|a| *a != Action::None)
    }

    /// The help screen's keys for `place`, grouped by purpose: the place's
    /// own, and the global ones it does not shadow (a chord the place binds,
    /// even to "none", never reaches the global table: see `action`).
    pub fn help(&self, place: Place, playground: bool) -> Vec<(Purpose, Vec<(String, Action)>)> {
        let own = self.places.get(place.section());
        let shadowed = |c: &Chord| own.is_some_and(|o| o.iter().any(|(oc, _)| oc == c));
        let global = self.places.get("global").into_iter().flatten();
        let reachable = own
            .into_iter()
            .flatten()
            .chain(global.filter(|(c, a)| !shadowed(c) && a.acts_at(place, playground)));
        let mut out: Vec<(String, Action)> = Vec::new();
        for (chord, action) in reachable {
            if *action == Action::None {
                continue;
            }
            match out.iter_mut().find(|(_, a)| a == action) {
                Some((keys, _)) => {
                    keys.push_str(", ");
                    keys.push_str(&chord.label());
                }
                None => out.push((chord.label(), *action)),
            }
        }
        Purpose::ALL
            .into_iter()
            .map(|p| {
                (
                    p,
                    out.iter()
                        .filter(|(_, a)| a.purpose() == p)
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_listed_twice_in_a_place_and_a_shadowed_global_is_hidden() {
        let (km, problems) = Keymap::from_tables(&crate::config::keymap::defaults(), None);
        assert!(problems.is_empty(), "{problems:?}");
        for place in Place::ALL {
            let mut seen = std::collections::HashSet::new();
            for (_, keys) in km.help(place, true) {
                for (chords, action) in keys {
                    for chord in chords.split(", ") {
                        assert!(
                            seen.insert(chord.to_string()),
                            "{chord} is listed twice in {} (again for {action:?})",
                            place.section()
                        );
                    }
                }
            }
        }
        // The Library's Alt-r runs the tests; the global Alt-r (reasoning) does not act there.
        let library: Vec<Action> = km
            .help(Place::Library, false)
            .into_iter()
            .flat_map(|(_, keys)| keys.into_iter().map(|(_, a)| a))
            .collect();
        assert!(library.contains(&Action::RunTests), "{library:?}");
        assert!(!library.contains(&Action::ToggleReasoning), "{library:?}");
    }

    #[test]
    fn help_lists_a_global_key_only_where_it_acts() {
        let (km, _) = Keymap::from_tables(&crate::config::keymap::defaults(), None);
        let listed = |place, playground| -> Vec<Action> {
            km.help(place, playground)
                .into_iter()
                .flat_map(|(_, keys)| keys.into_iter().map(|(_, a)| a))
                .collect()
        };
        // The Library has no areas to move between, nothing to compare or save.
        let library = listed(Place::Library, false);
        for idle in [Action::FocusNext, Action::Compare, Action::SaveAsPrompt] {
            assert!(!library.contains(&idle), "{idle:?} in {library:?}");
        }
        assert!(library.contains(&Action::Conversations), "{library:?}");
        // The Playground's input has all three.
        let input = listed(Place::Input, true);
        for acts in [Action::FocusNext, Action::Compare, Action::SaveAsPrompt] {
            assert!(input.contains(&acts), "{acts:?} missing from {input:?}");
        }
        // A form moves between its fields; the code view copies but is not reopened.
        assert!(listed(Place::Form, true).contains(&Action::FocusNext));
        let code = listed(Place::Code, true);
        assert!(code.contains(&Action::CopyMessage), "{code:?}");
        assert!(!code.contains(&Action::ViewCode), "{code:?}");
        assert!(!listed(Place::Tools, true).contains(&Action::Tools));
    }

    #[test]
    fn user_file_overrides_and_unbinds() {
        let user: KeyTables =
            toml::from_str("[transcript]\n\"r\" = \"none\"\n\"ctrl-g\" = \"regenerate\"\n")
                .unwrap();
        let (km, problems) = Keymap::from_tables(&crate::config::keymap::defaults(), Some(&user));
        assert!(problems.is_empty(), "{problems:?}");
        let key = |c, m| KeyEvent::new(c, m);
        assert_eq!(
            km.action(
                Place::Transcript,
                &key(KeyCode::Char('r'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            km.action(
                Place::Transcript,
                &key(KeyCode::Char('g'), KeyModifiers::CONTROL)
            ),
            Some(Action::Regenerate)
        );
        // Global keys work everywhere, and shift is folded into the character.
        assert_eq!(
            km.action(
                Place::Input,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(
                Place::Transcript,
                &key(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
    }

    #[test]
    fn bad_entries_are_reported_not_fatal() {
        let user: KeyTables =
            toml::from_str("[input]\n\"ctrl-\" = \"send\"\n\"enter\" = \"fly\"\n").unwrap();
        let (km, problems) = Keymap::from_tables(&crate::config::keymap::defaults(), Some(&user));
        assert_eq!(problems.len(), 2);
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            km.action(Place::Input, &enter),
            Some(Action::Send),
            "the default is kept"
        );
    }
}
