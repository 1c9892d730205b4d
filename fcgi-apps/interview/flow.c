/* cx-interview: taking an interview — precheck, questions, answers, pause, finish. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_audit.h"
#include "cx_buf.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_perm.h"
#include "cx_time.h"
#include "cx_user.h"
#include "interview.h"

#define ANSWER_MAX CX_AI_MAX_ANSWER
#define SAVE_ATTEMPTS 4   /* one on the worker's copy, three on the stored session */

static int
wrong_state(struct session *s, const char *action, struct cx_error *err)
{
	const char *st = session_status(s->doc);

	if (strcmp(st, "completed") == 0 || strcmp(st, "terminated") == 0) {
		if (strcmp(cx_json_str(s->doc, "completed_reason") ?
		    cx_json_str(s->doc, "completed_reason") : "", "time_up") == 0)
			return cx_error_set(err, CX_ESTATE, "Time is up: the interview has been "
			    "finalized, so it cannot %s", action);
		return cx_error_set(err, CX_ESTATE, "The interview is %s and cannot %s", st,
		    action);
	}
	return cx_error_set(err, CX_ESTATE, "The interview is %s and cannot %s now", st, action);
}

/* The question the candidate is on: *qdoc NULL when there is none (not started, or every
 * question answered). */
static int
current_question(struct session *s, json_object **qdoc, int *index, struct cx_error *err)
{
	int cur = session_current(s->doc);
	const char *qid = session_plan_id(s->doc, cur);

	*qdoc = NULL;
	*index = cur;
	return qid != NULL ? session_question(s, qid, qdoc, err) : CX_OK;
}

/* The question at index as the candidate sees it, with the clock t (NULL: without), as
 * text into b. */
static void
question_data_write(struct cx_buf *b, struct session *s, json_object *qdoc, int index,
    const struct session_time *t)
{
	struct cx_jw w;

	cx_jw_open(&w, b);
	question_view_write(&w, qdoc_question(qdoc), session_plan_asked_at(s->doc, index),
	    index + 1, session_plan_length(s->doc), 0);
	if (t != NULL)
		session_time_write(&w, "time", t);
	cx_jw_close(&w);
}

/* The same as a value (raw text: for a response or an event), or NULL for want of
 * memory. */
static json_object *
question_data(struct session *s, json_object *qdoc, int index)
{
	struct cx_buf b = { 0 };
	struct session_time t;
	json_object *o = NULL;

	session_time(s->doc, s->now_ms, &t);
	question_data_write(&b, s, qdoc, index, &t);
	if (!b.failed)
		o = cx_json_raw(b.data, b.len);
	cx_buf_free(&b);
	return o;
}

static void
publish_question(struct cx_request *req, struct session *s)
{
	struct cx_error e = { 0 };
	json_object *qdoc;
	int index;

	if (current_question(s, &qdoc, &index, &e) != CX_OK)
		cx_logf(CX_LOG_WARN, "no question event for session %s: %s",
		    cx_json_str(s->doc, "id"), e.message);
	else if (qdoc != NULL)
		state_publish(req, cx_json_str(s->doc, "id"), "question",
		    question_data(s, qdoc, index));
}

static void
publish_timer(struct cx_request *req, struct session *s)
{
	struct session_time t;
	json_object *data;

	session_time(s->doc, s->now_ms, &t);
	data = session_time_json(&t);
	json_object_object_add(data, "status", json_object_new_string(session_status(s->doc)));
	state_publish(req, cx_json_str(s->doc, "id"), "timer", data);
}

static void
set_now(json_object *obj, const char *field, int64_t now_ms)
{
	char now[CX_TIME_LEN];

	cx_time_format_ms(now_ms, now);
	json_object_object_add(obj, field, json_object_new_string(now));
}

/* ---------------------------------------------------------------- precheck */

struct check {
	const char *field;
	int required;
	const char *warning;
};

