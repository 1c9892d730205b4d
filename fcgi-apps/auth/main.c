/* cx-auth: route table of the authentication area. */
#include "config.h"

#include "auth.h"
#include "cx_serve.h"

#define AUTH_BODY_LIMIT (64 * 1024)

static const struct cx_route routes[] = {
	{ "POST", "/api/auth/register", CX_PUBLIC, CX_BODY_JSON, AUTH_BODY_LIMIT, auth_register },
	{ "POST", "/api/auth/login", CX_PUBLIC, CX_BODY_JSON | CX_BODY_FORM, AUTH_BODY_LIMIT,
	    auth_login },
	{ "POST", "/api/auth/logout", CX_AUTHENTICATED, CX_BODY_JSON, AUTH_BODY_LIMIT, auth_logout },
	{ "POST", "/api/auth/refresh", CX_PUBLIC, CX_BODY_JSON | CX_BODY_FORM, AUTH_BODY_LIMIT,
	    auth_refresh },
	{ "POST", "/api/auth/forgot-password", CX_PUBLIC, CX_BODY_JSON, AUTH_BODY_LIMIT,
	    auth_forgot_password },
	{ "POST", "/api/auth/reset-password", CX_PUBLIC, CX_BODY_JSON, AUTH_BODY_LIMIT,
	    auth_reset_password },
	{ "GET", "/api/auth/me", CX_AUTHENTICATED, CX_BODY_NONE, 0, auth_me_get },
	{ "PUT", "/api/auth/me", CX_AUTHENTICATED, CX_BODY_JSON, AUTH_BODY_LIMIT, auth_me_put },
	{ "POST", "/api/auth/change-password", CX_AUTHENTICATED, CX_BODY_JSON, AUTH_BODY_LIMIT,
	    auth_change_password },
	{ "GET", "/api/health", CX_PUBLIC, CX_BODY_NONE, 0, auth_health },
};

static const struct cx_program program = {
	.name = "cx-auth",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.needs = CX_NEED_STORE | CX_NEED_REDIS | CX_NEED_SIGNING_KEY,
	.worker_init = auth_worker_init,
	.worker_fini = auth_worker_fini,
};

int
main(int argc, char **argv)
{
	return cx_serve_main(argc, argv, &program);
}
