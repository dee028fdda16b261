/*
 * test_secret_fingerprint: password files, SHA-256, the migration
 * fingerprint and the redaction of secrets from log text.
 */
#include "bootstrap/fingerprint.h"
#include "bootstrap/pg.h"
#include "bootstrap/scram.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/secret.h"
#include "lib/sha256.h"

#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/alga-unit.XXXXXX";

static void write_file(const char *name, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (f != NULL) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

struct secret_case {
	const char *what;
	const char *data;
	size_t len;
	const char *want; /* NULL: an error containing error */
	const char *error;
};

static const struct secret_case secret_cases[] = {
        {"plain", "abcdefgh", 8, "abcdefgh", NULL},
        {"trailing newline stripped", "abcdefgh\n", 9, "abcdefgh", NULL},
        {"trailing CRLF stripped", "abcdefgh\r\n\n", 11, "abcdefgh", NULL},
        {"spaces kept", " a b c d \n", 10, " a b c d ", NULL},
        {"inner newline kept", "abcd\nefgh\n", 10, "abcd\nefgh", NULL},
        {"special characters kept", "'\"\\ @:/#%?\xc3\xa9\n", 13,
         "'\"\\ @:/#%?\xc3\xa9", NULL},
        {"empty refused", "", 0, NULL, "is empty"},
        {"only newlines refused", "\n\r\n", 3, NULL, "is empty"},
        {"NUL refused", "abcd\0efgh", 9, NULL, "contains a NUL byte"},
        {"7 bytes refused", "wrong12\n", 8, NULL,
         "shorter than 8 bytes: set a longer password"},
        {"1 byte refused", "a", 1, NULL, "shorter than 8 bytes"},
};

static void test_secrets(void)
{
	char path[512], error[512];
	struct secret s;

	for (size_t i = 0; i < sizeof(secret_cases) / sizeof(secret_cases[0]);
	     i++) {
		const struct secret_case *c = &secret_cases[i];
		write_file("pw", c->data, c->len);
		snprintf(path, sizeof(path), "%s/pw", tmpdir);
		error[0] = '\0';
		bool ok = secret_read(path, &s, error, sizeof(error));
		if (c->want != NULL)
			TAP_OK(ok && strcmp(s.text, c->want) == 0 &&
			               s.len == strlen(c->want),
			       "secret: %s", c->what);
		else
			TAP_OK(!ok && strstr(error, c->error) != NULL &&
			               strstr(error, path) != NULL,
			       "secret: %s (%s)", c->what, error);
		secret_free(&s);
	}
	char *big = malloc(SECRET_MAX + 10);
	memset(big, 'x', SECRET_MAX + 10);
	write_file("pw", big, SECRET_MAX + 10);
	free(big);
	TAP_OK(!secret_read(path, &s, error, sizeof(error)) &&
	               strstr(error, "larger than") != NULL,
	       "secret: oversized file refused");
	TAP_OK(!secret_read("/nonexistent/pw", &s, error, sizeof(error)) &&
	               strstr(error, "/nonexistent/pw") != NULL,
	       "secret: missing file named");
}

static void test_sha256(void)
{
	static const struct {
		const char *in, *hex;
	} cases[] = {
	        {"",
	         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	        {"abc",
	         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	unsigned char digest[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	struct sha256 ctx;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sha256_init(&ctx);
		sha256_update(&ctx, cases[i].in, strlen(cases[i].in));
		sha256_final(&ctx, digest);
		sha256_hex(digest, hex);
		TAP_IS_STR(hex, cases[i].hex, "sha256 test vector");
	}
	sha256_init(&ctx);
	for (int i = 0; i < 1000000; i++)
		sha256_update(&ctx, "a", 1);
	sha256_final(&ctx, digest);
	sha256_hex(digest, hex);
	TAP_IS_STR(
	        hex,
	        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	        "sha256 of a million a");
}

static void test_fingerprint(void)
{
	char dir[600], a[SHA256_HEX_SIZE], b[SHA256_HEX_SIZE], error[512];
	size_t files;

	snprintf(dir, sizeof(dir), "%s/m", tmpdir);
	mkdir(dir, 0700);
	write_file("m/001.sql", "create table t ();\n", 19);
	write_file("m/002.sql", "select 1;\n", 10);
	write_file("m/.hidden", "ignored", 7);
	TAP_OK(fingerprint_compute(dir, "r1", a, &files, error,
	                           sizeof(error)) &&
	               files == 2,
	       "fingerprint: two files, the hidden one skipped");
	fingerprint_compute(dir, "r1", b, &files, error, sizeof(error));
	TAP_IS_STR(b, a, "fingerprint: stable");
	fingerprint_compute(dir, "r2", b, &files, error, sizeof(error));
	TAP_OK(strcmp(a, b) != 0, "fingerprint: revision counts");
	write_file("m/.hidden", "changed", 7);
	fingerprint_compute(dir, "r1", b, &files, error, sizeof(error));
	TAP_IS_STR(b, a, "fingerprint: hidden files do not count");
	write_file("m/002.sql", "select 2;\n", 10);
	fingerprint_compute(dir, "r1", b, &files, error, sizeof(error));
	TAP_OK(strcmp(a, b) != 0, "fingerprint: contents count");
	write_file("m/002.sql", "select 1;\n", 10);
	write_file("m/003.sql", "", 0);
	fingerprint_compute(dir, "r1", b, &files, error, sizeof(error));
	TAP_OK(strcmp(a, b) != 0 && files == 3,
	       "fingerprint: a new empty file counts");
	TAP_OK(!fingerprint_compute("/nonexistent", "r1", b, &files, error,
	                            sizeof(error)) &&
	               strstr(error, "/nonexistent") != NULL,
	       "fingerprint: a missing directory is an error");
}

static void test_redaction(void)
{
	char out[256];

	log_redact("s3cr'et");
	log_redact("");
	log_redacted("pw=s3cr'et and s3cr'et!", out, sizeof(out));
	TAP_IS_STR(out, "pw=[redacted] and [redacted]!",
	           "redaction replaces every occurrence");
	log_redacted("s3cr", out, sizeof(out));
	TAP_IS_STR(out, "s3cr", "a prefix alone is not replaced");
	log_redact_clear();
	log_redacted("s3cr'et", out, sizeof(out));
	TAP_IS_STR(out, "s3cr'et", "cleared secrets are forgotten");
	log_redact("wrongpw1");
	log_verbatim("/tmp/wrongpw1/pw");
	log_redacted("the password comes from /tmp/wrongpw1/pw: wrongpw1", out,
	             sizeof(out));
	TAP_IS_STR(out, "the password comes from /tmp/wrongpw1/pw: [redacted]",
	           "redaction never cuts a verbatim path");
	log_redact("x/wrongp");
	log_redacted("at /tmp/wrongpw1/pw", out, sizeof(out));
	TAP_IS_STR(
	        out, "at /tmp/wrongpw1/pw",
	        "a secret that overlaps a verbatim path is left alone there");
	log_redact_clear();
	log_redacted("/tmp/wrongpw1/pw", out, sizeof(out));
	TAP_IS_STR(out, "/tmp/wrongpw1/pw", "verbatim texts are forgotten too");
}

static void test_describe(void)
{
	struct proc_result r = {.outcome = PROC_NOT_STARTED, .error = 0};
	char buf[128];

	proc_describe(&r, "the seed command", buf, sizeof(buf));
	TAP_IS_STR(buf, "the seed command could not be started",
	           "describe: not started, no cause known: no \"Success\"");
	r.error = EAGAIN;
	proc_describe(&r, "the seed command", buf, sizeof(buf));
	TAP_OK(strstr(buf, "could not be started: ") != NULL,
	       "describe: not started with the cause");
	r = (struct proc_result){.outcome = PROC_TIMED_OUT,
	                         .elapsed_ms = 12400,
	                         .timeout_ms = 2000,
	                         .grace_ms = 10000};
	proc_describe(&r, "the migration command", buf, sizeof(buf));
	TAP_IS_STR(buf,
	           "the migration command timed out after 2 s and was stopped "
	           "(SIGTERM, then SIGKILL after a grace of 10 s; 12 s in all)",
	           "describe: the configured timeout, the grace apart");
}

static void test_pg_error_text(void)
{
	struct pg_error known = {"42501", "permission denied"};
	struct pg_error unknown = {"", "server closed the connection"};
	char buf[PG_MESSAGE_MAX + 32];

	TAP_IS_STR(pg_error_text(&known, buf, sizeof(buf)),
	           "permission denied (SQLSTATE 42501)",
	           "pg error: the SQLSTATE when known");
	TAP_IS_STR(pg_error_text(&unknown, buf, sizeof(buf)),
	           "server closed the connection",
	           "pg error: no empty (SQLSTATE ) when unknown");
}

static void test_scram(void)
{
	/* Made with Python's hashlib for "pencil", 4096 iterations. */
	static const char verifier[] =
	        "SCRAM-SHA-256$4096:YWxnYS11bml0LXNhbHQxNg==$"
	        "FfFxwBCAKeSu6TppbjE0s3FerYCVKtdSYbUCT4UBwj4=:"
	        "l09U+4VGQVJ9G6i2COH+kowlgOv157MdUzVaU2UCAxo=";

	TAP_OK(scram_verifier_matches(verifier, "pencil"),
	       "scram: the right password matches");
	TAP_OK(!scram_verifier_matches(verifier, "pencil2"),
	       "scram: another password does not");
	TAP_OK(!scram_verifier_matches("md5abc", "pencil"),
	       "scram: an md5 hash never matches");
	TAP_OK(!scram_verifier_matches(NULL, "pencil"),
	       "scram: no verifier never matches");
	TAP_OK(!scram_verifier_matches("SCRAM-SHA-256$x:y$z:w", "pencil"),
	       "scram: a malformed verifier never matches");
	TAP_OK(!scram_verifier_matches(verifier, "p\xc3\xa9ncil"),
	       "scram: non-ASCII passwords are left to libpq");
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_secrets();
	test_describe();
	test_pg_error_text();
	test_sha256();
	test_fingerprint();
	test_redaction();
	test_scram();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
