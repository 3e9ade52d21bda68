//! Datasets: the rows a prompt is tested on, read from a JSONL or CSV file one
//! row at a time (tens of thousands of rows never sit in memory at once). Each
//! row gives values by name: the prompt's variables, and any other column
//! (`expected`, say) for the checks' `{{placeholders}}`. A bad row is an error
//! naming its line; the reader goes on with the next one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One row: the line it starts on (1-based) and its values by column name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub values: BTreeMap<String, String>,
}

/// Why a row was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct RowError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A CSV record: the line it starts on and its fields.
type Record = (usize, Vec<String>);

enum Format {
    Jsonl,
    Csv { header: Vec<String> },
}

/// Rows streamed from a dataset file.
pub struct Rows {
    reader: Box<dyn BufRead + Send>,
    file: String,
    format: Format,
    /// The line the next read starts on.
    line: usize,
    buf: String,
}

/// The dataset `name` as a prompt names it: a path beside the prompt file, or absolute.
pub fn resolve(prompt_dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        prompt_dir.join(p)
    }
}

/// Opens a `.jsonl` (or `.ndjson`) or `.csv` file; a CSV's first record names the columns.
pub fn open(path: &Path) -> Result<Rows, String> {
    let shown = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let file =
        std::fs::File::open(path).map_err(|e| format!("dataset {shown}: cannot open: {e}"))?;
    let reader: Box<dyn BufRead + Send> = Box::new(BufReader::new(file));
    from_reader(reader, &shown, &ext)
}

/// Reads rows of `kind` (`jsonl` or `csv`) from `reader`; `shown` names it in messages.
pub fn from_reader(
    reader: Box<dyn BufRead + Send>,
    shown: &str,
    kind: &str,
) -> Result<Rows, String> {
    let mut rows = Rows {
        reader,
        file: shown.to_string(),
        format: Format::Jsonl,
        line: 1,
        buf: String::new(),
    };
    match kind {
        "jsonl" | "ndjson" => {}
        "csv" => {
            let header = match rows.next_record() {
                Ok(Some((_, fields))) => fields,
                Ok(None) => return Err(format!("dataset {shown}: empty (a CSV needs a header)")),
                Err((_, e)) => return Err(format!("dataset {shown}: header: {e}")),
            };
            let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
            if let Some(bad) = header.iter().find(|h| h.is_empty()) {
                return Err(format!("dataset {shown}: a column has no name ({bad:?})"));
            }
            rows.format = Format::Csv { header };
        }
        other => {
            return Err(format!(
                "dataset {shown}: unknown format {other:?} (use .jsonl or .csv)"
            ));
        }
    }
    Ok(rows)
}

/// About how many rows `path` holds (non-blank lines, less a CSV's header):
/// for a progress line's ETA, read without parsing. 0 when it cannot be read.
pub fn count_rows(path: &Path) -> usize {
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut n: usize = 0;
    while reader.read_until(b'\n', &mut line).is_ok_and(|got| got > 0) {
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            n += 1;
        }
        line.clear();
    }
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if csv { n.saturating_sub(1) } else { n }
}

