/* Unit tests of cx_tokens against a real redis-server: refresh-token families, rotation
 * and reuse, revocation, the access-token denylist, and what Redis actually stores. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cx_crypto.h"
#include "cx_time.h"
#include "cx_tokens.h"
#include "redis_fixture.h"

#define TTL 3600

static struct redis_fixture fx;
static struct cx_redis *r;

static void
setup(void)
{
	struct cx_error err = { 0 };

	if (redis_fixture_start(&fx) != 0)
		cr_assert_fail("cannot start Redis for the test: %s", fx.why);
	cr_assert_eq(cx_redis_new(fx.url, &r, &err), CX_OK, "%s", err.message);
}

static void
teardown(void)
{
	cx_redis_free(r);
	r = NULL;
	redis_fixture_stop(&fx);
}

/* A fresh user id (24 hex), so tests can share an external CX_TEST_REDIS_URL server. */
static void
new_user(char uid[CX_OID_LEN])
{
	cx_oid_new(uid);
}

static struct cx_refresh_result
issue(const char *uid)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result res;

	memset(&res, 0, sizeof(res));
	cr_assert_eq(cx_refresh_issue(r, uid, "candidate", "192.0.2.7", TTL, &res, &err), CX_OK,
	    "issue: %s", err.message);
	return res;
}

/* 1 if the raw token is active (peek succeeds), 0 if refused as UNAUTHORIZED. */
static int
alive(const char *token)
{
	struct cx_error err = { 0 };
	char uid[32], fam[48];
	int rc = cx_refresh_peek(r, token, uid, fam, &err);

	cr_assert(rc == CX_OK || rc == CX_EUNAUTH, "peek: unexpected %d %s", rc, err.message);
	return rc == CX_OK;
}

static long long
key_ttl(const char *prefix, const char *id)
{
	struct cx_error err = { 0 };
	char key[160];
	redisReply *reply;
	long long ttl;

	snprintf(key, sizeof(key), "%s%s", prefix, id);
	reply = cx_redis_cmd(r, &err, "TTL %s", key);
	cr_assert_not_null(reply, "%s", err.message);
	ttl = reply->integer;
	freeReplyObject(reply);
	return ttl;
}

static int
exists(const char *prefix, const char *id)
{
	return key_ttl(prefix, id) != -2;
}

