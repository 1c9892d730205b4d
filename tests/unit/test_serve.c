/* cx_serve, driven over real FastCGI connections: kept connections never starve new
 * ones, a request in progress finishes when the program is told to stop, and the
 * framework answers unknown routes with the JSON envelope. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cx_fcgi.h"
#include "cx_jwt.h"
#include "cx_serve.h"
#include "cx_store.h"

static int
fast(struct cx_request *req, struct cx_error *err)
{
	(void)err;
	return cx_http_ok(req, 200, json_object_new_string("fast"), NULL);
}

static int
slow(struct cx_request *req, struct cx_error *err)
{
	struct timespec ts = { 0, 600 * 1000 * 1000 };

	(void)err;
	nanosleep(&ts, NULL);
	return cx_http_ok(req, 200, json_object_new_string("slow"), NULL);
}

static int
whoami(struct cx_request *req, struct cx_error *err)
{
	(void)err;
	return cx_http_ok(req, 200, json_object_new_int((int)getpid()), NULL);
}

/* The X-Long header, a newline and the body, as text. */
static int
echo(struct cx_request *req, struct cx_error *err)
{
	const char *h = cx_http_header(req, "X-Long");
	size_t hl = h != NULL ? strlen(h) : 0;
	char *out = cx_req_alloc(req, hl + 1 + req->body_len);

	if (out == NULL)
		return cx_error_internal(err, "out of memory");
	memcpy(out, h != NULL ? h : "", hl);
	out[hl] = '\n';
	memcpy(out + hl + 1, req->body != NULL ? req->body : "", req->body_len);
	return cx_http_send(req, 200, "text/plain", out, hl + 1 + req->body_len);
}

#define BIG_LEN 200000   /* more than three FastCGI records */

static int
big(struct cx_request *req, struct cx_error *err)
{
	char *out = cx_req_alloc(req, BIG_LEN);

	if (out == NULL)
		return cx_error_internal(err, "out of memory");
	for (size_t i = 0; i < BIG_LEN; i++)
		out[i] = (char)('a' + i % 26);
	return cx_http_send(req, 200, "text/plain", out, BIG_LEN);
}

#define ECHO_LIMIT (512 * 1024)

static const struct cx_route routes[] = {
	{ "GET", "/fast", CX_PUBLIC, CX_BODY_NONE, 0, fast },
	{ "GET", "/slow", CX_PUBLIC, CX_BODY_NONE, 0, slow },
	{ "GET", "/pid", CX_PUBLIC, CX_BODY_NONE, 0, whoami },
	{ "POST", "/echo", CX_PUBLIC, CX_BODY_FORM, ECHO_LIMIT, echo },
	{ "GET", "/big", CX_PUBLIC, CX_BODY_NONE, 0, big },
};

static const struct cx_program program = {
	.name = "cx-test", .routes = routes, .nroutes = 5, .needs = 0,
};

/* Listening on shard sockets too, with two workers. */
static const struct cx_program sharded_program = {
	.name = "cx-test", .routes = routes, .nroutes = 5, .needs = 0, .sharded = 1,
};

/* The same with a store: on SQLite the master runs a checkpointer beside the worker. */
static const struct cx_program store_program = {
	.name = "cx-test", .routes = routes, .nroutes = 5, .needs = CX_NEED_STORE,
};

/* Sharded, with a store (SQLite, the local interviewer: the defaults here). */
static const struct cx_program sharded_store_program = {
	.name = "cx-test", .routes = routes, .nroutes = 5, .needs = CX_NEED_STORE,
	.sharded = 1,
};

static char dir[64], sock[96];
static pid_t master, parent;

/* Deferred writes: /defer holds its response for the end of the round; the round's
 * "writes" are stored by batch_commit, except those of /defer-fail, which then run again
 * (no_defer). The state below lives in the worker. */
static struct cx_request *pending[64];
static size_t npending;

static int
deferring(struct cx_request *req, struct cx_error *err)
{
	(void)err;
	if (req->no_defer)
		return cx_http_ok(req, 200, json_object_new_string("written at once"), NULL);
	req->hold = 1;
	pending[npending++] = req;
	return cx_http_ok(req, 200, json_object_new_string("deferred"), NULL);
}

static void
batch_commit(struct cx_app *app)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	char marker[128];
	FILE *fp;

	(void)app;
	nanosleep(&ts, NULL);   /* a response sent before the writes would arrive first */
	for (size_t i = 0; i < npending; i++)
		pending[i]->held_ok = strstr(pending[i]->path, "fail") == NULL;
	npending = 0;
	snprintf(marker, sizeof(marker), "%s/stored", dir);
	if ((fp = fopen(marker, "w")) != NULL)
		fclose(fp);
}

static void
batch_release(struct cx_request *req, int ok)
{
	(void)req;
	(void)ok;
}

static const struct cx_route batch_routes[] = {
	{ "GET", "/defer", CX_PUBLIC, CX_BODY_NONE, 0, deferring },
	{ "GET", "/defer-fail", CX_PUBLIC, CX_BODY_NONE, 0, deferring },
	{ "GET", "/fast", CX_PUBLIC, CX_BODY_NONE, 0, fast },
};

static const struct cx_program batch_program = {
	.name = "cx-test", .routes = batch_routes, .nroutes = 3, .needs = 0,
	.batch_commit = batch_commit, .batch_release = batch_release,
};

