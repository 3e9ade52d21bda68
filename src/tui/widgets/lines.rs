//! Lines already laid out to the width, written straight into the buffer.
//!
//! The transcript's lines come wrapped from the render cache, so `Paragraph`'s
//! work on them (a grapheme iterator and a style merge per cell, every frame)
//! buys nothing; it was a fifth of the CPU time of a streamed answer. Plain
//! ASCII and box drawing (tables' and code blocks' borders: one column a
//! character, none combining) are copied cell by cell; anything else goes
//! through ratatui's own width-aware `set_stringn`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Widget;

pub struct Lines<'a>(pub &'a [&'a Line<'a>]);

impl Widget for Lines<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        for (line, y) in self.0.iter().zip(area.top()..area.bottom()) {
            let mut x = area.left();
            for span in &line.spans {
                if x >= area.right() {
                    break;
                }
                let style = line.style.patch(span.style);
                let text = span.content.as_ref();
                if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
                    for b in text.bytes().take(usize::from(area.right() - x)) {
                        buf[(x, y)].set_char(char::from(b)).set_style(style);
                        x += 1;
                    }
                } else if text.chars().all(|c| ('\u{2500}'..='\u{257f}').contains(&c)) {
                    for c in text.chars().take(usize::from(area.right() - x)) {
                        buf[(x, y)].set_char(c).set_style(style);
                        x += 1;
                    }
                } else {
                    let room = usize::from(area.right() - x);
                    x = buf.set_stringn(x, y, text, room, style).0;
                }
            }
        }
    }
}

/// One line on a background the width of the area: a title or status bar.
pub struct Bar<'a>(pub &'a Line<'a>, pub Style);

impl Widget for Bar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        buf.set_style(area, self.1);
        Lines(&[self.0]).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Style};
    use ratatui::text::Span;
    use ratatui::widgets::Paragraph;

    use super::*;

    /// Same cells as a Paragraph of the same lines, wide characters and clipping included.
    #[test]
    fn draws_what_a_paragraph_draws() {
        let lines = vec![
            Line::from(vec![
                Span::styled("plain ", Style::new().fg(Color::Red)),
                Span::raw("和文 wide é"),
            ]),
            Line::styled(
                "a line longer than the area is clipped",
                Style::new().bg(Color::Blue),
            ),
            Line::styled("short", Style::new().bg(Color::Green)),
            Line::from("emoji 🦀 ok"),
            Line::from(vec![
                Span::styled("│", Style::new().fg(Color::Blue)),
                Span::raw(" cell "),
                Span::raw("┼──────────────────────┤"),
                Span::raw(" clipped"),
            ]),
        ];
        let area = Rect::new(1, 1, 20, 5);
        let mut ours = Buffer::empty(Rect::new(0, 0, 24, 7));
        let mut theirs = ours.clone();
        Lines(&lines.iter().collect::<Vec<_>>()).render(area, &mut ours);
        Paragraph::new(lines.clone()).render(area, &mut theirs);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_bar_draws_what_a_styled_paragraph_draws() {
        let bar = Style::new().bg(Color::Blue).fg(Color::White);
        let line = Line::from(vec![
            Span::styled(" llmdeck ", Style::new().fg(Color::Yellow)),
            Span::raw(" · title "),
        ]);
        let area = Rect::new(0, 1, 30, 1);
        let mut ours = Buffer::empty(Rect::new(0, 0, 32, 3));
        let mut theirs = ours.clone();
        Bar(&line, bar).render(area, &mut ours);
        Paragraph::new(line).style(bar).render(area, &mut theirs);
        assert_eq!(ours, theirs);
    }
}
