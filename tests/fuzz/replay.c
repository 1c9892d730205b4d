/* Runs a fuzz target over every file of its corpus folder (argv[1]) so the corpus is a
 * regression suite in `make check`, with any compiler. With --enable-fuzzing the
 * targets are linked with libFuzzer instead of this file. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	DIR *d;
	struct dirent *e;
	int files = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (d == NULL) {
		perror(argv[1]);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		uint8_t *buf;
		long n;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		buf = malloc(n > 0 ? (size_t)n : 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			LLVMFuzzerTestOneInput(buf, (size_t)n);
			files++;
		}
		free(buf);
		fclose(f);
	}
	closedir(d);
	printf("%s: %d inputs replayed\n", argv[1], files);
	return files > 0 ? 0 : 1;
}
