#!/usr/bin/env bash
# Errand, db-scheduler and JobRunr side by side on the same PostgreSQL, one after the other, one run.
#   benchmarks/vs-postgres-peers.sh [JDBC_URL]   (default jdbc:postgresql://127.0.0.1:5432/test?user=postgres)
# Env: TASKS (20000), LATENCY_TASKS (2000, at 50/s), OUT (directory for the raw output, default a
#      temporary one).
# Each product works in a schema of its own, dropped at its end; nothing server-wide is changed.
# The peers' harness is benchmarks/postgres-peers (its README says how each product is tuned).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jdbc="${1:-jdbc:postgresql://127.0.0.1:5432/test?user=postgres}"
tasks="${TASKS:-20000}"
latency_tasks="${LATENCY_TASKS:-2000}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"

# jdbc:postgresql://host:port/db?user=u[&password=p] -> postgresql://u[:p]@host:port/db
hostdb="${jdbc#jdbc:postgresql://}"
hostdb="${hostdb%%\?*}"
query="${jdbc#*\?}"
[[ "$query" == "$jdbc" ]] && query=""
user="$(sed -n 's/.*\(^\|&\)user=\([^&]*\).*/\2/p' <<<"$query")"
password="$(sed -n 's/.*\(^\|&\)password=\([^&]*\).*/\2/p' <<<"$query")"
userinfo="${user:+$user${password:+:$password}@}"
schema="errand_bench_$$"
errand_url="postgresql://${userinfo}${hostdb}?schema=${schema}"

echo "== PostgreSQL: $(psql "postgresql://${userinfo}${hostdb}" -Atc 'show server_version' 2>/dev/null || echo '?'), $(nproc) CPUs; results in $out"

echo "== Errand ($errand_url)"
"$root/errand" bench --broker "$errand_url" --tasks "$tasks" --concurrency 8 \
  --latency-mode in-process --latency-tasks "$latency_tasks" | tee "$out/errand.txt"
psql "postgresql://${userinfo}${hostdb}" -qc "drop schema if exists $schema cascade" >/dev/null 2>&1 || true

jar="$root/benchmarks/postgres-peers/target/postgres-peers.jar"
if [[ ! -f "$jar" ]]; then
  mvn -q -f "$root/benchmarks/postgres-peers/pom.xml" package -DskipTests
fi
echo "== db-scheduler and JobRunr"
java -jar "$jar" --jdbc "$jdbc" --tasks "$tasks" --threads 8 --latency-samples "$latency_tasks" \
  | tee "$out/peers.txt"
