//! A server-sent events parser fed with arbitrary byte chunks. Our own rather
//! than a crate's so that every fault is reported: invalid UTF-8 and oversized
//! lines or events are errors, comments and keep-alives are skipped, nothing
//! is dropped silently. What it holds never passes its two caps.

use super::limits::{MAX_EVENT_BYTES, MAX_STREAM_BYTES};

/// One dispatched event: the `event:` name (if any) and its joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("invalid UTF-8 in stream line")]
    InvalidUtf8,
    #[error("stream line longer than {0} bytes")]
    LineTooLong(usize),
    /// `data:` lines joined without the blank line that ends an event.
    #[error("stream event longer than {0} bytes")]
    EventTooLong(usize),
    #[error("stream longer than {0} bytes")]
    StreamTooLong(usize),
}

#[derive(Debug)]
pub struct SseParser {
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned for a line end.
    scanned: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Cap of one line and of one event's joined data.
    max_event: usize,
    /// Cap of everything pushed.
    max_total: usize,
    total: usize,
    /// A lone CR ended the last line; a following LF belongs to it.
    pending_cr: bool,
    /// A fault found after some events of the same push: reported once they are handled.
    error: Option<SseError>,
    /// No line read yet: the stream's first line may start with a byte-order mark.
    at_start: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new(MAX_EVENT_BYTES, MAX_STREAM_BYTES)
    }
}

impl SseParser {
    pub fn new(max_event: usize, max_total: usize) -> Self {
        Self {
            buf: Vec::new(),
            scanned: 0,
            event: None,
            data: String::new(),
            has_data: false,
            max_event,
            max_total,
            total: 0,
            pending_cr: false,
            error: None,
            at_start: true,
        }
    }

    /// Bytes held between pushes: never more than twice the event cap.
    pub fn held(&self) -> usize {
        self.buf.len() + self.data.len()
    }

    /// The fault that ended the last push after it had yielded events, if any.
    /// Callers handle the events first (so no text before a fault is lost), then this.
    pub fn take_error(&mut self) -> Option<SseError> {
        self.error.take()
    }

    /// Feeds bytes; returns the events completed by them. A fault with no event
    /// before it is an `Err`; one after some events waits in `take_error`.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        let scanned = self.scan(bytes, &mut out);
        if scanned.is_err() {
            // The stream is over: hold nothing more of it.
            (self.buf, self.data, self.scanned) = (Vec::new(), String::new(), 0);
        }
        match scanned {
            Err(e) if out.is_empty() => Err(e),
            Err(e) => {
                self.error = Some(e);
                Ok(out)
            }
            Ok(()) => Ok(out),
        }
    }

    fn scan(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.total = self.total.saturating_add(bytes.len());
        if self.total > self.max_total {
            return Err(SseError::StreamTooLong(self.max_total));
        }
        if self.pending_cr && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        self.pending_cr = false;
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let mut i = self.scanned;
        while i < self.buf.len() {
            let b = self.buf[i];
            if b == b'\n' || b == b'\r' {
                let line_end = i;
                let mut next = i + 1;
                if b == b'\r' {
                    if next < self.buf.len() {
                        if self.buf[next] == b'\n' {
                            next += 1;
                        }
                    } else {
                        self.pending_cr = true;
                    }
                }
                let line = std::str::from_utf8(&self.buf[start..line_end])
                    .map_err(|_| SseError::InvalidUtf8)?
                    .to_string();
                if let Some(ev) = self.line(&line)? {
                    out.push(ev);
                }
                start = next;
                i = next;
            } else {
                i += 1;
            }
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > self.max_event {
            return Err(SseError::LineTooLong(self.max_event));
        }
        Ok(())
    }

    /// Called at the end of the body: a final event without its blank line still counts.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if !self.buf.is_empty() {
            let line = std::str::from_utf8(&self.buf)
                .map_err(|_| SseError::InvalidUtf8)?
                .to_string();
            self.buf.clear();
            self.scanned = 0;
            if let Some(ev) = self.line(&line)? {
                return Ok(Some(ev));
            }
        }
        Ok(self.dispatch())
    }

    fn line(&mut self, line: &str) -> Result<Option<SseEvent>, SseError> {
        // The spec strips one UTF-8 BOM at the start of the stream; kept, it
        // would hide the first field's name and lose the first event.
        let line = if std::mem::take(&mut self.at_start) {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None); // comment / keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    return Err(SseError::EventTooLong(self.max_event));
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {} // id, retry and unknown fields carry nothing we use
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(parts: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for part in parts {
            out.extend(p.push(part).unwrap());
        }
        out.extend(p.finish().unwrap());
        out
    }

    #[test]
    fn events_split_anywhere_are_the_same() {
        let stream =
            b"event: a\r\ndata: one\r\n\r\n: keep-alive\n\ndata: two\ndata: lines\n\ndata: last";
        let whole = all(&[stream]);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].event.as_deref(), Some("a"));
        assert_eq!(whole[1].data, "two\nlines");
        assert_eq!(whole[2].data, "last");
        for cut in 0..stream.len() {
            assert_eq!(
                all(&[&stream[..cut], &stream[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn events_before_a_fault_are_kept() {
        let mut p = SseParser::default();
        let events = p.push(b"data: one\n\ndata: \xff\n\n").unwrap();
        assert_eq!(events[0].data, "one");
        assert_eq!(p.take_error(), Some(SseError::InvalidUtf8));
    }

    #[test]
    fn invalid_utf8_and_long_lines_are_errors() {
        let mut p = SseParser::default();
        assert_eq!(p.push(b"data: \xff\xfe\n"), Err(SseError::InvalidUtf8));
        let mut p = SseParser::new(8, 100);
        assert_eq!(p.push(b"data: 0123456789"), Err(SseError::LineTooLong(8)));
    }

    #[test]
    fn an_event_and_a_stream_stop_at_their_caps() {
        let mut p = SseParser::new(12, 1000);
        assert_eq!(p.push(b"data: 12345\ndata: 67890\n").unwrap(), []);
        assert_eq!(p.push(b"data: x\n"), Err(SseError::EventTooLong(12)));
        let mut p = SseParser::new(16, 20);
        assert_eq!(p.push(b"data: 1\n\n").unwrap().len(), 1);
        assert_eq!(
            p.push(b"data: 2\n\ndata: 3\n\n"),
            Err(SseError::StreamTooLong(20))
        );
    }
}
