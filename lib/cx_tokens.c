/* cx_tokens: refresh-token families and access-token revocation, kept in Redis. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cx_crypto.h"
#include "cx_log.h"
#include "cx_time.h"
#include "cx_revoke.h"
#include "cx_tokens.h"

#define TOKEN_MAX 256           /* longer presented tokens are refused unread */
#define JTI_MAX 128
#define ROLE_MAX 64
#define IP_MAX 64

/* Every write of one operation happens in one script, so a crash or a concurrent
 * request never sees half a family. Scripts read HMGET fields as false when absent. */

/* KEYS refresh:{h} refresh_family:{f} session:{f} user_sessions:{uid}
 * ARGV h f uid role ip created_at expires_at ttl */
static const char issue_lua[] =
    "local ttl = tonumber(ARGV[8])\n"
    "redis.call('HSET', KEYS[1], 'user_id', ARGV[3], 'family', ARGV[2], 'state', 'active',"
    " 'created_at', ARGV[6])\n"
    "redis.call('EXPIRE', KEYS[1], ttl)\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "redis.call('EXPIRE', KEYS[2], ttl)\n"
    "redis.call('HSET', KEYS[3], 'user_id', ARGV[3], 'role', ARGV[4], 'created_at', ARGV[6],"
    " 'expires_at', ARGV[7], 'ip_address', ARGV[5])\n"
    "redis.call('EXPIRE', KEYS[3], ttl)\n"
    /* forget families that have expired since, so the set stays small */
    "for _, f in ipairs(redis.call('SMEMBERS', KEYS[4])) do\n"
    "  if redis.call('EXISTS', 'refresh_family:' .. f) == 0 then\n"
    "    redis.call('SREM', KEYS[4], f)\n"
    "  end\n"
    "end\n"
    "redis.call('SADD', KEYS[4], ARGV[2])\n"
    "if redis.call('TTL', KEYS[4]) < ttl then redis.call('EXPIRE', KEYS[4], ttl) end\n"
    "return 1\n";

/* KEYS refresh:{old} refresh:{new}   ARGV newhash created_at expires_at ttl
 * Returns {'ok', uid, family} | {'reused', uid, family} | {'unknown'}. */
static const char rotate_lua[] =
    "local t = redis.call('HMGET', KEYS[1], 'state', 'family', 'user_id')\n"
    "local state, fam, uid = t[1], t[2], t[3]\n"
    "if not state or not fam or not uid then return {'unknown'} end\n"
    "local fkey = 'refresh_family:' .. fam\n"
    "local skey = 'session:' .. fam\n"
    "local ukey = 'user_sessions:' .. uid\n"
    "if state ~= 'active' or redis.call('EXISTS', fkey) == 0"
    " or redis.call('EXISTS', skey) == 0 then\n"
    "  for _, h in ipairs(redis.call('SMEMBERS', fkey)) do\n"
    "    redis.call('DEL', 'refresh:' .. h)\n"
    "  end\n"
    "  redis.call('DEL', fkey, skey, KEYS[1])\n"
    "  redis.call('SREM', ukey, fam)\n"
    "  if state == 'rotated' then return {'reused', uid, fam} end\n"
    "  return {'unknown'}\n"
    "end\n"
    "local ttl = tonumber(ARGV[4])\n"
    "redis.call('HSET', KEYS[1], 'state', 'rotated')\n"
    "redis.call('HSET', KEYS[2], 'user_id', uid, 'family', fam, 'state', 'active',"
    " 'created_at', ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[2], ttl)\n"
    "redis.call('SADD', fkey, ARGV[1])\n"
    "if redis.call('TTL', fkey) < ttl then redis.call('EXPIRE', fkey, ttl) end\n"
    "redis.call('HSET', skey, 'expires_at', ARGV[3])\n"
    "if redis.call('TTL', skey) < ttl then redis.call('EXPIRE', skey, ttl) end\n"
    "if redis.call('TTL', ukey) < ttl then redis.call('EXPIRE', ukey, ttl) end\n"
    "return {'ok', uid, fam}\n";

/* KEYS refresh:{h}   Returns {'ok', uid, family} | {'unknown'}. */
static const char peek_lua[] =
    "local t = redis.call('HMGET', KEYS[1], 'state', 'family', 'user_id')\n"
    "if t[1] ~= 'active' or not t[2] or not t[3] then return {'unknown'} end\n"
    "if redis.call('EXISTS', 'refresh_family:' .. t[2]) == 0 then return {'unknown'} end\n"
    "return {'ok', t[3], t[2]}\n";

