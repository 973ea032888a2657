//! Sentence embeddings for search by meaning.
//!
//! Two embedders share one [`Embedder`] trait:
//! - [`Transformer`]: a BERT-family sentence transformer (all-MiniLM-L6-v2)
//!   run in-process on quantised integer weights (or in floats with candle,
//!   the reference); the best quality.
//! - [`StaticModel`]: a model2vec-format static model, a table of token
//!   vectors averaged per text; thousands of times cheaper per text.
//!
//! [`distill`] makes the second from the first.

pub mod builtin;
pub mod builtin_transformer;
mod distill;
mod pca;
mod quant;
mod static_model;
mod tokenizer;
mod transformer;

use std::path::{Path, PathBuf};

pub use builtin::Builtin;
pub use builtin_transformer::PackedTransformer;
pub use distill::{distill, DistillOptions, DistillReport};
pub use static_model::StaticModel;
pub use tokenizer::WordPiece;
pub use transformer::{BertConfig, Precision, Transformer};

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Model(String),
    #[error("model computation failed: {0}")]
    Compute(#[from] candle_core::Error),
}

/// Why a model parsed on first use cannot be used, kept so that every
/// later call says the same (the error itself is not `Clone`).
#[derive(Debug, Clone)]
pub(crate) struct Unusable(pub(crate) String);

impl From<&Unusable> for EmbedError {
    fn from(u: &Unusable) -> Self {
        EmbedError::Model(u.0.clone())
    }
}

impl EmbedError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        EmbedError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Turns texts into unit-length vectors whose dot product is their cosine.
pub trait Embedder: Send + Sync {
    /// Names the model; vectors of different names never mix.
    fn name(&self) -> &str;
    fn dim(&self) -> usize;
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self.embed(&[text])?.pop().unwrap_or_default())
    }
}

pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The text of a paper that gets embedded.
pub fn paper_text(title: &str, summary: &str) -> String {
    let mut s = String::with_capacity(title.len() + summary.len() + 2);
    s.push_str(title.trim());
    if !summary.trim().is_empty() {
        s.push_str(". ");
        s.push_str(summary.trim());
    }
    s
}

/// True when `dir` looks like a sentence-transformer directory.
pub fn is_transformer_dir(dir: &Path) -> bool {
    dir.join("config.json").is_file()
        && dir.join("tokenizer.json").is_file()
        && dir.join("model.safetensors").is_file()
        && !StaticModel::is_static_dir(dir)
}
