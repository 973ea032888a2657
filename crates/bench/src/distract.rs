//! Short, unrelated records that share the field's vocabulary: one-line
//! descriptions of software packages and tools ("A toolkit for fine-tuning
//! large language models with adapters"). Mixed into the seed corpus they
//! test that search does not let short texts that repeat a query's words
//! crowd out real abstracts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const KINDS: &[&str] = &[
    "A library",
    "A toolkit",
    "A framework",
    "A Python package",
    "A command-line tool",
    "Utilities",
    "A minimal implementation",
    "Scripts",
    "A plugin",
    "A benchmark harness",
    "A wrapper",
    "Reference code",
    "A collection of notebooks",
    "An extension",
    "A server",
];
const VERBS: &[&str] = &[
    "fine-tuning",
    "training",
    "evaluating",
    "serving",
    "merging",
    "distilling",
    "quantizing",
    "pruning",
    "benchmarking",
    "deploying",
    "visualizing",
    "debugging",
    "averaging",
    "compressing",
    "adapting",
    "prompting",
    "aligning",
    "scaling",
    "monitoring",
    "tuning",
];
const OBJECTS: &[&str] = &[
    "large language models",
    "pre-trained models",
    "vision transformers",
    "diffusion models",
    "neural networks",
    "language models",
    "model weights",
    "transformer models",
    "embeddings",
    "instruction-tuned models",
    "foundation models",
    "small models",
    "multilingual models",
    "reward models",
    "code models",
    "speech models",
    "sparse models",
    "ensembles of models",
];
const MEANS: &[&str] = &[
    "with adapters",
    "using LoRA",
    "on a single GPU",
    "with low-rank updates",
    "in PyTorch",
    "with mixed precision",
    "across many tasks",
    "for better generalization",
    "for robustness",
    "under distribution shift",
    "with human feedback",
    "with synthetic data",
    "in JAX",
    "with parameter-efficient methods",
    "at scale",
    "without labels",
    "for zero-shot transfer",
    "with weight averaging",
    "with sparsity",
    "from the command line",
];

fn pick<'a>(rng: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

/// Record `i` of a deterministic stream; ids are `2512.5NNNN`.
pub fn record(rng: &mut ChaCha8Rng, i: usize, vocab: &[String]) -> Value {
    let verb = pick(rng, VERBS);
    let object = pick(rng, OBJECTS);
    let mut blurb = format!(
        "{} for {verb} {object} {}",
        pick(rng, KINDS),
        pick(rng, MEANS)
    );
    // Now and then a few words of the field's own vocabulary.
    if !vocab.is_empty() && rng.gen_bool(0.5) {
        let extra: Vec<&str> = (0..rng.gen_range(1..4))
            .map(|_| vocab[rng.gen_range(0..vocab.len())].as_str())
            .collect();
        blurb.push_str(&format!(", supporting {}", extra.join(" ")));
    }
    blurb.push('.');
    let name = format!(
        "{}-{}{}",
        verb.split('-').next().unwrap_or(verb),
        object
            .split(' ')
            .next_back()
            .unwrap_or(object)
            .trim_end_matches('s'),
        ["", "-kit", "-lab", "x", "-py", "-hub"][rng.gen_range(0..6)]
    );
    json!({
        "id": format!("2512.{:05}", 50_000 + i),
        "submitter": null,
        "authors": "Package Maintainers",
        "title": format!("{name}: {blurb}"),
        "comments": null,
        "journal-ref": null,
        "doi": null,
        "report-no": null,
        "categories": "cs.LG",
        "license": null,
        "abstract": blurb,
        "versions": [{"version": "v1", "created": "Mon, 1 Dec 2025 00:00:00 GMT"}],
        "update_date": "2025-12-01",
        "authors_parsed": [["Maintainers", "Package", ""]],
    })
}

pub fn stream(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
