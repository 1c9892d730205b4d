/* cx_audit: one document per security-relevant action in audit_logs (spec 2.1). */
#include "config.h"

#include <string.h>

#include "cx_audit.h"
#include "cx_http.h"
#include "cx_log.h"
#include "cx_store.h"
#include "cx_time.h"

/* Longest stored text per field (bytes); longer values are cut at a UTF-8 boundary. */
#define MAX_ID 64
#define MAX_NAME 64
#define MAX_RESOURCE_ID 128
#define MAX_IP 64
#define MAX_USER_AGENT 512

static const char *const severity_names[] = {
	[CX_SEV_LOW] = "low",
	[CX_SEV_MEDIUM] = "medium",
	[CX_SEV_HIGH] = "high",
	[CX_SEV_CRITICAL] = "critical",
};

const char *
cx_severity_name(enum cx_severity sev)
{
	if ((unsigned)sev >= sizeof(severity_names) / sizeof(severity_names[0]))
		return "low";
	return severity_names[sev];
}

/* A JSON string of at most max bytes of s (never splitting a UTF-8 sequence), or null. */
static json_object *
bounded(const char *s, size_t max)
{
	size_t len;

	if (s == NULL)
		return NULL;
	len = strnlen(s, max + 1);
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	return json_object_new_string_len(s, (int)len);
}

int
cx_audit_write(struct cx_store *store, const struct cx_audit_entry *entry,
    struct cx_error *err)
{
	json_object *doc = NULL, *details = entry != NULL ? entry->details : NULL;
	char now[CX_TIME_LEN];
	int rc;

	if (entry == NULL || entry->action == NULL || entry->resource == NULL) {
		rc = cx_error_internal(err, "audit entry without action or resource");
		goto out;
	}
	if (details == NULL) {
		details = json_object_new_object();
	} else if (!json_object_is_type(details, json_type_object)) {
		json_object *wrap = json_object_new_object();
		json_object_object_add(wrap, "value", details);
		details = wrap;
	}
	cx_time_now(now);
	doc = json_object_new_object();
	json_object_object_add(doc, "user_id", bounded(entry->user_id, MAX_ID));
	json_object_object_add(doc, "action", bounded(entry->action, MAX_NAME));
	json_object_object_add(doc, "resource", bounded(entry->resource, MAX_NAME));
	json_object_object_add(doc, "resource_id", bounded(entry->resource_id, MAX_RESOURCE_ID));
	json_object_object_add(doc, "details", details);
	details = NULL;
	json_object_object_add(doc, "ip_address", bounded(entry->ip_address, MAX_IP));
	json_object_object_add(doc, "user_agent", bounded(entry->user_agent, MAX_USER_AGENT));
	json_object_object_add(doc, "timestamp", json_object_new_string(now));
	json_object_object_add(doc, "severity",
	    json_object_new_string(cx_severity_name(entry->severity)));
	rc = cx_store_insert(store, "audit_logs", doc, err);
	if (rc != CX_OK)
		cx_logf(CX_LOG_WARN, "audit: could not record %s on %s (%s)", entry->action,
		    entry->resource, cx_code_name(rc));
out:
	json_object_put(details);
	json_object_put(doc);
	return rc;
}

void
cx_audit_request(struct cx_request *req, const char *user_id, const char *action,
    const char *resource, const char *resource_id, enum cx_severity severity,
    json_object *details)
{
	struct cx_audit_entry e = {
		.user_id = user_id,
		.action = action,
		.resource = resource,
		.resource_id = resource_id,
		.details = details,
		.ip_address = req->remote_addr,
		.user_agent = req->user_agent,
		.severity = severity,
	};

	cx_audit_write(req->app->store, &e, NULL);
}
