#!/usr/bin/env bash
# README's run command: sets up, builds, and shows hallmark on the bundled demo inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p hallmark-cli
hallmark=target/release/hallmark
echo "== hallmark rubric check (both seed rubrics)"
$hallmark rubric check rubrics/jiangsu-15min.toml rubrics/liaoning-demo-window.toml | grep -v '^  '
echo
echo "== hallmark score examples/jiangsu-complete.json"
$hallmark score examples/jiangsu-complete.json
echo
echo "== hallmark aggregate examples/liaoning-panel/*.json (five assessors, one county hall)"
$hallmark aggregate examples/liaoning-panel/*.json
