/*
 * verify_pods: Pod Security levels, requests and limits, and the budget.
 *
 * The Pod Security checks follow the Kubernetes Pod Security Standards:
 * baseline (no host namespaces, privileged containers, hostPath, host
 * ports, added capabilities beyond the default set, unsafe sysctls,
 * Unconfined seccomp, non-default procMount) and restricted (baseline plus
 * runAsNonRoot, no privilege escalation, RuntimeDefault seccomp, ALL
 * capabilities dropped, only the plain volume types).
 *
 * XXX: SELinux options, AppArmor profiles and Windows hostProcess are not
 * checked (no chart of ours sets them). The proper fix is the rest of the
 * standard's table, one small function per field.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/quantity.h"
#include "appliance/verify.h"

#define RULE_PSS "pod-security"
#define RULE_RESOURCES "resources"
#define RULE_BUDGET "budget"
#define LEVEL_LABEL "pod-security.kubernetes.io/enforce"

enum pods_level {
	LEVEL_PRIVILEGED,
	LEVEL_BASELINE,
	LEVEL_RESTRICTED,
};

static const char *const level_names[] = {"privileged", "baseline",
                                          "restricted"};

static enum pods_level pods_level(const char *text, enum pods_level fallback)
{
	for (int i = 0; text && i < 3; i++) {
		if (strcmp(text, level_names[i]) == 0)
			return (enum pods_level)i;
	}
	return fallback;
}

static bool pods_in(const char *text, const char *const list[])
{
	for (size_t i = 0; text && list[i]; i++) {
		if (strcmp(text, list[i]) == 0)
			return true;
	}
	return false;
}

static bool pods_true(const struct yaml_node *node)
{
	bool value = false;

	return yaml_doc_bool(node, &value) && value;
}

/* The level the namespace's label promises, or the rules' default. */
static enum pods_level pods_namespace_level(struct verify_context *ctx,
                                            const char *namespace)
{
	enum pods_level fallback =
	        pods_level(ctx->rules->pod_security_default, LEVEL_BASELINE);
	const struct object *ns =
	        objects_find(&ctx->profile, "Namespace", "", namespace);
	const char *label = yaml_doc_get_str(
	        yaml_doc_path(ns ? ns->node : NULL, "metadata.labels"),
	        LEVEL_LABEL);

	return pods_level(label, fallback);
}

struct pods_check {
	enum pods_level level;
};

static void pods_baseline_container(struct verify_context *ctx,
                                    const struct object *workload,
                                    const struct yaml_node *container)
{
	static const char *const allowed_caps[] = {
	        "AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE", "FOWNER",
	        "FSETID",      "KILL",   "MKNOD",        "NET_BIND_SERVICE",
	        "SETFCAP",     "SETGID", "SETPCAP",      "SETUID",
	        "SYS_CHROOT",  NULL};
	const struct yaml_node *sc = yaml_doc_get(container, "securityContext");
	const struct yaml_node *add = yaml_doc_path(sc, "capabilities.add");
	const struct yaml_node *ports = yaml_doc_get(container, "ports");
	const char *proc_mount = yaml_doc_get_str(sc, "procMount");
	const char *seccomp =
	        yaml_doc_get_str(yaml_doc_get(sc, "seccompProfile"), "type");

	if (pods_true(yaml_doc_get(sc, "privileged")))
		verify_violation(ctx, RULE_PSS, workload, container,
		                 "securityContext.privileged",
		                 "a privileged container");
	for (size_t i = 0; add && i < add->count; i++) {
		if (!pods_in(add->items[i]->scalar, allowed_caps))
			verify_violation(ctx, RULE_PSS, workload, container,
			                 "securityContext.capabilities.add",
			                 "adds %s",
			                 add->items[i]->scalar
			                         ? add->items[i]->scalar
			                         : "a non-text capability");
	}
	for (size_t i = 0; ports && i < ports->count; i++) {
		if (yaml_doc_get(ports->items[i], "hostPort"))
			verify_violation(ctx, RULE_PSS, workload, container,
			                 "ports.hostPort", "a host port");
	}
	if (proc_mount && strcmp(proc_mount, "Default") != 0)
		verify_violation(ctx, RULE_PSS, workload, container,
		                 "securityContext.procMount", "is %s",
		                 proc_mount);
	if (seccomp && strcmp(seccomp, "Unconfined") == 0)
		verify_violation(ctx, RULE_PSS, workload, container,
		                 "securityContext.seccompProfile.type",
		                 "is Unconfined");
}

