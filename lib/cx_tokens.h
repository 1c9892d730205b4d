/* cx_tokens: refresh tokens (opaque, stored hashed in Redis, rotated on use, reuse
 * revokes the family), the access-token denylist, and per-user revocation. */
#ifndef CX_TOKENS_H
#define CX_TOKENS_H

#include <stdint.h>

#include "cx_error.h"
#include "cx_redis.h"

/* Redis layout (all keys hashed with SHA-256; the raw token is never stored):
 *   refresh:{sha256hex}        hash  user_id, family, state (active|rotated), created_at
 *                                    TTL = refresh lifetime
 *   refresh_family:{family}    set   of token hashes in the family, TTL = lifetime
 *   session:{family}           hash  user_id, role, created_at, expires_at, ip_address
 *                                    (spec 2.2 session storage: one per login)
 *   user_sessions:{user_id}    set   of families (to revoke all of a user's sessions)
 *   revoked_jti:{jti}          string, TTL = remaining access-token lifetime
 *   user_revoked_before:{uid}  string epoch seconds: access tokens with iat < it are dead
 *
 * Families are 24-hex random ids. Every key has a TTL. Rotation extends the family's
 * keys (sliding lifetime); a rotated token keeps its own TTL so its reuse is detected.
 * The scripts reach keys they derive from stored values: single-node Redis, not Cluster.
 *
 * Same-second window: user revocation compares whole seconds (iat < revoked_before), so
 * an access token issued in the same second as the revocation stays valid. That lets
 * tokens issued right after a password change survive; the price is a 1 s window. */

struct cx_refresh_result {
	char user_id[32];
	char family[48];
	char token[48];        /* the NEW raw refresh token (base64url, 43 chars) */
};

/* Start a new family (a login): creates session:{family} and the first token (one
 * atomic script). user_id: 1..31 chars. Redis down: SERVICE_UNAVAILABLE. */
int cx_refresh_issue(struct cx_redis *r, const char *user_id, const char *role,
    const char *ip_address, int ttl_seconds, struct cx_refresh_result *out,
    struct cx_error *err);

/* Rotate: the presented raw token must be active; it becomes rotated (atomically, a
 * Lua script) and a new token in the same family is returned.
 * A rotated token presented again = reuse: the whole family is revoked, *reused = 1,
 * UNAUTHORIZED. Unknown/expired token, or a family already revoked: UNAUTHORIZED.
 * *reused (may be NULL) is always set: 1 only on reuse. */
int cx_refresh_rotate(struct cx_redis *r, const char *raw_token, int ttl_seconds,
    struct cx_refresh_result *out, int *reused, struct cx_error *err);

/* Look up a raw token without rotating it (user_id/family). UNAUTHORIZED if not active. */
int cx_refresh_peek(struct cx_redis *r, const char *raw_token, char user_id[32],
    char family[48], struct cx_error *err);

/* Revoke one family (logout) or every family of a user (password change/reset,
 * deactivation). */
int cx_refresh_revoke_family(struct cx_redis *r, const char *family, struct cx_error *err);
int cx_refresh_revoke_user(struct cx_redis *r, const char *user_id, struct cx_error *err);

/* Denylist an access token's jti until exp (epoch seconds). */
int cx_access_revoke(struct cx_redis *r, const char *jti, int64_t exp, struct cx_error *err);
/* Mark every access token of user issued before now as revoked (kept for ttl seconds). */
int cx_access_revoke_user(struct cx_redis *r, const char *user_id, int ttl_seconds,
    struct cx_error *err);
/* One round trip (MGET): is this token revoked (jti denylisted or iat before the user's
 * revocation time)? *revoked = 1/0. SERVICE_UNAVAILABLE when Redis is down. */
int cx_access_is_revoked(struct cx_redis *r, const char *jti, const char *user_id,
    int64_t iat, int *revoked, struct cx_error *err);

#endif
