/* cx-interview: creating, listing and reading interview sessions. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_audit.h"
#include "cx_buf.h"
#include "cx_config.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_perm.h"
#include "cx_redis.h"
#include "cx_store.h"
#include "cx_time.h"
#include "cx_user.h"
#include "interview.h"

#define TITLE_MAX 200
#define DESCRIPTION_MAX 20000
#define LIST_DEFAULT 20
#define LIST_MAX 100

static const char *const levels[] = { "junior", "mid", "senior", NULL };
static const char *const modes[] = { "behavioral", "technical", NULL };
static const char *const types[] = { "mock", "ai_mock", NULL };
static const char *const statuses[] = { "setup", "precheck", "active", "paused", "completed",
	"terminated", NULL };

static int
one_of(const char *s, const char *const *allowed)
{
	for (; s != NULL && *allowed != NULL; allowed++)
		if (strcmp(s, *allowed) == 0)
			return 1;
	return 0;
}

static int
blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* A text field: optional or required, bounded, valid UTF-8. */
static int
text_field(json_object *body, const char *field, int required, size_t max, const char **out,
    struct cx_error *err)
{
	int rc = cx_json_get_string(body, field, required, required ? 1 : 0, max, out, err);

	if (rc != CX_OK)
		return rc;
	if (*out != NULL && !cx_utf8_valid(*out, strlen(*out)))
		return cx_error_field(err, field, "must be valid UTF-8 text");
	if (required && blank(*out))
		return cx_error_field(err, field, "must not be empty");
	return CX_OK;
}

static int
enum_field(json_object *body, const char *field, const char *const *allowed, const char **out,
    const char *words, struct cx_error *err)
{
	int rc = cx_json_get_string(body, field, 0, 0, 32, out, err);

	if (rc != CX_OK)
		return rc;
	if (*out != NULL && !one_of(*out, allowed))
		return cx_error_field(err, field, "must be %s", words);
	return CX_OK;
}

/* What a create request asks for, validated (strings borrowed from the body). */
struct create_req {
	const char *title, *description, *level, *mode, *type, *resume_id, *resume_text;
	int64_t count, minutes;
	json_object *focus;              /* borrowed array or NULL */
	const char *focus_items[CX_AI_MAX_FOCUS];
	size_t nfocus;
};

static int
parse_focus(json_object *body, struct create_req *c, struct cx_error *err)
{
	size_t i;
	int rc;

	if ((rc = cx_json_get_object(body, "focus_areas", 0, &c->focus, err)) != CX_OK)
		return rc;
	if (c->focus == NULL || json_object_is_type(c->focus, json_type_null))
		return CX_OK;
	if (!json_object_is_type(c->focus, json_type_array))
		return cx_error_field(err, "focus_areas", "must be a list of strings");
	if (json_object_array_length(c->focus) > CX_AI_MAX_FOCUS)
		return cx_error_field(err, "focus_areas", "at most %d entries", CX_AI_MAX_FOCUS);
	for (i = 0; i < json_object_array_length(c->focus); i++) {
		json_object *v = json_object_array_get_idx(c->focus, i);
		const char *s = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) || blank(s) || strlen(s) > 100 ||
		    !cx_utf8_valid(s, strlen(s)))
			return cx_error_field(err, "focus_areas",
			    "entries must be non-empty text of at most 100 bytes");
		c->focus_items[c->nfocus++] = s;
	}
	return CX_OK;
}

