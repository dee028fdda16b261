/*
 * provision: idempotent DDL driven by the plan.
 */
#include "bootstrap/provision.h"

#include "bootstrap/scram.h"
#include "lib/interrupt.h"
#include "lib/log.h"
#include "lib/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROVISION_SQL_MAX 4096

/* ---- helpers ---- */

/* Runs DDL; a concurrent creator's race counts as success. */
static bool provision_ddl(PGconn *conn, const char *sql, const char *what)
{
	struct pg_error error = {"", ""};
	char text[PG_MESSAGE_MAX + 32];

	if (pg_command(conn, sql, &error))
		return true;
	if (pg_is_race(&error)) {
		log_info("%s: already done by someone else (%s)", what,
		         error.sqlstate);
		return true;
	}
	log_error("%s failed: %s", what,
	          pg_error_text(&error, text, sizeof(text)));
	return false;
}

/* "SELECT, INSERT" from a list of checked keywords. */
static void provision_words(const struct plan_list *list, const char *sep,
                            char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < list->count && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%s",
		                      i > 0 ? sep : "", list->items[i]);
}

/* A single catalog lookup by name; found false when there is no row. */
static bool provision_lookup(PGconn *conn, const char *sql, const char *name,
                             char *value, size_t size, bool *found)
{
	const char *params[] = {name};
	struct pg_error error = {"", ""};

	if (pg_value(conn, sql, 1, params, value, size, found, &error))
		return true;
	log_error("cannot read the catalog for %s: %s", name, error.message);
	return false;
}

/* ---- roles ---- */

/*
 * " PASSWORD 'SCRAM-SHA-256$...'" for the role's password file, or NULL
 * in *clause when there is no file or current (the stored verifier, or
 * NULL) already belongs to the password.
 */
static bool provision_verifier(PGconn *conn, const struct plan_role *role,
                               const char *current, char **clause)
{
	struct secret password;
	char error[512];
	char *verifier, *literal;

	*clause = NULL;
	if (role->password_file == NULL)
		return true;
	if (!secret_read(role->password_file, &password, error,
	                 sizeof(error))) {
		if (interrupt_pending() == 0)
			log_error("role %s: %s", role->name, error);
		return false;
	}
	log_redact(password.text);
	if (scram_verifier_matches(current, password.text)) {
		secret_free(&password);
		return true;
	}
	verifier = PQencryptPasswordConn(conn, password.text, role->name,
	                                 "scram-sha-256");
	secret_free(&password);
	if (verifier == NULL) {
		log_error("role %s: cannot compute the SCRAM verifier: %s",
		          role->name, PQerrorMessage(conn));
		return false;
	}
	literal = pg_literal(conn, verifier);
	PQfreemem(verifier);
	if (literal == NULL)
		return false;
	*clause = malloc(strlen(literal) + 16);
	if (*clause != NULL)
		sprintf(*clause, " PASSWORD %s", literal);
	PQfreemem(literal);
	return *clause != NULL;
}

/*
 * Whether the role exists, and its stored verifier when we may read it
 * (the admin is normally a superuser; otherwise the password is set anew).
 */
static bool provision_role_state(PGconn *conn, const char *name, bool *found,
                                 char *verifier, size_t size)
{
	const char *params[] = {name};
	struct pg_error error = {"", ""};
	char value[8];

	if (pg_value(conn,
	             "select coalesce(rolpassword, '') from pg_authid"
	             " where rolname = $1",
	             1, params, verifier, size, found, &error))
		return true;
	verifier[0] = '\0';
	if (strcmp(error.sqlstate, "42501") != 0) {
		log_error("cannot read the catalog for %s: %s", name,
		          error.message);
		return false;
	}
	return provision_lookup(conn,
	                        "select 1 from pg_roles where rolname = $1",
	                        name, value, sizeof(value), found);
}

