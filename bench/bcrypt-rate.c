/* bcrypt-rate: the bcrypt ceiling for login -- how many $2b$ cost-12 verifications
 * per second N processes manage in T seconds, the work one login does.
 *
 * Usage: bcrypt-rate [PROCS [SECONDS [COST]]]   (defaults: cores, 10, 12)
 * Prints one line: procs=N cost=C seconds=S hashes=H hashes_per_sec=R */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 256

struct tally {
	long hashes;
	double seconds;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One process: verify the password against hash until the deadline, like login. */
static int
run(const char *hash, double seconds, struct tally *t)
{
	struct crypt_data *cd = NULL;
	double start = now(), stop = start + seconds;
	int rc = -1;

	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		goto out;
	t->hashes = 0;
	do {
		const char *h = crypt_r("bench-Passw0rd!", hash, cd);

		if (h == NULL || strcmp(h, hash) != 0)
			goto out;
		t->hashes++;
	} while (now() < stop);
	t->seconds = now() - start;
	rc = 0;
out:
	free(cd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct crypt_data *cd = NULL;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char hash[CRYPT_OUTPUT_SIZE];
	long procs = sysconf(_SC_NPROCESSORS_ONLN), seconds = 10, cost = 12, i, total = 0;
	double rate = 0.0, longest = 0.0;
	int fds[2] = { -1, -1 }, status = 1, failed = 0;
	const char *h;

	if (procs < 1)
		procs = 1;
	if (argc > 4 || (argc > 1 && parse_long(argv[1], 1, MAX_PROCS, &procs) != 0) ||
	    (argc > 2 && parse_long(argv[2], 1, 3600, &seconds) != 0) ||
	    (argc > 3 && parse_long(argv[3], 4, 31, &cost) != 0)) {
		fprintf(stderr, "usage: %s [PROCS 1-%d [SECONDS 1-3600 [COST 4-31]]]\n",
		    argv[0], MAX_PROCS);
		return 2;
	}

	cd = calloc(1, sizeof(*cd));
	if (cd == NULL || crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0,
	    setting, (int)sizeof(setting)) == NULL ||
	    (h = crypt_r("bench-Passw0rd!", setting, cd)) == NULL || h[0] == '*') {
		fprintf(stderr, "bcrypt-rate: libcrypt cannot make a $2b$ hash\n");
		goto out;
	}
	snprintf(hash, sizeof(hash), "%s", h);
	if (pipe(fds) != 0) {
		perror("bcrypt-rate: pipe");
		goto out;
	}

	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("bcrypt-rate: fork");
			failed = 1;
			break;
		}
		if (pid == 0) {
			struct tally t = { 0, 0.0 };

			close(fds[0]);
			if (run(hash, (double)seconds, &t) != 0)
				_exit(1);
			/* sizeof(t) < PIPE_BUF: the write is atomic. */
			_exit(write(fds[1], &t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1);
		}
	}
	close(fds[1]);
	fds[1] = -1;

	for (;;) {
		struct tally t;
		ssize_t n = read(fds[0], &t, sizeof(t));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(t))
			break;
		total += t.hashes;
		rate += (double)t.hashes / t.seconds;   /* each process ran its own clock */
		if (t.seconds > longest)
			longest = t.seconds;
	}
	for (;;) {
		int ws;

		if (wait(&ws) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			failed = 1;
	}
	if (failed) {
		fprintf(stderr, "bcrypt-rate: a worker failed\n");
		goto out;
	}
	printf("procs=%ld cost=%ld seconds=%.2f hashes=%ld hashes_per_sec=%.2f\n",
	    procs, cost, longest, total, rate);
	status = 0;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(cd);
	return status;
}
