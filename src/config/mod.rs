//! Settings, profiles, paths, themes and keymaps: everything read from the config dir.

pub mod files;
pub mod keymap;
pub mod paths;
pub mod profile;
pub mod secret;
pub mod settings;
pub mod theme;

pub use paths::Paths;
pub use profile::{Endpoint, Profile};
pub use secret::Secret;
pub use settings::Settings;