static bool provision_role(PGconn *conn, const struct plan_role *role)
{
	char sql[PROVISION_SQL_MAX], attrs[512], current[512], what[128];
	char *name = NULL, *password = NULL;
	bool found, ok = false;

	if (!provision_role_state(conn, role->name, &found, current,
	                          sizeof(current)))
		return false;
	name = pg_ident(conn, role->name);
	if (name == NULL ||
	    !provision_verifier(conn, role, found ? current : NULL, &password))
		goto out;
	provision_words(&role->attributes, " ", attrs, sizeof(attrs));
	if (!found) {
		snprintf(sql, sizeof(sql), "CREATE ROLE %s WITH %s%s", name,
		         attrs, password != NULL ? password : "");
		snprintf(what, sizeof(what), "create role %s", role->name);
		ok = provision_ddl(conn, sql, what);
		if (ok)
			log_info("role %s created", role->name);
		/* A racing creator may have set other attributes: go on. */
		if (!ok)
			goto out;
	}
	if (role->attributes.count == 0 && password == NULL) {
		ok = true;
		goto out;
	}
	snprintf(sql, sizeof(sql), "ALTER ROLE %s WITH %s%s", name, attrs,
	         password != NULL ? password : "");
	snprintf(what, sizeof(what), "alter role %s", role->name);
	ok = provision_ddl(conn, sql, what);
	if (ok && password != NULL && found)
		log_info("role %s: password updated from %s", role->name,
		         role->password_file);
out:
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	PQfreemem(name);
	return ok;
}

/* ---- databases ---- */

/* "name"."part" for a dotted setting name. */
static void provision_setting_name(PGconn *conn, const char *setting, char *out,
                                   size_t size)
{
	char part[PLAN_NAME_MAX + 1];
	size_t o = 0;

	out[0] = '\0';
	while (*setting != '\0' && o < size) {
		size_t n = strcspn(setting, ".");
		snprintf(part, sizeof(part), "%.*s", (int)n, setting);
		char *quoted = pg_ident(conn, part);
		if (quoted == NULL)
			return;
		o += (size_t)snprintf(out + o, size - o, "%s%s",
		                      o > 0 ? "." : "", quoted);
		PQfreemem(quoted);
		setting += n;
		if (*setting == '.')
			setting++;
	}
}

static bool provision_settings(PGconn *conn, const struct plan_database *db,
                               const char *name)
{
	static const char sql_current[] =
	        "select 1 from pg_db_role_setting s"
	        " join pg_database d on d.oid = s.setdatabase"
	        " where d.datname = $1 and s.setrole = 0"
	        " and $2 = any (s.setconfig)";
	char sql[PROVISION_SQL_MAX], setting[256], value[8], what[160];
	struct pg_error error = {"", ""};

	for (size_t i = 0; i < db->settings.count; i++) {
		const struct plan_pair *pair = &db->settings.items[i];
		char *literal, *wanted;
		bool found;
		wanted = malloc(strlen(pair->name) + strlen(pair->value) + 2);
		if (wanted == NULL)
			return false;
		sprintf(wanted, "%s=%s", pair->name, pair->value);
		const char *params[] = {db->name, wanted};
		bool ok = pg_value(conn, sql_current, 2, params, value,
		                   sizeof(value), &found, &error);
		free(wanted);
		if (!ok) {
			log_error("cannot read the settings of database %s: %s",
			          db->name, error.message);
			return false;
		}
		if (found)
			continue;
		provision_setting_name(conn, pair->name, setting,
		                       sizeof(setting));
		literal = pg_literal(conn, pair->value);
		if (literal == NULL)
			return false;
		snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET %s = %s",
		         name, setting, literal);
		PQfreemem(literal);
		snprintf(what, sizeof(what), "set %s on database %s",
		         pair->name, db->name);
		if (!provision_ddl(conn, sql, what))
			return false;
		log_info("database %s: %s set", db->name, pair->name);
	}
	return true;
}

static bool provision_database(struct boot *boot, PGconn *conn,
                               const struct plan_database *db)
{
	const char *owner = db->owner != NULL ? db->owner : boot->plan->user;
	char sql[PROVISION_SQL_MAX], current[PLAN_NAME_MAX + 1], what[128];
	char *name = pg_ident(conn, db->name), *role = pg_ident(conn, owner);
	bool found, ok = false;

	if (name == NULL || role == NULL ||
	    !provision_lookup(conn,
	                      "select pg_get_userbyid(datdba) from pg_database"
	                      " where datname = $1",
	                      db->name, current, sizeof(current), &found))
		goto out;
	snprintf(what, sizeof(what), "create database %s", db->name);
	if (!found) {
		/* CREATE DATABASE refuses to share its statement. */
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER %s", name,
		         role);
		if (!provision_ddl(conn, sql, what))
			goto out;
		log_info("database %s created, owner %s", db->name, owner);
	} else if (strcmp(current, owner) != 0) {
		snprintf(sql, sizeof(sql), "ALTER DATABASE %s OWNER TO %s",
		         name, role);
		snprintf(what, sizeof(what), "change the owner of database %s",
		         db->name);
		if (!provision_ddl(conn, sql, what))
			goto out;
		log_info("database %s: owner changed from %s to %s", db->name,
		         current, owner);
	}
	ok = provision_settings(conn, db, name);