Test(refresh, issue_creates_token_session_and_indexes, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result a;
	char uid[CX_OID_LEN], hash[65], peek_uid[32], peek_fam[48];
	redisReply *reply;

	new_user(uid);
	a = issue(uid);
	cr_expect_eq(strlen(a.token), 43, "raw token is 43 base64url chars");
	cr_expect_str_eq(a.user_id, uid);
	cr_expect_eq(strlen(a.family), 24);

	cr_assert_eq(cx_refresh_peek(r, a.token, peek_uid, peek_fam, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(peek_uid, uid);
	cr_expect_str_eq(peek_fam, a.family);

	/* session:{family} carries spec 2.2's fields */
	reply = cx_redis_cmd(r, &err, "HMGET session:%s user_id role created_at expires_at ip_address",
	    a.family);
	cr_assert_not_null(reply, "%s", err.message);
	cr_assert_eq(reply->elements, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(reply->element[i]->type, REDIS_REPLY_STRING, "session field %zu missing", i);
	cr_expect_str_eq(reply->element[0]->str, uid);
	cr_expect_str_eq(reply->element[1]->str, "candidate");
	cr_expect_str_eq(reply->element[4]->str, "192.0.2.7");
	{
		int64_t created, expires;

		cr_assert_eq(cx_time_parse_ms(reply->element[2]->str, &created), 0);
		cr_assert_eq(cx_time_parse_ms(reply->element[3]->str, &expires), 0);
		cr_expect_eq(expires - created, (int64_t)TTL * 1000);
	}
	freeReplyObject(reply);

	/* every key has a TTL within the lifetime */
	cx_sha256_hex(a.token, strlen(a.token), hash);
	cr_expect(key_ttl("refresh:", hash) > 0 && key_ttl("refresh:", hash) <= TTL);
	cr_expect(key_ttl("refresh_family:", a.family) > 0);
	cr_expect(key_ttl("session:", a.family) > 0);
	cr_expect(key_ttl("user_sessions:", uid) > 0);

	reply = cx_redis_cmd(r, &err, "SISMEMBER user_sessions:%s %s", uid, a.family);
	cr_assert_not_null(reply);
	cr_expect_eq(reply->integer, 1);
	freeReplyObject(reply);
}

Test(refresh, rotate_then_reuse_revokes_the_family, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result first, second, third;
	char uid[CX_OID_LEN], hash[65];
	int reused = -1;

	new_user(uid);
	first = issue(uid);

	cr_assert_eq(cx_refresh_rotate(r, first.token, TTL, &second, &reused, &err), CX_OK,
	    "%s", err.message);
	cr_expect_eq(reused, 0);
	cr_expect_str_neq(second.token, first.token);
	cr_expect_str_eq(second.family, first.family, "rotation stays in the family");
	cr_expect_str_eq(second.user_id, uid);
	cr_expect(alive(second.token));
	cr_expect(!alive(first.token), "a rotated token is no longer usable");

	/* the new token works: rotate it again */
	cr_assert_eq(cx_refresh_rotate(r, second.token, TTL, &third, &reused, &err), CX_OK,
	    "%s", err.message);
	cr_expect(alive(third.token));

	/* presenting the first (rotated) token again is reuse: the whole family dies */
	memset(&second, 0x55, sizeof(second));
	cr_expect_eq(cx_refresh_rotate(r, first.token, TTL, &second, &reused, &err), CX_EUNAUTH);
	cr_expect_eq(reused, 1);
	cr_expect_eq(cx_code_status(err.code), 401);
	cr_expect_eq(second.token[0], 0x55, "out must not be written on failure");
	cr_expect(!alive(third.token), "the newest token of a reused family must be dead");
	cr_expect(!exists("session:", first.family));
	cr_expect(!exists("refresh_family:", first.family));
	cx_sha256_hex(third.token, strlen(third.token), hash);
	cr_expect(!exists("refresh:", hash), "the family's tokens must be deleted");
	cx_sha256_hex(first.token, strlen(first.token), hash);
	cr_expect(!exists("refresh:", hash));

	/* and the newest token cannot be rotated either */
	cx_error_clear(&err);
	cr_expect_eq(cx_refresh_rotate(r, third.token, TTL, &second, &reused, &err), CX_EUNAUTH);
	cr_expect_eq(reused, 0);
}

Test(refresh, unknown_and_malformed_tokens_are_unauthorized, .init = setup, .fini = teardown)
{
	static const char *const tokens[] = {
		"", "not-a-token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};

	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		struct cx_error err = { 0 };
		struct cx_refresh_result out;
		char uid[32], fam[48];
		int reused = -1;

		cr_expect_eq(cx_refresh_rotate(r, tokens[i], TTL, &out, &reused, &err), CX_EUNAUTH,
		    "token %zu", i);
		cr_expect_eq(reused, 0);
		cr_expect_str_eq(err.message, "Invalid or expired refresh token");
		cx_error_clear(&err);
		cr_expect_eq(cx_refresh_peek(r, tokens[i], uid, fam, &err), CX_EUNAUTH, "token %zu", i);
	}
	{
		struct cx_error err = { 0 };
		struct cx_refresh_result out;

		cr_expect_eq(cx_refresh_rotate(r, NULL, TTL, &out, NULL, &err), CX_EUNAUTH);
	}
}

Test(refresh, expired_token_is_unauthorized, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result a, out;
	char uid[CX_OID_LEN], hash[65];
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 50 * 1000000L };
	redisReply *reply;
	int reused;

	new_user(uid);
	a = issue(uid);
	cx_sha256_hex(a.token, strlen(a.token), hash);
	reply = cx_redis_cmd(r, &err, "PEXPIRE refresh:%s 1", hash);
	cr_assert_not_null(reply);
	freeReplyObject(reply);
	nanosleep(&pause, NULL);        /* 50x the remaining lifetime */
	cr_expect_eq(cx_refresh_rotate(r, a.token, TTL, &out, &reused, &err), CX_EUNAUTH);
	cr_expect_eq(reused, 0);
}

Test(refresh, token_of_a_vanished_family_is_refused, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result a, out;
	char uid[CX_OID_LEN];
	redisReply *reply;
	int reused;

	new_user(uid);
	a = issue(uid);
	/* the family set alone disappears (e.g. revoked while the token key lingered) */
	reply = cx_redis_cmd(r, &err, "DEL refresh_family:%s", a.family);
	cr_assert_not_null(reply);
	freeReplyObject(reply);
	cr_expect(!alive(a.token));
	cr_expect_eq(cx_refresh_rotate(r, a.token, TTL, &out, &reused, &err), CX_EUNAUTH);
}

Test(refresh, revoke_family_logs_out_one_login, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result a, b;
	char uid[CX_OID_LEN];
	redisReply *reply;

	new_user(uid);
	a = issue(uid);
	b = issue(uid);
	cr_assert_eq(cx_refresh_revoke_family(r, a.family, &err), CX_OK, "%s", err.message);
	cr_expect(!alive(a.token));
	cr_expect(alive(b.token), "another login of the same user survives");
	cr_expect(!exists("session:", a.family));
	reply = cx_redis_cmd(r, &err, "SISMEMBER user_sessions:%s %s", uid, a.family);
	cr_assert_not_null(reply);
	cr_expect_eq(reply->integer, 0);
	freeReplyObject(reply);

	/* revoking again is harmless */
	cr_expect_eq(cx_refresh_revoke_family(r, a.family, &err), CX_OK);
}

Test(refresh, revoke_user_kills_every_family_of_that_user_only, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result a1, a2, a2r, b1;
	char ua[CX_OID_LEN], ub[CX_OID_LEN];
	int reused;

	new_user(ua);
	new_user(ub);
	a1 = issue(ua);
	a2 = issue(ua);
	cr_assert_eq(cx_refresh_rotate(r, a2.token, TTL, &a2r, &reused, &err), CX_OK);
	b1 = issue(ub);

	cr_assert_eq(cx_refresh_revoke_user(r, ua, &err), CX_OK, "%s", err.message);
	cr_expect(!alive(a1.token));
	cr_expect(!alive(a2r.token));
	cr_expect(!exists("session:", a1.family));
	cr_expect(!exists("session:", a2.family));
	cr_expect(!exists("user_sessions:", ua));
	cr_expect(alive(b1.token), "another user's session must survive");
	cr_expect(exists("session:", b1.family));

	/* a user can log in again afterwards */
	a1 = issue(ua);
	cr_expect(alive(a1.token));
}

Test(refresh, bad_arguments_are_internal_errors, .init = setup, .fini = teardown)
{
	struct cx_refresh_result out;
	static const char long_uid[] = "0123456789abcdef0123456789abcdef";
	static const struct { const char *uid, *role; int ttl; } cases[] = {
		{ NULL, "candidate", TTL }, { "", "candidate", TTL }, { long_uid, "candidate", TTL },
		{ "u1", NULL, TTL }, { "u1", "candidate", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };

		cr_expect_eq(cx_refresh_issue(r, cases[i].uid, cases[i].role, NULL, cases[i].ttl,
		    &out, &err), CX_EINTERNAL, "case %zu", i);
	}
}

/* ---- access tokens --------------------------------------------------------------- */

static int
is_revoked(const char *jti, const char *uid, int64_t iat)
{
	struct cx_error err = { 0 };
	int revoked = -1;

	cr_assert_eq(cx_access_is_revoked(r, jti, uid, iat, &revoked, &err), CX_OK, "%s", err.message);
	cr_assert(revoked == 0 || revoked == 1);
	return revoked;
}

Test(access, denylisted_jti_is_revoked_until_exp, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	char uid[CX_OID_LEN], jti[CX_OID_LEN], other[CX_OID_LEN];
	int64_t now = (int64_t)time(NULL);
	long long ttl;

	new_user(uid);
	cx_oid_new(jti);
	cx_oid_new(other);
	cr_expect_eq(is_revoked(jti, uid, now), 0);
	cr_assert_eq(cx_access_revoke(r, jti, now + 600, &err), CX_OK, "%s", err.message);
	cr_expect_eq(is_revoked(jti, uid, now), 1);
	cr_expect_eq(is_revoked(other, uid, now), 0, "only that token is denylisted");
	ttl = key_ttl("revoked_jti:", jti);
	cr_expect(ttl >= 590 && ttl <= 600, "ttl %lld should be the token's remaining life", ttl);

	/* an already expired token still gets a short, positive TTL */
	cr_assert_eq(cx_access_revoke(r, other, now - 100, &err), CX_OK);
	ttl = key_ttl("revoked_jti:", other);
	cr_expect(ttl >= 0 && ttl <= 1, "ttl %lld", ttl);
}

Test(access, user_revocation_kills_tokens_issued_before, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	char uid[CX_OID_LEN], other_uid[CX_OID_LEN], jti[CX_OID_LEN];
	int64_t now;
	long long ttl;

	new_user(uid);
	new_user(other_uid);
	cx_oid_new(jti);
	now = (int64_t)time(NULL);
	cr_expect_eq(is_revoked(jti, uid, now - 10), 0);
	cr_assert_eq(cx_access_revoke_user(r, uid, 1800, &err), CX_OK, "%s", err.message);

	cr_expect_eq(is_revoked(jti, uid, now - 10), 1, "issued before the revocation");
	cr_expect_eq(is_revoked(jti, uid, now + 2), 0, "issued after the revocation");
	cr_expect_eq(is_revoked(jti, other_uid, now - 10), 0, "another user is untouched");
	ttl = key_ttl("user_revoked_before:", uid);
	cr_expect(ttl > 1790 && ttl <= 1800, "ttl %lld", ttl);

	/* documented 1 s window: a token issued in the revocation's second stays valid */
	{
		redisReply *reply = cx_redis_cmd(r, &err, "GET user_revoked_before:%s", uid);
		int64_t at;

		cr_assert_not_null(reply);
		at = strtoll(reply->str, NULL, 10);
		freeReplyObject(reply);
		cr_expect(at >= now && at <= now + 5);
		cr_expect_eq(is_revoked(jti, uid, at), 0);
		cr_expect_eq(is_revoked(jti, uid, at - 1), 1);
	}
}

Test(access, redis_down_is_service_unavailable, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result out;
	int revoked = -1, reused = -1;

	if (fx.external)
		cr_skip_test("CX_TEST_REDIS_URL is set: cannot stop a shared server");
	cr_assert_eq(redis_fixture_kill(&fx), 0);
	cr_expect_eq(cx_access_is_revoked(r, "j", "u", 0, &revoked, &err), CX_EUNAVAIL);
	cr_expect_eq(revoked, -1, "out must not be written on failure");
	cr_expect_eq(err.retry_after, 5);
	cx_error_clear(&err);
	cr_expect_eq(cx_refresh_issue(r, "u", "candidate", NULL, TTL, &out, &err), CX_EUNAVAIL);
	cx_error_clear(&err);
	cr_expect_eq(cx_refresh_rotate(r, "tok", TTL, &out, &reused, &err), CX_EUNAVAIL);
	cr_expect_eq(reused, 0);
	cx_error_clear(&err);
	cr_expect_eq(cx_refresh_revoke_user(r, "u", &err), CX_EUNAVAIL);
}

/* ---- what is stored ---------------------------------------------------------------- */

static void
expect_absent(const char *where, const char *text, size_t len, const char *const *raw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t tl = strlen(raw[i]);

		for (size_t off = 0; off + tl <= len; off++)
			cr_assert(memcmp(text + off, raw[i], tl) != 0, "raw token found in %s", where);
	}
}

static void
expect_reply_clean(const char *where, const redisReply *reply, const char *const *raw, size_t n)
{
	if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS)
		expect_absent(where, reply->str, (size_t)reply->len, raw, n);
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
		expect_reply_clean(where, reply->element[i], raw, n);
}