static void pods_restricted_container(struct verify_context *ctx,
                                      const struct object *workload,
                                      const struct yaml_node *pod_spec,
                                      const struct yaml_node *container)
{
	const struct yaml_node *sc = yaml_doc_get(container, "securityContext");
	const struct yaml_node *pod_sc =
	        yaml_doc_get(pod_spec, "securityContext");
	const struct yaml_node *drop = yaml_doc_path(sc, "capabilities.drop");
	const struct yaml_node *add = yaml_doc_path(sc, "capabilities.add");
	const char *seccomp =
	        yaml_doc_get_str(yaml_doc_get(sc, "seccompProfile"), "type");
	bool escalation = true, non_root = false, drops_all = false;
	long uid = -1;

	yaml_doc_bool(yaml_doc_get(sc, "allowPrivilegeEscalation"),
	              &escalation);
	if (escalation)
		verify_violation(ctx, RULE_PSS, workload, container,
		                 "securityContext.allowPrivilegeEscalation",
		                 "must be false under restricted");
	if (!yaml_doc_bool(yaml_doc_get(sc, "runAsNonRoot"), &non_root))
		yaml_doc_bool(yaml_doc_get(pod_sc, "runAsNonRoot"), &non_root);
	if (!non_root)
		verify_violation(
		        ctx, RULE_PSS, workload, container,
		        "securityContext.runAsNonRoot",
		        "must be true (here or on the pod) under restricted");
	if ((yaml_doc_long(yaml_doc_get(sc, "runAsUser"), &uid) ||
	     yaml_doc_long(yaml_doc_get(pod_sc, "runAsUser"), &uid)) &&
	    uid == 0)
		verify_violation(ctx, RULE_PSS, workload, container,
		                 "securityContext.runAsUser",
		                 "runs as root (0) under restricted");
	if (!seccomp)
		seccomp = yaml_doc_get_str(
		        yaml_doc_get(pod_sc, "seccompProfile"), "type");
	if (!seccomp || (strcmp(seccomp, "RuntimeDefault") != 0 &&
	                 strcmp(seccomp, "Localhost") != 0))
		verify_violation(
		        ctx, RULE_PSS, workload, container,
		        "securityContext.seccompProfile.type",
		        "must be RuntimeDefault or Localhost under restricted");
	for (size_t i = 0; drop && i < drop->count; i++)
		drops_all = drops_all ||
		            (drop->items[i]->scalar &&
		             strcmp(drop->items[i]->scalar, "ALL") == 0);
	if (!drops_all)
		verify_violation(ctx, RULE_PSS, workload, container,
		                 "securityContext.capabilities.drop",
		                 "must drop ALL under restricted");
	for (size_t i = 0; add && i < add->count; i++) {
		if (!add->items[i]->scalar ||
		    strcmp(add->items[i]->scalar, "NET_BIND_SERVICE") != 0)
			verify_violation(
			        ctx, RULE_PSS, workload, container,
			        "securityContext.capabilities.add",
			        "only NET_BIND_SERVICE may be added under restricted");
	}
}

static void pods_container(struct verify_context *ctx,
                           const struct object *workload,
                           const struct yaml_node *pod_spec,
                           const struct yaml_node *container, void *data)
{
	const struct pods_check *check = data;

	if (check->level >= LEVEL_BASELINE)
		pods_baseline_container(ctx, workload, container);
	if (check->level >= LEVEL_RESTRICTED)
		pods_restricted_container(ctx, workload, pod_spec, container);
}

