#!/bin/sh
# seed.sh: the demo's stand-in for knex seed:run, run by alga-bootstrap with
# psql. Runs every seeds/*.sql in name order. Like Alga's own demo seeds,
# the first one truncates tenants: running it twice destroys data, which is
# why alga-bootstrap gates it.
#
# Usage: seed.sh
# Environment: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE (libpq), and
# DEMO_SEEDS, the directory of the .sql files (default: seeds next to this
# script).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${DEMO_SEEDS:-$here/seeds}

for file in "$dir"/*.sql; do
	[ -e "$file" ] || continue
	echo "seed: running $(basename "$file")"
	psql -X -q -v ON_ERROR_STOP=1 -f "$file"
done
echo "seed: done"