static const struct check checks[] = {
	{ "camera", 1, "Your camera is not available: allow camera access and reload." },
	{ "microphone", 1, "Your microphone is not available: allow microphone access and "
	  "reload." },
	{ "speaker", 0, "No speaker or headphones were detected: you may not hear spoken "
	  "questions." },
	{ "fullscreen", 1, "Full screen is required during the interview: allow full screen "
	  "and try again." },
	{ "single_screen", 0, "More than one screen was detected: use a single screen during "
	  "the interview." },
};

/* POST /api/interview/sessions/{id}/precheck  {camera, microphone, speaker, fullscreen,
 * single_screen}   200 {passed, warnings, precheck_result, status, session} | 404 | 409 |
 * 422 */
int
interview_precheck(struct cx_request *req, struct cx_error *err)
{
	struct session s;
	json_object *result = NULL, *warnings, *data;
	int values[sizeof(checks) / sizeof(checks[0])], passed = 1, rc;
	size_t i;

	if (!json_object_is_type(req->json, json_type_object))
		return cx_error_set(err, CX_EBADREQ, "The body must be a JSON object");
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		values[i] = 0;
		if ((rc = cx_json_get_bool(req->json, checks[i].field, 0, &values[i], err)) != CX_OK)
			return rc;
	}
	if ((rc = session_load(req, 0, &s, err)) != CX_OK)
		return rc;
	if (!session_is(s.doc, "setup") && !session_is(s.doc, "precheck")) {
		rc = wrong_state(&s, "run the precheck", err);
		goto out;
	}
	if ((rc = session_assemble(&s, err)) != CX_OK)
		goto out;
	session_touch(&s);
	result = json_object_new_object();
	warnings = json_object_new_array();
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		json_object_object_add(result, checks[i].field, json_object_new_boolean(values[i]));
		if (!values[i]) {
			json_object_array_add(warnings, json_object_new_string(checks[i].warning));
			if (checks[i].required)
				passed = 0;
		}
	}
	json_object_object_add(result, "passed", json_object_new_boolean(passed));
	json_object_object_add(result, "warnings", warnings);
	set_now(result, "checked_at", s.now_ms);
	json_object_object_add(s.doc, "precheck_result", json_object_get(result));
	if (passed) {
		json_object *state = NULL;

		if ((rc = cx_ac_state_new(&state, err)) != CX_OK)
			goto out;
		json_object_object_add(s.doc, "anti_cheat", state);
		json_object_object_add(s.doc, "status", json_object_new_string("active"));
		set_now(s.doc, "started_at", s.now_ms);
		json_object_object_add(s.doc, "current", json_object_new_int(0));
		session_plan_ask(s.doc, 0, s.now_ms);
	} else
		json_object_object_add(s.doc, "status", json_object_new_string("precheck"));
	if ((rc = session_save(req, &s, err)) != CX_OK)
		goto out;
	if (passed) {
		publish_timer(req, &s);
		publish_question(req, &s);
	}
	data = json_object_new_object();
	json_object_object_add(data, "passed", json_object_new_boolean(passed));
	json_object_object_add(data, "warnings",
	    json_object_get(json_object_object_get(result, "warnings")));
	json_object_object_add(data, "precheck_result", json_object_get(result));
	json_object_object_add(data, "status", json_object_new_string(session_status(s.doc)));
	json_object_object_add(data, "session", session_view(&s, 0));
	rc = cx_http_ok(req, 200, data, passed ? "Precheck passed: the interview has started" :
	    "Precheck did not pass: fix the items listed and try again");
out:
	json_object_put(result);
	session_free(&s);
	return rc;
}

/* ---------------------------------------------------------------- questions */

/* GET /api/interview/sessions/{id}/next-question
 * 200 question (the same one until it is answered) | 404 | 409 */
int
interview_next_question(struct cx_request *req, struct cx_error *err)
{
	struct session s;
	json_object *q;
	int index, rc;

	if ((rc = session_load(req, 0, &s, err)) != CX_OK)
		return rc;
	if (!session_is(s.doc, "active"))
		rc = wrong_state(&s, "give a question", err);
	else if ((rc = current_question(&s, &q, &index, err)) == CX_OK)
		rc = q != NULL ? cx_http_ok(req, 200, question_data(&s, q, index),
		    "Current question") : cx_error_set(err, CX_ESTATE, "Every question has been "
		    "answered: finalize the interview to see your result");
	session_free(&s);
	return rc;
}

