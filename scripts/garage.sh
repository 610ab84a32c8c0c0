#!/usr/bin/env bash
# A throwaway Garage (S3-compatible object store) on loopback for the tests and the demo
# (issue #16), single node, one bucket and one key:
#   eval "$(scripts/garage.sh start DIR)"   # exports HALLMARK_S3=http://KEY:SECRET@127.0.0.1:PORT/hallmark-evidence
#   scripts/garage.sh stop DIR
#   scripts/garage.sh start DIR             # again: the same node, bucket and key, the data kept
# Needs `garage` on PATH: `cargo install garage --locked` (13 min on 2 cores; scripts/test.sh
# does it when HALLMARK_GARAGE=1). Garage is a tool run beside hallmark, not linked (AGPL).
set -euo pipefail
cmd=${1:?usage: scripts/garage.sh start|stop DIR}
dir=${2:?usage: scripts/garage.sh start|stop DIR}
command -v garage >/dev/null || { echo "garage.sh: garage is not installed: cargo install garage --locked" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
case $cmd in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    conf=$dir/garage.toml
    if [[ ! -f $conf ]]; then
      cat >"$conf" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
# Photos and PDFs are compressed already: zstd on every block (Garage's default) only costs CPU.
compression_level = "none"
rpc_bind_addr = "127.0.0.1:$(free_port)"
rpc_secret = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$(free_port)"
root_domain = ".s3.garage.localhost"
TOML
      sed -i "s/^rpc_bind_addr = \"\(.*\)\"/rpc_bind_addr = \"\1\"\nrpc_public_addr = \"\1\"/" "$conf"
    fi
    [[ -f $dir/pid ]] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    nohup garage -c "$conf" server >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    g() { garage -c "$conf" "$@"; }
    for _ in $(seq 100); do g status >/dev/null 2>&1 && break; sleep 0.1; done
    if [[ ! -f $dir/key ]]; then
      node=$(g node id -q 2>/dev/null | cut -d@ -f1)
      g layout assign -z dc1 -c 1G "$node" >/dev/null
      g layout apply --version 1 >/dev/null
      g bucket create hallmark-evidence >/dev/null
      g key create hallmark >"$dir/key.txt"
      g bucket allow --read --write --owner hallmark-evidence --key hallmark >/dev/null
      id=$(awk '/Key ID/ {print $NF}' "$dir/key.txt")
      secret=$(awk '/Secret key/ {print $NF}' "$dir/key.txt")
      [[ -n $id && -n $secret ]] || { echo "garage.sh: no key in: $(cat "$dir/key.txt")" >&2; exit 1; }
      echo "$id:$secret" >"$dir/key"
      chmod 600 "$dir/key" "$dir/key.txt"
    fi
    port=$(sed -n 's/^api_bind_addr = "127.0.0.1:\([0-9]*\)"/\1/p' "$conf")
    up=
    for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { up=1; break; }; sleep 0.1; done
    [[ -n $up ]] || { echo "garage.sh: garage did not start listening on port $port:" >&2; tail -20 "$dir/log" >&2; exit 1; }
    echo "export HALLMARK_S3=http://$(cat "$dir/key")@127.0.0.1:$port/hallmark-evidence"
    ;;
  stop)
    if [[ -f $dir/pid ]]; then
      pid=$(cat "$dir/pid")
      kill "$pid" 2>/dev/null || true
      # Gone before this returns: a start right after must not meet the old one's port or lock.
      for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/pid"
    fi
    ;;
  *) echo "garage.sh: unknown command '$cmd' (start or stop)" >&2; exit 2 ;;
esac
