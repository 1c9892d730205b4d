/* cx-auth: register, login, logout, refresh — the life of a session. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cx_config.h"
#include "cx_json.h"
#include "cx_jwt.h"
#include "cx_log.h"
#include "cx_mail.h"
#include "cx_password.h"
#include "cx_redis.h"
#include "cx_store.h"
#include "cx_time.h"
#include "cx_tokens.h"
#include "cx_user.h"

#define PASSWORD_INPUT_MAX 1024   /* login/current-password input bound (policy is 72 bytes) */

void
auth_audit(struct cx_request *req, const char *user_id, const char *action,
    enum cx_severity severity, json_object *details)
{
	cx_audit_request(req, user_id, action, "auth", user_id, severity, details);
}

int
auth_issue_tokens(struct cx_request *req, json_object *user, json_object **out,
    struct cx_error *err)
{
	const struct cx_config *cfg = req->app->cfg;
	const char *id = cx_json_str(user, "id"), *email = cx_json_str(user, "email");
	const char *role = cx_json_str(user, "role");
	struct cx_refresh_result refresh;
	char *access = NULL;
	json_object *body;
	int rc;

	if (id == NULL || email == NULL || role == NULL)
		return cx_error_internal(err, "user document without id/email/role");
	rc = cx_refresh_issue(req->app->redis, id, role, req->remote_addr,
	    cfg->refresh_token_days * 86400, &refresh, err);
	if (rc != CX_OK)
		return rc;
	rc = cx_jwt_issue(req->app->keys, cfg->jwt_issuer, id, email, role, refresh.family,
	    cfg->access_token_minutes * 60, &access, NULL, err);
	if (rc != CX_OK) {
		cx_refresh_revoke_family(req->app->redis, refresh.family, NULL);
		return rc;
	}
	body = json_object_new_object();
	json_object_object_add(body, "access_token", json_object_new_string(access));
	json_object_object_add(body, "token_type", json_object_new_string("bearer"));
	json_object_object_add(body, "expires_in",
	    json_object_new_int(cfg->access_token_minutes * 60));
	json_object_object_add(body, "refresh_token", json_object_new_string(refresh.token));
	free(access);
	*out = body;
	return CX_OK;
}

/* POST /api/auth/register  {email, password, full_name, role?}
 * 201 created (user + tokens) | 400 | 409 email taken | 413 | 415 | 422 | 429 | 503 */
int
auth_register(struct cx_request *req, struct cx_error *err)
{
	static const char *const allowed[] = { "email", "password", "full_name", "role", NULL };
	const struct cx_config *cfg = req->app->cfg;
	const char *email_in = NULL, *password = NULL, *name_in = NULL, *role = "candidate";
	char email[CX_EMAIL_MAX + 1], hash[CX_BCRYPT_HASH_MAX];
	char *name = NULL;
	json_object *user = NULL, *tokens = NULL, *data;
	int rc;

	if (req->json == NULL)
		return cx_error_field(err, "body", "a JSON object with email, password and full_name is required");
	if ((rc = cx_json_only_keys(req->json, allowed, err)) ||
	    (rc = cx_json_get_string(req->json, "email", 1, 1, 1024, &email_in, err)) ||
	    (rc = cx_json_get_string(req->json, "password", 1, 0, PASSWORD_INPUT_MAX, &password, err)) ||
	    (rc = cx_json_get_string(req->json, "full_name", 1, 0, 1024, &name_in, err)) ||
	    (rc = cx_json_get_string(req->json, "role", 0, 0, 32, &role, err)))
		return rc;
	if ((rc = cx_user_normalize_email(email_in, "email", email, err)) ||
	    (rc = cx_password_check_policy(password, "password", err)) ||
	    (rc = cx_user_clean_name(name_in, "full_name", &name, err)))
		goto out;
	if (strcmp(role, "candidate") != 0 && strcmp(role, "recruiter") != 0) {
		rc = cx_error_field(err, "role", "must be candidate or recruiter");
		goto out;
	}
	if ((rc = cx_ratelimit_hit(req->app->redis, req->remote_addr, "register",
	    cfg->register_ip_limit, 3600, err)))
		goto out;
	if ((rc = cx_password_hash(password, cfg->bcrypt_cost, hash, err)))
		goto out;
	user = cx_user_new_doc(email, name, role, hash);
	if ((rc = cx_store_insert(req->app->store, CX_USERS, user, err)) != CX_OK) {
		if (rc == CX_ECONFLICT) {
			cx_error_clear(err);
			rc = cx_error_set(err, CX_ECONFLICT, "An account with this email already exists");
		}
		goto out;
	}
	auth_audit(req, cx_json_str(user, "id"), "register", CX_SEV_LOW, NULL);
	{
		char login_url[512];
		const char *vars[] = { "full_name", name, "login_url", login_url, NULL };
		snprintf(login_url, sizeof(login_url), "%s/login", cfg->public_url);
		if (cx_mail_send_template(cfg, email, "welcome", vars, NULL) != CX_OK)
			cx_logf(CX_LOG_WARN, "welcome mail to a new user could not be sent");
	}
	if ((rc = auth_issue_tokens(req, user, &tokens, err)) != CX_OK)
		goto out;
	data = tokens;
	json_object_object_add(data, "user", cx_user_public(user));
	rc = cx_http_ok(req, 201, data, "Account created");
out:
	free(name);
	json_object_put(user);
	return rc;
}