/* ---------------------------------------------------------------- answers */

struct answer_req {
	const char *question_id, *content, *type;
};

static int
parse_answer(struct cx_request *req, struct answer_req *a, struct cx_error *err)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (!json_object_is_type(req->json, json_type_object))
		return cx_error_set(err, CX_EBADREQ, "The body must be a JSON object");
	if ((rc = cx_json_get_string(req->json, "question_id", 1, 1, 32, &a->question_id,
	    err)) != CX_OK ||
	    (rc = cx_json_get_string(req->json, "content", 1, 1, ANSWER_MAX, &a->content,
	    err)) != CX_OK ||
	    (rc = cx_json_get_string(req->json, "type", 0, 1, 16, &a->type, err)) != CX_OK)
		return rc;
	if (a->type == NULL)
		a->type = "text";
	if (strcmp(a->type, "coding") == 0)
		a->type = "code";
	if (strcmp(a->type, "text") != 0 && strcmp(a->type, "voice") != 0 &&
	    strcmp(a->type, "code") != 0)
		return cx_error_field(err, "type", "must be text, voice or code");
	if (strspn(a->content, " \t\r\n") == strlen(a->content))
		return cx_error_field(err, "content", "must not be empty");
	if (!cx_utf8_valid(a->content, strlen(a->content)))
		return cx_error_field(err, "content", "must be valid UTF-8 text");
	return CX_OK;
}

/* The last planned question that has not been asked, after the current one: the one a
 * follow-up replaces so the budget holds. -1 if none. (A follow-up is asked as soon as
 * it is planned, so this is never one.) */
static int
spare_question(json_object *doc, int current)
{
	int i;

	for (i = session_plan_length(doc) - 1; i > current; i--)
		if (session_plan_asked_at(doc, i) == NULL)
			return i;
	return -1;
}

/* The follow-up the evaluation asked for (feedback's follow_up), as a new question document
 * of s with the id <parent>f, or NULL. */
static json_object *
new_follow_up(struct interview_app *ia, struct session *s, json_object *parent,
    json_object *feedback)
{
	json_object *fu = NULL;
	struct cx_error e = { 0 };
	char id[40];

	if (json_object_object_get(feedback, "follow_up") == NULL)
		return NULL;
	if (cx_ai_follow_up_question(ia->ai, parent, feedback, &fu, &e) != CX_OK) {
		cx_logf(CX_LOG_WARN, "no follow-up question: %s", e.message);
		return NULL;
	}
	snprintf(id, sizeof(id), "%sf", cx_json_str(parent, "id"));
	json_object_object_add(fu, "id", json_object_new_string(id));
	json_object_object_add(fu, "parent_id",
	    json_object_new_string(cx_json_str(parent, "id")));
	json_object_object_add(fu, "is_follow_up", json_object_new_boolean(1));
	return session_new_question(s, fu);
}

/* Move the session past the question at index: a follow-up (fu_id) goes right after it
 * in place of the spare question, the next question is asked. The next question's id, or
 * NULL when none is left. */
static const char *
advance(struct session *s, int index, const char *fu_id)
{
	int spare = fu_id != NULL ? spare_question(s->doc, index) : -1;

	if (spare > index)
		session_plan_insert(s->doc, index, fu_id, spare);
	session_plan_ask(s->doc, index + 1, s->now_ms);
	json_object_object_add(s->doc, "current", json_object_new_int(index + 1));
	json_object_object_add(s->doc, "answered", json_object_new_int(
	    (int)json_object_get_int(json_object_object_get(s->doc, "answered")) + 1));
	return session_plan_id(s->doc, index + 1);
}

/* The response to an answer; fresh: this request recorded it (so it asked the next
 * question, which has no answer yet). With event, also the data of the "question" event
 * of the next question (NULL when none): what question_data makes, with the same clock.
 * Both are raw text values (written without a tree: every answer makes them). */
