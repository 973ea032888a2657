#!/usr/bin/env bash
# Checks deploy/paperboy.service with `systemd-analyze verify`. The unit
# names /usr/local/bin/paperboy; the check points it at the binary just
# built (verify insists the executable exists).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/debug/paperboy}")"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq systemd >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=/usr/local/bin/paperboy|ExecStart=$bin|" deploy/paperboy.service > "$tmp/paperboy.service"
systemd-analyze verify "$tmp/paperboy.service"
echo "deploy/paperboy.service: systemd-analyze verify passed"
