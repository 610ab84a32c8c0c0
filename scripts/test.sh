#!/usr/bin/env bash
# Runs every test: README's test command, and what .ci/run runs.
# Unit, data-driven and property tests; the store on real SQLite files; the CLI on real
# files; the SIGKILL durability test; and the real app in WebKitWebDriver under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app
if ! command -v tauri-driver >/dev/null; then
  cargo install tauri-driver --locked --version '^2'
fi
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --locked --workspace --bins
HALLMARK_E2E=1 xvfb-run -a -s "-screen 0 1280x1280x24" cargo test --workspace --locked
