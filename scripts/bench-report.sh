#!/usr/bin/env bash
# Prints the report figure: a Jiangsu inspection (32 items) by 5 assessors with 60 photos
# each, report generated (model, PDF with thumbnails, seal). Goal: < 2 s and < 15 MB.
# Uses the test build (dependencies at opt-level 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app >/dev/null
cargo build --locked --workspace --bins
for run in 1 2 3; do target/debug/hallmark-bench-report "$PWD/target/bench-report" "${1:-60}"; done
