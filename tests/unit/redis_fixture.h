/* redis_fixture: a private redis-server for one test process (or CX_TEST_REDIS_URL). */
#ifndef REDIS_FIXTURE_H
#define REDIS_FIXTURE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct redis_fixture {
	pid_t pid;                  /* running server, 0 = none (or external) */
	int external;               /* 1: CX_TEST_REDIS_URL, we neither start nor stop it */
	char server[PATH_MAX];      /* redis-server binary */
	char dir[64];               /* mkdtemp directory holding the socket and the log */
	char socket[108];
	char url[512];              /* "unix:/.../redis.sock" or CX_TEST_REDIS_URL */
	char why[PATH_MAX + 512];   /* reason of the last failure, for the test message */
	const char *const *extra;   /* more redis-server arguments (borrowed), NULL-ended */
};

/* Start a server: redis-server from $CX_TEST_REDIS_SERVER, $PATH, /usr/bin, /usr/local/bin
 * or /usr/sbin on a unix socket in a fresh temp dir (--port 0 --save '' --appendonly no,
 * plus f->extra if set before the call), and wait until PING answers. If
 * CX_TEST_REDIS_URL is set, use that URL instead (shared: tests must use unique keys).
 * 0 ok and f->url is set; -1 with f->why explaining (no redis-server found, ...). */
int redis_fixture_start(struct redis_fixture *f);

/* kill -9 the server, keeping the dir (down: commands must fail). -1 when external. */
int redis_fixture_kill(struct redis_fixture *f);
/* Start the server again on the same socket after redis_fixture_kill. */
int redis_fixture_restart(struct redis_fixture *f);

/* Kill the server and remove the temp dir. Safe to call twice. */
void redis_fixture_stop(struct redis_fixture *f);

#endif
