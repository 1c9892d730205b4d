/* Unit tests of the web layer: URL decoding, route matching, request inputs from a
 * FastCGI environment, and the user field rules. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cx_http.h"
#include "cx_router.h"
#include "cx_store.h"
#include "cx_user.h"

Test(url, decode_table)
{
	static const struct { const char *in; int plus; const char *out; } cases[] = {
		{ "abc", 1, "abc" }, { "a%20b", 1, "a b" }, { "a+b", 1, "a b" }, { "a+b", 0, "a+b" },
		{ "%41%6a", 1, "Aj" }, { "caf%C3%A9", 1, "caf\xc3\xa9" },
		{ "%", 1, NULL }, { "%4", 1, NULL }, { "%zz", 1, NULL }, { "a%00b", 1, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = cx_url_decode(cases[i].in, strlen(cases[i].in), cases[i].plus);
		if (cases[i].out == NULL)
			cr_expect_null(got, "%s should be refused", cases[i].in);
		else
			cr_expect_str_eq(got, cases[i].out);
		free(got);
	}
}

static int dummy(struct cx_request *req, struct cx_error *err) { (void)req; (void)err; return 0; }

static const struct cx_route table[] = {
	{ "GET", "/api/x/items", CX_PUBLIC, CX_BODY_NONE, 0, dummy },
	{ "POST", "/api/x/items", CX_AUTHENTICATED, CX_BODY_JSON, 0, dummy },
	{ "GET", "/api/x/items/{id}", CX_PUBLIC, CX_BODY_NONE, 0, dummy },
	{ "POST", "/api/x/items/{id}/answer/{qid}", CX_PUBLIC, CX_BODY_JSON, 0, dummy },
};

Test(router, match_table)
{
	static const struct { const char *method, *path; int code; int index; } cases[] = {
		{ "GET", "/api/x/items", CX_OK, 0 },
		{ "POST", "/api/x/items", CX_OK, 1 },
		{ "HEAD", "/api/x/items", CX_OK, 0 },
		{ "DELETE", "/api/x/items", CX_EMETHOD, -1 },
		{ "GET", "/api/x/items/abc", CX_OK, 2 },
		{ "GET", "/api/x/items/", CX_ENOTFOUND, -1 },
		{ "GET", "/api/x/items/abc/def", CX_ENOTFOUND, -1 },
		{ "POST", "/api/x/items/1/answer/2", CX_OK, 3 },
		{ "GET", "/api/x/nothing", CX_ENOTFOUND, -1 },
		{ "GET", "/api/x/itemsx", CX_ENOTFOUND, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_request req;
		struct cx_error err = { 0 };
		const struct cx_route *route = NULL;
		int rc;

		cx_request_init(&req, NULL);
		rc = cx_router_match(table, 4, cases[i].method, cases[i].path, &req, &route, &err);
		cr_expect_eq(rc, cases[i].code, "%s %s", cases[i].method, cases[i].path);
		if (cases[i].index >= 0)
			cr_expect_eq(route, &table[cases[i].index], "%s %s", cases[i].method,
			    cases[i].path);
		cx_request_reset(&req);
	}
}

Test(router, params_are_captured)
{
	struct cx_request req;
	struct cx_error err = { 0 };
	const struct cx_route *route = NULL;

	cx_request_init(&req, NULL);
	cr_assert_eq(cx_router_match(table, 4, "POST", "/api/x/items/s1/answer/q9", &req, &route,
	    &err), CX_OK);
	cr_assert_str_eq(cx_http_param(&req, "id"), "s1");
	cr_assert_str_eq(cx_http_param(&req, "qid"), "q9");
	cr_assert_null(cx_http_param(&req, "nope"));
	cx_request_reset(&req);
}

Test(router, method_not_allowed_lists_allow)
{
	struct cx_request req;
	struct cx_error err = { 0 };
	const struct cx_route *route = NULL;

	cx_request_init(&req, NULL);
	cr_assert_eq(cx_router_match(table, 4, "PUT", "/api/x/items", &req, &route, &err), CX_EMETHOD);
	cr_assert_eq(req.nheaders, 1);
	cr_assert_str_eq(req.headers[0], "Allow: GET, POST");
	cx_request_reset(&req);
}

/* A request whose FastCGI environment is a fixed list of params. */
static void
fake_request(struct cx_request *req, char **envp)
{
	cx_request_init(req, NULL);
	req->fcgi.envp = envp;
	cx_request_read_params(req);
}

