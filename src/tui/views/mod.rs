//! Drawing is a function of state: every view takes `&State` and changes
//! nothing (the render cache is a memo of pure functions, not state).

pub mod extras;
pub mod library;
pub mod overlays;
pub mod playground;
pub mod spend;
pub mod status;
pub mod tools_panel;
pub mod transcript;

use ratatui::Frame;

use super::cache::RenderCache;
use super::screen::Scroll;
use super::state::State;

/// Draws a frame as the console does and says which rows scrolled since the last.
pub fn frame(frame: &mut Frame, state: &State, cache: &mut RenderCache) -> Option<Scroll> {
    let before = cache.anchor.take();
    draw(frame, state, cache);
    // The terminal scrolls before the frame arrives: a popup over the
    // transcript would jump with it for that moment.
    let moved = transcript::moved(before, cache.anchor);
    moved.filter(|_| state.overlays.is_empty())
}

pub fn draw(frame: &mut Frame, state: &State, cache: &mut RenderCache) {
    let areas = playground::layout(frame.area(), state);
    if state.pane != super::state::Pane::Playground {
        playground::title_bar(frame, areas.title, state);
        let body = ratatui::layout::Rect {
            height: areas.keys.y.saturating_sub(areas.transcript.y),
            ..areas.transcript
        };
        if state.pane == super::state::Pane::Spend {
            spend::draw(frame, body, state);
        } else {
            library::draw(frame, body, state);
        }
        status::draw(frame, areas.status, state);
    } else {
        playground::draw(frame, &areas, state, cache);
    }
    playground::keys_strip(frame, areas.keys, state);
    overlays::draw(frame, state);
}
