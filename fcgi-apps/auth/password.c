/* cx-auth: forgot, reset and change password. */
#include "config.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cx_config.h"
#include "cx_crypto.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_mail.h"
#include "cx_password.h"
#include "cx_redis.h"
#include "cx_store.h"
#include "cx_time.h"
#include "cx_tokens.h"
#include "cx_user.h"

#define FORGOT_MESSAGE \
	"If an account exists for that email, a password reset link has been sent."

/* Store the new hash and sign the user out everywhere. */
static int
set_password(struct cx_request *req, const char *user_id, const char *password,
    struct cx_error *err)
{
	const struct cx_config *cfg = req->app->cfg;
	char hash[CX_BCRYPT_HASH_MAX], now[CX_TIME_LEN];
	struct cx_filter *f = NULL;
	struct cx_update *u = NULL;
	int rc;

	if ((rc = cx_password_hash(password, cfg->bcrypt_cost, hash, err)))
		return rc;
	cx_time_now(now);
	f = cx_filter_eq_str(cx_filter_new(), "id", user_id);
	u = cx_update_new();
	cx_update_set(u, "hashed_password", json_object_new_string(hash));
	cx_update_set(u, "password_changed_at", json_object_new_string(now));
	cx_update_set(u, "updated_at", json_object_new_string(now));
	rc = cx_store_update_one(req->app->store, CX_USERS, f, u, NULL, err);
	cx_filter_free(f);
	cx_update_free(u);
	if (rc != CX_OK)
		return rc;
	if ((rc = cx_refresh_revoke_user(req->app->redis, user_id, err)) ||
	    (rc = cx_access_revoke_user(req->app->redis, user_id, cfg->access_token_minutes * 60, err)))
		return rc;
	return CX_OK;
}

static void
mail_password_changed(struct cx_request *req, json_object *user)
{
	const struct cx_config *cfg = req->app->cfg;
	char forgot_url[512], now[CX_TIME_LEN];
	const char *name = cx_json_str(user, "full_name");
	const char *vars[] = { "full_name", name ? name : "", "changed_at", now, "forgot_url", forgot_url,
		NULL };

	cx_time_now(now);
	snprintf(forgot_url, sizeof(forgot_url), "%s/forgot-password", cfg->public_url);
	if (cx_mail_send_template(cfg, cx_json_str(user, "email"), "password_changed", vars,
	    NULL) != CX_OK)
		cx_logf(CX_LOG_WARN, "password-changed notice could not be sent");
}

static void
reset_key(const char *token, char key[80])
{
	char hex[65];

	cx_sha256_hex(token, strlen(token), hex);
	snprintf(key, 80, "reset:%s", hex);
}

/* POST /api/auth/forgot-password  {email}
 * 200 always the same answer | 400 | 413 | 415 | 422 | 429 | 503 */
int
auth_forgot_password(struct cx_request *req, struct cx_error *err)
{
	static const char *const allowed[] = { "email", NULL };
	const struct cx_config *cfg = req->app->cfg;
	const char *email_in = NULL;
	char email[CX_EMAIL_MAX + 1], token[44], key[80], url[640], minutes[16];
	json_object *user = NULL, *active;
	redisReply *reply;
	int rc;

	if (req->json == NULL)
		return cx_error_field(err, "email", "field required");
	if ((rc = cx_json_only_keys(req->json, allowed, err)) ||
	    (rc = cx_json_get_string(req->json, "email", 1, 1, 1024, &email_in, err)) ||
	    (rc = cx_user_normalize_email(email_in, "email", email, err)))
		return rc;
	if ((rc = cx_ratelimit_hit(req->app->redis, req->remote_addr, "forgot", cfg->forgot_limit,
	    3600, err)) ||
	    (rc = cx_ratelimit_hit(req->app->redis, email, "forgot", cfg->forgot_limit, 3600, err)))
		return rc;
	rc = cx_user_find_by_email(req->app->store, email, &user, err);
	if (rc == CX_ENOTFOUND) {
		cx_error_clear(err);
		return cx_http_ok(req, 200, NULL, FORGOT_MESSAGE);
	}
	if (rc != CX_OK)
		return rc;
	if (!json_object_object_get_ex(user, "is_active", &active) ||
	    !json_object_get_boolean(active)) {
		rc = cx_http_ok(req, 200, NULL, FORGOT_MESSAGE);
		goto out;
	}
	if (cx_random_token(token) != 0) {
		rc = cx_error_internal(err, "no randomness for a reset token");
		goto out;
	}
	reset_key(token, key);
	reply = cx_redis_cmd(req->app->redis, err, "SET %s %s EX %d", key, cx_json_str(user, "id"),
	    cfg->reset_token_minutes * 60);
	if (reply == NULL) {
		rc = err->code;
		goto out;
	}
	freeReplyObject(reply);
	snprintf(url, sizeof(url), "%s/reset-password?token=%s", cfg->public_url, token);
	snprintf(minutes, sizeof(minutes), "%d", cfg->reset_token_minutes);
	{
		const char *name = cx_json_str(user, "full_name");
		const char *vars[] = { "full_name", name ? name : "", "reset_url", url,
			"expires_minutes", minutes, NULL };
		if ((rc = cx_mail_send_template(cfg, email, "password_reset", vars, err)) != CX_OK) {
			cx_redis_cmd(req->app->redis, NULL, "DEL %s", key);
			goto out;
		}
	}
	auth_audit(req, cx_json_str(user, "id"), "password_reset_requested", CX_SEV_LOW, NULL);
	rc = cx_http_ok(req, 200, NULL, FORGOT_MESSAGE);
out:
	json_object_put(user);
	return rc;
}

