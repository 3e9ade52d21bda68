//! The console: app loop, keymap, state, update, views and widgets.

pub mod action;
pub mod app;
pub mod cache;
pub mod clipboard;
pub mod diff;
pub mod editor;
pub mod keymap;
pub mod library;
mod pacer;
pub mod params;
pub mod price_form;
pub mod screen;
pub mod send_check;
pub mod spend;
pub mod spend_update;
pub mod state;
pub mod terminal;
mod text_keys;
pub mod theme;
pub mod update;
mod update_overlays;
pub mod update_tools;
pub mod views;
pub mod widgets;
pub mod worker;
