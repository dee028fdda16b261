/*
 * test_yaml_doc: the shared YAML tree: parse errors name the line, merges
 * follow Helm's rules, and what is emitted parses back to the same tree.
 */
#include "lib/yaml_doc.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

struct parse_case {
	const char *what;
	const char *text;
	const char *error; /* NULL: parses; else a substring of the error */
};

static const struct parse_case parse_cases[] = {
        {"a mapping parses", "a: 1\nb: [x, y]\n", NULL},
        {"an empty stream is one null document", "", NULL},
        {"a duplicate key names its line", "a: 1\nb: 2\na: 3\n",
         "t.yaml:3: a: duplicate key"},
        {"an alias is refused", "a: &x 1\nb: *x\n",
         "t.yaml:1: anchors and aliases are not supported"},
        {"a broken flow list names its line", "a: [1, 2\nb: 3\n", "t.yaml:2:"},
        {"a mapping as a key is refused", "? {a: 1}\n: 2\n",
         "mapping key is not a string"},
        {"a tab indent is an error", "a:\n\tb: 1\n", "t.yaml:2:"},
};

static void test_parse_cases(void)
{
	struct yaml_node **docs;
	char error[YAML_DOC_ERROR_MAX];
	size_t i, count;
	bool ok;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		ok = yaml_doc_parse_string("t.yaml", c->text, strlen(c->text),
		                           &docs, &count, error, sizeof(error));
		if (c->error == NULL) {
			if (!TAP_OK(ok && count >= 1, "%s", c->what))
				printf("#   error: %s\n", error);
		} else if (!TAP_OK(!ok && strstr(error, c->error), "%s",
		                   c->what)) {
			printf("#   error: %s\n#   want: %s\n", ok ? "" : error,
			       c->error);
		}
		if (ok)
			yaml_doc_free_all(docs, count);
	}
}

static struct yaml_node **parse(const char *text, size_t *count)
{
	struct yaml_node **docs;
	char error[YAML_DOC_ERROR_MAX];

	if (!yaml_doc_parse_string("t.yaml", text, strlen(text), &docs, count,
	                           error, sizeof(error))) {
		printf("# parse failed: %s\n", error);
		return NULL;
	}
	return docs;
}

/* The tree emitted as text, for comparisons. */
static char *emit_to_string(const struct yaml_node *node)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	if (!yaml_doc_emit(out, node)) {
		fclose(out);
		free(text);
		return NULL;
	}
	fclose(out);
	return text;
}

struct merge_case {
	const char *what;
	const char *base;
	const char *overlay;
	const char *want; /* the merged tree, written as YAML */
};

static const struct merge_case merge_cases[] = {
        {"mappings merge key by key", "a: 1\nb: {c: 2, d: 3}\n",
         "b: {d: 4, e: 5}\n", "a: 1\nb: {c: 2, d: 4, e: 5}\n"},
        {"a list replaces a list", "a: [1, 2, 3]\n", "a: [4]\n", "a: [4]\n"},
        {"a scalar replaces a mapping", "a: {b: 1}\n", "a: x\n", "a: x\n"},
        {"a mapping replaces a scalar", "a: x\n", "a: {b: 1}\n", "a: {b: 1}\n"},
        {"null is kept, for Helm to drop the key later", "a: 1\nb: 2\n",
         "a: null\n", "a: null\nb: 2\n"},
        {"a quoted number stays a string", "a: 1\n", "a: \"2\"\n",
         "a: \"2\"\n"},
        {"an empty overlay changes nothing", "a: 1\n", "", "a: 1\n"},
        {"a new quoted key stays quoted", "a: 1\n", "'on': 2\n",
         "a: 1\n\"on\": 2\n"},
        {"a new plain key stays plain", "a: 1\n", "on: 2\n", "a: 1\non: 2\n"},
};

static void test_merge_cases(void)
{
	struct yaml_node **base, **overlay, **want, *merged;
	size_t i, n_base, n_overlay, n_want;
	char *got_text, *want_text;

	for (i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		const struct merge_case *c = &merge_cases[i];

		base = parse(c->base, &n_base);
		overlay = parse(c->overlay, &n_overlay);
		want = parse(c->want, &n_want);
		if (!base || !overlay || !want) {
			TAP_OK(false, "%s", c->what);
			continue;
		}
		merged = yaml_doc_merge(
		        yaml_doc_copy(base[0]),
		        overlay[0]->kind == YAML_DOC_NULL ? NULL : overlay[0]);
		got_text = emit_to_string(merged);
		want_text = emit_to_string(want[0]);
		TAP_IS_STR(got_text, want_text, c->what);
		free(got_text);
		free(want_text);
		yaml_doc_free(merged);
		yaml_doc_free_all(base, n_base);
		yaml_doc_free_all(overlay, n_overlay);
		yaml_doc_free_all(want, n_want);
	}
}

