/* cx-interview: the anti-cheat event log of a session (spec 4.2). */
#include "config.h"

#include <string.h>

#include "cx_audit.h"
#include "cx_json.h"
#include "cx_time.h"
#include "interview.h"

static json_object *
outcome_json(struct session *s, const struct cx_ac_outcome *o)
{
	json_object *data = json_object_new_object(), *st;

	st = json_object_object_get(s->doc, "anti_cheat");
	json_object_object_add(data, "accepted", json_object_new_int(o->accepted));
	json_object_object_add(data, "duplicate", json_object_new_boolean(o->duplicate));
	json_object_object_add(data, "tampering", json_object_new_boolean(o->tampering));
	json_object_object_add(data, "last_seq",
	    json_object_get(json_object_object_get(st, "last_seq")));
	json_object_object_add(data, "violations",
	    json_object_get(json_object_object_get(st, "violations")));
	json_object_object_add(data, "threshold", json_object_new_int(s->ia->ac.total_limit));
	json_object_object_add(data, "strikes",
	    json_object_get(json_object_object_get(st, "strikes")));
	json_object_object_add(data, "warnings", json_object_get(o->warnings));
	json_object_object_add(data, "terminated", json_object_new_boolean(o->terminate));
	json_object_object_add(data, "terminated_reason",
	    json_object_get(json_object_object_get(s->doc, "terminated_reason")));
	json_object_object_add(data, "status", json_object_new_string(session_status(s->doc)));
	return data;
}

/* One "warning" event: message (a string, taken) with the strikes so far. */
static void
publish_warning(struct cx_request *req, struct session *s, json_object *message,
    int terminated)
{
	json_object *st = json_object_object_get(s->doc, "anti_cheat");
	json_object *data = json_object_new_object();

	json_object_object_add(data, "message", message);
	json_object_object_add(data, "violations",
	    json_object_get(json_object_object_get(st, "violations")));
	json_object_object_add(data, "threshold", json_object_new_int(s->ia->ac.total_limit));
	json_object_object_add(data, "strikes",
	    json_object_get(json_object_object_get(st, "strikes")));
	json_object_object_add(data, "terminated", json_object_new_boolean(terminated));
	state_publish(req, cx_json_str(s->doc, "id"), "warning", data);
}

/* Each strike's warning, then the reason when the interview ends. */
static void
publish_warnings(struct cx_request *req, struct session *s, const struct cx_ac_outcome *o)
{
	size_t i;

	for (i = 0; i < json_object_array_length(o->warnings); i++)
		publish_warning(req, s, json_object_get(json_object_array_get_idx(o->warnings, i)),
		    o->terminate);
	if (o->terminate)
		publish_warning(req, s, json_object_new_string(o->reason), 1);
}

static void
audit_termination(struct cx_request *req, struct session *s, const char *reason)
{
	json_object *details = json_object_new_object();

	json_object_object_add(details, "reason", json_object_new_string(reason));
	cx_audit_request(req, req->claims.sub, "interview_terminated", "interview_session",
	    cx_json_str(s->doc, "id"), CX_SEV_HIGH, details);
}

/* POST /api/interview/sessions/{id}/events  {events: [{seq, event, timestamp, details,
 * sequence_hash}]}
 * 200 {accepted, duplicate, tampering, last_seq, violations, threshold, strikes, warnings,
 *      terminated, terminated_reason, status} | 400 | 404 | 409 (not active/paused) | 422 */
int
interview_events(struct cx_request *req, struct cx_error *err)
{
	struct session s = { 0 };
	struct cx_ac_outcome o;
	json_object *events = NULL, *logged = NULL;
	char now[CX_TIME_LEN];
	int rc, attempt;

	memset(&o, 0, sizeof(o));
	if (!json_object_is_type(req->json, json_type_object))
		return cx_error_set(err, CX_EBADREQ, "The body must be a JSON object");
	if ((rc = cx_json_get_object(req->json, "events", 1, &events, err)) != CX_OK)
		return rc;
	for (attempt = 0; attempt < 3; attempt++) {
		session_free(&s);
		cx_ac_outcome_free(&o);
		memset(&o, 0, sizeof(o));
		if ((rc = session_load(req, 0, &s, err)) != CX_OK)
			return rc;
		if (!session_is(s.doc, "active") && !session_is(s.doc, "paused")) {
			rc = cx_error_set(err, CX_ESTATE, "The interview is %s: no more events are "
			    "taken", session_status(s.doc));
			goto out;
		}
		cx_time_format_ms(s.now_ms, now);
		/* the stored entries a retry of this batch would match (not the whole log) */
		json_object_put(logged);
		logged = NULL;
		if ((rc = session_log_for(&s, events, &logged, err)) != CX_OK)
			goto out;
		if ((rc = cx_ac_apply(&s.ia->ac, json_object_object_get(s.doc, "anti_cheat"),
		    logged, events, now, &o, err)) != CX_OK)
			goto out;
		if (o.duplicate)
			break;
		if (session_log_length(s.doc) + (int64_t)json_object_array_length(o.entries) >
		    CX_AC_MAX_LOG) {
			rc = cx_error_field(err, "events", "the session's event log is full");
			goto out;
		}
		session_touch(&s);
		json_object_object_add(s.doc, "anti_cheat", json_object_get(o.state));
		session_log_append(&s, o.entries);
		if (o.terminate)
			rc = session_finish(req, &s, "terminated", o.reason, err);
		else
			rc = session_save(req, &s, err);
		if (rc != CX_ECONFLICT)
			break;
		cx_error_clear(err);
	}
	if (rc != CX_OK)
		goto out;
	publish_warnings(req, &s, &o);
	if (o.terminate) {
		audit_termination(req, &s, o.reason);
		session_publish_complete(req, &s);
	}
	rc = cx_http_ok(req, 200, outcome_json(&s, &o), o.duplicate ? "Events already recorded" :
	    o.terminate ? "The interview has been terminated" : "Events recorded");
out:
	json_object_put(logged);
	cx_ac_outcome_free(&o);
	session_free(&s);
	return rc;
}
