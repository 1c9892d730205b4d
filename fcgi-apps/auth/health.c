/* cx-auth: GET /api/health (spec 6.3): database, Redis and AI service status. */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "cx_config.h"
#include "cx_redis.h"
#include "cx_store.h"
#include "cx_time.h"

/* GET /api/health   200 healthy | 503 unhealthy (same body shape; not enveloped, so load
 * balancers and uptime checkers can read it directly). */
int
auth_health(struct cx_request *req, struct cx_error *err)
{
	const struct cx_config *cfg = req->app->cfg;
	int db_ok = cx_store_ping(req->app->store, NULL) == CX_OK;
	int redis_ok = cx_redis_ping(req->app->redis, NULL) == CX_OK;
	json_object *body = json_object_new_object(), *services = json_object_new_object();
	char now[CX_TIME_LEN], ai[64];

	(void)err;
	cx_time_now(now);
	/* The local provider is built in, so it is always available; a remote provider is
	 * reported as configured (probing it would spend the customer's quota every few
	 * seconds). */
	if (strcmp(cfg->ai_provider, "local") == 0)
		snprintf(ai, sizeof(ai), "healthy");
	else
		snprintf(ai, sizeof(ai), "configured (%s, local fallback)", cfg->ai_provider);
	json_object_object_add(services, "database", json_object_new_string(db_ok ? "healthy" : "unhealthy"));
	json_object_object_add(services, "redis", json_object_new_string(redis_ok ? "healthy" : "unhealthy"));
	json_object_object_add(services, "ai_service", json_object_new_string(ai));
	json_object_object_add(body, "status",
	    json_object_new_string(db_ok && redis_ok ? "healthy" : "unhealthy"));
	json_object_object_add(body, "timestamp", json_object_new_string(now));
	json_object_object_add(body, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(body, "database_backend",
	    json_object_new_string(cx_store_backend(req->app->store)));
	json_object_object_add(body, "services", services);
	return cx_http_json(req, db_ok && redis_ok ? 200 : 503, body);
}
