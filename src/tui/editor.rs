//! Editing long text in `$VISUAL` / `$EDITOR` (the console is suspended meanwhile).

use std::path::Path;
use std::process::Command;

/// Opens `text` in the user's editor and returns what they saved.
pub fn edit(scratch_dir: &Path, text: &str) -> Result<String, String> {
    let path = scratch_dir.join(format!("draft-{}.md", std::process::id()));
    // The draft is private, as the conversation it becomes part of.
    crate::config::files::write_private(&path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let status = edit_file(&path);
    let result = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()));
    let _ = std::fs::remove_file(&path);
    status.and(result)
}

/// Runs the editor on `path` itself (a file the user owns).
pub fn edit_file(path: &Path) -> Result<(), String> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".into());
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = Command::new(program)
        .args(parts)
        .arg(path)
        .status()
        .map_err(|e| format!("could not start editor {program:?}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "editor {program:?} exited with {status}; nothing changed"
        ));
    }
    Ok(())
}
