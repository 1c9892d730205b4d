/* cx_serve: master + pre-forked workers on one FastCGI unix socket (the php-fpm model).
 * The master only supervises: it binds the socket, forks the workers, restarts a worker
 * that dies, and on SIGTERM/SIGINT tells the workers to finish the request they are
 * serving and exit. Each worker opens its own store/Redis connections after the fork. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cx_config.h"
#include "cx_fcgi.h"
#include "cx_log.h"
#include "cx_redis.h"
#include "cx_revoke.h"
#include "cx_serve.h"
#include "cx_store.h"
#include "cx_time.h"

#define MAX_WORKERS 64

#define MAX_CONNS CX_FCGI_MAX_CONNS   /* FastCGI connections one worker keeps open */

static volatile sig_atomic_t stopping;
/* The listening sockets, opened by the master: the shared one, and a program's shards. */
static int listen_fd = -1;
static int shard_fd[CX_SERVE_SHARDS];
static int nshards;
static int shard_workers;   /* workers 0 .. shard_workers-1 serve the shards */
/* Set in the master before it forks: a checkpointer process copies the SQLite log back
 * into the database, so workers leave that to it. */
static int checkpointer_running;

/* ---- worker ------------------------------------------------------------------- */

/* SIGTERM only ever arrives inside epoll_pwait() (it is blocked everywhere else), so a worker
 * always finishes the request it is serving and then leaves its loop. */
static void
worker_on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A child of the master (worker or checkpointer): SIGTERM and SIGINT ask it to stop. */
static void
child_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
}

int
cx_app_open(struct cx_app *app, const struct cx_program *prog, const struct cx_config *cfg,
    struct cx_error *err)
{
	int rc = CX_OK;

	memset(app, 0, sizeof(*app));
	app->program = prog->name;
	app->cfg = cfg;
	if ((prog->needs & CX_NEED_STORE) &&
	    (rc = cx_store_open(cfg->database_url, cfg->database_name, &app->store, err)) != CX_OK)
		goto out;
	if (app->store != NULL && checkpointer_running)
		cx_store_defer_checkpoints(app->store);
	if ((prog->needs & CX_NEED_REDIS) &&
	    ((rc = cx_redis_new(cfg->redis_url, &app->redis, err)) != CX_OK ||
	    (rc = cx_revoke_view_open(cfg->redis_url, app->redis, cfg->access_token_minutes * 60,
	    &app->revoke, err)) != CX_OK))
		goto out;
	rc = cx_jwt_keys_load((prog->needs & CX_NEED_SIGNING_KEY) ? cfg->jwt_private_key : NULL,
	    cfg->jwt_public_key, &app->keys, err);
	if (rc != CX_OK)
		goto out;
	if (prog->worker_init != NULL) {
		app->fini = prog->worker_fini;
		rc = prog->worker_init(app, err);
	}
out:
	if (rc != CX_OK)
		cx_app_close(app);
	return rc;
}

void
cx_app_close(struct cx_app *app)
{
	if (app->fini != NULL)
		app->fini(app);
	app->fini = NULL;
	cx_jwt_keys_free(app->keys);
	cx_revoke_view_free(app->revoke);
	cx_redis_free(app->redis);
	cx_store_close(app->store);
	app->keys = NULL;
	app->revoke = NULL;
	app->redis = NULL;
	app->store = NULL;
}

/* Serve the next request waiting on conn's connection. Returns 0 while the connection
 * stays open (nginx asked to keep it: fastcgi_keep_conn), -1 once it is closed, 1 when
 * the request's response is held until the round's deferred writes are stored
 * (finish_held then completes it). */
static int
serve_one(const struct cx_program *prog, struct cx_request *conn)
{
	int r = cx_fcgi_accept(&conn->fcgi);

	if (r != 0)   /* closed, or only management records so far */
		return r < 0 ? -1 : 0;
	cx_request_read_params(conn);
	cx_router_dispatch(prog->routes, prog->nroutes, conn);
	if (conn->hold)
		return 1;
	r = cx_fcgi_finish(&conn->fcgi);   /* writes the response; closes unless kept */
	cx_request_reset(conn);
	return r;
}

