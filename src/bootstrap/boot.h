/*
 * boot: what the steps of `alga-bootstrap run` share: the plan, the admin
 * password, the connections, the exit codes and what the run record says.
 */
#ifndef ALGA_BOOT_H
#define ALGA_BOOT_H

#include "bootstrap/pg.h"
#include "bootstrap/plan.h"
#include "lib/secret.h"
#include "lib/sha256.h"

#include <stdbool.h>

/* Exit codes, the same in --help, the README and docs/bootstrap.md. */
enum boot_exit {
	BOOT_OK = 0,
	BOOT_USAGE = 2,        /* usage, plan or configuration error */
	BOOT_UNREACHABLE = 3,  /* postgres not reachable before the deadline */
	BOOT_REJECTED = 4,     /* credentials (or the database) rejected */
	BOOT_LOCK = 5,         /* lock not acquired before the deadline */
	BOOT_MIGRATE = 6,      /* migration command failed */
	BOOT_SEED = 7,         /* seed command failed */
	BOOT_PARTIAL_SEED = 8, /* a seed started earlier never finished */
	BOOT_PROVISION = 9,    /* provisioning failed */
	BOOT_WAIT = 10,        /* wait: deadline passed */
	BOOT_INTERRUPTED = 130,
};

#define BOOT_DB_MAX 16

struct boot_db {
	const char *name;
	PGconn *conn;
};

struct boot {
	struct plan *plan;
	struct secret admin_password;
	char port[8];
	const char *revision;
	bool force_migrate;
	bool reseed_partial;
	bool mark_seeded;

	PGconn *lock_conn; /* maintenance database; holds the advisory lock */
	struct boot_db dbs[BOOT_DB_MAX]; /* admin connections per database */
	size_t db_count;

	/* the run record */
	long long run_id;
	char fingerprint[SHA256_HEX_SIZE];
	const char *migration; /* ran, skipped, failed, none */
	const char *seed; /* ran, skipped, adopted, partial, failed, none */
	char message[PG_MESSAGE_MAX];
};

/* The admin target for database dbname. */
void boot_target(const struct boot *boot, const char *dbname,
                 struct pg_target *target);
/*
 * An admin connection to dbname, opened on first use (postgres is known
 * to be up by then, so there is one attempt). NULL after logging why.
 */
PGconn *boot_db(struct boot *boot, const char *dbname);
void boot_close(struct boot *boot);
/* The exit code for a failed step, after recording the failure. */
int boot_fail(struct boot *boot, int code);

#endif
