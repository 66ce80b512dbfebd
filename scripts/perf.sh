#!/usr/bin/env bash
# Measures orgstack as docs/performance.md reports it and prints the tables
# in Markdown on standard output (progress and logs go to standard error).
#
#   scripts/perf.sh                  # everything: about 25 minutes on 2 cores
#   PERF_DURATION=3s PERF_ACCOUNTS=2000 PERF_VOLUMES=20000 scripts/perf.sh   # a quick pass
#
# Settings (environment):
#   PERF_DURATION     length of each measured run (10s)
#   PERF_ROUNDS       rounds of orgstack and the bare handler, taking turns (2)
#   PERF_CONCURRENCY  concurrent clients (8)
#   PERF_ACCOUNTS     member accounts of the main organization (10000)
#   PERF_VOLUMES      simulated EBS volumes over them (100000)
#   PERF_SCALE_ACCOUNTS  accounts for the SQLite/PostgreSQL comparison (1000)
#   PERF_PG           PostgreSQL server URL without a database
#                     (postgres://postgres@127.0.0.1:5432); the script drops and
#                     creates the database perfbench there. Empty: no PostgreSQL rows.
#   PERF_MEMORY_DURATION  length of the mixed run after which memory is read (30s)
#   PERF_BENCH        0 skips the in-process ListAccounts benchmark (2-3 minutes)
#   PERF_KEEP         1 keeps the work directory (data, logs, binaries)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${PERF_DURATION:-10s}
ROUNDS=${PERF_ROUNDS:-2}
CONC=${PERF_CONCURRENCY:-8}
ACCOUNTS=${PERF_ACCOUNTS:-10000}
VOLUMES=${PERF_VOLUMES:-100000}
SCALE_ACCOUNTS=${PERF_SCALE_ACCOUNTS:-1000}
PG=${PERF_PG-postgres://postgres@127.0.0.1:5432}
MEMORY_DURATION=${PERF_MEMORY_DURATION:-30s}
PGDB=perfbench

work=$(mktemp -d "${TMPDIR:-/tmp}/orgstack-perf.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  if [ "${PERF_KEEP:-}" = 1 ]; then
    echo "perf: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

log() { echo "perf: $*" >&2; }

log "building into $work"
go build -o "$work/orgstack" ./cmd/orgstack
go build -o "$work/orgstack-load" ./cmd/orgstack-load
load() { "$work/orgstack-load" --concurrency "$CONC" --duration "$DURATION" "$@"; }

# start NAME ARGS... starts an orgstack on a free loopback port with its
# log in $work/NAME.log and waits for its health check; its pid is then in
# $last_pid and its URL in $last_url.
start() {
  local name=$1 addr=""
  shift
  : >"$work/$name.log"
  "$work/orgstack" serve --listen 127.0.0.1:0 "$@" 2>>"$work/$name.log" &
  last_pid=$!
  pids+=("$last_pid")
  for _ in $(seq 400); do
    addr=$(sed -n 's/.*msg="orgstack listening" addr=\([0-9.:]*\).*/\1/p' "$work/$name.log" | head -1)
    if [ -n "$addr" ] && curl -sf "http://$addr/_orgstack/health" >/dev/null; then
      last_url="http://$addr"
      return 0
    fi
    sleep 0.05
  done
  echo "perf: $name did not start; its log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# stop PID stops an orgstack with SIGTERM and waits for it.
stop() {
  kill -TERM "$1"
  wait "$1" || true
}

# rss PID prints VmRSS and VmHWM of a process in MB.
rss() {
  awk '/^VmRSS|^VmHWM/ { printf "%s %.0f MB  ", $1, $2/1024 }' "/proc/$1/status"
}

pg_fresh() {
  psql "$PG/postgres" -qAt -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB" >&2
}

echo "## Measured on $(date -u +%Y-%m-%d)"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem/ {print $2}') GB RAM, $(uname -sr)"
echo "- data directory on $(df -T "$work" | awk 'NR==2 {print $2}') ($(df "$work" | awk 'NR==2 {print $1}'))"
echo "- $(go version)"
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- each run: $CONC clients, $DURATION, $ROUNDS round(s) against orgstack and the bare handler taking turns"
echo

# 1. The operations, one at a time, on the default store: SQLite in a data
# directory, sync=full, the access log on (written to a file).
start main --data-dir "$work/main"
main_pid=$last_pid
main_url=$last_url
log "seeding $ACCOUNTS accounts and $VOLUMES volumes"
seed_start=$(date +%s)
load --endpoint "$main_url" --seed "$ACCOUNTS" --volumes "$VOLUMES" \
  --mix describe-organization --duration 1s >/dev/null
seed_secs=$(( $(date +%s) - seed_start ))
seed_rss=$(rss "$main_pid")

echo "### Operations: one orgstack, SQLite on disk (default flags), $ACCOUNTS accounts, $VOLUMES volumes"
echo
load --endpoint "$main_url" --server-pid "$main_pid" --seed "$ACCOUNTS" --volumes "$VOLUMES" --rounds "$ROUNDS" \
  --baseline --baseline-process --markdown --each \
  --mix describe-organization,describe-account,list-accounts,create-ou,tag-resource,move-account,list-recommended-actions
echo
echo "### Mixes"
echo
load --endpoint "$main_url" --server-pid "$main_pid" --seed "$ACCOUNTS" --rounds "$ROUNDS" --baseline --baseline-process --markdown \
  --mix describe-organization=1,describe-account=1 --label "reads: DescribeOrganization + DescribeAccount"
echo
load --endpoint "$main_url" --server-pid "$main_pid" --seed "$ACCOUNTS" --rounds "$ROUNDS" --baseline --baseline-process --markdown \
  --mix tag-resource=1,move-account=1 --label "durable writes: TagResource + MoveAccount"
echo
stop "$main_pid"

# 2. Start to first answer, and memory, with that state on disk.
echo "### Start and memory with $ACCOUNTS accounts and $VOLUMES volumes on disk ($(du -sh "$work/main" | cut -f1))"
echo
# The port the instance just stopped listened on is free again.
"$work/orgstack-load" --endpoint "$main_url" --measure-start --markdown --start-runs 5 \
  --label "orgstack serve --data-dir DIR (default flags)" -- \
  "$work/orgstack" serve --listen "${main_url#http://}" --data-dir "$work/main" 2>>"$work/start.log"
echo
start main --data-dir "$work/main"
main_pid=$last_pid
main_url=$last_url
after_start=$(rss "$main_pid")
load --endpoint "$main_url" --seed "$ACCOUNTS" --volumes "$VOLUMES" --duration "$MEMORY_DURATION" \
  --mix describe-organization=4,describe-account=4,list-accounts=1,list-accounts-page=2,tag-resource=2,move-account=2,create-ou=1,list-recommended-actions=2 \
  >/dev/null
after_load=$(rss "$main_pid")
stop "$main_pid"
echo "| when | memory |"
echo "|---|---|"
echo "| while seeding ($seed_secs s, through the API) | $seed_rss |"
echo "| restarted, before any call | $after_start |"
echo "| after $MEMORY_DURATION of every operation, full ListAccounts walks included | $after_load |"
echo

# 3. ListAccounts per page against the organization's size.
if [ "${PERF_BENCH:-1}" != 0 ]; then
  echo "### ListAccounts per page against the organization's size"
  echo
  echo "In-process benchmark (\`go test ./internal/e2e -run '^\$' -bench ListAccountsPage -benchtime 2000x\`): one page of 20 through the SDK over loopback, at the start, middle and end of the list."
  echo
  echo '```'
  go test ./internal/e2e -run '^$' -bench 'ListAccountsPage' -benchtime 2000x 2>&1 | grep -E '^Benchmark' || true
  echo '```'
  echo
fi

# 4. The same mix against one orgstack on SQLite, one on PostgreSQL and
# three on PostgreSQL (issue 9).
MIX=describe-organization=3,describe-account=3,list-accounts-page=1,tag-resource=1,move-account=1,create-ou=1
echo "### One store, one or three instances: $SCALE_ACCOUNTS accounts, mix $MIX"
echo
echo "| setup | throughput | p50 | p99 | max | errors | CPU/op (clients and orgstack; PostgreSQL not counted) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
start sqlite --data-dir "$work/scale-sqlite"
p=$last_pid
load --endpoint "$last_url" --server-pid "$p" --seed "$SCALE_ACCOUNTS" --mix "$MIX" --markdown --summary --label "1 orgstack, SQLite"
stop "$p"
if [ -n "$PG" ] && command -v psql >/dev/null && psql "$PG/postgres" -qAt -c 'SELECT 1' >/dev/null 2>&1; then
  pg_fresh
  url="$PG/$PGDB?sslmode=disable"
  start pg1 --store "$url"
  p=$last_pid
  load --endpoint "$last_url" --server-pid "$p" --seed "$SCALE_ACCOUNTS" --mix "$MIX" --markdown --summary --label "1 orgstack, PostgreSQL"
  stop "$p"
  eps=()
  three=()
  for i in 2 3 4; do
    start "pg$i" --store "$url"
    three+=("$last_pid")
    eps+=("$last_url")
  done
  load --endpoint "$(IFS=,; echo "${eps[*]}")" --server-pid "$(IFS=,; echo "${three[*]}")" --seed "$SCALE_ACCOUNTS" --mix "$MIX" --markdown --summary \
    --label "3 orgstack, one PostgreSQL, requests in turn"
  for p in "${three[@]}"; do stop "$p"; done
  psql "$PG/postgres" -qAt -c "DROP DATABASE IF EXISTS $PGDB" >&2
else
  echo "| PostgreSQL rows skipped: no server at $PG (set PERF_PG) | | | | | | |"
fi
echo
echo "- load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