static void
start_program(const struct cx_program *prog)
{
	char priv[128], pub[128];
	struct cx_error err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/cx-serve-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(priv, sizeof(priv), "%s/priv.pem", dir);
	snprintf(pub, sizeof(pub), "%s/pub.pem", dir);
	cr_assert_eq(cx_jwt_generate_keys(priv, pub, 0, &err), CX_OK, "%s", err.message);
	setenv("CX_DATA_DIR", dir, 1);
	setenv("JWT_PUBLIC_KEY_FILE", pub, 1);
	setenv("JWT_PRIVATE_KEY_FILE", priv, 1);
	setenv("CX_LOG_LEVEL", "warn", 1);
	snprintf(sock, sizeof(sock), "%s/cx-test.sock", dir);
	parent = getpid();
	master = fork();
	cr_assert_geq(master, 0);
	if (master == 0) {
		char *argv[] = { "cx-test", "--socket", sock, "--workers",
		    prog->sharded ? "2" : "1", NULL };

		/* a test that crashes takes its program down with it (else the program holds
		 * the test runner's output open and make check waits for ever) */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
			_exit(1);
		exit(cx_serve_main(5, argv, prog));
	}
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(20 * 1000);
	cr_assert_eq(access(sock, F_OK), 0, "the program did not bind %s", sock);
}

static void
start(void)
{
	start_program(&program);
}

static void
start_with_store(void)
{
	start_program(&store_program);
}

