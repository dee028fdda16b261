#!/bin/sh
# migrate.sh: the demo's stand-in for knex migrate:latest, run by
# alga-bootstrap with psql. Applies every migrations/*.sql not yet recorded
# in demo_migrations, each in its own transaction, in name order, and holds
# a knex-like lock row in knex_migrations_lock while it works, so that a
# killed run leaves the same trace knex leaves.
#
# Usage: migrate.sh
# Environment: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE (libpq), and
# DEMO_MIGRATIONS, the directory of the .sql files (default: migrations
# next to this script).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${DEMO_MIGRATIONS:-$here/migrations}

PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
export PGOPTIONS

psql_q() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

psql_q -c "create table if not exists demo_migrations (
	name text primary key, applied_at timestamptz not null default now());
create table if not exists knex_migrations_lock (
	index serial primary key, is_locked integer not null default 0);
insert into knex_migrations_lock (is_locked)
	select 0 where not exists (select 1 from knex_migrations_lock)"

locked=$(psql_q -c "update knex_migrations_lock set is_locked = 1
	where is_locked = 0 returning index")
if [ -z "$locked" ]; then
	echo "migrate: the migration table is already locked" >&2
	exit 1
fi

applied=0
for file in "$dir"/*.sql; do
	[ -e "$file" ] || continue
	name=$(basename "$file")
	done_already=$(echo "select 1 from demo_migrations where name = :'name'" |
		psql_q -v name="$name")
	[ -z "$done_already" ] || continue
	echo "migrate: applying $name"
	{
		cat "$file"
		echo "insert into demo_migrations (name) values (:'name');"
	} | psql_q -1 -v name="$name"
	applied=$((applied + 1))
done

psql_q -c "update knex_migrations_lock set is_locked = 0"
echo "migrate: $applied migrations applied"
