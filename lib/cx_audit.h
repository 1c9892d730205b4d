/* cx_audit: writes entries to the audit_logs collection (spec 2.1, Audit Logs). */
#ifndef CX_AUDIT_H
#define CX_AUDIT_H

#include <json-c/json.h>

#include "cx_error.h"

struct cx_store;

enum cx_severity { CX_SEV_LOW, CX_SEV_MEDIUM, CX_SEV_HIGH, CX_SEV_CRITICAL };

struct cx_audit_entry {
	const char *user_id;      /* may be NULL (unknown user, e.g. a failed login) */
	const char *action;       /* "login", "login_failed", "logout", "password_change", ... */
	const char *resource;     /* "auth", "user", "interview_session", ... */
	const char *resource_id;  /* may be NULL */
	json_object *details;     /* taken; may be NULL (stored as {}) */
	const char *ip_address;
	const char *user_agent;
	enum cx_severity severity;
};

/* Insert one entry with timestamp now. Logs (and returns) on failure; callers decide
 * whether an audit failure fails the request. details is always consumed. */
int cx_audit_write(struct cx_store *store, const struct cx_audit_entry *entry,
    struct cx_error *err);
const char *cx_severity_name(enum cx_severity sev);

/* An entry for what the caller of req did: its address and user agent are recorded.
 * details is consumed; failures are logged only (an audit failure never fails the
 * request it describes). */
struct cx_request;
void cx_audit_request(struct cx_request *req, const char *user_id, const char *action,
    const char *resource, const char *resource_id, enum cx_severity severity,
    json_object *details);

#endif
