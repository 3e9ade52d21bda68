//! The core of the console: what every room shares and nothing above it is
//! named here. `action` (what a key can ask for, and the places keys are
//! read in), `keymap` (keys to actions, as data), `state` (the skeleton: the
//! panes' and overlays' state side by side), `command` (what an update asks
//! the app to do), `params` (the request parameters as fields), `mcp` (the
//! MCP servers and the agent loop of a conversation, as data). Core names
//! no room except the rooms' `state` modules, which are plain data.

pub mod action;
pub mod command;
pub mod keymap;
pub mod mcp;
pub mod params;
pub mod state;