out:
	PQfreemem(name);
	PQfreemem(role);
	return ok;
}

/* ---- inside each database ---- */

static bool provision_extension(struct boot *boot,
                                const struct plan_extension *ext)
{
	PGconn *conn = boot_db(boot, ext->database);
	char sql[PROVISION_SQL_MAX], value[64], what[128];
	char *name, *schema = NULL;
	bool found, ok;

	if (conn == NULL ||
	    !provision_lookup(conn,
	                      "select extversion from pg_extension"
	                      " where extname = $1",
	                      ext->name, value, sizeof(value), &found))
		return false;
	if (found)
		return true;
	if (!provision_lookup(conn,
	                      "select 1 from pg_available_extensions"
	                      " where name = $1",
	                      ext->name, value, sizeof(value), &found))
		return false;
	if (!found && !ext->required) {
		log_warn(
		        "optional extension %s is not available in this PostgreSQL; skipped",
		        ext->name);
		return true;
	}
	if (!found) {
		log_error(
		        "required extension %s is not available in this PostgreSQL",
		        ext->name);
		log_hint(
		        "use a PostgreSQL image that ships it, or mark it required: false in the plan");
		return false;
	}
	name = pg_ident(conn, ext->name);
	if (ext->schema != NULL)
		schema = pg_ident(conn, ext->schema);
	snprintf(sql, sizeof(sql), "CREATE EXTENSION IF NOT EXISTS %s%s%s",
	         name, schema != NULL ? " SCHEMA " : "",
	         schema != NULL ? schema : "");
	PQfreemem(name);
	PQfreemem(schema);
	snprintf(what, sizeof(what), "create extension %s in %s", ext->name,
	         ext->database);
	ok = provision_ddl(conn, sql, what);
	if (ok)
		log_info("extension %s created in database %s", ext->name,
		         ext->database);
	return ok;
}

static bool provision_schema(struct boot *boot, const struct plan_schema *sch)
{
	const char *owner = sch->owner != NULL ? sch->owner : boot->plan->user;
	PGconn *conn = boot_db(boot, sch->database);
	char sql[PROVISION_SQL_MAX], current[PLAN_NAME_MAX + 1], what[128];
	char *name = NULL, *role = NULL;
	bool found, ok = false;

	if (conn == NULL ||
	    !provision_lookup(conn,
	                      "select pg_get_userbyid(nspowner)"
	                      " from pg_namespace where nspname = $1",
	                      sch->name, current, sizeof(current), &found))
		return false;
	if (found && strcmp(current, owner) == 0)
		return true;
	name = pg_ident(conn, sch->name);
	role = pg_ident(conn, owner);
	if (name == NULL || role == NULL)
		goto out;
	if (!found)
		snprintf(sql, sizeof(sql),
		         "CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s",
		         name, role);
	else
		snprintf(sql, sizeof(sql), "ALTER SCHEMA %s OWNER TO %s", name,
		         role);
	snprintf(what, sizeof(what), "%s schema %s in %s",
	         found ? "change the owner of" : "create", sch->name,
	         sch->database);
	ok = provision_ddl(conn, sql, what);
	if (ok)
		log_info("schema %s in database %s %s, owner %s", sch->name,
		         sch->database, found ? "changed" : "created", owner);
out:
	PQfreemem(name);
	PQfreemem(role);
	return ok;
}

/* "ON DATABASE x", "ON SCHEMA s", "ON ALL TABLES IN SCHEMA s" ... */
static void provision_grant_target(PGconn *conn, const struct plan_grant *g,
                                   char *out, size_t size)
{
	bool db = strcmp(g->on, "database") == 0;
	char *name = pg_ident(conn, db ? g->database : g->schema);

	if (name == NULL) {
		out[0] = '\0';
		return;
	}
	if (db)
		snprintf(out, size, "DATABASE %s", name);
	else if (strcmp(g->on, "schema") == 0)
		snprintf(out, size, "SCHEMA %s", name);
	else if (strcmp(g->on, "tables") == 0)
		snprintf(out, size, "ALL TABLES IN SCHEMA %s", name);
	else if (strcmp(g->on, "sequences") == 0)
		snprintf(out, size, "ALL SEQUENCES IN SCHEMA %s", name);
	else
		snprintf(out, size, "ALL FUNCTIONS IN SCHEMA %s", name);
	PQfreemem(name);
}

