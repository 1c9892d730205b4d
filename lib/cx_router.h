/* cx_router: a program's route table ({method, pattern, permission, body, handler}) and
 * the one place where method, route, auth, permission, content type and size are
 * checked before a handler runs. */
#ifndef CX_ROUTER_H
#define CX_ROUTER_H

#include <stddef.h>

#include "cx_error.h"
#include "cx_http.h"

#define CX_PUBLIC NULL                     /* permission: no token needed */
#define CX_AUTHENTICATED "authenticated"   /* permission: any valid token */

/* Accepted request bodies (bit set). CX_BODY_NONE: the route reads no body; one that
 * comes anyway is read (within the size limit, else 413) and ignored. */
enum {
	CX_BODY_NONE = 0,
	CX_BODY_JSON = 1,   /* application/json, parsed into req->json */
	CX_BODY_FORM = 2,   /* application/x-www-form-urlencoded, read with cx_http_form */
};

typedef int (*cx_handler)(struct cx_request *req, struct cx_error *err);

struct cx_route {
	const char *method;        /* "GET", "POST", "PUT", "DELETE", "PATCH" */
	const char *pattern;       /* "/api/auth/users/{id}" */
	const char *permission;    /* CX_PUBLIC, CX_AUTHENTICATED or a spec 4.1 permission */
	unsigned body;             /* CX_BODY_* bits accepted */
	size_t body_limit;         /* bytes; 0 = the configured default */
	cx_handler handler;
};

/* Match method+path against the table. On success *route is set and the {params} are
 * stored in req. Errors: NOT_FOUND (no pattern matches), METHOD_NOT_ALLOWED (a pattern
 * matches with another method). */
int cx_router_match(const struct cx_route *routes, size_t nroutes, const char *method,
    const char *path, struct cx_request *req, const struct cx_route **route,
    struct cx_error *err);

/* Run one accepted request through the checks and the handler, and make sure exactly
 * one response is sent (the error envelope when the handler fails). */
void cx_router_dispatch(const struct cx_route *routes, size_t nroutes, struct cx_request *req);
/* A request whose handler deferred its writes (req->hold), once the program's
 * batch_commit has decided: ok, its response goes out; else the handler runs again,
 * writing at once. Then its access log line. */
void cx_router_finish_held(struct cx_request *req, int ok);

/* Authenticate the bearer token of req (verify + revocation check) and require
 * `permission`. Sets req->claims. UNAUTHORIZED / FORBIDDEN / SERVICE_UNAVAILABLE. */
int cx_router_authorize(struct cx_request *req, const char *permission, struct cx_error *err);

#endif