/* Credentials from the OAuth2 form (username, password) or JSON (email|username, password). */
static int
login_credentials(struct cx_request *req, const char **email, const char **password,
    struct cx_error *err)
{
	int rc;

	if (cx_http_is_form(req)) {
		const char *grant = cx_http_form(req, "grant_type");
		if (grant != NULL && *grant != '\0' && strcmp(grant, "password") != 0)
			return cx_error_field(err, "grant_type", "must be \"password\"");
		*email = cx_http_form(req, "username");
		*password = cx_http_form(req, "password");
		if (*email == NULL || **email == '\0')
			return cx_error_field(err, "username", "field required");
		if (*password == NULL || **password == '\0')
			return cx_error_field(err, "password", "field required");
		if (strlen(*password) > PASSWORD_INPUT_MAX)
			return cx_error_field(err, "password", "is too long");
		return CX_OK;
	}
	if (req->json == NULL)
		return cx_error_field(err, "body", "email and password are required");
	*email = NULL;
	if ((rc = cx_json_get_string(req->json, "email", 0, 1, 1024, email, err)))
		return rc;
	if (*email == NULL &&
	    (rc = cx_json_get_string(req->json, "username", 0, 1, 1024, email, err)))
		return rc;
	if (*email == NULL)
		return cx_error_field(err, "email", "field required");
	return cx_json_get_string(req->json, "password", 1, 1, PASSWORD_INPUT_MAX, password, err);
}

/* POST /api/auth/login  form {username, password} | JSON {email, password}
 * 200 OAuth2 tokens | 401 bad credentials or deactivated | 413 | 415 | 422 | 429 | 503 */
int
auth_login(struct cx_request *req, struct cx_error *err)
{
	const struct cx_config *cfg = req->app->cfg;
	const char *email_in = NULL, *password = NULL, *hash = NULL;
	char email[CX_EMAIL_MAX + 1];
	json_object *user = NULL, *tokens = NULL, *active;
	struct cx_error lookup = { 0 };
	struct cx_update *u = NULL;
	struct cx_filter *f = NULL;
	char now[CX_TIME_LEN];
	int rc, ok;

	if ((rc = login_credentials(req, &email_in, &password, err)))
		return rc;
	if ((rc = cx_user_normalize_email(email_in, cx_http_is_form(req) ? "username" : "email",
	    email, err)))
		return rc;
	if ((rc = cx_ratelimit_hit(req->app->redis, req->remote_addr, "login",
	    cfg->login_ip_limit, 60, err)) ||
	    (rc = cx_ratelimit_check(req->app->redis, email, "login_fail",
	    cfg->login_account_limit, err)))
		return rc;
	rc = cx_user_find_by_email(req->app->store, email, &user, &lookup);
	if (rc != CX_OK && rc != CX_ENOTFOUND) {
		*err = lookup;
		return rc;
	}
	if (user != NULL)
		hash = cx_json_str(user, "hashed_password");
	ok = cx_password_verify(password, hash);   /* same cost whether or not user exists */
	if (!ok) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "email", json_object_new_string(email));
		auth_audit(req, user ? cx_json_str(user, "id") : NULL, "login_failed", CX_SEV_MEDIUM, d);
		cx_ratelimit_hit(req->app->redis, email, "login_fail", 1 << 30, 900, NULL);
		rc = cx_error_set(err, CX_EUNAUTH, "Incorrect email or password");
		goto out;
	}
	if (!json_object_object_get_ex(user, "is_active", &active) ||
	    !json_object_get_boolean(active)) {
		auth_audit(req, cx_json_str(user, "id"), "login_refused_inactive", CX_SEV_MEDIUM, NULL);
		rc = cx_error_set(err, CX_EUNAUTH, "This account has been deactivated");
		goto out;
	}
	cx_ratelimit_reset(req->app->redis, email, "login_fail");
	cx_time_now(now);
	f = cx_filter_eq_str(cx_filter_new(), "id", cx_json_str(user, "id"));
	u = cx_update_set(cx_update_new(), "last_login", json_object_new_string(now));
	if (cx_store_update_one(req->app->store, CX_USERS, f, u, NULL, NULL) != CX_OK)
		cx_logf(CX_LOG_WARN, "could not record last_login");
	if ((rc = auth_issue_tokens(req, user, &tokens, err)) != CX_OK)
		goto out;
	auth_audit(req, cx_json_str(user, "id"), "login", CX_SEV_LOW, NULL);
	rc = cx_http_json(req, 200, tokens);
