//! `paperboy model distill --from DIR --out DIR`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum Opts {
    /// Make a fast static (model2vec-format) model from a sentence transformer.
    Distill(DistillOpts),
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
    }
}
