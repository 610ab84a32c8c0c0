#!/usr/bin/env bash
# Issue #16: the province-scale dataset (1,500 halls × 5 years × 5 assessors, every event)
# generated in a throwaway PostgreSQL cluster, and the dashboard's queries timed (p50/p99 of
# 200 runs each; goal p99 < 100 ms). Prints each query's EXPLAIN ANALYZE too.
# Usage: scripts/bench-province.sh [province|ci] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cargo build --locked --release -q -p hallmark-province --bin hallmark-bench-province
dir=$(mktemp -d)
trap 'scripts/postgres.sh stop "$dir"; rm -rf "$dir"' EXIT
eval "$(scripts/postgres.sh start "$dir")"
HALLMARK_BENCH_EXPLAIN=1 target/release/hallmark-bench-province "${1:-province}" "${2:-200}"
