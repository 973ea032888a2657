"""Recommendations measured exactly as a reader's script gets them: for each
held-out profile, a member is made (`paperboy user add`), the profile's
library imported (`paperboy library import`, one id a line), and
`paperboy recommend --days 0 --limit 20 --json` asked; nDCG@20 and
Recall@20 of the held-out papers are printed per profile file. Runs any
build of `paperboy` (PAPERBOY_BIN) on the store PAPERBOY_DATA_DIR names, so
two builds can be compared on one store through the same commands.

Usage: PAPERBOY_BIN=target/release/paperboy PAPERBOY_DATA_DIR=… \\
    python3 scripts/eval/recommend_cli.py PREFIX PROFILES.jsonl [MORE.jsonl ...]
(PREFIX names the members, `PREFIX-S-P`: a new one per run.)
"""
import json
import math
import os
import subprocess
import sys
import tempfile


def ndcg_at(ranked, relevant, k):
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:k]) if p in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / idcg if idcg else 0.0


def run(*args, stdin=None):
    env = dict(os.environ, PAPERBOY_PASSWORD="an evaluation password", PAPERBOY_LOG="error")
    out = subprocess.run([os.environ.get("PAPERBOY_BIN", "paperboy"), *args],
                         capture_output=True, text=True, env=env, input=stdin)
    if out.returncode != 0:
        sys.exit(f"paperboy {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def main():
    prefix, files = sys.argv[1], sys.argv[2:]
    for s, path in enumerate(files, 1):
        profiles = [json.loads(l) for l in open(path) if l.strip()]
        total_n = total_r = 0.0
        for p, prof in enumerate(profiles, 1):
            name = f"{prefix}-{s}-{p}"
            run("user", "add", name, f"{name}@eval.invalid")
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                f.write("\n".join(prof["library"]) + "\n")
            run("library", "import", "--user", name, f.name)
            os.unlink(f.name)
            recs = json.loads(run("recommend", "--user", name, "--days", "0", "--limit", "20", "--json"))
            ranked = [r["paper"]["id"] for r in recs]
            held = set(prof["held_out"])
            total_n += ndcg_at(ranked, held, 20)
            total_r += len(held & set(ranked[:20])) / len(held)
        k = len(profiles)
        print(f"{os.path.basename(path)} ({k}): nDCG@20 {total_n / k:.3f}  Recall@20 {total_r / k:.3f}")


if __name__ == "__main__":
    main()
