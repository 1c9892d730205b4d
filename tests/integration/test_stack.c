/* Integration: what nginx adds around the programs: security headers, TLS versions,
 * HTTP/2, gzip, the OpenAPI document and its docs page, and the health check. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "it.h"

TestSuite(stack, .init = it_setup);

static void
expect_header(const struct http_response *r, const char *name, const char *want,
    const char *where)
{
	const char *v = http_response_header(r, name);

	cr_expect_not_null(v, "%s: no %s header", where, name);
	if (v != NULL && want != NULL)
		cr_expect(strcasecmp(v, want) == 0, "%s: %s is \"%s\", want \"%s\"", where, name, v,
		    want);
	else if (v != NULL)
		cr_expect(*v != '\0', "%s: empty %s", where, name);
}

static void
expect_security_headers(const struct http_response *r, const char *where, int https)
{
	const char *hsts;

	cr_assert_eq(r->curl_code, CURLE_OK, "%s: %s", where, r->curl_error);
	expect_header(r, "Content-Security-Policy", NULL, where);
	expect_header(r, "X-Content-Type-Options", "nosniff", where);
	expect_header(r, "Referrer-Policy", NULL, where);
	hsts = http_response_header(r, "Strict-Transport-Security");
	if (https)
		cr_expect(hsts != NULL && strstr(hsts, "max-age=") != NULL,
		    "%s: no Strict-Transport-Security with max-age on HTTPS", where);
	else
		cr_expect_null(hsts, "%s: Strict-Transport-Security must not be sent over HTTP",
		    where);
}

Test(stack, health_reports_every_service)
{
	struct http_response *r = it_get("/api/health", NULL);
	json_object *v;

	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body ? r->body : r->curl_error);
	it_assert_api_response(r);
	cr_expect(!json_object_object_get_ex(r->json, "success", NULL),
	    "health is a plain body, not an envelope");
	cr_expect_str_eq(http_json_str(r, "status"), "healthy");
	it_assert_timestamp(http_json_str(r, "timestamp"), "health");
	cr_expect(http_json_str(r, "version") != NULL && *http_json_str(r, "version") != '\0',
	    "no version");
	cr_expect_str_eq(http_json_str(r, "services.database"), "healthy");
	cr_expect_str_eq(http_json_str(r, "services.redis"), "healthy");
	v = http_json_path(r, "services");
	cr_expect(json_object_object_get_ex(v, "ai_service", NULL), "no services.ai_service");
	http_response_free(r);
}

Test(stack, security_headers_over_https)
{
	static const char *const paths[] = { "/api/health", "/", "/api/auth/me",
	    "/api/auth/nope" };
	struct http_response *r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = it_get(paths[i], NULL);
		cr_expect_lt(r->status, 500, "%s: %ld", paths[i], r->status);
		expect_security_headers(r, paths[i], 1);
		http_response_free(r);
	}
}

Test(stack, security_headers_over_plain_http)
{
	const char *http = getenv("CX_TEST_HTTP_URL");
	static const char *const paths[] = { "/api/health", "/" };
	struct http_request req = { .method = "GET" };
	struct http_response *r;

	if (http == NULL || *http == '\0')
		cr_skip_test("CX_TEST_HTTP_URL is not set");
	req.base_url = http;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		req.path = paths[i];
		r = http_perform(&req);
		cr_expect_lt(r->status, 500, "http %s: %ld", paths[i], r->status);
		expect_security_headers(r, paths[i], 0);
		http_response_free(r);
	}
}

Test(stack, http2_is_negotiated)
{
	struct http_request req = { .path = "/api/health", .http_version = CURL_HTTP_VERSION_2TLS };
	struct http_response *r = http_perform(&req);

	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->curl_error);
	cr_expect_eq(r->http_version, CURL_HTTP_VERSION_2_0, "HTTP version %ld, want 2",
	    r->http_version);
	it_assert_api_response(r);
	http_response_free(r);
}

Test(stack, old_tls_is_refused_and_tls13_accepted)
{
	struct http_request req = { .path = "/api/health" };
	struct http_response *r;

	/* the client is made willing to speak TLS 1.1 (security level 0), so a failure
	 * means the server refused it */
	req.ssl_version = CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1;
	req.ssl_ciphers = "DEFAULT:@SECLEVEL=0";
	r = http_perform(&req);
	cr_expect_neq(r->curl_code, CURLE_OK, "TLS 1.1 was accepted (status %ld)", r->status);
	cr_expect_null(strstr(r->curl_error, "no protocols available"),
	    "the client could not offer TLS 1.1, so this test proves nothing: %s", r->curl_error);
	http_response_free(r);

	req.ssl_version = CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_0;
	r = http_perform(&req);
	cr_expect_neq(r->curl_code, CURLE_OK, "TLS 1.0 was accepted (status %ld)", r->status);
	http_response_free(r);

	req.ssl_version = CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3;
	req.ssl_ciphers = NULL;
	r = http_perform(&req);
	cr_expect_eq(r->curl_code, CURLE_OK, "TLS 1.3 refused: %s", r->curl_error);
	cr_expect_eq(r->status, 200);
	http_response_free(r);
}

