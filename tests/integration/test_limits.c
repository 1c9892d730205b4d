/* Integration: rate limits (login per account, forgot-password per IP and per account),
 * body size and nesting limits, method and route errors, refresh-token reuse. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it.h"

TestSuite(ratelimit, .init = it_setup);
TestSuite(body, .init = it_setup);
TestSuite(routes, .init = it_setup);
TestSuite(reuse, .init = it_setup);

static int
env_int(const char *name, int dflt)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtol(s, &end, 10);
	cr_assert(*end == '\0' && v > 0 && v < 10000, "%s=%s is not a positive number", name, s);
	return (int)v;
}

static long
retry_after(const struct http_response *r)
{
	const char *s = http_response_header(r, "Retry-After");

	return s ? strtol(s, NULL, 10) : -1;
}

/* ---- rate limits --------------------------------------------------------------- */

Test(ratelimit, login_failures_lock_the_account)
{
	int limit = env_int("CX_TEST_LOGIN_ACCOUNT_LIMIT", 5);
	struct it_user u, other;
	struct http_response *r;

	it_register(&u, NULL);
	it_register(&other, NULL);
	for (int i = 0; i < limit; i++) {
		r = it_login(u.email, "Wr0ng!Password");
		it_assert_error(r, 401, "UNAUTHORIZED");
		http_response_free(r);
	}
	/* even the right password is refused now */
	r = it_login(u.email, u.password);
	it_assert_error(r, 429, "RATE_LIMITED");
	cr_expect(retry_after(r) <= 15 * 60, "Retry-After %ld is beyond the 15 minute window",
	    retry_after(r));
	http_response_free(r);
	/* the JSON form of login is limited too */
	{
		char *body = it_fmt("{\"email\":\"%s\",\"password\":\"%s\"}", u.email, u.password);

		r = it_post_json("/api/auth/login", NULL, body);
		it_assert_error(r, 429, "RATE_LIMITED");
		http_response_free(r);
		free(body);
	}
	/* another account from the same address is not affected */
	it_login_ok(other.email, other.password, NULL, NULL);
	/* nor are the sessions the locked account already has */
	cr_expect_eq(it_me_status(u.access), 200);
	it_user_free(&u);
	it_user_free(&other);
}

Test(ratelimit, successful_logins_do_not_count_as_failures)
{
	int limit = env_int("CX_TEST_LOGIN_ACCOUNT_LIMIT", 5);
	struct it_user u;
	struct http_response *r;

	it_register(&u, NULL);
	for (int i = 0; i < limit - 1; i++) {
		r = it_login(u.email, "Wr0ng!Password");
		it_assert_error(r, 401, "UNAUTHORIZED");
		http_response_free(r);
	}
	for (int i = 0; i < 3; i++)
		it_login_ok(u.email, u.password, NULL, NULL);
	it_user_free(&u);
}

/* Failures on an address nobody has are limited the same way, so a 429 does not tell
 * an attacker which addresses exist. */
Test(ratelimit, unknown_accounts_are_limited_alike)
{
	int limit = env_int("CX_TEST_LOGIN_ACCOUNT_LIMIT", 5);
	char email[80];
	struct http_response *r;

	it_random_email(email);
	for (int i = 0; i < limit; i++) {
		r = it_login(email, "Wr0ng!Password");
		it_assert_error(r, 401, "UNAUTHORIZED");
		http_response_free(r);
	}
	r = it_login(email, "Wr0ng!Password");
	it_assert_error(r, 429, "RATE_LIMITED");
	http_response_free(r);
}

Test(ratelimit, forgot_password_is_limited_per_address)
{
	int limit = env_int("CX_TEST_FORGOT_LIMIT", 5);
	char email[80];
	struct http_response *r;

	for (int i = 0; i < limit; i++) {
		it_random_email(email);
		r = it_forgot(email);
		it_assert_success(r, 200);
		http_response_free(r);
	}
	it_random_email(email);
	r = it_forgot(email);
	it_assert_error(r, 429, "RATE_LIMITED");
	cr_expect(retry_after(r) <= 3600, "Retry-After %ld beyond the hour", retry_after(r));
	http_response_free(r);
}

