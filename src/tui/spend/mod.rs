//! The Spend pane: this machine's ledger (or the team database's) by day,
//! model, prompt, profile, tag or status, with drill-down to the requests and
//! the organization's synced figures. `state` is what it holds, `keys` what
//! its keys do, `effects` and `team` the app's work for it, `view` its drawing.

pub mod effects;
pub mod keys;
pub mod state;
pub mod team;
pub mod view;

pub use state::{Drill, Range, Sort, SpendPane};
