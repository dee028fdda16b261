/*
 * verify_postgres: which workloads reach Postgres, and by which road.
 *
 * A container "names" an endpoint when its env values, command, args, or
 * the ConfigMaps it reads (envFrom, configMapKeyRef, mounted volumes) hold
 * the endpoint's host as a whole word (also as host.namespace[.svc...]).
 * A port written next to the host (host:port, or FOO_HOST with FOO_PORT)
 * must be the endpoint's port.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/verify.h"

#define RULE "postgres-route"

/* What one workload names, over all its containers. */
struct postgres_seen {
	bool service;
	bool pgbouncer;
};

struct postgres_scan {
	struct verify_context *ctx;
	const struct object *workload;
	const struct yaml_node *container;
	const struct rules_endpoint *service; /* the one found, if any */
	const struct rules_endpoint *pgbouncer;
	char service_field[256];
	char pgbouncer_field[256];
};

static bool postgres_host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* host, or host.namespace, host.namespace.svc[.cluster.local]. */
static bool postgres_host_matches(const char *token, size_t len,
                                  const char *host)
{
	size_t host_len = strlen(host);

	if (len < host_len || strncmp(token, host, host_len) != 0)
		return false;
	return len == host_len || token[host_len] == '.';
}

static const struct rules_endpoint *
postgres_endpoint(const struct rules_endpoints *endpoints, const char *token,
                  size_t len)
{
	for (size_t i = 0; i < endpoints->count; i++) {
		if (postgres_host_matches(token, len, endpoints->items[i].host))
			return &endpoints->items[i];
	}
	return NULL;
}

static void postgres_port_after(struct postgres_scan *scan, const char *after,
                                const struct rules_endpoint *endpoint,
                                const char *field)
{
	long port;
	char *end;

	if (after[0] != ':' || !isdigit((unsigned char)after[1]))
		return;
	port = strtol(after + 1, &end, 10);
	if (port != endpoint->port)
		verify_violation(scan->ctx, RULE, scan->workload,
		                 scan->container, field,
		                 "names %s with port %ld, it listens on %ld",
		                 endpoint->host, port, endpoint->port);
}

static void postgres_note(struct postgres_scan *scan,
                          const struct rules_endpoint *endpoint, bool service,
                          const char *field)
{
	if (service && !scan->service) {
		scan->service = endpoint;
		snprintf(scan->service_field, sizeof(scan->service_field), "%s",
		         field);
	} else if (!service && !scan->pgbouncer) {
		scan->pgbouncer = endpoint;
		snprintf(scan->pgbouncer_field, sizeof(scan->pgbouncer_field),
		         "%s", field);
	}
}

/* Finds the endpoint hosts in text, a whole word at a time. */
static void postgres_scan_text(struct postgres_scan *scan, const char *text,
                               const char *field)
{
	const struct rules *rules = scan->ctx->rules;
	const char *p = text;

	while (*p) {
		const char *start;
		const struct rules_endpoint *endpoint;
		size_t len;

		while (*p && !postgres_host_char(*p))
			p++;
		start = p;
		while (postgres_host_char(*p))
			p++;
		len = (size_t)(p - start);
		if (!len)
			continue;
		if ((endpoint = postgres_endpoint(&rules->postgres_service,
		                                  start, len))) {
			postgres_note(scan, endpoint, true, field);
			postgres_port_after(scan, p, endpoint, field);
		} else if ((endpoint = postgres_endpoint(&rules->pgbouncer,
		                                         start, len))) {
			postgres_note(scan, endpoint, false, field);
			postgres_port_after(scan, p, endpoint, field);
		}
	}
}

/* FOO_HOST=host beside FOO_PORT=port: the port must be the host's. */
static void postgres_env_port(struct postgres_scan *scan,
                              const struct yaml_node *env, const char *name,
                              const char *value)
{
	const struct rules *rules = scan->ctx->rules;
	const struct rules_endpoint *endpoint;
	size_t len = strlen(name);
	char port_name[256], field[300];

	if (len < 4 || strcmp(name + len - 4, "HOST") != 0 || len > 200)
		return;
	endpoint = postgres_endpoint(&rules->postgres_service, value,
	                             strlen(value));
	if (!endpoint)
		endpoint = postgres_endpoint(&rules->pgbouncer, value,
		                             strlen(value));
	if (!endpoint)
		return;
	snprintf(port_name, sizeof(port_name), "%.*sPORT", (int)(len - 4),
	         name);
	for (size_t i = 0; i < env->count; i++) {
		const char *other = yaml_doc_get_str(env->items[i], "name");
		const char *port = yaml_doc_get_str(env->items[i], "value");
		char *end;

		if (!other || !port || strcmp(other, port_name) != 0)
			continue;
		snprintf(field, sizeof(field), "env %s", port_name);
		if (strtol(port, &end, 10) != endpoint->port || *end)
			verify_violation(
			        scan->ctx, RULE, scan->workload,
			        scan->container, field,
			        "is %s but %s names %s, which listens on %ld",
			        port, name, endpoint->host, endpoint->port);
	}
}