static void pods_sysctls(struct verify_context *ctx,
                         const struct object *workload,
                         const struct yaml_node *pod_spec)
{
	static const char *const safe[] = {
	        "kernel.shm_rmid_forced",
	        "net.ipv4.ip_local_port_range",
	        "net.ipv4.ip_unprivileged_port_start",
	        "net.ipv4.tcp_syncookies",
	        "net.ipv4.ping_group_range",
	        "net.ipv4.ip_local_reserved_ports",
	        "net.ipv4.tcp_keepalive_time",
	        "net.ipv4.tcp_fin_timeout",
	        "net.ipv4.tcp_keepalive_intvl",
	        "net.ipv4.tcp_keepalive_probes",
	        NULL};
	const struct yaml_node *sysctls =
	        yaml_doc_path(pod_spec, "securityContext.sysctls");

	for (size_t i = 0; sysctls && i < sysctls->count; i++) {
		const char *name = yaml_doc_get_str(sysctls->items[i], "name");

		if (!pods_in(name, safe))
			verify_violation(ctx, RULE_PSS, workload, NULL,
			                 "securityContext.sysctls",
			                 "sets %s, not a safe sysctl",
			                 name ? name : "?");
	}
}

static void pods_volumes(struct verify_context *ctx,
                         const struct object *workload,
                         const struct yaml_node *pod_spec,
                         enum pods_level level)
{
	static const char *const restricted_types[] = {"name",
	                                               "configMap",
	                                               "csi",
	                                               "downwardAPI",
	                                               "emptyDir",
	                                               "ephemeral",
	                                               "persistentVolumeClaim",
	                                               "projected",
	                                               "secret",
	                                               NULL};
	const struct yaml_node *volumes = yaml_doc_get(pod_spec, "volumes");

	for (size_t i = 0; volumes && i < volumes->count; i++) {
		const struct yaml_node *volume = volumes->items[i];

		for (size_t k = 0; k < volume->count; k++) {
			if (strcmp(volume->keys[k], "hostPath") == 0 ||
			    (level == LEVEL_RESTRICTED &&
			     !pods_in(volume->keys[k], restricted_types)))
				verify_violation(
				        ctx, RULE_PSS, workload, NULL,
				        "volumes",
				        "volume %s is of type %s, not allowed under %s",
				        yaml_doc_get_str(volume, "name")
				                ? yaml_doc_get_str(volume,
				                                   "name")
				                : "?",
				        volume->keys[k], level_names[level]);
		}
	}
}

static void pods_pod(struct verify_context *ctx, const struct object *workload,
                     const struct yaml_node *pod_spec, enum pods_level level)
{
	static const char *const host_fields[] = {"hostNetwork", "hostPID",
	                                          "hostIPC", NULL};
	const char *seccomp = yaml_doc_get_str(
	        yaml_doc_path(pod_spec, "securityContext.seccompProfile"),
	        "type");

	for (size_t i = 0; host_fields[i]; i++) {
		if (pods_true(yaml_doc_get(pod_spec, host_fields[i])))
			verify_violation(
			        ctx, RULE_PSS, workload, NULL, host_fields[i],
			        "shares a host namespace, not allowed under %s",
			        level_names[level]);
	}
	if (seccomp && strcmp(seccomp, "Unconfined") == 0)
		verify_violation(ctx, RULE_PSS, workload, NULL,
		                 "securityContext.seccompProfile.type",
		                 "is Unconfined");
	pods_sysctls(ctx, workload, pod_spec);
	pods_volumes(ctx, workload, pod_spec, level);
}

static void pods_namespace_minimum(struct verify_context *ctx)
{
	enum pods_level minimum =
	        pods_level(ctx->rules->pod_security_minimum, LEVEL_PRIVILEGED);
	char where[300];

	for (size_t i = 0; i < ctx->release_count; i++) {
		const char *namespace = ctx->releases[i].namespace;
		enum pods_level level = pods_namespace_level(ctx, namespace);
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen = seen || strcmp(ctx->releases[j].namespace,
			                      namespace) == 0;
		snprintf(where, sizeof(where), "profile/Namespace/%s",
		         namespace);
		if (!seen && level < minimum)
			verify_report(ctx, RULE_PSS, where,
			              "metadata.labels." LEVEL_LABEL,
			              "promises %s, the rules want at least %s",
			              level_names[level], level_names[minimum]);
	}
}

void verify_pod_security(struct verify_context *ctx)
{
	pods_namespace_minimum(ctx);
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];
		const struct yaml_node *pod_spec = verify_pod_spec(object);
		const char *namespace =
		        verify_release_namespace(ctx, object->release);
		struct pods_check check;

		if (!pod_spec || !namespace)
			continue;
		check.level = pods_namespace_level(ctx, namespace);
		if (check.level == LEVEL_PRIVILEGED)
			continue;
		pods_pod(ctx, object, pod_spec, check.level);
		verify_each_container(ctx, object, pods_container, &check);
	}
}

