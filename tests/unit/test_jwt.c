/* Unit tests of cx_jwt: key files, issue/verify round trip, and the attacks an RS256
 * verifier built on libjwt 1.x must refuse. Attack tokens are signed here with OpenSSL
 * so each one is wrong in exactly one way (a control token built the same way passes). */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "cx_crypto.h"
#include "cx_json.h"
#include "cx_jwt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ISSUER "candidatex-api"
#define DIR_ENV "CX_TEST_JWT_DIR"
#define SUB "65a1b2c3d4e5f60718293a4b"
#define EMAIL "ada@example.com"
#define SID "8f2d6c1e-family"

static const char *const key_files[] = { "priv.pem", "pub.pem", "other-priv.pem",
	"other-pub.pem" };

/* Key pairs are made once for the whole run (RSA generation is slow under ASan): the
 * runner makes them before any test and passes the directory to the test processes in
 * the environment. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char tmpl[] = "/tmp/cx-test-jwt-XXXXXX", a[512], b[512];
	struct cx_error err = { 0 };

	(void)set;
	if (mkdtemp(tmpl) == NULL)
		return;
	snprintf(a, sizeof(a), "%s/priv.pem", tmpl);
	snprintf(b, sizeof(b), "%s/pub.pem", tmpl);
	if (cx_jwt_generate_keys(a, b, 0, &err) != CX_OK)
		return;
	snprintf(a, sizeof(a), "%s/other-priv.pem", tmpl);
	snprintf(b, sizeof(b), "%s/other-pub.pem", tmpl);
	if (cx_jwt_generate_keys(a, b, 0, &err) != CX_OK)
		return;
	setenv(DIR_ENV, tmpl, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	const char *dir = getenv(DIR_ENV);
	char path[512];

	(void)stats;
	if (dir == NULL)
		return;
	for (size_t i = 0; i < N(key_files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, key_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static struct cx_jwt_keys *keys;
static EVP_PKEY *priv_key, *other_priv_key;
static char *pub_pem;
static size_t pub_pem_len;
static char priv_path[512], pub_path[512], other_priv_path[512], other_pub_path[512];

static void
key_path(char *out, const char *name)
{
	cr_assert_not_null(getenv(DIR_ENV), "key generation in PRE_ALL failed");
	snprintf(out, 512, "%s/%s", getenv(DIR_ENV), name);
}

static EVP_PKEY *
read_private(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	cr_assert_not_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	cr_assert_not_null(k);
	return k;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	cr_assert_not_null(fp);
	cr_assert_not_null(buf);
	n = fread(buf, 1, 65535, fp);
	fclose(fp);
	if (len != NULL)
		*len = n;
	return buf;
}

static void
setup(void)
{
	struct cx_error err = { 0 };

	key_path(priv_path, "priv.pem");
	key_path(pub_path, "pub.pem");
	key_path(other_priv_path, "other-priv.pem");
	key_path(other_pub_path, "other-pub.pem");
	cr_assert_eq(cx_jwt_keys_load(priv_path, pub_path, &keys, &err), CX_OK, "%s",
	    err.message);
	priv_key = read_private(priv_path);
	other_priv_key = read_private(other_priv_path);
	pub_pem = read_file(pub_path, &pub_pem_len);
}

static void
teardown(void)
{
	cx_jwt_keys_free(keys);
	EVP_PKEY_free(priv_key);
	EVP_PKEY_free(other_priv_key);
	free(pub_pem);
}

TestSuite(jwt, .init = setup, .fini = teardown);

/* --- hand-made tokens -------------------------------------------------------- */

enum signer { RS256, RS512, RS256_OTHER_KEY, HS256_PUBKEY, NO_SIGNATURE };

