/* main of every integration test program: skip (exit 77, automake's SKIP) when no stack
 * is given, else run the Criterion tests one at a time, one program at a time. */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/options.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#define EXIT_SKIP 77

/* The tests share the stack's rate-limit counters and outbox, so two programs run by a
 * parallel `make check` must not interleave: hold an exclusive lock while running. */
static int
lock_stack(void)
{
	const char *dir = getenv("CX_TEST_DATA_DIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/integration.lock", dir && *dir ? dir : "/tmp");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	struct criterion_test_set *tests;
	const char *base = getenv("CX_TEST_BASE_URL");
	int ok, lockfd;

	if (base == NULL || *base == '\0') {
		fprintf(stderr, "%s: CX_TEST_BASE_URL is not set (start the stack with "
		    "./dev.sh test): skipped\n", argv[0]);
		return EXIT_SKIP;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "%s: curl_global_init failed\n", argv[0]);
		return EXIT_FAILURE;
	}
	lockfd = lock_stack();
	tests = criterion_initialize();
	ok = criterion_handle_args(argc, argv, true);
	if (ok) {
		/* tests reset shared counters in Redis: never run two at once */
		criterion_options.jobs = 1;
		ok = criterion_run_all_tests(tests);
	} else {
		ok = 1;   /* --help, --list, ... */
	}
	criterion_finalize(tests);
	if (lockfd >= 0)
		close(lockfd);
	curl_global_cleanup();
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
