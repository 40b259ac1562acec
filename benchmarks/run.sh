#!/usr/bin/env bash
# Runs the Errand benchmark harness the way docs/benchmarks.md records it.
#   benchmarks/run.sh [BROKER_URL] [extra errand bench flags...]
# Default: a fresh SQLite file in a temporary directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
url="${1:-}"
[[ $# -gt 0 ]] && shift
if [[ -z "$url" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  url="sqlite:$tmp/bench.db"
fi
"$root/errand" bench --broker "$url" --tasks 20000 --concurrency 8 --results on "$@"
"$root/errand" bench --broker "$url" --tasks 20000 --concurrency 8 --results off "$@"