/* KEYS refresh_family:{f} session:{f}   ARGV f */
static const char revoke_family_lua[] =
    "for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  redis.call('DEL', 'refresh:' .. h)\n"
    "end\n"
    "local uid = redis.call('HGET', KEYS[2], 'user_id')\n"
    "if uid then redis.call('SREM', 'user_sessions:' .. uid, ARGV[1]) end\n"
    "return redis.call('DEL', KEYS[1], KEYS[2])\n";

/* KEYS user_sessions:{uid}   Returns the number of families revoked. */
static const char revoke_user_lua[] =
    "local n = 0\n"
    "for _, f in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local fkey = 'refresh_family:' .. f\n"
    "  for _, h in ipairs(redis.call('SMEMBERS', fkey)) do\n"
    "    redis.call('DEL', 'refresh:' .. h)\n"
    "  end\n"
    "  if redis.call('DEL', fkey, 'session:' .. f) > 0 then n = n + 1 end\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return n\n";

static int
fail_code(struct cx_error *err)
{
	return err != NULL && err->code != CX_OK ? (int)err->code : CX_EUNAVAIL;
}

static int
invalid_token(struct cx_error *err)
{
	return cx_error_set(err, CX_EUNAUTH, "Invalid or expired refresh token");
}

static int
check_user_id(const char *user_id, struct cx_error *err)
{
	size_t len = user_id ? strlen(user_id) : 0;

	if (len == 0 || len >= 32)      /* struct cx_refresh_result.user_id */
		return cx_error_internal(err, "tokens: user id missing or longer than 31 chars");
	return CX_OK;
}

static int
check_ttl(int ttl_seconds, struct cx_error *err)
{
	if (ttl_seconds < 1)
		return cx_error_internal(err, "tokens: lifetime %d must be >= 1 s", ttl_seconds);
	return CX_OK;
}

/* A fresh raw token and the key that stores it. */
static int
new_token(char token[44], char key[80], char hash[65], struct cx_error *err)
{
	if (cx_random_token(token) != 0)
		return cx_error_internal(err, "tokens: no random bytes");
	cx_sha256_hex(token, strlen(token), hash);
	snprintf(key, 80, "refresh:%s", hash);
	return CX_OK;
}

/* Hash a presented token into its key; UNAUTHORIZED if it cannot be one of ours. */
static int
presented_key(const char *raw_token, char key[80], struct cx_error *err)
{
	char hash[65];
	size_t len = raw_token ? strlen(raw_token) : 0;

	if (len == 0 || len > TOKEN_MAX)
		return invalid_token(err);
	cx_sha256_hex(raw_token, len, hash);
	snprintf(key, 80, "refresh:%s", hash);
	return CX_OK;
}

static void
now_and_expiry(int ttl_seconds, char now[CX_TIME_LEN], char expires[CX_TIME_LEN])
{
	int64_t ms = cx_time_now_ms();

	cx_time_format_ms(ms, now);
	cx_time_format_ms(ms + (int64_t)ttl_seconds * 1000, expires);
}

static int
copy_bulk(const redisReply *e, char *out, size_t cap)
{
	if (e->type != REDIS_REPLY_STRING || (size_t)e->len >= cap)
		return -1;
	memcpy(out, e->str, (size_t)e->len);
	out[e->len] = '\0';
	return 0;
}

/* Read a {status, uid, family} script reply; returns the status word or NULL. */
static const char *
status_reply(const redisReply *reply, char user_id[32], char family[48])
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return NULL;
	if (reply->elements == 1)
		return reply->element[0]->str;
	if (reply->elements != 3 || copy_bulk(reply->element[1], user_id, 32) != 0 ||
	    copy_bulk(reply->element[2], family, 48) != 0)
		return NULL;
	return reply->element[0]->str;
}

int
cx_refresh_issue(struct cx_redis *r, const char *user_id, const char *role,
    const char *ip_address, int ttl_seconds, struct cx_refresh_result *out,
    struct cx_error *err)
{
	struct cx_refresh_result res;
	char key[80], hash[65], fkey[80], skey[80], ukey[64], ttl[16];
	char now[CX_TIME_LEN], expires[CX_TIME_LEN];
	uint8_t fam_raw[12];
	redisReply *reply = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = check_user_id(user_id, err)) != CX_OK || (rc = check_ttl(ttl_seconds, err)) != CX_OK)
		goto out;
	if (role == NULL || strlen(role) > ROLE_MAX || (ip_address && strlen(ip_address) > IP_MAX)) {
		rc = cx_error_internal(err, "tokens: role missing or role/ip too long");
		goto out;
	}
	if (cx_random_bytes(fam_raw, sizeof(fam_raw)) != 0) {
		rc = cx_error_internal(err, "tokens: no random bytes");
		goto out;
	}
	cx_hex_encode(fam_raw, sizeof(fam_raw), res.family);
	if ((rc = new_token(res.token, key, hash, err)) != CX_OK)
		goto out;
	snprintf(res.user_id, sizeof(res.user_id), "%s", user_id);
	snprintf(fkey, sizeof(fkey), "refresh_family:%s", res.family);
	snprintf(skey, sizeof(skey), "session:%s", res.family);
	snprintf(ukey, sizeof(ukey), "user_sessions:%s", user_id);
	snprintf(ttl, sizeof(ttl), "%d", ttl_seconds);
	now_and_expiry(ttl_seconds, now, expires);
	{
		const char *argv[] = { key, fkey, skey, ukey, hash, res.family, user_id, role,
		    ip_address ? ip_address : "", now, expires, ttl };
		reply = cx_redis_eval(r, err, issue_lua, 4, 12, argv);
	}
	if (reply == NULL) {
		rc = fail_code(err);
		goto out;
	}
	*out = res;
	rc = CX_OK;
