#!/usr/bin/env bash
# README's run command: sets up, builds, and runs hallmark on the bundled demo.
# - Writes the demo bundles (five assessors of one Liaoning county hall, one Jiangsu
#   inspection; signed, with photos and handwritten signatures) into the bundle folder
#   ($HALLMARK_BUNDLE_DIR, default ~/hallmark-bundles).
# - With a display: the tablet app opens on a partly filled Jiangsu inspection; its
#   "⇄ 导入与汇总" screen imports the demo bundles, merges them and writes the signed report.
# - Without one (a server, CI): the CLI runs the lead's workflow on them: import, merge,
#   report (PDF + signature), verify.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app
cargo build --locked --workspace --exclude hallmark-bare-window --bins
target=${CARGO_TARGET_DIR:-target}
H=$target/debug/hallmark
bundles=${HALLMARK_BUNDLE_DIR:-$HOME/hallmark-bundles}
echo "== hallmark rubric check (both seed rubrics)"
$H rubric check rubrics/jiangsu-15min.toml rubrics/liaoning-demo-window.toml | grep -v '^  '
out=target/demo
rm -rf "$out"; mkdir -p "$out"
echo "== hallmark demo $bundles --lead $out/lead.db (a demo bureau root; enrolled tablets and lead)"
$H demo "$bundles" --lead "$out/lead.db"
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  echo "== starting the app with the demo inspection (data: \${XDG_DATA_HOME:-~/.local/share}/cn.hallmark.inspector)"
  HALLMARK_BUNDLE_DIR=$bundles exec "$target/debug/hallmark-app" --demo
fi
echo
echo "(no display: the lead's workflow in the CLI; run this from a desktop session to open the app)"
set -x
$H roster add --db "$out/lead.db" --file "$bundles/roster.tsv"
$H import --db "$out/lead.db" "$bundles"/*.hallmark
$H import --db "$out/lead.db" "$bundles"/liaoning-1-*.hallmark
$H merge --db "$out/lead.db"
$H report --db "$out/lead.db" --rubric liaoning-demo-window --details "$bundles/report-details.toml" --out "$out/liaoning-report.pdf"
$H scores --db "$out/lead.db" --rubric liaoning-demo-window --out "$out/liaoning-scores.xlsx"
$H verify "$out/liaoning-report.pdf" --bundles "$bundles" --trust "$bundles/bureau-root.pem" --crl "$bundles/bureau-crl.pem"
