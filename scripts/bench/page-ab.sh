#!/usr/bin/env bash
# One page's throughput under several builds on the same store, alternating
# the builds round by round (so a busy moment hits them alike): each build
# serves DATA in turn and wrk asks PATH for 10 s over 16 connections.
#
# usage: bash scripts/bench/page-ab.sh DATA PATH BIN [BIN…]
#   DATA: a data directory (`paperboy import` + `paperboy reindex` into it);
#   the builds must share its schema (run the newest first once).
# Needs: wrk, curl.
set -euo pipefail
data=$1 path=$2
shift 2
export PAPERBOY_DATA_DIR=$data PAPERBOY_LOG=warn PAPERBOY_EMBEDDER=static
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in 1 2 3; do
  for bin in "$@"; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$bin" serve --no-scheduler --bind "127.0.0.1:$port" > /dev/null 2>&1 &
    pid=$!
    until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do sleep 0.2; done
    curl -sf "http://127.0.0.1:$port$path" > /dev/null
    wrk -t1 -c16 -d10s --latency "http://127.0.0.1:$port$path" > "$log" 2>&1
    echo "round $round $bin: $(awk '/Requests\/sec/ {print $2}' "$log") req/s, p99 $(awk '$1=="99%" {print $2}' "$log")"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