/* "b64(header).b64(payload).b64(signature)"; caller frees. */
static char *
make_token(const char *header, const char *payload, enum signer how)
{
	char *h = cx_base64url_encode(header, strlen(header));
	char *p = cx_base64url_encode(payload, strlen(payload));
	char *input, *sig_b64 = NULL, *token;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);

	cr_assert(asprintf(&input, "%s.%s", h, p) > 0);
	if (how == HS256_PUBKEY) {
		unsigned int n = 0;
		cr_assert_not_null(HMAC(EVP_sha256(), pub_pem, (int)pub_pem_len,
		    (const unsigned char *)input, strlen(input), sig, &n));
		siglen = n;
	} else if (how != NO_SIGNATURE) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY *k = how == RS256_OTHER_KEY ? other_priv_key : priv_key;
		const EVP_MD *md = how == RS512 ? EVP_sha512() : EVP_sha256();

		cr_assert_eq(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
		cr_assert_eq(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input,
		    strlen(input)), 1);
		EVP_MD_CTX_free(ctx);
	}
	sig_b64 = how == NO_SIGNATURE ? strdup("") : cx_base64url_encode(sig, siglen);
	cr_assert(asprintf(&token, "%s.%s", input, sig_b64) > 0);
	free(h);
	free(p);
	free(input);
	free(sig_b64);
	return token;
}

/* A payload like ours, then `drop` removed and `key` set to `val` (taken). */
static char *
make_payload(const char *drop, const char *key, json_object *val)
{
	json_object *o = json_object_new_object();
	int64_t now = (int64_t)time(NULL);
	char *s;

	json_object_object_add(o, "sub", json_object_new_string(SUB));
	json_object_object_add(o, "email", json_object_new_string(EMAIL));
	json_object_object_add(o, "role", json_object_new_string("candidate"));
	json_object_object_add(o, "sid", json_object_new_string(SID));
	json_object_object_add(o, "iat", json_object_new_int64(now));
	json_object_object_add(o, "exp", json_object_new_int64(now + 900));
	json_object_object_add(o, "iss", json_object_new_string(ISSUER));
	json_object_object_add(o, "jti", json_object_new_string("c2lnbmVkLWJ5LXRlc3Q"));
	json_object_object_add(o, "typ", json_object_new_string("access"));
	if (drop != NULL)
		json_object_object_del(o, drop);
	if (key != NULL)
		json_object_object_add(o, key, val);
	s = strdup(cx_json_text(o, NULL));
	json_object_put(o);
	return s;
}

static char *
make_payload_times(int64_t iat, int64_t exp)
{
	char *base = make_payload(NULL, "iat", json_object_new_int64(iat));
	json_object *p = NULL;
	char *s;

	cr_assert_eq(cx_json_parse(base, strlen(base), &p, NULL), CX_OK);
	json_object_object_add(p, "exp", json_object_new_int64(exp));
	s = strdup(cx_json_text(p, NULL));
	json_object_put(p);
	free(base);
	return s;
}

#define GOOD_HEADER "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"

/* Verify must fail with UNAUTHORIZED and `message`, and leave *out untouched. */
static void
expect_refused(const char *token, const char *message, const char *what)
{
	struct cx_error err = { 0 };
	struct cx_claims out;

	memset(&out, 0x5a, sizeof(out));
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, token, &out, &err), CX_EUNAUTH,
	    "%s: accepted", what);
	cr_expect_str_eq(err.message, message, "%s", what);
	cr_expect_eq(((unsigned char *)&out)[0], 0x5a, "%s: out written on failure", what);
}

/* --- round trip -------------------------------------------------------------- */

