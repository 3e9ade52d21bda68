//! The console. One room per pane (`playground`, `spend`, `library`), each
//! holding its state, keys, effects and view; one module per popup
//! (`overlays`); a small `core` (state skeleton, places, commands, keymap)
//! that names no room above it. `update` turns terminal events into state
//! changes and commands, `app` runs the loop and carries the commands out,
//! `views` draws a frame. ARCHITECTURE.md at the top has the floor plan.

pub mod app;
pub mod cache;
pub mod clipboard;
pub mod core;
pub mod diff;
pub mod editor;
pub mod evals;
pub mod library;
pub mod memory;
pub mod overlays;
mod pacer;
pub mod playground;
pub mod screen;
pub mod spend;
pub mod terminal;
mod text_keys;
pub mod theme;
pub mod update;
pub mod views;
pub mod widgets;
pub mod wire;
pub mod worker;

/// The panes (a new pane is a variant of `core::state::Pane`, a room and its
/// keys: see ARCHITECTURE.md).
pub use self::core::state::Pane;

// The paths tests and benches name.
pub use self::core::{action, keymap, state};
pub use self::overlays::send_check;
