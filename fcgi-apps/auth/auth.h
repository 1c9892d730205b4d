/* cx-auth: the authentication area (/api/auth/...) and /api/health. */
#ifndef CX_AUTH_APP_H
#define CX_AUTH_APP_H

#include <json-c/json.h>

#include "cx_audit.h"
#include "cx_error.h"
#include "cx_http.h"

/* session.c */
int auth_register(struct cx_request *req, struct cx_error *err);
int auth_login(struct cx_request *req, struct cx_error *err);
int auth_logout(struct cx_request *req, struct cx_error *err);
int auth_refresh(struct cx_request *req, struct cx_error *err);
/* password.c */
int auth_forgot_password(struct cx_request *req, struct cx_error *err);
int auth_reset_password(struct cx_request *req, struct cx_error *err);
int auth_change_password(struct cx_request *req, struct cx_error *err);
/* me.c */
int auth_me_get(struct cx_request *req, struct cx_error *err);
int auth_me_put(struct cx_request *req, struct cx_error *err);
/* health.c */
int auth_health(struct cx_request *req, struct cx_error *err);
int auth_worker_init(struct cx_app *app, struct cx_error *err);
void auth_worker_fini(struct cx_app *app);

/* Shared by the handlers (session.c). */

/* Start a session for user (a new refresh-token family) and build the OAuth2 token body
 * {access_token, token_type, expires_in, refresh_token}. *out is the caller's. */
int auth_issue_tokens(struct cx_request *req, json_object *user, json_object **out,
    struct cx_error *err);
/* Write an audit entry for this request (ip, user agent); failures are logged only. */
void auth_audit(struct cx_request *req, const char *user_id, const char *action,
    enum cx_severity severity, json_object *details);

#endif