static int
wait_mail_count(const char *email, int want, int timeout_s)
{
	int n = 0;

	for (int i = 0; i <= timeout_s * 10; i++) {
		n = it_mail_count(email, "token=");
		if (n >= want)
			break;
		usleep(100 * 1000);
	}
	return n;
}

Test(ratelimit, forgot_password_is_limited_per_account)
{
	int limit = env_int("CX_TEST_FORGOT_LIMIT", 5);
	struct it_user u;
	struct http_response *r;
	redisContext *rc;
	long ip_keys;

	it_register(&u, NULL);
	for (int i = 0; i < limit; i++) {
		r = it_forgot(u.email);
		it_assert_success(r, 200);
		http_response_free(r);
	}
	cr_expect_eq(wait_mail_count(u.email, limit, 10), limit, "want one mail per request");
	/* forget the per-IP counter: what remains is the per-account one */
	rc = it_redis();
	ip_keys = it_redis_delete(rc, "ratelimit:*", "127.0.0.1");
	ip_keys += it_redis_delete(rc, "ratelimit:*", "::1");
	cr_expect_gt(ip_keys, 0, "no ratelimit:* key names the client address 127.0.0.1");
	cr_expect_gt(it_redis_count(rc, "ratelimit:*"), 0, "no per-account forgot counter");
	redisFree(rc);

	r = it_forgot(u.email);
	it_assert_error(r, 429, "RATE_LIMITED");
	http_response_free(r);
	sleep(1);
	cr_expect_eq(it_mail_count(u.email, "token="), limit,
	    "a refused request still sent a mail");

	/* another address from the same client is still served */
	{
		char email[80];

		it_random_email(email);
		r = it_forgot(email);
		it_assert_success(r, 200);
		http_response_free(r);
	}
	it_user_free(&u);
}

/* ---- body limits --------------------------------------------------------------- */

/* A register body padded to total bytes with an unknown member. */
static char *
padded_body(size_t total)
{
	static const char head[] = "{\"email\":\"pad@example.com\",\"password\":\"" IT_PASSWORD
	    "\",\"full_name\":\"Pad\",\"padding\":\"";
	char *b = malloc(total + 1);
	size_t pad;

	cr_assert_not_null(b);
	cr_assert_gt(total, sizeof(head) + 2);
	pad = total - (sizeof(head) - 1) - 2;
	memcpy(b, head, sizeof(head) - 1);
	memset(b + sizeof(head) - 1, 'a', pad);
	memcpy(b + total - 2, "\"}", 2);
	b[total] = '\0';
	return b;
}

Test(body, over_64_kib_is_payload_too_large)
{
	char *body = padded_body(70 * 1024);
	struct http_request req = {
		.method = "POST", .path = "/api/auth/register", .body = body,
		.content_type = "application/json",
	};
	struct http_response *r;

	r = http_perform(&req);
	it_assert_error(r, 413, "PAYLOAD_TOO_LARGE");
	http_response_free(r);

	/* the same without Content-Length */
	req.chunked = 1;
	r = http_perform(&req);
	it_assert_error(r, 413, "PAYLOAD_TOO_LARGE");
	http_response_free(r);

	/* and over HTTP/2 */
	req.chunked = 0;
	req.http_version = CURL_HTTP_VERSION_2TLS;
	r = http_perform(&req);
	it_assert_error(r, 413, "PAYLOAD_TOO_LARGE");
	http_response_free(r);
	free(body);
}

Test(body, under_64_kib_is_read_and_validated)
{
	char *body = padded_body(60 * 1024);
	struct http_response *r;

	r = it_post_json("/api/auth/register", NULL, body);
	it_assert_validation(r, "padding");
	http_response_free(r);
	free(body);
}

