//! A BERT-family sentence transformer (all-MiniLM-L6-v2 and its kin) run
//! in-process with candle: mean pooling over the attended tokens, then L2
//! normalisation, as sentence-transformers does for these models.
//!
//! Two forward passes share the loading and tokenising:
//! - [`Precision::Quantised`], the default: weights rounded to integers per
//!   output column, activations per row, products in integers by the
//!   kernels in `quant.rs`, over unpadded sequences (every token of a batch
//!   in one matrix, attention per sequence). Its vectors stay within cosine
//!   0.9999 of the reference.
//! - [`Precision::F32`], the reference, written out with candle (the three
//!   attention projections one matrix product, weights pre-transposed, a
//!   batch padded only to its own longest text). Distillation uses it, so
//!   the built-in static model stays byte-for-byte reproducible.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

mod packed;

use crate::quant::{self, Post, QLinear};
use crate::tokenizer::WordPiece;
use crate::{l2_normalize, EmbedError, Embedder};

/// Which forward pass a [`Transformer`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Integer weights (±683 to ±2047 levels) and 12-bit activations,
    /// integer products (the default).
    Quantised,
    /// The float reference pass.
    F32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BertConfig {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub hidden_act: Option<String>,
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_eps() -> f64 {
    1e-12
}

#[derive(Deserialize, Default)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

struct Linear {
    /// `[in, out]`, contiguous.
    w: Tensor,
    b: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.w)?.broadcast_add(&self.b)
    }
}

struct Norm {
    w: Tensor,
    b: Tensor,
    eps: f32,
}

impl Norm {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.w, &self.b, self.eps)
    }
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// The float reference network.
struct FloatNet {
    word: Tensor,
    position: Tensor,
    token_type0: Tensor,
    emb_norm: Norm,
    layers: Vec<Layer>,
}

/// Token embeddings, a row per token of the vocabulary.
struct WordTable {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl WordTable {
    fn from_floats(rows: &[f32], dim: usize) -> Self {
        let mut codes = Vec::with_capacity(rows.len());
        let mut scales = Vec::with_capacity(rows.len() / dim.max(1));
        for row in rows.chunks_exact(dim) {
            let amax = row.iter().fold(0f32, |m, x| m.max(x.abs()));
            let s = if amax > 0.0 { amax / 127.0 } else { 1.0 };
            scales.push(s);
            codes.extend(
                row.iter()
                    .map(|x| (x / s).round().clamp(-127.0, 127.0) as i8),
            );
        }
        WordTable { dim, codes, scales }
    }

    fn vocab(&self) -> usize {
        self.scales.len()
    }

    /// Row `id`, as codes and their scale.
    fn row(&self, id: usize) -> (&[i8], f32) {
        (
            &self.codes[id * self.dim..(id + 1) * self.dim],
            self.scales[id],
        )
    }
}

struct QNorm {
    w: Vec<f32>,
    b: Vec<f32>,
    eps: f32,
}

struct QLayer {
    qkv: QLinear,
    attn_out: QLinear,
    attn_norm: QNorm,
    up: QLinear,
    down: QLinear,
    out_norm: QNorm,
}

/// The quantised network: token embeddings in eight bits a weight with a
/// scale a row (they are summed with the position's and normalised at
/// once, so the rounding vanishes in the norm), the rest in floats.
struct QuantNet {
    word: WordTable,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_norm: QNorm,
    layers: Vec<QLayer>,
}

enum Net {
    F32(FloatNet),
    Quantised(QuantNet),
}

pub struct Transformer {
    config: BertConfig,
    tokenizer: WordPiece,
    net: Net,
    max_tokens: usize,
    batch: usize,
    name: String,
}

fn floats(t: &Tensor) -> Result<Vec<f32>, EmbedError> {
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

impl Linear {
    fn quantised(&self) -> Result<QLinear, EmbedError> {
        let (k, n) = self.w.dims2()?;
        Ok(QLinear::new(&floats(&self.w)?, k, n, floats(&self.b)?))
    }
}

impl Norm {
    fn floats(&self) -> Result<QNorm, EmbedError> {
        Ok(QNorm {
            w: floats(&self.w)?,
            b: floats(&self.b)?,
            eps: self.eps,
        })
    }
}

struct Weights {
    tensors: std::collections::HashMap<String, Tensor>,
    prefix: String,
}

impl Weights {
    fn get(&self, name: &str) -> Result<Tensor, EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let t = self
            .tensors
            .get(&full)
            .ok_or_else(|| EmbedError::Model(format!("the model has no tensor `{full}`")))?;
        Ok(t.to_dtype(DType::F32)?)
    }

    fn linear(&self, name: &str) -> Result<Linear, EmbedError> {
        let w = self.get(&format!("{name}.weight"))?;
        Ok(Linear {
            w: w.t()?.contiguous()?,
            b: self.get(&format!("{name}.bias"))?,
        })
    }

    fn norm(&self, name: &str, eps: f64) -> Result<Norm, EmbedError> {
        Ok(Norm {
            w: self.get(&format!("{name}.weight"))?,
            b: self.get(&format!("{name}.bias"))?,
            eps: eps as f32,
        })
    }
}

impl Transformer {
    /// Loads a sentence-transformer directory (`config.json`,
    /// `tokenizer.json` and `model.safetensors`) for the quantised pass.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        Self::load_with(dir, Precision::Quantised)
    }

