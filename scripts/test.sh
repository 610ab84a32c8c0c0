#!/usr/bin/env bash
# Runs every test: README's test command, and what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app
cargo test --workspace --locked