static void postgres_scan_configmap(struct postgres_scan *scan,
                                    const char *name, const char *only_key,
                                    const char *how)
{
	const struct object *map = verify_release_object(
	        scan->ctx, scan->workload->release, "ConfigMap", name);
	const struct yaml_node *data =
	        yaml_doc_get(map ? map->node : NULL, "data");
	char field[600];

	for (size_t i = 0; data && i < data->count; i++) {
		if (data->items[i]->kind != YAML_DOC_SCALAR ||
		    (only_key && strcmp(only_key, data->keys[i]) != 0))
			continue;
		snprintf(field, sizeof(field), "%s (ConfigMap %s key %s)", how,
		         name, data->keys[i]);
		postgres_scan_text(scan, data->items[i]->scalar, field);
	}
}

/* Env variables the rules let name the Postgres Service anywhere. */
static bool postgres_direct_env(const struct rules *rules, const char *name)
{
	for (size_t i = 0; name && i < rules->direct_env.count; i++) {
		if (strcmp(rules->direct_env.items[i], name) == 0)
			return true;
	}
	return false;
}

static void postgres_scan_env(struct postgres_scan *scan)
{
	const struct yaml_node *env = yaml_doc_get(scan->container, "env");
	char field[300];

	for (size_t i = 0; env && i < env->count; i++) {
		const char *name = yaml_doc_get_str(env->items[i], "name");
		const char *value = yaml_doc_get_str(env->items[i], "value");
		const struct yaml_node *ref = yaml_doc_path(
		        env->items[i], "valueFrom.configMapKeyRef");

		snprintf(field, sizeof(field), "env %s", name ? name : "?");
		if (postgres_direct_env(scan->ctx->rules, name))
			continue;
		if (value) {
			postgres_scan_text(scan, value, field);
			if (name)
				postgres_env_port(scan, env, name, value);
		}
		if (ref && yaml_doc_get_str(ref, "name"))
			postgres_scan_configmap(
			        scan, yaml_doc_get_str(ref, "name"),
			        yaml_doc_get_str(ref, "key"), field);
	}
}

static void postgres_scan_env_from(struct postgres_scan *scan)
{
	const struct yaml_node *list = yaml_doc_get(scan->container, "envFrom");

	for (size_t i = 0; list && i < list->count; i++) {
		const char *name = yaml_doc_get_str(
		        yaml_doc_get(list->items[i], "configMapRef"), "name");

		if (name)
			postgres_scan_configmap(scan, name, NULL, "envFrom");
	}
}

static void postgres_scan_words(struct postgres_scan *scan, const char *key)
{
	const struct yaml_node *list = yaml_doc_get(scan->container, key);

	for (size_t i = 0; list && i < list->count; i++) {
		if (list->items[i]->kind == YAML_DOC_SCALAR)
			postgres_scan_text(scan, list->items[i]->scalar, key);
	}
}

/* The ConfigMap behind a volume, directly or projected. */
static void postgres_scan_volume(struct postgres_scan *scan,
                                 const struct yaml_node *volume)
{
	const char *name = yaml_doc_get_str(volume, "name");
	const struct yaml_node *sources =
	        yaml_doc_path(volume, "projected.sources");
	const char *map =
	        yaml_doc_get_str(yaml_doc_get(volume, "configMap"), "name");
	char how[300];

	snprintf(how, sizeof(how), "volume %s", name ? name : "?");
	if (map)
		postgres_scan_configmap(scan, map, NULL, how);
	for (size_t i = 0; sources && i < sources->count; i++) {
		map = yaml_doc_get_str(
		        yaml_doc_get(sources->items[i], "configMap"), "name");
		if (map)
			postgres_scan_configmap(scan, map, NULL, how);
	}
}

static void postgres_scan_mounts(struct postgres_scan *scan,
                                 const struct yaml_node *pod_spec)
{
	const struct yaml_node *mounts =
	        yaml_doc_get(scan->container, "volumeMounts");
	const struct yaml_node *volumes = yaml_doc_get(pod_spec, "volumes");

	for (size_t m = 0; mounts && m < mounts->count; m++) {
		const char *name = yaml_doc_get_str(mounts->items[m], "name");

		for (size_t v = 0; name && volumes && v < volumes->count; v++) {
			const char *volume_name =
			        yaml_doc_get_str(volumes->items[v], "name");

			if (volume_name && strcmp(volume_name, name) == 0)
				postgres_scan_volume(scan, volumes->items[v]);
		}
	}
}