    pub fn load_with(dir: &Path, precision: Precision) -> Result<Self, EmbedError> {
        let config_path = dir.join("config.json");
        let text =
            std::fs::read_to_string(&config_path).map_err(|e| EmbedError::io(&config_path, e))?;
        let config: BertConfig = serde_json::from_str(&text)
            .map_err(|e| EmbedError::Model(format!("{}: {e}", config_path.display())))?;
        if let Some(t) = &config.model_type {
            if t != "bert" {
                return Err(EmbedError::Model(format!(
                    "{}: model_type `{t}` is not supported (only BERT-family sentence transformers)",
                    config_path.display()
                )));
            }
        }
        let tokenizer = WordPiece::from_file(&dir.join("tokenizer.json"))?;
        let st: SentenceBertConfig = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let max_tokens = st
            .max_seq_length
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);

        let weights_path = dir.join("model.safetensors");
        if !weights_path.exists() {
            return Err(EmbedError::Model(format!(
                "{} is missing",
                weights_path.display()
            )));
        }
        let tensors = candle_core::safetensors::load(&weights_path, &Device::Cpu)
            .map_err(|e| EmbedError::Model(format!("{}: {e}", weights_path.display())))?;
        let prefix = if tensors.contains_key("embeddings.word_embeddings.weight") {
            String::new()
        } else {
            "bert.".to_string()
        };
        let w = Weights { tensors, prefix };
        let eps = config.layer_norm_eps;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let q = w.linear(&format!("{p}.attention.self.query"))?;
            let k = w.linear(&format!("{p}.attention.self.key"))?;
            let v = w.linear(&format!("{p}.attention.self.value"))?;
            let qkv = Linear {
                w: Tensor::cat(&[&q.w, &k.w, &v.w], 1)?.contiguous()?,
                b: Tensor::cat(&[&q.b, &k.b, &v.b], 0)?,
            };
            layers.push(Layer {
                qkv,
                attn_out: w.linear(&format!("{p}.attention.output.dense"))?,
                attn_norm: w.norm(&format!("{p}.attention.output.LayerNorm"), eps)?,
                up: w.linear(&format!("{p}.intermediate.dense"))?,
                down: w.linear(&format!("{p}.output.dense"))?,
                out_norm: w.norm(&format!("{p}.output.LayerNorm"), eps)?,
            });
        }
        let token_type = w.get("embeddings.token_type_embeddings.weight")?;
        // Both passes give vectors of one model (cosine ≥ 0.999), so they
        // share its name and may sit in one index.
        let name = format!(
            "{}-transformer",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("model")
        );
        let float = FloatNet {
            word: w.get("embeddings.word_embeddings.weight")?,
            position: w.get("embeddings.position_embeddings.weight")?,
            token_type0: token_type.get(0)?,
            emb_norm: w.norm("embeddings.LayerNorm", eps)?,
            layers,
        };
        let net = match precision {
            Precision::F32 => Net::F32(float),
            // The attention kernel works in blocks of eight dimensions
            // (every BERT we know has heads of 32 or 64).
            Precision::Quantised
                if !(config.hidden_size / config.num_attention_heads).is_multiple_of(8) =>
            {
                tracing::warn!(
                    "{}: heads of {} dimensions; using the float pass",
                    dir.display(),
                    config.hidden_size / config.num_attention_heads
                );
                Net::F32(float)
            }
            Precision::Quantised => Net::Quantised(QuantNet::from_float(&float)?),
        };
        Ok(Transformer {
            net,
            tokenizer,
            max_tokens,
            batch: 32,
            name,
            config,
        })
    }

    /// The quantised model of a sentence-transformer directory in the
    /// packed form the binary carries (`paperboy model quantize`): the same
    /// bytes from the same directory, every time.
    pub fn quantize_dir(dir: &Path) -> Result<Vec<u8>, EmbedError> {
        let model = Self::load_with(dir, Precision::Quantised)?;
        let tokenizer = crate::tokenizer::compact_json(&dir.join("tokenizer.json"))?;
        packed::pack(&model, &tokenizer)
    }

    /// A model packed by [`Self::quantize_dir`]; `what` names the bytes in
    /// errors.
    pub fn from_packed(bytes: &[u8], what: &str, name: String) -> Result<Self, EmbedError> {
        packed::unpack(bytes, what, name)
    }

    /// The width of a packed model's vectors, read from its header alone.
    pub fn packed_dim(bytes: &[u8]) -> Option<usize> {
        packed::header_dim(bytes)
    }

    pub fn tokenizer(&self) -> &WordPiece {
        &self.tokenizer
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    pub fn precision(&self) -> Precision {
        match self.net {
            Net::F32(_) => Precision::F32,
            Net::Quantised(_) => Precision::Quantised,
        }
    }

    /// How many texts go through the network at once.
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// `[CLS] text [SEP]`, truncated as sentence-transformers truncates.
    pub fn encode_ids(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::with_capacity(64);
        ids.push(self.tokenizer.cls);
        // `encode` counts the `[CLS]` already in `ids` against its limit.
        self.tokenizer
            .encode(text, self.max_tokens.saturating_sub(1), &mut ids);
        ids.push(self.tokenizer.sep);
        ids
    }

    /// Embeds sequences of token ids (with their special tokens).
    pub fn embed_ids(&self, seqs: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(seqs, true)
    }

    /// Mean-pooled outputs without the final normalisation (distillation
    /// reduces these with PCA).
    pub fn embed_ids_raw(&self, seqs: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(seqs, false)
    }

    fn run(&self, seqs: &[Vec<u32>], normalize: bool) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..seqs.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(seqs[i].len()));
        let mut out = vec![Vec::new(); seqs.len()];
        for chunk in order.chunks(self.batch) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| seqs[i].as_slice()).collect();
            let vecs = match &self.net {
                Net::F32(net) => net.forward(&self.config, self.tokenizer.pad, &batch)?,
                Net::Quantised(net) => net.forward(&self.config, &batch)?,
            };
            let vecs = vecs.into_iter().map(|mut v| {
                if normalize {
                    l2_normalize(&mut v);
                }
                v
            });
            for (&i, v) in chunk.iter().zip(vecs) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