static int
answer_data(struct session *s, json_object *answer, int fresh, json_object **out,
    json_object **event, struct cx_error *err)
{
	json_object *qdoc = NULL, *fu = NULL;
	struct cx_buf b = { 0 }, e = { 0 };
	struct session_time t;
	struct cx_jw w;
	const char *next = cx_json_str(answer, "next_question_id");
	int index = next != NULL ? session_plan_index(s->doc, next) : -1, rc;

	if (index >= 0 && (rc = (fresh ? session_question_asked : session_question)(s, next,
	    &qdoc, err)) != CX_OK)
		return rc;
	session_time(s->doc, s->now_ms, &t);
	json_object_object_get_ex(answer, "follow_up", &fu);
	cx_jw_open(&w, &b);
	cx_jw_str(&w, "session_id", cx_json_str(s->doc, "id"));
	cx_jw_str(&w, "question_id", cx_json_str(answer, "question_id"));
	cx_jw_json(&w, "feedback", json_object_object_get(answer, "ai_feedback"));
	cx_jw_str(&w, "next_question_id", next);
	cx_jw_bool(&w, "follow_up", json_object_get_boolean(fu));
	cx_jw_key(&w, "next_question");
	if (qdoc != NULL)
		question_data_write(&b, s, qdoc, index, NULL);
	else
		cx_buf_add(&b, "null", 4);
	session_progress_write(&w, "progress", s->doc);
	session_time_write(&w, "time", &t);
	cx_jw_close(&w);
	if (event != NULL && qdoc != NULL)
		question_data_write(&e, s, qdoc, index, &t);
	if (b.failed || e.failed) {
		cx_buf_free(&b);
		cx_buf_free(&e);
		return cx_error_internal(err, "out of memory");
	}
	*out = cx_json_raw(b.data, b.len);
	if (event != NULL)
		*event = qdoc != NULL ? cx_json_raw(e.data, e.len) : NULL;
	cx_buf_free(&b);
	cx_buf_free(&e);
	return *out != NULL ? CX_OK : cx_error_internal(err, "out of memory");
}

/* Evaluate and record the answer to the current question; make the next one current. */
static int
record_answer(struct cx_request *req, struct session *s, const struct answer_req *a,
    json_object *qdoc, int index, struct cx_error *err)
{
	struct interview_app *ia = req->app->data;
	json_object *q = qdoc_question(qdoc), *feedback = NULL, *answer, *fu = NULL, *frozen;
	struct qwrite w[2];
	const char *next;
	size_t nw = 0;
	int allow, rc;

	session_touch(s);
	allow = !question_is_follow_up(q) && spare_question(s->doc, index) >= 0;
	if ((rc = cx_ai_evaluate_answer(ia->ai, q, a->content, a->type, allow, &feedback,
	    err)) != CX_OK)
		return rc;
	if (allow && (fu = new_follow_up(ia, s, q, feedback)) != NULL) {
		/* The feedback names the question that is actually asked next. */
		json_object *note = json_object_object_get(feedback, "follow_up");

		json_object_object_add(note, "content", json_object_new_string(
		    cx_json_str(qdoc_question(fu), "content")));
		json_object_object_add(note, "question_id", json_object_new_string(
		    cx_json_str(fu, "question_id")));
	} else   /* only a follow-up that is asked is reported as one */
		json_object_object_add(feedback, "follow_up", NULL);
	/* Serialized once, for the stored answer, the response and the feedback event; read
	 * again (cx_json_thaw) only to finish the interview or ask a missed follow-up. */
	if ((frozen = cx_json_freeze(json_object_get(feedback))) != NULL) {
		json_object_put(feedback);
		feedback = frozen;
	}
	next = advance(s, index, fu != NULL ? cx_json_str(fu, "question_id") : NULL);
	answer = json_object_new_object();
	json_object_object_add(answer, "question_id", json_object_new_string(a->question_id));
	json_object_object_add(answer, "content", json_object_new_string(a->content));
	json_object_object_add(answer, "type", json_object_new_string(a->type));
	set_now(answer, "timestamp", s->now_ms);
	json_object_object_add(answer, "ai_feedback", feedback);
	json_object_object_add(answer, "follow_up", json_object_new_boolean(fu != NULL));
	json_object_object_add(answer, "next_question_id", next != NULL ?
	    json_object_new_string(next) : NULL);
	json_object_object_add(qdoc, "answer", answer);
	/* The answer first: its "not answered yet" check lets one request through, so only
	 * that one stores the follow-up (without transactions, nobody else can leave one). */
	w[nw].op = QW_ANSWER;
	w[nw++].doc = qdoc;
	if (fu != NULL) {
		w[nw].op = QW_INSERT;
		w[nw++].doc = fu;
	}
	s->defer = 1;   /* the answer's response can wait for the end of the worker's round */
	rc = session_save_with(req, s, w, nw, err);
	s->defer = 0;
	return rc;
}

