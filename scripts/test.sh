#!/usr/bin/env bash
# Runs Paperboy's whole test suite on a fresh machine: installs or starts
# what the tests talk to (PostgreSQL), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh
export PAPERBOY_TEST_PG="${PAPERBOY_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"

cargo test --workspace --locked
