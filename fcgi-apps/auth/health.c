/* cx-auth: GET /api/health (spec 6.3): database, Redis and AI service status. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cx_config.h"
#include "cx_redis.h"
#include "cx_store.h"
#include "cx_time.h"

/* How long a worker reuses its last probe of the dependencies. Load balancers and uptime
 * checkers poll this endpoint from many places; one probe a second per worker tells them
 * the same thing without a Redis and a database round trip for every poll. */
#define HEALTH_PROBE_MS 1000.0

struct health_probe {
	double at_ms;                /* monotonic time of the probe; 0 = never */
	int db_ok, redis_ok;
	char checked_at[CX_TIME_LEN];
};

int
auth_worker_init(struct cx_app *app, struct cx_error *err)
{
	app->data = calloc(1, sizeof(struct health_probe));
	if (app->data == NULL)
		return cx_error_internal(err, "out of memory");
	return CX_OK;
}

void
auth_worker_fini(struct cx_app *app)
{
	free(app->data);
	app->data = NULL;
}

/* GET /api/health   200 healthy | 503 unhealthy (same body shape; not enveloped, so load
 * balancers and uptime checkers can read it directly). `checked_at` says when the
 * dependencies were last probed (at most a second ago). */
int
auth_health(struct cx_request *req, struct cx_error *err)
{
	const struct cx_config *cfg = req->app->cfg;
	struct health_probe *probe = req->app->data;
	json_object *body = json_object_new_object(), *services = json_object_new_object();
	double now_ms = cx_time_mono_ms();
	char now[CX_TIME_LEN], ai[64];
	int healthy;

	(void)err;
	if (probe->at_ms == 0 || now_ms - probe->at_ms >= HEALTH_PROBE_MS) {
		probe->db_ok = cx_store_ping(req->app->store, NULL) == CX_OK;
		probe->redis_ok = cx_redis_ping(req->app->redis, NULL) == CX_OK;
		probe->at_ms = cx_time_mono_ms();
		cx_time_now(probe->checked_at);
	}
	healthy = probe->db_ok && probe->redis_ok;
	cx_time_now(now);
	/* The local provider is built in, so it is always available; a remote provider is
	 * reported as configured (probing it would spend the customer's quota). */
	if (strcmp(cfg->ai_provider, "local") == 0)
		snprintf(ai, sizeof(ai), "healthy");
	else
		snprintf(ai, sizeof(ai), "configured (%s, local fallback)", cfg->ai_provider);
	json_object_object_add(services, "database",
	    json_object_new_string(probe->db_ok ? "healthy" : "unhealthy"));
	json_object_object_add(services, "redis",
	    json_object_new_string(probe->redis_ok ? "healthy" : "unhealthy"));
	json_object_object_add(services, "ai_service", json_object_new_string(ai));
	json_object_object_add(body, "status", json_object_new_string(healthy ? "healthy" : "unhealthy"));
	json_object_object_add(body, "timestamp", json_object_new_string(now));
	json_object_object_add(body, "checked_at", json_object_new_string(probe->checked_at));
	json_object_object_add(body, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(body, "database_backend",
	    json_object_new_string(cx_store_backend(req->app->store)));
	json_object_object_add(body, "services", services);
	return cx_http_json(req, healthy ? 200 : 503, body);
}
