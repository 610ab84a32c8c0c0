#!/usr/bin/env bash
# Prints the photo ingest figure: hallmark's ingest of N 12 MP photos (≈3.5 MB each: read,
# header checks, EXIF, 320 px thumbnail, SHA-256, durable store of photo and thumbnail, one row
# each) into a fresh store, side by side in the same run with `vipsthumbnail -s 320` on the
# same files (one vipsthumbnail process per core, each on its share of the files), 3 rounds.
# Goal: hallmark >= 1.2x vipsthumbnail's photos/s, median of the 3 rounds' ratios.
# Usage: scripts/bench-photos.sh [N]   (default 60)
# Uses the test build (dependencies and the store at opt-level 2). Photos are generated once
# into target/bench-photos/ (shared with scripts/bench-bundles.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-60}
command -v vipsthumbnail >/dev/null || {
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libvips-tools >/dev/null
}
cargo build --locked -p hallmark-store --bin hallmark-bench-photos
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/debug/hallmark-bench-photos
photos=$target/bench-photos
# HALLMARK_BENCH_DIR=/dev/shm/x runs on tmpfs: the same work with the disk taken out.
work=${HALLMARK_BENCH_DIR:-$target/bench-photos-run}
rm -rf "$work"; mkdir -p "$work"
"$bin" "$photos" "$work/warmup" "$n" >/dev/null   # generates missing photos, warms the page cache
mapfile -t files < <(for ((i = 0; i < n; i++)); do printf '%s/photo-%03d.jpg\n' "$photos" "$i"; done)
cores=$(nproc)
mb=$(du -cm --apparent-size "${files[@]}" | tail -1 | cut -f1)

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# CPU time (user + sys, ms) of all waited-for children so far: less sensitive than the wall
# clock to other work on the machine.
# (`times` runs in this shell, not in a $(...) subshell, which has no children of its own.)
cpu() { times >"$work/times"; awk 'END { n = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); n += t[1] * 60000 + t[2] * 1000 } printf "%d", n }' "$work/times"; }
vips_all() {
  local out=$1 k per=$(( (n + cores - 1) / cores )) pids=()
  for ((k = 0; k < cores; k++)); do
    local part=("${files[@]:k*per:per}")
    ((${#part[@]})) || continue
    vipsthumbnail -s 320 -o "$out/%s.jpg" "${part[@]}" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}

R=(); C=()
for round in 1 2 3; do
  rm -rf "$work/store" "$work/vips"; mkdir -p "$work/vips"
  sync; cpu >"$work/c0"; h_ms=$("$bin" "$photos" "$work/store" "$n"); cpu >"$work/c1"
  sync; cpu >"$work/c2"; t=$(date +%s%N); vips_all "$work/vips"; v_ms=$(ms "$t"); cpu >"$work/c3"
  h_cpu=$(( $(cat "$work/c1") - $(cat "$work/c0") )); v_cpu=$(( $(cat "$work/c3") - $(cat "$work/c2") ))
  R+=("$(awk -v h="$h_ms" -v v="$v_ms" 'BEGIN { printf "%.2f", v / h }')")
  C+=("$(awk -v h="$h_cpu" -v v="$v_cpu" 'BEGIN { printf "%.2f", v / h }')")
  awk -v r="$round" -v n="$n" -v h="$h_ms" -v v="$v_ms" -v hc="$h_cpu" -v vc="$v_cpu" -v x="${R[-1]}" -v y="${C[-1]}" 'BEGIN {
    printf "round %d: hallmark %d ms = %.1f photos/s (CPU %.0f ms/photo); vipsthumbnail -s 320 %d ms = %.1f photos/s (CPU %.0f ms/photo); ratio %.2fx (CPU %.2fx)\n", r, h, n * 1000 / h, hc / n, v, n * 1000 / v, vc / n, x, y }'
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
echo "photo ingest, $n photos ($mb MB), $cores cores: median ratio $(median "${R[@]}")x (rounds: ${R[*]}) — goal >= 1.2x"
echo "  CPU time per photo, vipsthumbnail / hallmark: median $(median "${C[@]}")x (rounds: ${C[*]}) — what the ratio tends to when nothing else runs"