out:
	if (reply != NULL)
		freeReplyObject(reply);
	OPENSSL_cleanse(&res, sizeof(res));
	return rc;
}

int
cx_refresh_rotate(struct cx_redis *r, const char *raw_token, int ttl_seconds,
    struct cx_refresh_result *out, int *reused, struct cx_error *err)
{
	struct cx_refresh_result res;
	char oldkey[80], newkey[80], newhash[65], ttl[16];
	char now[CX_TIME_LEN], expires[CX_TIME_LEN];
	redisReply *reply = NULL;
	const char *status;
	int rc;

	memset(&res, 0, sizeof(res));
	if (reused != NULL)
		*reused = 0;
	if ((rc = check_ttl(ttl_seconds, err)) != CX_OK ||
	    (rc = presented_key(raw_token, oldkey, err)) != CX_OK ||
	    (rc = new_token(res.token, newkey, newhash, err)) != CX_OK)
		goto out;
	snprintf(ttl, sizeof(ttl), "%d", ttl_seconds);
	now_and_expiry(ttl_seconds, now, expires);
	{
		const char *argv[] = { oldkey, newkey, newhash, now, expires, ttl };
		reply = cx_redis_eval(r, err, rotate_lua, 2, 6, argv);
	}
	if (reply == NULL) {
		rc = fail_code(err);
		goto out;
	}
	status = status_reply(reply, res.user_id, res.family);
	if (status == NULL) {
		rc = cx_error_internal(err, "tokens: unexpected rotate reply");
	} else if (strcmp(status, "ok") == 0) {
		*out = res;
		rc = CX_OK;
	} else if (strcmp(status, "reused") == 0) {
		cx_logf(CX_LOG_WARN, "refresh token reuse: revoked family %s of user %s",
		    res.family, res.user_id);
		if (reused != NULL)
			*reused = 1;
		rc = cx_error_set(err, CX_EUNAUTH,
		    "Refresh token was already used; please log in again");
	} else {
		rc = invalid_token(err);
	}
out:
	if (reply != NULL)
		freeReplyObject(reply);
	OPENSSL_cleanse(&res, sizeof(res));
	return rc;
}

int
cx_refresh_peek(struct cx_redis *r, const char *raw_token, char user_id[32],
    char family[48], struct cx_error *err)
{
	char key[80], uid[32] = "", fam[48] = "";
	const char *argv[1] = { key };
	redisReply *reply = NULL;
	const char *status;
	int rc;

	if ((rc = presented_key(raw_token, key, err)) != CX_OK)
		return rc;
	reply = cx_redis_eval(r, err, peek_lua, 1, 1, argv);
	if (reply == NULL)
		return fail_code(err);
	status = status_reply(reply, uid, fam);
	if (status == NULL) {
		rc = cx_error_internal(err, "tokens: unexpected peek reply");
	} else if (strcmp(status, "ok") == 0) {
		memcpy(user_id, uid, sizeof(uid));
		memcpy(family, fam, sizeof(fam));
		rc = CX_OK;
	} else {
		rc = invalid_token(err);
	}
	freeReplyObject(reply);
	return rc;
}

int
cx_refresh_revoke_family(struct cx_redis *r, const char *family, struct cx_error *err)
{
	char fkey[80], skey[80];
	redisReply *reply;

	if (family == NULL || *family == '\0' || strlen(family) >= 48)
		return cx_error_internal(err, "tokens: bad family id");
	snprintf(fkey, sizeof(fkey), "refresh_family:%s", family);
	snprintf(skey, sizeof(skey), "session:%s", family);
	{
		const char *argv[] = { fkey, skey, family };
		reply = cx_redis_eval(r, err, revoke_family_lua, 2, 3, argv);
	}
	if (reply == NULL)
		return fail_code(err);
	freeReplyObject(reply);
	return CX_OK;
}