static void
stop(void)
{
	char cmd[160];

	if (master > 0) {
		/* a master that does not stop on SIGTERM within 10 s is reported and killed,
		 * so that the run goes on (a teardown cannot fail its test: stopping on
		 * SIGTERM is tested by sigterm_lets_the_request_in_progress_finish) */
		int stopped = 0;

		kill(master, SIGTERM);
		for (int i = 0; i < 1000 && !stopped; i++) {
			pid_t r = waitpid(master, NULL, WNOHANG);

			stopped = r != 0;   /* reaped, or already reaped by the test */
			if (!stopped)
				usleep(10 * 1000);
		}
		if (!stopped) {
			cr_log_error("the master did not stop within 10 s of SIGTERM");
			kill(master, SIGKILL);
			waitpid(master, NULL, 0);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

static void
start_sharded(void)
{
	start_program(&sharded_program);
}

static void
start_batch(void)
{
	start_program(&batch_program);
}

static void
start_sharded_store(void)
{
	unsetenv("CX_SHARD_WORKERS");
	start_program(&sharded_store_program);
}

static void
start_sharded_store_two(void)
{
	setenv("CX_SHARD_WORKERS", "2", 1);
	start_program(&sharded_store_program);
}

TestSuite(serve, .init = start, .fini = stop, .timeout = 30);
TestSuite(serve_batch, .init = start_batch, .fini = stop, .timeout = 30);
TestSuite(serve_sharded, .init = start_sharded, .fini = stop, .timeout = 30);
TestSuite(serve_sharded_store, .init = start_sharded_store, .fini = stop, .timeout = 30);
TestSuite(serve_sharded_store_two, .init = start_sharded_store_two, .fini = stop,
    .timeout = 30);
TestSuite(serve_store, .init = start_with_store, .fini = stop, .timeout = 30);

/* ---- a minimal FastCGI client ---------------------------------------------------- */

static int
fcgi_connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 10, 0 };   /* a stalled server fails the test, not hangs it */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
fcgi_connect(void)
{
	return fcgi_connect_to(sock);
}

/* One record of request id into p; pad: padding bytes after the content. */
static size_t
record_of(unsigned char *p, int type, unsigned id, const void *body, size_t len, size_t pad)
{
	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(len >> 8);
	p[5] = (unsigned char)len;
	p[6] = (unsigned char)pad;
	p[7] = 0;
	memcpy(p + 8, body, len);
	memset(p + 8 + len, 0, pad);
	return 8 + len + pad;
}

static size_t
record(unsigned char *p, int type, const void *body, size_t len)
{
	return record_of(p, type, 1, body, len, 0);
}

/* A FastCGI length: one byte below 128, else four with the high bit set. */
static size_t
pair_len(unsigned char *p, size_t n)
{
	if (n < 128) {
		p[0] = (unsigned char)n;
		return 1;
	}
	p[0] = (unsigned char)(0x80 | n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	return 4;
}

/* A name-value pair, lengths of 128 and more in the 4-byte form. */
static size_t
pair(unsigned char *p, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value), o = 0;

	o += pair_len(p + o, n);
	o += pair_len(p + o, v);
	memcpy(p + o, name, n);
	memcpy(p + o + n, value, v);
	return o + n + v;
}

static void
send_all(int fd, const void *buf, size_t n)
{
	cr_assert_eq(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n, "send: %s", strerror(errno));
}

/* Send GET path on fd (keep: ask to keep the connection). */
static void
fcgi_send(int fd, const char *path, int keep)
{
	unsigned char buf[2048], params[1024];
	unsigned char begin[8] = { 0, 1, (unsigned char)(keep ? 1 : 0), 0, 0, 0, 0, 0 };
	size_t n = 0, np = 0;

	np += pair(params + np, "REQUEST_METHOD", "GET");
	np += pair(params + np, "DOCUMENT_URI", path);
	np += pair(params + np, "REMOTE_ADDR", "127.0.0.1");
	n += record(buf + n, 1, begin, 8);
	n += record(buf + n, 4, params, np);
	n += record(buf + n, 4, "", 0);
	n += record(buf + n, 5, "", 0);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
}

static int stdout_before_marker;   /* set by fcgi_recv_after */
static size_t stdout_records;      /* non-empty FCGI_STDOUT records of the last answer */
static size_t stdout_len;          /* and their bytes */

/* The whole CGI response (headers and body, NUL-terminated) to the request sent on fd,
 * or NULL when the server closed or timed out. marker (or NULL): a file that must exist
 * when the first byte of the response arrives (else stdout_before_marker is set). */
static char *
fcgi_recv_after(int fd, const char *marker)
{
	size_t got = 0, cap = 65536;
	char *out = calloc(1, cap + 1);

	stdout_records = 0;
	for (;;) {
		unsigned char h[8], body[65536 + 256];
		size_t len, pad;
		if (recv(fd, h, 8, MSG_WAITALL) != 8) {
			free(out);
			return NULL;
		}
		len = (size_t)h[4] << 8 | h[5];
		pad = h[6];
		if (len + pad > 0 && recv(fd, body, len + pad, MSG_WAITALL) != (ssize_t)(len + pad)) {
			free(out);
			return NULL;
		}
		if (h[1] == 6 && got == 0 && len > 0 && marker != NULL && access(marker, F_OK) != 0)
			stdout_before_marker = 1;
		if (h[1] == 6 && len > 0) {   /* FCGI_STDOUT */
			if (got + len > cap) {
				cap = 2 * (got + len);
				out = realloc(out, cap + 1);
				cr_assert_not_null(out);
			}
			memcpy(out + got, body, len);
			got += len;
			out[got] = '\0';
			stdout_records++;
		}
		if (h[1] == 3) {   /* FCGI_END_REQUEST */
			stdout_len = got;
			return out;
		}
	}
}

static char *
fcgi_recv(int fd)
{
	return fcgi_recv_after(fd, NULL);
}

static char *
fcgi_get(int fd, const char *path, int keep)
{
	fcgi_send(fd, path, keep);
	return fcgi_recv(fd);
}

/* The connection fd still serves requests: /fast answers on it. */
static void
expect_fast(int fd, const char *why)
{
	char *r = fcgi_get(fd, "/fast", 0);

	cr_assert_not_null(r, "%s", why);
	cr_expect_not_null(strstr(r, "\"fast\""), "%s", r);
	free(r);
}

/* ---- tests --------------------------------------------------------------------- */

Test(serve, kept_connections_do_not_starve_new_ones)
{
	int a = fcgi_connect(), b, c;
	char *r;

	/* One worker. a is kept open and idle after its answer... */
	r = fcgi_get(a, "/fast", 1);
	cr_assert_not_null(r, "no answer on a");
	cr_expect_not_null(strstr(r, "\"fast\""));
	free(r);
	/* ...and two new connections are still served (libfcgi's own loop would wait on a
	 * forever: the stall this guards against). */
	b = fcgi_connect();
	r = fcgi_get(b, "/fast", 1);
	cr_assert_not_null(r, "a new connection starved behind an idle kept one");
	free(r);
	c = fcgi_connect();
	r = fcgi_get(c, "/fast", 0);
	cr_assert_not_null(r, "a third connection starved");
	free(r);
	/* The kept connections still work, in any order. */
	r = fcgi_get(a, "/fast", 1);
	cr_assert_not_null(r, "kept connection a no longer answers");
	free(r);
	r = fcgi_get(b, "/fast", 1);
	cr_assert_not_null(r, "kept connection b no longer answers");
	free(r);
	close(a);
	close(b);
	close(c);
}

/* A worker keeps at most CX_FCGI_MAX_CONNS connections open: past that it leaves new
 * ones in the listen backlog, and takes them as soon as one of its own closes. */
Test(serve, a_full_worker_takes_new_connections_once_one_closes)
{
	enum { N = CX_FCGI_MAX_CONNS };
	static int kept[N];
	struct pollfd pfd;
	int extra;
	char *r;

	for (int i = 0; i < N; i++) {   /* one worker: every one of them is its */
		kept[i] = fcgi_connect();
		r = fcgi_get(kept[i], "/fast", 1);
		cr_assert_not_null(r, "kept connection %d not served", i);
		free(r);
	}
	extra = fcgi_connect();   /* in the backlog */
	fcgi_send(extra, "/fast", 0);
	pfd.fd = extra;
	pfd.events = POLLIN;
	cr_expect_eq(poll(&pfd, 1, 300), 0, "a worker with %d connections took another", N);
	close(kept[0]);
	r = fcgi_recv(extra);
	cr_assert_not_null(r, "the connection in the backlog was not taken once one closed");
	cr_expect_not_null(strstr(r, "\"fast\""), "%s", r);
	free(r);
	close(extra);
	for (int i = 1; i < N; i++)   /* the kept ones still answer */
		if (i % 51 == 1)
			expect_fast(kept[i], "a kept connection of a full worker no longer answers");
	for (int i = 1; i < N; i++)
		close(kept[i]);
}

Test(serve, a_connection_not_kept_is_closed_after_its_answer)
{
	int fd = fcgi_connect();
	char *r = fcgi_get(fd, "/fast", 0), byte;

	cr_assert_not_null(r);
	free(r);
	cr_expect_eq(recv(fd, &byte, 1, 0), 0, "the server should close the connection");
	close(fd);
}

Test(serve, unknown_route_is_a_json_404)
{
	int fd = fcgi_connect();
	char *r = fcgi_get(fd, "/nope", 0);

	cr_assert_not_null(r);
	cr_expect_not_null(strstr(r, "Status: 404"), "%s", r);
	cr_expect_not_null(strstr(r, "Content-Type: application/json"), "%s", r);
	cr_expect_not_null(strstr(r, "\"code\":\"NOT_FOUND\""), "%s", r);
	free(r);
	close(fd);
}

/* The pid of one worker of the master (a child process), or 0. */
static pid_t
find_worker(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	cr_assert_not_null(d);
	while (found == 0 && (e = readdir(d)) != NULL) {
		char path[300], stat[512];
		FILE *f;
		long ppid = 0;
		char *close_paren;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(stat, sizeof(stat), f) != NULL &&
		    (close_paren = strrchr(stat, ')')) != NULL &&
		    sscanf(close_paren + 2, "%*c %ld", &ppid) == 1 && ppid == (long)master)
			found = (pid_t)strtol(e->d_name, NULL, 10);
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The same, given up to 5 s to appear: the socket exists as soon as the master bound
 * it, a moment before it starts its workers. */
static pid_t
a_worker(void)
{
	pid_t found = 0;

	for (int i = 0; i < 500 && (found = find_worker()) == 0; i++)
		usleep(10 * 1000);
	return found;
}

Test(serve, a_worker_that_dies_is_replaced)
{
	pid_t worker = a_worker(), again = 0;
	int fd;
	char *r;

	cr_assert_gt(worker, 0, "no worker found under the master");
	cr_assert_eq(kill(worker, SIGKILL), 0);
	/* The next connection waits in the backlog until the new worker takes it. */
	fd = fcgi_connect();
	r = fcgi_get(fd, "/fast", 0);
	cr_assert_not_null(r, "no answer after a worker was killed");
	cr_expect_not_null(strstr(r, "\"fast\""));
	free(r);
	close(fd);
	again = a_worker();
	cr_expect(again > 0 && again != worker, "the master did not start a new worker");
}

/* A worker whose master was killed, not stopped, is gone too (or a zombie nobody reaps). */
static int
gone(pid_t pid)
{
	char path[64], stat[512], *close_paren;
	FILE *f;
	int zombie = 0;

	if (kill(pid, 0) != 0)
		return errno == ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(stat, sizeof(stat), f) != NULL && (close_paren = strrchr(stat, ')')) != NULL)
		zombie = close_paren[2] == 'Z';
	fclose(f);
	return zombie;
}

Test(serve, the_workers_stop_when_their_master_is_killed)
{
	pid_t worker = a_worker();
	int i;

	cr_assert_gt(worker, 0, "no worker found under the master");
	cr_assert_eq(kill(master, SIGKILL), 0);
	cr_assert_eq(waitpid(master, NULL, 0), master);
	master = 0;
	for (i = 0; i < 250 && !gone(worker); i++)
		usleep(20 * 1000);
	cr_expect(gone(worker), "worker %d serves on without its master", (int)worker);
	if (!gone(worker))
		kill(worker, SIGKILL);
}

Test(serve, sigterm_lets_the_request_in_progress_finish)
{
	int fd = fcgi_connect(), status = 0;
	unsigned char buf[1024], params[512];
	unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t n = 0, np = 0;

	/* Send the slow request, then SIGTERM while the handler runs. */
	np += pair(params + np, "REQUEST_METHOD", "GET");
	np += pair(params + np, "DOCUMENT_URI", "/slow");
	n += record(buf + n, 1, begin, 8);
	n += record(buf + n, 4, params, np);
	n += record(buf + n, 4, "", 0);
	n += record(buf + n, 5, "", 0);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	usleep(200 * 1000);
	cr_assert_eq(kill(master, SIGTERM), 0);
	/* The answer to the request in progress must still arrive, whole. */
	{
		unsigned char h[8], body[4096];
		char out[4096] = "";
		size_t got = 0;
		for (;;) {
			size_t len, pad;
			cr_assert_eq(recv(fd, h, 8, MSG_WAITALL), 8, "the slow request was cut off");
			len = (size_t)h[4] << 8 | h[5];
			pad = h[6];
			if (len + pad > 0)
				cr_assert_eq(recv(fd, body, len + pad, MSG_WAITALL), (ssize_t)(len + pad));
			if (h[1] == 6 && got + len < sizeof(out) - 1) {
				memcpy(out + got, body, len);
				got += len;
			}
			if (h[1] == 3)
				break;
		}
		cr_expect_not_null(strstr(out, "\"slow\""), "incomplete answer: %s", out);
	}
	cr_assert_eq(waitpid(master, &status, 0), master);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "master status %d", status);
	master = 0;
	cr_expect_neq(access(sock, F_OK), 0, "the socket should be removed on exit");
	close(fd);
}

/* Writers that defer checkpoints leave the log to the program's checkpointer: the
 * documents reach the database file without anyone else checkpointing. */
Test(serve_store, the_checkpointer_copies_the_log_into_the_database)
{
	struct cx_error err = { 0 };
	struct cx_store *store = NULL;
	char url[128], path[128], text[1200];
	struct stat st;
	off_t before;
	int i;

	snprintf(url, sizeof(url), "sqlite:%s/candidatex.db", dir);
	snprintf(path, sizeof(path), "%s/candidatex.db", dir);
	cr_assert_eq(cx_store_open(url, NULL, &store, &err), CX_OK, "%s", err.message);
	cx_store_defer_checkpoints(store);
	cr_assert_eq(stat(path, &st), 0);
	before = st.st_size;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (i = 0; i < 400; i++) {
		json_object *doc = json_object_new_object();

		json_object_object_add(doc, "text", json_object_new_string(text));
		cr_assert_eq(cx_store_insert(store, "notes", doc, &err), CX_OK, "%s", err.message);
		json_object_put(doc);
	}
	for (i = 0; i < 100; i++) {   /* the checkpointer ticks every 100 ms */
		cr_assert_eq(stat(path, &st), 0);
		if (st.st_size >= before + 400 * 1000)
			break;
		usleep(50 * 1000);
	}
	cr_expect_geq(st.st_size, before + 400 * 1000, "the database file stayed at %lld bytes",
	    (long long)st.st_size);
	cx_store_close(store);
}

/* ---- shards ----------------------------------------------------------------------- */

/* The pid of the worker answering GET /pid on socket path. */
static long
pid_on(const char *path)
{
	int fd = fcgi_connect_to(path);
	char *r = fcgi_get(fd, "/pid", 0), *data;
	long pid;

	cr_assert_not_null(r, "no answer on %s", path);
	data = strstr(r, "\"data\":");
	cr_assert_not_null(data, "%s", r);
	pid = strtol(data + 7, NULL, 10);
	free(r);
	close(fd);
	return pid;
}

/* Each shard socket is served by one worker, always the same: shard i by worker i % 2. */
Test(serve_sharded, every_shard_is_served_by_its_own_worker)
{
	char path[CX_SERVE_SHARDS][128];
	long pid[CX_SERVE_SHARDS];
	int i;

	for (i = 0; i < CX_SERVE_SHARDS; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/cx-test.%d.sock", dir, i);
		pid[i] = pid_on(path[i]);
		cr_assert_gt(pid[i], 0);
	}
	cr_expect_neq(pid[0], pid[1], "two workers, yet shards 0 and 1 went to one");
	for (i = 0; i < CX_SERVE_SHARDS; i++) {
		cr_expect_eq(pid_on(path[i]), pid[i], "shard %d moved to another worker", i);
		cr_expect_eq(pid[i], pid[i % 2], "shard %d is not served by worker %d", i, i % 2);
	}
	cr_expect_gt(pid_on(sock), 0, "the shared socket does not answer");
	/* the sockets go away with the program */
	kill(master, SIGTERM);
	waitpid(master, NULL, 0);
	master = 0;
	for (i = 0; i < CX_SERVE_SHARDS; i++)
		cr_expect_neq(access(path[i], F_OK), 0, "%s is left behind", path[i]);
}

/* On SQLite with the local interviewer, the changes to sessions go to half the workers
 * (here one of two): every shard is served by the same worker, and the shared socket by
 * both. */
Test(serve_sharded_store, sessions_changes_go_to_half_the_workers)
{
	char path[128];
	long first = 0, pid, other = 0;
	int i;

	for (i = 0; i < CX_SERVE_SHARDS; i++) {
		snprintf(path, sizeof(path), "%s/cx-test.%d.sock", dir, i);
		pid = pid_on(path);
		cr_assert_gt(pid, 0);
		if (i == 0)
			first = pid;
		cr_expect_eq(pid, first, "shard %d is served by %ld, shard 0 by %ld", i, pid,
		    first);
	}
	/* the shared socket: both workers take connections from it */
	for (i = 0; i < 200 && other == 0; i++)
		if ((pid = pid_on(sock)) != first)
			other = pid;
	cr_expect_gt(other, 0, "the worker without shards never answered on the shared socket");
}

/* CX_SHARD_WORKERS sets how many: with 2, shard i is served by worker i % 2 again. */
Test(serve_sharded_store_two, the_number_of_shard_workers_can_be_set)
{
	char path[2][128];

	snprintf(path[0], sizeof(path[0]), "%s/cx-test.%d.sock", dir, 0);
	snprintf(path[1], sizeof(path[1]), "%s/cx-test.%d.sock", dir, 1);
	cr_expect_neq(pid_on(path[0]), pid_on(path[1]), "shards 0 and 1 went to one worker");
}

/* A shard whose worker died waits for the new worker instead of failing. */
Test(serve_sharded, a_shard_survives_its_worker)
{
	char path[128];
	long before, after;

	snprintf(path, sizeof(path), "%s/cx-test.%d.sock", dir, 3);
	before = pid_on(path);
	cr_assert_eq(kill((pid_t)before, SIGKILL), 0);
	after = pid_on(path);
	cr_expect(after > 0 && after != before, "shard 3 still names worker %ld", before);
}

/* ---- deferred writes ------------------------------------------------------------ */

/* A held response goes out only once the round's writes are stored; a request whose
 * writes were not stored is served again, writing at once; others are not held. */
Test(serve_batch, held_responses_wait_for_the_rounds_writes)
{
	int a = fcgi_connect(), b = fcgi_connect(), c;
	char marker[128], *r;

	snprintf(marker, sizeof(marker), "%s/stored", dir);
	fcgi_send(a, "/defer", 1);
	fcgi_send(b, "/defer-fail", 1);
	r = fcgi_recv_after(a, marker);
	cr_assert_not_null(r, "no answer to the held request");
	cr_expect_not_null(strstr(r, "\"deferred\""), "%s", r);
	cr_expect_not(stdout_before_marker, "the response went out before its writes were "
	    "stored");
	free(r);
	r = fcgi_recv(b);
	cr_assert_not_null(r, "no answer to the request whose writes failed");
	cr_expect_not_null(strstr(r, "\"written at once\""), "it was not served again: %s", r);
	free(r);
	/* kept connections go on; a request that holds nothing is answered as ever (a
	 * connection is only opened to send a request at once, as nginx does: a new one is
	 * read as soon as it is accepted) */
	c = fcgi_connect();
	r = fcgi_get(c, "/fast", 0);
	cr_assert_not_null(r);
	cr_expect_not_null(strstr(r, "\"fast\""));
	free(r);
	unlink(marker);
	fcgi_send(a, "/defer", 0);
	r = fcgi_recv_after(a, marker);
	cr_assert_not_null(r, "a kept connection no longer answers after a held request");
	cr_expect_not(stdout_before_marker);
	free(r);
	close(a);
	close(b);
	close(c);
}

/* ---- the FastCGI protocol ---------------------------------------------------------- */

/* One record from fd: its type, request id and content (padding dropped); -1 when the
 * server closed the connection or timed out. */
static int
read_record(int fd, int *type, unsigned *id, unsigned char *body, size_t *len)
{
	unsigned char h[8], pad[256];

	if (recv(fd, h, 8, MSG_WAITALL) != 8)
		return -1;
	*type = h[1];
	*id = (unsigned)h[2] << 8 | h[3];
	*len = (size_t)h[4] << 8 | h[5];
	if (*len > 0 && recv(fd, body, *len, MSG_WAITALL) != (ssize_t)*len)
		return -1;
	if (h[6] > 0 && recv(fd, pad, h[6], MSG_WAITALL) != h[6])
		return -1;
	return 0;
}

/* 1 when the server closed fd (instead of answering or waiting). */
static int
closed_by_server(int fd)
{
	char byte;

	return recv(fd, &byte, 1, 0) == 0;
}

/* The params of a POST /echo with an X-Long header and a body of body_len bytes; a
 * param with a 200-byte name comes first (its length in the 4-byte form too). */
static size_t
echo_params(unsigned char *p, const char *x_long, size_t body_len)
{
	char cl[32], long_name[201];
	size_t n = 0;

	memset(long_name, 'N', 200);
	long_name[200] = '\0';
	snprintf(cl, sizeof(cl), "%zu", body_len);
	n += pair(p + n, long_name, "v");
	n += pair(p + n, "REQUEST_METHOD", "POST");
	n += pair(p + n, "DOCUMENT_URI", "/echo");
	n += pair(p + n, "CONTENT_TYPE", "application/x-www-form-urlencoded");
	n += pair(p + n, "CONTENT_LENGTH", cl);
	n += pair(p + n, "HTTP_X_LONG", x_long);
	n += pair(p + n, "REMOTE_ADDR", "127.0.0.1");
	return n;
}

/* Records of type for request 1 carrying data in pieces of 1, 2, ... 13 bytes (then
 * again), each padded to 8 bytes as nginx does. */
static size_t
split_records(unsigned char *p, int type, const unsigned char *data, size_t len)
{
	size_t n = 0, piece = 1;

	for (size_t i = 0; i < len; i += piece, piece = piece % 13 + 1) {
		size_t k = len - i < piece ? len - i : piece;

		n += record_of(p + n, type, 1, data + i, k, (8 - k % 8) % 8);
	}
	return n;
}

/* The body of a CGI response (after the blank line). */
static const char *
body_of(const char *response)
{
	const char *b = strstr(response, "\r\n\r\n");

	cr_assert_not_null(b, "no end of headers in %s", response);
	return b + 4;
}

Test(serve, params_split_across_records_and_reads_arrive_whole)
{
	unsigned char params[2048], stream[8192];
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	char x_long[301], want[400];
	size_t np, n = 0;
	int fd = fcgi_connect();
	char *r;

	for (int i = 0; i < 300; i++)
		x_long[i] = (char)('A' + i % 26);
	x_long[300] = '\0';
	np = echo_params(params, x_long, 7);
	n += record(stream + n, 1, begin, 8);
	n += split_records(stream + n, 4, params, np);
	n += record(stream + n, 4, "", 0);
	n += record(stream + n, 5, "a=1&b=2", 7);
	n += record(stream + n, 5, "", 0);
	/* 5 bytes a write: headers, lengths and names are cut between reads */
	for (size_t i = 0; i < n; i += 5) {
		send_all(fd, stream + i, n - i < 5 ? n - i : 5);
		usleep(300);
	}
	r = fcgi_recv(fd);
	cr_assert_not_null(r, "no answer");
	snprintf(want, sizeof(want), "%s\na=1&b=2", x_long);
	cr_expect_str_eq(body_of(r), want);
	free(r);
	expect_fast(fd, "the kept connection no longer answers");
	close(fd);
}

#define BODY_LEN 100000

Test(serve, a_body_in_several_stdin_records_is_read_whole)
{
	static unsigned char body[BODY_LEN], stream[BODY_LEN + 4096];
	static const size_t sizes[] = { 1, 7, 1000, 30000, 65535 };
	unsigned char params[2048];
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	size_t np, n = 0, i = 0, k;
	int fd = fcgi_connect();
	char *r;

	for (k = 0; k < BODY_LEN; k++)
		body[k] = (unsigned char)('a' + k % 26);
	np = echo_params(params, "x", BODY_LEN);
	n += record(stream + n, 1, begin, 8);
	n += record(stream + n, 4, params, np);
	n += record(stream + n, 4, "", 0);
	for (k = 0; i < BODY_LEN; k++) {
		size_t len = sizes[k % 5] < BODY_LEN - i ? sizes[k % 5] : BODY_LEN - i;

		n += record_of(stream + n, 5, 1, body + i, len, (8 - len % 8) % 8);
		i += len;
	}
	n += record(stream + n, 5, "", 0);
	for (i = 0; i < n; i += 20000)   /* in several writes */
		send_all(fd, stream + i, n - i < 20000 ? n - i : 20000);
	r = fcgi_recv(fd);
	cr_assert_not_null(r, "no answer");
	cr_assert_eq(strlen(body_of(r)), 2 + BODY_LEN, "the body came back with %zu bytes",
	    strlen(body_of(r)));
	cr_expect_eq(memcmp(body_of(r) + 2, body, BODY_LEN), 0, "the body came back changed");
	free(r);
	close(fd);
}

Test(serve, a_response_larger_than_a_record_arrives_whole)
{
	int fd = fcgi_connect();
	char *r = fcgi_get(fd, "/big", 0);
	const char *b;
	size_t i;

	cr_assert_not_null(r, "no answer");
	cr_expect_not_null(strstr(r, "Content-Length: 200000\r\n"), "%.200s", r);
	b = body_of(r);
	cr_assert_eq(stdout_len - (size_t)(b - r), BIG_LEN, "%zu body bytes arrived",
	    stdout_len - (size_t)(b - r));
	for (i = 0; i < BIG_LEN && b[i] == (char)('a' + i % 26); i++)
		;
	cr_expect_eq(i, BIG_LEN, "the body differs at byte %zu", i);
	cr_expect_geq(stdout_records, 4, "%zu STDOUT records for 200 KB", stdout_records);
	free(r);
	close(fd);
}

Test(serve, management_records_are_answered)
{
	unsigned char q[256], rec[512], body[65536];
	unsigned char unknown[8] = { 0 };
	size_t nq = 0, n, len;
	unsigned id;
	int type, fd = fcgi_connect(), other;
	char *r;

	nq += pair(q + nq, "FCGI_MAX_CONNS", "");
	nq += pair(q + nq, "FCGI_NOT_A_VARIABLE", "");
	nq += pair(q + nq, "FCGI_MAX_REQS", "");
	nq += pair(q + nq, "FCGI_MPXS_CONNS", "");
	n = record_of(rec, 9, 0, q, nq, 3);   /* FCGI_GET_VALUES */
	send_all(fd, rec, n);
	cr_assert_eq(read_record(fd, &type, &id, body, &len), 0, "no answer to GET_VALUES");
	cr_assert_eq(type, 10, "record type %d", type);   /* FCGI_GET_VALUES_RESULT */
	cr_expect_eq(id, 0);
	body[len] = '\0';
	{
		unsigned char want[256];
		size_t nw = 0;

		nw += pair(want + nw, "FCGI_MAX_CONNS", "256");
		nw += pair(want + nw, "FCGI_MAX_REQS", "256");
		nw += pair(want + nw, "FCGI_MPXS_CONNS", "0");
		cr_expect(len == nw && memcmp(body, want, nw) == 0, "GET_VALUES_RESULT %.*s",
		    (int)len, body);
	}
	/* the worker went back to its poll: another connection is served */
	other = fcgi_connect();
	r = fcgi_get(other, "/fast", 0);
	cr_assert_not_null(r, "a management record on one connection stalled the worker");
	free(r);
	close(other);
	/* a management type we do not know */
	n = record_of(rec, 42, 0, unknown, 8, 0);
	send_all(fd, rec, n);
	cr_assert_eq(read_record(fd, &type, &id, body, &len), 0, "no answer to type 42");
	cr_expect_eq(type, 11);   /* FCGI_UNKNOWN_TYPE */
	cr_expect(len == 8 && body[0] == 42, "UNKNOWN_TYPE body %zu bytes, type %d", len,
	    body[0]);
	/* and the connection serves requests */
	expect_fast(fd, "no answer after the management records");
	close(fd);
}

/* GET /pid on a new connection: the worker's pid. */
static long
worker_pid(void)
{
	return pid_on(sock);
}

Test(serve, a_broken_peer_is_closed_and_the_worker_goes_on)
{
	unsigned char rec[256], begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 }, params[64];
	long before = worker_pid();
	size_t n;
	int fd;

	/* version 2 */
	fd = fcgi_connect();
	n = record(rec, 1, begin, 8);
	rec[0] = 2;
	send_all(fd, rec, n);
	cr_expect(closed_by_server(fd), "a record of version 2 did not close the connection");
	close(fd);
	/* a record cut short by the peer's end */
	fd = fcgi_connect();
	rec[0] = 1;
	send_all(fd, rec, 11);   /* 8 bytes of header, 3 of 8 of content */
	shutdown(fd, SHUT_WR);
	cr_expect(closed_by_server(fd), "a truncated record did not close the connection");
	close(fd);
	/* params whose length runs past their end */
	fd = fcgi_connect();
	n = record(rec, 1, begin, 8);
	n += pair(params, "REQUEST_METHOD", "GET");
	params[1] = 100;   /* value length 100 of 3 */
	n += record(rec + n, 4, params, 2 + 14 + 3);
	n += record(rec + n, 4, "", 0);
	send_all(fd, rec, n);
	cr_expect(closed_by_server(fd), "malformed params did not close the connection");
	close(fd);
	/* the same worker serves the next connection */
	cr_expect_eq(worker_pid(), before, "the worker was replaced");
}

