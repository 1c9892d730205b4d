/* cx_revoke: a worker's live copy of the access-token revocations (denylisted jti,
 * "every token of this user issued before T"), kept current through Redis pub/sub, so
 * that checking a token on every request costs no round trip to Redis.
 *
 * Revocations are written by cx_access_revoke / cx_access_revoke_user (cx_tokens), which
 * store the key and publish it on CX_REVOKE_CHANNEL in one script, then wait one more
 * round trip: by the time the revoking request answers its client, every subscriber has
 * the message in its socket buffer. A view reads its socket (without blocking) before
 * every check, so a revocation is seen by the very next request, on any worker.
 * When the subscription is broken the view says so and callers ask Redis instead
 * (cx_access_is_revoked); it reconnects and reloads by itself. */
#ifndef CX_REVOKE_H
#define CX_REVOKE_H

#include <stdint.h>

#include "cx_error.h"
#include "cx_redis.h"

#define CX_REVOKE_CHANNEL "cx:revocations"

struct cx_revoke_view;

/* Subscribe (own connection to redis_url), then load the revocations already stored
 * through r. max_ttl_seconds: the access-token lifetime (how long an entry can matter).
 * SERVICE_UNAVAILABLE when Redis cannot be reached (callers then use Redis directly). */
int cx_revoke_view_open(const char *redis_url, struct cx_redis *r, int max_ttl_seconds,
    struct cx_revoke_view **out, struct cx_error *err);
void cx_revoke_view_free(struct cx_revoke_view *v);

/* Apply every message already received, without blocking. Returns 1 when the view is
 * live and current, 0 when it cannot be trusted now (ask Redis). */
int cx_revoke_view_sync(struct cx_revoke_view *v);

/* With a live view (sync returned 1): is this token revoked? */
int cx_revoke_view_is_revoked(const struct cx_revoke_view *v, const char *jti,
    const char *user_id, int64_t iat);

/* Messages on the channel (also used by cx_tokens to publish):
 *   "j <jti> <expires_epoch>"                 one access token
 *   "u <user_id> <before_epoch> <expires_epoch>"  every token of a user issued before */

#endif
