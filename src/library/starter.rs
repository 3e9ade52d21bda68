//! A starter set of prompts, written for llmdeck, each with variables and
//! tests: offered when the library is empty and by `llmdeck prompts init`.

use std::path::PathBuf;

use super::Library;

/// (file in the library, text).
pub const STARTER: [(&str, &str); 5] = [
    ("starter/summarize.md", include_str!("starter/summarize.md")),
    (
        "starter/explain-code.md",
        include_str!("starter/explain-code.md"),
    ),
    (
        "starter/commit-message.md",
        include_str!("starter/commit-message.md"),
    ),
    (
        "starter/extract-json.md",
        include_str!("starter/extract-json.md"),
    ),
    (
        "starter/compare-options.md",
        include_str!("starter/compare-options.md"),
    ),
];

/// What `install` did with each starter prompt.
pub struct Installed {
    pub written: Vec<PathBuf>,
    /// Files already there, left as they are (yours now, perhaps edited).
    pub kept: Vec<PathBuf>,
}

/// Writes the starter prompts into `lib`, never over a file that exists.
pub fn install(lib: &Library) -> Result<Installed, String> {
    let mut done = Installed {
        written: Vec::new(),
        kept: Vec::new(),
    };
    for (file, text) in STARTER {
        let path = lib.dir.join(file);
        if path.symlink_metadata().is_ok() {
            done.kept.push(path);
            continue;
        }
        done.written.push(lib.create(file, text)?);
    }
    Ok(done)
}

impl Installed {
    /// One line for the user: how many were added and where.
    pub fn summary(&self, dir: &std::path::Path) -> String {
        let mut s = format!(
            "added {} starter prompts to {}",
            self.written.len(),
            dir.join("starter").display()
        );
        if !self.kept.is_empty() {
            s.push_str(&format!(" ({} already there, kept)", self.kept.len()));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_starter_prompt_parses_with_variables_and_tests() {
        for (file, text) in STARTER {
            let p = crate::library::prompt::parse(text).unwrap_or_else(|e| panic!("{file}: {e:?}"));
            assert!(!p.meta.variables.is_empty(), "{file}");
            assert!(!p.meta.tests.is_empty(), "{file}");
        }
    }
}