/* The answer to the question at index is stored but the session did not move on (a store
 * without transactions failed in between): move it on now, storing the follow-up it
 * names if that did not get stored either. */
static int
complete_answer(struct cx_request *req, struct session *s, json_object *qdoc, int index,
    struct cx_error *err)
{
	json_object *stored = qdoc_answer(qdoc), *fu = NULL, *feedback;
	const char *fu_id = json_object_get_boolean(json_object_object_get(stored,
	    "follow_up")) ? cx_json_str(stored, "next_question_id") : NULL;
	struct qwrite w = { QW_INSERT, NULL };
	int rc;

	session_touch(s);
	if (fu_id != NULL && (rc = session_question(s, fu_id, &fu, err)) != CX_OK) {
		if (rc != CX_ENOTFOUND)
			return rc;
		cx_error_clear(err);
		feedback = cx_json_thaw(json_object_object_get(stored, "ai_feedback"));
		w.doc = new_follow_up(req->app->data, s, qdoc_question(qdoc), feedback);
		json_object_put(feedback);
		if (w.doc == NULL)
			fu_id = NULL;   /* then the next planned question comes instead */
	}
	advance(s, index, fu_id);
	return session_save_with(req, s, &w, w.doc != NULL ? 1 : 0, err);
}

static int
same_answer(json_object *stored, const struct answer_req *a)
{
	const char *content = cx_json_str(stored, "content"), *type = cx_json_str(stored, "type");

	return content != NULL && strcmp(content, a->content) == 0 && type != NULL &&
	    strcmp(type, a->type) == 0;
}

/* POST /api/interview/sessions/{id}/answer  {question_id, content, type}
 * 200 {question_id, feedback, next_question_id, next_question, follow_up, progress, time}
 * | 404 session or question | 409 INVALID_STATE (not active, not asked yet, time up) |
 * 409 CONFLICT (answered before with other content) | 422 */
