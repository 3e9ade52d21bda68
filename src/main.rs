//! llmdeck's entry point: parse the command line and dispatch.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let _ = llmdeck::STARTED.set(std::time::Instant::now());
    llmdeck::cli::run(llmdeck::cli::args::Cli::parse())
}
