#!/usr/bin/env bash
# Installs the system packages hallmark needs on Debian 12, once. Safe to run again.
# Usage: scripts/setup.sh            (build + CLI + tests)
#        scripts/setup.sh --app      (also what running the app and its e2e tests need)
set -euo pipefail

# postgresql: the province records' tests and benchmark run a throwaway cluster (scripts/postgres.sh).
packages=(build-essential pkg-config libwebkit2gtk-4.1-dev libturbojpeg0-dev postgresql)
if [[ "${1:-}" == "--app" ]]; then
  packages+=(xvfb xauth webkit2gtk-driver fonts-noto-cjk fonts-wqy-microhei imagemagick poppler-utils)
  # The bureau dashboard's browser tests (issue #12): Debian's Chromium and its WebDriver;
  # libnss3-tools' certutil trusts the test's bureau root in the browser's own store.
  packages+=(chromium chromium-driver libnss3-tools)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "hallmark setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The RFC 9421 interop test (issue #11) checks hallmark's request signatures with PyPI
# http-message-signatures (and its requests/cryptography), an implementation nobody here wrote.
if ! python3 -c "import http_message_signatures, requests" 2>/dev/null; then
  echo "hallmark setup: installing the Python package http-message-signatures (interop test)" >&2
  python3 -m pip install -q --user http-message-signatures requests 2>/dev/null \
    || python3 -m pip install -q --break-system-packages http-message-signatures requests
fi

if ! command -v cargo >/dev/null; then
  echo "hallmark setup: cargo not found: install Rust (rustup) first, then run this again" >&2
  exit 1
fi