Test(refresh, raw_tokens_never_reach_redis, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_refresh_result a, a2, b;
	char uid[CX_OID_LEN];
	const char *raw[3];
	redisReply *keys;
	size_t checked = 0;
	int reused;

	new_user(uid);
	a = issue(uid);
	b = issue(uid);
	cr_assert_eq(cx_refresh_rotate(r, a.token, TTL, &a2, &reused, &err), CX_OK);
	raw[0] = a.token;
	raw[1] = a2.token;
	raw[2] = b.token;

	keys = cx_redis_cmd(r, &err, "KEYS *");
	cr_assert_not_null(keys, "%s", err.message);
	cr_assert_eq(keys->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < keys->elements; i++) {
		const char *key = keys->element[i]->str;
		redisReply *type, *value;

		expect_absent("a key name", key, (size_t)keys->element[i]->len, raw, 3);
		type = cx_redis_cmd(r, &err, "TYPE %s", key);
		cr_assert_not_null(type);
		if (strcmp(type->str, "hash") == 0)
			value = cx_redis_cmd(r, &err, "HGETALL %s", key);
		else if (strcmp(type->str, "set") == 0)
			value = cx_redis_cmd(r, &err, "SMEMBERS %s", key);
		else if (strcmp(type->str, "string") == 0)
			value = cx_redis_cmd(r, &err, "GET %s", key);
		else
			value = NULL;
		freeReplyObject(type);
		if (value != NULL) {
			expect_reply_clean(key, value, raw, 3);
			freeReplyObject(value);
			checked++;
		}
	}
	freeReplyObject(keys);
	/* 3 refresh tokens + family sets + sessions + user set: the scan saw real data */
	cr_expect_geq(checked, 8, "only %zu keys checked", checked);
}