Test(jwt, issue_verify_round_trip)
{
	struct cx_claims signed_c, got;
	struct cx_error err = { 0 };
	char *token = NULL, *header;
	size_t hlen;
	int64_t now = (int64_t)time(NULL);

	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "recruiter", SID, 1800, &token,
	    &signed_c, &err), CX_OK, "%s", err.message);
	cr_assert_eq(cx_jwt_verify(keys, ISSUER, token, &got, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(got.sub, SUB);
	cr_expect_str_eq(got.email, EMAIL);
	cr_expect_str_eq(got.role, "recruiter");
	cr_expect_str_eq(got.sid, SID);
	cr_expect_str_eq(got.jti, signed_c.jti);
	cr_expect_eq(strlen(got.jti), 22, "16 random bytes in base64url");
	cr_expect_eq(got.iat, signed_c.iat);
	cr_expect(got.iat >= now - 5 && got.iat <= now + 5);
	cr_expect_eq(got.exp, got.iat + 1800);

	/* The header is exactly what we promise clients. */
	header = (char *)cx_base64url_decode(token, strcspn(token, "."), &hlen);
	cr_assert_not_null(header);
	cr_assert_eq(hlen, strlen(GOOD_HEADER), "%.*s", (int)hlen, header);
	cr_expect_eq(memcmp(header, GOOD_HEADER, hlen), 0, "%.*s", (int)hlen, header);
	free(header);

	/* Claims not carried by struct cx_claims are in the payload too. */
	{
		const char *p64 = strchr(token, '.') + 1;
		char *payload = (char *)cx_base64url_decode(p64, strcspn(p64, "."), &hlen);
		json_object *obj = NULL;

		cr_assert_not_null(payload);
		cr_assert_eq(cx_json_parse(payload, hlen, &obj, NULL), CX_OK);
		cr_expect_str_eq(cx_json_str(obj, "iss"), ISSUER);
		cr_expect_str_eq(cx_json_str(obj, "typ"), "access");
		cr_expect_str_eq(cx_json_str(obj, "jti"), got.jti);
		json_object_put(obj);
		free(payload);
	}
	free(token);
}

Test(jwt, each_token_has_its_own_jti)
{
	struct cx_claims a, b;
	char *t1 = NULL, *t2 = NULL;

	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "admin", SID, 60, &t1, &a, NULL),
	    CX_OK);
	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "admin", SID, 60, &t2, &b, NULL),
	    CX_OK);
	cr_expect_str_neq(a.jti, b.jti);
	cr_expect_str_neq(t1, t2);
	free(t1);
	free(t2);
}

/* The hand-made tokens below are only meaningful if a correct one passes. */
Test(jwt, control_token_made_by_the_test_passes)
{
	char *payload = make_payload(NULL, NULL, NULL);
	char *token = make_token(GOOD_HEADER, payload, RS256);
	struct cx_claims got;
	struct cx_error err = { 0 };

	cr_assert_eq(cx_jwt_verify(keys, ISSUER, token, &got, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(got.sub, SUB);
	free(payload);
	free(token);

	payload = make_payload(NULL, NULL, NULL);
	token = make_token("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"2025-01\"}", payload,
	    RS256);
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, token, NULL, &err), CX_OK, "kid is allowed");
	free(token);
	token = make_token("{\"alg\":\"RS256\"}", payload, RS256);
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, token, NULL, &err), CX_OK, "typ optional");
	free(token);
	free(payload);
}

Test(jwt, verify_only_keys)
{
	struct cx_jwt_keys *pub_only = NULL;
	struct cx_error err = { 0 };
	char *token = NULL;

	cr_assert_eq(cx_jwt_keys_load(NULL, pub_path, &pub_only, &err), CX_OK,
	    "%s", err.message);
	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "candidate", SID, 60, &token, NULL,
	    &err), CX_OK);
	cr_expect_eq(cx_jwt_verify(pub_only, ISSUER, token, NULL, &err), CX_OK, "%s",
	    err.message);
	free(token);
	token = NULL;
	cr_expect_eq(cx_jwt_issue(pub_only, ISSUER, SUB, EMAIL, "candidate", SID, 60, &token,
	    NULL, &err), CX_EINTERNAL);
	cr_expect_null(token);
	cx_jwt_keys_free(pub_only);
}

Test(jwt, issue_refuses_bad_claims)
{
	static const struct {
		const char *iss, *sub, *email, *role, *sid;
		int ttl;
	} bad[] = {
		{ "", SUB, EMAIL, "candidate", SID, 60 },
		{ ISSUER, "", EMAIL, "candidate", SID, 60 },
		{ ISSUER, SUB "0123456789", EMAIL, "candidate", SID, 60 },   /* sub[32] */
		{ ISSUER, SUB, EMAIL, "root", SID, 60 },
		{ ISSUER, SUB, EMAIL, "candidate", "", 60 },
		{ ISSUER, SUB, EMAIL, "candidate", SID, 0 },
		{ ISSUER, SUB, EMAIL, "candidate", SID, -5 },
		{ ISSUER, SUB, NULL, "candidate", SID, 60 },
	};

	for (size_t i = 0; i < N(bad); i++) {
		struct cx_error err = { 0 };
		char *token = NULL;

		cr_expect_eq(cx_jwt_issue(keys, bad[i].iss, bad[i].sub, bad[i].email, bad[i].role,
		    bad[i].sid, bad[i].ttl, &token, NULL, &err), CX_EINTERNAL, "case %zu", i);
		cr_expect_null(token, "case %zu", i);
	}
}

