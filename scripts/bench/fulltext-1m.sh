#!/usr/bin/env bash
# Search inside papers at 1M papers (issue 24): keyword search latency
# through the engine's keyword mode (what the API and the search page run)
# before and after 10 % of the papers get a full text, and the storage a
# text costs. The store is built once in $WORK/data; `texts` changes it.
#
# usage: WORK=/somewhere/big bash scripts/bench/fulltext-1m.sh [build|latency|texts]
#   build:   1,000,000 generated papers (realistic Zipfian vocabulary), imported, indexed
#   latency: keyword p50/p90/p99 over 1,000 queries, twice
#   texts:   a generated LaTeXML page for 10 % of the papers, parsed and kept
#            as the fetcher keeps them, passages indexed; storage per paper
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
: "${WORK:?set WORK to a directory with ~40 GB free}"
BIN=${PAPERBOY_BIN:-$ROOT/target/release/paperboy}
BENCH=${PAPERBOY_BENCH_BIN:-$ROOT/target/release/paperboy-bench}
VOCAB="--vocab $ROOT/fixtures/seed-papers.jsonl"
mkdir -p "$WORK"
cd "$WORK"
export PAPERBOY_LOG=warn

case "${1:-latency}" in
build)
    rm -rf data
    "$BENCH" gen --n 1000000 --seed 7 --until-now --zipf-terms 200000 $VOCAB --out papers-1m.jsonl
    PAPERBOY_DATA_DIR=data "$BIN" import papers-1m.jsonl
    PAPERBOY_DATA_DIR=data PAPERBOY_EMBEDDER=static "$BIN" reindex
    ;;
latency)
    for run in 1 2; do
        "$BENCH" search-latency --index data/index/keyword --queries 1000 $VOCAB --zipf-terms 200000
    done
    ;;
texts)
    "$BENCH" add-texts --data-dir data --share 0.1 $VOCAB --zipf-terms 200000 --seed 11
    ;;
*)
    echo "usage: WORK=DIR $0 [build|latency|texts]" >&2
    exit 2
    ;;
esac
