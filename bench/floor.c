/*
 * floor: the least a bootstrap restart can cost: connect to PostgreSQL
 * with the same authentication (SCRAM over TCP, password from a file) and
 * run one query. bench/bench-bootstrap.sh times it next to alga-bootstrap.
 *
 * Usage: floor HOST PORT USER DBNAME PASSWORD_FILE
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char password[4096];
	const char *keys[] = {"host",   "port",     "user",
	                      "dbname", "password", NULL};
	const char *values[6];
	PGresult *res;
	PGconn *conn;
	FILE *f;
	size_t n;
	int ok;

	if (argc != 6)
		return 2;
	f = fopen(argv[5], "r");
	if (f == NULL)
		return 2;
	n = fread(password, 1, sizeof(password) - 1, f);
	fclose(f);
	while (n > 0 && (password[n - 1] == '\n' || password[n - 1] == '\r'))
		n--;
	password[n] = '\0';
	values[0] = argv[1];
	values[1] = argv[2];
	values[2] = argv[3];
	values[3] = argv[4];
	values[4] = password;
	values[5] = NULL;
	conn = PQconnectdbParams(keys, values, 0);
	memset(password, 0, sizeof(password));
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	res = PQexec(conn, "select 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	PQfinish(conn);
	return ok ? 0 : 1;
}