int
interview_answer(struct cx_request *req, struct cx_error *err)
{
	struct answer_req a;
	struct session s = { 0 };
	json_object *qdoc = NULL, *stored = NULL, *data = NULL, *event = NULL;
	const char *msg = "Answer recorded";
	int index, cur, rc, attempt, trusted, saved;

	if ((rc = parse_answer(req, &a, err)) != CX_OK)
		return rc;
	/* The first try trusts the worker's copy of the session: an answer it records is
	 * saved under a revision check. Any other outcome (an error, or an answer found
	 * already recorded) is decided again on the stored session. */
	for (attempt = 0, trusted = 1; attempt < SAVE_ATTEMPTS; attempt++) {
		session_free(&s);
		rc = trusted ? session_load_to_write(req, &s, err) : session_load(req, 0, &s, err);
		if (rc != CX_OK)
			return rc;
		saved = 0;
		msg = "Answer recorded";
		if ((index = session_plan_index(s.doc, a.question_id)) < 0) {
			rc = cx_error_set(err, CX_ENOTFOUND, "Question %s is not part of this "
			    "interview", a.question_id);
			goto decided;
		}
		cur = session_current(s.doc);
		stored = NULL;
		if (index <= cur) {
			if ((rc = session_question(&s, a.question_id, &qdoc, err)) != CX_OK)
				goto decided;
			stored = qdoc_answer(qdoc);
		}
		if (stored != NULL) {
			/* A retry after a lost response gets the same result. */
			if (!same_answer(stored, &a)) {
				rc = cx_error_set(err, CX_ECONFLICT, "Question %s has already been "
				    "answered", a.question_id);
				goto decided;
			}
			msg = "Answer already recorded";
			if (index != cur || !session_is(s.doc, "active"))
				goto decided;
			rc = complete_answer(req, &s, qdoc, index, err);
		} else if (!session_is(s.doc, "active")) {
			rc = wrong_state(&s, "take answers", err);
			goto decided;
		} else if (index != cur) {
			rc = cx_error_set(err, CX_ESTATE, "Question %s has not been asked yet",
			    a.question_id);
			goto decided;
		} else
			rc = record_answer(req, &s, &a, qdoc, index, err);
		saved = 1;
decided:
		if (!saved && s.trusted) {   /* decided on a copy nobody checked */
			cx_error_clear(err);
			trusted = 0;
			continue;
		}
		if (rc != CX_ECONFLICT || attempt + 1 == SAVE_ATTEMPTS)
			break;
		trusted = 0;
		cx_error_clear(err);
	}
	if (rc != CX_OK)
		goto out;
	/* qdoc is the answered question, as stored now */
	if ((rc = answer_data(&s, qdoc_answer(qdoc), stored == NULL, &data,
	    stored == NULL ? &event : NULL, err)) != CX_OK)
		goto out;
	if (stored == NULL) {   /* the response and the feedback event carry the same text */
		state_publish(req, cx_json_str(s.doc, "id"), "feedback", json_object_get(data));
		if (event != NULL)   /* the next question (publish_question's event) */
			state_publish(req, cx_json_str(s.doc, "id"), "question", event);
	}
	rc = cx_http_ok(req, 200, data, msg);
out:
	session_free(&s);
	return rc;
}

/* ---------------------------------------------------------------- pause, resume */

/* POST /api/interview/sessions/{id}/pause   200 session | 404 | 409 */
int
interview_pause(struct cx_request *req, struct cx_error *err)
{
	struct session s;
	int rc;

	if ((rc = session_load(req, 0, &s, err)) != CX_OK)
		return rc;
	if (!session_is(s.doc, "active")) {
		rc = wrong_state(&s, "be paused", err);
		goto out;
	}
	if ((rc = session_assemble(&s, err)) != CX_OK)
		goto out;
	session_touch(&s);
	json_object_object_add(s.doc, "status", json_object_new_string("paused"));
	set_now(s.doc, "paused_at", s.now_ms);
	if ((rc = session_save(req, &s, err)) != CX_OK)
		goto out;
	publish_timer(req, &s);
	rc = cx_http_ok(req, 200, session_view(&s, 0), "Interview paused: the clock is stopped");
out:
	session_free(&s);
	return rc;
}

/* POST /api/interview/sessions/{id}/resume   200 session | 404 | 409 */
int
interview_resume(struct cx_request *req, struct cx_error *err)
{
	struct session s;
	struct session_time t;
	int rc;

	if ((rc = session_load(req, 0, &s, err)) != CX_OK)
		return rc;
	if (!session_is(s.doc, "paused")) {
		rc = wrong_state(&s, "be resumed", err);
		goto out;
	}
	if ((rc = session_assemble(&s, err)) != CX_OK)
		goto out;
	session_touch(&s);
	session_time(s.doc, s.now_ms, &t);   /* t.paused_ms includes this pause */
	json_object_object_add(s.doc, "paused_ms", json_object_new_int64(t.paused_ms));
	json_object_object_add(s.doc, "paused_at", NULL);
	json_object_object_add(s.doc, "status", json_object_new_string("active"));
	if ((rc = session_save(req, &s, err)) != CX_OK)
		goto out;
	publish_timer(req, &s);
	publish_question(req, &s);
	rc = cx_http_ok(req, 200, session_view(&s, 0), "Interview resumed");
out:
	session_free(&s);
	return rc;
}

/* ---------------------------------------------------------------- finish */

