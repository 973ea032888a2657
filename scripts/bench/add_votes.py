"""Adds N users and M votes (uniform over papers, one per user and paper)
to a Paperboy SQLite store, for the web benchmark. Deterministic for a seed.

usage: python3 scripts/bench/add_votes.py DB [--users 1000] [--votes 100000] [--seed 1]
"""
import argparse
import random
import sqlite3
import time

ap = argparse.ArgumentParser()
ap.add_argument("db")
ap.add_argument("--users", type=int, default=1000)
ap.add_argument("--votes", type=int, default=100_000)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = random.Random(a.seed)
db = sqlite3.connect(a.db)
now = int(time.time())
max_id = db.execute("SELECT max(paper_id) FROM papers").fetchone()[0]
with db:
    db.executemany(
        "INSERT OR IGNORE INTO users (username, email, password_hash, role, created_at) VALUES (?, ?, 'x', 'member', ?)",
        [(f"bench{i}", f"bench{i}@example.org", now) for i in range(a.users)],
    )
    users = [r[0] for r in db.execute("SELECT user_id FROM users WHERE username LIKE 'bench%'")]
    pairs = set()
    while len(pairs) < a.votes:
        pairs.add((rng.choice(users), rng.randint(1, max_id)))
    db.executemany("INSERT OR IGNORE INTO votes (user_id, paper_id, created_at) VALUES (?, ?, ?)", [(u, p, now) for u, p in pairs])
    db.execute("UPDATE papers SET upvotes = (SELECT count(*) FROM votes v WHERE v.paper_id = papers.paper_id) WHERE paper_id IN (SELECT DISTINCT paper_id FROM votes)")
print(f"{db.execute('SELECT count(*) FROM votes').fetchone()[0]} votes by {len(users)} users")
