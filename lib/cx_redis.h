/* cx_redis: a reconnecting Redis client (hiredis), key helpers and the rate limiter. */
#ifndef CX_REDIS_H
#define CX_REDIS_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "cx_error.h"

struct cx_redis;

/* url: "redis://[:password@]host[:port][/db]" or "unix:/path/to/redis.sock[?db=N]".
 * Connecting is lazy-tolerant: a client is returned even if Redis is down now; every
 * command retries the connection once. Errors: VALIDATION of the URL only. */
int cx_redis_new(const char *url, struct cx_redis **out, struct cx_error *err);
void cx_redis_free(struct cx_redis *r);

/* Run a command (hiredis format). Returns the reply (caller frees with
 * freeReplyObject) or NULL with SERVICE_UNAVAILABLE set; a Redis error reply
 * (REDIS_REPLY_ERROR) is turned into INTERNAL_ERROR and NULL. Reconnects once. */
redisReply *cx_redis_cmd(struct cx_redis *r, struct cx_error *err, const char *fmt, ...);
redisReply *cx_redis_cmdargv(struct cx_redis *r, struct cx_error *err, int argc,
    const char **argv, const size_t *argvlen);

/* Run a Lua script with EVALSHA, loading it on NOSCRIPT. */
redisReply *cx_redis_eval(struct cx_redis *r, struct cx_error *err, const char *script,
    int nkeys, int argc, const char **argv);

int cx_redis_ping(struct cx_redis *r, struct cx_error *err);

/* Fixed-window rate limit: counts a hit on ratelimit:{who}:{endpoint} (window seconds).
 * Over `limit` hits: RATE_LIMITED with err->retry_after = seconds until the window ends.
 * Redis down: SERVICE_UNAVAILABLE. */
int cx_ratelimit_hit(struct cx_redis *r, const char *who, const char *endpoint, int limit,
    int window_seconds, struct cx_error *err);
/* Read without counting (is `who` currently over the limit?). */
int cx_ratelimit_check(struct cx_redis *r, const char *who, const char *endpoint, int limit,
    struct cx_error *err);
void cx_ratelimit_reset(struct cx_redis *r, const char *who, const char *endpoint);

#endif
