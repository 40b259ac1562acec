#!/usr/bin/env bash
# Scale-out on Redis Cluster (issue 20): the drain throughput of one sharded queue on a local
# cluster of 1, 2 and 3 masters (no replicas: replication would only add to the same 2 cores), and
# what one shard costs Redis per task, from which docs/scaling.md sizes a fleet.
#
#   benchmarks/scale-out.sh            # MASTERS="1 2 3" TASKS=100000 WORKERS=2 CONCURRENCY=8
#                                      # RESULTS=on (off: tasks that store no status)
#
# MASTERS may include 0: a standalone Redis (redis://, no cluster), the baseline.
#
# For each cluster size: starts the masters (redis-server from the PATH, cluster mode, on ports
# from 7400), gives each an equal slot range, spreads queue "bench" over as many
# shards as masters (errand queue shards), enqueues TASKS no-op tasks (errand bench --enqueue-only),
# pauses the queue, starts WORKERS `errand worker` processes, resumes the queue and times the drain
# until every shard is empty. Redis's CPU (INFO cpu) and network bytes (INFO stats) are read
# around the enqueue and around the drain, and its memory with the tasks queued (INFO memory), so
# the per-task figures are Redis's own, not the workers'. Prints one line per cluster size and a
# JSON summary. The clusters are stopped and their directories removed at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
masters_list="${MASTERS:-1 2 3}"
tasks="${TASKS:-100000}"
workers="${WORKERS:-2}"
concurrency="${CONCURRENCY:-8}"
prefetch="${PREFETCH:-64}"
results_flag="${RESULTS:-on}"
base_port="${BASE_PORT:-7400}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for port in $(seq "$base_port" $((base_port + 2))); do
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

info_field() { redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2}'; }

# Sum of a numeric INFO field over the masters.
sum_field() {
  local section="$1" field="$2" total=0 v
  for port in "${ports[@]}"; do
    v="$(info_field "$port" "$section" "$field")"
    total="$(echo "$total + $v" | bc -l)"
  done
  echo "$total"
}
cpu() { echo "$(sum_field cpu used_cpu_user) + $(sum_field cpu used_cpu_sys)" | bc -l; }
# CPU seconds of each master, space-separated.
cpus() {
  local port out=""
  for port in "${ports[@]}"; do
    out="$out $(echo "$(info_field "$port" cpu used_cpu_user) + $(info_field "$port" cpu used_cpu_sys)" | bc -l)"
  done
  echo "$out"
}
# CPU seconds used so far by the worker processes (and their children): from /proc.
worker_cpu() {
  local total=0 p t
  for p in $(for w in "${pids[@]}"; do echo "$w"; pgrep -P "$w" || true; done); do
    t="$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"
    total=$((total + t))
  done
  echo "$total / $(getconf CLK_TCK)" | bc -l
}
net() { echo "$(sum_field stats total_net_input_bytes) + $(sum_field stats total_net_output_bytes)" | bc; }

# Messages left in the shards of queue bench: the HLEN of each shard's body hash.
left() {
  local total=0 port key n
  for port in "${ports[@]}"; do
    while IFS= read -r key; do
      [[ -z "$key" ]] && continue
      n="$(redis-cli -p "$port" hlen "$key")"
      total=$((total + n))
    done < <(redis-cli -p "$port" --scan --pattern 'scale:q:{bench*}:body')
  done
  echo "$total"
}