/* --- attacks ----------------------------------------------------------------- */

Test(jwt, alg_none_refused)
{
	char *payload = make_payload(NULL, NULL, NULL);
	char *token = make_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, NO_SIGNATURE);
	char *token2 = make_token("{\"alg\":\"none\"}", payload, NO_SIGNATURE);

	expect_refused(token, "Invalid token", "alg none");
	expect_refused(token2, "Invalid token", "alg none, no typ");
	free(token);
	free(token2);
	free(payload);
}

Test(jwt, hs256_keyed_with_public_key_refused)
{
	char *payload = make_payload(NULL, NULL, NULL);
	char *token = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, HS256_PUBKEY);
	jwt_t *raw = NULL;

	/* The attack is real: libjwt 1.x's jwt_decode() given our public key PEM takes
	 * HS256 from the token and checks this HMAC with the PEM as secret (one reason
	 * cx_jwt does not verify through libjwt). This proves the test token is right. */
	cr_assert_eq(jwt_decode(&raw, token, (const unsigned char *)pub_pem,
	    (int)pub_pem_len), 0, "crafted HS256 token is not what libjwt would accept");
	cr_assert_eq(jwt_get_alg(raw), JWT_ALG_HS256);
	jwt_free(raw);
	expect_refused(token, "Invalid token", "HS256 with public key");
	free(token);
	free(payload);
}

Test(jwt, other_algorithms_refused)
{
	static const char *const headers[] = {
		"{\"alg\":\"RS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"RS384\",\"typ\":\"JWT\"}",
		"{\"alg\":\"rs256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"PS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"ES256\",\"typ\":\"JWT\"}",
		"{\"alg\":[\"RS256\"],\"typ\":\"JWT\"}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":\"RS256\",\"alg\":\"none\"}",
	};
	char *payload = make_payload(NULL, NULL, NULL);

	for (size_t i = 0; i < N(headers); i++) {
		char *token = make_token(headers[i], payload, i == 0 ? RS512 : RS256);
		expect_refused(token, "Invalid token", headers[i]);
		free(token);
	}
	free(payload);
}

Test(jwt, key_location_and_unknown_headers_refused)
{
	static const char *const headers[] = {
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"jku\":\"https://evil.example/jwks.json\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"jwk\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5u\":\"https://evil.example/cert.pem\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5c\":[\"MIIB\"]}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"zip\":\"DEF\"}",
		"{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":7}",
		"[\"RS256\"]",
		"not json",
	};
	char *payload = make_payload(NULL, NULL, NULL);

	for (size_t i = 0; i < N(headers); i++) {
		char *token = make_token(headers[i], payload, RS256);
		expect_refused(token, "Invalid token", headers[i]);
		free(token);
	}
	free(payload);
}

Test(jwt, expired_token)
{
	int64_t now = (int64_t)time(NULL);
	char *payload = make_payload_times(now - 1000, now - 10);
	char *token = make_token(GOOD_HEADER, payload, RS256);

	/* Genuine but past exp: the client is told so, and can refresh. */
	expect_refused(token, "Token expired", "expired");
	free(token);
	/* Past exp and signed by someone else: not "expired", just invalid. */
	token = make_token(GOOD_HEADER, payload, RS256_OTHER_KEY);
	expect_refused(token, "Invalid token", "expired, other key");
	free(token);
	free(payload);
	/* exp == now is already expired. */
	payload = make_payload_times(now - 1000, now);
	token = make_token(GOOD_HEADER, payload, RS256);
	expect_refused(token, "Token expired", "exp == now");
	free(token);
	free(payload);
}

