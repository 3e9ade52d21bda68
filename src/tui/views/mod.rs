//! A frame: the pane shown (each room's `view`), the status bar every pane
//! shares and the popups over it (`overlays`). The render cache is prepared
//! here, once a frame. Drawing is a function of state: every view takes
//! `&State` and changes nothing in it; the render cache is a memo of pure
//! functions, and what the screen keeps between frames (`memory`) is handed
//! to the views that read and write it, explicitly.

pub mod status;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::cache::RenderCache;
use super::core::state::{Pane, State};
use super::memory::FrameMemory;
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
    cache.prepare(areas.transcript.width.saturating_sub(1), &state.theme);
    // Taken out for the frame so the views get it beside the cache, explicitly.
    let mut memory = std::mem::take(&mut cache.memory);
    let hints = paint_with(frame, &areas, ids, state, cache, &mut memory);
    cache.memory = memory;
    hints
}

fn paint_with(
    frame: &mut Frame,
    areas: &playground::Areas,
    ids: Option<FrameIds>,
    state: &State,
    cache: &mut RenderCache,
    memory: &mut FrameMemory,
) -> Hints {
    let popup = !state.overlays.is_empty();
    memory.chrome.begin(ids, popup, &state.theme.name);
    // The other panes draw their body between the playground's title and status bars.
    let body: Option<fn(&mut Frame, Rect, &State)> = match state.pane {
        Pane::Playground => None,
        Pane::Spend => Some(spend::view::draw),
        Pane::Library => Some(library::view::draw),
        Pane::Evals => Some(crate::tui::evals::view::draw),
    };
    let mut hints = match body {
        None => playground::draw(frame, areas, ids, state, cache, memory),
        Some(draw) => {
            playground::title_bar(frame, areas.title, state, &mut memory.chrome);
            let area = Rect {
                height: areas.keys.y.saturating_sub(areas.transcript.y),
                ..areas.transcript
            };
            draw(frame, area, state);
            status::draw(frame, areas.status, state, &mut memory.chrome);
            Hints::default()
        }
    };
    memory.chrome.end(&mut hints.keep);
    playground::keys_strip(frame, areas.keys, state);
    overlays::draw(frame, state);
    hints
}
