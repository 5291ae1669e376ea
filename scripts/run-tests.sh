#!/usr/bin/env bash
# The whole suite twice: on SQLite, then on PostgreSQL (skipped, saying so, where it is not installed).
set -uo pipefail
cd "$(dirname "$0")/.."
export TOUCHPOINT_DATA_DIR="${TOUCHPOINT_DATA_DIR:-$(mktemp -d)}"

if [ "${1:-}" = "--fast" ]; then
  # The edit-run loop: SQLite only, no browser, spread over the machine's cores.
  shift
  echo "=== Fast lane: SQLite, no browser tests"
  exec env DATABASE_URL="sqlite:///$TOUCHPOINT_DATA_DIR/test.sqlite3" \
    .venv/bin/python -m pytest -m "not browser" -n "${TEST_WORKERS:-auto}" "$@"
fi
# Two workers (pytest-xdist) by default: the machine has two cores and the suite waits on browsers and
# servers often enough that both stay busy. TEST_WORKERS=0 runs it in one process.
# The slowest tests are listed at the end of each half: where the next minutes of the suite go.
PYTEST=(.venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --durations=15 "$@")

echo "=== Test suite on SQLite"
DATABASE_URL="sqlite:///$TOUCHPOINT_DATA_DIR/test.sqlite3" "${PYTEST[@]}"
sqlite_status=$?

echo "=== Test suite on PostgreSQL"
postgres_status=0
if url=$(scripts/postgres-for-tests.sh); then
  url=$(printf '%s\n' "$url" | tail -n 1)
  echo "Using $url"
  DATABASE_URL="$url" "${PYTEST[@]}"
  postgres_status=$?
else
  code=$?
  if [ "$code" = "3" ]; then
    echo "SKIPPED: the PostgreSQL half of the suite, because PostgreSQL is not installed on this machine."
  else
    echo "PostgreSQL is installed but could not be started or prepared (exit $code)." >&2
    postgres_status=$code
  fi
fi

if [ "$sqlite_status" != "0" ] || [ "$postgres_status" != "0" ]; then
  echo "FAILED: SQLite run exit $sqlite_status, PostgreSQL run exit $postgres_status" >&2
  exit 1
fi