/* A held request, once batch_commit decided it. Returns as serve_one. */
static int
finish_held(const struct cx_program *prog, struct cx_request *conn)
{
	int ok = conn->held_ok, r;

	cx_log_set_request(conn->request_id, conn->remote_addr);
	if (prog->batch_release != NULL)
		prog->batch_release(conn, ok);
	cx_router_finish_held(conn, ok);
	r = cx_fcgi_finish(&conn->fcgi);
	cx_request_reset(conn);
	return r;
}

/* What an epoll event names: a listener (LISTENER | its index in lfds), or a connection
 * slot with the slot's generation at the time it was registered (an event of a slot
 * whose connection closed, and whose fd number came back with a newer connection in the
 * same round, is stale: it is not that connection's). */
#define LISTENER ((uint64_t)1 << 63)
#define EV_SLOT(slot, gen) ((uint64_t)(gen) << 32 | (uint32_t)(slot))

static int
watch(int ep, int op, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(ep, op, fd, &ev);
}

/* A worker's connections that are not just waiting: held for the round's writes, or
 * with a request already read (pending: served next round without waiting). */
struct conn_lists {
	int *held;
	size_t nheld;
	uint64_t *pending;     /* EV_SLOT values */
	size_t npending;
	size_t nconns;         /* open */
};

/* Where a connection goes once served (serve_one: 1 held, 0 kept, -1 closed) or
 * finished (finish_held: 0 or -1); ev names it (EV_SLOT). */
static void
file_conn(struct conn_lists *l, struct cx_request *conn, uint64_t ev, int r)
{
	if (r == 1)
		l->held[l->nheld++] = (int)(uint32_t)ev;
	else if (r != 0)
		l->nconns--;
	else if (cx_fcgi_buffered(&conn->fcgi) > 0)
		l->pending[l->npending++] = ev;
}

/* The worker's event loop: the listening socket shared with the other workers, the
 * shards that are this worker's (worker w of n serves shard i when i % n == w), and the
 * connections this worker accepted, all in one epoll set: a round costs what is ready,
 * not what is open (nginx keeps up to 128 idle connections per worker to a shard). A
 * connection nginx keeps open is watched instead of blocked on, so idle kept connections
 * never starve new ones. */
