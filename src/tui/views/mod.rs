//! Drawing is a function of state: every view takes `&State` and changes
//! nothing (the render cache is a memo of pure functions, not state).

pub mod chrome;
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
use super::screen::{FrameIds, Hints};
use super::state::State;

/// Draws a frame as the console does: says which rows scrolled since the
/// frame the terminal shows, and which it left undrawn as they still show it.
pub fn frame(frame: &mut Frame, ids: FrameIds, state: &State, cache: &mut RenderCache) -> Hints {
    paint(frame, Some(ids), state, cache)
}

/// Draws everything, as on a blank screen, leaving the render cache's memory
/// of the last frame alone.
pub fn draw(frame: &mut Frame, state: &State, cache: &mut RenderCache) {
    paint(frame, None, state, cache);
}

fn paint(
    frame: &mut Frame,
    ids: Option<FrameIds>,
    state: &State,
    cache: &mut RenderCache,
) -> Hints {
    let areas = playground::layout(frame.area(), state);
    let popup = !state.overlays.is_empty();
    cache.chrome.begin(ids, popup, &state.theme.name);
    let mut hints = if state.pane == super::state::Pane::Playground {
        playground::draw(frame, &areas, ids, state, cache)
    } else {
        playground::title_bar(frame, areas.title, state, &mut cache.chrome);
        let body = ratatui::layout::Rect {
            height: areas.keys.y.saturating_sub(areas.transcript.y),
            ..areas.transcript
        };
        if state.pane == super::state::Pane::Spend {
            spend::draw(frame, body, state);
        } else {
            library::draw(frame, body, state);
        }
        status::draw(frame, areas.status, state, &mut cache.chrome);
        Hints::default()
    };
    cache.chrome.end(&mut hints.keep);
    playground::keys_strip(frame, areas.keys, state);
    overlays::draw(frame, state);
    hints
}