/* ---- requests, limits and the budget ---- */

struct pods_usage {
	bool report;        /* report missing or bad values */
	long long cpu;      /* millicores, sum of the containers */
	long long memory;   /* bytes */
	long long init_cpu; /* the largest init container */
	long long init_memory;
};

/* Sums of requests stop at a very large number instead of overflowing. */
static long long pods_sum(long long a, long long b)
{
	return a > LLONG_MAX / 2 - b ? LLONG_MAX / 2 : a + b;
}

static long long pods_times(long long value, long times)
{
	return times > 0 && value > LLONG_MAX / 2 / times ? LLONG_MAX / 2
	                                                  : value * times;
}

static void pods_require(struct verify_context *ctx,
                         const struct object *workload,
                         const struct yaml_node *container,
                         const struct yaml_node *resources, const char *kind,
                         const struct rules_strings *wanted,
                         const char *const defaults[])
{
	const struct yaml_node *section = yaml_doc_get(resources, kind);
	size_t count = wanted->count;
	char field[128];

	for (size_t i = 0; count ? i < count : defaults[i] != NULL; i++) {
		const char *name = count ? wanted->items[i] : defaults[i];

		snprintf(field, sizeof(field), "resources.%s.%s", kind, name);
		if (!yaml_doc_get_str(section, name))
			verify_violation(ctx, RULE_RESOURCES, workload,
			                 container, field, "missing");
	}
}

static void pods_add_requests(struct verify_context *ctx,
                              const struct object *workload,
                              const struct yaml_node *container,
                              struct pods_usage *usage, bool init)
{
	const struct yaml_node *requests =
	        yaml_doc_path(container, "resources.requests");
	const char *cpu_text = yaml_doc_get_str(requests, "cpu");
	const char *memory_text = yaml_doc_get_str(requests, "memory");
	long cpu = 0;
	long long memory = 0;

	if (cpu_text && !quantity_cpu(cpu_text, &cpu) && usage->report)
		verify_violation(ctx, RULE_RESOURCES, workload, container,
		                 "resources.requests.cpu",
		                 "\"%s\" is not a CPU quantity", cpu_text);
	if (memory_text && !quantity_memory(memory_text, &memory) &&
	    usage->report)
		verify_violation(ctx, RULE_RESOURCES, workload, container,
		                 "resources.requests.memory",
		                 "\"%s\" is not a memory quantity",
		                 memory_text);
	if (init) {
		usage->init_cpu = cpu > usage->init_cpu ? cpu : usage->init_cpu;
		usage->init_memory = memory > usage->init_memory
		                             ? memory
		                             : usage->init_memory;
	} else {
		usage->cpu = pods_sum(usage->cpu, cpu);
		usage->memory = pods_sum(usage->memory, memory);
	}
}

static void pods_resources_container(struct verify_context *ctx,
                                     const struct object *workload,
                                     const struct yaml_node *pod_spec,
                                     const struct yaml_node *container,
                                     void *data)
{
	static const char *const default_requests[] = {"cpu", "memory", NULL};
	static const char *const default_limits[] = {"memory", NULL};
	const struct yaml_node *resources =
	        yaml_doc_get(container, "resources");
	const struct yaml_node *init_list =
	        yaml_doc_get(pod_spec, "initContainers");
	struct pods_usage *usage = data;
	bool init = false;

	for (size_t i = 0; init_list && i < init_list->count; i++)
		init = init || init_list->items[i] == container;
	if (usage->report) {
		pods_require(ctx, workload, container, resources, "requests",
		             &ctx->rules->requests, default_requests);
		pods_require(ctx, workload, container, resources, "limits",
		             &ctx->rules->limits, default_limits);
	}
	pods_add_requests(ctx, workload, container, usage, init);
}

static bool pods_long_running(const struct object *object)
{
	return strcmp(object->kind, "Job") != 0 &&
	       strcmp(object->kind, "CronJob") != 0;
}