impl Rows {
    /// Reads one physical line into `buf` (cleared); `false` at the end.
    fn read_line(&mut self) -> Result<bool, String> {
        self.buf.clear();
        // A line longer than this is not a test case: stop reading it whole.
        const MAX_LINE: u64 = 16 * 1024 * 1024;
        let n = (&mut self.reader)
            .take(MAX_LINE)
            .read_line(&mut self.buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        if n as u64 == MAX_LINE && !self.buf.ends_with('\n') {
            return Err("a line over 16 MB".into());
        }
        Ok(n > 0)
    }

    /// The next CSV record (RFC 4180: quoted fields may hold commas, `""` and
    /// line breaks) and the line it starts on.
    fn next_record(&mut self) -> Result<Option<Record>, (usize, String)> {
        loop {
            let start = self.line;
            if !self.read_line().map_err(|e| (start, e))? {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.trim().is_empty() {
                continue;
            }
            let mut fields = Vec::new();
            let mut field = String::new();
            let mut quoted = false;
            let mut text = std::mem::take(&mut self.buf);
            let mut chars: Vec<char> = text.trim_start_matches('\u{feff}').chars().collect();
            let mut i = 0;
            loop {
                if i >= chars.len() {
                    if !quoted {
                        break;
                    }
                    // A quoted field goes on over the next line.
                    if !self.read_line().map_err(|e| (start, e))? {
                        return Err((start, "a quoted field is never closed".into()));
                    }
                    self.line += 1;
                    text = std::mem::take(&mut self.buf);
                    chars = text.chars().collect();
                    i = 0;
                    continue;
                }
                let c = chars[i];
                match (quoted, c) {
                    (true, '"') if chars.get(i + 1) == Some(&'"') => {
                        field.push('"');
                        i += 1;
                    }
                    (true, '"') => quoted = false,
                    (true, c) => field.push(c),
                    (false, '"') if field.is_empty() => quoted = true,
                    (false, ',') => fields.push(std::mem::take(&mut field)),
                    (false, '\r' | '\n') => {}
                    (false, c) => field.push(c),
                }
                i += 1;
            }
            fields.push(field);
            self.buf = text;
            return Ok(Some((start, fields)));
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> RowError {
        RowError {
            file: self.file.clone(),
            line,
            message: message.into(),
        }
    }
}

impl Iterator for Rows {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Format::Csv { header } = &self.format {
            let header = header.clone();
            return match self.next_record() {
                Ok(None) => None,
                Err((line, e)) => {
                    // An unreadable stream ends the dataset; a bad record does not.
                    if e.starts_with("cannot read") {
                        self.reader = Box::new(std::io::empty());
                    }
                    Some(Err(self.error(line, e)))
                }
                Ok(Some((line, fields))) if fields.len() != header.len() => Some(Err(self.error(
                    line,
                    format!("{} fields, the header has {}", fields.len(), header.len()),
                ))),
                Ok(Some((line, fields))) => Some(Ok(Row {
                    line,
                    values: header.into_iter().zip(fields).collect(),
                })),
            };
        }
        loop {
            let line = self.line;
            match self.read_line() {
                Ok(false) => return None,
                Err(e) => {
                    self.reader = Box::new(std::io::empty());
                    return Some(Err(self.error(line, e)));
                }
                Ok(true) => {}
            }
            self.line += 1;
            if self.buf.trim().is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<serde_json::Value>(&self.buf) {
                Err(e) => Err(self.error(line, format!("not JSON: {e}"))),
                Ok(serde_json::Value::Object(map)) => Ok(Row {
                    line,
                    values: map
                        .into_iter()
                        .map(|(k, v)| {
                            let s = match v {
                                serde_json::Value::String(s) => s,
                                serde_json::Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            (k, s)
                        })
                        .collect(),
                }),
                Ok(_) => Err(self.error(line, "not a JSON object")),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(kind: &str, text: &'static str) -> Vec<Result<Row, RowError>> {
        from_reader(Box::new(text.as_bytes()), "d", kind)
            .unwrap()
            .collect()
    }

    #[test]
    fn a_bad_jsonl_row_is_named_by_line_and_the_next_ones_are_read() {
        let got = rows(
            "jsonl",
            "{\"q\":\"a\",\"n\":2}\n\n{oops\n[1]\n{\"q\":\"b\"}\n",
        );
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].as_ref().unwrap().values["n"], "2");
        assert_eq!(got[1].as_ref().unwrap_err().line, 3);
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .starts_with("d line 3: not JSON")
        );
        assert_eq!(got[2].as_ref().unwrap_err().message, "not a JSON object");
        assert_eq!(got[3].as_ref().unwrap().line, 5);
    }

    #[test]
    fn csv_quotes_hold_commas_quotes_and_line_breaks() {
        let got = rows(
            "csv",
            "q,expected\r\n\"a, b\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\nonly-one\nlast,y\n",
        );
        let ok: Vec<&Row> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok[0].values["q"], "a, b");
        assert_eq!(ok[0].values["expected"], "say \"hi\"");
        assert_eq!((ok[1].line, ok[1].values["q"].as_str()), (3, "two\nlines"));
        let bad = got[2].as_ref().unwrap_err();
        assert_eq!(
            (bad.line, bad.message.as_str()),
            (5, "1 fields, the header has 2")
        );
        assert_eq!((ok[2].line, ok[2].values["expected"].as_str()), (6, "y"));
    }

    #[test]
    fn an_unclosed_quote_is_an_error_not_a_hang() {
        let got = rows("csv", "q\n\"never closed\n");
        assert_eq!(got.len(), 1);
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .message
                .contains("never closed")
        );
    }
}
