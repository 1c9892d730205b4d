/* Integration: forged and tampered access tokens on GET /api/auth/me are all refused
 * with 401, while the same forging code produces a token the server accepts when
 * nothing is wrong with it (so a refusal means the server caught the flaw). */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cx_crypto.h"
#include "forge.h"
#include "it.h"

TestSuite(jwt, .init = it_setup);

#define HDR_RS256 "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define HDR(alg) "{\"alg\":\"" alg "\",\"typ\":\"JWT\"}"

enum keykind { KEY_REAL, KEY_OTHER, KEY_PUBLIC_AS_SECRET, KEY_NONE };

struct keys {
	char *priv;
	size_t privlen;
	char *pub;
	size_t publen;
	char *other;
};

static void
keys_load(struct keys *k)
{
	const char *dir = getenv("CX_TEST_DATA_DIR");
	char path[4096];

	cr_assert_not_null(dir, "CX_TEST_DATA_DIR is not set");
	snprintf(path, sizeof(path), "%s/keys/jwt-private.pem", dir);
	k->priv = forge_read_file(path, &k->privlen);
	cr_assert_not_null(k->priv, "cannot read %s", path);
	snprintf(path, sizeof(path), "%s/keys/jwt-public.pem", dir);
	k->pub = forge_read_file(path, &k->publen);
	cr_assert_not_null(k->pub, "cannot read %s", path);
	k->other = NULL;
}

static void
keys_free(struct keys *k)
{
	free(k->priv);
	free(k->pub);
	free(k->other);
}

static char *
sign(struct keys *k, const char *header, const char *payload, enum forge_alg alg,
    enum keykind kind)
{
	char *tok = NULL;

	switch (kind) {
	case KEY_REAL:
		tok = forge_jwt(header, payload, alg, k->priv, k->privlen);
		break;
	case KEY_OTHER:
		if (k->other == NULL)
			k->other = forge_new_rsa_pem();
		cr_assert_not_null(k->other, "cannot generate an RSA key");
		tok = forge_jwt(header, payload, alg, k->other, strlen(k->other));
		break;
	case KEY_PUBLIC_AS_SECRET:
		tok = forge_jwt(header, payload, alg, k->pub, k->publen);
		break;
	case KEY_NONE:
		tok = forge_jwt(header, payload, FORGE_NONE, NULL, 0);
		break;
	}
	cr_assert_not_null(tok, "forging failed");
	return tok;
}

/* Claims edits: each turns a copy of a real token's claims into a bad one. */
static void
set_int(json_object *c, const char *k, int64_t v)
{
	json_object_object_add(c, k, json_object_new_int64(v));
}

static void
set_str(json_object *c, const char *k, const char *v)
{
	json_object_object_add(c, k, json_object_new_string(v));
}

static void edit_none(json_object *c) { (void)c; }
static void
edit_expired(json_object *c)
{
	set_int(c, "iat", (int64_t)time(NULL) - 7200);
	set_int(c, "exp", (int64_t)time(NULL) - 3600);
}
static void edit_wrong_iss(json_object *c) { set_str(c, "iss", "evil-api"); }
static void edit_no_iss(json_object *c) { json_object_object_del(c, "iss"); }
static void edit_no_exp(json_object *c) { json_object_object_del(c, "exp"); }
static void edit_no_iat(json_object *c) { json_object_object_del(c, "iat"); }
static void edit_exp_string(json_object *c) { set_str(c, "exp", "9999999999"); }
static void
edit_future_iat(json_object *c)
{
	set_int(c, "iat", (int64_t)time(NULL) + 3600);
	set_int(c, "exp", (int64_t)time(NULL) + 5400);
}
static void edit_typ_refresh(json_object *c) { set_str(c, "typ", "refresh"); }
static void edit_no_typ(json_object *c) { json_object_object_del(c, "typ"); }
static void edit_no_sub(json_object *c) { json_object_object_del(c, "sub"); }
static void
edit_unknown_sub(json_object *c)
{
	char id[25];

	it_random_hex(id, 24);
	set_str(c, "sub", id);
}

