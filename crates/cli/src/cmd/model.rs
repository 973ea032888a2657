//! `paperboy model distill --from DIR --out DIR` and `paperboy model
//! quantize --from DIR --out DIR`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum Opts {
    /// Make a fast static (model2vec-format) model from a sentence transformer.
    Distill(DistillOpts),
    /// Write the quantised transformer that ships inside the binary, byte
    /// for byte, from a sentence-transformer directory.
    Quantize(DistillOpts),
}

#[derive(Debug, Args)]
pub struct DistillOpts {
    /// A sentence-transformer directory (config.json, tokenizer.json, model.safetensors).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Where to write the static model (replaced if it exists).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    match opts {
        Opts::Distill(o) => {
            anyhow::ensure!(
                paperboy_embed::is_transformer_dir(&o.from),
                "{}: not a sentence-transformer directory (needs config.json, tokenizer.json and model.safetensors)",
                o.from.display()
            );
            tokio::task::spawn_blocking(move || {
                crate::embedding::distill_with_progress(&o.from, &o.out)
            })
            .await?
        }
        Opts::Quantize(o) => {
            anyhow::ensure!(
                paperboy_embed::is_transformer_dir(&o.from),
                "{}: not a sentence-transformer directory (needs config.json, tokenizer.json and model.safetensors)",
                o.from.display()
            );
            tokio::task::spawn_blocking(move || quantize(&o.from, &o.out)).await?
        }
    }
}

/// Writes `out/paperboy-minilm.bin` (beside it first, then renamed).
fn quantize(from: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    use paperboy_embed::builtin_transformer::FILE_NAME;
    let started = std::time::Instant::now();
    eprintln!("quantising {}", from.display());
    let bytes = paperboy_embed::Transformer::quantize_dir(from)
        .with_context(|| format!("quantising {}", from.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join(FILE_NAME);
    let staging = out.join(format!(".{FILE_NAME}.partial"));
    std::fs::write(&staging, &bytes).with_context(|| format!("writing {}", staging.display()))?;
    std::fs::rename(&staging, &path).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "quantised {} into {} ({:.1} MB, fingerprint {:016x}) in {:.1}s",
        from.display(),
        path.display(),
        bytes.len() as f64 / 1e6,
        xxhash_rust::xxh3::xxh3_64(&bytes),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
