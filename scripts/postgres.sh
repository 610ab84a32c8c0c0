#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback for the tests and the benchmarks (issue #16):
#   eval "$(scripts/postgres.sh start DIR)"   # exports HALLMARK_PG=postgres://hallmark@127.0.0.1:PORT/postgres
#   scripts/postgres.sh stop DIR
#   scripts/postgres.sh start DIR             # again: the same cluster, data and port
# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user. Trust
# authentication, loopback only, a free port; nothing outside DIR is touched.
set -euo pipefail
cmd=${1:?usage: scripts/postgres.sh start|stop DIR}
dir=${2:?usage: scripts/postgres.sh start|stop DIR}
bin=/usr/lib/postgresql/15/bin
[[ -x $bin/pg_ctl ]] || { echo "postgres.sh: PostgreSQL 15 is not installed: run scripts/setup.sh" >&2; exit 1; }
as_owner() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    if [[ ! -f $dir/data/PG_VERSION ]]; then
      as_owner "$bin/initdb" -D "$dir/data" -A trust -U hallmark -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # A restarted cluster keeps its port (the fault tests restart it under a running server).
    if [[ -f $dir/port ]]; then
      port=$(cat "$dir/port")
    else
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      echo "$port" >"$dir/port"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=on" -l "$dir/log" -w start >/dev/null \
      || { cat "$dir/log" >&2; exit 1; }
    echo "export HALLMARK_PG=postgres://hallmark@127.0.0.1:$port/postgres"
    ;;
  stop)
    [[ -f $dir/data/postmaster.pid ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) echo "postgres.sh: unknown command '$cmd' (start or stop)" >&2; exit 2 ;;
esac
