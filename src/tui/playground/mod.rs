//! The Playground pane: the conversation (transcript), the input box, and
//! the bars around them. `keys` is what its keys do, `effects` the app's work
//! on conversations (open, rename, export…), `view` the screen's layout and
//! bars, `transcript` and `extras` the messages.

pub mod effects;
pub mod extras;
pub mod keys;
pub mod transcript;
pub mod view;
