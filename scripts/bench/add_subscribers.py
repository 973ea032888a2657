"""Adds N confirmed subscribers with varied preferences, and M papers
published in the last day (so digests have something new), to a Paperboy
SQLite store, for the delivery benchmark. Deterministic for a seed.

usage: python3 scripts/bench/add_subscribers.py DB FRESH_JSONL [--subscribers 100000] [--fresh 20000] [--seed 1]
Then: paperboy import FRESH_JSONL
"""
import argparse
import json
import random
import sqlite3
import time
from datetime import datetime, timedelta, timezone

CATS = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "math.OC", "hep-th", "quant-ph", "cs.IR", "eess.SP", "q-bio.NC"]
QUERIES = ["fine-tuning", "model averaging", "out-of-distribution generalization", "language models", "robustness",
           "instruction tuning", "vision transformers", "reinforcement learning"]
WORDS = ("model models fine-tuning generalization robust training data learning language vision transfer "
         "averaging weights distribution shift instruction tuning large pretrained tasks evaluation method").split()

ap = argparse.ArgumentParser()
ap.add_argument("db")
ap.add_argument("fresh_jsonl")
ap.add_argument("--subscribers", type=int, default=100_000)
ap.add_argument("--fresh", type=int, default=20_000)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = random.Random(a.seed)
now = datetime.now(timezone.utc)
with open(a.fresh_jsonl, "w") as f:
    for i in range(a.fresh):
        t = now - timedelta(minutes=rng.randint(0, 36 * 60))
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize()
        abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 200))) + "."
        cats = " ".join(rng.sample(CATS, rng.randint(1, 3)))
        f.write(json.dumps({"id": f"{now:%y%m}.{80000 + i:05d}", "title": title, "abstract": abstract,
                            "authors": "Ada Lovelace, Alan Turing", "categories": cats,
                            "versions": [{"version": "v1", "created": t.strftime("%a, %d %b %Y %H:%M:%S GMT")}]}) + "\n")
db = sqlite3.connect(a.db)
ts = int(time.time())
rows = []
for i in range(a.subscribers):
    rows.append((f"sub{i}@example.org", "daily" if rng.random() < 0.8 else "weekly",
                 rng.choice([0, 0, 5, 10]), int(rng.random() < 0.3),
                 " ".join(rng.sample(CATS, rng.randint(0, 3))),
                 "\n".join(rng.sample(QUERIES, rng.randint(0, 2))), ts, ts))
with db:
    db.executemany("INSERT OR IGNORE INTO subscribers (email, frequency, trending_top, daily_list, categories, queries, "
                   "confirmed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
print(db.execute("SELECT frequency, count(*) FROM subscribers GROUP BY frequency").fetchall())