Test(serve, requests_that_cannot_be_served_are_refused)
{
	unsigned char stream[1024], params[256], body[64];
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	unsigned char authorizer[8] = { 0, 2, 0, 0, 0, 0, 0, 0 };
	size_t n = 0, np = 0, len;
	unsigned id;
	int type, fd = fcgi_connect();
	char *r;

	/* a second request while the first is open: FCGI_CANT_MPX_CONN for it */
	np += pair(params + np, "REQUEST_METHOD", "GET");
	np += pair(params + np, "DOCUMENT_URI", "/fast");
	n += record(stream + n, 1, begin, 8);
	n += record_of(stream + n, 1, 2, begin, 8, 0);
	n += record(stream + n, 4, params, np);
	n += record(stream + n, 4, "", 0);
	n += record(stream + n, 5, "", 0);
	send_all(fd, stream, n);
	cr_assert_eq(read_record(fd, &type, &id, body, &len), 0);
	cr_expect(type == 3 && id == 2 && len == 8 && body[4] == 1,
	    "record %d of request %u, protocol status %d", type, id, body[4]);
	r = fcgi_recv(fd);
	cr_assert_not_null(r, "the first request was not answered");
	cr_expect_not_null(strstr(r, "\"fast\""), "%s", r);
	free(r);
	/* a role other than responder: FCGI_UNKNOWN_ROLE, and closed (not kept) */
	n = record_of(stream, 1, 3, authorizer, 8, 0);
	send_all(fd, stream, n);
	cr_assert_eq(read_record(fd, &type, &id, body, &len), 0);
	cr_expect(type == 3 && id == 3 && len == 8 && body[4] == 3,
	    "record %d of request %u, protocol status %d", type, id, body[4]);
	cr_expect(closed_by_server(fd));
	close(fd);
}