Test(jwt, bad_claims_refused)
{
	int64_t now = (int64_t)time(NULL);
	struct {
		const char *drop, *key;
		json_object *val;
		const char *what;
	} cases[] = {
		{ "exp", NULL, NULL, "no exp" },
		{ "iat", NULL, NULL, "no iat" },
		{ "iss", NULL, NULL, "no iss" },
		{ "typ", NULL, NULL, "no typ" },
		{ "sub", NULL, NULL, "no sub" },
		{ "role", NULL, NULL, "no role" },
		{ "jti", NULL, NULL, "no jti" },
		{ "sid", NULL, NULL, "no sid" },
		{ "email", NULL, NULL, "no email" },
		{ NULL, "iss", json_object_new_string("someone-else"), "wrong iss" },
		{ NULL, "iss", json_object_new_string(ISSUER " "), "iss with trailing space" },
		{ NULL, "typ", json_object_new_string("refresh"), "typ refresh" },
		{ NULL, "iat", json_object_new_int64(now + 3600), "iat in the future" },
		{ NULL, "exp", json_object_new_string("9999999999"), "exp as string" },
		{ NULL, "exp", json_object_new_double(9999999999.0), "exp as float" },
		{ NULL, "exp", json_object_new_int64(now - 100000), "exp before iat" },
		{ NULL, "sub", json_object_new_string(""), "empty sub" },
		{ NULL, "sub", json_object_new_int(42), "sub as number" },
		{ NULL, "sub", json_object_new_string("0123456789012345678901234567890123"),
		  "sub too long" },
		{ NULL, "role", json_object_new_string("superadmin"), "unknown role" },
		{ NULL, "jti", json_object_new_string(""), "empty jti" },
		{ NULL, "sid", json_object_new_null(), "sid null" },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char *payload = make_payload(cases[i].drop, cases[i].key, cases[i].val);
		char *token = make_token(GOOD_HEADER, payload, RS256);
		expect_refused(token, "Invalid token", cases[i].what);
		free(token);
		free(payload);
	}
}

Test(jwt, iat_leeway_is_tolerated)
{
	int64_t now = (int64_t)time(NULL);
	char *payload = make_payload(NULL, "iat", json_object_new_int64(now + 30));
	char *token = make_token(GOOD_HEADER, payload, RS256);
	struct cx_error err = { 0 };

	cr_expect_eq(cx_jwt_verify(keys, ISSUER, token, NULL, &err), CX_OK, "%s", err.message);
	free(token);
	free(payload);
}

/* The per-process cache of verified tokens: a hit gives the same claims, a token that
 * differs in any byte is checked in full, and expiry still applies to a cached token. */
Test(jwt, verified_tokens_cache_is_exact_and_expires)
{
	struct cx_claims first, again;
	struct cx_error err = { 0 };
	char *token = NULL, *changed;
	size_t n;

	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "candidate", SID, 2, &token, NULL,
	    &err), CX_OK);
	cr_assert_eq(cx_jwt_verify(keys, ISSUER, token, &first, &err), CX_OK, "%s", err.message);
	cr_assert_eq(cx_jwt_verify(keys, ISSUER, token, &again, &err), CX_OK, "%s", err.message);
	cr_expect_eq(memcmp(&first, &again, sizeof(first)), 0, "a cached verify gives the same claims");
	/* Same token for another issuer: not a cache hit. */
	cr_expect_eq(cx_jwt_verify(keys, "someone-else", token, &again, &err), CX_EUNAUTH);
	cx_error_clear(&err);
	/* Last signature character changed after the good token was cached. */
	changed = strdup(token);
	n = strlen(changed);
	changed[n - 2] = changed[n - 2] == 'A' ? 'B' : 'A';
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, changed, &again, &err), CX_EUNAUTH);
	cx_error_clear(&err);
	/* A byte changed anywhere (header, payload, signature), one cut off, one added. */
	for (size_t at = 0; at < n; at += n / 7) {
		memcpy(changed, token, n + 1);
		changed[at] = changed[at] == 'x' ? 'y' : 'x';
		cr_expect_eq(cx_jwt_verify(keys, ISSUER, changed, &again, &err), CX_EUNAUTH,
		    "byte %zu changed", at);
		cx_error_clear(&err);
	}
	memcpy(changed, token, n + 1);
	changed[n - 1] = '\0';
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, changed, &again, &err), CX_EUNAUTH);
	cx_error_clear(&err);
	free(changed);
	changed = malloc(n + 2);
	memcpy(changed, token, n);
	memcpy(changed + n, "A", 2);
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, changed, &again, &err), CX_EUNAUTH);
	cx_error_clear(&err);
	free(changed);
	/* the good token is still a hit after all those misses */
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, token, &again, &err), CX_OK);
	cr_expect_eq(memcmp(&first, &again, sizeof(first)), 0);
	sleep(3);
	cr_expect_eq(cx_jwt_verify(keys, ISSUER, token, &again, &err), CX_EUNAUTH,
	    "a cached token must still expire");
	cr_expect_str_eq(err.message, "Token expired");
	free(token);
}

