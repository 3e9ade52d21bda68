//! Tools that run: MCP servers (through `rmcp`), the agent loop's approval
//! and step decisions, and the executor that runs approved calls.
//! Knows nothing of the terminal; the console and the command line drive it.

pub mod agent;
pub mod config;
pub mod mcp;
pub mod toolbox;
