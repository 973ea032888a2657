//! Distilling a static model from a sentence transformer, the way model2vec
//! does: every vocabulary token goes through the transformer on its own
//! (`[CLS] token [SEP]`, mean-pooled), the vectors are reduced by PCA, and
//! each row is weighted by how rare its token is, estimated from its rank in
//! the vocabulary with Zipf's law (SIF weighting, a = 1e-4).

use std::path::Path;

use serde_json::json;

use crate::pca;
use crate::transformer::{Precision, Transformer};
use crate::EmbedError;

#[derive(Debug, Clone)]
pub struct DistillOptions {
    /// Dimensions kept by PCA (model2vec's default is 256).
    pub dims: usize,
    pub sif_coefficient: f64,
    /// Tokens per forward pass.
    pub batch: usize,
}

impl Default for DistillOptions {
    fn default() -> Self {
        DistillOptions {
            dims: 256,
            sif_coefficient: 1e-4,
            batch: 512,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DistillReport {
    pub tokens: usize,
    pub dims: usize,
}

/// Writes a model2vec-format model made from the transformer in `from`
/// into `out` (created if needed). `progress(done, total)` is called per batch.
/// The files are written beside the target and renamed into place, so an
/// interrupted run leaves no half-written model.
pub fn distill(
    from: &Path,
    out: &Path,
    opts: &DistillOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<DistillReport, EmbedError> {
    // The float pass: the distilled model must not depend on the integer kernels.
    let model = Transformer::load_with(from, Precision::F32)?.with_batch(opts.batch);
    let tok = model.tokenizer();
    let vocab = tok.vocab_size();
    let hidden = model.config().hidden_size;

    let mut raw = vec![0f32; vocab * hidden];
    let ids: Vec<u32> = (0..vocab as u32).collect();
    let mut done = 0;
    for chunk in ids.chunks(opts.batch * 4) {
        let seqs: Vec<Vec<u32>> = chunk.iter().map(|&id| vec![tok.cls, id, tok.sep]).collect();
        let vecs = model.embed_ids_raw(&seqs)?;
        for (&id, v) in chunk.iter().zip(vecs) {
            raw[id as usize * hidden..(id as usize + 1) * hidden].copy_from_slice(&v);
        }
        done += chunk.len();
        progress(done, vocab);
    }

    let dims = opts.dims.min(hidden);
    let mut table = pca::project(&raw, vocab, hidden, dims);
    // SIF weights from Zipf-estimated token probabilities (rank = id order).
    let harmonic: f64 = (0..vocab).map(|r| 1.0 / (r as f64 + 2.0)).sum();
    for (r, row) in table.chunks_exact_mut(dims).enumerate() {
        let p = (1.0 / (r as f64 + 2.0)) / harmonic;
        let w = (opts.sif_coefficient / (opts.sif_coefficient + p)) as f32;
        row.iter_mut().for_each(|x| *x *= w);
    }

    write_model(from, out, &table, vocab, dims, opts)?;
    Ok(DistillReport {
        tokens: vocab,
        dims,
    })
}

fn write_model(
    from: &Path,
    out: &Path,
    table: &[f32],
    vocab: usize,
    dims: usize,
    opts: &DistillOptions,
) -> Result<(), EmbedError> {
    let parent = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| EmbedError::io(parent, e))?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| EmbedError::io(&staging, e))?;

    let bytes: Vec<u8> = table.iter().flat_map(|x| x.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![vocab, dims], &bytes)
            .map_err(|e| EmbedError::Model(format!("building the embeddings tensor: {e}")))?;
    let st_path = staging.join("model.safetensors");
    safetensors::serialize_to_file([("embeddings", view)], None, &st_path)
        .map_err(|e| EmbedError::Model(format!("{}: {e}", st_path.display())))?;

    // The tokenizer as the transformer had it, minus fixed-length padding
    // and truncation, which make no sense for a static model.
    let tok = crate::tokenizer::without_padding(&from.join("tokenizer.json"))?;
    write_json(&staging.join("tokenizer.json"), &tok)?;
    // The same model packed and quantised, as Paperboy carries it inside
    // the binary (`crates/embed/model/paperboy-static.bin`).
    let compact = serde_json::to_string(&tok).map_err(|e| EmbedError::Model(e.to_string()))?;
    let packed = crate::builtin::pack(table, vocab, dims, true, &compact);
    let packed_path = staging.join(crate::builtin::FILE_NAME);
    std::fs::write(&packed_path, packed).map_err(|e| EmbedError::io(&packed_path, e))?;

    let source = from
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("sentence-transformer");
    let config = json!({
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "tokenizer_name": source,
        "apply_pca": dims,
        "apply_zipf": true,
        "sif_coefficient": opts.sif_coefficient,
        "hidden_dim": dims,
        "seq_length": 1000000,
        "normalize": true,
        "distilled_by": "paperboy model distill",
    });
    write_json(&staging.join("config.json"), &config)?;
    let readme = format!(
        "# Static embeddings distilled from {source}\n\nA model2vec-format model: each of the {vocab} tokens of {source}'s \
vocabulary embedded on its own, reduced by PCA to {dims} dimensions and weighted by estimated token frequency. \
Made by `paperboy model distill`; loads with `model2vec.StaticModel.from_pretrained`.\n"
    );
    let readme_path = staging.join("README.md");
    std::fs::write(&readme_path, readme).map_err(|e| EmbedError::io(&readme_path, e))?;

    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| EmbedError::io(out, e))?;
    }
    std::fs::rename(&staging, out).map_err(|e| EmbedError::io(out, e))?;
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), EmbedError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| EmbedError::Model(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| EmbedError::io(path, e))
}
