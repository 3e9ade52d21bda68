//! Rendered messages, memoised: a finished message is laid out once per width
//! and theme; a growing one re-renders only what follows its last stable
//! paragraph break. Drawing stays flat in the length of the history.

use std::collections::HashMap;

use ratatui::text::Line;

use super::widgets::markdown::{self, Rendered};
use super::widgets::{highlight, sanitize::inert, wrap::wrap};
use crate::chat::conversation::{NodeId, Role};
use crate::config::theme::{Role as Look, Theme};

struct Entry {
    len: usize,
    growing: bool,
    highlighted: bool,
    lines: Vec<Line<'static>>,
    /// For a growing message: the stable prefix's length and its lines.
    prefix: Option<(usize, Vec<Line<'static>>)>,
}

#[derive(Default)]
pub struct RenderCache {
    width: u16,
    theme: String,
    entries: HashMap<NodeId, Entry>,
    /// Set when some code was drawn plain while highlighting loads.
    pub wants_highlighting: bool,
}

impl RenderCache {
    /// Forget everything when the width or theme changes.
    pub fn prepare(&mut self, width: u16, theme: &Theme) {
        if self.width != width || self.theme != theme.name {
            self.entries.clear();
            self.width = width;
            self.theme = theme.name.clone();
        }
    }

    /// Forget one conversation's worth (node ids are per conversation).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The body lines of a message at the prepared width.
    /// `growing`: the message is being streamed (render incrementally).
    pub fn body(
        &mut self,
        id: NodeId,
        role: Role,
        content: &str,
        growing: bool,
        theme: &Theme,
    ) -> &[Line<'static>] {
        let stale = match self.entries.get(&id) {
            Some(e) => {
                e.len != content.len()
                    || e.growing != growing
                    || (!e.highlighted && highlight::is_ready())
            }
            None => true,
        };
        if stale {
            let prev_prefix = self
                .entries
                .remove(&id)
                .filter(|e| growing && (e.highlighted || !highlight::is_ready()))
                .and_then(|e| e.prefix);
            let mut entry = self.render(role, content, growing, theme, prev_prefix);
            entry.growing = growing;
            if !entry.highlighted {
                self.wants_highlighting = true;
            }
            self.entries.insert(id, entry);
        }
        &self.entries[&id].lines
    }

    fn render(
        &self,
        role: Role,
        content: &str,
        growing: bool,
        theme: &Theme,
        prev_prefix: Option<(usize, Vec<Line<'static>>)>,
    ) -> Entry {
        let width = self.width;
        if role == Role::User {
            // What the user typed is shown as typed, wrapped, not as markdown.
            let style = theme.style(Look::Text);
            let mut lines = Vec::new();
            for l in content.split('\n') {
                let span = ratatui::text::Span::styled(inert(l).into_owned(), style);
                lines.extend(
                    wrap(&[span], usize::from(width))
                        .into_iter()
                        .map(Line::from),
                );
            }
            return Entry {
                len: content.len(),
                growing,
                highlighted: true,
                lines,
                prefix: None,
            };
        }
        let cut = if growing {
            markdown::stable_prefix(content)
        } else {
            0
        };
        if cut == 0 || cut == content.len() {
            let r = markdown::render(content, width, theme);
            return Entry {
                len: content.len(),
                growing,
                highlighted: r.fully_highlighted,
                lines: r.lines,
                prefix: None,
            };
        }
        // The stable part only grows: render just what became stable since the
        // last frame and append it, so a long answer costs the same per frame
        // at its end as at its start.
        let (prefix_lines, prefix_ok) = match prev_prefix {
            Some((len, lines)) if len == cut => (lines, true),
            Some((len, mut lines)) if len < cut => {
                let r: Rendered = markdown::render(&content[len..cut], width, theme);
                if !lines.is_empty() && !r.lines.is_empty() {
                    lines.push(Line::default());
                }
                lines.extend(r.lines);
                (lines, r.fully_highlighted)
            }
            _ => {
                let r: Rendered = markdown::render(&content[..cut], width, theme);
                (r.lines, r.fully_highlighted)
            }
        };
        let tail = markdown::render(&content[cut..], width, theme);
        let mut lines = prefix_lines.clone();
        lines.push(Line::default());
        lines.extend(tail.lines);
        Entry {
            len: content.len(),
            growing,
            highlighted: prefix_ok && tail.fully_highlighted,
            lines,
            prefix: Some((cut, prefix_lines)),
        }
    }
}
