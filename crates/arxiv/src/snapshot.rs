//! The arXiv metadata snapshot: one JSON object per line, plain or gzip.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;
use paperboy_core::Paper;

use crate::normalize::RawRecord;

/// One line's outcome.
// One record at a time, and nearly every one is a paper: boxing the
// paper would add an allocation per record and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum SnapshotItem {
    Paper(Paper),
    /// A bad record: 1-based line number and why.
    Rejected {
        line: u64,
        reason: String,
    },
}

/// Counts bytes taken from the underlying file, for progress on
/// compressed input too.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Streams records from a snapshot file; never holds more than a line.
pub struct SnapshotReader {
    lines: Box<dyn BufRead + Send>,
    line_no: u64,
    buf: String,
    bytes_read: Arc<AtomicU64>,
    total_bytes: Option<u64>,
    now: DateTime<Utc>,
}

impl SnapshotReader {
    /// Opens a path (`-` is stdin); gzip is detected by its magic bytes.
    pub fn open(path: &Path) -> io::Result<Self> {
        if path.as_os_str() == "-" {
            return Self::from_reader(Box::new(io::stdin()), None);
        }
        let file = File::open(path)?;
        let total = file.metadata().ok().map(|m| m.len());
        Self::from_reader(Box::new(file), total)
    }

    pub fn from_reader(inner: Box<dyn Read + Send>, total_bytes: Option<u64>) -> io::Result<Self> {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let mut raw = BufReader::with_capacity(
            1 << 16,
            Counting {
                inner,
                read: bytes_read.clone(),
            },
        );
        let gz = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let lines: Box<dyn BufRead + Send> = if gz {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(SnapshotReader {
            lines,
            line_no: 0,
            buf: String::new(),
            bytes_read,
            total_bytes,
            now: Utc::now(),
        })
    }

    /// Bytes of the underlying file consumed so far (compressed bytes for gzip).
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.bytes_read.clone()
    }

    pub fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }

    /// The next record, or `None` at the end. IO errors end the stream.
    pub fn next_item(&mut self) -> io::Result<Option<SnapshotItem>> {
        loop {
            self.buf.clear();
            let n = match self.lines.read_line(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    // Not UTF-8: skip to the end of the line and report it.
                    self.line_no += 1;
                    let mut junk = Vec::new();
                    self.lines.read_until(b'\n', &mut junk)?;
                    return Ok(Some(SnapshotItem::Rejected {
                        line: self.line_no,
                        reason: "line is not valid UTF-8".into(),
                    }));
                }
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.buf.trim();
            if line.is_empty() {
                continue;
            }
            let item = match serde_json::from_str::<RawRecord>(line) {
                Err(e) => SnapshotItem::Rejected {
                    line: self.line_no,
                    reason: format!("malformed JSON: {e}"),
                },
                Ok(raw) => match raw.into_paper(self.now) {
                    Ok(p) => SnapshotItem::Paper(p),
                    Err(e) => SnapshotItem::Rejected {
                        line: self.line_no,
                        reason: e.0,
                    },
                },
            };
            return Ok(Some(item));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(data: Vec<u8>) -> Vec<SnapshotItem> {
        let mut r = SnapshotReader::from_reader(Box::new(io::Cursor::new(data)), None).unwrap();
        let mut out = Vec::new();
        while let Some(item) = r.next_item().unwrap() {
            out.push(item);
        }
        out
    }

    const GOOD: &str = r#"{"id":"2203.05482","title":"Model  soups:\n averaging","abstract":"Code: https://github.com/mlfoundations/model-soups.","authors":"A, B","categories":"cs.LG cs.CV","versions":[{"version":"v1","created":"Thu, 10 Mar 2022 18:00:00 GMT"}],"update_date":"2022-03-11"}"#;

    #[test]
    fn good_and_bad_lines_are_told_apart_with_line_numbers() {
        let text = format!(
            "{GOOD}\n{{not json\n\n{}\n{}\n{}\n{}\n",
            r#"{"id":"2203.05483","title":"   "}"#,
            r#"{"id":"12345","title":"x"}"#,
            r#"{"title":"no id"}"#,
            r#"{"id":"2203.05484","title":"t","versions":[{"version":"v1","created":"Mon, 45 Mar 2022 00:00:00 GMT"}]}"#,
        );
        let items = read_all(text.into_bytes());
        assert_eq!(items.len(), 6);
        match &items[0] {
            SnapshotItem::Paper(p) => {
                assert_eq!(p.title, "Model soups: averaging");
                assert_eq!(
                    p.github_repo(),
                    Some("https://github.com/mlfoundations/model-soups")
                );
                assert_eq!(p.categories.len(), 2);
            }
            other => panic!("expected a paper, got {other:?}"),
        }
        let rejected: Vec<(u64, &str)> = items[1..]
            .iter()
            .map(|i| match i {
                SnapshotItem::Rejected { line, reason } => (*line, reason.as_str()),
                SnapshotItem::Paper(p) => panic!("accepted {}", p.id),
            })
            .collect();
        assert_eq!(rejected[0].0, 2);
        assert!(
            rejected[0].1.starts_with("malformed JSON"),
            "{}",
            rejected[0].1
        );
        assert_eq!(rejected[1], (4, "empty title"));
        assert_eq!(rejected[2].0, 5);
        assert!(rejected[2].1.starts_with("invalid id"));
        assert_eq!(rejected[3], (6, "missing id"));
        assert_eq!(rejected[4].0, 7);
        assert!(rejected[4].1.starts_with("impossible date"));
    }

    #[test]
    fn gzip_is_detected() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(enc, "{GOOD}").unwrap();
        let items = read_all(enc.finish().unwrap());
        assert!(matches!(items.as_slice(), [SnapshotItem::Paper(_)]));
    }
}
