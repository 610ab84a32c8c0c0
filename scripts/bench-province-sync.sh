#!/usr/bin/env bash
# Prints the push figures of issue #16, in one run on this machine: `hallmark serve --postgres
# URL --s3 URL` (PostgreSQL 15 and Garage on loopback, started here; without garage installed
# the files go to PostgreSQL and the script says so) beside the embedded backend.
# 1. one 200-photo (~700 MB) bundle pushed over loopback TLS and committed, three rounds each:
#    MB/s as a ratio to `sha256sum` on the same photos (goal >= 0.6x on PostgreSQL + S3; the
#    embedded backend's ratio beside it), and the server's peak RSS (goal < 150 MB);
# 2. 1,000 small bundles from 50 concurrent clients against PostgreSQL + S3: p50/p99 push
#    latency (goal p99 < 400 ms).
# Uses the test build. `scripts/bench-province-sync.sh N` uses N photos (CI-sized: 20).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
export PATH="$HOME/.cargo/bin:$PATH"
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time; }
cargo build --locked --workspace --exclude hallmark-bare-window --bins --tests
bin=${CARGO_TARGET_DIR:-$PWD/target}/debug
work=${HALLMARK_BENCH_DIR:-$PWD/target/bench-province-sync}
rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
export HALLMARK_CA_PASSPHRASE=hallmark-demo-only
trap 'scripts/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true; [[ -d $work/garage ]] && scripts/garage.sh stop "$work/garage" || true' EXIT
eval "$(scripts/postgres.sh start "$work/pg")"
s3=()
if command -v garage >/dev/null; then
  eval "$(scripts/garage.sh start "$work/garage")"
  s3=(--s3 "$HALLMARK_S3")
  files="Garage (S3)"
else
  files="PostgreSQL (garage is not installed: HALLMARK_GARAGE=1 scripts/test.sh installs it)"
fi
echo "PostgreSQL 15 on loopback; the bundle files in $files"
"$bin/hallmark" demo "$work/demo" >/dev/null
id=$("$bin/hallmark-bench-tablet" "$PWD/target/bench-photos" "$work/tablet" "$n")
"$bin/hallmark" enroll request --db "$work/tablet" --name 基准 --out "$work/tablet.csr.pem" >/dev/null
"$bin/hallmark" ca issue --ca "$work/demo/bureau-ca" --role assessor --request "$work/tablet.csr.pem" --out "$work/tablet.pem" >/dev/null
"$bin/hallmark" enroll install --db "$work/tablet" --cert "$work/tablet.pem" --root "$work/demo/bureau-root.pem" >/dev/null
"$bin/hallmark" export --db "$work/tablet" --inspection "$id" --out "$work/b.hallmark" >/dev/null
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

db_n=0
start_server() { # $1: embedded | province; sets url and pid
  local where=(--data "$work/server")
  rm -rf "$work/server"
  if [[ $1 == province ]]; then
    db_n=$((db_n + 1))
    psql -q "$HALLMARK_PG" -c "CREATE DATABASE bench_$db_n" >/dev/null
    where+=(--postgres "${HALLMARK_PG%/*}/bench_$db_n" "${s3[@]}")
  fi
  /usr/bin/time -f %M -o "$work/serve.rss" "$bin/hallmark" serve "${where[@]}" --listen 127.0.0.1:0 \
    --cert "$work/demo/sync/server.pem" --key "$work/demo/sync/server.key" --trust "$work/demo/bureau-root.pem" \
    > "$work/serve.out" 2> "$work/serve.err" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  url=$(awk '/listening/ { print $3 }' "$work/serve.out")
  [[ -n $url ]] || { cat "$work/serve.err" >&2; exit 1; }
}
stop_server() { pkill -TERM -P "$pid" hallmark || true; wait "$pid" 2>/dev/null || true; }
push() { # sets the last push's ms and the server's peak RSS
  "$bin/hallmark" sync push --db "$work/tablet" --server "$url" "$work/b.hallmark" > "$work/push.out" 2>&1 \
    || { cat "$work/push.out" >&2; exit 1; }
}

mb=$(( $(stat -c %s "$work/b.hallmark") / 1048576 ))
E=(); P=(); S=(); RE=(); RP=()
for round in ${HALLMARK_BENCH_ROUNDS:-1 2 3}; do
  for backend in embedded province; do
    start_server $backend
    sync; t=$(date +%s%N); push; took=$(ms "$t")
    stop_server; rss=$(( $(tail -1 "$work/serve.rss") / 1024 ))
    if [[ $backend == embedded ]]; then E+=("$took"); RE+=("$rss"); else P+=("$took"); RP+=("$rss"); fi
  done
  sync; t=$(date +%s%N); find "$work/tablet/photos" -type f -print0 | xargs -0 sha256sum >/dev/null; S+=("$(ms "$t")")
  echo "round $round: push $mb MB — embedded ${E[-1]} ms (RSS ${RE[-1]} MB), PostgreSQL + object store ${P[-1]} ms (RSS ${RP[-1]} MB); sha256sum ${S[-1]} ms"
done
best() { local v=$1; shift; for x in "$@"; do (( x < v )) && v=$x; done; echo "$v"; }
most() { local v=$1; shift; for x in "$@"; do (( x > v )) && v=$x; done; echo "$v"; }
photos_mb=$(du -sm --apparent-size "$work/tablet/photos" | cut -f1)
awk -v mb="$mb" -v pmb="$photos_mb" -v e="$(best "${E[@]}")" -v p="$(best "${P[@]}")" -v s="$(best "${S[@]}")" \
    -v re="$(most "${RE[@]}")" -v rp="$(most "${RP[@]}")" -v n="$n" 'BEGIN {
  sha = pmb * 1000 / s
  printf "best of 3 — one bundle of %d photos (%d MB) pushed over loopback TLS and committed; sha256sum on the photos %.0f MB/s\n", n, mb, sha
  printf "  PostgreSQL + object store: %d ms = %.0f MB/s, ratio %.2fx (goal >= 0.6x), server peak RSS %d MB (goal < 150)\n", p, mb * 1000 / p, (mb * 1000 / p) / sha, rp
  printf "  embedded (data folder):    %d ms = %.0f MB/s, ratio %.2fx, server peak RSS %d MB\n", e, mb * 1000 / e, (mb * 1000 / e) / sha, re
}'

start_server province
echo "1,000 small bundles from ${HALLMARK_BENCH_CLIENTS:-50} clients, PostgreSQL + object store (goal p99 < 400 ms):"
"$bin/hallmark-bench-sync" "$work/demo" "$work/load" "$url" "${HALLMARK_BENCH_CLIENTS:-50}" "${HALLMARK_BENCH_EACH:-20}"
stop_server
echo "server peak RSS under load: $(( $(tail -1 "$work/serve.rss") / 1024 )) MB"