static int
parse_create(struct cx_request *req, struct create_req *c, struct cx_error *err)
{
	json_object *body = req->json;
	const char *type = NULL, *cand = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->count = 5;
	c->minutes = 30;
	if (!json_object_is_type(body, json_type_object))
		return cx_error_set(err, CX_EBADREQ, "The body must be a JSON object");
	if ((rc = text_field(body, "job_title", 1, TITLE_MAX, &c->title, err)) != CX_OK ||
	    (rc = text_field(body, "job_description", 0, DESCRIPTION_MAX, &c->description,
	    err)) != CX_OK ||
	    (rc = cx_json_get_string(body, "mode", 1, 1, 32, &c->mode, err)) != CX_OK)
		return rc;
	if (!one_of(c->mode, modes))
		return cx_error_field(err, "mode", "must be behavioral or technical");
	if ((rc = enum_field(body, "experience_level", levels, &c->level,
	    "junior, mid or senior", err)) != CX_OK)
		return rc;
	if (c->level == NULL && (rc = enum_field(body, "level", levels, &c->level,
	    "junior, mid or senior", err)) != CX_OK)
		return rc;
	if (c->level == NULL)
		c->level = "mid";
	if ((rc = cx_json_get_string(body, "type", 0, 1, 32, &type, err)) != CX_OK)
		return rc;
	if (type != NULL && strcmp(type, "live") == 0)
		return cx_error_field(err, "type",
		    "live interviews are created through /api/live-interview");
	if (type != NULL && !one_of(type, types))
		return cx_error_field(err, "type", "must be mock or ai_mock");
	c->type = type != NULL ? type : "mock";
	if ((rc = cx_json_get_int(body, "question_count", 0, 1, CX_AI_MAX_QUESTIONS, &c->count,
	    err)) != CX_OK ||
	    (rc = cx_json_get_int(body, "duration_minutes", 0, 5, 180, &c->minutes, err)) != CX_OK ||
	    (rc = parse_focus(body, c, err)) != CX_OK ||
	    (rc = cx_json_get_string(body, "resume_id", 0, 1, 64, &c->resume_id, err)) != CX_OK ||
	    (rc = text_field(body, "resume_text", 0, CX_AI_MAX_CONTEXT, &c->resume_text,
	    err)) != CX_OK ||
	    (rc = cx_json_get_string(body, "candidate_id", 0, 0, 64, &cand, err)) != CX_OK)
		return rc;
	if (c->resume_id != NULL && !cx_oid_valid(c->resume_id))
		return cx_error_field(err, "resume_id", "must be a 24-character hexadecimal id");
	if (c->resume_id != NULL && c->resume_text != NULL)
		return cx_error_field(err, "resume_text", "give resume_id or resume_text, not both");
	if (cand != NULL && strcmp(cand, req->claims.sub) != 0)
		return cx_error_set(err, CX_EFORBIDDEN,
		    "A candidate can only create interviews for themselves");
	return CX_OK;
}

/* The text of one of the caller's processed resumes. *text is the caller's (json). */
static int
resume_text(struct cx_request *req, const char *resume_id, json_object **doc,
    struct cx_error *err)
{
	struct cx_filter *f = cx_filter_eq_str(cx_filter_eq_str(cx_filter_new(), "id", resume_id),
	    "candidate_id", req->claims.sub);
	const char *text;
	int rc = cx_store_find_one(req->app->store, "resumes", f, doc, err);

	cx_filter_free(f);
	if (rc == CX_ENOTFOUND) {
		cx_error_clear(err);
		return cx_error_set(err, CX_ENOTFOUND, "Resume not found");
	}
	if (rc != CX_OK)
		return rc;
	text = cx_json_str(*doc, "parsed_text");
	if (text == NULL || blank(text)) {
		json_object_put(*doc);
		*doc = NULL;
		return cx_error_field(err, "resume_id",
		    "this resume has not been processed yet; try again shortly");
	}
	return CX_OK;
}

static json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* The INPUTS document of session id. */
static json_object *
new_inputs_doc(const struct create_req *c, const char *id, const char *resume)
{
	json_object *doc = json_object_new_object();

	json_object_object_add(doc, "id", json_object_new_string(id));
	json_object_object_add(doc, "session_id", json_object_new_string(id));
	json_object_object_add(doc, "job_description",
	    json_object_new_string(c->description != NULL ? c->description : ""));
	json_object_object_add(doc, "resume_text", str_or_null(resume));
	return doc;
}

