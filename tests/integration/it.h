/* it: shared helpers of the integration tests (users, envelopes, Redis, outbox, JWT
 * payloads). Functions named it_assert_* fail the running Criterion test. */
#ifndef IT_H
#define IT_H

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <stddef.h>

#include "http_client.h"

/* A password that satisfies the policy (8+ chars, upper, lower, digit, symbol). */
#define IT_PASSWORD "Str0ng!Passw0rd"
#define IT_PASSWORD2 "N3w&Better#Pass"
#define IT_ISSUER "candidatex-api"

/* A registered user. Tokens are the caller's (it_user_free). */
struct it_user {
	char email[80];
	char password[80];
	char id[32];
	char full_name[64];
	char *access;
	char *refresh;
};

/* Criterion .init of every suite: clears rate-limit counters so tests are independent. */
void it_setup(void);

/* Fresh address "t<16 hex>@example.com". */
void it_random_email(char out[80]);
/* n random lower-case hex characters (n+1 bytes in out). */
void it_random_hex(char *out, size_t n);

/* malloc'd formatted string (the caller frees); fails the test when out of memory. */
char *it_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Register a fresh user (role NULL: none sent) and assert 201; fills *u. */
void it_register(struct it_user *u, const char *role);
void it_user_free(struct it_user *u);

/* Requests. JSON bodies are sent as application/json; bearer may be NULL. */
struct http_response *it_get(const char *path, const char *bearer);
struct http_response *it_send_json(const char *method, const char *path, const char *bearer,
    const char *json);
struct http_response *it_post_json(const char *path, const char *bearer, const char *json);
struct http_response *it_post_form(const char *path, const char *bearer, const char *form);
/* OAuth2 form login (username, password); the values are URL-encoded here. */
struct http_response *it_login(const char *email, const char *password);
/* POST /api/auth/forgot-password for email. */
struct http_response *it_forgot(const char *email);
/* Log in and assert 200; *access and *refresh are malloc'd (either may be NULL). */
void it_login_ok(const char *email, const char *password, char **access, char **refresh);
/* GET /api/auth/me and return its status. */
long it_me_status(const char *access);

/* Every API answer: a response arrived, Content-Type application/json, X-Request-Id set. */
void it_assert_api_response(const struct http_response *r);
/* Success envelope with this status: success true, data present, message string,
 * RFC 3339 timestamp. */
void it_assert_success(const struct http_response *r, long status);
/* Error envelope with this status and error.code. */
void it_assert_error(const struct http_response *r, long status, const char *code);
/* 422 VALIDATION_ERROR whose details.field is field (reason non-empty). */
void it_assert_validation(const struct http_response *r, const char *field);
/* Plain OAuth2 token body (not enveloped): access_token, token_type bearer,
 * expires_in 1800, refresh_token. */
void it_assert_token_body(json_object *obj);
/* A parseable RFC 3339 UTC timestamp. */
void it_assert_timestamp(const char *text, const char *what);
/* No key anywhere in obj mentions a password or a hash. */
void it_assert_no_secrets(json_object *obj);

/* Case-insensitive substring test. */
int it_contains_ci(const char *haystack, const char *needle);

/* The decoded payload of a JWT (caller puts), or NULL. */
json_object *it_jwt_payload(const char *token);

/* Redis of the stack ($CX_TEST_REDIS_URL). it_redis fails the test when unreachable. */
redisContext *it_redis(void);
/* Delete every key matching pattern whose name contains substr (NULL: all). Returns
 * how many were deleted. */
long it_redis_delete(redisContext *rc, const char *pattern, const char *substr);
/* Number of keys matching pattern. */
long it_redis_count(redisContext *rc, const char *pattern);
/* TTL in seconds of key (-2 missing, -1 no TTL). */
long long it_redis_ttl(redisContext *rc, const char *key);

/* Outbox ($CX_TEST_DATA_DIR/outbox): the number of messages addressed to email that
 * contain needle (NULL: all), and the reset token of the newest message to email with a
 * "token=" link, waiting up to timeout_s seconds for it (malloc'd, NULL when none). */
int it_mail_count(const char *email, const char *needle);
char *it_mail_wait_token(const char *email, int timeout_s);

/* Run the built cxctl with the stack's settings (CX_ADMIN_PASSWORD unset) plus `extra`
 * ("NAME=value", NULL-ended, may be NULL) and the arguments args (NULL-ended, at most 6);
 * returns its exit status and its combined output in *out (caller frees). */
int it_run_cxctl(const char *const *extra, char *const *args, char **out);

#endif