Test(stack, openapi_document_is_served)
{
	struct http_response *r = it_get("/api/openapi.json", NULL);
	const char *version;
	json_object *paths;
	int has_login = 0;

	cr_assert_eq(r->status, 200, "%ld", r->status);
	cr_assert_not_null(r->json, "openapi.json is not valid JSON");
	cr_expect(it_contains_ci(http_response_header(r, "Content-Type"), "application/json"),
	    "Content-Type %s", http_response_header(r, "Content-Type"));
	version = http_json_str(r, "openapi");
	cr_expect(version != NULL && strncmp(version, "3.1", 3) == 0, "openapi is %s",
	    version ? version : "(none)");
	paths = http_json_path(r, "paths");
	cr_assert(json_object_is_type(paths, json_type_object), "no paths object");
	json_object_object_foreach(paths, key, val) {
		size_t len = strlen(key);

		(void)val;
		if (len >= 11 && strcmp(key + len - 11, "/auth/login") == 0)
			has_login = 1;
	}
	cr_expect(has_login, "the document does not describe /auth/login");
	http_response_free(r);
}

Test(stack, large_json_is_gzipped_on_request)
{
	struct http_request req = { .path = "/api/openapi.json", .accept_encoding = "gzip" };
	struct http_response *r = http_perform(&req);
	const char *enc;

	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->curl_error);
	cr_assert_gt(r->body_len, 1024, "the document is too small to show compression");
	enc = http_response_header(r, "Content-Encoding");
	cr_expect(enc != NULL && strcasecmp(enc, "gzip") == 0, "Content-Encoding is %s",
	    enc ? enc : "(none)");
	cr_expect_not_null(r->json, "the decompressed document is not JSON");
	http_response_free(r);

	/* and not compressed for a client that did not ask */
	r = it_get("/api/openapi.json", NULL);
	cr_expect_null(http_response_header(r, "Content-Encoding"),
	    "compressed without Accept-Encoding");
	http_response_free(r);
}

Test(stack, api_docs_page_is_html)
{
	struct http_response *r = it_get("/api/docs", NULL);
	const char *ct;

	cr_assert_eq(r->status, 200, "/api/docs: %ld", r->status);
	ct = http_response_header(r, "Content-Type");
	cr_expect(ct != NULL && strncasecmp(ct, "text/html", 9) == 0, "Content-Type %s",
	    ct ? ct : "(none)");
	cr_expect(it_contains_ci(r->body, "<html"), "no HTML document");
	http_response_free(r);
}

Test(stack, every_response_has_its_own_request_id)
{
	struct http_response *a = it_get("/api/health", NULL);
	struct http_response *b = it_get("/api/health", NULL);
	const char *ia, *ib;

	ia = http_response_header(a, "X-Request-Id");
	ib = http_response_header(b, "X-Request-Id");
	cr_assert(ia != NULL && ib != NULL, "no X-Request-Id");
	cr_expect_str_neq(ia, ib, "two requests share the request id %s", ia);
	http_response_free(a);
	http_response_free(b);
}