static json_object *
new_session_doc(struct cx_request *req, const struct create_req *c, const char *id,
    const char *resume, int nquestions, const char *provider)
{
	json_object *doc = json_object_new_object(), *focus = json_object_new_array();
	char now[CX_TIME_LEN];
	size_t i;

	cx_time_now(now);
	for (i = 0; i < c->nfocus; i++)
		json_object_array_add(focus, json_object_new_string(c->focus_items[i]));
	/* rev first: the store then checks a worker's copy from the row's first bytes. */
	json_object_object_add(doc, "rev", json_object_new_int(0));
	json_object_object_add(doc, "id", json_object_new_string(id));
	json_object_object_add(doc, "session_id", json_object_new_string(id));
	json_object_object_add(doc, "candidate_id", json_object_new_string(req->claims.sub));
	json_object_object_add(doc, "recruiter_id", NULL);
	json_object_object_add(doc, "type", json_object_new_string(c->type));
	json_object_object_add(doc, "mode", json_object_new_string(c->mode));
	json_object_object_add(doc, "status", json_object_new_string("setup"));
	json_object_object_add(doc, "job_title", json_object_new_string(c->title));
	json_object_object_add(doc, "experience_level", json_object_new_string(c->level));
	json_object_object_add(doc, "resume_id", str_or_null(c->resume_id));
	json_object_object_add(doc, "has_resume",
	    json_object_new_boolean(resume != NULL && *resume != '\0'));
	json_object_object_add(doc, "question_count",
	    json_object_new_int(nquestions));
	json_object_object_add(doc, "requested_question_count", json_object_new_int((int)c->count));
	json_object_object_add(doc, "duration_minutes", json_object_new_int((int)c->minutes));
	json_object_object_add(doc, "focus_areas", focus);
	json_object_object_add(doc, "provider", json_object_new_string(provider));
	json_object_object_add(doc, "plan", json_object_new_array());
	json_object_object_add(doc, "asked_at", json_object_new_array());
	json_object_object_add(doc, "current", json_object_new_int(-1));
	json_object_object_add(doc, "answered", json_object_new_int(0));
	json_object_object_add(doc, "result", NULL);
	json_object_object_add(doc, "anti_cheat", NULL);
	json_object_object_add(doc, "anti_cheat_logged", json_object_new_int(0));   /* EVENTS */
	json_object_object_add(doc, "precheck_result", NULL);
	json_object_object_add(doc, "created_at", json_object_new_string(now));
	json_object_object_add(doc, "updated_at", json_object_new_string(now));
	json_object_object_add(doc, "started_at", NULL);
	json_object_object_add(doc, "paused_at", NULL);
	json_object_object_add(doc, "paused_ms", json_object_new_int(0));
	json_object_object_add(doc, "completed_at", NULL);
	json_object_object_add(doc, "completed_reason", NULL);
	json_object_object_add(doc, "terminated_reason", NULL);
	return doc;
}

/* Store a new session s->doc with its inputs (s->inputs) and a document per question (and
 * its plan): those first, so the session never names one that is not stored. */
static int
store_new_session(struct cx_request *req, struct session *s, json_object *questions,
    struct cx_error *err)
{
	struct cx_store *store = req->app->store;
	json_object *plan = json_object_object_get(s->doc, "plan");
	size_t i, n = json_object_array_length(questions);
	int rc;

	s->req = req;
	for (i = 0; i < n; i++) {
		json_object *q = json_object_get(json_object_array_get_idx(questions, i));

		/* Kept short (every answer reads and writes it): ids, and asked_at beside. */
		json_object_array_add(plan, json_object_new_string(cx_json_str(q, "id")));
		session_new_question(s, q);
	}
	s->assembled = 1;
	if ((rc = cx_store_begin(store, err)) != CX_OK)
		return rc;
	rc = cx_store_insert(store, INPUTS, s->inputs, err);
	json_object_object_foreach(s->qdocs, key, qdoc) {
		(void)key;
		if (rc != CX_OK || (rc = cx_store_insert(store, QUESTIONS, qdoc, err)) != CX_OK)
			break;
	}
	if (rc == CX_OK)
		rc = cx_store_insert(store, SESSIONS, s->doc, err);
	if (rc == CX_OK)
		return cx_store_commit(store, err);
	cx_store_rollback(store);
	return rc;
}

/* POST /api/interview/sessions
 * 201 session | 400 | 403 | 404 resume | 413 | 415 | 422 | 429 | 503 (nothing fits / down) */
