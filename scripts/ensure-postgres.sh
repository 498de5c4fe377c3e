#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster when it is installed but down, so
# the PostgreSQL tests can run. Prints the state. With FRONTDESK_REQUIRE_ALL
# set (CI), PostgreSQL being unreachable fails the run here; otherwise the
# tests that need it say that they skipped their PostgreSQL half.
set -u
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "postgres: up on 127.0.0.1:5432"
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | head -n 1)
  echo "postgres: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1 || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && { echo "postgres: up"; exit 0; }
    sleep 1
  done
fi
if [ -n "${FRONTDESK_REQUIRE_ALL:-}" ]; then
  echo "postgres: not available on 127.0.0.1:5432, and FRONTDESK_REQUIRE_ALL is set (CI): failing" >&2
  exit 1
fi
echo "postgres: not available on 127.0.0.1:5432 (PostgreSQL tests will say they skipped)"
exit 0