impl FloatNet {
    /// Mean-pooled, not yet normalised, outputs of one batch.
    fn forward(
        &self,
        config: &BertConfig,
        pad: u32,
        batch: &[&[u32]],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let b = batch.len();
        let t = batch.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let hidden = config.hidden_size;
        let heads = config.num_attention_heads;
        let head_dim = hidden / heads;
        let dev = Device::Cpu;

        let mut ids = vec![pad; b * t];
        let mut mask = vec![0f32; b * t];
        let mut bias = vec![-1e9f32; b * t];
        for (r, s) in batch.iter().enumerate() {
            for (c, &id) in s.iter().enumerate() {
                ids[r * t + c] = id;
                mask[r * t + c] = 1.0;
                bias[r * t + c] = 0.0;
            }
        }
        let ids = Tensor::from_vec(ids, b * t, &dev)?;
        let bias = Tensor::from_vec(bias, (b, 1, 1, t), &dev)?;

        let x = self.word.index_select(&ids, 0)?.reshape((b, t, hidden))?;
        let pos = self.position.narrow(0, 0, t)?;
        let x = x.broadcast_add(&pos)?.broadcast_add(&self.token_type0)?;
        let mut x = self.emb_norm.forward(&x)?.reshape((b * t, hidden))?;
        let scale = 1.0 / (head_dim as f64).sqrt();

        for layer in &self.layers {
            let qkv = layer
                .qkv
                .forward(&x)?
                .reshape((b, t, 3, heads, head_dim))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let q = (qkv.get(0)? * scale)?;
            let k = qkv.get(1)?;
            let v = qkv.get(2)?;
            let scores = q.matmul(&k.t()?)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b * t, hidden))?;
            let attn = layer.attn_out.forward(&ctx)?;
            x = layer.attn_norm.forward(&(attn + &x)?)?;
            let up = layer.up.forward(&x)?.gelu_erf()?;
            let down = layer.down.forward(&up)?;
            x = layer.out_norm.forward(&(down + &x)?)?;
        }

        let states = x.reshape((b, t, hidden))?;
        let mask_t = Tensor::from_vec(mask, (b, t, 1), &dev)?;
        let summed = states.broadcast_mul(&mask_t)?.sum(1)?;
        let counts = mask_t.sum(1)?.clamp(1.0, f64::MAX)?;
        let pooled = summed.broadcast_div(&counts)?;
        Ok(pooled.to_dtype(DType::F32)?.to_vec2()?)
    }
}

