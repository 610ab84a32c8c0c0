#!/usr/bin/env bash
# README's run command: sets up, builds, and runs hallmark on the bundled demo inspection.
# With a display: the tablet app opens on a partly filled Jiangsu inspection with photos.
# Without one (a server, CI): the CLI scores the demo observations and a five-assessor panel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app
cargo build --locked --workspace --bins
echo "== hallmark rubric check (both seed rubrics)"
target/debug/hallmark rubric check rubrics/jiangsu-15min.toml rubrics/liaoning-demo-window.toml | grep -v '^  '
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  echo "== starting the app with the demo inspection (data: \${XDG_DATA_HOME:-~/.local/share}/cn.hallmark.inspector)"
  exec target/debug/hallmark-app --demo
fi
echo
echo "(no display: showing the CLI; run this from a desktop session to open the app)"
echo "== hallmark score examples/jiangsu-complete.json"
target/debug/hallmark score examples/jiangsu-complete.json
echo
echo "== hallmark aggregate examples/liaoning-panel/*.json (five assessors, one county hall)"
target/debug/hallmark aggregate examples/liaoning-panel/*.json
