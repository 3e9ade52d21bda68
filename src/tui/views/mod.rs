//! Drawing is a function of state: every view takes `&State` and changes
//! nothing (the render cache is a memo of pure functions, not state).

pub mod overlays;
pub mod playground;
pub mod status;
pub mod transcript;

use ratatui::Frame;

use super::cache::RenderCache;
use super::state::State;

pub fn draw(frame: &mut Frame, state: &State, cache: &mut RenderCache) {
    let areas = playground::layout(frame.area(), state);
    playground::draw(frame, &areas, state, cache);
    overlays::draw(frame, state);
}