int
cx_refresh_revoke_user(struct cx_redis *r, const char *user_id, struct cx_error *err)
{
	char ukey[64];
	const char *argv[1] = { ukey };
	redisReply *reply;
	int rc;

	if ((rc = check_user_id(user_id, err)) != CX_OK)
		return rc;
	snprintf(ukey, sizeof(ukey), "user_sessions:%s", user_id);
	reply = cx_redis_eval(r, err, revoke_user_lua, 1, 1, argv);
	if (reply == NULL)
		return fail_code(err);
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		cx_logf(CX_LOG_INFO, "revoked %lld refresh token families of user %s",
		    reply->integer, user_id);
	freeReplyObject(reply);
	return CX_OK;
}

static int
check_jti(const char *jti, struct cx_error *err)
{
	if (jti == NULL || *jti == '\0' || strlen(jti) > JTI_MAX)
		return cx_error_internal(err, "tokens: jti missing or longer than %d chars", JTI_MAX);
	return CX_OK;
}

/* Store a revocation and publish it to the live views (cx_revoke) in one script, then
 * make one more round trip: Redis writes a command's replies and the messages it
 * published in the same pass, so once the PING answers, every subscriber has the
 * message in its socket and the next request anywhere sees the revocation. */
static const char store_publish_lua[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "redis.call('PUBLISH', ARGV[3], ARGV[4])\n"
    "return 1\n";

static int
store_and_publish(struct cx_redis *r, const char *key, const char *value, const char *ttl,
    const char *msg, struct cx_error *err)
{
	const char *argv[] = { key, value, ttl, CX_REVOKE_CHANNEL, msg };
	redisReply *reply = cx_redis_eval(r, err, store_publish_lua, 1, 5, argv);

	if (reply == NULL)
		return fail_code(err);
	freeReplyObject(reply);
	reply = cx_redis_cmd(r, err, "PING");
	if (reply == NULL)
		return fail_code(err);
	freeReplyObject(reply);
	return CX_OK;
}

int
cx_access_revoke(struct cx_redis *r, const char *jti, int64_t exp, struct cx_error *err)
{
	int64_t ttl = exp - (int64_t)time(NULL);
	char key[96], value[8], ttltext[24], msg[128];
	int rc;

	if ((rc = check_jti(jti, err)) != CX_OK)
		return rc;
	if (ttl < 1)
		ttl = 1;        /* already expired: a short entry costs nothing */
	if (ttl > 366LL * 86400)
		ttl = 366LL * 86400;
	snprintf(key, sizeof(key), "revoked_jti:%s", jti);
	snprintf(value, sizeof(value), "1");
	snprintf(ttltext, sizeof(ttltext), "%lld", (long long)ttl);
	snprintf(msg, sizeof(msg), "j %s %lld", jti, (long long)(time(NULL) + ttl));
	return store_and_publish(r, key, value, ttltext, msg, err);
}

int
cx_access_revoke_user(struct cx_redis *r, const char *user_id, int ttl_seconds,
    struct cx_error *err)
{
	char key[96], value[24], ttltext[24], msg[128];
	long long now;
	int rc;

	if ((rc = check_user_id(user_id, err)) != CX_OK || (rc = check_ttl(ttl_seconds, err)) != CX_OK)
		return rc;
	now = (long long)time(NULL);
	snprintf(key, sizeof(key), "user_revoked_before:%s", user_id);
	snprintf(value, sizeof(value), "%lld", now);
	snprintf(ttltext, sizeof(ttltext), "%d", ttl_seconds);
	snprintf(msg, sizeof(msg), "u %s %lld %lld", user_id, now, now + ttl_seconds);
	return store_and_publish(r, key, value, ttltext, msg, err);
}

int
cx_access_is_revoked(struct cx_redis *r, const char *jti, const char *user_id,
    int64_t iat, int *revoked, struct cx_error *err)
{
	redisReply *reply;
	const redisReply *before;
	int rc, dead;

	if ((rc = check_jti(jti, err)) != CX_OK || (rc = check_user_id(user_id, err)) != CX_OK)
		return rc;
	reply = cx_redis_cmd(r, err, "MGET revoked_jti:%s user_revoked_before:%s", jti, user_id);
	if (reply == NULL)
		return fail_code(err);
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
		rc = cx_error_internal(err, "tokens: unexpected MGET reply");
		goto out;
	}
	dead = reply->element[0]->type != REDIS_REPLY_NIL;
	before = reply->element[1];
	if (!dead && before->type == REDIS_REPLY_STRING) {
		char *end = NULL;
		long long t;

		errno = 0;
		t = strtoll(before->str, &end, 10);
		if (errno != 0 || end == before->str || *end != '\0') {
			rc = cx_error_internal(err, "tokens: bad user_revoked_before value");
			goto out;
		}
		dead = iat < t;
	}
	*revoked = dead;
	rc = CX_OK;
out:
	freeReplyObject(reply);
	return rc;
}