out:
	cx_filter_free(f);
	cx_update_free(u);
	json_object_put(user);
	return rc;
}

/* POST /api/auth/logout  [JSON {refresh_token}]
 * 200 | 401 | 503 — revokes this access token and its session's refresh tokens. */
int
auth_logout(struct cx_request *req, struct cx_error *err)
{
	const char *refresh = req->json ? cx_json_str(req->json, "refresh_token") : NULL;
	char uid[32], family[48];
	int rc;

	if ((rc = cx_access_revoke(req->app->redis, req->claims.jti, req->claims.exp, err)) ||
	    (rc = cx_refresh_revoke_family(req->app->redis, req->claims.sid, err)))
		return rc;
	/* A refresh token of another session of the same user is signed out too. */
	if (refresh != NULL && cx_refresh_peek(req->app->redis, refresh, uid, family, NULL) == CX_OK &&
	    strcmp(uid, req->claims.sub) == 0)
		cx_refresh_revoke_family(req->app->redis, family, NULL);
	auth_audit(req, req->claims.sub, "logout", CX_SEV_LOW, NULL);
	return cx_http_ok(req, 200, NULL, "Logged out");
}

/* The refresh token from JSON {refresh_token}, the OAuth2 form, or Authorization: Bearer. */
static int
refresh_token_of(struct cx_request *req, const char **token, struct cx_error *err)
{
	int rc;

	*token = NULL;
	if (cx_http_is_form(req)) {
		const char *grant = cx_http_form(req, "grant_type");
		if (grant != NULL && strcmp(grant, "refresh_token") != 0)
			return cx_error_field(err, "grant_type", "must be \"refresh_token\"");
		*token = cx_http_form(req, "refresh_token");
	} else if (req->json != NULL &&
	    (rc = cx_json_get_string(req->json, "refresh_token", 0, 1, 256, token, err))) {
		return rc;
	}
	if (*token == NULL)
		*token = cx_http_bearer(req);
	if (*token == NULL)
		return cx_error_set(err, CX_EUNAUTH, "Refresh token required");
	if (strlen(*token) > 256)
		return cx_error_set(err, CX_EUNAUTH, "Invalid refresh token");
	return CX_OK;
}

/* POST /api/auth/refresh
 * 200 OAuth2 tokens (rotated) | 401 unknown/reused/revoked or user deactivated | 415 | 422 | 503 */
int
auth_refresh(struct cx_request *req, struct cx_error *err)
{
	const struct cx_config *cfg = req->app->cfg;
	struct cx_refresh_result next;
	const char *token;
	json_object *user = NULL, *active, *body;
	char *access = NULL;
	int reused = 0, rc;

	if ((rc = refresh_token_of(req, &token, err)))
		return rc;
	rc = cx_refresh_rotate(req->app->redis, token, cfg->refresh_token_days * 86400, &next,
	    &reused, err);
	if (rc != CX_OK) {
		if (reused) {
			json_object *d = json_object_new_object();
			json_object_object_add(d, "reason", json_object_new_string(
			    "a rotated refresh token was presented again; the session was revoked"));
			auth_audit(req, NULL, "refresh_token_reuse", CX_SEV_HIGH, d);
		}
		return rc;
	}
	if (cx_user_find_by_id(req->app->store, next.user_id, &user, NULL) != CX_OK ||
	    !json_object_object_get_ex(user, "is_active", &active) ||
	    !json_object_get_boolean(active)) {
		cx_refresh_revoke_family(req->app->redis, next.family, NULL);
		rc = cx_error_set(err, CX_EUNAUTH, "Invalid refresh token");
		goto out;
	}
	rc = cx_jwt_issue(req->app->keys, cfg->jwt_issuer, next.user_id,
	    cx_json_str(user, "email"), cx_json_str(user, "role"), next.family,
	    cfg->access_token_minutes * 60, &access, NULL, err);
	if (rc != CX_OK)
		goto out;
	body = json_object_new_object();
	json_object_object_add(body, "access_token", json_object_new_string(access));
	json_object_object_add(body, "token_type", json_object_new_string("bearer"));
	json_object_object_add(body, "expires_in", json_object_new_int(cfg->access_token_minutes * 60));
	json_object_object_add(body, "refresh_token", json_object_new_string(next.token));
	rc = cx_http_json(req, 200, body);
out:
	free(access);
	json_object_put(user);
	return rc;
}
