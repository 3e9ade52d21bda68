//! Evals: prompt tests at scale. Datasets streamed from disk, graders beyond
//! plain assertions (a judge's rubric, embedding similarity, the user's own
//! command), weights and thresholds, repeats and concurrency with a progress
//! line, reports that gate CI, and runs sent through the Batch API at the
//! batch price (left and resumed).

pub mod batch;
pub mod cache;
pub mod dataset;
pub mod export;
pub mod graders;
pub mod progress;
pub mod regress;
pub mod report;
pub mod run;
pub mod store;
