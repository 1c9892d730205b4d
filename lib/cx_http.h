/* cx_http: one FastCGI request: its inputs (method, path, query, headers, cookies,
 * JSON/form body), the authenticated caller, and the response writers that produce the
 * envelopes of spec 3.3. Everything a request allocates is freed by cx_request_reset. */
#ifndef CX_HTTP_H
#define CX_HTTP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "cx_error.h"
#include "cx_fcgi.h"
#include "cx_jwt.h"

struct cx_config;
struct cx_store;
struct cx_redis;
struct cx_route;
struct cx_revoke_view;

/* Per-worker context shared by every request the worker serves. */
struct cx_app {
	const char *program;              /* "cx-auth" */
	const struct cx_config *cfg;
	struct cx_store *store;           /* opened after fork */
	struct cx_redis *redis;
	struct cx_jwt_keys *keys;         /* public always; private if the program issues tokens */
	struct cx_revoke_view *revoke;    /* live access-token revocations (with redis) */
	void *data;                       /* program-specific */
	void (*fini)(struct cx_app *app); /* frees data: the program's worker_fini */
};

#define CX_MAX_PARAMS 8

struct cx_kv {
	char *name;
	char *value;
};
#define CX_MAX_RESP_HEADERS 12

struct cx_request {
	struct cx_fcgi fcgi;               /* the connection: kept by cx_request_reset */
	struct cx_app *app;
	/* inputs (borrowed from FastCGI params, valid for the request) */
	const char *method;
	const char *path;                 /* decoded path without the query string */
	const char *query;                /* raw query string ("" if none) */
	const char *remote_addr;
	const char *user_agent;           /* "" if none */
	const char *request_id;           /* from nginx ($request_id) or generated */
	const char *content_type;         /* "" if none */
	const struct cx_route *route;
	size_t nparams;
	const char *param_names[CX_MAX_PARAMS];
	char *param_values[CX_MAX_PARAMS];
	char *body;                       /* NUL-terminated, body_len bytes */
	size_t body_len;
	json_object *json;                /* parsed JSON body, or NULL */
	/* caller (set by the framework when the route needs a permission) */
	int authenticated;
	struct cx_claims claims;
	/* response */
	int status;
	int sent;
	size_t nheaders;
	char *headers[CX_MAX_RESP_HEADERS];  /* "Name: value" */
	/* decoded name/value pairs, parsed on first use */
	struct cx_kv *query_kv, *form_kv, *cookie_kv;
	size_t nquery, nform, ncookie;
	int query_parsed, form_parsed, cookie_parsed;
	/* allocations freed by cx_request_reset */
	void **pool;
	size_t npool, pool_cap;
	double started_ms;
	/* Deferred writes (cx_store_prepare, cx_serve): a handler that left its writes to the
	 * end of the worker's round sets hold, and its response is kept in held until they
	 * are stored (held_ok, set by the program's batch_commit); if they were not, the
	 * handler runs again with no_defer, writing at once. */
	int hold, held_ok, no_defer;
	char *held;
	size_t held_len, held_cap;
};

/* The response kept while req->hold: written out to FastCGI, or dropped (and the
 * response state cleared for the handler to run again). */
void cx_http_release(struct cx_request *req);
void cx_http_rewind(struct cx_request *req);

/* Request memory: strdup/malloc whose result is freed at the end of the request. */
char *cx_req_strdup(struct cx_request *req, const char *s);
void *cx_req_alloc(struct cx_request *req, size_t size);

/* Inputs. Every returned string is borrowed (valid until the request ends). */
/* A request header ("User-Agent"); nginx passes only those cx-fastcgi.conf names. */
const char *cx_http_header(struct cx_request *req, const char *name);
const char *cx_http_param(struct cx_request *req, const char *name);    /* route {param} */
const char *cx_http_query(struct cx_request *req, const char *name);    /* decoded, or NULL */
const char *cx_http_cookie(struct cx_request *req, const char *name);
const char *cx_http_form(struct cx_request *req, const char *name);     /* urlencoded body */
const char *cx_http_bearer(struct cx_request *req);                     /* Authorization: Bearer */
int cx_http_is_json(const struct cx_request *req);   /* Content-Type application/json */
int cx_http_is_form(const struct cx_request *req);   /* application/x-www-form-urlencoded */

/* Paging from ?page=&limit= (page >= 1, 1 <= limit <= max_limit), VALIDATION_ERROR if bad. */
int cx_http_paging(struct cx_request *req, int64_t default_limit, int64_t max_limit,
    int64_t *page, int64_t *limit, struct cx_error *err);

/* Response headers added before a send. */
void cx_http_add_header(struct cx_request *req, const char *name, const char *value);

/* Writers. Each sends the whole response once; `data`/`body`/`items` are taken.
 * cx_http_ok: {"success":true,"data":data,"message":message,"timestamp":...} */
int cx_http_ok(struct cx_request *req, int status, json_object *data, const char *message);
/* Paginated envelope: data {items,total,page,limit,pages}. */
int cx_http_page(struct cx_request *req, json_object *items, int64_t total, int64_t page,
    int64_t limit, const char *message);
/* A plain JSON body (the OAuth2 token response of RFC 6749 §5.1). */
int cx_http_json(struct cx_request *req, int status, json_object *body);
/* Error envelope from err (adds Retry-After when err->retry_after > 0). */
int cx_http_error(struct cx_request *req, const struct cx_error *err);
/* Any other body (HTML pages, files). */
int cx_http_send(struct cx_request *req, int status, const char *content_type,
    const char *body, size_t len);

/* Framework internals (used by cx_serve and tests). */
void cx_request_init(struct cx_request *req, struct cx_app *app);
/* Fill the inputs (method, path, headers...) from the accepted FastCGI request. */
void cx_request_read_params(struct cx_request *req);
/* Read the body (at most limit bytes: PAYLOAD_TOO_LARGE beyond it). */
int cx_request_read_body(struct cx_request *req, size_t limit, struct cx_error *err);
/* Read and discard whatever body is left, so a kept-alive connection stays in sync. */
void cx_request_drain(struct cx_request *req);
void cx_request_reset(struct cx_request *req);

/* URL-decode (percent and '+' as space in query strings); NULL if invalid or
 * contains NUL. Result is malloc'd. */
char *cx_url_decode(const char *s, size_t len, int plus_is_space);

#endif
