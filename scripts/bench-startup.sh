#!/usr/bin/env bash
# Prints the app's cold start to first screen under Xvfb next to a bare Tauri window's first
# paint (crates/hallmark-bare-window: one static page), in the same run, alternating, 5 rounds
# each, fresh data folder for the first hallmark run. Goal (issue #14): hallmark's restart
# <= 1.3x the bare window, median of 5. Uses the same build as the tests (our crates
# unoptimized, dependencies at opt-level 2); the bare window is built only here, never by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
app=$target/debug/hallmark-app
bare=$target/debug/hallmark-bare-window
if [[ "${1:-}" != "--inner" ]]; then
  scripts/setup.sh --app
  cargo build --locked -p hallmark-app -p hallmark-bare-window
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" --inner
fi
# $1: what to wait for on stderr, $2: the binary, rest: its args. Prints the wall-clock ms from
# spawn to that line.
measure() {
  local needle=$1 bin=$2; shift 2
  local log; log=$(mktemp)
  local start end ms=
  start=$(date +%s%N)
  HALLMARK_STARTUP_PROBE=1 "$bin" "$@" 2>"$log" >/dev/null &
  local pid=$!
  for _ in $(seq 1 1000); do
    if grep -q "$needle" "$log"; then
      end=$(date +%s%N)
      ms=$(( (end - start) / 1000000 ))
      break
    fi
    sleep 0.01
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
  echo "${ms:-timeout}"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
demo=$(mktemp -d)
seeded=$(HALLMARK_DATA_DIR=$demo measure "first screen after" "$app" --demo)
echo "hallmark first run with --demo (new store + the demo inspection's generated photos): $seeded ms"
rm -rf "$demo"
data=$(mktemp -d)
first=$(HALLMARK_DATA_DIR=$data measure "first screen after" "$app")
echo "hallmark first run (new store, new device key): $first ms"
H=(); B=()
for i in 1 2 3 4 5; do
  B+=("$(measure "first paint after" "$bare")")
  H+=("$(HALLMARK_DATA_DIR=$data measure "first screen after" "$app")")
  echo "round $i: bare window ${B[-1]} ms, hallmark restart ${H[-1]} ms"
done
rm -rf "$data"
mh=$(median "${H[@]}"); mb=$(median "${B[@]}")
awk -v h="$mh" -v b="$mb" -v f="$first" 'BEGIN {
  printf "median of 5: hallmark restart %d ms, bare Tauri window %d ms: %.2fx (goal <= 1.3x); first run %.2fx\n", h, b, h / b, f / b
}'
