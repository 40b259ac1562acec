#!/usr/bin/env bash
# What durability=replica costs (issue 20): errand bench on a master with one replica (both
# redis-server from the PATH, on ports from 7500, in memory), once with durability=none and once
# with durability=replica, RUNS times each, alternating. Prints the enqueue (one call per task, and
# batches of 500) and drain figures of every run and the medians.
#
#   benchmarks/durability-cost.sh          # TASKS=20000 RUNS=3
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tasks="${TASKS:-20000}"
runs="${RUNS:-3}"
master="${BASE_PORT:-7500}"
replica=$((master + 1))
work="$(mktemp -d)"
cleanup() {
  redis-cli -p "$master" shutdown nosave >/dev/null 2>&1 || true
  redis-cli -p "$replica" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for port in "$master" "$replica"; do
  mkdir -p "$work/$port"
  extra=()
  [[ "$port" == "$replica" ]] && extra=(--replicaof 127.0.0.1 "$master")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/$port" \
    --logfile "$work/$port/redis.log" --daemonize yes "${extra[@]}"
done
until redis-cli -p "$replica" info replication | grep -q 'master_link_status:up'; do sleep 0.1; done

for i in $(seq 1 "$runs"); do
  for durability in none replica; do
    echo "== run $i, durability=$durability" >&2
    "$root/errand" bench --broker "redis://127.0.0.1:$master/0?prefix=dur&durability=$durability" \
      --tasks "$tasks" --concurrency 8 --prefetch 32 --latency-mode none --warmup 20000 \
      --results on --json > "$work/$durability-$i.json"
  done
done
/usr/bin/python3 - "$work" "$runs" <<'EOF'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
def flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        elif isinstance(v, (int, float)):
            out[prefix + k] = v
    return out
rows = {}
for durability in ("none", "replica"):
    for i in range(1, runs + 1):
        for k, v in flat(json.load(open(f"{work}/{durability}-{i}.json"))).items():
            rows.setdefault(k, {}).setdefault(durability, []).append(v)
for k, by in rows.items():
    if not any(w in k.lower() for w in ("enqueue", "drain")) or "cpu" in k.lower():
        continue
    none, rep = by.get("none", []), by.get("replica", [])
    if not none or not rep:
        continue
    mn, mr = statistics.median(none), statistics.median(rep)
    change = (mr - mn) / mn * 100 if mn else 0
    print(f"{k}: none {mn:,.0f} {none} / replica {mr:,.0f} {rep} ({change:+.0f}%)")
EOF
