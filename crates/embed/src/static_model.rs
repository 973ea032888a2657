//! A static embedding model in the model2vec format: `config.json`,
//! `model.safetensors` holding one `embeddings` matrix (a row per token)
//! and `tokenizer.json`. A text's vector is the mean of its tokens' rows
//! (special tokens and unknown pieces left out), normalised when the config
//! says so — what the Python model2vec package computes.

use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

use crate::tokenizer::WordPiece;
use crate::{l2_normalize, EmbedError, Embedder};

/// model2vec's default cap on tokens per text.
const MAX_TOKENS: usize = 512;

#[derive(Deserialize)]
struct StaticConfig {
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default = "yes")]
    normalize: bool,
}

fn yes() -> bool {
    true
}

pub struct StaticModel {
    tokenizer: WordPiece,
    table: Table,
    dim: usize,
    normalize: bool,
    name: String,
}

/// The token rows, `vocab × dim`, row-major.
enum Table {
    F32(Vec<f32>),
    /// Eight bits a weight and a scale a row, as the built-in model is
    /// packed (a quarter of the memory; the sums are the same as over the
    /// rows widened to f32 first).
    I8 {
        codes: Vec<i8>,
        scales: Vec<f32>,
    },
}

impl StaticModel {
    pub fn is_static_dir(dir: &Path) -> bool {
        std::fs::read_to_string(dir.join("config.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<StaticConfig>(&t).ok())
            .and_then(|c| c.model_type)
            .is_some_and(|t| t == "model2vec")
    }

    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let config_path = dir.join("config.json");
        let text =
            std::fs::read_to_string(&config_path).map_err(|e| EmbedError::io(&config_path, e))?;
        let config: StaticConfig = serde_json::from_str(&text)
            .map_err(|e| EmbedError::Model(format!("{}: {e}", config_path.display())))?;
        let tokenizer = WordPiece::from_file(&dir.join("tokenizer.json"))?;
        let weights = dir.join("model.safetensors");
        let tensors = candle_core::safetensors::load(&weights, &candle_core::Device::Cpu)
            .map_err(|e| EmbedError::Model(format!("{}: {e}", weights.display())))?;
        let emb = tensors.get("embeddings").ok_or_else(|| {
            EmbedError::Model(format!("{}: no `embeddings` tensor", weights.display()))
        })?;
        let (rows, dim) = emb.dims2()?;
        if rows < tokenizer.vocab_size() {
            return Err(EmbedError::Model(format!(
                "{}: {rows} rows for a vocabulary of {}",
                weights.display(),
                tokenizer.vocab_size()
            )));
        }
        let table = emb
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let name = format!(
            "{}-static{dim}",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("model")
        );
        Ok(StaticModel {
            tokenizer,
            table: Table::F32(table),
            dim,
            normalize: config.normalize,
            name,
        })
    }

    /// A model from 8-bit rows (`vocab × dim`) and a scale per row.
    pub fn from_quantised(
        tokenizer: WordPiece,
        codes: Vec<i8>,
        scales: Vec<f32>,
        dim: usize,
        normalize: bool,
        name: String,
    ) -> Self {
        debug_assert_eq!(codes.len(), scales.len() * dim);
        StaticModel {
            tokenizer,
            table: Table::I8 { codes, scales },
            dim,
            normalize,
            name,
        }
    }

    /// Renames the model (the name keys the vector index).
    pub fn with_name(mut self, name: String) -> Self {
        self.name = name;
        self
    }

    fn embed_into(&self, text: &str, ids: &mut Vec<u32>, out: &mut [f32]) {
        ids.clear();
        // Truncated before unknown pieces are dropped, as model2vec does.
        self.tokenizer.encode(text, MAX_TOKENS, ids);
        let unk = self.tokenizer.unk();
        out.iter_mut().for_each(|x| *x = 0.0);
        let mut n = 0usize;
        for &id in ids.iter().filter(|&&id| id != unk) {
            let start = id as usize * self.dim;
            match &self.table {
                Table::F32(t) => {
                    let Some(row) = t.get(start..start + self.dim) else {
                        continue;
                    };
                    for (o, r) in out.iter_mut().zip(row) {
                        *o += r;
                    }
                }
                Table::I8 { codes, scales } => {
                    let (Some(row), Some(&s)) =
                        (codes.get(start..start + self.dim), scales.get(id as usize))
                    else {
                        continue;
                    };
                    for (o, &q) in out.iter_mut().zip(row) {
                        *o += f32::from(q) * s;
                    }
                }
            }
            n += 1;
        }
        if n == 0 {
            return;
        }
        if self.normalize {
            l2_normalize(out);
        } else {
            let inv = 1.0 / n as f32;
            out.iter_mut().for_each(|x| *x *= inv);
        }
    }
}

impl Embedder for StaticModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let one = |ids: &mut Vec<u32>, t: &&str| {
            let mut v = vec![0f32; self.dim];
            self.embed_into(t, ids, &mut v);
            v
        };
        if texts.len() < 64 {
            let mut ids = Vec::new();
            return Ok(texts.iter().map(|t| one(&mut ids, t)).collect());
        }
        Ok(texts.par_iter().map_init(Vec::new, one).collect())
    }
}
