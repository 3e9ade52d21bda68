//! Reading user files with messages that name the file and line, and writing
//! our own files atomically so a crash or a full disk never leaves half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}{line}: {message}")]
    Parse {
        path: PathBuf,
        line: String,
        message: String,
    },
}

/// Reads a file that may be absent: `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, FileError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| FileError::Parse {
                path: path.to_path_buf(),
                line: String::new(),
                message: "not valid UTF-8 text".into(),
            })?;
            // A BOM from a Windows editor is not part of the content.
            Ok(Some(
                text.strip_prefix('\u{feff}').unwrap_or(&text).to_string(),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FileError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parses TOML, turning serde's error into "file:line: message".
pub fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| format!(":{}", line_of(text, span.start)))
            .unwrap_or_default();
        FileError::Parse {
            path: path.to_path_buf(),
            line,
            message: e.message().trim().to_string(),
        }
    })
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A name that may become part of a file name in our folders (a conversation
/// id, a function's name): ASCII letters, digits, `_` and `-`, at most 128.
/// Names read from files others wrote pass through this before any path is made.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Creates `dir` and its missing parents readable by the user alone (0700):
/// what llmdeck keeps is nobody else's to read. Existing folders are left as they are.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens a file of ours for appending: created 0600, and never through a
/// symbolic link (one planted in our folder could point anywhere).
pub fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Readies a SQLite database of ours at `path` before SQLite opens it: its
/// folder 0700, the file created 0600 (SQLite gives its -wal and -shm files
/// the database's mode), and one an older llmdeck left readable closed again.
pub fn private_database(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = create_private_dir(dir);
    }
    let _ = open_private_append(path);
    for file in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(file);
        tighten(Path::new(&p));
    }
    if let Some(dir) = path.parent() {
        tighten(dir);
    }
}

/// Removes what group and others may do with a file or folder of llmdeck's
/// own that an older llmdeck (or a loose umask) left open. Best effort.
pub fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.file_type().is_symlink()
            && meta.permissions().mode() & 0o077 != 0
        {
            let mode = meta.permissions().mode() & 0o700;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced
/// and renamed over the old one: readers see the old file or the new, never half.
/// A new file is readable by the user alone (0600); a replaced one keeps its mode
/// (a prompt the user shared in a team repo). The rename replaces a symbolic
/// link at `path` rather than writing through it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, bytes, false)
}

/// `write_atomic` for a file of llmdeck's own (a conversation, an export, a
/// recording, a draft): 0600 in a 0700 folder, even over one an older llmdeck
/// left readable by others.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, bytes, true)
}

fn write_with(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    if private {
        tighten(dir);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // A temporary file left by a killed run of this pid is ours to replace.
    let _ = std::fs::remove_file(&tmp);
    let kept = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file() && !private)
        .map(|m| m.permissions());
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        // create_new: never opens an existing file or follows a link planted at the name.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        if let Some(permissions) = kept {
            file.set_permissions(permissions)?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_folders_are_private_and_a_save_keeps_the_mode() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("a/b/c.json");
        write_atomic(&file, b"1").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&home.path().join("a")), 0o700);
        assert_eq!(mode(&home.path().join("a/b")), 0o700);
        // A file the user opened up (a prompt shared in a team repo) stays as they set it.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&file, b"2").unwrap();
        assert_eq!(mode(&file), 0o644);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "2");
        // One of llmdeck's own, left open by an older llmdeck, is closed again.
        std::fs::set_permissions(
            home.path().join("a/b"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        write_private(&file, b"3").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&home.path().join("a/b")), 0o700);
    }

    #[test]
    fn a_save_replaces_a_planted_link_instead_of_writing_through_it() {
        let home = tempfile::tempdir().unwrap();
        let outside = home.path().join("outside.json");
        std::fs::write(&outside, "precious").unwrap();
        let dir = home.path().join("data");
        create_private_dir(&dir).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("x.json")).unwrap();
        write_atomic(&dir.join("x.json"), b"ours").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(dir.join("x.json")).unwrap(), "ours");
        // Appends refuse a link outright.
        std::os::unix::fs::symlink(&outside, dir.join("y.journal")).unwrap();
        assert!(open_private_append(&dir.join("y.journal")).is_err());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }

    #[test]
    fn plain_names_hold_no_path() {
        for bad in [
            "",
            "../x",
            "/etc/passwd",
            "a/b",
            "a.b",
            "..",
            "a\\b",
            "x\0",
            "é",
        ] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        assert!(is_plain_name("019a2b3c-1234-7abc-8def-0123456789ab"));
        assert!(is_plain_name("get_weather"));
        assert!(!is_plain_name(&"a".repeat(129)));
    }
}