static char *
nested(size_t depth, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *b = malloc(depth * (lo + lc) + 1), *p = b;

	cr_assert_not_null(b);
	for (size_t i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	for (size_t i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return b;
}

Test(body, deep_nesting_is_a_bad_request)
{
	struct {
		const char *open, *close;
	} shapes[] = { { "[", "]" }, { "{\"a\":", "}" } };
	struct http_response *r;
	char *body;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		body = nested(1000, shapes[i].open, shapes[i].close);
		r = it_post_json("/api/auth/register", NULL, body);
		it_assert_error(r, 400, "BAD_REQUEST");
		http_response_free(r);
		free(body);
	}
	/* nesting inside a field of an otherwise valid request */
	{
		struct it_user u;
		char *deep = nested(1000, "{\"a\":", "}");
		char *put = it_fmt("{\"preferences\":%s}", deep);

		it_register(&u, NULL);
		r = it_send_json("PUT", "/api/auth/me", u.access, put);
		it_assert_error(r, 400, "BAD_REQUEST");
		http_response_free(r);
		free(put);
		free(deep);
		it_user_free(&u);
	}
}

/* ---- methods and routes -------------------------------------------------------- */

Test(routes, wrong_method_is_405)
{
	static const struct {
		const char *method, *path;
	} cases[] = {
		{ "GET", "/api/auth/login" }, { "GET", "/api/auth/register" },
		{ "DELETE", "/api/auth/me" }, { "PUT", "/api/auth/logout" },
		{ "GET", "/api/auth/refresh" }, { "PATCH", "/api/auth/change-password" },
	};
	struct http_request req = { 0 };
	struct http_response *r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req.method = cases[i].method;
		req.path = cases[i].path;
		r = http_perform(&req);
		cr_expect_eq(r->status, 405, "%s %s: %ld", cases[i].method, cases[i].path,
		    r->status);
		if (r->status == 405) {
			it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
			/* RFC 9110: a 405 names the methods the resource has */
			cr_expect_not_null(http_response_header(r, "Allow"),
			    "%s %s: no Allow header", cases[i].method, cases[i].path);
		}
		http_response_free(r);
	}
}

Test(routes, unknown_paths_are_json_404)
{
	static const char *const paths[] = {
		"/api/auth/nope", "/api/auth/login/extra", "/api/nothing-here",
		"/api/interview/nope", "/api/interview/sessions/x/y/z", "/api/interview/abc/stream",
		"/api/live-interview/x",
		"/api/resume/x", "/api/admin/users", "/api/",
	};
	struct http_response *r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = it_get(paths[i], NULL);
		cr_expect_eq(r->status, 404, "%s: %ld %.200s", paths[i], r->status,
		    r->body ? r->body : "");
		if (r->status == 404)
			it_assert_error(r, 404, "NOT_FOUND");
		http_response_free(r);
	}
	r = it_post_json("/api/resume/upload", NULL, "{}");
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
}

/* ---- reuse --------------------------------------------------------------------- */

Test(reuse, reused_refresh_token_revokes_the_family)
{
	struct it_user u;
	struct http_response *r;
	char *r1, *r2;

	it_register(&u, NULL);
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	r1 = strdup(http_json_str(r, "refresh_token"));
	http_response_free(r);

	/* the old one again: a thief or a replay */
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	/* and now the legitimate successor is dead too */
	r = it_post_json("/api/auth/refresh", r1, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);

	/* a login starts a fresh family that works */
	it_login_ok(u.email, u.password, NULL, &r2);
	r = it_post_json("/api/auth/refresh", r2, NULL);
	cr_expect_eq(r->status, 200, "%ld %s", r->status, r->body);
	http_response_free(r);
	free(r1);
	free(r2);
	it_user_free(&u);
}

Test(reuse, concurrent_sessions_are_separate_families)
{
	struct it_user u;
	struct http_response *r;
	char *other;

	it_register(&u, NULL);
	it_login_ok(u.email, u.password, NULL, &other);
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	cr_assert_eq(r->status, 200);
	http_response_free(r);
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);   /* reuse in family 1 */
	cr_expect_eq(r->status, 401);
	http_response_free(r);
	r = it_post_json("/api/auth/refresh", other, NULL);       /* family 2 unaffected */
	cr_expect_eq(r->status, 200, "reuse in one session revoked another: %ld", r->status);
	http_response_free(r);
	free(other);
	it_user_free(&u);
}
