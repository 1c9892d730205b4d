/* http_client: a small libcurl + json-c HTTP client the integration tests use to speak
 * to the running stack (nginx in front of the cx-* programs). */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stddef.h>

struct http_header {
	char *name;     /* as received (HTTP/2 sends lower case); compare case-insensitively */
	char *value;    /* without surrounding white space */
};

/* Everything a test looks at in an answer. Owned by the caller: http_response_free. */
struct http_response {
	CURLcode curl_code;             /* CURLE_OK when a response arrived */
	char curl_error[CURL_ERROR_SIZE];
	long status;                    /* 0 when no response */
	long http_version;              /* CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0, ... */
	char *body;                     /* NUL-terminated (decoded if accept_encoding was set) */
	size_t body_len;
	json_object *json;              /* the body parsed as JSON, or NULL */
	struct http_header *headers;    /* of the final response only */
	size_t nheaders;
};

/* A request. Zero-initialise and fill what you need. */
struct http_request {
	const char *method;             /* NULL: GET, or POST when body is set */
	const char *base_url;           /* NULL: $CX_TEST_BASE_URL */
	const char *path;               /* appended to base_url, e.g. "/api/auth/me" */
	const char *const *headers;     /* NULL-terminated "Name: value" lines, or NULL */
	const char *body;               /* NULL: no body */
	size_t body_len;                /* 0: strlen(body) */
	const char *content_type;       /* sent as Content-Type when body != NULL */
	const char *bearer;             /* adds "Authorization: Bearer <bearer>" when set */
	int chunked;                    /* send the body with Transfer-Encoding: chunked */
	long http_version;              /* 0: HTTP/1.1; else a CURL_HTTP_VERSION_* value */
	long ssl_version;               /* 0: default; else CURL_SSLVERSION_* (| MAX_*) */
	const char *ssl_ciphers;        /* OpenSSL cipher list, or NULL */
	const char *accept_encoding;    /* e.g. "gzip": sent and transparently decoded */
};

/* Perform req. Always returns a response (check curl_code for transport failures);
 * NULL only when out of memory. TLS is verified against $CX_TEST_CA when set,
 * otherwise verification is off (the dev stack uses a self-signed certificate). */
struct http_response *http_perform(const struct http_request *req);

/* The short form: method, path under $CX_TEST_BASE_URL, extra headers (NULL-terminated
 * "Name: value" lines or NULL), body (NUL-terminated or NULL) and its content type. */
struct http_response *http_request(const char *method, const char *path,
    const char *const *headers, const char *body, const char *content_type);

void http_response_free(struct http_response *resp);

/* First header called name (case-insensitive), borrowed from resp, or NULL. */
const char *http_response_header(const struct http_response *resp, const char *name);

/* Borrowed JSON value at a dotted path ("error.details.field") of resp->json, or NULL
 * when any step is missing. http_json_at does the same from any object. */
json_object *http_json_path(const struct http_response *resp, const char *path);
json_object *http_json_at(json_object *obj, const char *path);

/* The string at a dotted path, or NULL when missing or not a string (borrowed). */
const char *http_json_str(const struct http_response *resp, const char *path);

#endif
