/*
 * replay: run the fuzz harness once over each file named on the command
 * line, without libFuzzer, so that kept crash inputs are tests anywhere.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	FILE *in = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t size = 0, n;
	unsigned char chunk[4096];

	if (!in) {
		perror(path);
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		unsigned char *grown = realloc(data, size + n);

		if (!grown) {
			fclose(in);
			free(data);
			return 1;
		}
		data = grown;
		for (size_t i = 0; i < n; i++)
			data[size + i] = chunk[i];
		size += n;
	}
	fclose(in);
	LLVMFuzzerTestOneInput(data ? data : chunk, size);
	free(data);
	printf("replayed %s\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++)
		status |= replay(argv[i]);
	return status;
}