static void pods_row(struct verify_context *ctx, const char *label,
                     long long cpu, long long memory)
{
	char cpu_text[32], memory_text[32];

	quantity_format_cpu(cpu, cpu_text, sizeof(cpu_text));
	quantity_format_memory(memory, memory_text, sizeof(memory_text));
	fprintf(ctx->out, "  %-60s %8s %10s\n", label, cpu_text, memory_text);
}

struct pods_total {
	long long cpu;
	long long memory;
	long long job_cpu; /* the largest Job, which runs beside the rest */
	long long job_memory;
	char job[300];
};

static void pods_count(struct verify_context *ctx, const struct object *object,
                       struct pods_total *total)
{
	struct pods_usage usage = {0};
	long replicas = 1;
	long long cpu;
	long long memory;
	char label[300];

	verify_each_container(ctx, object, pods_resources_container, &usage);
	yaml_doc_long(yaml_doc_path(object->node, "spec.replicas"), &replicas);
	if (replicas < 0 || replicas > 1000)
		replicas = 1;
	cpu = pods_times(usage.cpu > usage.init_cpu ? usage.cpu
	                                            : usage.init_cpu,
	                 replicas);
	memory =
	        pods_times(usage.memory > usage.init_memory ? usage.memory
	                                                    : usage.init_memory,
	                   replicas);
	snprintf(label, sizeof(label), "%s/%s/%s", object->release,
	         object->kind, object->name);
	if (pods_long_running(object)) {
		pods_row(ctx, label, cpu, memory);
		total->cpu = pods_sum(total->cpu, cpu);
		total->memory = pods_sum(total->memory, memory);
	} else if (pods_sum(cpu, memory / 1048576) >
	           pods_sum(total->job_cpu, total->job_memory / 1048576)) {
		total->job_cpu = cpu;
		total->job_memory = memory;
		snprintf(total->job, sizeof(total->job), "%s", label);
	}
}

static void pods_budget(struct verify_context *ctx,
                        const struct pods_total *total)
{
	const struct rules *rules = ctx->rules;
	long long cpu = pods_sum(total->cpu, total->job_cpu);
	long long memory = pods_sum(total->memory, total->job_memory);
	char have[32], limit[32];

	pods_row(ctx, "total", cpu, memory);
	if (rules->budget_millicpu < 0 && rules->budget_memory < 0)
		return;
	pods_row(ctx, "budget", rules->budget_millicpu, rules->budget_memory);
	if (rules->budget_millicpu >= 0 && cpu > rules->budget_millicpu) {
		quantity_format_cpu(cpu, have, sizeof(have));
		quantity_format_cpu(rules->budget_millicpu, limit,
		                    sizeof(limit));
		verify_report(
		        ctx, RULE_BUDGET, "appliance/budget/requests", "cpu",
		        "the requests add up to %s, over the budget of %s",
		        have, limit);
	}
	if (rules->budget_memory >= 0 && memory > rules->budget_memory) {
		quantity_format_memory(memory, have, sizeof(have));
		quantity_format_memory(rules->budget_memory, limit,
		                       sizeof(limit));
		verify_report(
		        ctx, RULE_BUDGET, "appliance/budget/requests", "memory",
		        "the requests add up to %s, over the budget of %s",
		        have, limit);
	}
}

void verify_resources(struct verify_context *ctx)
{
	struct pods_total total = {0};

	for (size_t i = 0; i < ctx->rendered.count; i++) {
		struct pods_usage usage = {.report = true};

		verify_each_container(ctx, &ctx->rendered.items[i],
		                      pods_resources_container, &usage);
	}
	fprintf(ctx->out,
	        "budget: requests of the long-running workloads, plus the largest Job\n");
	fprintf(ctx->out, "  %-60s %8s %10s\n", "workload", "cpu", "memory");
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];

		if (verify_pod_spec(object) && !verify_is_hook(object))
			pods_count(ctx, object, &total);
	}
	for (size_t i = 0; i < ctx->release_count; i++) {
		if (!ctx->releases[i].rendered)
			fprintf(ctx->out, "  %s: not rendered, not counted\n",
			        ctx->releases[i].name);
	}
	if (total.job[0]) {
		char label[320];

		snprintf(label, sizeof(label), "%s (Job)", total.job);
		pods_row(ctx, label, total.job_cpu, total.job_memory);
	}
	pods_budget(ctx, &total);
}