/* The claims of u's real access token with edit applied, as JSON text (malloc'd). */
static char *
claims_text(const struct it_user *u, void (*edit)(json_object *))
{
	json_object *c = it_jwt_payload(u->access);
	char *text;

	cr_assert_not_null(c, "cannot decode the real access token");
	edit(c);
	text = strdup(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
	json_object_put(c);
	return text;
}

static void
expect_refused(const char *token, const char *what)
{
	struct http_response *r = it_get("/api/auth/me", token);

	cr_expect_eq(r->status, 401, "%s: accepted or wrong status %ld: %.300s", what,
	    r->status, r->body ? r->body : "");
	if (r->status == 401) {
		const char *code = http_json_str(r, "error.code");

		cr_expect(code != NULL && strcmp(code, "UNAUTHORIZED") == 0,
		    "%s: 401 without the UNAUTHORIZED envelope: %.300s", what, r->body);
	}
	http_response_free(r);
}

Test(jwt, real_tokens_carry_the_documented_claims)
{
	struct it_user u;
	json_object *c, *v;
	int64_t iat, exp;

	it_register(&u, NULL);
	c = it_jwt_payload(u.access);
	cr_assert_not_null(c);
	cr_expect_str_eq(json_object_get_string(http_json_at(c, "sub")), u.id);
	cr_expect_str_eq(json_object_get_string(http_json_at(c, "email")), u.email);
	cr_expect_str_eq(json_object_get_string(http_json_at(c, "role")), "candidate");
	cr_expect_str_eq(json_object_get_string(http_json_at(c, "iss")), IT_ISSUER);
	cr_expect_str_eq(json_object_get_string(http_json_at(c, "typ")), "access");
	cr_expect_not_null(json_object_get_string(http_json_at(c, "sid")), "no sid claim");
	cr_expect_not_null(json_object_get_string(http_json_at(c, "jti")), "no jti claim");
	v = http_json_at(c, "iat");
	cr_assert(json_object_is_type(v, json_type_int), "iat is not a number");
	iat = json_object_get_int64(v);
	v = http_json_at(c, "exp");
	cr_assert(json_object_is_type(v, json_type_int), "exp is not a number");
	exp = json_object_get_int64(v);
	cr_expect_eq(exp - iat, 1800, "access tokens must last 30 minutes");
	cr_expect(iat <= (int64_t)time(NULL) + 5 && iat >= (int64_t)time(NULL) - 300,
	    "iat %lld is not now", (long long)iat);
	json_object_put(c);
	it_user_free(&u);
}

/* Control: the forging code re-signs a real token's claims and the server accepts it. */
Test(jwt, forged_copy_of_a_real_token_is_accepted)
{
	struct it_user u;
	struct keys k;
	char *payload, *tok;

	keys_load(&k);
	it_register(&u, NULL);
	payload = claims_text(&u, edit_none);
	tok = sign(&k, HDR_RS256, payload, FORGE_RS256, KEY_REAL);
	cr_assert_eq(it_me_status(tok), 200,
	    "a correctly re-signed real token must be accepted (forging code broken?)");
	free(tok);
	free(payload);
	keys_free(&k);
	it_user_free(&u);
}

Test(jwt, forged_tokens_are_refused)
{
	static const struct {
		const char *what;
		const char *header;
		void (*edit)(json_object *);
		enum forge_alg alg;
		enum keykind key;
	} cases[] = {
		{ "alg none", HDR("none"), edit_none, FORGE_NONE, KEY_NONE },
		{ "alg None", HDR("None"), edit_none, FORGE_NONE, KEY_NONE },
		{ "alg RS256 without signature", HDR_RS256, edit_none, FORGE_NONE, KEY_NONE },
		{ "HS256 keyed with the public key PEM", HDR("HS256"), edit_none, FORGE_HS256,
		    KEY_PUBLIC_AS_SECRET },
		{ "RS512 header", HDR("RS512"), edit_none, FORGE_RS512, KEY_REAL },
		{ "RS256 by another key", HDR_RS256, edit_none, FORGE_RS256, KEY_OTHER },
		{ "jku header", "{\"alg\":\"RS256\",\"typ\":\"JWT\","
		    "\"jku\":\"https://evil.example/jwks.json\"}", edit_none, FORGE_RS256,
		    KEY_REAL },
		{ "jwk header", "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"jwk\":{\"kty\":\"RSA\","
		    "\"e\":\"AQAB\",\"n\":\"xjlCRBqkOK6w\"}}", edit_none, FORGE_RS256, KEY_REAL },
		{ "x5u header", "{\"alg\":\"RS256\",\"typ\":\"JWT\","
		    "\"x5u\":\"https://evil.example/cert.pem\"}", edit_none, FORGE_RS256,
		    KEY_REAL },
		{ "expired", HDR_RS256, edit_expired, FORGE_RS256, KEY_REAL },
		{ "wrong iss", HDR_RS256, edit_wrong_iss, FORGE_RS256, KEY_REAL },
		{ "missing iss", HDR_RS256, edit_no_iss, FORGE_RS256, KEY_REAL },
		{ "missing exp", HDR_RS256, edit_no_exp, FORGE_RS256, KEY_REAL },
		{ "missing iat", HDR_RS256, edit_no_iat, FORGE_RS256, KEY_REAL },
		{ "exp as a string", HDR_RS256, edit_exp_string, FORGE_RS256, KEY_REAL },
		{ "iat an hour in the future", HDR_RS256, edit_future_iat, FORGE_RS256, KEY_REAL },
		{ "typ refresh", HDR_RS256, edit_typ_refresh, FORGE_RS256, KEY_REAL },
		{ "missing typ", HDR_RS256, edit_no_typ, FORGE_RS256, KEY_REAL },
		{ "missing sub", HDR_RS256, edit_no_sub, FORGE_RS256, KEY_REAL },
		{ "unknown user (valid signature, random sub)", HDR_RS256, edit_unknown_sub,
		    FORGE_RS256, KEY_REAL },
	};
	struct it_user u;
	struct keys k;
	char *payload, *tok;

	keys_load(&k);
	it_register(&u, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		payload = claims_text(&u, cases[i].edit);
		tok = sign(&k, cases[i].header, payload, cases[i].alg, cases[i].key);
		expect_refused(tok, cases[i].what);
		free(tok);
		free(payload);
	}
	/* the real token is still fine: the refusals above were about the forgeries */
	cr_expect_eq(it_me_status(u.access), 200);
	keys_free(&k);
	it_user_free(&u);
}

/* The payload of a real token changed (role admin), signature kept. */
Test(jwt, tampered_payload_is_refused)
{
	struct it_user u;
	json_object *c;
	const char *dot1, *dot2, *text;
	char *payload64, *tok;

	it_register(&u, NULL);
	c = it_jwt_payload(u.access);
	cr_assert_not_null(c);
	set_str(c, "role", "admin");
	text = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
	payload64 = cx_base64url_encode(text, strlen(text));
	dot1 = strchr(u.access, '.');
	dot2 = strchr(dot1 + 1, '.');
	tok = it_fmt("%.*s.%s%s", (int)(dot1 - u.access), u.access, payload64, dot2);
	expect_refused(tok, "role changed to admin, signature kept");
	free(tok);
	free(payload64);
	json_object_put(c);

	/* and the signature cut off */
	tok = it_fmt("%.*s.", (int)(dot2 - u.access), u.access);
	expect_refused(tok, "signature removed");
	free(tok);
	it_user_free(&u);
}

Test(jwt, malformed_tokens_are_refused)
{
	static const char *const tokens[] = {
		"garbage", "a.b.c", "..", "a.b", "eyJhbGciOiJSUzI1NiJ9.e30.",
		"eyJhbGciOiJSUzI1NiJ9.!!!.AAAA",
	};

	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		expect_refused(tokens[i], tokens[i]);
}
