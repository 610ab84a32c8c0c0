#!/usr/bin/env bash
# Prints the sync figures of issue #11, in one run on this machine:
# 1. one 200-photo (~700 MB) bundle pushed over loopback TLS to `hallmark serve` (embedded
#    backend) and committed: MB/s as a ratio to `sha256sum` on the same photos (goal >= 0.8x),
#    and the server's peak RSS (goal < 150 MB);
# 2. 1,000 small bundles from 50 concurrent clients: bundles/s and p50/p99 push latency
#    (goal p99 < 250 ms).
# Uses the test build. `scripts/bench-sync.sh N` uses N photos (CI-sized: 20).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time; }
# The same build as scripts/test.sh (--tests too): one feature set, nothing compiled twice.
cargo build --locked --workspace --exclude hallmark-bare-window --bins --tests
bin=${CARGO_TARGET_DIR:-$PWD/target}/debug
work=${HALLMARK_BENCH_DIR:-$PWD/target/bench-sync}
rm -rf "$work"; mkdir -p "$work"
export HALLMARK_CA_PASSPHRASE=hallmark-demo-only
"$bin/hallmark" demo "$work/demo" >/dev/null
id=$("$bin/hallmark-bench-tablet" "$PWD/target/bench-photos" "$work/tablet" "$n")
"$bin/hallmark" enroll request --db "$work/tablet" --name 基准 --out "$work/tablet.csr.pem" >/dev/null
"$bin/hallmark" ca issue --ca "$work/demo/bureau-ca" --role assessor --request "$work/tablet.csr.pem" --out "$work/tablet.pem" >/dev/null
"$bin/hallmark" enroll install --db "$work/tablet" --cert "$work/tablet.pem" --root "$work/demo/bureau-root.pem" >/dev/null
"$bin/hallmark" export --db "$work/tablet" --inspection "$id" --out "$work/b.hallmark" >/dev/null
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

start_server() { # $1: data folder; sets url and pid
  /usr/bin/time -f %M -o "$work/serve.rss" "$bin/hallmark" serve --data "$1" --listen 127.0.0.1:0 \
    --cert "$work/demo/sync/server.pem" --key "$work/demo/sync/server.key" --trust "$work/demo/bureau-root.pem" \
    > "$work/serve.out" 2> "$work/serve.err" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  url=$(awk '/listening/ { print $3 }' "$work/serve.out")
}
stop_server() { pkill -TERM -P "$pid" hallmark || true; wait "$pid" 2>/dev/null || true; }

mb=$(( $(stat -c %s "$work/b.hallmark") / 1048576 ))
P=(); S=()
for round in 1 2 3; do
  rm -rf "$work/server"; start_server "$work/server"
  sync; t=$(date +%s%N); "$bin/hallmark" sync push --db "$work/tablet" --server "$url" "$work/b.hallmark" >/dev/null 2>&1; P+=("$(ms "$t")")
  stop_server; rss=$(tail -1 "$work/serve.rss")
  sync; t=$(date +%s%N); find "$work/tablet/photos" -type f -print0 | xargs -0 sha256sum >/dev/null; S+=("$(ms "$t")")
  echo "round $round: push $mb MB ${P[-1]} ms, sha256sum ${S[-1]} ms, server peak RSS $((rss / 1024)) MB"
done
best() { local v=$1; shift; for x in "$@"; do (( x < v )) && v=$x; done; echo "$v"; }
p=$(best "${P[@]}"); s=$(best "${S[@]}")
photos_mb=$(du -sm --apparent-size "$work/tablet/photos" | cut -f1)
awk -v mb="$mb" -v pmb="$photos_mb" -v p="$p" -v s="$s" -v rss="$rss" -v n="$n" 'BEGIN {
  printf "best of 3 — one bundle of %d photos (%d MB) pushed over loopback TLS and committed: %d ms = %.0f MB/s; sha256sum on the photos: %d ms = %.0f MB/s; ratio %.2fx (goal >= 0.8x); server peak RSS %.0f MB (goal < 150)\n", n, mb, p, mb * 1000 / p, s, pmb * 1000 / s, (mb * 1000 / p) / (pmb * 1000 / s), rss / 1024
}'

rm -rf "$work/server"; start_server "$work/server"
"$bin/hallmark-bench-sync" "$work/demo" "$work/load" "$url" "${HALLMARK_BENCH_CLIENTS:-50}" "${HALLMARK_BENCH_EACH:-20}"
stop_server
echo "server peak RSS under load: $(( $(tail -1 "$work/serve.rss") / 1024 )) MB"
