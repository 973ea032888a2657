//! A BERT-family sentence transformer (all-MiniLM-L6-v2 and its kin) run
//! in-process with candle: mean pooling over the attended tokens, then L2
//! normalisation, as sentence-transformers does for these models.
//!
//! The forward pass is written out here rather than taken from
//! candle-transformers so that it can be shaped for CPU speed: the three
//! attention projections are one matrix product, weights are stored
//! pre-transposed, and a batch is padded only to its own longest text after
//! sorting by length.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::tokenizer::WordPiece;
use crate::{l2_normalize, EmbedError, Embedder};

#[derive(Debug, Clone, Deserialize)]
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

pub struct Transformer {
    config: BertConfig,
    tokenizer: WordPiece,
    word: Tensor,
    position: Tensor,
    token_type0: Tensor,
    emb_norm: Norm,
    layers: Vec<Layer>,
    max_tokens: usize,
    batch: usize,
    name: String,
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
    /// Loads a sentence-transformer directory: `config.json`,
    /// `tokenizer.json` and `model.safetensors`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
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
        let name = format!(
            "{}-transformer",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("model")
        );
        Ok(Transformer {
            word: w.get("embeddings.word_embeddings.weight")?,
            position: w.get("embeddings.position_embeddings.weight")?,
            token_type0: token_type.get(0)?,
            emb_norm: w.norm("embeddings.LayerNorm", eps)?,
            layers,
            tokenizer,
            max_tokens,
            batch: 32,
            name,
            config,
        })
    }

    pub fn tokenizer(&self) -> &WordPiece {
        &self.tokenizer
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
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
            let vecs = self.forward(&batch, normalize)?;
            for (&i, v) in chunk.iter().zip(vecs) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn forward(&self, batch: &[&[u32]], normalize: bool) -> Result<Vec<Vec<f32>>, EmbedError> {
        let b = batch.len();
        let t = batch.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let hidden = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let head_dim = hidden / heads;
        let dev = Device::Cpu;

        let mut ids = vec![self.tokenizer.pad; b * t];
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
        let rows: Vec<Vec<f32>> = pooled.to_dtype(DType::F32)?.to_vec2()?;
        Ok(rows
            .into_iter()
            .map(|mut v| {
                if normalize {
                    l2_normalize(&mut v);
                }
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
