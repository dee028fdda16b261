/*
 * alga-appliance: see offline what Flux will run on the appliance, and check
 * it against the appliance's rules.
 *
 *   alga-appliance render PROFILE_DIR --out DIR [--helm PATH]
 *                  [--kubectl PATH] [--repo-root DIR] [--chart-dir NAME=PATH]
 *   alga-appliance verify DIR [--rules FILE]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/render.h"
#include "appliance/verify.h"

#define APPLIANCE_VERSION "0.1.0"
#define MAX_CHART_DIRS 32

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: alga-appliance render PROFILE_DIR --out DIR [options]\n"
	        "       alga-appliance verify DIR [--rules FILE]\n"
	        "       alga-appliance --help | --version\n"
	        "\n"
	        "render builds PROFILE_DIR with kustomize and renders every HelmRelease\n"
	        "in it with helm template into DIR/<release>.yaml.\n"
	        "  --out DIR              where to write (required)\n"
	        "  --helm PATH            Helm binary (default $HELM, else helm on PATH)\n"
	        "  --kubectl PATH         kubectl binary (default $KUBECTL, else kubectl)\n"
	        "  --repo-root DIR        the repository the GitRepository source is\n"
	        "                         (default: found above PROFILE_DIR)\n"
	        "  --chart-dir NAME=PATH  a local copy of a remote chart, NAME being the\n"
	        "                         chart's or the release's name (repeatable)\n"
	        "\n"
	        "verify checks DIR against the appliance rules and prints each\n"
	        "violation as release/kind/name[/container]: field: what is wrong;\n"
	        "it exits 1 when there is any.\n"
	        "  --rules FILE           the rules (default: rules.yaml of the profile\n"
	        "                         DIR was rendered from)\n");
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value && *value ? value : fallback;
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt,
                                                             ...)
{
	va_list args;

	va_start(args, fmt);
	fprintf(stderr, "alga-appliance: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	usage(stderr);
	return 2;
}

/* True when program names an executable file, directly or through PATH. */
static bool program_found(const char *program)
{
	char path[4096];
	const char *dirs = getenv("PATH"), *end;
	size_t len;

	if (strchr(program, '/'))
		return access(program, X_OK) == 0;
	while (dirs && *dirs) {
		end = strchr(dirs, ':');
		len = end ? (size_t)(end - dirs) : strlen(dirs);
		if (len > 0 &&
		    (size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)len,
		                     dirs, program) < sizeof(path) &&
		    access(path, X_OK) == 0)
			return true;
		dirs += len + (end ? 1 : 0);
	}
	return false;
}

/* Both tools checked before any work, with where `make tools` put them. */
static int render_tools_found(const struct render_options *opts)
{
	if (!program_found(opts->helm)) {
		fprintf(stderr,
		        "alga-appliance: render: helm not found: \"%s\"\n"
		        "hint: give --helm PATH or set HELM; make tools puts "
		        "Helm 4 at the HELM4 path in .tools/env "
		        "(. .tools/env && export HELM=$HELM4)\n",
		        opts->helm);
		return 2;
	}
	if (!program_found(opts->kubectl)) {
		fprintf(stderr,
		        "alga-appliance: render: kubectl not found: \"%s\"\n"
		        "hint: give --kubectl PATH or set KUBECTL; make tools "
		        "names one in .tools/env\n",
		        opts->kubectl);
		return 2;
	}
	return 0;
}

static int main_render(int argc, char **argv)
{
	static const struct option options[] = {
	        {"out", required_argument, NULL, 'o'},
	        {"helm", required_argument, NULL, 'H'},
	        {"kubectl", required_argument, NULL, 'k'},
	        {"repo-root", required_argument, NULL, 'r'},
	        {"chart-dir", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct render_chart_dir dirs[MAX_CHART_DIRS];
	struct render_options opts = {
	        .helm = env_or("HELM", "helm"),
	        .kubectl = env_or("KUBECTL", "kubectl"),
	        .chart_dirs = dirs,
	};
	char *equals;
	int c;

	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			opts.out_dir = optarg;
			break;
		case 'H':
			opts.helm = optarg;
			break;
		case 'k':
			opts.kubectl = optarg;
			break;
		case 'r':
			opts.repo_root = optarg;
			break;
		case 'c':
			equals = strchr(optarg, '=');
			if (!equals || equals == optarg || !equals[1] ||
			    opts.chart_dir_count == MAX_CHART_DIRS)
				return usage_error(
				        "--chart-dir wants NAME=PATH, got \"%s\"",
				        optarg);
			*equals = '\0';
			dirs[opts.chart_dir_count].name = optarg;
			dirs[opts.chart_dir_count++].path = equals + 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_error("render wants one PROFILE_DIR");
	if (!opts.out_dir)
		return usage_error("render wants --out DIR");
	opts.profile = argv[optind];
	if (render_tools_found(&opts) != 0)
		return 2;
	return render_run(&opts);
}

static int main_verify(int argc, char **argv)
{
	static const struct option options[] = {
	        {"rules", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *rules = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "r:h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1)
		return usage_error("verify wants one DIR");
	return verify_run(argv[optind], rules);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("alga-appliance %s\n", APPLIANCE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "render") == 0)
		return main_render(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return main_verify(argc - 1, argv + 1);
	return usage_error("unknown command \"%s\"", argv[1]);
}
