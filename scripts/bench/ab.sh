#!/usr/bin/env bash
# Before/after figures for two builds, measured on this machine in one
# session, alternating A B A B so a busy moment hits both alike:
#   import into SQLite and into PostgreSQL, reindex, keyword search latency,
#   HTTP throughput and latency (wrk), digests end to end (aiosmtpd Sink).
#
# usage: bash scripts/bench/ab.sh A_DIR B_DIR CORPUS.jsonl [ROUNDS]
#   A_DIR, B_DIR: each holds a release `paperboy` and `paperboy-bench`.
#   CORPUS: `paperboy-bench gen --n 300000 --seed 7 --vocab fixtures/seed-papers.jsonl --out CORPUS`
# Needs: wrk, python3 with aiosmtpd, PostgreSQL at $PAPERBOY_BENCH_PG
# (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The static model (the built-in transformer would fill in vectors for
# hours at these sizes and load both cores through every figure).
export PAPERBOY_EMBEDDER=${PAPERBOY_EMBEDDER:-static}
A=$(realpath "$1") B=$(realpath "$2") CORPUS=$(realpath "$3") ROUNDS=${4:-2}
PG=${PAPERBOY_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
VOCAB=fixtures/seed-papers.jsonl
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
SUBSCRIBERS=${SUBSCRIBERS:-20000}
PG_RECORDS=${PG_RECORDS:-100000}
head -n "$PG_RECORDS" "$CORPUS" > "$WORK/pg.jsonl"
# A paper of the corpus, for the paper page.
PAPER=$(sed -n '1000p' "$CORPUS" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
secs() { /usr/bin/time -f "%e" -o "$WORK/t" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }; cat "$WORK/t"; }

# Starts aiosmtpd's Sink (a real SMTP server that drops what it receives).
SMTP_PORT=$(free_port)
python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink &
sleep 1

one_round() { # LABEL DIR
  local label=$1 bin=$2/paperboy bench=$2/paperboy-bench data="$WORK/$1-data"
  rm -rf "$data"; mkdir -p "$data"
  export PAPERBOY_DATA_DIR=$data PAPERBOY_LOG=warn
  unset PAPERBOY_DATABASE_URL
  local t_import t_reindex t_pg
  t_import=$(secs "$bin" import "$CORPUS")
  t_reindex=$(secs "$bin" reindex)
  "$bench" search-latency --index "$data/index/keyword" --queries 1000 --vocab "$VOCAB" > "$WORK/lat" 2>&1
  local lat; lat=$(grep -Eo 'p50 [0-9.]+ ms.*' "$WORK/lat" | head -1)

  # HTTP: the server on the same store; wrk on loopback.
  local port; port=$(free_port)
  "$bin" serve --no-scheduler --bind "127.0.0.1:$port" > "$WORK/serve.log" 2>&1 &
  local pid=$!
  until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do sleep 0.2; done
  local http=""
  for path in "/api/papers/search?q=fine-tuned+models&mode=keyword" "/api/trending?limit=50" "/" "/papers/$PAPER"; do
    curl -sf "http://127.0.0.1:$port$path" > /dev/null
    wrk -t1 -c16 -d10s --latency "http://127.0.0.1:$port$path" > "$WORK/wrk" 2>&1
    local rps p99
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk")
    http="$http $path: $rps req/s p99 $p99;"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true

  # Digests: subscribers and fresh papers, then compose and send them all.
  python3 scripts/bench/add_subscribers.py "$data/paperboy.db" "$WORK/fresh.jsonl" \
    --subscribers "$SUBSCRIBERS" --fresh 5000 > /dev/null
  "$bin" import "$WORK/fresh.jsonl" > /dev/null
  local t_digest sent
  t_digest=$(PAPERBOY_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" secs "$bin" digest --frequency daily)
  sent=$(grep -Eo 'sent [0-9]+' "$WORK/out" | grep -Eo '[0-9]+')

  # PostgreSQL import into a fresh database.
  local db; db="pb_ab_$(echo "$label" | tr "[:upper:]" "[:lower:]")_$$"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  t_pg=$(PAPERBOY_DATABASE_URL="$PG/$db" secs "$bin" import "$WORK/pg.jsonl")
  psql -q "$PG/postgres" -c "DROP DATABASE $db WITH (FORCE)"

  local n; n=$(wc -l < "$CORPUS")
  printf '%s | import SQLite %.0f rec/s (%ss) | reindex %.0f papers/s (%ss) | PG import %.0f rec/s | digests %.0f/s (%s in %ss) | keyword %s |%s\n' \
    "$label" "$(echo "$n / $t_import" | bc -l)" "$t_import" "$(echo "$n / $t_reindex" | bc -l)" "$t_reindex" \
    "$(echo "$PG_RECORDS / $t_pg" | bc -l)" "$(echo "$sent / $t_digest" | bc -l)" "$sent" "$t_digest" "$lat" "$http"
}

for r in $(seq "$ROUNDS"); do
  one_round "A$r" "$A"
  one_round "B$r" "$B"
done
