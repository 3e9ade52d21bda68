//! The Library pane: prompts from the library folder, searched, run into the
//! playground, tested on several models, with the ledger's figures per version.
//! `state` is what it holds, `keys` what its keys do, `effects` the app's
//! work for it (files, ledger, test runs), `view` how it is drawn.

pub mod effects;
pub mod keys;
pub mod state;
pub mod view;

pub use state::{Form, LibraryPane};
