/* cx_http: FastCGI request inputs and the response writers (spec 3.3 envelopes). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cx_buf.h"
#include "cx_crypto.h"
#include "cx_http.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_time.h"

#define MAX_PAIRS 64          /* query/form/cookie pairs kept per request */

/* ---- request memory ---------------------------------------------------------- */

static int
pool_keep(struct cx_request *req, void *p)
{
	if (req->npool == req->pool_cap) {
		size_t cap = req->pool_cap ? req->pool_cap * 2 : 16;
		void **np = realloc(req->pool, cap * sizeof(*np));
		if (np == NULL)
			return -1;
		req->pool = np;
		req->pool_cap = cap;
	}
	req->pool[req->npool++] = p;
	return 0;
}

void *
cx_req_alloc(struct cx_request *req, size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (p != NULL && pool_keep(req, p) != 0) {
		free(p);
		p = NULL;
	}
	return p;
}

char *
cx_req_strdup(struct cx_request *req, const char *s)
{
	size_t n = strlen(s);
	char *p = cx_req_alloc(req, n + 1);

	if (p != NULL)
		memcpy(p, s, n + 1);
	return p;
}

static void
req_keep_malloced(struct cx_request *req, void *p)
{
	if (p != NULL && pool_keep(req, p) != 0)
		free(p);
}

/* ---- lifecycle ---------------------------------------------------------------- */

void
cx_request_init(struct cx_request *req, struct cx_app *app)
{
	memset(req, 0, sizeof(*req));
	cx_fcgi_init(&req->fcgi);
	req->app = app;
}

static const char *
param(struct cx_request *req, const char *name)
{
	const char *v = cx_fcgi_param(&req->fcgi, name);

	return v ? v : "";
}

void
cx_request_read_params(struct cx_request *req)
{
	const char *uri, *q;

	req->started_ms = cx_time_mono_ms();
	req->method = param(req, "REQUEST_METHOD");
	req->query = param(req, "QUERY_STRING");
	req->remote_addr = param(req, "REMOTE_ADDR");
	req->user_agent = param(req, "HTTP_USER_AGENT");
	req->content_type = param(req, "CONTENT_TYPE");
	req->request_id = param(req, "REQUEST_ID");
	if (*req->request_id == '\0') {
		uint8_t raw[16];
		char hex[33];
		cx_random_bytes(raw, sizeof(raw));
		cx_hex_encode(raw, sizeof(raw), hex);
		req->request_id = cx_req_strdup(req, hex);
	}
	/* nginx's DOCUMENT_URI is the decoded, normalised path; fall back to REQUEST_URI. */
	uri = param(req, "DOCUMENT_URI");
	if (*uri == '\0') {
		uri = param(req, "REQUEST_URI");
		q = strchr(uri, '?');
		if (q != NULL) {
			char *dec = cx_url_decode(uri, (size_t)(q - uri), 0);
			req_keep_malloced(req, dec);
			uri = dec ? dec : "";
		}
	}
	req->path = uri;
	req->status = 0;
	cx_log_set_request(req->request_id, req->remote_addr);
}

int
cx_request_read_body(struct cx_request *req, size_t limit, struct cx_error *err)
{
	const char *cl = param(req, "CONTENT_LENGTH");
	char *end = NULL;
	unsigned long long declared = 0;
	size_t cap, len = 0;
	char *buf, *nb;
	ssize_t n = 0;
	int rc = CX_OK;

	if (*cl != '\0') {
		declared = strtoull(cl, &end, 10);
		if (end == cl || *end != '\0')
			return cx_error_set(err, CX_EBADREQ, "Invalid Content-Length");
		if (declared > limit)
			return cx_error_set(err, CX_ETOOLARGE,
			    "Request body too large (limit %zu bytes)", limit);
	}
	cap = declared > 0 ? (size_t)declared + 1 : 1024;
	buf = malloc(cap);
	if (buf == NULL)
		return cx_error_internal(err, "out of memory reading body");
	for (;;) {
		size_t want = cap - 1 - len;
		char more;

		if (want == 0) {
			/* full: one byte more tells whether the body goes on past it */
			if ((n = cx_fcgi_read(&req->fcgi, &more, 1)) <= 0)
				break;
			if (cap > limit + 1) {
				rc = cx_error_set(err, CX_ETOOLARGE,
				    "Request body too large (limit %zu bytes)", limit);
				goto out;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				rc = cx_error_internal(err, "out of memory reading body");
				goto out;
			}
			buf = nb;
			cap *= 2;
			buf[len++] = more;
		} else {
			if ((n = cx_fcgi_read(&req->fcgi, buf + len, want)) < 0)
				break;
			len += (size_t)n;
		}
		if (len > limit) {
			rc = cx_error_set(err, CX_ETOOLARGE,
			    "Request body too large (limit %zu bytes)", limit);
			goto out;
		}
		if ((size_t)n < want)
			break;   /* the end of the body */
	}
	if (n < 0) {   /* the connection broke or the peer gave up: no answer goes out */
		rc = cx_error_set(err, CX_EBADREQ, "Incomplete request body");
		goto out;
	}
	buf[len] = '\0';
	req->body = buf;
	req->body_len = len;
	req_keep_malloced(req, buf);
	buf = NULL;
out:
	free(buf);
	return rc;
}

