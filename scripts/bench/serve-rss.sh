#!/usr/bin/env bash
# Peak memory of `paperboy serve` with its indexes loaded and in use: starts
# the release binary on the configured data directory (PAPERBOY_DATA_DIR,
# PAPERBOY_MODEL_DIR), sends 1,500 searches in all three modes and 300
# related lookups, then prints the server's VmHWM, VmRSS, RssAnon and RssFile.
#
# usage: PAPERBOY_DATA_DIR=… PAPERBOY_MODEL_DIR=… bash scripts/bench/serve-rss.sh
# (PAPERBOY_BIN: another build of `paperboy`, for a before/after pair.)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIND=127.0.0.1:8940
PAPERBOY_LOG=warn "${PAPERBOY_BIN:-target/release/paperboy}" serve --no-scheduler --bind "$BIND" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://$BIND/healthz" >/dev/null; do sleep 0.5; done
python3 - "$BIND" <<'PY'
import json, random, re, sys, time, urllib.request
bind = sys.argv[1]
words = sorted({w.lower() for line in open("fixtures/seed-papers.jsonl")
                for w in re.findall(r"[A-Za-z]{4,}", json.loads(line)["abstract"])})
random.seed(3)
started = time.time()
for i in range(1500):
    q = "+".join(random.sample(words, random.randint(2, 6)))
    mode = ["hybrid", "semantic", "keyword"][i % 3]
    rows = json.load(urllib.request.urlopen(f"http://{bind}/api/papers/search?q={q}&mode={mode}&limit=20"))
    if rows and i % 5 == 0:
        urllib.request.urlopen(f"http://{bind}/api/papers/{rows[0]['paper']['id']}/related?limit=10").read()
print(f"1500 searches and 300 related lookups in {time.time() - started:.1f}s")
PY
grep -E "VmHWM|VmRSS|RssAnon|RssFile" "/proc/$PID/status"
# Resident memory by what it maps: the files (largest first), then anonymous.
awk '/^[0-9a-f]+-[0-9a-f]+ /{name=($6==""?"[anonymous]":$6)} /^Rss:/{rss[name]+=$2}
     END{for(n in rss) if(rss[n]>=4096) printf "%8.1f MB  %s\n", rss[n]/1024, n}' "/proc/$PID/smaps" |
  sed "s|$PAPERBOY_DATA_DIR/||" | sort -rn | head -15
