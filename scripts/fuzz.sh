#!/usr/bin/env bash
# Runs each XML parser's fuzz target for a bounded time (default 60 s each),
# seeded with the hand-written fixtures, and prints executions and crashes.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP lets the
# stable toolchain accept the sanitizer flags cargo fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1
fixtures=../crates/arxiv/tests/fixtures
for target in oai_list_records atom_feed; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  case $target in
    oai_list_records) cp "$fixtures"/oai-*.xml "$corpus"/ ;;
    atom_feed) cp "$fixtures"/atom-*.xml "$corpus"/ ;;
  esac
  log=$(mktemp)
  if cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -max_len=65536 >"$log" 2>&1; then
    crashes=0
  else
    crashes=$(ls artifacts/"$target" 2>/dev/null | wc -l)
  fi
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n1 || true)
  [ -n "$execs" ] || execs=$(grep -Eo '#[0-9]+' "$log" | tail -n1 | tr -d '#')
  echo "fuzz $target: ${execs:-?} executions in ${seconds}s, $crashes crashes"
  if [ "$crashes" != 0 ]; then tail -n 40 "$log"; fi
  rm -f "$log"
done
