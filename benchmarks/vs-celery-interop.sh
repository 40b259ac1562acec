#!/usr/bin/env bash
# The same Celery-format tasks drained by a Celery worker and by an Errand worker, on one Redis.
#   benchmarks/vs-celery-interop.sh      (a few minutes on 2 cores with the defaults; a smoke test:
#   TASKS=2000 WARMUP=2000 ERRAND_RUNS=1 benchmarks/vs-celery-interop.sh, under a minute)
#
# For each consumer, on a private redis-server this script starts (127.0.0.1, a free port,
# --save '' --appendonly no: FLUSHALL there touches nobody else's data): TASKS `bench.add(i, i)`
# (results on) are enqueued with Celery's own producer (`app.send_task`, results on, so the
# messages are exactly what a Celery client writes, protocol 2 on kombu's list), all of them are in
# the list before the consumer starts, and the drain is timed from the FIRST SUCCESS record written
# (`celery-task-meta-<id>`) to the LAST:
#   1. Celery -P prefork -c 2,  2. Celery -P threads -c 8  (Celery 5.2's defaults otherwise:
#      acks early, prefetch multiplier 4, JSON, Redis result backend on the same db, result_expires
#      one day; `--without-gossip --without-mingle --without-heartbeat`, as in vs-celery.sh);
#   1b, 2b. the same with task_acks_late=True (Errand always acks after the task: the like for like);
#   3. `errand worker --broker celery+redis://... --app InteropBenchApp -Q QUEUE --concurrency 8
#      --prefetch 32` (benchmarks/celery/InteropBenchApp.java, compiled here against errand.jar):
#      one worker process for a warm-up drain of WARMUP tasks and then ERRAND_RUNS timed drains
#      (median, range); between drains its queue is paused (`errand queue pause`) while the next
#      batch is enqueued, and resumed once it is all in the list.
#
# How a drain is timed: Celery's Redis backend and Errand's settle script both PUBLISH each result
# record on the channel named like its key, in the same round trip as the SET. A watcher
# (interop_drain.py drain) PSUBSCRIBEs to celery-task-meta-* before the consumer starts and counts
# SUCCESS records in the raw stream (a byte search per socket read: it keeps up with any drain rate,
# reads nothing back, and adds no polling load to the Redis being measured); the rate is the tasks
# after the first record over the time from it to the N-th. As a cross-check, the span of the
# records' own `date_done` (written by each worker, microseconds) is reported beside it (JSON, and
# the stderr progress). Afterwards every task id is checked (SUCCESS, result 2i: all of them, with
# MGET), as are the queue's four priority lists, kombu's `unacked` / `unacked_index` and Errand's
# own held-message hash: all must be empty. A failed check is shown in the table and exits 1.
#
# Needs: Debian's python3-celery (5.2, run as /usr/bin/python3 -m celery) and python3-redis,
#        redis-server and redis-cli (redis-tools), a JDK (javac; the newest 21+ under /usr/lib/jvm is
#        taken unless JAVA_HOME is set, as in vs-celery.sh), and errand-cli/target/errand.jar,
#        already built (this script does not build: mvn -pl errand-cli -am package -DskipTests).
# Env: TASKS (20000) tasks per timed drain; WARMUP (50000, as vs-celery.sh) Errand's untimed warm-up drain;
#      ERRAND_RUNS (3) timed Errand drains; ACKS_LATE (on: also the two acks_late=True Celery runs;
#      off: not); CELERY (on; off: Errand only); QUEUE (bench-interop); REDIS_PORT (a free port);
#      TIMEOUT (600) seconds one drain may take; ERRAND_JAVA_OPTS (none) more options for the
#      Errand worker's JVM (its supervisor passes them on to the worker process); OUT (where the raw JSON goes, default a temporary
#      directory; every run's JSON, the task ids, the Celery and Errand worker logs and the Redis
#      log are kept beside it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/benchmarks/celery"
tasks="${TASKS:-20000}"
warmup="${WARMUP:-50000}"
runs="${ERRAND_RUNS:-3}"
acks_late="${ACKS_LATE:-on}"
with_celery="${CELERY:-on}"
queue="${QUEUE:-bench-interop}"
timeout="${TIMEOUT:-600}"
out="${OUT:-$(mktemp -d)/vs-celery-interop.json}"
mkdir -p "$(dirname "$out")"
work="$(cd "$(dirname "$out")" && pwd)"
out="$work/$(basename "$out")"
py=/usr/bin/python3
jar="$root/errand-cli/target/errand.jar"

