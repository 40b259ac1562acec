#!/usr/bin/env bash
# Errand and Celery side by side on the same Redis, one run, one table.
#   benchmarks/vs-celery.sh [REDIS_HOST:PORT]      (default 127.0.0.1:6379)
# Env: CELERY_DB (default 15: FLUSHDB'd, give it a database nobody else uses), ERRAND_RUNS (3),
#      TASKS (20000), LATENCY_TASKS (2000, at 50/s: 40 s per latency step),
#      OUT (where the raw JSON goes, default a temporary file),
#      WORKFLOWS (on: also time a chord of MEMBERS (10000) no-op members and a chain of STEPS (1000)
#      on both, WF_RUNS (5) timed runs on Errand after WF_WARMUP (20: about a minute, as in a worker
#      that has been up a while) untimed ones; only: run just that part).
# Needs: Debian's python3-celery and python3-redis (run as /usr/bin/python3 -m celery),
#        redis-benchmark (redis-tools), a JDK 21+ for Errand's virtual threads (JDK 17 works,
#        with platform threads for the sleeping tasks).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server="${1:-127.0.0.1:6379}"
host="${server%:*}"
port="${server#*:}"
db="${CELERY_DB:-15}"
runs="${ERRAND_RUNS:-3}"
tasks="${TASKS:-20000}"
latency_tasks="${LATENCY_TASKS:-2000}"
out="${OUT:-$(mktemp -d)/vs-celery.json}"
work="$(dirname "$out")"
mkdir -p "$work"
prefix="errand-bench-$$"

if [[ -z "${JAVA_HOME:-}" ]]; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[1-9]* /usr/lib/jvm/java-2[1-9]-*; do
    [[ -x "$j/bin/java" ]] && { export JAVA_HOME="$j"; break; }
  done
fi
sleep_pool=virtual
if ! "${JAVA_HOME:-/usr}/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
  sleep_pool=threads
fi

workflows="${WORKFLOWS:-on}"
members="${MEMBERS:-10000}"
steps="${STEPS:-1000}"
wf_runs="${WF_RUNS:-5}"
wf_warmup="${WF_WARMUP:-20}"

run_workflows() {
  echo "== errand bench-workflows: a chord of $members, a chain of $steps, $wf_runs runs" >&2
  "$root/errand" bench-workflows --broker "redis://$host:$port/0?prefix=$prefix" \
    --members "$members" --steps "$steps" --runs "$wf_runs" --warmup "$wf_warmup" \
    --concurrency 8 --prefetch 64 \
    --json > "$work/errand-workflows.json"
  for pool in "prefork 2" "threads 8"; do
    set -- $pool
    echo "== Celery workflows, $1 -c $2" >&2
    /usr/bin/python3 "$root/benchmarks/celery/celery_workflows.py" --redis "redis://$host:$port/$db" \
      --members "$members" --steps "$steps" --pool "$1" --concurrency "$2" \
      > "$work/celery-workflows-$1$2.json"
  done
  /usr/bin/python3 "$root/benchmarks/celery/compare_workflows.py" "$work"
}

if [[ "$workflows" == only ]]; then
  run_workflows
  exit 0
fi

echo "== redis-benchmark LPUSH/RPOP (the ceiling), db $db" >&2
redis-benchmark -h "$host" -p "$port" --dbnum "$db" -t lpush,rpop -n 200000 -q 2>/dev/null \
  | tr '\r' '\n' | grep 'requests per second' > "$work/redis-benchmark.txt"
redis-cli -h "$host" -p "$port" -n "$db" del mylist > /dev/null
cat "$work/redis-benchmark.txt" >&2

for results in on off; do
  # Latency is compared with results on: both in the bench's JVM and with the worker in a process
  # of its own (the deployment shape, and Celery's).
  latency_mode=both
  [[ "$results" == off ]] && latency_mode=none
  for i in $(seq 1 "$runs"); do
    echo "== errand bench, results $results, run $i of $runs" >&2
    "$root/errand" bench --broker "redis://$host:$port/0?prefix=$prefix" --tasks "$tasks" \
      --concurrency 8 --prefetch 32 --latency-rate 50 --latency-tasks "$latency_tasks" \
      --latency-mode "$latency_mode" --latency-samples "$work/errand-latency-$i.txt" \
      --sleep-tasks 2000 --sleep-concurrency 50 --sleep-pool "$sleep_pool" --warmup 50000 \
      --results "$results" --json > "$work/errand-$results-$i.json"
  done
done
# Results expire after 10 minutes; delete them now.
redis-cli -h "$host" -p "$port" -n 0 --scan --pattern "$prefix:*" | xargs -r -n 1000 \
  redis-cli -h "$host" -p "$port" -n 0 unlink > /dev/null

echo "== Celery $(/usr/bin/python3 -m celery --version)" >&2
/usr/bin/python3 "$root/benchmarks/celery/celery_bench.py" --redis "redis://$host:$port/$db" \
  --tasks "$tasks" --latency-rate 50 --latency-tasks "$latency_tasks" > "$work/celery.json"

/usr/bin/python3 "$root/benchmarks/celery/compare.py" "$work" "$out"
if [[ "$workflows" == on ]]; then
  echo >&2
  run_workflows
fi