/* POST /api/interview/sessions/{id}/finalize   200 {result, session} | 404 | 409 */
int
interview_finalize(struct cx_request *req, struct cx_error *err)
{
	struct session s;
	json_object *data;
	int rc;

	if ((rc = session_load(req, 0, &s, err)) != CX_OK)
		return rc;
	if (!session_is(s.doc, "active") && !session_is(s.doc, "paused")) {
		rc = wrong_state(&s, "be finalized", err);
		goto out;
	}
	if ((rc = session_finish(req, &s, "completed", "finished", err)) != CX_OK)
		goto out;
	session_publish_complete(req, &s);
	cx_audit_request(req, req->claims.sub, "interview_completed", "interview_session",
	    cx_json_str(s.doc, "id"), CX_SEV_LOW, NULL);
	data = json_object_new_object();
	json_object_object_add(data, "result", json_object_get(json_object_object_get(s.doc,
	    "result")));
	json_object_object_add(data, "session", session_view(&s, 0));
	rc = cx_http_ok(req, 200, data, "Interview completed");
out:
	session_free(&s);
	return rc;
}

/* Every question with its answer and feedback, for the review after the interview. */
static json_object *
summary_json(struct session *s)
{
	static const char *const copy[] = { "id", "session_id", "candidate_id", "type", "mode",
		"status", "job_title", "experience_level", "provider", "result", "created_at",
		"started_at", "completed_at", "completed_reason", "terminated_reason", NULL };
	json_object *o = json_object_new_object(), *items, *ac;
	json_object *st = json_object_object_get(s->doc, "anti_cheat");
	struct session_time t;
	int i, n = session_plan_length(s->doc);

	for (i = 0; copy[i] != NULL; i++)
		json_object_object_add(o, copy[i], json_object_get(json_object_object_get(s->doc,
		    copy[i])));
	items = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *qdoc = json_object_object_get(s->qdocs, session_plan_id(s->doc, i));
		json_object *item, *ans = qdoc_answer(qdoc);

		item = question_view(qdoc_question(qdoc), session_plan_asked_at(s->doc, i), i + 1, n,
		    1);
		json_object_object_add(item, "answer", ans != NULL ? json_object_get(ans) : NULL);
		json_object_array_add(items, item);
	}
	json_object_object_add(o, "questions", items);
	session_time(s->doc, s->now_ms, &t);
	json_object_object_add(o, "time", session_time_json(&t));
	ac = json_object_new_object();
	json_object_object_add(ac, "violations",
	    json_object_get(json_object_object_get(st, "violations")));
	json_object_object_add(ac, "strikes", json_object_get(json_object_object_get(st,
	    "strikes")));
	json_object_object_add(ac, "events", json_object_new_int64(session_log_length(s->doc)));
	json_object_object_add(o, "anti_cheat", ac);
	return o;
}

/* A cached summary answers without reading the store, for the same callers. */
static int
may_read(struct cx_request *req, json_object *summary)
{
	const char *cand = cx_json_str(summary, "candidate_id");

	return (cand != NULL && strcmp(cand, req->claims.sub) == 0) ||
	    session_reader_is_staff(req);
}

/* GET /api/interview/sessions/{id}/summary   200 summary | 404 | 409 (not finished) | 422 */
int
interview_summary(struct cx_request *req, struct cx_error *err)
{
	const char *id = cx_http_param(req, "id");
	struct session s = { 0 };
	json_object *cached, *summary;
	int rc;

	if (id != NULL && cx_oid_valid(id) && (cached = state_cached_results(req, id)) != NULL) {
		if (may_read(req, cached))
			return cx_http_ok(req, 200, cached, "Interview summary");
		json_object_put(cached);
	}
	if ((rc = session_load(req, 1, &s, err)) != CX_OK)
		return rc;
	if (!session_is(s.doc, "completed") && !session_is(s.doc, "terminated")) {
		rc = cx_error_set(err, CX_ESTATE, "The summary is ready once the interview is "
		    "finished (it is %s)", session_status(s.doc));
		goto out;
	}
	if ((rc = session_assemble(&s, err)) != CX_OK)
		goto out;
	summary = summary_json(&s);
	state_cache_results(req, cx_json_str(s.doc, "id"), summary);
	rc = cx_http_ok(req, 200, summary, "Interview summary");
out:
	session_free(&s);
	return rc;
}