if [[ ! -f "$jar" ]]; then
  echo "$jar is missing: build it first (mvn -pl errand-cli -am package -DskipTests)" >&2
  exit 2
fi
for tool in redis-server redis-cli setsid; do
  command -v "$tool" > /dev/null || { echo "needs $tool" >&2; exit 2; }
done
"$py" -c 'import celery, redis' 2> /dev/null \
  || { echo "needs Debian's python3-celery and python3-redis for $py" >&2; exit 2; }

if [[ -z "${JAVA_HOME:-}" ]]; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[1-9]* /usr/lib/jvm/java-2[1-9]-*; do
    [[ -x "$j/bin/javac" ]] && { export JAVA_HOME="$j"; break; }
  done
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac="${JAVA_HOME:+$JAVA_HOME/bin/}javac"
java_version="$("$java" -version 2>&1 | head -1)"
java_major="$(sed -E 's/^[^"]*"(1\.)?([0-9]+).*/\2/' <<< "$java_version")"
# The worker is started as users start it, with ./errand (its JVM options for a worker, the
# supervisor), on the same JDK; ERRAND_JAVA_OPTS reach it through the launcher.
export JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")}"

# --- the private Redis -------------------------------------------------------------------------
port="${REDIS_PORT:-$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
if [[ "$port" == 6379 ]]; then
  echo "REDIS_PORT=6379 is someone else's Redis; pick another port" >&2
  exit 2
fi
if redis-cli -h 127.0.0.1 -p "$port" ping > /dev/null 2>&1; then
  echo "something already answers on 127.0.0.1:$port; pick another REDIS_PORT" >&2
  exit 2
fi
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$work" \
  --logfile "$work/redis.log" &
redis_pid=$!
url="redis://127.0.0.1:$port/0"
export INTEROP_REDIS="$url" PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
rc() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }

consumer_pid=""
watcher_pid=""
cleanup() {
  if [[ -n "$watcher_pid" ]]; then
    kill "$watcher_pid" 2> /dev/null || true
  fi
  if [[ -n "$consumer_pid" ]]; then
    stop_consumer
  fi
  kill "$redis_pid" 2> /dev/null || true
  wait "$redis_pid" 2> /dev/null || true
}
trap cleanup EXIT

for _ in $(seq 100); do
  rc ping > /dev/null 2>&1 && break
  sleep 0.05
done
redis_version="Redis $(rc info server | tr -d '\r' | sed -n 's/^redis_version://p')"
echo "== private $redis_version on 127.0.0.1:$port (pid $redis_pid); raw figures in $work" >&2

# FLUSHALL, only on the server this script started (checked by its pid, not just its port).
flush_all() {
  local pid
  pid="$(rc info server | tr -d '\r' | sed -n 's/^process_id://p')"
  if [[ "$pid" != "$redis_pid" ]]; then
    echo "127.0.0.1:$port is not the Redis this script started (pid $pid, not $redis_pid)" >&2
    exit 1
  fi
  rc flushall > /dev/null
}

# A consumer runs in a session of its own, so that its children (prefork's pool, the Errand
# supervisor's worker JVM) are stopped with it: SIGTERM, up to 60 s to finish, then SIGKILL for
# the whole group.
start_consumer() { # LOG CMD...
  local log="$1"
  shift
  setsid "$@" >> "$log" 2>&1 &
  consumer_pid=$!
}
stop_consumer() {
  local pid="$consumer_pid"
  consumer_pid=""
  kill -TERM "$pid" 2> /dev/null || true
  for _ in $(seq 600); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2> /dev/null; then
    echo "  consumer $pid did not stop within 60 s of SIGTERM: killed" >&2
  fi
  if kill -0 -- "-$pid" 2> /dev/null; then
    kill -KILL -- "-$pid" 2> /dev/null || true
  fi
  wait "$pid" 2> /dev/null || true
}