int
interview_create(struct cx_request *req, struct cx_error *err)
{
	struct interview_app *ia = req->app->data;
	struct create_req c;
	struct cx_ai_spec spec;
	struct session s = { 0 };
	json_object *resume_doc = NULL, *questions = NULL;
	const char *resume;
	char id[CX_OID_LEN];
	int rc;

	if ((rc = parse_create(req, &c, err)) != CX_OK)
		return rc;
	if ((rc = cx_ratelimit_hit(req->app->redis, req->claims.sub, "interview_create",
	    req->app->cfg->interview_create_limit, 3600, err)) != CX_OK)
		return rc;
	if (c.resume_id != NULL && (rc = resume_text(req, c.resume_id, &resume_doc, err)) != CX_OK)
		return rc;
	resume = resume_doc != NULL ? cx_json_str(resume_doc, "parsed_text") : c.resume_text;
	cx_oid_new(id);
	memset(&spec, 0, sizeof(spec));
	spec.mode = c.mode;
	spec.level = c.level;
	spec.job_title = c.title;
	spec.job_description = c.description;
	spec.resume_text = resume;
	spec.focus_areas = c.focus_items;
	spec.nfocus = c.nfocus;
	spec.question_count = (int)c.count;
	spec.duration_minutes = (int)c.minutes;
	spec.seed = id;
	if ((rc = cx_ai_generate_questions(ia->ai, &spec, &questions, err)) != CX_OK)
		goto out;
	s.doc = new_session_doc(req, &c, id, resume, (int)json_object_array_length(questions),
	    cx_ai_provider_name(ia->ai));
	s.inputs = new_inputs_doc(&c, id, resume);
	if ((rc = store_new_session(req, &s, questions, err)) != CX_OK)
		goto out;
	cx_audit_request(req, req->claims.sub, "interview_created", "interview_session", id,
	    CX_SEV_LOW, NULL);
	s.owner = 1;
	s.now_ms = cx_time_now_ms();
	s.ia = ia;
	s.req = req;
	state_refresh(req, s.doc, s.now_ms);
	rc = cx_http_ok(req, 201, session_view(&s, 0), "Interview session created");
out:
	json_object_put(questions);
	json_object_put(resume_doc);
	session_free(&s);
	return rc;
}

/* GET /api/interview/sessions?page=&limit=&status=&type=&mode=&candidate_id=
 * 200 page (newest first) | 401 | 403 | 422 */
int
interview_list(struct cx_request *req, struct cx_error *err)
{
	struct cx_sort sort[] = { { "created_at", -1 } };
	struct cx_filter *f = cx_filter_new();
	struct session s = { 0 };
	json_object *docs = NULL, *items = NULL;
	const char *status = cx_http_query(req, "status"), *type = cx_http_query(req, "type");
	const char *mode = cx_http_query(req, "mode"), *cand = cx_http_query(req, "candidate_id");
	int64_t page, limit, total = 0;
	size_t i;
	int rc, staff = session_reader_is_staff(req);

	if ((rc = cx_http_paging(req, LIST_DEFAULT, LIST_MAX, &page, &limit, err)) != CX_OK)
		goto out;
	rc = CX_EVALIDATION;
	if (status != NULL && !one_of(status, statuses)) {
		cx_error_field(err, "status", "must be one of setup, precheck, active, paused, "
		    "completed, terminated");
		goto out;
	}
	if (type != NULL && !one_of(type, types) && strcmp(type, "live") != 0) {
		cx_error_field(err, "type", "must be mock, ai_mock or live");
		goto out;
	}
	if (mode != NULL && !one_of(mode, modes)) {
		cx_error_field(err, "mode", "must be behavioral or technical");
		goto out;
	}
	if (cand != NULL && !cx_oid_valid(cand)) {
		cx_error_field(err, "candidate_id", "must be a 24-character hexadecimal id");
		goto out;
	}
	if (!staff) {
		if (cand != NULL && strcmp(cand, req->claims.sub) != 0) {
			rc = cx_error_set(err, CX_EFORBIDDEN,
			    "Candidates can only list their own interviews");
			goto out;
		}
		cand = req->claims.sub;
	}
	if (cand != NULL)
		cx_filter_eq_str(f, "candidate_id", cand);
	if (status != NULL)
		cx_filter_eq_str(f, "status", status);
	if (type != NULL)
		cx_filter_eq_str(f, "type", type);
	if (mode != NULL)
		cx_filter_eq_str(f, "mode", mode);
	if ((rc = cx_store_count(req->app->store, SESSIONS, f, &total, err)) != CX_OK ||
	    (rc = cx_store_find(req->app->store, SESSIONS, f, sort, 1, (page - 1) * limit, limit,
	    &docs, err)) != CX_OK)
		goto out;
	items = json_object_new_array();
	s.now_ms = cx_time_now_ms();
	s.ia = req->app->data;
	for (i = 0; i < json_object_array_length(docs); i++) {
		s.doc = json_object_array_get_idx(docs, i);
		s.owner = !staff;
		s.staff = staff;
		json_object_array_add(items, session_view(&s, 1));
	}
	rc = cx_http_page(req, items, total, page, limit, "Interview sessions retrieved");
	items = NULL;
out:
	json_object_put(items);
	json_object_put(docs);
	cx_filter_free(f);
	return rc;
}