/* POST /api/auth/reset-password  {token, new_password}
 * 200 | 400 invalid, used or expired token | 413 | 415 | 422 weak password | 503
 * The password is validated before the token is spent, so a weak password leaves the
 * token usable. */
int
auth_reset_password(struct cx_request *req, struct cx_error *err)
{
	static const char *const allowed[] = { "token", "new_password", NULL };
	const char *token = NULL, *password = NULL;
	char key[80], user_id[32];
	json_object *user = NULL;
	redisReply *reply;
	int rc;

	if (req->json == NULL)
		return cx_error_field(err, "token", "field required");
	if ((rc = cx_json_only_keys(req->json, allowed, err)) ||
	    (rc = cx_json_get_string(req->json, "token", 1, 1, 256, &token, err)) ||
	    (rc = cx_json_get_string(req->json, "new_password", 1, 0, 1024, &password, err)) ||
	    (rc = cx_password_check_policy(password, "new_password", err)))
		return rc;
	reset_key(token, key);
	/* GETDEL: single use even when two requests race with the same token. */
	reply = cx_redis_cmd(req->app->redis, err, "GETDEL %s", key);
	if (reply == NULL)
		return err->code;
	if (reply->type != REDIS_REPLY_STRING || reply->len >= sizeof(user_id)) {
		freeReplyObject(reply);
		return cx_error_set(err, CX_EBADREQ, "Invalid or expired reset token");
	}
	memcpy(user_id, reply->str, reply->len);
	user_id[reply->len] = '\0';
	freeReplyObject(reply);
	if ((rc = cx_user_find_by_id(req->app->store, user_id, &user, err)) != CX_OK) {
		if (rc == CX_ENOTFOUND) {
			cx_error_clear(err);
			rc = cx_error_set(err, CX_EBADREQ, "Invalid or expired reset token");
		}
		goto out;
	}
	if ((rc = set_password(req, user_id, password, err)) != CX_OK)
		goto out;
	auth_audit(req, user_id, "password_reset", CX_SEV_MEDIUM, NULL);
	mail_password_changed(req, user);
	rc = cx_http_ok(req, 200, NULL, "Your password has been reset. You can now log in.");
out:
	json_object_put(user);
	return rc;
}

/* POST /api/auth/change-password  {current_password, new_password}
 * 200 new tokens (every other session signed out) | 401 | 413 | 415 | 422 | 429 | 503 */
int
auth_change_password(struct cx_request *req, struct cx_error *err)
{
	static const char *const allowed[] = { "current_password", "new_password", NULL };
	const struct cx_config *cfg = req->app->cfg;
	const char *current = NULL, *password = NULL;
	json_object *user = NULL, *tokens = NULL;
	int rc;

	if (req->json == NULL)
		return cx_error_field(err, "current_password", "field required");
	if ((rc = cx_json_only_keys(req->json, allowed, err)) ||
	    (rc = cx_json_get_string(req->json, "current_password", 1, 1, 1024, &current, err)) ||
	    (rc = cx_json_get_string(req->json, "new_password", 1, 0, 1024, &password, err)) ||
	    (rc = cx_password_check_policy(password, "new_password", err)))
		return rc;
	if (strcmp(current, password) == 0)
		return cx_error_field(err, "new_password", "must differ from the current password");
	if ((rc = cx_ratelimit_check(req->app->redis, req->claims.email, "login_fail",
	    cfg->login_account_limit, err)))
		return rc;
	if ((rc = cx_user_find_by_id(req->app->store, req->claims.sub, &user, err)) != CX_OK) {
		if (rc == CX_ENOTFOUND) {
			cx_error_clear(err);
			rc = cx_error_set(err, CX_EUNAUTH, "Invalid token");
		}
		goto out;
	}
	if (!cx_password_verify(current, cx_json_str(user, "hashed_password"))) {
		cx_ratelimit_hit(req->app->redis, req->claims.email, "login_fail", 1 << 30, 900, NULL);
		auth_audit(req, req->claims.sub, "password_change_failed", CX_SEV_MEDIUM, NULL);
		rc = cx_error_field(err, "current_password", "is incorrect");
		goto out;
	}
	if ((rc = set_password(req, req->claims.sub, password, err)) != CX_OK)
		goto out;
	if ((rc = auth_issue_tokens(req, user, &tokens, err)) != CX_OK)
		goto out;
	auth_audit(req, req->claims.sub, "password_change", CX_SEV_MEDIUM, NULL);
	mail_password_changed(req, user);
	rc = cx_http_ok(req, 200, tokens, "Password changed; other sessions were signed out");
out:
	json_object_put(user);
	return rc;
}
