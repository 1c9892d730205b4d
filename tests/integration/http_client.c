/* http_client: libcurl requests and json-c parsing for the integration tests. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"

#define MAX_RESPONSE_BYTES (16u * 1024 * 1024)
#define JSON_PARSE_DEPTH 256

struct upload {
	const char *data;
	size_t len;
	size_t off;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_response *resp = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (resp->body_len + n > MAX_RESPONSE_BYTES)
		return 0;
	grown = realloc(resp->body, resp->body_len + n + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + resp->body_len, ptr, n);
	resp->body = grown;
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return n;
}

static void
free_headers(struct http_response *resp)
{
	for (size_t i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	resp->headers = NULL;
	resp->nheaders = 0;
}

/* Keeps the headers of the last response only: a status line starts a new list
 * (interim 100 Continue answers and redirects are forgotten). */
static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_response *resp = userdata;
	size_t n = size * nmemb, len = n, namelen;
	const char *colon, *value;
	struct http_header *grown;

	while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
		len--;
	if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		free_headers(resp);
		return n;
	}
	colon = memchr(ptr, ':', len);
	if (colon == NULL)
		return n;
	namelen = (size_t)(colon - ptr);
	value = colon + 1;
	while (value < ptr + len && (*value == ' ' || *value == '\t'))
		value++;
	grown = realloc(resp->headers, (resp->nheaders + 1) * sizeof(*grown));
	if (grown == NULL)
		return 0;
	resp->headers = grown;
	grown[resp->nheaders].name = strndup(ptr, namelen);
	grown[resp->nheaders].value = strndup(value, (size_t)(ptr + len - value));
	if (grown[resp->nheaders].name == NULL || grown[resp->nheaders].value == NULL) {
		free(grown[resp->nheaders].name);
		free(grown[resp->nheaders].value);
		return 0;
	}
	resp->nheaders++;
	return n;
}

static size_t
on_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct upload *up = userdata;
	size_t room = size * nmemb, left = up->len - up->off;
	size_t n = left < room ? left : room;

	memcpy(buf, up->data + up->off, n);
	up->off += n;
	return n;
}

/* The body as JSON when it is exactly one JSON value, else NULL. */
static json_object *
parse_json(const char *body, size_t len)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	size_t used;

	if (body == NULL || len == 0)
		return NULL;
	tok = json_tokener_new_ex(JSON_PARSE_DEPTH);
	if (tok == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, body, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	used = json_tokener_get_parse_end(tok);
	while (used < len && isspace((unsigned char)body[used]))
		used++;
	if (used != len) {
		json_object_put(obj);
		obj = NULL;
	}
out:
	json_tokener_free(tok);
	return obj;
}

static struct curl_slist *
append_header(struct curl_slist *list, const char *line, int *failed)
{
	struct curl_slist *next = curl_slist_append(list, line);

	if (next == NULL)
		*failed = 1;
	return next != NULL ? next : list;
}

struct http_response *
http_perform(const struct http_request *req)
{
	struct http_response *resp = NULL;
	struct curl_slist *hdrs = NULL;
	struct upload up = { 0 };
	CURL *curl = NULL;
	const char *base = req->base_url, *method = req->method, *ca;
	char *url = NULL, line[8192];
	size_t urllen;
	int failed = 0;

	resp = calloc(1, sizeof(*resp));
	if (resp == NULL)
		return NULL;
	if (base == NULL)
		base = getenv("CX_TEST_BASE_URL");
	if (base == NULL)
		base = "";
	urllen = strlen(base) + strlen(req->path ? req->path : "") + 1;
	url = malloc(urllen);
	curl = curl_easy_init();
	if (url == NULL || curl == NULL) {
		resp->curl_code = CURLE_OUT_OF_MEMORY;
		goto out;
	}
	snprintf(url, urllen, "%s%s", base, req->path ? req->path : "");
	if (method == NULL)
		method = req->body != NULL ? "POST" : "GET";

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "cx-integration/1.0");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, resp->curl_error);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
	    req->http_version ? req->http_version : (long)CURL_HTTP_VERSION_1_1);
	ca = getenv("CX_TEST_CA");
	if (ca != NULL && *ca != '\0') {
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
		/* the dev certificate names localhost; the tests use 127.0.0.1 */
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->ssl_version)
		curl_easy_setopt(curl, CURLOPT_SSLVERSION, req->ssl_version);
	if (req->ssl_ciphers)
		curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, req->ssl_ciphers);
	if (req->accept_encoding)
		curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, req->accept_encoding);

	/* no "Expect: 100-continue" round trip for larger bodies */
	hdrs = append_header(hdrs, "Expect:", &failed);
	if (req->body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s",
		    req->content_type ? req->content_type : "");
		hdrs = append_header(hdrs, req->content_type ? line : "Content-Type:", &failed);
	}
	if (req->bearer != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", req->bearer);
		hdrs = append_header(hdrs, line, &failed);
	}
	for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		hdrs = append_header(hdrs, req->headers[i], &failed);
	if (failed) {
		resp->curl_code = CURLE_OUT_OF_MEMORY;
		goto out;
	}

	if (req->body != NULL) {
		up.data = req->body;
		up.len = req->body_len ? req->body_len : strlen(req->body);
		if (req->chunked) {
			hdrs = append_header(hdrs, "Transfer-Encoding: chunked", &failed);
			curl_easy_setopt(curl, CURLOPT_POST, 1L);
			curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(curl, CURLOPT_READDATA, &up);
		} else {
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up.len);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, up.data);
		}
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0 ||
	    strcmp(method, "OPTIONS") == 0) {
		if (strcmp(method, "GET") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	} else {
		/* POST, PUT, ... without a body: "Content-Length: 0" and no Content-Type */
		hdrs = append_header(hdrs, "Content-Type:", &failed);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}
	if (failed) {
		resp->curl_code = CURLE_OUT_OF_MEMORY;
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);

	resp->curl_code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(curl, CURLINFO_HTTP_VERSION, &resp->http_version);
	if (resp->curl_error[0] == '\0' && resp->curl_code != CURLE_OK)
		snprintf(resp->curl_error, sizeof(resp->curl_error), "%s",
		    curl_easy_strerror(resp->curl_code));
	resp->json = parse_json(resp->body, resp->body_len);
out:
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	free(url);
	return resp;
}

struct http_response *
http_request(const char *method, const char *path, const char *const *headers,
    const char *body, const char *content_type)
{
	struct http_request req = {
		.method = method,
		.path = path,
		.headers = headers,
		.body = body,
		.content_type = content_type,
	};

	return http_perform(&req);
}

void
http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	free_headers(resp);
	json_object_put(resp->json);
	free(resp->body);
	free(resp);
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

json_object *
http_json_at(json_object *obj, const char *path)
{
	char key[128];
	const char *dot;
	size_t len;

	while (obj != NULL && path != NULL && *path != '\0') {
		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(key) || !json_object_is_type(obj, json_type_object))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		if (!json_object_object_get_ex(obj, key, &obj))
			return NULL;
		path = dot ? dot + 1 : NULL;
	}
	return obj;
}

json_object *
http_json_path(const struct http_response *resp, const char *path)
{
	return resp->json != NULL ? http_json_at(resp->json, path) : NULL;
}

const char *
http_json_str(const struct http_response *resp, const char *path)
{
	json_object *v = http_json_path(resp, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}
