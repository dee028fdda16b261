/*
 * rules: the parameters of `alga-appliance verify`, read from the profile's
 * rules.yaml. docs/appliance-tool.md describes the format.
 */
#ifndef ALGA_APPLIANCE_RULES_H
#define ALGA_APPLIANCE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/yaml_doc.h"

/* A workload pattern "release/kind/name" (shell glob in each part). */
struct rules_pattern {
	const char *match;
	const char *what;       /* persistentData: what the data is */
	const char *mount_path; /* persistentData: the mount, or NULL */
	bool optional;          /* may match nothing */
	unsigned line;
};

struct rules_patterns {
	struct rules_pattern *items;
	size_t count;
};

struct rules_strings {
	const char **items;
	size_t count;
};

/*
 * secrets.references: in objects matching match, the keys whose values name
 * a key of a Secret rather than hold a secret. A key is NAME, or PARENT.*
 * for every key directly under PARENT in a ConfigMap's YAML text.
 */
struct rules_reference {
	const char *match;
	struct rules_strings keys;
	const char *why;
	unsigned line;
};

struct rules_references {
	struct rules_reference *items;
	size_t count;
};

struct rules_endpoint {
	const char *host;
	long port;
};

struct rules_endpoints {
	struct rules_endpoint *items;
	size_t count;
};

struct rules {
	const char *file;
	const char *namespace;
	struct rules_strings releases;
	struct rules_endpoints postgres_service;
	struct rules_endpoints pgbouncer;
	struct rules_patterns via_pgbouncer;
	struct rules_patterns direct;
	struct rules_patterns may_go_direct;
	struct rules_strings
	        direct_env; /* env names exempt from viaPgbouncer */
	struct rules_strings secret_words;
	struct rules_strings secret_parts; /* words matched as a whole part */
	struct rules_strings secret_except;
	struct rules_references secret_references;
	struct rules_patterns persistent_data;
	long replicas;
	struct rules_strings requests;
	struct rules_strings limits;
	long budget_millicpu;
	long long budget_memory;
	const char *pod_security_default;
	const char *pod_security_minimum;
	const char *bootstrap_job;
	struct rules_strings allowed_hooks;
	struct rules_patterns allowed_hook_objects;
	/* the parsed file the strings above point into */
	struct yaml_node **docs;
	size_t doc_count;
};

/* Reads and checks a rules file; false with "FILE:LINE: what" on error. */
bool rules_load(const char *path, struct rules *rules, char *error,
                size_t error_size);
/* The same from text; name stands for the file in messages. */
bool rules_load_string(const char *name, const char *text, size_t len,
                       struct rules *rules, char *error, size_t error_size);
void rules_free(struct rules *rules);

/* True when release/kind/name matches a pattern. */
bool rules_match(const char *pattern, const char *release, const char *kind,
                 const char *name);

#endif
