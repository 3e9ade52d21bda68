//! The Evals pane: the test runs kept in the evals database (the console's and
//! `llmdeck prompts test`'s), one opened as a matrix of cases × models with
//! pass, score, cost and latency per cell, a summary per model (pass rate, cost
//! per passing answer, p50/p95 latency), and a cell's answers and verdicts.
//! `state` is what it holds, `keys` what its keys do, `effects` the app's work
//! for it (reading runs off the UI thread), `view` how it is drawn.

pub mod effects;
pub mod keys;
pub mod state;
pub mod view;

pub use state::{CaseOrder, EvalsPane, OpenRun};