results=()
for m in $masters_list; do
  ports=()
  n=$((m == 0 ? 1 : m))
  for i in $(seq 0 $((n - 1))); do
    port=$((base_port + i))
    ports+=("$port")
    mkdir -p "$work/$port"
    cluster_args=()
    ((m > 0)) && cluster_args=(--cluster-enabled yes --cluster-config-file "$work/$port/nodes.conf")
    redis-server --port "$port" --bind 127.0.0.1 "${cluster_args[@]}" --save '' --appendonly no \
      --dir "$work/$port" --logfile "$work/$port/redis.log" --daemonize yes
  done
  for port in "${ports[@]}"; do
    until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
  done
  nodes=()
  for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); done
  # Formed by hand (redis-cli --cluster create wants at least 3 masters): equal slot ranges, then
  # every node meets the first.
  for i in $(seq 0 $((m - 1))); do
    from=$((i * 16384 / m))
    to=$(((i + 1) * 16384 / m - 1))
    redis-cli -p "${ports[$i]}" cluster addslotsrange "$from" "$to" >/dev/null
    ((i > 0)) && redis-cli -p "${ports[$i]}" cluster meet 127.0.0.1 "${ports[0]}" >/dev/null
  done
  if ((m > 0)); then
    for port in "${ports[@]}"; do
      until redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok'; do sleep 0.2; done
    done
  fi
  seeds="$(IFS=,; echo "${nodes[*]}")"
  url="redis-cluster://$seeds?prefix=scale"
  ((m == 0)) && url="redis://127.0.0.1:${ports[0]}/0?prefix=scale"

  "$root/errand" queue shards bench "$n" --broker "$url" >&2
  mem0="$(sum_field memory used_memory)"
  cpu0="$(cpu)"
  net0="$(net)"
  "$root/errand" bench --broker "$url" --enqueue-only --queue bench --tasks "$tasks" \
    --results "$results_flag" >&2
  cpu1="$(cpu)"
  net1="$(net)"
  mem1="$(sum_field memory used_memory)"
  "$root/errand" queue pause bench --broker "$url" >&2

  for w in $(seq 1 "$workers"); do
    "$root/errand" worker --broker "$url" --app dev.errand.cli.internal.bench.BenchApp -Q bench \
      -c "$concurrency" --prefetch "$prefetch" --name "scale-$m-$w" \
      > "$work/worker-$m-$w.log" 2>&1 &
    pids+=("$!")
  done
  # Every worker heartbeating: they are up and claiming (nothing, the queue is paused).
  until [[ "$("$root/errand" inspect workers --broker "$url" --json 2>/dev/null \
    | grep -o '"name"' | wc -l)" -ge "$workers" ]]; do sleep 0.5; done

  cpu2="$(cpu)"
  cpus2=($(cpus))
  net2="$(net)"
  wcpu2="$(worker_cpu)"
  "$root/errand" queue resume bench --broker "$url" >&2
  start="$(date +%s.%N)"
  while (( $(left) > 0 )); do sleep 0.05; done
  end="$(date +%s.%N)"
  cpu3="$(cpu)"
  cpus3=($(cpus))
  net3="$(net)"
  wcpu3="$(worker_cpu)"
  split=""
  for i in "${!ports[@]}"; do
    split="$split $(printf '%.0f' "$(echo "(${cpus3[$i]} - ${cpus2[$i]}) * 1000000 / $tasks" | bc -l)")"
  done
  worker_us="$(echo "($wcpu3 - $wcpu2) * 1000000 / $tasks" | bc -l)"
  seconds="$(echo "$end - $start" | bc -l)"
  rate="$(echo "$tasks / $seconds" | bc -l)"
  enq_us="$(echo "($cpu1 - $cpu0) * 1000000 / $tasks" | bc -l)"
  drain_us="$(echo "($cpu3 - $cpu2) * 1000000 / $tasks" | bc -l)"
  bytes_task="$(echo "($net1 - $net0 + $net3 - $net2) / $tasks" | bc -l)"
  mem_task="$(echo "($mem1 - $mem0) / $tasks" | bc -l)"
  label="$m master(s), $n shard(s)"
  ((m == 0)) && label="standalone Redis"
  line="$(printf '%s, results %s: drained %d tasks in %.2f s = %.0f tasks/s; Redis CPU per task: enqueue %.1f us, drain (claim, settle, result) %.1f us (per master:%s); worker CPU per task %.0f us; %.0f bytes on the wire per task; %.0f bytes of Redis memory per queued task' \
    "$label" "$results_flag" "$tasks" "$seconds" "$rate" "$enq_us" "$drain_us" "$split" "$worker_us" "$bytes_task" "$mem_task")"
  echo "$line"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  results+=("$(printf '{"masters":%d,"results":"%s","tasks":%d,"seconds":%.3f,"tasksPerSecond":%.0f,"redisCpuMicrosPerEnqueue":%.2f,"redisCpuMicrosPerDrainedTask":%.2f,"workerCpuMicrosPerTask":%.0f,"bytesPerTask":%.0f,"memoryBytesPerQueuedTask":%.0f}' \
    "$m" "$results_flag" "$tasks" "$seconds" "$rate" "$enq_us" "$drain_us" "$worker_us" "$bytes_task" "$mem_task")")

  for port in "${ports[@]}"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "${work:?}"/[0-9]*
done
echo "[$(IFS=,; echo "${results[*]}")]"