void
cx_request_drain(struct cx_request *req)
{
	cx_fcgi_drain(&req->fcgi);
}

void
cx_request_reset(struct cx_request *req)
{
	struct cx_app *app = req->app;
	struct cx_fcgi fcgi = req->fcgi;

	json_object_put(req->json);
	for (size_t i = 0; i < req->nheaders; i++)
		free(req->headers[i]);
	free(req->held);
	for (size_t i = 0; i < req->npool; i++)
		free(req->pool[i]);
	free(req->pool);
	cx_log_set_request(NULL, NULL);
	memset(req, 0, sizeof(*req));
	req->fcgi = fcgi;
	req->app = app;
}

/* ---- decoding ---------------------------------------------------------------- */

char *
cx_url_decode(const char *s, size_t len, int plus_is_space)
{
	char *out = malloc(len + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = cx_hex_value((unsigned char)s[i + 1]);
			lo = cx_hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			*o++ = ' ';
		} else if (s[i] == '\0') {
			free(out);
			return NULL;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Parse "a=1&b=2" (or "a=1; b=2" for cookies) into request-owned pairs. */
static void
parse_pairs(struct cx_request *req, const char *text, size_t textlen, char sep, int decode,
    struct cx_kv **out, size_t *nout)
{
	struct cx_kv *kv = cx_req_alloc(req, MAX_PAIRS * sizeof(*kv));
	size_t n = 0, i = 0;

	*out = kv;
	*nout = 0;
	if (kv == NULL)
		return;
	while (i < textlen && n < MAX_PAIRS) {
		size_t start, eq = (size_t)-1, end;
		while (i < textlen && (text[i] == sep || text[i] == ' '))
			i++;
		start = i;
		while (i < textlen && text[i] != sep) {
			if (text[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		end = i;
		if (end == start)
			continue;
		if (eq == (size_t)-1)
			eq = end;
		if (decode) {
			char *name = cx_url_decode(text + start, eq - start, 1);
			char *value = cx_url_decode(text + eq + (eq < end), end - eq - (eq < end), 1);
			req_keep_malloced(req, name);
			req_keep_malloced(req, value);
			if (name == NULL || value == NULL)
				continue;   /* a malformed pair is ignored, like a missing one */
			kv[n].name = name;
			kv[n].value = value;
		} else {
			char *name = cx_req_alloc(req, eq - start + 1);
			char *value = cx_req_alloc(req, end - eq + 1);
			if (name == NULL || value == NULL)
				continue;
			memcpy(name, text + start, eq - start);
			if (eq < end)
				memcpy(value, text + eq + 1, end - eq - 1);
			kv[n].name = name;
			kv[n].value = value;
		}
		n++;
	}
	*nout = n;
}

static const char *
find_pair(const struct cx_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

/* ---- inputs ------------------------------------------------------------------- */

const char *
cx_http_header(struct cx_request *req, const char *name)
{
	char key[128];
	size_t i = 0, o = 0;

	if (strcasecmp(name, "Content-Type") == 0)
		return req->content_type;
	if (strcasecmp(name, "Content-Length") == 0)
		return cx_fcgi_param(&req->fcgi, "CONTENT_LENGTH");
	o = (size_t)snprintf(key, sizeof(key), "HTTP_");
	for (; name[i] != '\0' && o + 1 < sizeof(key); i++)
		key[o++] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[o] = '\0';
	return cx_fcgi_param(&req->fcgi, key);
}

const char *
cx_http_param(struct cx_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->param_names[i], name) == 0)
			return req->param_values[i];
	return NULL;
}

const char *
cx_http_query(struct cx_request *req, const char *name)
{
	if (!req->query_parsed) {
		parse_pairs(req, req->query, strlen(req->query), '&', 1, &req->query_kv,
		    &req->nquery);
		req->query_parsed = 1;
	}
	return find_pair(req->query_kv, req->nquery, name);
}

const char *
cx_http_form(struct cx_request *req, const char *name)
{
	if (!req->form_parsed) {
		if (cx_http_is_form(req) && req->body != NULL)
			parse_pairs(req, req->body, req->body_len, '&', 1, &req->form_kv,
			    &req->nform);
		req->form_parsed = 1;
	}
	return find_pair(req->form_kv, req->nform, name);
}

const char *
cx_http_cookie(struct cx_request *req, const char *name)
{
	if (!req->cookie_parsed) {
		const char *c = cx_http_header(req, "Cookie");
		if (c != NULL)
			parse_pairs(req, c, strlen(c), ';', 0, &req->cookie_kv, &req->ncookie);
		req->cookie_parsed = 1;
	}
	return find_pair(req->cookie_kv, req->ncookie, name);
}

const char *
cx_http_bearer(struct cx_request *req)
{
	const char *h = cx_http_header(req, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

static int
media_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int
cx_http_is_json(const struct cx_request *req)
{
	return req->content_type != NULL && media_type_is(req->content_type, "application/json");
}

int
cx_http_is_form(const struct cx_request *req)
{
	return req->content_type != NULL &&
	    media_type_is(req->content_type, "application/x-www-form-urlencoded");
}

static int
query_int(struct cx_request *req, const char *name, int64_t def, int64_t min, int64_t max,
    int64_t *out, struct cx_error *err)
{
	const char *v = cx_http_query(req, name);
	char *end;
	long long n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return CX_OK;
	}
	n = strtoll(v, &end, 10);
	if (*end != '\0' || end == v || n < min || n > max)
		return cx_error_field(err, name, "must be an integer between %lld and %lld",
		    (long long)min, (long long)max);
	*out = n;
	return CX_OK;
}

int
cx_http_paging(struct cx_request *req, int64_t default_limit, int64_t max_limit,
    int64_t *page, int64_t *limit, struct cx_error *err)
{
	int rc;

	if ((rc = query_int(req, "page", 1, 1, 1000000, page, err)) != CX_OK)
		return rc;
	return query_int(req, "limit", default_limit, 1, max_limit, limit, err);
}

/* ---- responses ---------------------------------------------------------------- */

void
cx_http_add_header(struct cx_request *req, const char *name, const char *value)
{
	char *line;
	size_t n;

	if (req->nheaders >= CX_MAX_RESP_HEADERS)
		return;
	/* Header values never carry CR/LF: a response-splitting attempt is dropped. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return;
	n = strlen(name) + strlen(value) + 3;
	line = malloc(n);
	if (line == NULL)
		return;
	snprintf(line, n, "%s: %s", name, value);
	req->headers[req->nheaders++] = line;
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static int hold_add(struct cx_request *req, const char *data, size_t len);

int
cx_http_send(struct cx_request *req, int status, const char *content_type, const char *body,
    size_t len)
{
	char head[2048];
	int n;

	if (req->sent)
		return CX_OK;
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n", status,
	    reason_phrase(status), content_type, len);
	for (size_t i = 0; i < req->nheaders && n > 0 && (size_t)n < sizeof(head); i++)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", req->headers[i]);
	if (n < 0 || (size_t)n + 2 >= sizeof(head))
		n = (int)sizeof(head) - 3;
	head[n++] = '\r';
	head[n++] = '\n';
	if (len == 0 || strcmp(req->method, "HEAD") == 0)
		len = 0;
	/* held until the writes it reports are stored (out of memory: sent now) */
	if (req->hold && (hold_add(req, head, (size_t)n) != 0 || hold_add(req, body, len) != 0)) {
		req->hold = 0;
		req->held_len = 0;
	}
	if (!req->hold) {
		cx_fcgi_write(&req->fcgi, head, (size_t)n);
		if (len > 0)
			cx_fcgi_write(&req->fcgi, body, len);
	}
	req->sent = 1;
	req->status = status;
	return CX_OK;
}

static int
hold_add(struct cx_request *req, const char *data, size_t len)
{
	if (req->held_len + len > req->held_cap) {
		size_t cap = req->held_cap ? req->held_cap : 4096;
		char *p;

		while (cap < req->held_len + len)
			cap *= 2;
		if ((p = realloc(req->held, cap)) == NULL)
			return -1;
		req->held = p;
		req->held_cap = cap;
	}
	if (len > 0)
		memcpy(req->held + req->held_len, data, len);
	req->held_len += len;
	return 0;
}

void
cx_http_release(struct cx_request *req)
{
	if (req->held_len > 0)
		cx_fcgi_write(&req->fcgi, req->held, req->held_len);
	req->held_len = 0;
	req->hold = 0;
}

void
cx_http_rewind(struct cx_request *req)
{
	for (size_t i = 0; i < req->nheaders; i++)
		free(req->headers[i]);
	req->nheaders = 0;
	req->held_len = 0;
	req->hold = 0;
	req->sent = 0;
	req->status = 0;
}

int
cx_http_json(struct cx_request *req, int status, json_object *body)
{
	struct cx_buf b = { 0 };
	const char *text;
	size_t len = 0;

	if (req->sent) {
		json_object_put(body);
		return CX_OK;
	}
	cx_http_add_header(req, "Cache-Control", "no-store");
	if (cx_json_write(&b, body) == 0) {
		text = b.data;
		len = b.len;
	} else   /* out of memory: json-c may still manage */
		text = cx_json_text(body, &len);
	cx_http_send(req, status, "application/json", text, len);
	cx_buf_free(&b);
	json_object_put(body);
	return CX_OK;
}

static json_object *
envelope(int success, const char *message)
{
	json_object *env = json_object_new_object();
	char now[CX_TIME_LEN];

	cx_time_now(now);
	json_object_object_add(env, "success", json_object_new_boolean(success));
	if (message != NULL)
		json_object_object_add(env, "message", json_object_new_string(message));
	json_object_object_add(env, "timestamp", json_object_new_string(now));
	return env;
}

/* The envelope as envelope() and cx_http_json would make it, written as text: every
 * successful response goes through here. */
int
cx_http_ok(struct cx_request *req, int status, json_object *data, const char *message)
{
	struct cx_buf b = { 0 };
	char now[CX_TIME_LEN];
	struct cx_jw w;

	if (req->sent) {
		json_object_put(data);
		return CX_OK;
	}
	cx_time_now(now);
	cx_jw_open(&w, &b);
	cx_jw_bool(&w, "success", 1);
	cx_jw_str(&w, "message", message ? message : "Operation successful");
	cx_jw_str(&w, "timestamp", now);
	cx_jw_key(&w, "data");
	if (data != NULL)
		(void)cx_json_write(&b, data);
	else
		cx_buf_add(&b, "{}", 2);
	cx_jw_close(&w);
	if (b.failed) {   /* out of memory: json-c may still manage */
		json_object *env = envelope(1, message ? message : "Operation successful");

		cx_buf_free(&b);
		json_object_object_add(env, "data", data ? data : json_object_new_object());
		return cx_http_json(req, status, env);
	}
	json_object_put(data);
	cx_http_add_header(req, "Cache-Control", "no-store");
	cx_http_send(req, status, "application/json", b.data, b.len);
	cx_buf_free(&b);
	return CX_OK;
}

int
cx_http_page(struct cx_request *req, json_object *items, int64_t total, int64_t page,
    int64_t limit, const char *message)
{
	json_object *data = json_object_new_object();

	json_object_object_add(data, "items", items ? items : json_object_new_array());
	json_object_object_add(data, "total", json_object_new_int64(total));
	json_object_object_add(data, "page", json_object_new_int64(page));
	json_object_object_add(data, "limit", json_object_new_int64(limit));
	json_object_object_add(data, "pages",
	    json_object_new_int64(limit > 0 ? (total + limit - 1) / limit : 0));
	return cx_http_ok(req, 200, data, message ? message : "Data retrieved successfully");
}

int
cx_http_error(struct cx_request *req, const struct cx_error *err)
{
	enum cx_code code = err->code != CX_OK ? err->code : CX_EINTERNAL;
	json_object *env = envelope(0, NULL), *e = json_object_new_object();
	char num[32];

	json_object_object_add(e, "code", json_object_new_string(cx_code_name(code)));
	json_object_object_add(e, "message",
	    json_object_new_string(err->message[0] ? err->message : cx_code_name(code)));
	if (err->field[0] != '\0' || err->reason[0] != '\0') {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "field", json_object_new_string(err->field));
		json_object_object_add(d, "reason", json_object_new_string(err->reason));
		json_object_object_add(e, "details", d);
	}
	json_object_object_add(env, "error", e);
	if (err->retry_after > 0) {
		snprintf(num, sizeof(num), "%d", err->retry_after);
		cx_http_add_header(req, "Retry-After", num);
	}
	if (code == CX_EUNAUTH)
		cx_http_add_header(req, "WWW-Authenticate", "Bearer");
	return cx_http_json(req, cx_code_status(code), env);
}