struct postgres_workload {
	bool via_pgbouncer; /* matched by viaPgbouncer */
	bool direct;        /* matched by direct */
	bool may_go_direct;
	struct postgres_seen seen;
};

static void postgres_container(struct verify_context *ctx,
                               const struct object *workload,
                               const struct yaml_node *pod_spec,
                               const struct yaml_node *container, void *data)
{
	struct postgres_workload *state = data;
	struct postgres_scan scan = {ctx,  workload, container, NULL,
	                             NULL, "",       ""};

	postgres_scan_env(&scan);
	postgres_scan_env_from(&scan);
	postgres_scan_words(&scan, "command");
	postgres_scan_words(&scan, "args");
	postgres_scan_mounts(&scan, pod_spec);
	state->seen.service = state->seen.service || scan.service;
	state->seen.pgbouncer = state->seen.pgbouncer || scan.pgbouncer;
	if (scan.service && state->via_pgbouncer)
		verify_violation(
		        ctx, RULE, workload, container, scan.service_field,
		        "reaches Postgres directly at %s:%ld; it must go through PgBouncer",
		        scan.service->host, scan.service->port);
	else if (scan.service && !state->direct && !state->may_go_direct)
		verify_violation(
		        ctx, RULE, workload, container, scan.service_field,
		        "reaches Postgres directly at %s:%ld; only the workloads the rules name under postgres.direct may",
		        scan.service->host, scan.service->port);
	if (scan.pgbouncer && state->direct)
		verify_violation(
		        ctx, RULE, workload, container, scan.pgbouncer_field,
		        "reaches Postgres through PgBouncer at %s:%ld; it needs a direct connection (session locks, DDL)",
		        scan.pgbouncer->host, scan.pgbouncer->port);
}

static bool postgres_matches(const struct rules_patterns *patterns,
                             const struct object *object, bool *hits)
{
	bool matched = false;

	for (size_t i = 0; i < patterns->count; i++) {
		if (rules_match(patterns->items[i].match, object->release,
		                object->kind, object->name)) {
			matched = true;
			if (hits)
				hits[i] = true;
		}
	}
	return matched;
}

/* Patterns that must match a workload (road NULL), or one that reaches
 * Postgres by that road. */
static void postgres_check_patterns(struct verify_context *ctx,
                                    const struct rules_patterns *patterns,
                                    const bool *hits, const char *road)
{
	for (size_t i = 0; i < patterns->count; i++) {
		if (hits[i] || patterns->items[i].optional ||
		    verify_pattern_unrendered(ctx, patterns->items[i].match))
			continue;
		if (road)
			verify_report(
			        ctx, RULE, patterns->items[i].match,
			        "workloads",
			        "no workload matching it reaches Postgres "
			        "%s (%s:%u)",
			        road, ctx->rules->file,
			        patterns->items[i].line);
		else
			verify_report(
			        ctx, RULE, patterns->items[i].match,
			        "workloads", "no workload matches (%s:%u)",
			        ctx->rules->file, patterns->items[i].line);
	}
}

void verify_postgres(struct verify_context *ctx)
{
	const struct rules *rules = ctx->rules;
	bool *via_hits = calloc(rules->via_pgbouncer.count + 1, 1);
	bool *direct_hits = calloc(rules->direct.count + 1, 1);

	for (size_t i = 0; via_hits && direct_hits && i < ctx->rendered.count;
	     i++) {
		const struct object *object = &ctx->rendered.items[i];
		struct postgres_workload state = {0};

		if (!verify_pod_spec(object))
			continue;
		state.via_pgbouncer =
		        postgres_matches(&rules->via_pgbouncer, object, NULL);
		state.direct = postgres_matches(&rules->direct, object, NULL);
		state.may_go_direct =
		        postgres_matches(&rules->may_go_direct, object, NULL);
		verify_each_container(ctx, object, postgres_container, &state);
		/* Going direct was reported per container already. */
		if (state.via_pgbouncer && !state.seen.pgbouncer &&
		    !state.seen.service)
			verify_violation(ctx, RULE, object, NULL, "env",
			                 "does not reach Postgres at all; it "
			                 "must, through PgBouncer");
		postgres_matches(&rules->via_pgbouncer, object, via_hits);
		if (state.seen.service)
			postgres_matches(&rules->direct, object, direct_hits);
	}
	if (via_hits && direct_hits) {
		postgres_check_patterns(ctx, &rules->via_pgbouncer, via_hits,
		                        NULL);
		postgres_check_patterns(ctx, &rules->direct, direct_hits,
		                        "directly");
	}
	free(via_hits);
	free(direct_hits);
}
