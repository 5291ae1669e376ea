#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
# Installs it when missing and we are root; otherwise says what to do. In CI a missing browser fails.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Chromium from Debian's packages for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is not installed at $CHROMIUM: run 'sudo apt-get install -y chromium'." >&2
if [ "${CI:-}" = "true" ]; then
  exit 1
fi
