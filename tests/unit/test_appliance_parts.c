/*
 * test_appliance_parts: the small parts of alga-appliance, table by table:
 * resource quantities, base64, workload patterns, the rules loader's errors,
 * and child processes (both pipes drained, how a child ended).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/child.h"
#include "appliance/objects.h"
#include "appliance/quantity.h"
#include "appliance/rules.h"
#include "tap.h"

static void test_quantities(void)
{
	static const struct {
		const char *text;
		bool ok;
		long millicores;
	} cpus[] = {
	        {"500m", true, 500},    {"1", true, 1000},
	        {"0.25", true, 250},    {"1.5", true, 1500},
	        {"2k", true, 2000000},  {"", false, 0},
	        {"-1", false, 0},       {"1x", false, 0},
	        {"0x10", false, 0},     {"nan", false, 0},
	        {"1e3", true, 1000000}, {"0.0001", true, 1},
	};
	static const struct {
		const char *text;
		bool ok;
		long long bytes;
	} memories[] = {
	        {"128Mi", true, 134217728}, {"1Gi", true, 1073741824},
	        {"1G", true, 1000000000},   {"512", true, 512},
	        {"1.5Ki", true, 1536},      {"Mi", false, 0},
	        {"12 Mi", false, 0},        {"inf", false, 0},
	};

	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		long value = -1;
		bool ok = quantity_cpu(cpus[i].text, &value);

		tap_ok(ok == cpus[i].ok && (!ok || value == cpus[i].millicores),
		       "cpu \"%s\" -> %s %ld", cpus[i].text,
		       ok ? "ok" : "refused", ok ? value : 0);
	}
	for (size_t i = 0; i < sizeof(memories) / sizeof(memories[0]); i++) {
		long long value = -1;
		bool ok = quantity_memory(memories[i].text, &value);

		tap_ok(ok == memories[i].ok &&
		               (!ok || value == memories[i].bytes),
		       "memory \"%s\" -> %s %lld", memories[i].text,
		       ok ? "ok" : "refused", ok ? value : 0);
	}
}

static void test_base64(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	        {"aGVsbG8=", "hello"},
	        {"aGVsbG8gd29ybGQ=", "hello world"},
	        {"", ""},
	        {"YQ==", "a"},
	        {"not base64!", NULL},
	        {"YQ==YQ", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		char *got = objects_base64_decode(cases[i].text, &len);

		tap_ok(cases[i].want ? got && strcmp(got, cases[i].want) == 0
		                     : got == NULL,
		       "base64 \"%s\"", cases[i].text);
		free(got);
	}
}

static void test_patterns(void)
{
	static const struct {
		const char *pattern;
		const char *release, *kind, *name;
		bool match;
	} cases[] = {
	        {"temporal", "temporal", "Deployment", "x", true},
	        {"temporal", "temporal-worker", "Deployment", "x", false},
	        {"temporal/*", "temporal", "Job", "schema", true},
	        {"alga-core/Job/alga-core-bootstrap-*", "alga-core", "Job",
	         "alga-core-bootstrap-1a2b3c4d", true},
	        {"alga-core/Job/alga-core-bootstrap-*", "alga-core",
	         "Deployment", "alga-core-bootstrap-x", false},
	        {"*/Deployment/*", "email-service", "Deployment", "e", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(rules_match(cases[i].pattern, cases[i].release,
		                   cases[i].kind,
		                   cases[i].name) == cases[i].match,
		       "pattern %s %s %s/%s/%s", cases[i].pattern,
		       cases[i].match ? "matches" : "does not match",
		       cases[i].release, cases[i].kind, cases[i].name);
}

static void test_rules_errors(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	        {"namespace: alga\nreplica: 1\n",
	         ":2: unknown key \"replica\""},
	        {"- a\n", ":1: the rules must be a map"},
	        {"replicas: one\n", ":1: replicas must be a whole number"},
	        {"postgres:\n  service: nohost\n", "must be host:port"},
	        {"postgres:\n  service: h:port\n", "must be host:port"},
	        {"postgres:\n  viaPgbouncer:\n    - {what: x}\n",
	         ":3: a workload pattern needs match"},
	        {"postgres:\n  viaPgbouncer:\n    - {match: a, optional: maybe}\n",
	         "optional must be true or false"},
	        {"podSecurity: {default: strict}\n", "podSecurity levels"},
	        {"budget: {memory: lots}\n", "not a memory quantity"},
	        {"releases: {a: 1}\n", "releases must be a list of texts"},
	        {"a: [\n", ":2:"},
	        {"a: 1\n---\nb: 2\n", "one YAML document"},
	        {"secrets:\n  references: {match: a}\n",
	         ":2: references must be a list"},
	        {"secrets:\n  parts: {PASS: 1}\n",
	         ":2: parts must be a list of texts"},
	        {"secrets:\n  part: [PASS]\n", ":2: unknown key \"part\""},
	        {"secrets:\n  references:\n    - {match: a, keys: [k], why: w, "
	         "key: x}\n",
	         ":3: unknown key \"key\" in a secrets reference"},
	        {"secrets:\n  references:\n    - {match: a, keys: [k]}\n",
	         ":3: a secrets reference needs match, keys and why"},
	        {"secrets:\n  references:\n    - {match: a, keys: [], why: w}\n",
	         ":3: a secrets reference needs match, keys and why"},
	        {"secrets:\n  references:\n    - {match: a, keys: {k: 1}, why: "
	         "w}\n",
	         ":3: keys must be a list of texts"},
	        {"secrets:\n  references:\n    - {match: a, keys: [a*b], why: "
	         "w}\n",
	         "key \"a*b\" must be NAME or PARENT.*"},
	        {"secrets:\n  references:\n    - a/ConfigMap/b\n",
	         ":3: a secrets reference is a map with match, keys and why"},
	};
	char path[] = "/tmp/test-appliance-rules-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return;
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *out = fopen(path, "w");
		struct rules rules;
		char error[512] = "";
		bool loaded;

		fputs(cases[i].text, out);
		fclose(out);
		loaded = rules_load(path, &rules, error, sizeof(error));
		if (loaded)
			rules_free(&rules);
		tap_ok(!loaded && strstr(error, path) &&
		               strstr(error, cases[i].want),
		       "rules error %s: %s", cases[i].want, error);
	}
	unlink(path);
}

static void test_children(void)
{
	/* 1 MiB to each pipe, stderr first: a reader that waits on stdout
	 * alone would deadlock here. */
	const char *big[] = {"sh", "-c",
	                     "head -c 1048576 /dev/zero | tr '\\0' e >&2; "
	                     "head -c 1048576 /dev/zero | tr '\\0' o; exit 3",
	                     NULL};
	const char *killed[] = {"sh", "-c", "kill -9 $$", NULL};
	const char *missing[] = {"/nonexistent/helm", "template", NULL};
	const char *tail[] = {"sh", "-c", "echo one >&2; echo 'two  ' >&2",
	                      NULL};
	struct child_result result;
	char error[256], status[64];

	tap_ok(child_run(big, &result, error, sizeof(error)) &&
	               result.out_len == 1048576 && result.err_len == 1048576 &&
	               result.exit_code == 3,
	       "a child filling both pipes is read to the end, exit 3");
	child_result_free(&result);
	tap_ok(child_run(killed, &result, error, sizeof(error)) &&
	               result.exit_code == -1 && result.signal == 9,
	       "a killed child reports its signal");
	child_describe_status(&result, status, sizeof(status));
	tap_is_str(status, "was killed by signal 9", "and says so");
	child_result_free(&result);
	tap_ok(!child_run(missing, &result, error, sizeof(error)) &&
	               strstr(error, "cannot run /nonexistent/helm"),
	       "a missing program is an error: %s", error);
	tap_ok(child_run(tail, &result, error, sizeof(error)),
	       "stderr is captured");
	tap_is_str(child_stderr_tail(&result), "two", "its last line, trimmed");
	child_result_free(&result);
}

int main(void)
{
	test_quantities();
	test_base64();
	test_patterns();
	test_rules_errors();
	test_children();
	return tap_done();
}