static void test_round_trip(void)
{
	static const char text[] =
	        "name: alga\nflags: [\"true\", false, \"012\", ~]\n"
	        "script: |\n  set -eu\n  exec redis-server\n"
	        "odd: \"a: b # c\"\nempty: \"\"\n";
	struct yaml_node **docs, **again;
	size_t count, count_again;
	char *first, *second;

	docs = parse(text, &count);
	first = docs ? emit_to_string(docs[0]) : NULL;
	again = first ? parse(first, &count_again) : NULL;
	second = again ? emit_to_string(again[0]) : NULL;
	TAP_IS_STR(second, first, "emitted YAML parses back to the same tree");
	TAP_OK(docs && yaml_doc_get(docs[0], "flags") &&
	               yaml_doc_get(docs[0], "flags")->items[0]->quoted,
	       "a quoted \"true\" remembers it was quoted");
	free(first);
	free(second);
	if (docs)
		yaml_doc_free_all(docs, count);
	if (again)
		yaml_doc_free_all(again, count_again);
}

struct key_case {
	const char *key;
	const char *want; /* the emitted document {key: v} */
};

/* Keys a YAML 1.1 or 1.2 reader would type if they were written plain. */
static const struct key_case key_cases[] = {
        {"name", "name: v\n"},
        {"no", "\"no\": v\n"},
        {"No", "\"No\": v\n"},
        {"NO", "\"NO\": v\n"},
        {"nO", "\"nO\": v\n"},
        {"yes", "\"yes\": v\n"},
        {"y", "\"y\": v\n"},
        {"Y", "\"Y\": v\n"},
        {"n", "\"n\": v\n"},
        {"on", "\"on\": v\n"},
        {"Off", "\"Off\": v\n"},
        {"true", "\"true\": v\n"},
        {"FALSE", "\"FALSE\": v\n"},
        {"null", "\"null\": v\n"},
        {"Null", "\"Null\": v\n"},
        {"~", "\"~\": v\n"},
        {"", "\"\": v\n"},
        {"1", "\"1\": v\n"},
        {"-1", "\"-1\": v\n"},
        {"1.5", "\"1.5\": v\n"},
        {".5", "\".5\": v\n"},
        {"010", "\"010\": v\n"},
        {"0o17", "\"0o17\": v\n"},
        {"0x1F", "\"0x1F\": v\n"},
        {"0b101", "\"0b101\": v\n"},
        {"1_000", "\"1_000\": v\n"},
        {"1e3", "\"1e3\": v\n"},
        {"+1.5E-3", "\"+1.5E-3\": v\n"},
        {"190:20:30", "\"190:20:30\": v\n"},
        {".inf", "\".inf\": v\n"},
        {"-.Inf", "\"-.Inf\": v\n"},
        {".NaN", "\".NaN\": v\n"},
        {"2001-12-14", "\"2001-12-14\": v\n"},
        {"<<", "\"<<\": v\n"},
        {"yesterday", "yesterday: v\n"},
        {"none", "none: v\n"},
        {"1st", "1st: v\n"},
        {"v1.2", "v1.2: v\n"},
        {"helm.sh/resource-policy", "helm.sh/resource-policy: v\n"},
        {"a: b", "'a: b': v\n"},
        {"#x", "'#x': v\n"},
        {"- x", "'- x': v\n"},
        {"two\nlines", "? \"two\\nlines\"\n: v\n"},
};

