#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster and makes a role the tests can use; prints its DATABASE_URL.
# Exit 3 (and a message on stderr) when PostgreSQL is not installed here.
set -euo pipefail
# Only the URL may reach stdout (the caller captures it): everything else goes to stderr.
ROLE=touchpoint_test
PASSWORD=touchpoint_test
# Several checkouts on one machine each set their own name, so their test databases never collide.
DB="${TOUCHPOINT_TEST_PG_DB:-touchpoint_test}"
if ! command -v pg_ctlcluster >/dev/null || ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  echo "PostgreSQL is not installed on this machine." >&2
  exit 3
fi
read -r VERSION CLUSTER PORT STATUS _rest < <(pg_lsclusters -h | head -n 1)
if [ "$STATUS" != "online" ]; then
  if [ "$(id -u)" = "0" ]; then
    pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
  else
    sudo -n pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
  fi
fi
as_postgres() {
  if [ "$(id -u)" = "0" ]; then su postgres -c "$1"; else sudo -n -u postgres sh -c "$1"; fi
}
for _ in $(seq 1 30); do
  as_postgres "psql -p $PORT -tAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
as_postgres "psql -p $PORT -v ON_ERROR_STOP=1 -qc \"DO \\\$\\\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF; END \\\$\\\$;\"" >/dev/null
if ! as_postgres "psql -p $PORT -tAc \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"" | grep -q 1; then
  as_postgres "createdb -p $PORT -O $ROLE $DB" >&2
fi
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
