/* cx_redis: one blocking hiredis connection per worker, reconnected on demand. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "cx_buf.h"
#include "cx_crypto.h"
#include "cx_log.h"
#include "cx_redis.h"

#define REDIS_CONNECT_TIMEOUT_MS 1000
#define REDIS_COMMAND_TIMEOUT_MS 2000
#define REDIS_RETRY_AFTER 5          /* seconds, told to clients when Redis is down */
#define REDIS_SCRIPT_CACHE 8
#define RATELIMIT_WHO_MAX 64
#define RATELIMIT_ENDPOINT_MAX 64

struct script_entry {
	char *text;             /* owned copy, NULL = free slot */
	char sha[41];
};

struct cx_redis {
	struct cx_redis_url url;
	redisContext *ctx;      /* NULL = not connected */
	pid_t pid;              /* process that opened ctx: a forked child reconnects */
	int sigpipe_ignored;    /* SIGPIPE was SIG_IGN when ctx was opened: no guard needed */
	int pending;            /* replies still to read, of commands sent without waiting */
	struct script_entry scripts[REDIS_SCRIPT_CACHE];
	unsigned next_script;
};

/* ---- URL parsing --------------------------------------------------------------- */

/* Percent-decode text[0..len) into out (cap bytes). 0 ok, -1 malformed or too long. */
static int
pct_decode(const char *text, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)text[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = cx_hex_value((unsigned char)text[i + 1]);
			lo = cx_hex_value((unsigned char)text[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi << 4 | lo;
			if (c == 0)
				return -1;
			i += 2;
		} else if (c < 0x21 || c == 0x7f) {
			return -1;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Decimal digits only, 1..max_digits of them, value within [lo, hi]. */
static int
parse_uint(const char *text, size_t len, size_t max_digits, long lo, long hi, int *out)
{
	long v = 0;

	if (len == 0 || len > max_digits)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int
host_char_ok(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

static int
parse_tcp(const char *s, struct cx_redis_url *u, struct cx_error *err)
{
	const char *auth_end = s + strcspn(s, "/"), *at = NULL, *host, *host_end, *p;

	if (strpbrk(s, "?#") != NULL)
		return cx_error_field(err, "redis_url", "query strings and fragments are not allowed in redis:// URLs");
	for (p = s; p < auth_end; p++) {
		if (*p == '@') {
			if (at != NULL)
				return cx_error_field(err, "redis_url", "'@' in the password must be written %%40");
			at = p;
		}
	}
	host = s;
	if (at != NULL) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		if (colon == NULL)
			return cx_error_field(err, "redis_url", "credentials must be [user]:password@");
		if ((size_t)(colon - s) >= sizeof(u->user) ||
		    pct_decode(s, (size_t)(colon - s), u->user, sizeof(u->user)) != 0)
			return cx_error_field(err, "redis_url", "invalid user name");
		if (colon + 1 == at ||
		    pct_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof(u->password)) != 0)
			return cx_error_field(err, "redis_url", "invalid or empty password");
		host = at + 1;
	}
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (host_end == NULL || host_end == host + 1)
			return cx_error_field(err, "redis_url", "invalid IPv6 address");
		for (p = host + 1; p < host_end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return cx_error_field(err, "redis_url", "invalid IPv6 address");
		if ((size_t)(host_end - host - 1) >= sizeof(u->host))
			return cx_error_field(err, "redis_url", "host name too long");
		memcpy(u->host, host + 1, (size_t)(host_end - host - 1));
		u->host[host_end - host - 1] = '\0';
		p = host_end + 1;
		if (p < auth_end && *p != ':')
			return cx_error_field(err, "redis_url", "invalid text after the IPv6 address");
	} else {
		host_end = host;
		while (host_end < auth_end && *host_end != ':')
			host_end++;
		if (host_end == host)
			return cx_error_field(err, "redis_url", "host is missing");
		if ((size_t)(host_end - host) >= sizeof(u->host))
			return cx_error_field(err, "redis_url", "host name too long");
		for (p = host; p < host_end; p++)
			if (!host_char_ok((unsigned char)*p))
				return cx_error_field(err, "redis_url", "invalid character in the host name");
		memcpy(u->host, host, (size_t)(host_end - host));
		u->host[host_end - host] = '\0';
		p = host_end;
	}
	u->port = 6379;
	if (p < auth_end) {         /* *p == ':' */
		p++;
		if (parse_uint(p, (size_t)(auth_end - p), 5, 1, 65535, &u->port) != 0)
			return cx_error_field(err, "redis_url", "port must be a number from 1 to 65535");
	}
	if (*auth_end == '/' && auth_end[1] != '\0') {
		if (parse_uint(auth_end + 1, strlen(auth_end + 1), 5, 0, 65535, &u->db) != 0)
			return cx_error_field(err, "redis_url", "database must be a number from 0 to 65535");
	}
	return CX_OK;
}

static int
parse_unix_query(const char *q, struct cx_redis_url *u, struct cx_error *err)
{
	int seen_db = 0, seen_password = 0;

	while (*q != '\0') {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;

		if (eq == NULL)
			return cx_error_field(err, "redis_url", "query parameters must be name=value");
		if (klen == 2 && memcmp(q, "db", 2) == 0 && !seen_db) {
			seen_db = 1;
			if (parse_uint(eq + 1, len - klen - 1, 5, 0, 65535, &u->db) != 0)
				return cx_error_field(err, "redis_url", "database must be a number from 0 to 65535");
		} else if (klen == 8 && memcmp(q, "password", 8) == 0 && !seen_password) {
			seen_password = 1;
			if (len - klen - 1 == 0 ||
			    pct_decode(eq + 1, len - klen - 1, u->password, sizeof(u->password)) != 0)
				return cx_error_field(err, "redis_url", "invalid or empty password");
		} else {
			return cx_error_field(err, "redis_url", "unknown or repeated query parameter (db and password are allowed)");
		}
		q += len;
		if (*q == '&') {
			q++;
			if (*q == '\0')
				return cx_error_field(err, "redis_url", "empty query parameter");
		}
	}
	return CX_OK;
}

static int
parse_unix(const char *s, struct cx_redis_url *u, struct cx_error *err)
{
	size_t len;

	if (strncmp(s, "//", 2) == 0) {
		if (s[2] != '/')
			return cx_error_field(err, "redis_url", "unix socket URLs take no host: use unix:/path or unix:///path");
		s += 2;
	}
	if (*s != '/')
		return cx_error_field(err, "redis_url", "unix socket path must be absolute");
	if (strchr(s, '#') != NULL)
		return cx_error_field(err, "redis_url", "fragments are not allowed");
	len = strcspn(s, "?");
	if (len >= sizeof(u->path))
		return cx_error_field(err, "redis_url", "unix socket path too long");
	if (len < 2 || s[len - 1] == '/')
		return cx_error_field(err, "redis_url", "unix socket path names a directory");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cx_error_field(err, "redis_url", "invalid character in the socket path");
	memcpy(u->path, s, len);
	u->path[len] = '\0';
	u->is_unix = 1;
	if (s[len] == '?') {
		if (s[len + 1] == '\0')
			return cx_error_field(err, "redis_url", "empty query string");
		return parse_unix_query(s + len + 1, u, err);
	}
	return CX_OK;
}

int
cx_redis_parse_url(const char *url, struct cx_redis_url *out, struct cx_error *err)
{
	struct cx_redis_url u;
	int rc;

	memset(&u, 0, sizeof(u));
	if (url == NULL || *url == '\0')
		return cx_error_field(err, "redis_url", "is empty");
	if (strlen(url) > 1024)
		return cx_error_field(err, "redis_url", "is too long");
	if (strncasecmp(url, "redis://", 8) == 0)
		rc = parse_tcp(url + 8, &u, err);
	else if (strncasecmp(url, "unix:", 5) == 0)
		rc = parse_unix(url + 5, &u, err);
	else if (strncasecmp(url, "rediss://", 9) == 0)
		rc = cx_error_field(err, "redis_url", "TLS (rediss://) is not supported; use a unix socket or a local TLS proxy");
	else
		rc = cx_error_field(err, "redis_url", "must start with redis:// or unix:");
	if (rc == CX_OK)
		*out = u;
	memset(&u, 0, sizeof(u));
	return rc;
}

/* ---- SIGPIPE ---------------------------------------------------------------------- */

/* hiredis writes with write(2): a server that went away raises SIGPIPE, which would
 * kill the worker. Block it around our I/O and swallow one we caused (the way curl's
 * sigpipe.h does), without touching the process's own disposition or a pending one. */
struct sigpipe_guard {
	sigset_t old;
	int was_pending;
};

static void
sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void
sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t pipe_set, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (!g->was_pending) {
		sigemptyset(&pending);
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE) == 1)
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- process id ------------------------------------------------------------------ */

/* getpid() is a system call; the hot path asks "am I still the process that opened the
 * connection?" on every command, so the answer is kept and refreshed in fork's child. */
static pid_t current_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void
pid_after_fork(void)
{
	current_pid = getpid();
}

static void
pid_init(void)
{
	current_pid = getpid();
	pthread_atfork(NULL, NULL, pid_after_fork);
}

static pid_t
my_pid(void)
{
	pthread_once(&pid_once, pid_init);
	return current_pid;
}

/* ---- connection ------------------------------------------------------------------ */

static struct timeval
ms_to_tv(int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

/* Where we connect, for logs (never the password). */
static void
describe(const struct cx_redis *r, char *buf, size_t cap)
{
	if (r->url.is_unix)
		snprintf(buf, cap, "unix:%s", r->url.path);
	else
		snprintf(buf, cap, "%s:%d", r->url.host, r->url.port);
}

static void
drop_connection(struct cx_redis *r)
{
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
	if (r->pending > 0)
		cx_logf(CX_LOG_WARN, "redis: %d reply(ies) of commands sent without waiting are lost",
		    r->pending);
	r->pending = 0;
}

/* Read the replies of the commands sent without waiting (cx_redis_multi_nowait), so the
 * next reply read is the next command's. 0, or -1 when the connection failed. */
static int
drain_pending(struct cx_redis *r)
{
	while (r->pending > 0) {
		redisReply *reply = NULL;

		if (redisGetReply(r->ctx, (void **)&reply) != REDIS_OK)
			return -1;
		r->pending--;
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			cx_logf(CX_LOG_WARN, "redis: a command sent without waiting failed: %s",
			    reply->str);
		freeReplyObject(reply);
	}
	return 0;
}

/* Run a setup command (AUTH, SELECT) on a fresh context; 0 unless it failed. */
static int
setup_command(redisContext *c, const char *what, int argc, const char **argv)
{
	redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
	int rc = 0;

	if (reply == NULL) {
		cx_logf(CX_LOG_WARN, "redis: %s failed: %s", what, c->errstr);
		return -1;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		cx_logf(CX_LOG_ERROR, "redis: %s refused: %s", what, reply->str);
		rc = -1;
	}
	freeReplyObject(reply);
	return rc;
}

static int
connect_now(struct cx_redis *r)
{
	struct timeval ctv = ms_to_tv(REDIS_CONNECT_TIMEOUT_MS);
	redisContext *c;
	char where[300], dbtext[16];
	int rc = -1;

	describe(r, where, sizeof(where));
	if (r->url.is_unix)
		c = redisConnectUnixWithTimeout(r->url.path, ctv);
	else
		c = redisConnectWithTimeout(r->url.host, r->url.port, ctv);
	if (c == NULL) {
		cx_logf(CX_LOG_ERROR, "redis: out of memory connecting to %s", where);
		return -1;
	}
	if (c->err) {
		cx_logf(CX_LOG_WARN, "redis: cannot connect to %s: %s", where, c->errstr);
		goto out;
	}
	{
		/* The cx-* workers ignore SIGPIPE: then the per-command guard (four system
		 * calls) is not needed. Read once per connection. */
		struct sigaction cur;
		r->sigpipe_ignored = sigaction(SIGPIPE, NULL, &cur) == 0 &&
		    cur.sa_handler == SIG_IGN;
	}
	if (redisSetTimeout(c, ms_to_tv(REDIS_COMMAND_TIMEOUT_MS)) != REDIS_OK) {
		cx_logf(CX_LOG_WARN, "redis: cannot set the timeout on %s: %s", where, c->errstr);
		goto out;
	}
	if (r->url.password[0] != '\0') {
		const char *argv[3] = { "AUTH", r->url.user, r->url.password };
		int argc = 3;
		if (r->url.user[0] == '\0') {
			argv[1] = r->url.password;
			argc = 2;
		}
		if (setup_command(c, "AUTH", argc, argv) != 0)
			goto out;
	}
	if (r->url.db != 0) {
		const char *argv[2] = { "SELECT", dbtext };
		snprintf(dbtext, sizeof(dbtext), "%d", r->url.db);
		if (setup_command(c, "SELECT", 2, argv) != 0)
			goto out;
	}
	r->ctx = c;
	r->pid = my_pid();
	c = NULL;
	rc = 0;
out:
	if (c != NULL)
		redisFree(c);
	return rc;
}

int
cx_redis_new(const char *url, struct cx_redis **out, struct cx_error *err)
{
	struct cx_redis *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return cx_error_internal(err, "out of memory");
	rc = cx_redis_parse_url(url, &r->url, err);
	if (rc != CX_OK) {
		free(r);
		return rc;
	}
	{
		struct sigpipe_guard guard;

		sigpipe_block(&guard);
		(void)connect_now(r);   /* down now is fine: commands connect on demand */
		sigpipe_restore(&guard);
	}
	*out = r;
	return CX_OK;
}

void
cx_redis_free(struct cx_redis *r)
{
	if (r == NULL)
		return;
	r->pending = 0;   /* sent; their replies no longer matter */
	drop_connection(r);
	for (size_t i = 0; i < REDIS_SCRIPT_CACHE; i++)
		free(r->scripts[i].text);
	memset(&r->url, 0, sizeof(r->url));
	free(r);
}

/* ---- commands -------------------------------------------------------------------- */

static redisReply *
send_formatted(redisContext *c, const char *cmd, size_t len, int nreplies)
{
	void *reply = NULL;

	/* cmd may hold several commands: their replies but the last are dropped */
	if (redisAppendFormattedCommand(c, cmd, len) != REDIS_OK)
		return NULL;
	for (int i = 0; i < nreplies; i++) {
		if (reply != NULL)
			freeReplyObject(reply);
		reply = NULL;
		if (redisGetReply(c, &reply) != REDIS_OK)
			return NULL;
	}
	return reply;
}

/* Write cmd (flushed to the socket) without reading any reply; 0 or -1. */
static int
send_only(redisContext *c, const char *cmd, size_t len)
{
	int done = 0;

	if (redisAppendFormattedCommand(c, cmd, len) != REDIS_OK)
		return -1;
	while (!done)
		if (redisBufferWrite(c, &done) != REDIS_OK)
			return -1;
	return 0;
}

/* Send a formatted command (cmd may hold several: nreplies), reconnecting and retrying
 * once on a connection error. wait: return the last reply as Redis sent it (error
 * replies included); else leave the replies to be read before the next command and
 * return a non-NULL placeholder. NULL with SERVICE_UNAVAILABLE set when it failed. */
static redisReply *
transmit(struct cx_redis *r, const char *cmd, size_t len, int nreplies, int wait,
    struct cx_error *err)
{
	static redisReply sent;
	struct sigpipe_guard guard;
	redisReply *reply = NULL;
	char where[300];
	int guarded;

	if (r->ctx != NULL && r->pid != my_pid())
		drop_connection(r);     /* inherited over fork(): never share the socket */
	guarded = r->ctx == NULL || !r->sigpipe_ignored;
	if (guarded)
		sigpipe_block(&guard);
	for (int attempt = 0; attempt < 2 && reply == NULL; attempt++) {
		if (r->ctx == NULL && connect_now(r) != 0)
			continue;
		if (wait)
			reply = drain_pending(r) == 0 ? send_formatted(r->ctx, cmd, len, nreplies) :
			    NULL;
		/* a long run of unread replies would only fill the socket: read them now */
		else if ((r->pending <= 1000 || drain_pending(r) == 0) &&
		    send_only(r->ctx, cmd, len) == 0) {
			r->pending += nreplies;
			reply = &sent;
		}
		if (reply == NULL) {
			describe(r, where, sizeof(where));
			cx_logf(CX_LOG_WARN, "redis: command on %s failed: %s", where,
			    r->ctx->err ? r->ctx->errstr : "no reply");
			drop_connection(r);
		}
	}
	if (guarded)
		sigpipe_restore(&guard);
	if (reply == NULL) {
		cx_error_set(err, CX_EUNAVAIL, "Cache service unavailable");
		if (err != NULL && err->code == CX_EUNAVAIL)
			err->retry_after = REDIS_RETRY_AFTER;
	}
	return reply;
}

static redisReply *
run_raw(struct cx_redis *r, const char *cmd, size_t len, struct cx_error *err)
{
	return transmit(r, cmd, len, 1, 1, err);
}

/* run_raw, with an error reply turned into INTERNAL_ERROR. */
static redisReply *
run(struct cx_redis *r, const char *cmd, size_t len, struct cx_error *err)
{
	redisReply *reply = run_raw(r, cmd, len, err);

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		cx_error_internal(err, "redis error reply: %s", reply->str);
		freeReplyObject(reply);
		reply = NULL;
	}
	return reply;
}

static redisReply *
vcmd(struct cx_redis *r, struct cx_error *err, const char *fmt, va_list ap)
{
	redisReply *reply;
	char *cmd = NULL;
	int len;

	len = redisvFormatCommand(&cmd, fmt, ap);
	if (len < 0) {
		cx_error_internal(err, "redis: bad command format \"%s\"", fmt);
		return NULL;
	}
	reply = run(r, cmd, (size_t)len, err);
	redisFreeCommand(cmd);
	return reply;
}

redisReply *
cx_redis_cmd(struct cx_redis *r, struct cx_error *err, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = vcmd(r, err, fmt, ap);
	va_end(ap);
	return reply;
}

static redisReply *
argv_command(struct cx_redis *r, struct cx_error *err, int argc, const char **argv,
    const size_t *argvlen, int keep_error_reply)
{
	redisReply *reply;
	char *cmd = NULL;
	int len;

	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	if (len < 0) {
		cx_error_internal(err, "redis: cannot format a command of %d arguments", argc);
		return NULL;
	}
	if (keep_error_reply)
		reply = run_raw(r, cmd, (size_t)len, err);
	else
		reply = run(r, cmd, (size_t)len, err);
	redisFreeCommand(cmd);
	return reply;
}

redisReply *
cx_redis_cmdargv(struct cx_redis *r, struct cx_error *err, int argc, const char **argv,
    const size_t *argvlen)
{
	return argv_command(r, err, argc, argv, argvlen, 0);
}

/* "<c><n>\r\n" of the Redis protocol (a count or a length). */
static void
put_header(struct cx_buf *all, char c, size_t n)
{
	char tmp[CX_U64_DIGITS + 3], *p = tmp + sizeof(tmp);

	*--p = '\n';
	*--p = '\r';
	p = cx_u64_digits(p, n);
	*--p = c;
	cx_buf_add(all, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* One command in the Redis protocol, as redisFormatCommandArgv writes it, appended. */
static void
put_command(struct cx_buf *all, int argc, const char *const *argv)
{
	put_header(all, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		put_header(all, '$', len);
		cx_buf_add(all, argv[i], len);
		cx_buf_add(all, "\r\n", 2);
	}
}

/* MULTI, the commands, EXEC as one formatted text in all; 0 or -1 (err set). */
static int
format_multi(struct cx_buf *all, size_t ncmds, const int *argc, const char **const *argv,
    struct cx_error *err)
{
	cx_buf_add(all, "*1\r\n$5\r\nMULTI\r\n", 15);
	for (size_t i = 0; i < ncmds; i++)
		put_command(all, argc[i], argv[i]);
	cx_buf_add(all, "*1\r\n$4\r\nEXEC\r\n", 14);
	if (all->failed) {
		cx_buf_free(all);
		cx_error_internal(err, "redis: out of memory formatting a transaction");
		return -1;
	}
	return 0;
}

redisReply *
cx_redis_multi(struct cx_redis *r, struct cx_error *err, size_t ncmds, const int *argc,
    const char **const *argv)
{
	struct cx_buf all = { 0 };
	redisReply *reply = NULL;

	if (format_multi(&all, ncmds, argc, argv, err) != 0)
		return NULL;
	reply = transmit(r, all.data, all.len, (int)ncmds + 2, 1, err);
	cx_buf_free(&all);
	if (reply != NULL && reply->type != REDIS_REPLY_ARRAY) {
		cx_error_internal(err, "redis transaction failed: %s",
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "not executed");
		freeReplyObject(reply);
		reply = NULL;
	}
	return reply;
}

int
cx_redis_multi_nowait(struct cx_redis *r, struct cx_error *err, size_t ncmds,
    const int *argc, const char **const *argv)
{
	struct cx_buf all = { 0 };
	int rc = CX_OK;

	if (format_multi(&all, ncmds, argc, argv, err) != 0)
		return CX_EINTERNAL;
	if (transmit(r, all.data, all.len, (int)ncmds + 2, 0, err) == NULL)
		rc = CX_EUNAVAIL;
	cx_buf_free(&all);
	return rc;
}

int
cx_redis_ping(struct cx_redis *r, struct cx_error *err)
{
	redisReply *reply = cx_redis_cmd(r, err, "PING");
	int rc = CX_OK;

	if (reply == NULL)
		return err != NULL && err->code != CX_OK ? (int)err->code : CX_EUNAVAIL;
	if (reply->type != REDIS_REPLY_STATUS || strcmp(reply->str, "PONG") != 0)
		rc = cx_error_internal(err, "redis: unexpected PING reply");
	freeReplyObject(reply);
	return rc;
}

/* ---- scripts --------------------------------------------------------------------- */

static const char *
script_sha(struct cx_redis *r, const char *script)
{
	struct script_entry *e;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *copy;

	for (size_t i = 0; i < REDIS_SCRIPT_CACHE; i++)
		if (r->scripts[i].text != NULL && strcmp(r->scripts[i].text, script) == 0)
			return r->scripts[i].sha;
	if (EVP_Digest(script, strlen(script), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		return NULL;
	copy = strdup(script);
	if (copy == NULL)
		return NULL;
	e = &r->scripts[r->next_script++ % REDIS_SCRIPT_CACHE];
	free(e->text);
	e->text = copy;
	cx_hex_encode(md, 20, e->sha);
	return e->sha;
}

redisReply *
cx_redis_eval(struct cx_redis *r, struct cx_error *err, const char *script, int nkeys,
    int argc, const char **argv)
{
	const char **full = NULL;
	redisReply *reply = NULL;
	const char *sha;
	char nkeys_text[16];

	if (nkeys < 0 || argc < nkeys || argc > 1000) {
		cx_error_internal(err, "redis: bad eval arguments (nkeys %d, argc %d)", nkeys, argc);
		goto out;
	}
	sha = script_sha(r, script);
	full = calloc((size_t)argc + 3, sizeof(*full));
	if (sha == NULL || full == NULL) {
		cx_error_internal(err, "redis: out of memory preparing a script");
		goto out;
	}
	snprintf(nkeys_text, sizeof(nkeys_text), "%d", nkeys);
	full[0] = "EVALSHA";
	full[1] = sha;
	full[2] = nkeys_text;
	for (int i = 0; i < argc; i++)
		full[i + 3] = argv[i];
	reply = argv_command(r, err, argc + 3, full, NULL, 1);
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(reply);
		full[0] = "EVAL";       /* runs it and loads it for the next EVALSHA */
		full[1] = script;
		reply = argv_command(r, err, argc + 3, full, NULL, 1);
	}
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		cx_error_internal(err, "redis script error: %s", reply->str);
		freeReplyObject(reply);
		reply = NULL;
	}
out:
	free(full);
	return reply;
}

/* ---- rate limiter ---------------------------------------------------------------- */

/* Count a hit; the first hit of a window sets the TTL in the same atomic step. A key
 * that somehow lost its TTL is given one again, so a counter can never stick forever. */
static const char ratelimit_hit_lua[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "local ttl = redis.call('TTL', KEYS[1])\n"
    "if n == 1 or ttl < 0 then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "  ttl = tonumber(ARGV[1])\n"
    "end\n"
    "return {n, ttl}\n";

static const char ratelimit_check_lua[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "return {n, redis.call('TTL', KEYS[1])}\n";

static int
ratelimit_key(const char *who, const char *endpoint, char *key, size_t cap, struct cx_error *err)
{
	char digest[65];
	size_t wlen;

	/* The endpoint has no ':' so that the key's last segment is always the endpoint. */
	if (who == NULL || *who == '\0' || endpoint == NULL || *endpoint == '\0' ||
	    strlen(endpoint) > RATELIMIT_ENDPOINT_MAX || strchr(endpoint, ':') != NULL)
		return cx_error_internal(err, "ratelimit: who and endpoint (<= %d chars, no ':') "
		    "are required", RATELIMIT_ENDPOINT_MAX);
	wlen = strlen(who);
	if (wlen > RATELIMIT_WHO_MAX) {
		cx_sha256_hex(who, wlen, digest);
		snprintf(key, cap, "ratelimit:sha256:%s:%s", digest, endpoint);
	} else {
		snprintf(key, cap, "ratelimit:%s:%s", who, endpoint);
	}
	return CX_OK;
}

/* Read {count, ttl} from a limiter script's reply. */
static int
ratelimit_reply(const redisReply *reply, long long *count, long long *ttl, struct cx_error *err)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER)
		return cx_error_internal(err, "ratelimit: unexpected script reply");
	*count = reply->element[0]->integer;
	*ttl = reply->element[1]->integer;
	return CX_OK;
}

static int
ratelimit_refuse(long long ttl, struct cx_error *err)
{
	int secs = ttl < 1 ? 1 : ttl > 86400 * 366 ? 86400 * 366 : (int)ttl;

	cx_error_set(err, CX_ERATELIMIT, "Too many requests, try again in %d second%s", secs,
	    secs == 1 ? "" : "s");
	if (err != NULL && err->code == CX_ERATELIMIT)
		err->retry_after = secs;
	return CX_ERATELIMIT;
}

static int
unavailable_or(struct cx_error *err, int fallback)
{
	return err != NULL && err->code != CX_OK ? (int)err->code : fallback;
}

int
cx_ratelimit_hit(struct cx_redis *r, const char *who, const char *endpoint, int limit,
    int window_seconds, struct cx_error *err)
{
	char key[160], window[16];
	const char *argv[2] = { key, window };
	redisReply *reply = NULL;
	long long count, ttl;
	int rc;

	if (limit < 1 || window_seconds < 1)
		return cx_error_internal(err, "ratelimit: limit %d / window %d must be >= 1", limit,
		    window_seconds);
	rc = ratelimit_key(who, endpoint, key, sizeof(key), err);
	if (rc != CX_OK)
		return rc;
	snprintf(window, sizeof(window), "%d", window_seconds);
	reply = cx_redis_eval(r, err, ratelimit_hit_lua, 1, 2, argv);
	if (reply == NULL)
		return unavailable_or(err, CX_EUNAVAIL);
	rc = ratelimit_reply(reply, &count, &ttl, err);
	if (rc == CX_OK && count > limit)
		rc = ratelimit_refuse(ttl, err);
	freeReplyObject(reply);
	return rc;
}

int
cx_ratelimit_check(struct cx_redis *r, const char *who, const char *endpoint, int limit,
    struct cx_error *err)
{
	char key[160];
	const char *argv[1] = { key };
	redisReply *reply = NULL;
	long long count, ttl;
	int rc;

	if (limit < 1)
		return cx_error_internal(err, "ratelimit: limit %d must be >= 1", limit);
	rc = ratelimit_key(who, endpoint, key, sizeof(key), err);
	if (rc != CX_OK)
		return rc;
	reply = cx_redis_eval(r, err, ratelimit_check_lua, 1, 1, argv);
	if (reply == NULL)
		return unavailable_or(err, CX_EUNAVAIL);
	rc = ratelimit_reply(reply, &count, &ttl, err);
	if (rc == CX_OK && count >= limit)
		rc = ratelimit_refuse(ttl, err);
	freeReplyObject(reply);
	return rc;
}

void
cx_ratelimit_reset(struct cx_redis *r, const char *who, const char *endpoint)
{
	struct cx_error err = { 0 };
	redisReply *reply;
	char key[160];

	if (ratelimit_key(who, endpoint, key, sizeof(key), &err) != CX_OK)
		return;
	reply = cx_redis_cmd(r, &err, "DEL %s", key);
	if (reply == NULL)
		cx_logf(CX_LOG_WARN, "ratelimit: reset of %s failed: %s", endpoint, err.message);
	else
		freeReplyObject(reply);
}