static void test_keys(void)
{
	struct yaml_node *map, **docs;
	size_t i, count;
	char *text, what[128];

	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];

		map = yaml_doc_new_mapping();
		yaml_doc_set(map, c->key, yaml_doc_new_scalar("v"));
		text = emit_to_string(map);
		snprintf(what, sizeof(what), "the key \"%.*s\" is written %.*s",
		         (int)strcspn(c->key, "\n"), c->key,
		         (int)strcspn(c->want, "\n"), c->want);
		TAP_IS_STR(text, c->want, what);
		docs = text ? parse(text, &count) : NULL;
		TAP_OK(docs && docs[0]->kind == YAML_DOC_MAPPING &&
		               docs[0]->count == 1 &&
		               strcmp(docs[0]->keys[0], c->key) == 0,
		       "and reads back as the same key");
		if (docs)
			yaml_doc_free_all(docs, count);
		free(text);
		yaml_doc_free(map);
	}
}

struct value_case {
	const char *what;
	struct yaml_node *(*make)(const char *text);
	const char *text;
	const char *want;
};

static const struct value_case value_cases[] = {
        {"a string \"no\" is quoted", yaml_doc_new_string, "no", "k: \"no\"\n"},
        {"a string \"010\" is quoted", yaml_doc_new_string, "010",
         "k: \"010\"\n"},
        {"a string \"hello\" is quoted too", yaml_doc_new_string, "hello",
         "k: \"hello\"\n"},
        {"a plain true stays a boolean", yaml_doc_new_scalar, "true",
         "k: true\n"},
        {"a plain 42 stays a number", yaml_doc_new_scalar, "42", "k: 42\n"},
        {"a plain text that cannot be plain is quoted", yaml_doc_new_scalar,
         "a: b", "k: 'a: b'\n"},
};

/* Keys read from a source keep its quoting: Helm types a plain one. */
static void test_source_keys(void)
{
	static const char text[] =
	        "n: 1\n'no': 2\n\"010\": 3\nyes: 4\nplain: {'off': 5}\n";
	static const char want[] =
	        "n: 1\n\"no\": 2\n\"010\": 3\nyes: 4\nplain:\n  \"off\": 5\n";
	struct yaml_node **docs, *copy;
	size_t count;
	char *got, *got_copy;

	docs = parse(text, &count);
	got = docs ? emit_to_string(docs[0]) : NULL;
	TAP_IS_STR(got, want,
	           "source keys: plain ones stay plain, quoted ones quoted");
	copy = docs ? yaml_doc_copy(docs[0]) : NULL;
	got_copy = copy ? emit_to_string(copy) : NULL;
	TAP_IS_STR(got_copy, want, "a copy keeps the quoting of its keys");
	free(got);
	free(got_copy);
	yaml_doc_free(copy);
	if (docs)
		yaml_doc_free_all(docs, count);
}

static void test_values(void)
{
	struct yaml_node *map;
	char *text;

	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]);
	     i++) {
		const struct value_case *c = &value_cases[i];

		map = yaml_doc_new_mapping();
		yaml_doc_set(map, "k", c->make(c->text));
		text = emit_to_string(map);
		TAP_IS_STR(text, c->want, c->what);
		free(text);
		yaml_doc_free(map);
	}
}

static void test_lookups(void)
{
	struct yaml_node **docs;
	size_t count;
	long number = 0;
	bool flag = false;

	docs = parse("spec:\n  chart:\n    path: ./charts/x\n  replicas: 2\n"
	             "  on: true\n  quoted: \"3\"\n",
	             &count);
	if (!docs) {
		TAP_OK(false, "lookup document parses");
		return;
	}
	TAP_IS_STR(
	        yaml_doc_get_str(yaml_doc_path(docs[0], "spec.chart"), "path"),
	        "./charts/x", "a dotted path finds a nested scalar");
	TAP_OK(yaml_doc_path(docs[0], "spec.missing.path") == NULL,
	       "a missing path is NULL");
	TAP_OK(yaml_doc_path(docs[0], "spec.replicas")->line == 4,
	       "nodes remember their line");
	TAP_OK(yaml_doc_long(yaml_doc_path(docs[0], "spec.replicas"),
	                     &number) &&
	               number == 2,
	       "an integer reads as a number");
	TAP_OK(!yaml_doc_long(yaml_doc_path(docs[0], "spec.quoted"), &number),
	       "a quoted number is not a number");
	TAP_OK(yaml_doc_bool(yaml_doc_path(docs[0], "spec.on"), &flag) && flag,
	       "true reads as a boolean");
	yaml_doc_free_all(docs, count);
}

int main(void)
{
	test_parse_cases();
	test_merge_cases();
	test_round_trip();
	test_keys();
	test_source_keys();
	test_values();
	test_lookups();
	return tap_done();
}
