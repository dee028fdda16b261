/*
 * fingerprint: walk, sort, hash.
 */
#include "bootstrap/fingerprint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FINGERPRINT_DEPTH_MAX 16

struct fingerprint_files {
	char **paths; /* relative to the top directory */
	size_t count;
	size_t cap;
};

static bool fingerprint_add(struct fingerprint_files *files, const char *path)
{
	if (files->count == files->cap) {
		size_t cap = files->cap ? files->cap * 2 : 64;
		char **grown = realloc(files->paths, cap * sizeof(char *));
		if (grown == NULL)
			return false;
		files->paths = grown;
		files->cap = cap;
	}
	files->paths[files->count] = strdup(path);
	return files->paths[files->count++] != NULL;
}

/* Collects the regular files under top/rel. */
static bool fingerprint_walk(const char *top, const char *rel, int depth,
                             struct fingerprint_files *files, char *error,
                             size_t error_size)
{
	char dir[4096], path[4096], child[4096];
	struct dirent *entry;
	struct stat st;
	bool ok = true;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s%s%s", top, rel[0] ? "/" : "", rel) >=
	    (int)sizeof(dir)) {
		snprintf(error, error_size, "path too long under %s", top);
		return false;
	}
	d = opendir(dir);
	if (d == NULL) {
		snprintf(error, error_size, "cannot read directory %s: %s", dir,
		         strerror(errno));
		return false;
	}
	while (ok && (entry = readdir(d)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof(child), "%s%s%s", rel,
		             rel[0] ? "/" : "",
		             entry->d_name) >= (int)sizeof(child) ||
		    snprintf(path, sizeof(path), "%s/%s", top, child) >=
		            (int)sizeof(path)) {
			snprintf(error, error_size, "path too long under %s",
			         dir);
			ok = false;
		} else if (stat(path, &st) != 0) {
			snprintf(error, error_size, "cannot read %s: %s", path,
			         strerror(errno));
			ok = false;
		} else if (S_ISDIR(st.st_mode) &&
		           depth < FINGERPRINT_DEPTH_MAX) {
			ok = fingerprint_walk(top, child, depth + 1, files,
			                      error, error_size);
		} else if (S_ISREG(st.st_mode) &&
		           !fingerprint_add(files, child)) {
			snprintf(error, error_size, "out of memory");
			ok = false;
		}
	}
	closedir(d);
	return ok;
}

static int fingerprint_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the path, a NUL, the file's own digest and a newline. */
static bool fingerprint_file(struct sha256 *outer, const char *top,
                             const char *rel, char *error, size_t error_size)
{
	unsigned char buf[65536], digest[SHA256_DIGEST_SIZE];
	char path[4096], hex[SHA256_HEX_SIZE];
	struct sha256 inner;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", top, rel) >=
	    (int)sizeof(path)) {
		snprintf(error, error_size, "path too long under %s", top);
		return false;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(error, error_size, "cannot read %s: %s", path,
		         strerror(errno));
		return false;
	}
	sha256_init(&inner);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha256_update(&inner, buf, (size_t)n);
	close(fd);
	if (n < 0) {
		snprintf(error, error_size, "cannot read %s: %s", path,
		         strerror(errno));
		return false;
	}
	sha256_final(&inner, digest);
	sha256_hex(digest, hex);
	sha256_update(outer, rel, strlen(rel) + 1);
	sha256_update(outer, hex, strlen(hex));
	sha256_update(outer, "\n", 1);
	return true;
}

bool fingerprint_compute(const char *directory, const char *revision,
                         char hex[SHA256_HEX_SIZE], size_t *count, char *error,
                         size_t error_size)
{
	struct fingerprint_files files = {NULL, 0, 0};
	unsigned char digest[SHA256_DIGEST_SIZE];
	struct sha256 ctx;
	bool ok;

	*count = 0;
	ok = fingerprint_walk(directory, "", 0, &files, error, error_size);
	if (ok)
		qsort(files.paths, files.count, sizeof(char *),
		      fingerprint_cmp);
	sha256_init(&ctx);
	for (size_t i = 0; ok && i < files.count; i++)
		ok = fingerprint_file(&ctx, directory, files.paths[i], error,
		                      error_size);
	if (ok) {
		sha256_update(&ctx, "revision\n", 9);
		sha256_update(&ctx, revision, strlen(revision));
		sha256_final(&ctx, digest);
		sha256_hex(digest, hex);
		*count = files.count;
	}
	for (size_t i = 0; i < files.count; i++)
		free(files.paths[i]);
	free(files.paths);
	return ok;
}
