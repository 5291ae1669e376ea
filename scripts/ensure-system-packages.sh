#!/usr/bin/env bash
# What the tests need from Debian: Chromium (Playwright's own browser download does not work
# offline), Noto CJK and TLWG Thai fonts (so Japanese and Thai pages render their glyphs), and GNU
# gettext (the test that the translation catalogues match the code), and Pango (WeasyPrint renders the
# shared success plan's PDF with it).
# Installs what is missing when we are root; otherwise says what to do. In CI a missing one fails.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v xgettext >/dev/null || missing+=(gettext)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
dpkg -s fonts-thai-tlwg >/dev/null 2>&1 || missing+=(fonts-thai-tlwg)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || missing+=(libpango-1.0-0)
dpkg -s libpangoft2-1.0-0 >/dev/null 2>&1 || missing+=(libpangoft2-1.0-0)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} from Debian's packages for the tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "Missing for the tests: ${missing[*]}. Install with: sudo apt-get install -y ${missing[*]}" >&2
if [ "${CI:-}" = "true" ]; then
  exit 1
fi