/* The rendered view of s for its kind of reader, if this worker holds it. */
static struct cached_view *
view_find(struct interview_app *ia, const struct session *s)
{
	const char *id = cx_json_str(s->doc, "id");
	int64_t rev = session_rev(s->doc);
	size_t i;

	for (i = 0; id != NULL && i < VIEW_CACHE_SLOTS; i++) {
		struct cached_view *e = &ia->views[i];

		if (e->text != NULL && e->rev == rev && e->staff == s->staff &&
		    strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

/* The session as s's caller sees it, without the clock: rendered once per revision and
 * kind of reader (its candidate or staff), since a polling client reads it far more often
 * than it changes. Borrowed text (valid until the next call), or NULL. */
static const char *
view_text(struct interview_app *ia, struct session *s, size_t *len)
{
	const char *id = cx_json_str(s->doc, "id"), *text;
	int64_t rev = session_rev(s->doc);
	struct cached_view *c = NULL;
	json_object *v;
	size_t i;

	if (id == NULL || strlen(id) >= sizeof(c->id) || rev < 0)
		return NULL;
	if ((c = view_find(ia, s)) != NULL) {
		c->used = ++ia->tick;
		*len = c->len;
		return c->text;
	}
	for (i = 0; i < VIEW_CACHE_SLOTS; i++) {   /* a free slot, or the least used */
		struct cached_view *e = &ia->views[i];

		if (c == NULL || e->text == NULL || (c->text != NULL && e->used < c->used))
			c = e;
	}
	v = session_view(s, 0);
	json_object_object_del(v, "time");
	text = cx_json_text(v, len);
	free(c->text);
	c->text = text != NULL ? strndup(text, *len) : NULL;
	json_object_put(v);
	if (c->text == NULL)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->rev = rev;
	c->staff = s->staff;
	c->len = *len;
	c->used = ++ia->tick;
	return c->text;
}

/* The cached text with this moment's clock added, as a JSON value of the envelope. */
static json_object *
view_now(struct interview_app *ia, struct session *s)
{
	struct session_time t;
	struct cx_buf b = { 0 };
	struct cx_jw w;
	json_object *out = NULL;
	const char *text;
	size_t len;

	if ((text = view_text(ia, s, &len)) == NULL || len < 2 || text[len - 1] != '}')
		return session_view(s, 0);
	session_time(s->doc, s->now_ms, &t);
	cx_buf_add(&b, text, len - 1);   /* the view's fields, then the clock, then '}' */
	w.b = &b;
	w.n = len > 2;
	session_time_write(&w, "time", &t);
	cx_jw_close(&w);
	if (!b.failed)
		out = cx_json_raw(b.data, b.len);
	cx_buf_free(&b);
	return out != NULL ? out : session_view(s, 0);
}

/* GET /api/interview/sessions/{id}   200 session | 401 | 404 | 422 */
int
interview_get(struct cx_request *req, struct cx_error *err)
{
	struct session s;
	int rc;

	if ((rc = session_load(req, 1, &s, err)) != CX_OK)
		return rc;
	if (view_find(req->app->data, &s) != NULL || (rc = session_assemble(&s, err)) == CX_OK)
		rc = cx_http_ok(req, 200, view_now(req->app->data, &s),
		    "Interview session retrieved");
	session_free(&s);
	return rc;
}
