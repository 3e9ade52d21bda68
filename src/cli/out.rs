//! Everything the command line prints passes here: text that came from
//! outside (model ids, server messages, tool calls, team keys, prompt files)
//! is made inert when the stream is a terminal, and every known secret is
//! scrubbed. Piped output is left as it came (scripts want the bytes), except
//! for the secrets.

use std::io::IsTerminal;

/// `text` as it may be written to a stream that is (or is not) a terminal.
pub fn shown(text: &str, terminal: bool) -> String {
    let scrubbed = crate::log::scrub(text);
    if terminal {
        crate::inert::inert(&scrubbed).into_owned()
    } else {
        scrubbed
    }
}

/// One line on standard output.
pub fn say(text: &str) {
    line(&shown(text, std::io::stdout().is_terminal()));
}

/// One line on standard output, as it is. A reader that went away (`| head`)
/// ends the command quietly, as it ends other tools (128 + SIGPIPE). The
/// signal itself stays ignored: a write to a child that closed its end (a
/// check that never reads the answer, a server that died) is an error to
/// handle there, not the end of llmdeck.
pub fn line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}")
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(141);
    }
}

/// One line on standard error (a terminal too, most of the time). One that
/// cannot be written (the terminal went away) is dropped: `eprintln!` would
/// panic there, at the end of a console that had saved everything.
pub fn warn(text: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        shown(text, std::io::stderr().is_terminal())
    );
}

/// A JSON document on standard output: C1 and bidi characters escaped (the
/// same value, always), secrets scrubbed.
pub fn say_json(value: &impl serde::Serialize, pretty: bool) {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .expect("output serializes");
    line(&crate::inert::json(&crate::log::scrub(&text)));
}

/// `println!` through [`say`].
macro_rules! outln {
    () => { $crate::cli::out::line("") };
    ($($arg:tt)*) => { $crate::cli::out::say(&format!($($arg)*)) };
}

/// `println!` through [`line`]: text made inert already.
macro_rules! rawln {
    ($($arg:tt)*) => { $crate::cli::out::line(&format!($($arg)*)) };
}

/// `eprintln!` through [`warn`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::out::warn(&format!($($arg)*)) };
}

pub(crate) use {errln, outln, rawln};