Test(http, inputs_from_fastcgi_params)
{
	char *envp[] = {
		"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/auth/login",
		"QUERY_STRING=page=2&limit=50&q=a%20b&bad=%zz", "REMOTE_ADDR=10.1.2.3",
		"HTTP_USER_AGENT=test-agent/1.0", "CONTENT_TYPE=application/x-www-form-urlencoded; charset=utf-8",
		"HTTP_AUTHORIZATION=Bearer abc.def.ghi", "HTTP_COOKIE=a=1; theme=dark",
		"REQUEST_ID=req-123", NULL,
	};
	struct cx_request req;
	struct cx_error err = { 0 };
	int64_t page, limit;

	fake_request(&req, envp);
	cr_assert_str_eq(req.method, "POST");
	cr_assert_str_eq(req.path, "/api/auth/login");
	cr_assert_str_eq(req.remote_addr, "10.1.2.3");
	cr_assert_str_eq(req.request_id, "req-123");
	cr_assert_str_eq(cx_http_header(&req, "User-Agent"), "test-agent/1.0");
	cr_assert_str_eq(cx_http_bearer(&req), "abc.def.ghi");
	cr_assert(cx_http_is_form(&req));
	cr_assert_not(cx_http_is_json(&req));
	cr_assert_str_eq(cx_http_query(&req, "q"), "a b");
	cr_assert_null(cx_http_query(&req, "bad"));
	cr_assert_str_eq(cx_http_cookie(&req, "theme"), "dark");
	cr_assert_eq(cx_http_paging(&req, 20, 100, &page, &limit, &err), CX_OK);
	cr_assert_eq(page, 2);
	cr_assert_eq(limit, 50);
	cx_request_reset(&req);
}

