#!/usr/bin/env bash
# The transformer's fill-in and what it does to serving: starts the release
# binary on a data directory whose transformer vectors are missing (they are
# moved aside first), asks hybrid searches one after another while the
# built-in transformer fills in behind the static vectors, then the same
# searches once it is done. Prints the fill-in rate (papers/s, from
# /metrics) and search latency p50/p99 during and after.
#
# usage: PAPERBOY_DATA_DIR=… bash scripts/bench/fill-in.sh
# (PAPERBOY_BIN: another build of `paperboy`.)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIND=127.0.0.1:8941
VECTORS="$PAPERBOY_DATA_DIR/index/vectors"
for d in "$VECTORS"/builtin-minilm-l6-q*; do
  [ -d "$d" ] && rm -rf "$d"
done
PAPERBOY_LOG=warn "${PAPERBOY_BIN:-target/release/paperboy}" serve --no-scheduler --bind "$BIND" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://$BIND/healthz" >/dev/null; do sleep 0.2; done
python3 - "$BIND" <<'PY'
import json, random, re, sys, time, urllib.request
bind = sys.argv[1]
words = sorted({w.lower() for line in open("fixtures/seed-papers.jsonl")
                for w in re.findall(r"[A-Za-z]{4,}", json.loads(line)["abstract"])})

def refined():
    text = urllib.request.urlopen(f"http://{bind}/metrics").read().decode()
    covered = filling = None
    for line in text.splitlines():
        if line.startswith("paperboy_embedding_refined_papers{"):
            covered = float(line.rsplit(" ", 1)[1])
        if line.startswith("paperboy_embedding_refined_filling{"):
            filling = float(line.rsplit(" ", 1)[1])
    return covered, filling

def searches(n=None, stop=None):
    random.seed(5)
    times = []
    started = time.time()
    while True:
        q = "+".join(random.sample(words, random.randint(2, 6)))
        t = time.perf_counter()
        urllib.request.urlopen(f"http://{bind}/api/papers/search?q={q}&mode=hybrid&limit=20").read()
        times.append(time.perf_counter() - t)
        if n is not None and len(times) >= n:
            break
        if stop is not None and stop():
            break
    times.sort()
    return times

def pct(times, p):
    return 1000 * times[min(len(times) - 1, int(p * len(times)))]

start_covered, _ = refined()
t0 = time.time()
during = searches(stop=lambda: refined()[1] == 0.0 or time.time() - t0 > 3600)
covered, _ = refined()
secs = time.time() - t0
print(f"fill-in: {covered:.0f} papers in {secs:.1f}s ({(covered - (start_covered or 0)) / secs:.1f} papers/s) while serving {len(during)} searches")
print(f"hybrid search while filling in: p50 {pct(during, 0.5):.1f} ms, p99 {pct(during, 0.99):.1f} ms ({len(during)} searches)")
after = searches(n=len(during))
print(f"hybrid search after:           p50 {pct(after, 0.5):.1f} ms, p99 {pct(after, 0.99):.1f} ms ({len(after)} searches)")
PY
