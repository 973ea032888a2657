"""The reference for `paperboy-bench embed-throughput`: sentence-transformers
on PyTorch (CPU) embedding the same texts in the same batches.

    paperboy-bench embed-throughput --model $M --kind transformer --n 160 \
        --batch 32 --vocab fixtures/seed-papers.jsonl --texts-out /tmp/texts.txt
    python3 scripts/bench/reference-throughput.py $M /tmp/texts.txt 32

Needs `pip install torch sentence-transformers` (kept out of the test
set-up: the tests do not need PyTorch).
"""
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

model_dir, path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = [line.rstrip("\n") for line in open(path, encoding="utf-8")]
model = SentenceTransformer(model_dir, device="cpu")
model.encode(texts[:batch], batch_size=batch)  # warm-up, as the Rust bench does
started = time.perf_counter()
model.encode(texts, batch_size=batch)
secs = time.perf_counter() - started
print(
    f"sentence-transformers {torch.__version__} ({torch.get_num_threads()} threads): "
    f"{len(texts)} texts in batches of {batch}: {secs:.1f}s, {len(texts) / secs:.1f} texts/s"
)
