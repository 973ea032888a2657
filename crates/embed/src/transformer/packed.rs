//! The quantised transformer as one file, the form it takes inside the
//! binary: the integers the quantised pass multiplies by, written once by
//! `paperboy model quantize` so that loading is a copy, not a clip search.
//!
//! Layout (little endian):
//! - `PBMINILM1\n`, u32 length and the header (JSON: the BERT config, the
//!   token limit), u32 length and the tokenizer (`tokenizer.json`, compact);
//! - token embeddings: an f32 scale per row, then i8 rows;
//! - position embeddings and token type 0, f32; the embedding norm;
//! - per layer, the four linear layers (query/key/value, attention output,
//!   up, down), each `k`, `n`, an f32 scale and bias per column and the
//!   integer weights `[k][n]` in twelve bits (two in three bytes), then the
//!   layer's two norms (f32 weight and bias);
//! - xxh3-64 of everything before it, so that a damaged file is named as
//!   such instead of giving wrong vectors.

use serde::{Deserialize, Serialize};

use super::{BertConfig, Net, QLayer, QNorm, QuantNet, Transformer, WordTable};
use crate::quant::QLinear;
use crate::tokenizer::WordPiece;
use crate::EmbedError;

const MAGIC: &[u8] = b"PBMINILM1\n";

#[derive(Serialize, Deserialize)]
struct Header {
    config: BertConfig,
    max_tokens: usize,
}

struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u32).to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len());
        self.0.extend_from_slice(b);
    }

    fn floats(&mut self, xs: &[f32]) {
        for x in xs {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    /// Twelve-bit two's complement, two values in three bytes.
    fn twelve(&mut self, q: &[i16]) {
        for pair in q.chunks(2) {
            let a = (pair[0] as u32) & 0xFFF;
            let b = (pair.get(1).copied().unwrap_or(0) as u32) & 0xFFF;
            let v = a | (b << 12);
            self.0.extend_from_slice(&v.to_le_bytes()[..3]);
        }
    }

    fn norm(&mut self, n: &QNorm) {
        self.floats(&n.w);
        self.floats(&n.b);
    }

    fn linear(&mut self, l: &QLinear) {
        let (k, n) = l.shape();
        self.u32(k);
        self.u32(n);
        self.floats(l.scales());
        self.floats(l.bias());
        self.twelve(&l.integers());
    }
}

/// Packs a quantised transformer with the compact `tokenizer` JSON it was
/// loaded with.
pub(super) fn pack(t: &Transformer, tokenizer: &str) -> Result<Vec<u8>, EmbedError> {
    let Net::Quantised(net) = &t.net else {
        return Err(EmbedError::Model(
            "only the quantised pass can be packed".into(),
        ));
    };
    let mut w = Writer(Vec::with_capacity(32 << 20));
    w.0.extend_from_slice(MAGIC);
    let header = Header {
        config: t.config.clone(),
        max_tokens: t.max_tokens,
    };
    let header = serde_json::to_vec(&header).map_err(|e| EmbedError::Model(e.to_string()))?;
    w.bytes(&header);
    w.bytes(tokenizer.as_bytes());
    w.floats(&net.word.scales);
    w.0.extend(net.word.codes.iter().map(|c| *c as u8));
    w.floats(&net.position);
    w.floats(&net.token_type0);
    w.norm(&net.emb_norm);
    for l in &net.layers {
        for lin in [&l.qkv, &l.attn_out, &l.up, &l.down] {
            w.linear(lin);
        }
        w.norm(&l.attn_norm);
        w.norm(&l.out_norm);
    }
    let sum = xxhash_rust::xxh3::xxh3_64(&w.0);
    w.0.extend_from_slice(&sum.to_le_bytes());
    Ok(w.0)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'a str,
}

impl<'a> Reader<'a> {
    fn bad(&self, why: &str) -> EmbedError {
        EmbedError::Model(format!("{}: {why} (at byte {})", self.what, self.at))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], EmbedError> {
        let end = self.at.checked_add(n).ok_or_else(|| self.bad("cut off"))?;
        let b = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| self.bad("cut off"))?;
        self.at = end;
        Ok(b)
    }

    fn u32(&mut self) -> Result<usize, EmbedError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn bytes(&mut self) -> Result<&'a [u8], EmbedError> {
        let n = self.u32()?;
        self.take(n)
    }

    fn floats(&mut self, n: usize) -> Result<Vec<f32>, EmbedError> {
        let len = n
            .checked_mul(4)
            .ok_or_else(|| self.bad("implausible size"))?;
        Ok(self
            .take(len)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn twelve(&mut self, n: usize) -> Result<Vec<i16>, EmbedError> {
        let b = self.take(n.div_ceil(2) * 3)?;
        let mut q = Vec::with_capacity(n + 1);
        for c in b.chunks_exact(3) {
            let v = u32::from(c[0]) | u32::from(c[1]) << 8 | u32::from(c[2]) << 16;
            // Sign-extend each twelve-bit half.
            q.push((((v & 0xFFF) << 4) as u16 as i16) >> 4);
            q.push(((((v >> 12) & 0xFFF) << 4) as u16 as i16) >> 4);
        }
        q.truncate(n);
        Ok(q)
    }

    fn norm(&mut self, dim: usize, eps: f32) -> Result<QNorm, EmbedError> {
        Ok(QNorm {
            w: self.floats(dim)?,
            b: self.floats(dim)?,
            eps,
        })
    }

    fn linear(&mut self, k: usize, n: usize) -> Result<QLinear, EmbedError> {
        let (gk, gn) = (self.u32()?, self.u32()?);
        if (gk, gn) != (k, n) {
            return Err(self.bad(&format!("a {gk}×{gn} layer where {k}×{n} belongs")));
        }
        let scales = self.floats(n)?;
        let bias = self.floats(n)?;
        let q = self.twelve(k * n)?;
        let levels = crate::quant::weight_levels(k) as i16;
        if q.iter().any(|v| v.abs() > levels) {
            return Err(self.bad("weights outside their range"));
        }
        Ok(QLinear::from_integers(k, n, &q, scales, bias))
    }
}

/// The header of a packed model (cheap: no weights read).
pub(super) fn header_dim(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader {
        bytes: bytes.strip_prefix(MAGIC)?,
        at: 0,
        what: "",
    };
    let h: Header = serde_json::from_slice(r.bytes().ok()?).ok()?;
    Some(h.config.hidden_size)
}

/// Reads a packed model; `what` names it in errors.
pub(super) fn unpack(bytes: &[u8], what: &str, name: String) -> Result<Transformer, EmbedError> {
    let body = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| EmbedError::Model(format!("{what}: not a packed transformer")))?;
    let (body, sum) = body
        .split_at_checked(body.len().saturating_sub(8))
        .filter(|(_, s)| s.len() == 8)
        .ok_or_else(|| EmbedError::Model(format!("{what}: cut off")))?;
    let want = u64::from_le_bytes(sum.try_into().unwrap_or_default());
    if xxhash_rust::xxh3::xxh3_64(&bytes[..MAGIC.len() + body.len()]) != want {
        return Err(EmbedError::Model(format!(
            "{what}: damaged (its checksum does not match; cut off or altered)"
        )));
    }
    let mut r = Reader {
        bytes: body,
        at: 0,
        what,
    };
    let header: Header = serde_json::from_slice(r.bytes()?)
        .map_err(|e| EmbedError::Model(format!("{what}: header: {e}")))?;
    let tok = std::str::from_utf8(r.bytes()?)
        .map_err(|_| EmbedError::Model(format!("{what}: the tokenizer is not UTF-8")))?;
    let tokenizer = WordPiece::from_json(tok)?;
    let c = &header.config;
    let (hidden, inner) = (c.hidden_size, c.intermediate_size);
    if hidden == 0
        || hidden > 4096
        || c.num_attention_heads == 0
        || !hidden.is_multiple_of(c.num_attention_heads)
        || !(hidden / c.num_attention_heads).is_multiple_of(8)
        || c.num_hidden_layers > 64
        || inner > 16384
        || c.max_position_embeddings > 8192
    {
        return Err(EmbedError::Model(format!("{what}: implausible dimensions")));
    }
    let vocab = tokenizer.vocab_size();
    let scales = r.floats(vocab)?;
    let codes = r.take(vocab * hidden)?.iter().map(|b| *b as i8).collect();
    let word = WordTable {
        dim: hidden,
        codes,
        scales,
    };
    let position = r.floats(c.max_position_embeddings * hidden)?;
    let token_type0 = r.floats(hidden)?;
    let eps = c.layer_norm_eps as f32;
    let emb_norm = r.norm(hidden, eps)?;
    let mut layers = Vec::with_capacity(c.num_hidden_layers);
    for _ in 0..c.num_hidden_layers {
        let qkv = r.linear(hidden, 3 * hidden)?;
        let attn_out = r.linear(hidden, hidden)?;
        let up = r.linear(hidden, inner)?;
        let down = r.linear(inner, hidden)?;
        layers.push(QLayer {
            qkv,
            attn_out,
            attn_norm: r.norm(hidden, eps)?,
            up,
            down,
            out_norm: r.norm(hidden, eps)?,
        });
    }
    if r.at != body.len() {
        return Err(r.bad("bytes left over"));
    }
    Ok(Transformer {
        config: header.config,
        tokenizer,
        net: Net::Quantised(QuantNet {
            word,
            position,
            token_type0,
            emb_norm,
            layers,
        }),
        max_tokens: header.max_tokens,
        batch: 32,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_bits_round_trip() {
        let q: Vec<i16> = vec![-2047, 2047, 0, -1, 1, 683, -683];
        let mut w = Writer(Vec::new());
        w.twelve(&q);
        assert_eq!(w.0.len(), 12);
        let mut r = Reader {
            bytes: &w.0,
            at: 0,
            what: "t",
        };
        assert_eq!(r.twelve(q.len()).unwrap(), q);
    }
}
