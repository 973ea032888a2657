#!/usr/bin/env bash
# The digest benchmark at 1M papers (issues 6 and 23): builds a store of
# 1,000,000 generated papers plus 20,000 fresh ones, 100,000 subscribers and
# 20 % of them members with 50–500-paper libraries, then sends one daily
# digest run to aiosmtpd's Sink on loopback and prints its wall time and peak
# RSS. The store is built once in $WORK/data and copied for each run, so a
# before/after pair runs on the same bytes.
#
# usage: WORK=/somewhere/big bash scripts/bench/digest-1m.sh [build|run]
#   build: the store (about 15 minutes here)
#   run:   one digest run on a fresh copy (PAPERBOY_BIN: another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
: "${WORK:?set WORK to a directory with ~15 GB free}"
BIN=${PAPERBOY_BIN:-$ROOT/target/release/paperboy}
BENCH=${PAPERBOY_BENCH_BIN:-$ROOT/target/release/paperboy-bench}
mkdir -p "$WORK"
cd "$WORK"
export PAPERBOY_LOG=warn

case "${1:-run}" in
build)
    rm -rf data
    "$BENCH" gen --n 1000000 --seed 7 --until-now --vocab "$ROOT/fixtures/seed-papers.jsonl" --out papers-1m.jsonl
    PAPERBOY_DATA_DIR=data "$BIN" import papers-1m.jsonl
    python3 "$ROOT/scripts/bench/add_subscribers.py" data/paperboy.db fresh.jsonl
    PAPERBOY_DATA_DIR=data "$BIN" import fresh.jsonl
    # Static vectors only: reindex would also fill in the transformer's,
    # about eleven hours at this size.
    PAPERBOY_DATA_DIR=data PAPERBOY_EMBEDDER=static "$BIN" reindex
    # The static vectors for every paper: the transformer would need about
    # eleven hours on two cores at this size (BENCHMARKS.md).
    PAPERBOY_DATA_DIR=data PAPERBOY_EMBEDDER=static "$BIN" embed
    "$BENCH" add-readers --data-dir data --model builtin --share 0.2 --min 50 --max 500
    ;;
run)
    rm -rf run && cp -r data run
    python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Sink &
    SMTP=$!
    trap 'kill $SMTP 2>/dev/null || true' EXIT
    sleep 1
    PAPERBOY_DATA_DIR=run PAPERBOY_SMTP_URL=smtp://127.0.0.1:2525 \
        /usr/bin/time -f "%e s %M KB" "$BIN" digest --frequency daily
    ;;
*)
    echo "usage: WORK=DIR $0 [build|run]" >&2
    exit 2
    ;;
esac
