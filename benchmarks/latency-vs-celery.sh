#!/usr/bin/env bash
# Errand's and Celery's enqueue->start latency on one Redis, in alternating rounds, so that both
# see the same machine at the same time (a slow minute of the host hits both, not one).
#   benchmarks/latency-vs-celery.sh [REDIS_HOST:PORT]      (default 127.0.0.1:6379)
# Each round: an `errand worker` process fed by the bench's JVM (--latency-only --latency-mode
# process, concurrency 8, prefetch 32, results on), then a Celery prefork -c 2 worker fed by a
# Python producer (results on); LATENCY_TASKS probes each at 50/s.
# Env: CELERY_DB (default 15: FLUSHDB'd, give it a database nobody else uses), ROUNDS (3),
#      LATENCY_TASKS (2000), WARMUP (Errand's --warmup, 20000), OUT (a directory for the raw
#      figures, default a temporary one).
# Needs: Debian's python3-celery and python3-redis (run as /usr/bin/python3 -m celery).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server="${1:-127.0.0.1:6379}"
host="${server%:*}"
port="${server#*:}"
db="${CELERY_DB:-15}"
rounds="${ROUNDS:-3}"
latency_tasks="${LATENCY_TASKS:-2000}"
warmup="${WARMUP:-20000}"
work="${OUT:-$(mktemp -d)}"
mkdir -p "$work"
prefix="errand-latency-$$"

for i in $(seq 1 "$rounds"); do
  echo "== round $i of $rounds: Errand" >&2
  "$root/errand" bench --broker "redis://$host:$port/0?prefix=$prefix" --latency-only \
    --latency-mode process --concurrency 8 --prefetch 32 --latency-rate 50 \
    --latency-tasks "$latency_tasks" --warmup "$warmup" --results on \
    --latency-samples "$work/errand-samples.txt" --json > "$work/errand-$i.json"
  echo "== round $i of $rounds: Celery" >&2
  /usr/bin/python3 "$root/benchmarks/celery/celery_bench.py" --redis "redis://$host:$port/$db" \
    --latency-only --latency-rate 50 --latency-tasks "$latency_tasks" \
    --latency-samples "$work/celery-samples.txt" > "$work/celery-$i.json"
done
# Statuses are kept a day by the worker process; delete them now.
redis-cli -h "$host" -p "$port" -n 0 --scan --pattern "$prefix:*" | xargs -r -n 1000 \
  redis-cli -h "$host" -p "$port" -n 0 unlink > /dev/null

/usr/bin/python3 - "$work" "$rounds" <<'PY'
import json, os, sys

work, rounds = sys.argv[1], int(sys.argv[2])


def pct(sorted_ms, p):
    i = max(0, min(len(sorted_ms) - 1, -(-int(p * 1000) * len(sorted_ms) // 1000) - 1))
    return sorted_ms[i]


def figures(samples):
    s = sorted(samples)
    return [pct(s, 0.50), pct(s, 0.95), pct(s, 0.99), s[-1]] if s else [float("nan")] * 4


errand = [int(line.split()[2]) / 1000 for line in open(os.path.join(work, "errand-samples.txt"))
          if line.startswith("process ") and int(line.split()[2]) >= 0]
celery = [float(line) for line in open(os.path.join(work, "celery-samples.txt")) if line.strip()]
print(f"{'enqueue->start at 50/s, ms':40} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
for i in range(1, rounds + 1):
    e = json.load(open(os.path.join(work, f"errand-{i}.json")))["figures"]
    c = json.load(open(os.path.join(work, f"celery-{i}.json")))["steps"]["latency"]
    print(f"{f'round {i}: Errand worker process':40} " + " ".join(
        f"{e['processLatency' + k + 'Ms']:7.2f}" for k in ("P50", "P95", "P99", "Max")))
    print(f"{f'round {i}: Celery prefork -c 2':40} " + " ".join(
        f"{c[k + 'Ms']:7.2f}" for k in ("p50", "p95", "p99", "max")))
for name, samples in ((f"all rounds: Errand ({len(errand):,})", errand),
                      (f"all rounds: Celery ({len(celery):,})", celery)):
    print(f"{name:40} " + " ".join(f"{v:7.2f}" for v in figures(samples)))
PY
echo "raw figures in $work" >&2
