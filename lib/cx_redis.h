/* cx_redis: a reconnecting Redis client (hiredis), key helpers and the rate limiter. */
#ifndef CX_REDIS_H
#define CX_REDIS_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "cx_error.h"

/* A client owns one blocking connection: use one per process (a forked child that
 * inherits one reconnects on its own) and never share it between threads. */
struct cx_redis;

/* A parsed Redis URL. Accepted forms (parsed strictly; anything else is refused):
 *   redis://[[user]:password@]host[:port][/db]   host: name, IPv4 or [IPv6]; port 6379
 *   unix:/path/to/redis.sock[?db=N][&password=P]  also unix:///path/to/redis.sock
 * The password is percent-decoded; db is 0..65535 (default 0). */
struct cx_redis_url {
	int is_unix;            /* 1: unix socket at path; 0: TCP host:port */
	char host[256];
	int port;
	char path[108];         /* fits struct sockaddr_un.sun_path */
	char user[64];          /* "" = AUTH with the password only */
	char password[256];     /* "" = no AUTH */
	int db;
};

/* Parse url into *out (set only on success). VALIDATION (field "redis_url") when the URL
 * is malformed; the message never contains the password. */
int cx_redis_parse_url(const char *url, struct cx_redis_url *out, struct cx_error *err);

/* url: see struct cx_redis_url. AUTH and SELECT are sent after every connect.
 * Timeouts: 1 s to connect, 2 s per command.
 * Connecting is lazy-tolerant: a client is returned even if Redis is down now; every
 * command retries the connection once. Errors: VALIDATION of the URL only.
 * Redis down: SERVICE_UNAVAILABLE "Cache service unavailable", err->retry_after = 5;
 * hiredis's own error text is logged, never put in err. */
int cx_redis_new(const char *url, struct cx_redis **out, struct cx_error *err);
void cx_redis_free(struct cx_redis *r);

/* Run a command (hiredis format). Returns the reply (caller frees with
 * freeReplyObject) or NULL with SERVICE_UNAVAILABLE set; a Redis error reply
 * (REDIS_REPLY_ERROR) is turned into INTERNAL_ERROR and NULL. Reconnects once: a
 * command whose reply was lost (e.g. timed out) is sent again, so it may run twice.
 * SIGPIPE from a dead connection is blocked and swallowed, whatever the process does. */
redisReply *cx_redis_cmd(struct cx_redis *r, struct cx_error *err, const char *fmt, ...);
redisReply *cx_redis_cmdargv(struct cx_redis *r, struct cx_error *err, int argc,
    const char **argv, const size_t *argvlen);

/* Run a Lua script with EVALSHA (SHA1 computed locally, cached per client), falling back
 * to EVAL (which also loads it) on NOSCRIPT. argv[0..nkeys-1] are the keys, the rest ARGV;
 * argc counts both. Same reply and error rules as cx_redis_cmd. */
redisReply *cx_redis_eval(struct cx_redis *r, struct cx_error *err, const char *script,
    int nkeys, int argc, const char **argv);

/* Run ncmds commands (command i: argc[i] strings argv[i]) as one transaction, MULTI ...
 * EXEC, in one round trip. Returns EXEC's reply (an array of the commands' replies; the
 * caller frees it), or NULL with err set as cx_redis_cmd does (a command Redis refused
 * to queue aborts them all: INTERNAL_ERROR). */
redisReply *cx_redis_multi(struct cx_redis *r, struct cx_error *err, size_t ncmds,
    const int *argc, const char **const *argv);

/* The same, without waiting for Redis to answer: the transaction is written to the
 * socket and its replies are read (and dropped; errors logged) before the next command
 * on this connection. CX_OK once sent; SERVICE_UNAVAILABLE when it could not be. For
 * writes nobody waits on: the request's response is not held up by the round trip. */
int cx_redis_multi_nowait(struct cx_redis *r, struct cx_error *err, size_t ncmds,
    const int *argc, const char **const *argv);

int cx_redis_ping(struct cx_redis *r, struct cx_error *err);

/* Fixed-window rate limit: counts a hit on ratelimit:{who}:{endpoint} (window seconds).
 * One round trip (a Lua script: INCR, and EXPIRE on the first hit, so the key always has
 * a TTL). Over `limit` hits: RATE_LIMITED "Too many requests, try again in N seconds"
 * with err->retry_after = seconds until the window ends (>= 1).
 * `who` (a user id, email or IP; may contain ':' or '@') longer than 64 chars is replaced
 * by "sha256:" + its SHA-256 hex in the key. endpoint: a constant name without ':'.
 * Redis down: SERVICE_UNAVAILABLE. */
int cx_ratelimit_hit(struct cx_redis *r, const char *who, const char *endpoint, int limit,
    int window_seconds, struct cx_error *err);
/* Read without counting: RATE_LIMITED (as above) when `limit` hits have already been
 * counted in the current window, i.e. the next hit would be refused. One round trip. */
int cx_ratelimit_check(struct cx_redis *r, const char *who, const char *endpoint, int limit,
    struct cx_error *err);
/* Forget the hits (e.g. after a successful login). Failures are logged only. */
void cx_ratelimit_reset(struct cx_redis *r, const char *who, const char *endpoint);

#endif