Test(jwt, other_issuer_refused)
{
	char *token = NULL;
	struct cx_error err = { 0 };

	cr_assert_eq(cx_jwt_issue(keys, "candidatex-staging", SUB, EMAIL, "admin", SID, 60,
	    &token, NULL, &err), CX_OK);
	expect_refused(token, "Invalid token", "issued for another issuer");
	free(token);
}

Test(jwt, tampered_payload_refused)
{
	char *token = NULL, *forged, *payload, *p64;
	const char *dot1, *dot2;

	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "candidate", SID, 600, &token,
	    NULL, NULL), CX_OK);
	dot1 = strchr(token, '.');
	dot2 = strchr(dot1 + 1, '.');
	payload = make_payload(NULL, "role", json_object_new_string("admin"));
	p64 = cx_base64url_encode(payload, strlen(payload));
	cr_assert(asprintf(&forged, "%.*s.%s%s", (int)(dot1 - token), token, p64, dot2) > 0);
	expect_refused(forged, "Invalid token", "role flipped, signature kept");
	free(forged);

	/* One bit of the signature flipped. */
	forged = strdup(token);
	forged[strlen(forged) - 5] ^= forged[strlen(forged) - 5] == 'A' ? 2 : 1;
	expect_refused(forged, "Invalid token", "signature bit flipped");
	free(forged);
	free(payload);
	free(p64);
	free(token);
}

Test(jwt, signature_from_other_key_pair_refused)
{
	char *payload = make_payload(NULL, NULL, NULL);
	char *token = make_token(GOOD_HEADER, payload, RS256_OTHER_KEY);

	expect_refused(token, "Invalid token", "other key pair");
	free(token);
	free(payload);
}

Test(jwt, malformed_tokens_refused)
{
	char *good = NULL, *t;
	char *huge;

	cr_assert_eq(cx_jwt_issue(keys, ISSUER, SUB, EMAIL, "candidate", SID, 600, &good,
	    NULL, NULL), CX_OK);
	cr_assert_eq(cx_jwt_verify(keys, ISSUER, good, NULL, NULL), CX_OK);

	expect_refused(NULL, "Invalid token", "NULL");
	expect_refused("", "Invalid token", "empty");
	expect_refused("abc.def", "Invalid token", "2 segments");
	cr_assert(asprintf(&t, "%s.AAAA", good) > 0);
	expect_refused(t, "Invalid token", "4 segments");
	free(t);
	cr_assert(asprintf(&t, "%s.", good) > 0);
	expect_refused(t, "Invalid token", "trailing dot");
	free(t);
	*strrchr(good, '.') = '\0';
	expect_refused(good, "Invalid token", "signature removed");
	cr_assert(asprintf(&t, "%s.", good) > 0);
	expect_refused(t, "Invalid token", "empty signature");
	free(t);
	expect_refused("!!!.@@@.###", "Invalid token", "garbage base64");
	expect_refused("eyJhbGciOiJSUzI1NiJ9=.e30=.AAAA", "Invalid token", "padding");
	expect_refused("..", "Invalid token", "empty segments");
	expect_refused("Bearer abc.def.ghi", "Invalid token", "whitespace");
	expect_refused("A.B.C", "Invalid token", "undecodable segments");

	huge = malloc(20001);
	cr_assert_not_null(huge);
	memset(huge, 'A', 20000);
	huge[20000] = '\0';
	huge[100] = '.';
	huge[19000] = '.';
	expect_refused(huge, "Invalid token", "huge");
	free(huge);
	free(good);
}

