//! llmdeck: a terminal developer console for the OpenAI API and every
//! OpenAI-compatible endpoint. The domain (`chat`, `usage`, `library`,
//! `provider`, `config`) knows nothing of the terminal; `tui` and `cli` are two faces of it.

pub mod chat;
pub mod cli;
mod cmath;
pub mod config;
pub mod context;
pub mod evals;
pub mod inert;
pub mod library;
pub mod log;
pub mod provider;
pub mod rodata;
pub mod runner;
pub mod team;
pub mod tools;
pub mod tui;
pub mod usage;

/// When `main` began, for the start-up benchmark.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
