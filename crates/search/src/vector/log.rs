//! The vector log: an append-only file of checksummed records (upsert,
//! delete, synced change sequence) behind a header naming the model.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use paperboy_core::ArxivId;

use super::io;
use super::rows::Rows;
use crate::SearchError;

const MAGIC: &[u8; 8] = b"PBVEC01\n";
const KIND_UPSERT: u8 = 1;
pub(super) const KIND_DELETE: u8 = 2;
pub(super) const KIND_SEQ: u8 = 3;

pub(super) fn header(model: &str, dim: usize) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&(dim as u32).to_le_bytes());
    h.extend_from_slice(&(model.len() as u16).to_le_bytes());
    h.extend_from_slice(model.as_bytes());
    h
}

pub(super) fn push_id(buf: &mut Vec<u8>, id: &ArxivId) {
    let s = id.to_string();
    buf.push(s.len() as u8);
    buf.extend_from_slice(s.as_bytes());
}

pub(super) fn encode_upsert(
    buf: &mut Vec<u8>,
    id: &ArxivId,
    hash: u64,
    words: u16,
    scale: f32,
    codes: &[i8],
) {
    buf.push(KIND_UPSERT);
    push_id(buf, id);
    buf.extend_from_slice(&hash.to_le_bytes());
    buf.extend_from_slice(&words.to_le_bytes());
    buf.extend_from_slice(&scale.to_le_bytes());
    buf.extend(codes.iter().map(|&c| c as u8));
}

/// `[len u32][checksum u32][body]`.
pub(super) fn write_record(w: &mut impl Write, body: &[u8]) -> std::io::Result<()> {
    w.write_all(&(body.len() as u32).to_le_bytes())?;
    w.write_all(&(xxhash_rust::xxh3::xxh3_64(body) as u32).to_le_bytes())?;
    w.write_all(body)
}

/// Reads the log from `rows.log_len` (or its start) and returns the offset
/// after the last whole record.
pub(super) fn read_log(
    path: &Path,
    model: &str,
    dim: usize,
    rows: &mut Rows,
) -> Result<u64, SearchError> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let meta = file.metadata().map_err(|e| io(path, e))?;
    let total = meta.len();
    rows.log_ino = meta.ino();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut pos;
    if rows.log_len == 0 {
        let mut magic = [0u8; 8];
        if r.read_exact(&mut magic).is_err() {
            return Ok(0);
        }
        if &magic != MAGIC {
            return Err(io(path, "not a Paperboy vector log"));
        }
        let mut b4 = [0u8; 4];
        let mut b2 = [0u8; 2];
        r.read_exact(&mut b4).map_err(|e| io(path, e))?;
        r.read_exact(&mut b2).map_err(|e| io(path, e))?;
        let found_dim = u32::from_le_bytes(b4) as usize;
        let mut name = vec![0u8; u16::from_le_bytes(b2) as usize];
        r.read_exact(&mut name).map_err(|e| io(path, e))?;
        let found = String::from_utf8_lossy(&name).into_owned();
        if found != model || found_dim != dim {
            return Err(SearchError::ModelMismatch {
                path: path.display().to_string(),
                found,
                found_dim,
                want: model.to_string(),
                want_dim: dim,
            });
        }
        pos = 8 + 4 + 2 + name.len() as u64;
        // An upsert takes at least `dim` + 32 bytes: at most this many rows.
        rows.reserve(
            (total.saturating_sub(pos) / (dim as u64 + 32)) as usize,
            dim,
        );
    } else {
        pos = rows.log_len;
        r.seek(SeekFrom::Start(pos)).map_err(|e| io(path, e))?;
    }
    let mut head = [0u8; 8];
    let mut body = Vec::new();
    while pos + 8 <= total {
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let sum = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if pos + 8 + len as u64 > total || len == 0 || len > 1 << 20 {
            break;
        }
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() || xxhash_rust::xxh3::xxh3_64(&body) as u32 != sum {
            break;
        }
        if !apply_record(&body, pos + 8, dim, rows) {
            break;
        }
        pos += 8 + len as u64;
    }
    rows.log_len = pos;
    Ok(pos)
}

/// Applies one record whose body starts at byte `body_at` of the log.
fn apply_record(body: &[u8], body_at: u64, dim: usize, rows: &mut Rows) -> bool {
    let read_id = |b: &[u8]| -> Option<(ArxivId, usize)> {
        let n = *b.get(1)? as usize;
        let s = std::str::from_utf8(b.get(2..2 + n)?).ok()?;
        Some((ArxivId::parse(s).ok()?, 2 + n))
    };
    match body.first() {
        Some(&KIND_UPSERT) => {
            let Some((id, at)) = read_id(body) else {
                return false;
            };
            if body.len() != at + 8 + 2 + 4 + dim {
                return false;
            }
            let hash = u64::from_le_bytes(body[at..at + 8].try_into().unwrap_or_default());
            let words = u16::from_le_bytes([body[at + 8], body[at + 9]]);
            let scale = f32::from_le_bytes(body[at + 10..at + 14].try_into().unwrap_or_default());
            if rows.lookup {
                rows.push_at(id, hash, words, scale, body_at + (at + 14) as u64);
            } else {
                let codes: Vec<i8> = body[at + 14..].iter().map(|&b| b as i8).collect();
                rows.push(id, hash, words, scale, &codes);
            }
            true
        }
        Some(&KIND_DELETE) => {
            let Some((id, _)) = read_id(body) else {
                return false;
            };
            rows.delete(&id);
            true
        }
        Some(&KIND_SEQ) if body.len() == 9 => {
            rows.synced_seq = i64::from_le_bytes(body[1..9].try_into().unwrap_or_default());
            true
        }
        _ => false,
    }
}