/* --- key files --------------------------------------------------------------- */

Test(jwt, generate_keys_refuses_to_overwrite)
{
	char dir[] = "/tmp/cx-test-jwtgen-XXXXXX", priv[256], pub[256], tmp[300];
	char *before, *after;
	struct cx_error err = { 0 };
	struct cx_jwt_keys *k = NULL;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(priv, sizeof(priv), "%s/p.pem", dir);
	snprintf(pub, sizeof(pub), "%s/q.pem", dir);
	cr_assert_eq(cx_jwt_generate_keys(priv, pub, 0, &err), CX_OK, "%s", err.message);
	cr_assert_eq(stat(priv, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(stat(pub, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0644);
	snprintf(tmp, sizeof(tmp), "%s.tmp", priv);
	cr_expect_neq(access(tmp, F_OK), 0, "temp file left behind");
	before = read_file(priv, NULL);
	cr_expect_not_null(strstr(before, "-----BEGIN PRIVATE KEY-----"), "PKCS#8");

	cr_expect_eq(cx_jwt_generate_keys(priv, pub, 0, &err), CX_ECONFLICT);
	cr_expect_str_eq(err.message, "keys already exist");
	after = read_file(priv, NULL);
	cr_expect_str_eq(before, after, "key changed without force");
	free(after);

	/* Only one of the pair present is still a conflict. */
	cr_assert_eq(unlink(pub), 0);
	cx_error_clear(&err);
	cr_expect_eq(cx_jwt_generate_keys(priv, pub, 0, &err), CX_ECONFLICT);

	cx_error_clear(&err);
	cr_expect_eq(cx_jwt_generate_keys(priv, pub, 1, &err), CX_OK, "%s", err.message);
	after = read_file(priv, NULL);
	cr_expect_str_neq(before, after, "force did not make a new key");
	cr_expect_eq(cx_jwt_keys_load(priv, pub, &k, &err), CX_OK, "%s", err.message);
	cx_jwt_keys_free(k);
	free(after);
	free(before);
	unlink(priv);
	unlink(pub);
	cr_expect_eq(rmdir(dir), 0, "unexpected files left in %s", dir);
}

Test(jwt, keys_load_errors)
{
	char dir[] = "/tmp/cx-test-jwtload-XXXXXX", junk[256], big[256];
	struct cx_jwt_keys *k = NULL;
	FILE *fp;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	snprintf(big, sizeof(big), "%s/big.pem", dir);
	fp = fopen(junk, "w");
	fputs("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n", fp);
	fclose(fp);
	fp = fopen(big, "w");
	for (int i = 0; i < 2000; i++)
		fputs("0123456789abcdef\n", fp);
	fclose(fp);

	struct { const char *priv, *pub, *what; } cases[] = {
		{ NULL, "/nonexistent/pub.pem", "missing public" },
		{ "/nonexistent/priv.pem", pub_path, "missing private" },
		{ NULL, junk, "not a key" },
		{ NULL, big, "oversized" },
		{ NULL, dir, "a directory" },
		{ priv_path, other_pub_path, "mismatched pair" },
		{ pub_path, pub_path, "public key as private" },
		{ NULL, priv_path, "private key as public" },
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct cx_error err = { 0 };
		k = NULL;
		cr_expect_eq(cx_jwt_keys_load(cases[i].priv, cases[i].pub, &k, &err), CX_EINTERNAL,
		    "%s", cases[i].what);
		cr_expect_null(k, "%s", cases[i].what);
		cx_jwt_keys_free(k);
	}
	unlink(junk);
	unlink(big);
	rmdir(dir);
}
