//! llmdeck's entry point: parse the command line and dispatch.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    llmdeck::cli::run(llmdeck::cli::args::Cli::parse())
}
