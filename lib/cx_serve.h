/* cx_serve: the master process of a cx-* FastCGI program: binds the unix socket,
 * pre-forks workers, restarts dead ones, drains on SIGTERM (the php-fpm model). */
#ifndef CX_SERVE_H
#define CX_SERVE_H

#include <stddef.h>

#include "cx_error.h"
#include "cx_http.h"
#include "cx_router.h"

enum {
	CX_NEED_STORE = 1,
	CX_NEED_REDIS = 2,
	CX_NEED_SIGNING_KEY = 4,   /* load the private key too (programs that issue tokens) */
};

struct cx_program {
	const char *name;                       /* "cx-auth": socket <socket_dir>/cx-auth.sock */
	const struct cx_route *routes;
	size_t nroutes;
	unsigned needs;                         /* CX_NEED_* */
	/* Also listen on CX_SERVE_SHARDS sockets <name>.<i>.sock, shard i served by worker
	 * i % workers only: nginx hashes a key (an interview session's id) onto them, so
	 * every request about one thing reaches the worker that has it in memory. */
	int sharded;
	/* optional hooks, run in each worker after the shared context is open */
	int (*worker_init)(struct cx_app *app, struct cx_error *err);
	void (*worker_fini)(struct cx_app *app);
	/* Deferred writes (optional). A handler may leave its writes to the end of the
	 * worker's round (every request waiting when it woke up) and hold its response
	 * (cx_request.hold). After the round, batch_commit stores the writes of all of them
	 * at once and sets held_ok on each held request; then, for each, batch_release runs
	 * (ok: before its response goes out; not ok: before its handler runs again, writing
	 * at once), and the response is sent. */
	void (*batch_commit)(struct cx_app *app);
	void (*batch_release)(struct cx_request *req, int ok);
};

#define CX_SERVE_SHARDS 16   /* nginx/snippets/cx-upstreams.conf lists as many */

/* Command line:  PROGRAM [--config FILE] [--socket PATH] [--workers N] [--routes]
 * --routes prints the route table as JSON lines and exits (for the OpenAPI test).
 * Returns the process exit status. */
int cx_serve_main(int argc, char **argv, const struct cx_program *prog);

/* Open the per-worker context (store, redis, keys) for prog from cfg. Used by the
 * workers and by tests/tools that want the same context without serving. */
int cx_app_open(struct cx_app *app, const struct cx_program *prog, const struct cx_config *cfg,
    struct cx_error *err);
void cx_app_close(struct cx_app *app);

#endif