static int
worker_main(const struct cx_program *prog, const struct cx_config *cfg, int w, int nworkers)
{
	sigset_t block, waitmask;
	struct cx_app app;
	struct cx_request *conns = NULL;
	struct epoll_event *evs = NULL;
	uint32_t *gen = NULL, *seen = NULL, round = 0;
	uint64_t *work = NULL;   /* EV_SLOT values */
	struct conn_lists l = { 0 };
	int lfds[1 + CX_SERVE_SHARDS];
	struct cx_error err = { 0 };
	size_t nlisten = 0, maxev;
	int ep = -1, listening = 0, rc = 0;

	lfds[nlisten++] = listen_fd;
	for (int i = 0; i < nshards; i++)
		if (w < shard_workers && i % shard_workers == w)
			lfds[nlisten++] = shard_fd[i];
	maxev = MAX_CONNS + nlisten;
	child_signals();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	if (cx_app_open(&app, prog, cfg, &err) != CX_OK) {
		cx_logf(CX_LOG_ERROR, "worker %d could not start: %s", (int)getpid(), err.message);
		return 3;
	}
	conns = calloc(MAX_CONNS, sizeof(*conns));
	evs = calloc(maxev, sizeof(*evs));
	gen = calloc(MAX_CONNS, sizeof(*gen));
	seen = calloc(MAX_CONNS, sizeof(*seen));
	l.held = calloc(MAX_CONNS, sizeof(*l.held));
	l.pending = calloc(MAX_CONNS, sizeof(*l.pending));
	work = calloc(MAX_CONNS + maxev, sizeof(*work));
	if (conns == NULL || evs == NULL || gen == NULL || seen == NULL || l.held == NULL ||
	    l.pending == NULL || work == NULL) {
		cx_logf(CX_LOG_ERROR, "worker %d: out of memory", (int)getpid());
		goto out;
	}
	for (size_t i = 0; i < MAX_CONNS; i++)
		cx_request_init(&conns[i], &app);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		cx_logf(CX_LOG_ERROR, "worker %d: epoll: %s", (int)getpid(), strerror(errno));
		rc = 3;
		goto out;
	}

	while (!stopping) {
		size_t nwork;
		int n;

		/* the listeners are watched while there is room for one more connection */
		if (!listening && l.nconns < MAX_CONNS) {
			for (size_t j = 0; j < nlisten; j++)
				if (watch(ep, EPOLL_CTL_ADD, lfds[j], LISTENER | j) != 0)
					cx_logf(CX_LOG_ERROR, "epoll: %s", strerror(errno));
			listening = 1;
		}
		/* a request read along with the previous one is not seen by epoll: no waiting */
		n = epoll_pwait(ep, evs, (int)maxev, l.npending > 0 ? 0 : -1, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			cx_logf(CX_LOG_ERROR, "epoll_wait: %s", strerror(errno));
			break;
		}
		cx_log_hold();   /* the round's access lines go out at its end, in one write */
		round++;
		/* what is ready: the connections with a request already read, then the events */
		memcpy(work, l.pending, l.npending * sizeof(*l.pending));
		nwork = l.npending;
		l.npending = 0;
		l.nheld = 0;
		for (int k = 0; k < n; k++)
			if (!(evs[k].data.u64 & LISTENER))
				work[nwork++] = evs[k].data.u64;
		for (size_t k = 0; k < nwork && !stopping; k++) {
			uint32_t i = (uint32_t)work[k];
			struct cx_request *conn = &conns[i];

			/* not that connection's (closed since), held, or served this round already
			 * (its next request, if any, is seen again by the next wait) */
			if ((uint32_t)(work[k] >> 32) != gen[i] || conn->fcgi.fd < 0 || conn->hold ||
			    seen[i] == round)
				continue;
			seen[i] = round;
			file_conn(&l, conn, work[k], serve_one(prog, conn));
		}
		for (int k = 0; k < n && !stopping; k++) {
			uint64_t d = evs[k].data.u64;

			if (!(d & LISTENER) || !listening)
				continue;
			/* Every connection waiting on the listener, not one per round: nginx opens
			 * new ones while its kept ones are busy, and a connection left in the
			 * backlog waited a round of the whole loop per connection ahead of it. The
			 * socket is non-blocking, and another worker may take some first. */
			for (;;) {
				int fd, i;

				if (l.nconns == MAX_CONNS) {   /* no room: the listeners rest */
					for (size_t j = 0; j < nlisten; j++)
						epoll_ctl(ep, EPOLL_CTL_DEL, lfds[j], NULL);
					listening = 0;
					break;
				}
				if ((fd = accept4(lfds[d & ~LISTENER], NULL, NULL, SOCK_CLOEXEC)) < 0)
					break;
				for (i = 0; conns[i].fcgi.fd >= 0; i++)
					;
				gen[i]++;
				seen[i] = round;
				if (watch(ep, EPOLL_CTL_ADD, fd, EV_SLOT(i, gen[i])) != 0) {
					cx_logf(CX_LOG_ERROR, "epoll: %s", strerror(errno));
					close(fd);
					break;
				}
				cx_fcgi_attach(&conns[i].fcgi, fd);
				l.nconns++;
				file_conn(&l, &conns[i], EV_SLOT(i, gen[i]), serve_one(prog, &conns[i]));
				if (stopping)
					break;
			}
		}
		/* The writes the round's handlers deferred, stored at once; then their answers. */
		if (l.nheld > 0) {
			size_t nheld = l.nheld;

			if (prog->batch_commit != NULL)
				prog->batch_commit(&app);
			for (size_t h = 0; h < nheld; h++) {
				int i = l.held[h];

				file_conn(&l, &conns[i], EV_SLOT(i, gen[i]), finish_held(prog, &conns[i]));
			}
		}
		cx_log_flush();
	}
