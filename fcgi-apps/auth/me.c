/* cx-auth: the caller's own profile. */
#include "config.h"

#include "auth.h"
#include "cx_json.h"
#include "cx_store.h"
#include "cx_time.h"
#include "cx_user.h"

/* The caller's user document; a deleted or deactivated account ends the session. */
static int
load_self(struct cx_request *req, json_object **user, struct cx_error *err)
{
	json_object *active;
	int rc = cx_user_find_by_id(req->app->store, req->claims.sub, user, err);

	if (rc == CX_ENOTFOUND) {
		cx_error_clear(err);
		return cx_error_set(err, CX_EUNAUTH, "Invalid token");
	}
	if (rc != CX_OK)
		return rc;
	if (!json_object_object_get_ex(*user, "is_active", &active) ||
	    !json_object_get_boolean(active)) {
		json_object_put(*user);
		*user = NULL;
		return cx_error_set(err, CX_EUNAUTH, "This account has been deactivated");
	}
	return CX_OK;
}

/* GET /api/auth/me   200 user | 401 | 503 */
int
auth_me_get(struct cx_request *req, struct cx_error *err)
{
	json_object *user = NULL;
	int rc;

	if ((rc = load_self(req, &user, err)) != CX_OK)
		return rc;
	rc = cx_http_ok(req, 200, cx_user_public(user), "Profile retrieved");
	json_object_put(user);
	return rc;
}

/* PUT /api/auth/me  {full_name?, avatar_url?, preferences?, profile?}
 * 200 updated user | 400 | 401 | 413 | 415 | 422 (nothing changed) | 503 */
int
auth_me_put(struct cx_request *req, struct cx_error *err)
{
	struct cx_update *u = cx_update_new();
	struct cx_filter *f = NULL;
	json_object *user = NULL, *after = NULL;
	char now[CX_TIME_LEN];
	int rc;

	if ((rc = cx_user_profile_update(req->json, u, err)) != CX_OK)
		goto out;
	if ((rc = load_self(req, &user, err)) != CX_OK)
		goto out;
	cx_time_now(now);
	cx_update_set(u, "updated_at", json_object_new_string(now));
	f = cx_filter_eq_str(cx_filter_new(), "id", req->claims.sub);
	if ((rc = cx_store_update_one(req->app->store, CX_USERS, f, u, &after, err)) != CX_OK)
		goto out;
	auth_audit(req, req->claims.sub, "profile_update", CX_SEV_LOW,
	    json_object_get(req->json));
	rc = cx_http_ok(req, 200, cx_user_public(after), "Profile updated");
out:
	cx_update_free(u);
	cx_filter_free(f);
	json_object_put(user);
	json_object_put(after);
	return rc;
}
