//! Running llmdeck as a team member: a home with a `[team]` section, the
//! database URL in the environment.

use std::path::Path;
use std::process::{Command, Output};

/// A home whose config names `member` and reads the URL from `LLMDECK_TEAM_DATABASE_URL`.
pub fn home(member: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config/config.toml"),
        format!("[demo]\ntokens_per_second = 0\n\n[team]\ndatabase_url_env = \"LLMDECK_TEAM_DATABASE_URL\"\nmember = \"{member}\"\n"),
    )
    .unwrap();
    home
}

/// llmdeck with that home and URL, nothing else from the environment but PATH.
pub fn run(home: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llmdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LLMDECK_HOME", home)
        .env("LLMDECK_TEAM_DATABASE_URL", url)
        .args(args)
        .output()
        .unwrap()
}

/// Its stdout and stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