out:
	cx_log_flush();
	for (size_t i = 0; conns != NULL && i < MAX_CONNS; i++) {
		cx_request_reset(&conns[i]);
		cx_fcgi_free(&conns[i].fcgi);
	}
	if (ep >= 0)
		close(ep);
	free(conns);
	free(evs);
	free(gen);
	free(seen);
	free(l.held);
	free(l.pending);
	free(work);
	cx_app_close(&app);
	return rc;
}

/* ---- master ------------------------------------------------------------------- */

static volatile sig_atomic_t master_stop;

static void
master_on_term(int sig)
{
	(void)sig;
	master_stop = 1;
}

static void
master_on_chld(int sig)
{
	(void)sig;
}

static int
ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}


/* ---- checkpointer ---------------------------------------------------------------- */

#define CHECKPOINT_TICK_MS 100

/* The SQLite store's log is copied back into the database here, a tick at a time,
 * instead of inside the commit of whichever request crosses the threshold (which then
 * waits for two disk syncs). */
static int
checkpointer_main(const struct cx_config *cfg)
{
	struct timespec tick = { 0, CHECKPOINT_TICK_MS * 1000000L };
	struct cx_store *store = NULL;
	struct cx_error err = { 0 };
	time_t last_warn = 0;

	child_signals();
	if (cx_store_open(cfg->database_url, cfg->database_name, &store, &err) != CX_OK) {
		cx_logf(CX_LOG_ERROR, "checkpointer could not start: %s", err.message);
		return 3;
	}
	while (!stopping) {
		nanosleep(&tick, NULL);   /* SIGTERM cuts it short */
		if (cx_store_checkpoint(store, &err) != CX_OK) {
			if (time(NULL) - last_warn >= 60) {
				cx_logf(CX_LOG_WARN, "checkpoint failed: %s", err.message);
				last_warn = time(NULL);
			}
			cx_error_clear(&err);
		}
	}
	cx_store_close(store);
	return 0;
}

