#!/usr/bin/env bash
# The reliability experiments: every scenario of `errand chaos` on SQLite and on Redis, printed as
# one table of sent / executed / completed / duplicates / lost / stuck. Needs a Redis for the
# Redis runs (ERRAND_CHAOS_REDIS, default redis://127.0.0.1:6379/0; a key prefix of its own is
# deleted after), redis-server on the PATH for backend-restart, libfaketime for clock-skew
# (apt-get install faketime), and root for full-disk (it mounts a 48 MiB tmpfs). A scenario whose
# needs are missing says "not run" and why.
set -euo pipefail
cd "$(dirname "$0")/.."
./errand chaos --redis "${ERRAND_CHAOS_REDIS:-redis://127.0.0.1:6379/0}" "$@"
