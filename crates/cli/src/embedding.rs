//! From the `model_dir` and `embedder` settings to the embedders Paperboy
//! uses. Two vector indexes serve together: the static model's, which every
//! paper gets at once, and the transformer's, filled in behind it newest
//! papers first (`embedder = "static"` leaves the second out).
//! - nothing set: both models built into the binary (all-MiniLM-L6-v2
//!   distilled to a static model, and quantised), so the best vectors come
//!   with no set-up;
//! - a sentence-transformer directory gives the transformer, and a static
//!   model distilled from it into `<data_dir>/models/` on first use;
//! - a model2vec directory gives the static model (the built-in transformer
//!   fills in behind it).
//!
//! A configured model that cannot be read is named in a warning and the
//! built-in one serves instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use paperboy_embed::{
    Builtin, DistillOptions, Embedder, PackedTransformer, StaticModel, Transformer,
};

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Static,
    Transformer,
}

impl std::str::FromStr for Kind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "static" => Ok(Kind::Static),
            "transformer" => Ok(Kind::Transformer),
            other => anyhow::bail!("embedder `{other}` is neither `static` nor `transformer`"),
        }
    }
}

/// Where the static model distilled from `source` lives.
pub fn distilled_dir(config: &Config, source: &Path) -> PathBuf {
    let mut h = Vec::new();
    for f in ["config.json", "tokenizer.json"] {
        h.extend(std::fs::read(source.join(f)).unwrap_or_default());
    }
    let size = std::fs::metadata(source.join("model.safetensors"))
        .map(|m| m.len())
        .unwrap_or(0);
    h.extend(size.to_le_bytes());
    let tag = xxhash_rust::xxh3::xxh3_64(&h);
    config
        .data_dir
        .join("models")
        .join(format!("static-{:08x}", tag as u32))
}

/// The configured model directory, checked.
fn model_dir(config: &Config) -> anyhow::Result<Option<PathBuf>> {
    let Some(dir) = config.model_dir.clone() else {
        return Ok(None);
    };
    anyhow::ensure!(
        dir.join("config.json").is_file(),
        "model_dir {}: no config.json there (expected a sentence-transformer or model2vec directory)",
        dir.display()
    );
    Ok(Some(dir))
}

/// Loads the embedder of `kind`, distilling the static model first if it
/// is missing: the static one is the built-in model when no `model_dir` is
/// set; the transformer needs `model_dir` (`Ok(None)` without it).
pub fn load(config: &Config, kind: Kind) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    Ok(match configured(config, kind)? {
        Some(e) => Some(e),
        None if kind == Kind::Static => Some(Arc::new(Builtin::new())),
        None => None,
    })
}

/// The embedder `model_dir` configures, `Ok(None)` when it is not set.
fn configured(config: &Config, kind: Kind) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let Some(dir) = model_dir(config)? else {
        return Ok(None);
    };
    if StaticModel::is_static_dir(&dir) {
        anyhow::ensure!(
            kind == Kind::Static,
            "model_dir {} is a static model; the transformer embedder needs a sentence-transformer directory",
            dir.display()
        );
        let m = StaticModel::load(&dir).with_context(|| format!("loading {}", dir.display()))?;
        return Ok(Some(Arc::new(m)));
    }
    match kind {
        Kind::Transformer => {
            let m =
                Transformer::load(&dir).with_context(|| format!("loading {}", dir.display()))?;
            Ok(Some(Arc::new(m)))
        }
        Kind::Static => {
            let out = distilled_dir(config, &dir);
            if !StaticModel::is_static_dir(&out) {
                distill_with_progress(&dir, &out)?;
            }
            let name = out
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("static")
                .to_string();
            let m = StaticModel::load(&out)
                .with_context(|| format!("loading {}", out.display()))?
                .with_name(name);
            Ok(Some(Arc::new(m)))
        }
    }
}

/// The embedder of the vector index every paper has, which answers at
/// once: the static model — built in, or the model2vec model in
/// `model_dir`, or with `embedder = "static"` one distilled from the
/// sentence transformer there (with the transformer filling in behind, its
/// own static model is not needed). The built-in model, with a warning
/// naming the problem, when the configured one cannot be had.
pub fn serving(config: &Config) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let builtin = || -> Arc<dyn Embedder> { Arc::new(Builtin::new()) };
    let kind = config.embedder.parse::<Kind>()?;
    let static_dir = matches!(model_dir(config), Ok(Some(d)) if StaticModel::is_static_dir(&d));
    if kind == Kind::Transformer && !static_dir {
        return Ok(Some(builtin()));
    }
    Ok(Some(match load(config, Kind::Static) {
        Ok(Some(e)) => e,
        Ok(None) => builtin(),
        Err(e) => {
            eprintln!("warning: {e:#}; using the built-in static model instead");
            builtin()
        }
    }))
}

/// The transformer that fills in better vectors behind the serving ones:
/// the one in `model_dir`, or the one built in; `None` with
/// `embedder = "static"`. Loaded now, so that a damaged model is named in a
/// warning at start (the built-in one, or the static vectors alone, serve
/// then).
pub fn refiner(config: &Config) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    if config.embedder.parse::<Kind>()? != Kind::Transformer {
        return Ok(None);
    }
    let builtin = || -> Option<Arc<dyn Embedder>> {
        let m = PackedTransformer::builtin();
        match m.load() {
            Ok(_) => Some(Arc::new(m)),
            Err(e) => {
                eprintln!("warning: {e}; the static vectors serve alone");
                None
            }
        }
    };
    let dir = match model_dir(config) {
        Ok(Some(dir)) if !StaticModel::is_static_dir(&dir) => dir,
        Ok(_) => return Ok(builtin()),
        Err(e) => {
            eprintln!("warning: {e:#}; using the built-in transformer instead");
            return Ok(builtin());
        }
    };
    match Transformer::load(&dir) {
        Ok(m) => Ok(Some(Arc::new(m))),
        Err(e) => {
            eprintln!(
                "warning: loading {}: {e}; using the built-in transformer instead",
                dir.display()
            );
            Ok(builtin())
        }
    }
}

/// The transformer's identity for reading its vectors without running it
/// (a digest run): the built-in one is not parsed until something is
/// embedded. `None` with `embedder = "static"`.
pub fn refiner_unloaded(config: &Config) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    if config.embedder.parse::<Kind>()? != Kind::Transformer {
        return Ok(None);
    }
    match model_dir(config) {
        Ok(Some(dir)) if !StaticModel::is_static_dir(&dir) => refiner(config),
        _ => Ok(Some(Arc::new(PackedTransformer::builtin()))),
    }
}

pub fn distill_with_progress(from: &Path, out: &Path) -> anyhow::Result<()> {
    eprintln!(
        "distilling a static embedding model from {} into {} (once)",
        from.display(),
        out.display()
    );
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("distill [{bar:30}] {pos}/{len} tokens ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let started = std::time::Instant::now();
    let report = paperboy_embed::distill(from, out, &DistillOptions::default(), |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("distilling {}", from.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "distilled {} tokens to {} dimensions in {:.1}s: {}",
        report.tokens,
        report.dims,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
