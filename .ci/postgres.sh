#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1:55432 for the store
# tests and print the line that points them at it:
#   eval "$(.ci/postgres.sh)"
# Idempotent: installs PostgreSQL with apt-get if missing, initialises the
# cluster once, starts it unless it is already running. Needs root (it
# runs the server as the postgres user). Progress goes to stderr.
set -euo pipefail

PGROOT=${PGROOT:-/tmp/pg}
PORT=${PGPORT_TEST:-55432}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "installing postgresql" >&2
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

mkdir -p "$PGROOT"
chown postgres "$PGROOT"
if [ ! -f "$PGROOT/data/PG_VERSION" ]; then
	su postgres -c "$BIN/initdb -D $PGROOT/data -A trust -U postgres" >&2
fi
if ! su postgres -c "$BIN/pg_ctl -D $PGROOT/data status" >/dev/null 2>&1; then
	su postgres -c "$BIN/pg_ctl -D $PGROOT/data -o '-k $PGROOT -h 127.0.0.1 -p $PORT' -l $PGROOT/log -w start" >&2
fi
echo "export CLEARANCE_TEST_POSTGRES='postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable'"