Test(serve, an_aborted_request_ends_without_output)
{
	unsigned char stream[2048], params[1024];
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	size_t n = 0, np = echo_params(params, "x", 10);
	int fd = fcgi_connect();
	char *r;

	n += record(stream + n, 1, begin, 8);
	n += record(stream + n, 4, params, np);
	n += record(stream + n, 4, "", 0);
	n += record(stream + n, 5, "12345", 5);
	n += record(stream + n, 2, "", 0);   /* FCGI_ABORT_REQUEST */
	send_all(fd, stream, n);
	r = fcgi_recv(fd);
	cr_assert_not_null(r, "no END_REQUEST for the aborted request");
	cr_expect_eq(stdout_records, 0, "the aborted request still answered: %s", r);
	free(r);
	r = fcgi_get(fd, "/fast", 0);
	cr_assert_not_null(r, "the kept connection no longer answers");
	free(r);
	close(fd);
}

/* Two requests in one write: the second is already read with the first, and served
 * although poll never sees it. */
Test(serve, requests_sent_together_are_all_answered)
{
	unsigned char stream[2048], params[256];
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	size_t n = 0, np = 0;
	int fd = fcgi_connect();
	char *r;

	np += pair(params + np, "REQUEST_METHOD", "GET");
	np += pair(params + np, "DOCUMENT_URI", "/fast");
	for (int i = 0; i < 2; i++) {
		n += record(stream + n, 1, begin, 8);
		n += record(stream + n, 4, params, np);
		n += record(stream + n, 4, "", 0);
		n += record(stream + n, 5, "", 0);
	}
	send_all(fd, stream, n);
	for (int i = 0; i < 2; i++) {
		r = fcgi_recv(fd);
		cr_assert_not_null(r, "request %d was not answered", i + 1);
		cr_expect_not_null(strstr(r, "\"fast\""), "%s", r);
		free(r);
	}
	close(fd);
}

/* A body over the route's limit is refused, not stored, and the kept connection stays
 * in step for the next request. */
Test(serve, a_body_over_the_limit_is_refused_and_the_connection_goes_on)
{
	static unsigned char body[ECHO_LIMIT + 4096], stream[ECHO_LIMIT + 16384];
	unsigned char params[2048];
	unsigned char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	size_t np, n = 0, len = sizeof(body);
	int fd = fcgi_connect();
	char *r;

	memset(body, 'b', len);
	np = echo_params(params, "x", len);
	n += record(stream + n, 1, begin, 8);
	n += record(stream + n, 4, params, np);
	n += record(stream + n, 4, "", 0);
	for (size_t i = 0; i < len; i += 65535)
		n += record(stream + n, 5, body + i, len - i < 65535 ? len - i : 65535);
	n += record(stream + n, 5, "", 0);
	send_all(fd, stream, n);
	r = fcgi_recv(fd);
	cr_assert_not_null(r, "no answer");
	cr_expect_not_null(strstr(r, "Status: 413"), "%.300s", r);
	free(r);
	expect_fast(fd, "the kept connection no longer answers");
	close(fd);
}
