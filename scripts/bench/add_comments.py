"""Adds members with API tokens and a discussion load to a Paperboy SQLite
store, for the discussion benchmark: COMMENTS comments (a quarter of them
replies) on PAPERS papers, HOT of which carry exactly 100 comments (their
ids go to hot-ids.txt). Members are a month old (no new-account limits);
their tokens go to tokens.txt, one per line. Deterministic for a seed.

usage: python3 scripts/bench/add_comments.py DB [--users 2000] [--papers 20000]
       [--comments 200000] [--hot 100] [--seed 1] [--out DIR]
"""
import argparse
import hashlib
import html
import os
import random
import sqlite3
import time

ap = argparse.ArgumentParser()
ap.add_argument("db")
ap.add_argument("--users", type=int, default=2000)
ap.add_argument("--papers", type=int, default=20_000)
ap.add_argument("--comments", type=int, default=200_000)
ap.add_argument("--hot", type=int, default=100)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--out", default=".")
a = ap.parse_args()
rng = random.Random(a.seed)
db = sqlite3.connect(a.db)
now = int(time.time())
month_ago = now - 30 * 86400
words = ("model soup weights fine-tuning robust distribution shift accuracy "
         "baseline ablation dataset transformer attention gradient loss").split()

def body():
    n = rng.randint(8, 120)
    text = " ".join(rng.choice(words) for _ in range(n))
    if rng.random() < 0.2:
        text += " See https://example.org/notes and $\\alpha_i$."
    return text

with db:
    db.executemany(
        "INSERT OR IGNORE INTO users (username, email, password_hash, role, created_at) VALUES (?, ?, 'x', 'member', ?)",
        [(f"talker{i}", f"talker{i}@example.org", month_ago) for i in range(a.users)],
    )
    users = [r[0] for r in db.execute("SELECT user_id FROM users WHERE username LIKE 'talker%' ORDER BY user_id")]
    tokens = []
    rows = []
    for u in users:
        t = hashlib.sha256(f"bench-token-{a.seed}-{u}".encode()).hexdigest()
        tokens.append(t)
        rows.append((hashlib.sha256(t.encode()).hexdigest(), u, "bench", now))
    db.executemany("INSERT OR IGNORE INTO api_tokens (token_hash, user_id, name, created_at) VALUES (?, ?, ?, ?)", rows)
    ids = [r for r in db.execute("SELECT paper_id, arxiv_id FROM papers WHERE deleted_at IS NULL ORDER BY random() LIMIT ?", (a.papers,))]
    hot, rest = ids[: a.hot], ids[a.hot :]
    plan = [(p, 100) for p in hot]
    left = a.comments - 100 * len(hot)
    per = [0] * len(rest)
    for _ in range(left):
        per[rng.randrange(len(rest))] += 1
    plan += [(p, n) for p, n in zip(rest, per) if n]
    t = month_ago
    next_id = (db.execute("SELECT coalesce(max(comment_id), 0) FROM comments").fetchone()[0]) + 1
    batch = []
    counts = []
    for (paper_id, _), n in plan:
        tops = []
        for _ in range(n):
            t += 1
            parent = rng.choice(tops) if tops and rng.random() < 0.25 else None
            b = body()
            batch.append((next_id, paper_id, parent, rng.choice(users), b, f"<p>{html.escape(b)}</p>", t, rng.randint(0, 5)))
            if parent is None:
                tops.append(next_id)
            next_id += 1
        counts.append((n, paper_id))
        if len(batch) >= 20_000:
            db.executemany("INSERT INTO comments (comment_id, paper_id, parent_id, author_id, body, html, created_at, upvotes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    db.executemany("INSERT INTO comments (comment_id, paper_id, parent_id, author_id, body, html, created_at, upvotes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    db.executemany("UPDATE papers SET num_comments = num_comments + ? WHERE paper_id = ?", counts)

os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "tokens.txt"), "w") as f:
    f.write("\n".join(tokens) + "\n")
with open(os.path.join(a.out, "hot-ids.txt"), "w") as f:
    f.write("\n".join(arxiv for _, arxiv in hot) + "\n")
with open(os.path.join(a.out, "talk-ids.txt"), "w") as f:
    f.write("\n".join(arxiv for _, arxiv in rest[:5000]) + "\n")
total = db.execute("SELECT count(*) FROM comments").fetchone()[0]
print(f"{total} comments on {len(plan)} papers ({len(hot)} with 100), {len(users)} members with tokens")