impl QuantNet {
    fn from_float(f: &FloatNet) -> Result<Self, EmbedError> {
        let layers = f
            .layers
            .iter()
            .map(|l| {
                Ok(QLayer {
                    qkv: l.qkv.quantised()?,
                    attn_out: l.attn_out.quantised()?,
                    attn_norm: l.attn_norm.floats()?,
                    up: l.up.quantised()?,
                    down: l.down.quantised()?,
                    out_norm: l.out_norm.floats()?,
                })
            })
            .collect::<Result<Vec<_>, EmbedError>>()?;
        Ok(QuantNet {
            word: WordTable::from_floats(&floats(&f.word)?, f.word.dims2()?.1),
            position: floats(&f.position)?,
            token_type0: floats(&f.token_type0)?,
            emb_norm: f.emb_norm.floats()?,
            layers,
        })
    }

    /// Mean-pooled, not yet normalised, outputs of one batch. Every token
    /// of the batch is one row of one matrix; nothing is padded.
    fn forward(&self, config: &BertConfig, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let hidden = config.hidden_size;
        let mut spans = Vec::with_capacity(batch.len());
        let mut rows = 0;
        for s in batch {
            spans.push((rows, s.len()));
            rows += s.len();
        }
        let mut x = vec![0f32; rows * hidden];
        for (s, &(start, _)) in batch.iter().zip(&spans) {
            for (pos, &id) in s.iter().enumerate() {
                let id = id as usize;
                if id >= self.word.vocab() || (pos + 1) * hidden > self.position.len() {
                    return Err(EmbedError::Model(format!(
                        "token {id} at position {pos} is outside the model"
                    )));
                }
                let dst = &mut x[(start + pos) * hidden..(start + pos + 1) * hidden];
                let (word, scale) = self.word.row(id);
                let place = &self.position[pos * hidden..(pos + 1) * hidden];
                for (((d, w), p), t) in dst.iter_mut().zip(word).zip(place).zip(&self.token_type0) {
                    *d = f32::from(*w) * scale + p + t;
                }
            }
        }
        let norm = |x: &mut [f32], n: &QNorm| quant::layer_norm(x, &n.w, &n.b, n.eps);
        norm(&mut x, &self.emb_norm);
        let mut qkv = vec![0f32; rows * 3 * hidden];
        let mut ctx = vec![0f32; rows * hidden];
        let mut next = vec![0f32; rows * hidden];
        for layer in &self.layers {
            layer.qkv.forward(&x, rows, &mut qkv, Post::None);
            quant::attention(&qkv, &spans, config.num_attention_heads, hidden, &mut ctx);
            layer.attn_out.forward(&ctx, rows, &mut next, Post::Add(&x));
            norm(&mut next, &layer.attn_norm);
            std::mem::swap(&mut x, &mut next);
            quant::feed_forward(&layer.up, &layer.down, &x, rows, &mut next);
            norm(&mut next, &layer.out_norm);
            std::mem::swap(&mut x, &mut next);
        }
        Ok(spans
            .iter()
            .map(|&(start, len)| {
                let mut v = vec![0f32; hidden];
                for row in x[start * hidden..(start + len) * hidden].chunks(hidden) {
                    v.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
                let n = len.max(1) as f32;
                v.iter_mut().for_each(|a| *a /= n);
                v
            })
            .collect())
    }
}

impl Embedder for Transformer {
    fn name(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.config.hidden_size
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let seqs: Vec<Vec<u32>> = texts.iter().map(|t| self.encode_ids(t)).collect();
        self.embed_ids(&seqs)
    }
}
