#!/usr/bin/env bash
# CI: the server's API tests, the CLI end-to-end tests and the PostgreSQL concurrency tests,
# once more against a real PostgreSQL (the Debian package): a throwaway cluster under /tmp
# on a free loopback port, one role and one database, stopped and deleted at the end. Each
# sandbox of the tests gets a database of its own on it (MONCOMPTE_TEST_DATABASE_URL, see
# tests/conftest.py). Exits non-zero when a test fails or none ran.
#
#   bash .ci/postgres.sh                 # after .ci/run's install (.venv)
#   PYTHON=/path/to/python bash .ci/postgres.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-.venv/bin/python}
if [ ! -x "$python" ]; then
  echo "ci-postgres: no Python at $python (set PYTHON, or run .ci/run first)" >&2
  exit 1
fi

# The PostgreSQL driver: the `postgres` extra, locked, if the venv does not have it yet.
if ! "$python" -c 'import psycopg' 2>/dev/null; then
  echo "ci-postgres: installing the postgres extra (requirements/dev.txt)"
  "$python" -m pip install -q --require-hashes -r requirements/dev.txt
fi

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(pg_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci-postgres: PostgreSQL is not installed and this is not root: apt-get install postgresql" >&2
    exit 1
  fi
  echo "ci-postgres: installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  bin=$(pg_bin)
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
work=$(mktemp -d /tmp/moncompte-pg.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$("$python" -c 'import secrets; print(secrets.token_hex(16))')

cleanup() {
  as_pg "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "ci-postgres: $("$bin/postgres" --version) on 127.0.0.1:$port ($work)"
as_pg "$bin/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Throwaway data: fsync off. Connections: every sandbox's pool (up to 40) plus the tests'.
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
as_pg "$bin/psql" -h "$work" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<SQL
CREATE ROLE moncompte LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE moncompte OWNER moncompte;
SQL
# The tests connect over TCP with the password, like a real deployment.
sed -i 's/^\(host.*\)trust$/\1scram-sha-256/' "$work/data/pg_hba.conf"
as_pg "$bin/pg_ctl" -D "$work/data" reload >/dev/null

export DATABASE_URL="postgresql://moncompte:$password@127.0.0.1:$port/moncompte"
export MONCOMPTE_TEST_DATABASE_URL="$DATABASE_URL"

log=$(mktemp)
echo "ci-postgres: pytest tests/api tests/e2e tests/server/test_migrations.py tests/server/test_deploy.py tests/server/test_writer.py tests/reliability/test_postgres.py tests/reliability/test_load.py"
set +e
"$python" -m pytest tests/api tests/e2e tests/server/test_migrations.py tests/server/test_deploy.py tests/server/test_writer.py tests/reliability/test_postgres.py tests/reliability/test_load.py -rs "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "ci-postgres: tests failed ($status); server log: " >&2
  tail -n 30 "$work/server.log" >&2 || true
  rm -f "$log"
  exit "$status"
fi
if ! grep -Eq '[0-9]+ passed' "$log"; then
  echo "ci-postgres: no test ran" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "ci-postgres: ok"