enqueue() { # N IDS
  "$py" "$here/interop_drain.py" enqueue --redis "$url" --queue "$queue" --tasks "$1" --ids "$2"
}
# Starts the watcher and waits until it is subscribed.
watch_start() { # N IDS NAME LABEL
  rm -f "$work/$3.ready"
  "$py" "$here/interop_drain.py" drain --redis "$url" --queue "$queue" --tasks "$1" --ids "$2" \
    --ready "$work/$3.ready" --out "$work/$3.json" --label "$4" --timeout "$timeout" &
  watcher_pid=$!
  for _ in $(seq 200); do
    [[ -f "$work/$3.ready" ]] && { rm -f "$work/$3.ready"; return 0; }
    kill -0 "$watcher_pid" 2> /dev/null || break
    sleep 0.05
  done
  echo "the watcher did not subscribe" >&2
  exit 1
}
watch_wait() {
  local pid="$watcher_pid"
  watcher_pid=""
  wait "$pid"
}

# --- Celery --------------------------------------------------------------------------------------
if [[ "$with_celery" == on ]]; then
  configs=("prefork 2 off" "threads 8 off")
  [[ "$acks_late" == on ]] && configs+=("prefork 2 on" "threads 8 on")
  echo "== Celery $("$py" -m celery --version | head -1)" >&2
  for config in "${configs[@]}"; do
    set -- $config
    name="celery-$1$2$([[ "$3" == on ]] && echo -acks-late || true)"
    echo "== $name: -P $1 -c $2, acks_late $3, $tasks tasks" >&2
    flush_all
    enqueue "$tasks" "$work/$name.ids"
    watch_start "$tasks" "$work/$name.ids" "$name" "Celery -P $1 -c $2, acks_late $3"
    start_consumer "$work/$name.log" env INTEROP_ACKS_LATE="$3" \
      "$py" -m celery -A interop_drain worker -P "$1" -c "$2" -Q "$queue" --loglevel warning \
      --without-gossip --without-mingle --without-heartbeat
    watch_wait
    stop_consumer
  done
fi

# --- Errand --------------------------------------------------------------------------------------
classes="$work/interop-app-classes"
rm -rf "$classes"
mkdir -p "$classes"
"$javac" --release 17 -cp "$jar" -d "$classes" "$here/InteropBenchApp.java"
errand_url="celery+$url"
# Short commands (queue pause / resume): a quick JVM, as ./errand starts them.
errand_cli() { "$java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" "$@"; }

echo "== Errand: $java_version; warm-up of $warmup tasks, then $runs timed drains of $tasks" >&2
flush_all
errand_cli queue pause --broker "$errand_url" "$queue" > /dev/null
start_consumer "$work/errand-worker.log" \
  "$root/errand" worker --broker "$errand_url" --classpath "$classes" \
  --app InteropBenchApp -Q "$queue" --concurrency 8 --prefetch 32
for run in warmup $(seq 1 "$runs"); do
  if [[ "$run" == warmup ]]; then
    n="$warmup" name="errand-warmup" label="errand warm-up"
  else
    n="$tasks" name="errand-run-$run" label="errand run $run"
  fi
  echo "== $label: $n tasks" >&2
  # The worker keeps running: delete only the previous drain's result records (not Errand's keys).
  rc --scan --pattern 'celery-task-meta-*' | xargs -r -n 1000 redis-cli -h 127.0.0.1 -p "$port" unlink > /dev/null
  enqueue "$n" "$work/$name.ids"
  kill -0 "$consumer_pid" 2> /dev/null || { echo "the Errand worker died: $work/errand-worker.log" >&2; exit 1; }
  watch_start "$n" "$work/$name.ids" "$name" "$label"
  errand_cli queue resume --broker "$errand_url" "$queue" > /dev/null
  watch_wait
  errand_cli queue pause --broker "$errand_url" "$queue" > /dev/null
done
errand_cli queue resume --broker "$errand_url" "$queue" > /dev/null
stop_consumer
if grep -qE 'ERROR|WARN|Exception' "$work/errand-worker.log"; then
  echo "== the Errand worker logged warnings or errors ($work/errand-worker.log):" >&2
  grep -E 'ERROR|WARN|Exception' "$work/errand-worker.log" | head -20 >&2
fi

echo >&2
"$py" "$here/interop_drain.py" report --work "$work" --out "$out" --java "$java_version" \
  --redis-version "$redis_version"