/* Worker w of nworkers, or the checkpointer when prog is NULL. */
static pid_t
spawn_child(const struct cx_program *prog, const struct cx_config *cfg, int w, int nworkers)
{
	pid_t master = getpid(), pid = fork();

	if (pid == 0) {
		sigset_t none;

		/* A child whose master is gone (killed: a stopped master stops its children
		 * first) stops too, rather than serve on with nobody to restart or stop it. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master)
			_exit(0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		exit(prog != NULL ? worker_main(prog, cfg, w, nworkers) : checkpointer_main(cfg));
	}
	if (pid < 0)
		cx_logf(CX_LOG_ERROR, "fork failed: %s", strerror(errno));
	return pid;
}


static int
store_is_sqlite(const char *url)
{
	return url != NULL && strncmp(url, "mongodb:", 8) != 0 &&
	    strncmp(url, "mongodb+srv:", 12) != 0;
}

/* How many workers serve the shard sockets (the changes to one session each). On SQLite
 * with the local interviewer a change is work on the CPU and then a commit, and commits
 * take one write lock in turn: a second writing worker adds no commits, only contention
 * (it waits for the lock, and each commit of the other drops its page cache), and takes
 * the cores nginx needs. On two cores one worker taking the changes answered as many a
 * second with a p99 a third lower. A remote AI provider keeps a worker waiting for
 * seconds, and MongoDB takes concurrent writes: then every worker serves shards. */
static int
count_shard_workers(const struct cx_program *prog, const struct cx_config *cfg, int nworkers)
{
	int n = nworkers;

	if (cfg->shard_workers > 0)
		n = cfg->shard_workers;
	else if ((prog->needs & CX_NEED_STORE) && store_is_sqlite(cfg->database_url) &&
	    cfg->ai_provider != NULL && strcmp(cfg->ai_provider, "local") == 0)
		n = nworkers / 2;
	if (n < 1)
		n = 1;
	return n < nworkers ? n : nworkers;
}

static void
print_routes(const struct cx_program *prog)
{
	for (size_t i = 0; i < prog->nroutes; i++) {
		const struct cx_route *r = &prog->routes[i];
		printf("{\"method\":\"%s\",\"pattern\":\"%s\",\"permission\":\"%s\"}\n", r->method,
		    r->pattern, r->permission ? r->permission : "public");
	}
}

static void
usage(const char *name)
{
	fprintf(stderr,
	    "usage: %s [--config FILE] [--socket PATH] [--workers N] [--routes]\n"
	    "  Serves FastCGI on a unix socket (default $CX_SOCKET_DIR/%s.sock).\n"
	    "  Configuration comes from the environment (see README), optionally a file.\n",
	    name, name);
}

static int
bind_socket(const char *path)
{
	const char *mode_env = getenv("CX_SOCKET_MODE");
	mode_t mode = 0666;
	int fd;

	if (mode_env != NULL && *mode_env != '\0')
		mode = (mode_t)strtol(mode_env, NULL, 8);
	unlink(path);   /* a stale socket from a crashed master */
	fd = cx_fcgi_listen(path);
	if (fd < 0)
		return -1;
	/* Workers poll the socket and accept themselves; whoever loses the race for a
	 * connection gets EAGAIN instead of blocking. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (chmod(path, mode) != 0)
		cx_logf(CX_LOG_WARN, "chmod %s: %s", path, strerror(errno));
	return fd;
}

static void
close_listeners(const char *socket_path, char shard_path[][1024])
{
	for (int i = 0; i < nshards; i++) {
		close(shard_fd[i]);
		unlink(shard_path[i]);
	}
	nshards = 0;
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(socket_path);
	}
	listen_fd = -1;
}

int
cx_serve_main(int argc, char **argv, const struct cx_program *prog)
{
	const char *config_path = NULL, *socket_path = NULL;
	struct cx_config cfg;
	struct cx_error err = { 0 };
	char sockbuf[1024];
	pid_t workers[MAX_WORKERS] = { 0 }, ckpt = 0;
	char shard_path[CX_SERVE_SHARDS][1024];
	int nworkers = 0, status = 0;
	enum cx_log_level level = CX_LOG_INFO;
	struct sigaction sa;
	sigset_t block, old;
	time_t window_start = time(NULL);
	int restarts_in_window = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end != '\0' || n < 1 || n > MAX_WORKERS) {
				fprintf(stderr, "%s: --workers must be 1..%d\n", prog->name, MAX_WORKERS);
				return 2;
			}
			nworkers = (int)n;
		} else if (strcmp(argv[i], "--routes") == 0) {
			print_routes(prog);
			return 0;
		} else {
			usage(prog->name);
			return strcmp(argv[i], "--help") == 0 ? 0 : 2;
		}
	}
	if (cx_config_load(config_path, &cfg, &err) != CX_OK) {
		fprintf(stderr, "%s: configuration error: %s%s%s\n", prog->name,
		    err.field[0] ? err.field : err.message, err.field[0] ? ": " : "", err.reason);
		return 2;
	}
	if (cfg.log_level != NULL)
		cx_log_level_parse(cfg.log_level, &level);
	cx_log_init(prog->name, level, 2);
	if (nworkers == 0)
		nworkers = cfg.workers > 0 ? cfg.workers : ncores();
	if (nworkers > MAX_WORKERS)
		nworkers = MAX_WORKERS;
	if (socket_path == NULL) {
		mkdir(cfg.socket_dir, 0755);
		snprintf(sockbuf, sizeof(sockbuf), "%s/%s.sock", cfg.socket_dir, prog->name);
		socket_path = sockbuf;
	}
	/* The shards first: the program's own socket appears last, so whoever waits for it
	 * (dev.sh, the tests) finds every socket bound. */
	for (nshards = 0; prog->sharded && nshards < CX_SERVE_SHARDS; nshards++) {
		size_t stem = strlen(socket_path);

		if (stem > 5 && strcmp(socket_path + stem - 5, ".sock") == 0)
			stem -= 5;
		snprintf(shard_path[nshards], sizeof(shard_path[nshards]), "%.*s.%d.sock",
		    (int)stem, socket_path, nshards);
		if ((shard_fd[nshards] = bind_socket(shard_path[nshards])) < 0) {
			cx_logf(CX_LOG_ERROR, "cannot listen on %s: %s", shard_path[nshards],
			    strerror(errno));
			close_listeners(socket_path, shard_path);
			cx_config_free(&cfg);
			return 1;
		}
	}
	if ((listen_fd = bind_socket(socket_path)) < 0) {
		cx_logf(CX_LOG_ERROR, "cannot listen on %s: %s", socket_path, strerror(errno));
		close_listeners(socket_path, shard_path);
		cx_config_free(&cfg);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = master_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = master_on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are only delivered inside sigsuspend, so no wake-up is lost. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);

	if ((prog->needs & CX_NEED_STORE) && store_is_sqlite(cfg.database_url)) {
		ckpt = spawn_child(NULL, &cfg, 0, 0);
		checkpointer_running = ckpt > 0;
	}
	shard_workers = count_shard_workers(prog, &cfg, nworkers);
	for (int i = 0; i < nworkers; i++)
		workers[i] = spawn_child(prog, &cfg, i, nworkers);
	if (nshards > 0)
		cx_logf(CX_LOG_INFO, "%s listening on %s and its shards with %d workers (%d of "
		    "them on the shards)", prog->name, socket_path, nworkers, shard_workers);
	else
		cx_logf(CX_LOG_INFO, "%s listening on %s with %d workers", prog->name,
		    socket_path, nworkers);

	while (!master_stop) {
		pid_t pid;

		sigsuspend(&old);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == ckpt) {
				ckpt = 0;
				if (master_stop)
					continue;
				cx_logf(CX_LOG_WARN, "checkpointer %d exited (status %d), restarting",
				    (int)pid, status);
				sleep(1);
				ckpt = spawn_child(NULL, &cfg, 0, 0);
				continue;
			}
			for (int i = 0; i < nworkers; i++) {
				if (workers[i] != pid)
					continue;
				workers[i] = 0;
				if (master_stop)
					break;
				cx_logf(CX_LOG_WARN, "worker %d exited (status %d), restarting",
				    (int)pid, status);
				if (time(NULL) - window_start > 10) {
					window_start = time(NULL);
					restarts_in_window = 0;
				}
				if (++restarts_in_window > 2 * nworkers)
					sleep(1);   /* a crash loop must not spin the CPU */
				workers[i] = spawn_child(prog, &cfg, i, nworkers);
			}
		}
	}

	cx_logf(CX_LOG_INFO, "%s draining", prog->name);
	for (int i = 0; i < nworkers; i++)
		if (workers[i] > 0)
			kill(workers[i], SIGTERM);
	if (ckpt > 0) {
		kill(ckpt, SIGTERM);
		waitpid(ckpt, &status, 0);
	}
	for (int i = 0; i < nworkers; i++) {
		if (workers[i] > 0 && waitpid(workers[i], &status, 0) > 0 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			cx_logf(CX_LOG_WARN, "worker %d ended with status %d", (int)workers[i], status);
	}
	close_listeners(socket_path, shard_path);
	cx_logf(CX_LOG_INFO, "%s stopped", prog->name);
	cx_config_free(&cfg);
	return 0;
}