static bool provision_grant(struct boot *boot, const struct plan_role *role,
                            const struct plan_grant *g)
{
	/* A database's own privileges live in the shared catalog: the
	 * maintenance session grants them, without a login to that database. */
	PGconn *conn = boot_db(boot, strcmp(g->on, "database") == 0
	                                     ? boot->plan->database
	                                     : g->database);
	char sql[PROVISION_SQL_MAX], target[256], privs[256], what[640];
	char *grantee;
	bool ok;

	if (conn == NULL)
		return false;
	grantee = pg_ident(conn, role->name);
	if (grantee == NULL)
		return false;
	provision_grant_target(conn, g, target, sizeof(target));
	provision_words(&g->privileges, ", ", privs, sizeof(privs));
	snprintf(sql, sizeof(sql), "GRANT %s ON %s TO %s", privs, target,
	         grantee);
	PQfreemem(grantee);
	snprintf(what, sizeof(what), "grant %s on %s %s to %s", privs, g->on,
	         g->schema != NULL ? g->schema : g->database, role->name);
	ok = provision_ddl(conn, sql, what);
	return ok;
}

static bool provision_default(struct boot *boot, const struct plan_role *role,
                              const struct plan_default_privilege *d)
{
	PGconn *conn = boot_db(boot, d->database);
	char sql[PROVISION_SQL_MAX], privs[256], what[640];
	char *owner, *schema, *grantee;
	bool ok = false;

	if (conn == NULL)
		return false;
	owner = pg_ident(conn, d->for_role);
	schema = pg_ident(conn, d->schema);
	grantee = pg_ident(conn, role->name);
	if (owner != NULL && schema != NULL && grantee != NULL) {
		provision_words(&d->privileges, ", ", privs, sizeof(privs));
		snprintf(sql, sizeof(sql),
		         "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s"
		         " GRANT %s ON %s TO %s",
		         owner, schema, privs,
		         strcmp(d->on, "tables") == 0      ? "TABLES"
		         : strcmp(d->on, "sequences") == 0 ? "SEQUENCES"
		                                           : "FUNCTIONS",
		         grantee);
		snprintf(what, sizeof(what),
		         "default privileges on %s in %s.%s for %s", d->on,
		         d->database, d->schema, role->name);
		ok = provision_ddl(conn, sql, what);
	}
	PQfreemem(owner);
	PQfreemem(schema);
	PQfreemem(grantee);
	return ok;
}

/* Grants; only those on objects a migration creates when after is set. */
static bool provision_grants(struct boot *boot, bool after)
{
	for (size_t i = 0; i < boot->plan->role_count; i++) {
		const struct plan_role *role = &boot->plan->roles[i];
		for (size_t j = 0; j < role->grant_count; j++) {
			const struct plan_grant *g = &role->grants[j];
			bool objects = strcmp(g->on, "database") != 0 &&
			               strcmp(g->on, "schema") != 0;
			if (after && !objects)
				continue;
			if (!provision_grant(boot, role, g))
				return false;
		}
		for (size_t j = 0; !after && j < role->default_count; j++)
			if (!provision_default(boot, role, &role->defaults[j]))
				return false;
	}
	return true;
}

bool provision_run(struct boot *boot)
{
	PGconn *conn = boot->lock_conn;
	const struct plan *plan = boot->plan;

	for (size_t i = 0; i < plan->role_count; i++)
		if (!provision_role(conn, &plan->roles[i]))
			return false;
	for (size_t i = 0; i < plan->database_count; i++)
		if (!provision_database(boot, conn, &plan->databases[i]))
			return false;
	for (size_t i = 0; i < plan->extension_count; i++)
		if (!provision_extension(boot, &plan->extensions[i]))
			return false;
	for (size_t i = 0; i < plan->schema_count; i++)
		if (!provision_schema(boot, &plan->schemas[i]))
			return false;
	return provision_grants(boot, false);
}

bool provision_grants_after_migrate(struct boot *boot)
{
	return provision_grants(boot, true);
}
