#!/usr/bin/env bash
# Runs schemathesis (every check) against /openapi.json of a real
# `paperboy serve` on the seed corpus, with an API token for the write
# operations. Usage: scripts/schemathesis.sh PAPERBOY_BINARY [EXAMPLES]
set -euo pipefail
bin="$(realpath "$1")"
examples="${2:-30}"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export PAPERBOY_DATA_DIR="$work/data" PAPERBOY_DATABASE_URL="" PAPERBOY_LOG=warn PAPERBOY_GITHUB_API_URL=""
cd "$work"
"$bin" import "$OLDPWD/fixtures/seed-papers.jsonl" >/dev/null
PAPERBOY_PASSWORD="correct horse battery" "$bin" user add fuzzer fuzzer@example.org --role admin >/dev/null
token="$("$bin" user token fuzzer | tail -n 1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --no-scheduler --bind "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
run() {
  python3 -m schemathesis.cli run "http://127.0.0.1:$port/openapi.json" \
    --checks all --max-examples "$examples" --seed 1 --workers 2 \
    --header "Authorization: Bearer $token" --no-color 2>&1 | tee "$work/run.log"
  return "${PIPESTATUS[0]}"
}
if ! run; then
  # Once schemathesis itself crashed (a Python error inside its generator,
  # reported under "Errors" with no check failing), it is run once more;
  # any failed check, or a second crash, fails.
  if grep -q "Runtime Error" "$work/run.log" && ! grep -q "^Failures:\|FAILURES" "$work/run.log"; then
    echo "schemathesis crashed inside itself (no check failed); running it once more"
    run || { echo "schemathesis failed; the server's log:"; tail -n 50 "$work/serve.log"; exit 1; }
  else
    echo "schemathesis failed; the server's log:"; tail -n 50 "$work/serve.log"; exit 1
  fi
fi
