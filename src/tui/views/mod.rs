//! A frame: the pane shown (each room's `view`), the bars every pane shares
//! (`chrome`, `status`) and the popups over it (`overlays`). Drawing is a
//! function of state: every view takes `&State` and changes nothing (the
//! render cache is a memo of pure functions, not state).

pub mod chrome;
pub mod status;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::cache::RenderCache;
use super::core::state::{Pane, State};
use super::playground::view as playground;
use super::screen::{FrameIds, Hints};
use super::{library, overlays, spend};

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
    // The other panes draw their body between the playground's title and status bars.
    let body: Option<fn(&mut Frame, Rect, &State)> = match state.pane {
        Pane::Playground => None,
        Pane::Spend => Some(spend::view::draw),
        Pane::Library => Some(library::view::draw),
    };
    let mut hints = match body {
        None => playground::draw(frame, &areas, ids, state, cache),
        Some(draw) => {
            playground::title_bar(frame, areas.title, state, &mut cache.chrome);
            let area = Rect {
                height: areas.keys.y.saturating_sub(areas.transcript.y),
                ..areas.transcript
            };
            draw(frame, area, state);
            status::draw(frame, areas.status, state, &mut cache.chrome);
            Hints::default()
        }
    };
    cache.chrome.end(&mut hints.keep);
    playground::keys_strip(frame, areas.keys, state);
    overlays::draw(frame, state);
    hints
}
