/* cx_router: route matching and the checks every request passes before its handler
 * (cgit's process_request, redis's processCommand). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cx_config.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_perm.h"
#include "cx_redis.h"
#include "cx_revoke.h"
#include "cx_router.h"
#include "cx_time.h"
#include "cx_tokens.h"

/* Does `path` match `pattern`? Captures {name} segments into req when req != NULL. */
static int
match_pattern(const char *pattern, const char *path, struct cx_request *req)
{
	const char *p = pattern, *s = path;
	size_t nparams = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			const char *send = strchr(s, '/');
			size_t seglen = send ? (size_t)(send - s) : strlen(s);
			if (pend == NULL || seglen == 0)
				return 0;
			if (req != NULL && nparams < CX_MAX_PARAMS) {
				char *name = cx_req_alloc(req, (size_t)(pend - p));
				char *value = cx_req_alloc(req, seglen + 1);
				if (name == NULL || value == NULL)
					return 0;
				memcpy(name, p + 1, (size_t)(pend - p - 1));
				memcpy(value, s, seglen);
				req->param_names[nparams] = name;
				req->param_values[nparams] = value;
			}
			nparams++;
			p = pend + 1;
			s += seglen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (req != NULL)
		req->nparams = nparams < CX_MAX_PARAMS ? nparams : CX_MAX_PARAMS;
	return 1;
}

int
cx_router_match(const struct cx_route *routes, size_t nroutes, const char *method,
    const char *path, struct cx_request *req, const struct cx_route **route,
    struct cx_error *err)
{
	char allow[128] = "";
	size_t alen = 0;
	int path_matched = 0;
	int is_head = strcmp(method, "HEAD") == 0;

	for (size_t i = 0; i < nroutes; i++) {
		if (!match_pattern(routes[i].pattern, path, NULL))
			continue;
		path_matched = 1;
		if (strcmp(routes[i].method, method) == 0 ||
		    (is_head && strcmp(routes[i].method, "GET") == 0)) {
			match_pattern(routes[i].pattern, path, req);
			*route = &routes[i];
			return CX_OK;
		}
		if (alen + strlen(routes[i].method) + 3 < sizeof(allow))
			alen += (size_t)snprintf(allow + alen, sizeof(allow) - alen, "%s%s",
			    alen ? ", " : "", routes[i].method);
	}
	if (path_matched) {
		if (req != NULL)
			cx_http_add_header(req, "Allow", allow);
		return cx_error_set(err, CX_EMETHOD, "Method %s is not allowed here", method);
	}
	return cx_error_set(err, CX_ENOTFOUND, "No such endpoint");
}

int
cx_router_authorize(struct cx_request *req, const char *permission, struct cx_error *err)
{
	const struct cx_app *app = req->app;
	const char *token = cx_http_bearer(req);
	int revoked = 0, rc;

	if (token == NULL)
		return cx_error_set(err, CX_EUNAUTH, "Authentication required");
	rc = cx_jwt_verify(app->keys, app->cfg->jwt_issuer, token, &req->claims, err);
	if (rc != CX_OK)
		return rc;
	/* The live view answers without a round trip; when its subscription is down, ask
	 * Redis (which then answers 503 if it is down too). */
	if (cx_revoke_view_sync(app->revoke)) {
		revoked = cx_revoke_view_is_revoked(app->revoke, req->claims.jti, req->claims.sub,
		    req->claims.iat);
	} else {
		rc = cx_access_is_revoked(app->redis, req->claims.jti, req->claims.sub,
		    req->claims.iat, &revoked, err);
		if (rc != CX_OK)
			return rc;
	}
	if (revoked)
		return cx_error_set(err, CX_EUNAUTH, "Token has been revoked");
	if (!cx_role_has_permission(req->claims.role, permission))
		return cx_error_set(err, CX_EFORBIDDEN, "You do not have permission to do this");
	req->authenticated = 1;
	return CX_OK;
}

/* Body checks: size, media type, JSON well-formedness. */
static int
read_body(const struct cx_route *route, struct cx_request *req, struct cx_error *err)
{
	size_t limit = route->body_limit ? route->body_limit
	                                 : (size_t)req->app->cfg->max_body_bytes;
	int rc;

	if ((rc = cx_request_read_body(req, limit, err)) != CX_OK)
		return rc;
	if (req->body_len == 0)
		return CX_OK;
	if ((route->body & CX_BODY_JSON) && cx_http_is_json(req))
		return cx_json_parse(req->body, req->body_len, &req->json, err);
	if ((route->body & CX_BODY_FORM) && cx_http_is_form(req))
		return CX_OK;
	if (route->body == CX_BODY_NONE)
		return CX_OK;   /* a body the route does not read is ignored */
	return cx_error_set(err, CX_EMEDIA, "Content-Type must be %s",
	    (route->body & CX_BODY_FORM) ? (route->body & CX_BODY_JSON
	        ? "application/json or application/x-www-form-urlencoded"
	        : "application/x-www-form-urlencoded")
	        : "application/json");
}

/* The error response, when the handler failed or sent nothing. */
static void
respond(struct cx_request *req, const struct cx_route *route, int rc, struct cx_error *err)
{
	if (rc != CX_OK) {
		if (err->code == CX_OK)
			cx_error_code(err, (enum cx_code)rc);
		if (!req->sent)
			cx_http_error(req, err);
	} else if (!req->sent) {
		cx_error_internal(err, "handler for %s %s sent no response", route->method,
		    route->pattern);
		cx_http_error(req, err);
	}
	cx_request_drain(req);
}

static void
log_access(struct cx_request *req)
{
	cx_log_access(req->method, req->route ? req->route->pattern : "", req->path, req->status,
	    cx_time_mono_ms() - req->started_ms, req->authenticated ? req->claims.sub : NULL);
}

void
cx_router_dispatch(const struct cx_route *routes, size_t nroutes, struct cx_request *req)
{
	struct cx_error err = { 0 };
	const struct cx_route *route = NULL;
	int rc;

	rc = cx_router_match(routes, nroutes, req->method, req->path, req, &route, &err);
	if (rc == CX_OK) {
		req->route = route;
		rc = read_body(route, req, &err);
	}
	if (rc == CX_OK && route->permission != CX_PUBLIC)
		rc = cx_router_authorize(req, route->permission, &err);
	if (rc == CX_OK)
		rc = route->handler(req, &err);
	respond(req, route, rc, &err);
	if (!req->hold)   /* else once it is decided (cx_router_finish_held) */
		log_access(req);
}

void
cx_router_finish_held(struct cx_request *req, int ok)
{
	struct cx_error err = { 0 };
	int rc;

	if (ok)
		cx_http_release(req);
	else {   /* its writes were not stored: decided again, writing at once */
		cx_http_rewind(req);
		req->no_defer = 1;
		rc = req->route->handler(req, &err);
		respond(req, req->route, rc, &err);
		cx_http_release(req);   /* in case it held again */
	}
	log_access(req);
}
