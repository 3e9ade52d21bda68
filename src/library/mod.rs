//! The prompt library: Markdown files with variables under a folder
//! (subfolders are groups), searched instantly, run, versioned and tested.

pub mod assertions;
pub mod compose;
pub mod import;
pub mod prompt;
pub mod search;
pub mod starter;
pub mod testing;

use std::path::{Path, PathBuf};

pub use prompt::{ParseError, Prompt};

/// One file of the library: parsed, or the reason it is not (listed, never overwritten).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the library folder, `/`-separated.
    pub path: String,
    pub prompt: Result<Prompt, ParseError>,
    /// Lower-cased name, tags and description; and body, for search.
    pub haystack: String,
    pub body: String,
}

impl Entry {
    /// The prompt's name, or the file's stem when it does not parse.
    pub fn name(&self) -> &str {
        match &self.prompt {
            Ok(p) => &p.meta.name,
            Err(_) => self
                .path
                .rsplit('/')
                .next()
                .and_then(|f| f.strip_suffix(".md"))
                .unwrap_or(&self.path),
        }
    }

    /// The subfolder it sits in ("" at the top).
    pub fn group(&self) -> &str {
        self.path.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
    }

    fn read(root: &Path, path: &Path) -> Self {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path).map_err(|e| ParseError {
            line: 0,
            message: format!("cannot read: {e}"),
        });
        let prompt = text
            .as_deref()
            .map_err(Clone::clone)
            .and_then(prompt::parse);
        let (haystack, body) = match (&prompt, &text) {
            (Ok(p), Ok(t)) => (p.haystack().to_lowercase(), t.to_lowercase()),
            (_, Ok(t)) => (rel.to_lowercase(), t.to_lowercase()),
            _ => (rel.to_lowercase(), String::new()),
        };
        Self {
            path: rel,
            prompt,
            haystack,
            body,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Library {
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
}

impl Library {
    /// Every `*.md` under `dir` (hidden folders skipped), sorted by path.
    pub fn load(dir: &Path) -> Self {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if e.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                match e.file_type() {
                    Ok(t) if t.is_dir() => stack.push(p),
                    Ok(_) if p.extension().is_some_and(|x| x == "md") => files.push(p),
                    _ => {}
                }
            }
        }
        files.sort();
        Self {
            dir: dir.to_path_buf(),
            entries: files.iter().map(|p| Entry::read(dir, p)).collect(),
        }
    }

    /// The prompt called `name` (its front matter name, or its path without `.md`).
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.prompt.as_ref().is_ok_and(|p| p.meta.name == name))
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| e.path.strip_suffix(".md") == Some(name))
            })
    }

    /// Like `find`, but a prompt that does not parse is its error, and none is a message.
    pub fn get(&self, name: &str) -> Result<&Prompt, String> {
        let entry = self.find(name).ok_or_else(|| {
            format!(
                "no prompt named {name:?} in {} ({} prompts)",
                self.dir.display(),
                self.entries.len()
            )
        })?;
        entry
            .prompt
            .as_ref()
            .map_err(|e| format!("{}/{}: {e}", self.dir.display(), entry.path))
    }

    pub fn path_of(&self, entry: &Entry) -> PathBuf {
        self.dir.join(&entry.path)
    }

    /// Writes a new prompt file `group/name.md`; never replaces one.
    pub fn create(&self, file_name: &str, text: &str) -> Result<PathBuf, String> {
        // Names come from imported files too: a file lands inside the library or nowhere.
        let inside = std::path::Path::new(file_name)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(format!(
                "{file_name:?}: a prompt's file name must stay inside the library"
            ));
        }
        let path = self.dir.join(file_name);
        if path.symlink_metadata().is_ok() {
            return Err(format!("{} already exists", path.display()));
        }
        crate::config::files::write_atomic(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    /// A copy of `entry` under a new name: the file, with its `name =` line changed.
    pub fn duplicate(&self, entry: &Entry, new_name: &str) -> Result<PathBuf, String> {
        let text = std::fs::read_to_string(self.path_of(entry)).map_err(|e| e.to_string())?;
        let file = sibling(&entry.path, new_name);
        self.create(&file, &with_name(&text, new_name))
    }

    /// Renames the prompt and its file, keeping everything else as written.
    pub fn rename(&self, entry: &Entry, new_name: &str) -> Result<PathBuf, String> {
        let new = self.duplicate(entry, new_name)?;
        std::fs::remove_file(self.path_of(entry)).map_err(|e| e.to_string())?;
        Ok(new)
    }

    pub fn delete(&self, entry: &Entry) -> Result<(), String> {
        let path = self.path_of(entry);
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// `group/old.md` → `group/NEW.md`, with the name made file-safe.
fn sibling(path: &str, name: &str) -> String {
    let safe = file_stem(name);
    match path.rsplit_once('/') {
        Some((group, _)) => format!("{group}/{safe}.md"),
        None => format!("{safe}.md"),
    }
}

/// A file name for a prompt name: letters, digits, `-` and `_`.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The file's text with the front matter's `name = ...` line replaced.
fn with_name(text: &str, name: &str) -> String {
    let quoted = toml::Value::String(name.to_string()).to_string();
    let mut done = false;
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        let key = line.trim_start();
        if !done && key.starts_with("name") && key[4..].trim_start().starts_with('=') {
            let end = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            out.push(format!("name = {quoted}{end}"));
            done = true;
        } else {
            out.push(line.to_string());
        }
    }
    out.concat()
}