Test(http, paging_bounds)
{
	char *envp[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/x", "QUERY_STRING=limit=1000", NULL };
	struct cx_request req;
	struct cx_error err = { 0 };
	int64_t page, limit;

	fake_request(&req, envp);
	cr_assert_eq(cx_http_paging(&req, 20, 100, &page, &limit, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "limit");
	cx_request_reset(&req);
}

Test(http, request_id_generated_when_missing)
{
	char *envp[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/x", NULL };
	struct cx_request req;

	fake_request(&req, envp);
	cr_assert_eq(strlen(req.request_id), 32);
	cr_assert_null(cx_http_bearer(&req));
	cx_request_reset(&req);
}

Test(user, email_table)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "  Alice@Example.COM ", "alice@example.com" },
		{ "a.b+tag@sub.example.org", "a.b+tag@sub.example.org" },
		{ "x@y.io", "x@y.io" },
		{ "", NULL }, { "plain", NULL }, { "a@b", NULL }, { "a@b.c", NULL },
		{ "a@@b.com", NULL }, { ".a@b.com", NULL }, { "a..b@c.com", NULL },
		{ "a@-b.com", NULL }, { "a@b-.com", NULL }, { "a b@c.com", NULL },
		{ "a@b.c0m", NULL }, { "a@b..com", NULL }, { "<a>@b.com", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[CX_EMAIL_MAX + 1];
		struct cx_error err = { 0 };
		int rc = cx_user_normalize_email(cases[i].in, "email", out, &err);
		if (cases[i].out) {
			cr_expect_eq(rc, CX_OK, "%s", cases[i].in);
			cr_expect_str_eq(out, cases[i].out);
		} else {
			cr_expect_eq(rc, CX_EVALIDATION, "%s should be refused", cases[i].in);
			cr_expect_str_eq(err.field, "email");
		}
	}
}

Test(user, names)
{
	struct cx_error err = { 0 };
	char *name = NULL;
	char longname[150];

	cr_assert_eq(cx_user_clean_name("  Ada Lovelace ", "full_name", &name, &err), CX_OK);
	cr_assert_str_eq(name, "Ada Lovelace");
	free(name);
	cr_assert_eq(cx_user_clean_name("   ", "full_name", &name, &err), CX_EVALIDATION);
	cx_error_clear(&err);
	cr_assert_eq(cx_user_clean_name("a\x01b", "full_name", &name, &err), CX_EVALIDATION);
	cx_error_clear(&err);
	cr_assert_eq(cx_user_clean_name("\xff\xfe", "full_name", &name, &err), CX_EVALIDATION);
	cx_error_clear(&err);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(cx_user_clean_name(longname, "full_name", &name, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.reason, "must be at most 100 characters");
}

Test(user, public_view_has_no_secrets)
{
	json_object *doc = cx_user_new_doc("a@b.com", "A", "candidate", "$2b$12$secret");
	json_object *pub = cx_user_public(doc), *v;

	cr_assert_not(json_object_object_get_ex(pub, "hashed_password", &v));
	cr_assert(json_object_object_get_ex(pub, "preferences", &v));
	cr_assert_str_eq(json_object_get_string(json_object_object_get(v, "theme")), "light");
	cr_assert(json_object_object_get_ex(pub, "last_login", &v));
	cr_assert_null(v);
	json_object_put(doc);
	json_object_put(pub);
}

Test(user, profile_update_rules)
{
	static const struct { const char *body; const char *field; } cases[] = {
		{ "{\"full_name\":\"New\"}", NULL },
		{ "{\"preferences\":{\"theme\":\"dark\",\"language\":\"pt-BR\",\"notifications\":false}}", NULL },
		{ "{\"profile\":{\"phone\":\"+1 (555) 010-9999\",\"linkedin_url\":\"https://linkedin.com/in/x\",\"bio\":\"line1\\nline2\"}}", NULL },
		{ "{\"profile\":{\"bio\":null}}", NULL },
		{ "{}", "body" },
		{ "{\"email\":\"x@y.com\"}", "email" },
		{ "{\"role\":\"admin\"}", "role" },
		{ "{\"preferences\":{\"theme\":\"pink\"}}", "preferences.theme" },
		{ "{\"preferences\":{\"language\":\"english\"}}", "preferences.language" },
		{ "{\"preferences\":{\"notifications\":\"yes\"}}", "preferences.notifications" },
		{ "{\"preferences\":{\"color\":1}}", "preferences.color" },
		{ "{\"profile\":{\"linkedin_url\":\"javascript:alert(1)\"}}", "profile.linkedin_url" },
		{ "{\"profile\":{\"phone\":\"call me\"}}", "profile.phone" },
		{ "{\"profile\":{\"ssn\":\"1\"}}", "profile.ssn" },
		{ "{\"avatar_url\":5}", "avatar_url" },
		{ "{\"full_name\":\"\"}", "full_name" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *body = json_tokener_parse(cases[i].body);
		struct cx_update *u = cx_update_new();
		struct cx_error err = { 0 };
		int rc = cx_user_profile_update(body, u, &err);
		if (cases[i].field == NULL) {
			cr_expect_eq(rc, CX_OK, "%s: %s %s", cases[i].body, err.field, err.reason);
		} else {
			cr_expect_eq(rc, CX_EVALIDATION, "%s", cases[i].body);
			cr_expect_str_eq(err.field, cases[i].field, "%s", cases[i].body);
		}
		cx_update_free(u);
		json_object_put(body);
	}
}
