/* cx-interview: loading, saving and rendering interview sessions. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_buf.h"
#include "cx_config.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_perm.h"
#include "cx_store.h"
#include "cx_time.h"
#include "interview.h"

#define LOAD_ATTEMPTS 3

int
interview_worker_init(struct cx_app *app, struct cx_error *err)
{
	const struct cx_config *cfg = app->cfg;
	struct interview_app *ia;
	int rc;

	ia = calloc(1, sizeof(*ia));
	if (ia == NULL)
		return cx_error_internal(err, "out of memory");
	rc = cx_ac_policy_init(&ia->ac, cfg->anti_cheat_strikes, cfg->anti_cheat_threshold,
	    cfg->face_detection, cfg->tab_switch_detection, err);
	if (rc == CX_OK)
		rc = doc_cache_init(&ia->docs, (size_t)cfg->session_cache, err);
	if (rc == CX_OK)
		rc = cx_ai_open(cfg, app->redis, &ia->ai, err);
	if (rc != CX_OK) {
		doc_cache_fini(&ia->docs);
		free(ia);
		return rc;
	}
	ia->may_defer = cx_store_can_defer(app->store) &&
	    strcmp(cx_ai_provider_name(ia->ai), "local") == 0;
	app->data = ia;
	return CX_OK;
}

void
interview_worker_fini(struct cx_app *app)
{
	struct interview_app *ia = app->data;

	if (ia != NULL) {
		json_object_put(ia->refresh_doc);
		json_object_put(ia->outbox);
		free(ia->deferred);   /* settled by the end of every round */
		doc_cache_fini(&ia->docs);
		for (size_t i = 0; i < VIEW_CACHE_SLOTS; i++)
			free(ia->views[i].text);
		cx_ai_free(ia->ai);
		free(ia);
	}
	app->data = NULL;
}

const char *
session_status(json_object *doc)
{
	const char *s = cx_json_str(doc, "status");

	return s != NULL ? s : "";
}

int
session_is(json_object *doc, const char *status)
{
	return strcmp(session_status(doc), status) == 0;
}

static int64_t
get_int(json_object *obj, const char *field, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, field, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

int64_t
session_rev(json_object *doc)
{
	return get_int(doc, "rev", -1);
}

int
question_is_follow_up(json_object *q)
{
	json_object *v;

	return json_object_object_get_ex(q, "is_follow_up", &v) && json_object_get_boolean(v);
}

int
session_current(json_object *doc)
{
	return (int)get_int(doc, "current", -1);
}

json_object *
session_plan(json_object *doc)
{
	json_object *p = json_object_object_get(doc, "plan");

	/* A session of the old layout not moved yet (a list reads it as stored): its
	 * questions have the id and asked_at a plan entry has. */
	if (p == NULL)
		p = json_object_object_get(doc, "questions");
	return json_object_is_type(p, json_type_array) ? p : NULL;
}

int
session_plan_length(json_object *doc)
{
	json_object *p = session_plan(doc);

	return p != NULL ? (int)json_object_array_length(p) : 0;
}

static json_object *
plan_item(json_object *doc, int index)
{
	json_object *p = session_plan(doc);

	if (p == NULL || index < 0 || (size_t)index >= json_object_array_length(p))
		return NULL;
	return json_object_array_get_idx(p, (size_t)index);
}

/* The question id of plan entry e: an id; an entry {id, asked_at} of the earlier layouts. */
static const char *
entry_id(json_object *e)
{
	return json_object_is_type(e, json_type_string) ? json_object_get_string(e) :
	    cx_json_str(e, "id");
}

const char *
session_plan_id(json_object *doc, int index)
{
	return entry_id(plan_item(doc, index));
}

const char *
session_plan_asked_at(json_object *doc, int index)
{
	json_object *e = plan_item(doc, index), *asked, *t;

	if (e == NULL)
		return NULL;
	if (!json_object_is_type(e, json_type_string))
		return cx_json_str(e, "asked_at");
	asked = json_object_object_get(doc, "asked_at");
	if (!json_object_is_type(asked, json_type_array) ||
	    (size_t)index >= json_object_array_length(asked))
		return NULL;
	t = json_object_array_get_idx(asked, (size_t)index);
	return json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;
}

static json_object *
asked_array(json_object *doc)
{
	json_object *asked = json_object_object_get(doc, "asked_at");

	if (!json_object_is_type(asked, json_type_array)) {
		asked = json_object_new_array();
		json_object_object_add(doc, "asked_at", asked);
	}
	return asked;
}

void
session_plan_ask(json_object *doc, int index, int64_t now_ms)
{
	char now[CX_TIME_LEN];

	if (plan_item(doc, index) == NULL)
		return;
	cx_time_format_ms(now_ms, now);
	/* put_idx fills the places before index with null */
	json_object_array_put_idx(asked_array(doc), (size_t)index, json_object_new_string(now));
}

void
session_plan_insert(json_object *doc, int index, const char *qid, int spare)
{
	json_object *plan = session_plan(doc), *asked = asked_array(doc);
	json_object *np = json_object_new_array(), *na = json_object_new_array();
	size_t i, n = plan != NULL ? json_object_array_length(plan) : 0;
	size_t nasked = json_object_array_length(asked);

	for (i = 0; i < n; i++) {
		if ((int)i != spare) {
			json_object_array_add(np, json_object_get(json_object_array_get_idx(plan, i)));
			json_object_array_add(na, i < nasked ?
			    json_object_get(json_object_array_get_idx(asked, i)) : NULL);
		}
		if ((int)i == index) {
			json_object_array_add(np, json_object_new_string(qid));
			json_object_array_add(na, NULL);
		}
	}
	/* asked_at ends with the last question asked */
	while (json_object_array_length(na) > 0 &&
	    json_object_array_get_idx(na, json_object_array_length(na) - 1) == NULL)
		json_object_array_del_idx(na, json_object_array_length(na) - 1, 1);
	json_object_object_add(doc, "plan", np);
	json_object_object_add(doc, "asked_at", na);
}

/* A plan of entries {id, asked_at, follow_up} (the layout before this one) as ids and
 * asked_at. */
static void
compact_plan(json_object *doc)
{
	json_object *plan = json_object_object_get(doc, "plan"), *ids, *asked;
	size_t i, n;

	if (!json_object_is_type(plan, json_type_array) ||
	    json_object_array_length(plan) == 0 ||
	    json_object_is_type(json_object_array_get_idx(plan, 0), json_type_string))
		return;
	n = json_object_array_length(plan);
	ids = json_object_new_array_ext((int)n);
	asked = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(plan, i), *t = NULL;
		const char *id = cx_json_str(e, "id");

		json_object_array_add(ids, json_object_new_string(id != NULL ? id : ""));
		json_object_object_get_ex(e, "asked_at", &t);
		if (json_object_is_type(t, json_type_string))
			json_object_array_put_idx(asked, i, json_object_get(t));
	}
	json_object_object_add(doc, "plan", ids);
	json_object_object_add(doc, "asked_at", asked);
}

int
session_plan_index(json_object *doc, const char *qid)
{
	json_object *plan = session_plan(doc);
	int i, n = plan != NULL ? (int)json_object_array_length(plan) : 0;

	for (i = 0; i < n; i++) {   /* the plan looked up once, not once per entry */
		const char *id = entry_id(json_object_array_get_idx(plan, (size_t)i));

		if (id != NULL && strcmp(id, qid) == 0)
			return i;
	}
	return -1;
}

json_object *
qdoc_question(json_object *qdoc)
{
	json_object *q = json_object_object_get(qdoc, "question");

	return json_object_is_type(q, json_type_object) ? q : NULL;
}

json_object *
qdoc_answer(json_object *qdoc)
{
	json_object *a = json_object_object_get(qdoc, "answer");

	return json_object_is_type(a, json_type_object) ? a : NULL;
}

static int64_t
time_field(json_object *doc, const char *field)
{
	const char *text = cx_json_str(doc, field);
	int64_t ms;

	if (text == NULL || cx_time_parse_ms(text, &ms) != 0)
		return -1;
	return ms;
}

void
session_time(json_object *doc, int64_t now_ms, struct session_time *t)
{
	int64_t started = time_field(doc, "started_at"), end;

	memset(t, 0, sizeof(*t));
	t->duration_ms = get_int(doc, "duration_minutes", 0) * 60000;
	t->paused_ms = get_int(doc, "paused_ms", 0);
	t->remaining_ms = t->duration_ms;
	if (started < 0)
		return;
	t->started = 1;
	t->running = session_is(doc, "active");
	if ((end = time_field(doc, "completed_at")) < 0 &&
	    (end = time_field(doc, "paused_at")) < 0)
		end = now_ms;
	if (session_is(doc, "paused") && time_field(doc, "paused_at") >= 0)
		t->paused_ms += now_ms - time_field(doc, "paused_at");
	t->elapsed_ms = end - started - get_int(doc, "paused_ms", 0);
	if (t->elapsed_ms < 0)
		t->elapsed_ms = 0;
	if (t->elapsed_ms > t->duration_ms)
		t->elapsed_ms = t->duration_ms;
	t->remaining_ms = t->duration_ms - t->elapsed_ms;
}

json_object *
session_time_json(const struct session_time *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "duration_seconds", json_object_new_int64(t->duration_ms / 1000));
	json_object_object_add(o, "elapsed_seconds", json_object_new_int64(t->elapsed_ms / 1000));
	json_object_object_add(o, "remaining_seconds",
	    json_object_new_int64((t->remaining_ms + 999) / 1000));
	json_object_object_add(o, "paused_seconds", json_object_new_int64(t->paused_ms / 1000));
	json_object_object_add(o, "running", json_object_new_boolean(t->running));
	return o;
}

void
session_time_write(struct cx_jw *w, const char *key, const struct session_time *t)
{
	struct cx_jw o;

	cx_jw_key(w, key);
	cx_jw_open(&o, w->b);
	cx_jw_int(&o, "duration_seconds", t->duration_ms / 1000);
	cx_jw_int(&o, "elapsed_seconds", t->elapsed_ms / 1000);
	cx_jw_int(&o, "remaining_seconds", (t->remaining_ms + 999) / 1000);
	cx_jw_int(&o, "paused_seconds", t->paused_ms / 1000);
	cx_jw_bool(&o, "running", t->running);
	cx_jw_close(&o);
}

struct progress {
	int asked, answered, total;
	const char *current;   /* borrowed from the doc, or NULL */
};

static void
progress_of(json_object *doc, struct progress *p)
{
	json_object *legacy = json_object_object_get(doc, "answers");
	int i, n = session_plan_length(doc), asked = 0, cur = session_current(doc);
	const char *current = session_is(doc, "active") ? session_plan_id(doc, cur) : NULL;

	if (json_object_is_type(plan_item(doc, 0), json_type_string)) {
		/* the plan as ids: the times beside them (one lookup, not one per entry) */
		json_object *times = json_object_object_get(doc, "asked_at");
		int nt = json_object_is_type(times, json_type_array) ?
		    (int)json_object_array_length(times) : 0;

		for (i = 0; i < n && i < nt; i++)
			if (json_object_is_type(json_object_array_get_idx(times, (size_t)i),
			    json_type_string))
				asked++;
	} else
		for (i = 0; i < n; i++)
			if (session_plan_asked_at(doc, i) != NULL)
				asked++;
	p->asked = asked;
	p->answered = (int)get_int(doc, "answered", json_object_is_type(legacy, json_type_array) ?
	    (int64_t)json_object_array_length(legacy) : 0);
	p->total = (int)get_int(doc, "question_count", (int64_t)n);
	p->current = current;
}

json_object *
session_progress_json(json_object *doc)
{
	json_object *o = json_object_new_object();
	struct progress p;

	progress_of(doc, &p);
	json_object_object_add(o, "asked", json_object_new_int(p.asked));
	json_object_object_add(o, "answered", json_object_new_int(p.answered));
	json_object_object_add(o, "total", json_object_new_int(p.total));
	json_object_object_add(o, "current_question_id", p.current != NULL ?
	    json_object_new_string(p.current) : NULL);
	return o;
}

void
session_progress_write(struct cx_jw *w, const char *key, json_object *doc)
{
	struct cx_jw o;
	struct progress p;

	progress_of(doc, &p);
	cx_jw_key(w, key);
	cx_jw_open(&o, w->b);
	cx_jw_int(&o, "asked", p.asked);
	cx_jw_int(&o, "answered", p.answered);
	cx_jw_int(&o, "total", p.total);
	cx_jw_str(&o, "current_question_id", p.current);
	cx_jw_close(&o);
}

static void
copy_field(json_object *to, json_object *from, const char *field)
{
	json_object *v = NULL;

	json_object_object_get_ex(from, field, &v);
	json_object_object_add(to, field, json_object_get(v));
}

static void
copy_fields(json_object *to, json_object *from, const char *const *fields)
{
	for (; *fields != NULL; fields++)
		copy_field(to, from, *fields);
}

/* The fields of a question every reader sees, and those staff (and a finished interview's
 * candidate) see too. */
static const char *const view_always[] = { "id", "type", "content", "area", "competency",
	"time_minutes", "level_note", NULL };
static const char *const view_staff[] = { "key_points", "matched_skills", "skills", "level",
	NULL };
static const char *const view_follow_up[] = { "parent_id", "gap", NULL };

static void
write_fields(struct cx_jw *w, json_object *from, const char *const *fields)
{
	json_object *v;

	for (; *fields != NULL; fields++) {
		v = NULL;
		json_object_object_get_ex(from, *fields, &v);
		cx_jw_json(w, *fields, v);
	}
}

void
question_view_write(struct cx_jw *w, json_object *q, const char *asked_at, int index,
    int total, int with_key_points)
{
	write_fields(w, q, view_always);
	cx_jw_str(w, "asked_at", asked_at);
	cx_jw_int(w, "index", index);
	if (total > 0)
		cx_jw_int(w, "total", total);
	cx_jw_bool(w, "is_follow_up", question_is_follow_up(q));
	write_fields(w, q, view_follow_up);
	if (with_key_points)
		write_fields(w, q, view_staff);
}

json_object *
question_view(json_object *q, const char *asked_at, int index, int total, int with_key_points)
{
	json_object *o = json_object_new_object();

	copy_fields(o, q, view_always);
	json_object_object_add(o, "asked_at", asked_at != NULL ?
	    json_object_new_string(asked_at) : NULL);
	json_object_object_add(o, "index", json_object_new_int(index));
	if (total > 0)
		json_object_object_add(o, "total", json_object_new_int(total));
	json_object_object_add(o, "is_follow_up",
	    json_object_new_boolean(question_is_follow_up(q)));
	copy_fields(o, q, view_follow_up);
	if (with_key_points)
		copy_fields(o, q, view_staff);
	return o;
}

static int
finished(json_object *doc)
{
	return session_is(doc, "completed") || session_is(doc, "terminated");
}

static json_object *
zero_strikes(void)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < CX_AC_NKINDS; i++)
		json_object_object_add(o, cx_ac_kind_name((enum cx_ac_kind)i), json_object_new_int(0));
	return o;
}

/* Strikes of each kind that end an interview (enum cx_ac_kind order; 0 = no own limit). */
static json_object *
limits_json(const struct cx_ac_policy *pol)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < CX_AC_NKINDS; i++)
		json_object_object_add(o, cx_ac_kind_name((enum cx_ac_kind)i), json_object_new_int(pol->limit[i]));
	return o;
}

static json_object *
anti_cheat_view(const struct session *s)
{
	json_object *st = json_object_object_get(s->doc, "anti_cheat"), *o = json_object_new_object();
	int live = session_is(s->doc, "active") || session_is(s->doc, "paused");

	json_object_object_add(o, "violations", json_object_new_int64(get_int(st, "violations", 0)));
	json_object_object_add(o, "threshold", json_object_new_int(s->ia->ac.total_limit));
	json_object_object_add(o, "limits", limits_json(&s->ia->ac));
	if (json_object_object_get(st, "strikes") != NULL)
		copy_field(o, st, "strikes");
	else
		json_object_object_add(o, "strikes", zero_strikes());
	json_object_object_add(o, "last_seq", json_object_new_int64(get_int(st, "last_seq", 0)));
	json_object_object_add(o, "nonce", s->owner && live && cx_json_str(st, "nonce") != NULL ?
	    json_object_new_string(cx_json_str(st, "nonce")) : NULL);
	return o;
}

/* The session's document holds its inputs itself (stored before INPUTS). */
static int
inputs_inside(json_object *doc)
{
	return json_object_object_get_ex(doc, "job_description", NULL);
}

json_object *
session_view(const struct session *s, int list_form)
{
	static const char *const plain[] = { "id", "session_id", "candidate_id", "recruiter_id",
		"type", "mode", "status", "job_title", "experience_level", "resume_id",
		"question_count", "duration_minutes", "focus_areas", "provider", "result",
		"precheck_result", "created_at", "updated_at", "started_at", "paused_at",
		"completed_at", "completed_reason", "terminated_reason", NULL };
	json_object *doc = s->doc, *o = json_object_new_object(), *out_q, *answers, *has = NULL;
	struct session_time t;
	const char *resume = cx_json_str(doc, "resume_text");
	int i, n;
	int reveal = s->staff || finished(doc);

	copy_fields(o, doc, plain);
	json_object_object_add(o, "has_resume", json_object_new_boolean(
	    json_object_object_get_ex(doc, "has_resume", &has) ? json_object_get_boolean(has) :
	    resume != NULL && *resume != '\0'));
	json_object_object_add(o, "progress", session_progress_json(doc));
	session_time(doc, s->now_ms, &t);
	json_object_object_add(o, "time", session_time_json(&t));
	if (list_form)
		return o;
	copy_field(o, inputs_inside(doc) ? doc : s->inputs, "job_description");
	out_q = json_object_new_array();
	answers = json_object_new_array();
	n = session_plan_length(doc);
	for (i = 0; i < n; i++) {
		json_object *qdoc, *q, *a, *v;
		const char *id = session_plan_id(doc, i), *asked_at = session_plan_asked_at(doc, i);

		if (id == NULL || s->qdocs == NULL ||
		    !json_object_object_get_ex(s->qdocs, id, &qdoc) ||
		    (q = qdoc_question(qdoc)) == NULL)
			continue;
		a = qdoc_answer(qdoc);
		if (a != NULL)
			json_object_array_add(answers, json_object_get(a));
		if (!reveal && asked_at == NULL)
			continue;
		v = question_view(q, asked_at, i + 1, 0, reveal);
		json_object_object_add(v, "answered", json_object_new_boolean(a != NULL));
		json_object_array_add(out_q, v);
	}
	json_object_object_add(o, "questions", out_q);
	json_object_object_add(o, "answers", answers);
	json_object_object_add(o, "anti_cheat", anti_cheat_view(s));
	if (s->log != NULL)
		json_object_object_add(o, "anti_cheat_log", json_object_get(s->log));
	else   /* not read: a session just created, which has none */
		json_object_object_add(o, "anti_cheat_log", json_object_new_array());
	return o;
}

int
session_reader_is_staff(const struct cx_request *req)
{
	const char *role = req->claims.role;

	return cx_role_has_permission(role, "read_candidates") ||
	    (role != NULL && strcmp(role, "admin") == 0);
}

static int
load_doc(struct cx_request *req, const char *id, json_object **out, struct cx_error *err)
{
	struct cx_filter *f = cx_filter_eq_str(cx_filter_new(), "id", id);
	int rc = cx_store_find_one(req->app->store, SESSIONS, f, out, err);

	cx_filter_free(f);
	if (rc == CX_ENOTFOUND) {
		cx_error_clear(err);
		return cx_error_set(err, CX_ENOTFOUND, "Interview session not found");
	}
	return rc;
}

/* The per-worker document cache (cache.c). Every writer bumps "rev" (session_save), so a
 * current revision means the same document. A document leaves the cache while a request
 * uses it, and comes back only if it still matches the store. */
static json_object *
cache_take(struct cx_request *req, struct interview_app *ia, const char *id,
    struct session *s, int verify)
{
	struct cached_doc c;
	struct cx_filter *f;
	int64_t n = 0;
	int rc;

	if (!doc_cache_take(&ia->docs, id, &c))
		return NULL;
	if (!verify) {
		s->qdocs = c.qdocs;
		s->log = c.log;
		s->assembled = c.assembled;
		s->trusted = 1;
		return c.doc;
	}
	f = cx_filter_eq_int(cx_filter_eq_str(cx_filter_new(), "id", id), "rev", c.rev);
	rc = cx_store_count(req->app->store, SESSIONS, f, &n, NULL);
	cx_filter_free(f);
	if (rc == CX_OK && n == 1) {
		s->qdocs = c.qdocs;
		s->log = c.log;
		s->assembled = c.assembled;
		return c.doc;
	}
	doc_cache_release(&c);
	return NULL;
}

/* Sessions written before questions had documents of their own held "questions" and
 * "answers" arrays: move them out, once, in one transaction with the session. */
static int
split_legacy(struct cx_request *req, struct session *s, struct cx_error *err)
{
	json_object *qs = json_object_object_get(s->doc, "questions");
	json_object *answers = json_object_object_get(s->doc, "answers");
	json_object *plan = json_object_new_array(), *asked_at = json_object_new_array();
	struct qwrite *w;
	size_t i, j, n = json_object_array_length(qs), na = 0;
	size_t nanswers = json_object_is_type(answers, json_type_array) ?
	    json_object_array_length(answers) : 0;
	int rc;

	if ((w = calloc(n + 1, sizeof(*w))) == NULL) {
		json_object_put(plan);
		return cx_error_internal(err, "out of memory");
	}
	session_touch(s);
	for (i = 0; i < n; i++) {
		json_object *q = json_object_get(json_object_array_get_idx(qs, i));
		json_object *qdoc, *asked = NULL;
		const char *qid = cx_json_str(q, "id");

		json_object_object_get_ex(q, "asked_at", &asked);
		json_object_array_add(plan, json_object_new_string(qid != NULL ? qid : ""));
		if (json_object_is_type(asked, json_type_string))
			json_object_array_put_idx(asked_at, i, json_object_get(asked));
		json_object_object_del(q, "asked_at");
		qdoc = session_new_question(s, q);
		for (j = 0; qid != NULL && j < nanswers; j++) {
			json_object *ans = json_object_array_get_idx(answers, j);
			const char *aq = cx_json_str(ans, "question_id");

			if (aq != NULL && strcmp(aq, qid) == 0) {
				json_object_object_add(qdoc, "answer", json_object_get(ans));
				na++;
				break;
			}
		}
		w[i].op = QW_INSERT;
		w[i].doc = qdoc;
	}
	json_object_object_add(s->doc, "plan", plan);
	json_object_object_add(s->doc, "asked_at", asked_at);
	json_object_object_add(s->doc, "answered", json_object_new_int((int)na));
	json_object_object_del(s->doc, "questions");
	json_object_object_del(s->doc, "answers");
	s->assembled = 1;
	rc = session_save_with(req, s, w, n, err);
	free(w);
	return rc;
}

static int
load(struct cx_request *req, int staff_ok, int trust, struct session *s, struct cx_error *err);
static int upgrade_layout(struct cx_request *req, struct session *s, struct cx_error *err);

int
session_load(struct cx_request *req, int staff_ok, struct session *s, struct cx_error *err)
{
	return load(req, staff_ok, 0, s, err);
}

int
session_load_to_write(struct cx_request *req, struct session *s, struct cx_error *err)
{
	return load(req, 0, 1, s, err);
}

static int
load(struct cx_request *req, int staff_ok, int trust, struct session *s, struct cx_error *err)
{
	const char *id = cx_http_param(req, "id");
	const char *cand;
	struct session_time t;
	int rc, attempt, cached;

	memset(s, 0, sizeof(*s));
	if (id == NULL || !cx_oid_valid(id))
		return cx_error_field(err, "id", "must be a 24-character hexadecimal session id");
	for (attempt = 0; attempt < LOAD_ATTEMPTS; attempt++) {
		json_object_put(s->doc);
		json_object_put(s->qdocs);
		json_object_put(s->log);
		json_object_put(s->new_log);
		s->qdocs = s->log = s->new_log = NULL;
		s->assembled = 0;
		s->trusted = 0;
		s->doc = attempt == 0 ? cache_take(req, req->app->data, id, s, !trust) : NULL;
		cached = s->doc != NULL;
		if (s->doc == NULL && (rc = load_doc(req, id, &s->doc, err)) != CX_OK)
			return rc;
		s->clean = 1;
		s->req = req;
		cand = cx_json_str(s->doc, "candidate_id");
		s->owner = cand != NULL &&
		    strcmp(cand, req->claims.sub) == 0;
		s->staff = !s->owner && session_reader_is_staff(req);
		s->now_ms = cx_time_now_ms();
		s->ia = req->app->data;
		if (!s->owner && !(staff_ok && s->staff)) {
			session_free(s);
			if (session_reader_is_staff(req))
				return cx_error_set(err, CX_EFORBIDDEN,
				    "Only the candidate can take part in their interview");
			return cx_error_set(err, CX_ENOTFOUND, "Interview session not found");
		}
		/* (a cached copy was brought to the current layout when it was read) */
		rc = cached ? CX_OK : upgrade_layout(req, s, err);
		if (rc == CX_ECONFLICT) {
			cx_error_clear(err);
			continue;
		}
		if (rc != CX_OK) {
			session_free(s);
			return rc;
		}
		session_time(s->doc, s->now_ms, &t);
		if (!t.running || t.remaining_ms > 0)
			return CX_OK;
		/* Time ran out while nobody was looking: finish it now, once. */
		rc = session_finish(req, s, "completed", "time_up", err);
		if (rc == CX_OK)
			session_publish_complete(req, s);
		if (rc != CX_ECONFLICT)
			return rc == CX_OK ? CX_OK : (session_free(s), rc);
		cx_error_clear(err);
	}
	session_free(s);
	return cx_error_set(err, CX_ECONFLICT,
	    "The session is changing too quickly; try again");
}

static void
keep_question(struct session *s, json_object *qdoc)
{
	const char *qid = cx_json_str(qdoc, "question_id");

	if (s->qdocs == NULL)
		s->qdocs = json_object_new_object();
	json_object_object_add(s->qdocs, qid != NULL ? qid : "", qdoc);
}

int64_t
session_log_length(json_object *doc)
{
	return get_int(doc, "anti_cheat_logged", 0);
}

/* The stored log of s, in order: the entries counted by the session. */
static int
read_log(struct session *s, struct cx_error *err)
{
	struct cx_sort by_n = { "n", 1 };
	struct cx_filter *f;
	json_object *docs = NULL;
	int64_t want = session_log_length(s->doc);
	size_t i;
	int rc;

	s->log = json_object_new_array();
	if (want == 0)
		return CX_OK;
	f = cx_filter_add(cx_filter_eq_str(cx_filter_new(), "session_id",
	    cx_json_str(s->doc, "id")), "n", CX_LT, json_object_new_int64(want));
	rc = cx_store_find(s->req->app->store, EVENTS, f, &by_n, 1, 0, 0, &docs, err);
	cx_filter_free(f);
	if (rc != CX_OK)
		return rc;
	for (i = 0; i < json_object_array_length(docs); i++)
		json_object_array_add(s->log, json_object_get(json_object_object_get(
		    json_object_array_get_idx(docs, i), "entry")));
	json_object_put(docs);
	if ((int64_t)json_object_array_length(s->log) != want)
		return cx_error_internal(err, "session %s logs %lld anti-cheat entries, %zu stored",
		    cx_json_str(s->doc, "id"), (long long)want, json_object_array_length(s->log));
	return CX_OK;
}

void
session_log_append(struct session *s, json_object *entries)
{
	int64_t n = session_log_length(s->doc);
	size_t i;

	if (s->new_log == NULL)
		s->new_log = json_object_new_array();
	for (i = 0; i < json_object_array_length(entries); i++) {
		json_object *e = json_object_array_get_idx(entries, i), *d = json_object_new_object();
		char id[CX_OID_LEN];

		cx_oid_new(id);
		json_object_object_add(d, "id", json_object_new_string(id));
		json_object_object_add(d, "session_id", json_object_new_string(
		    cx_json_str(s->doc, "id")));
		json_object_object_add(d, "n", json_object_new_int64(n++));
		json_object_object_add(d, "entry", json_object_get(e));
		json_object_array_add(s->new_log, d);
		if (s->log != NULL)
			json_object_array_add(s->log, json_object_get(e));
	}
	json_object_object_add(s->doc, "anti_cheat_logged", json_object_new_int64(n));
}

int
session_log_for(struct session *s, json_object *events, json_object **out,
    struct cx_error *err)
{
	json_object *seqs = json_object_new_array(), *docs = NULL;
	struct cx_filter *f;
	size_t i;
	int rc;

	*out = json_object_new_array();
	/* a batch cx_ac_apply will refuse needs nothing */
	if (!json_object_is_type(events, json_type_array) ||
	    json_object_array_length(events) > CX_AC_MAX_BATCH) {
		json_object_put(seqs);
		return CX_OK;
	}
	for (i = 0; i < json_object_array_length(events); i++) {
		json_object *seq = json_object_object_get(json_object_array_get_idx(events, i),
		    "seq");

		if (json_object_is_type(seq, json_type_int))
			json_object_array_add(seqs, json_object_get(seq));
	}
	if (json_object_array_length(seqs) == 0 || session_log_length(s->doc) == 0) {
		json_object_put(seqs);
		return CX_OK;
	}
	f = cx_filter_in(cx_filter_add(cx_filter_eq_str(cx_filter_new(), "session_id",
	    cx_json_str(s->doc, "id")), "n", CX_LT,
	    json_object_new_int64(session_log_length(s->doc))), "entry.seq", seqs);
	rc = cx_store_find(s->req->app->store, EVENTS, f, NULL, 0, 0, 0, &docs, err);
	cx_filter_free(f);
	for (i = 0; rc == CX_OK && i < json_object_array_length(docs); i++)
		json_object_array_add(*out, json_object_get(json_object_object_get(
		    json_object_array_get_idx(docs, i), "entry")));
	json_object_put(docs);
	return rc;
}

/* Sessions written before the log had documents of its own held it as anti_cheat_log:
 * move it out, once, in one transaction with the session. */
static int
split_log(struct cx_request *req, struct session *s, struct cx_error *err)
{
	json_object *log = json_object_get(json_object_object_get(s->doc, "anti_cheat_log"));

	session_touch(s);
	json_object_object_del(s->doc, "anti_cheat_log");
	json_object_object_add(s->doc, "anti_cheat_logged", json_object_new_int(0));
	json_object_put(s->log);
	s->log = json_object_new_array();
	session_log_append(s, log);
	json_object_put(log);
	return session_save(req, s, err);
}

/* A session stored by an earlier release is brought to the current layout on first use:
 * questions and answers out of the session (split_legacy), then the anti-cheat log, then
 * the plan's entries as ids beside asked_at (compact_plan). */
static int
upgrade_layout(struct cx_request *req, struct session *s, struct cx_error *err)
{
	int rc = CX_OK;

	if (json_object_object_get(s->doc, "plan") == NULL &&
	    json_object_is_type(json_object_object_get(s->doc, "questions"), json_type_array))
		rc = split_legacy(req, s, err);
	if (rc == CX_OK &&
	    json_object_is_type(json_object_object_get(s->doc, "anti_cheat_log"), json_type_array))
		rc = split_log(req, s, err);
	if (rc == CX_OK)
		compact_plan(s->doc);   /* in memory: stored by the next save */
	return rc;
}

/* qdoc's answer, from the answer document adoc (the answer is kept beside the question
 * in memory). A question document of the release before answers had documents of their
 * own holds its answer itself: that one stands. */
static void
attach_answer(json_object *qdoc, json_object *adoc)
{
	json_object *a = json_object_object_get(adoc, "answer");

	if (qdoc_answer(qdoc) == NULL && json_object_is_type(a, json_type_object))
		json_object_object_add(qdoc, "answer", json_object_get(a));
}

/* Every document of coll that belongs to s. */
static int
session_docs(struct session *s, const char *coll, json_object **docs, struct cx_error *err)
{
	struct cx_filter *f = cx_filter_eq_str(cx_filter_new(), "session_id",
	    cx_json_str(s->doc, "id"));
	int rc = cx_store_find(s->req->app->store, coll, f, NULL, 0, 0, 0, docs, err);

	cx_filter_free(f);
	return rc;
}

/* The answers of s, onto the questions read so far. */
static int
read_answers(struct session *s, struct cx_error *err)
{
	json_object *docs = NULL, *qdoc;
	size_t i;
	int rc;

	if ((rc = session_docs(s, ANSWERS, &docs, err)) != CX_OK)
		return rc;
	for (i = 0; i < json_object_array_length(docs); i++) {
		json_object *d = json_object_array_get_idx(docs, i);
		const char *qid = cx_json_str(d, "question_id");

		if (qid != NULL && s->qdocs != NULL &&
		    json_object_object_get_ex(s->qdocs, qid, &qdoc))
			attach_answer(qdoc, d);
	}
	json_object_put(docs);
	return CX_OK;
}

int
session_assemble(struct session *s, struct cx_error *err)
{
	json_object *docs = NULL;
	size_t i;
	int rc, n, missing = 0;

	if (s->inputs == NULL && !inputs_inside(s->doc)) {
		struct cx_filter *f = cx_filter_eq_str(cx_filter_new(), "id", cx_json_str(s->doc,
		    "id"));

		rc = cx_store_find_one(s->req->app->store, INPUTS, f, &s->inputs, err);
		cx_filter_free(f);
		if (rc == CX_ENOTFOUND) {   /* then the view says null */
			cx_error_clear(err);
			cx_logf(CX_LOG_WARN, "session %s: its inputs are not stored",
			    cx_json_str(s->doc, "id"));
			s->inputs = json_object_new_object();
		} else if (rc != CX_OK)
			return rc;
	}
	if (s->assembled)
		return CX_OK;
	if ((rc = session_docs(s, QUESTIONS, &docs, err)) != CX_OK)
		return rc;
	/* Documents read before (and maybe changed by this request) stay as they are. */
	for (i = 0; i < json_object_array_length(docs); i++) {
		json_object *d = json_object_array_get_idx(docs, i);
		const char *qid = cx_json_str(d, "question_id");

		if (qid != NULL && (s->qdocs == NULL ||
		    !json_object_object_get_ex(s->qdocs, qid, NULL)))
			keep_question(s, json_object_get(d));
	}
	json_object_put(docs);
	if ((rc = read_answers(s, err)) != CX_OK)
		return rc;
	n = session_plan_length(s->doc);
	for (i = 0; i < (size_t)n; i++) {
		const char *qid = session_plan_id(s->doc, (int)i);

		if (qid == NULL || s->qdocs == NULL ||
		    !json_object_object_get_ex(s->qdocs, qid, NULL))
			missing++;
	}
	if (missing > 0)
		return cx_error_internal(err, "%d question(s) of session %s are not stored",
		    missing, cx_json_str(s->doc, "id"));
	if (s->log == NULL && (rc = read_log(s, err)) != CX_OK)
		return rc;
	s->assembled = 1;
	return CX_OK;
}

#define READ_AHEAD 3   /* questions read with the one just asked: the next to be asked */

/* Question qid, just asked, and the READ_AHEAD planned after it (none has an answer yet)
 * in one query, kept in s->qdocs: the next answers find theirs there. */
static int
read_ahead(struct session *s, const char *qid, json_object **qdoc, struct cx_error *err)
{
	json_object *ids = json_object_new_array(), *docs = NULL;
	struct cx_filter *f;
	int index = session_plan_index(s->doc, qid), i, rc;
	size_t k;

	json_object_array_add(ids, json_object_new_string(qid));
	for (i = index + 1; index >= 0 && i <= index + READ_AHEAD; i++) {
		const char *next = session_plan_id(s->doc, i);

		if (next != NULL && (s->qdocs == NULL ||
		    !json_object_object_get_ex(s->qdocs, next, NULL)))
			json_object_array_add(ids, json_object_new_string(next));
	}
	f = cx_filter_in(cx_filter_eq_str(cx_filter_new(), "session_id",
	    cx_json_str(s->doc, "id")), "question_id", ids);
	rc = cx_store_find(s->req->app->store, QUESTIONS, f, NULL, 0, 0, 0, &docs, err);
	cx_filter_free(f);
	for (k = 0; rc == CX_OK && k < json_object_array_length(docs); k++)
		keep_question(s, json_object_get(json_object_array_get_idx(docs, k)));
	json_object_put(docs);
	if (rc != CX_OK)
		return rc;
	if (s->qdocs == NULL || !json_object_object_get_ex(s->qdocs, qid, qdoc))
		return cx_error_set(err, CX_ENOTFOUND, "Question %s is not part of this interview",
		    qid);
	return CX_OK;
}

/* Question qid of s, with its answer when it has one; with_answer 0: the caller knows
 * it has none (it was asked by this very request). */
static int
read_question(struct session *s, const char *qid, int with_answer, json_object **qdoc,
    struct cx_error *err)
{
	struct cx_filter *f;
	json_object *adoc = NULL;
	int rc;

	if (s->qdocs != NULL && json_object_object_get_ex(s->qdocs, qid, qdoc))
		return CX_OK;
	if (s->assembled)
		return cx_error_set(err, CX_ENOTFOUND, "Question %s is not part of this interview",
		    qid);
	if (!with_answer)
		return read_ahead(s, qid, qdoc, err);
	f = cx_filter_eq_str(cx_filter_eq_str(cx_filter_new(), "session_id",
	    cx_json_str(s->doc, "id")), "question_id", qid);
	rc = cx_store_find_one(s->req->app->store, QUESTIONS, f, qdoc, err);
	if (rc == CX_OK && with_answer && qdoc_answer(*qdoc) == NULL) {
		rc = cx_store_find_one(s->req->app->store, ANSWERS, f, &adoc, err);
		if (rc == CX_OK)
			attach_answer(*qdoc, adoc);
		else if (rc == CX_ENOTFOUND) {
			cx_error_clear(err);
			rc = CX_OK;
		}
		json_object_put(adoc);
		if (rc != CX_OK) {
			json_object_put(*qdoc);
			*qdoc = NULL;
		}
	}
	cx_filter_free(f);
	if (rc == CX_ENOTFOUND) {
		cx_error_clear(err);
		return cx_error_set(err, CX_ENOTFOUND, "Question %s is not part of this interview",
		    qid);
	}
	if (rc == CX_OK)
		keep_question(s, *qdoc);
	return rc;
}

int
session_question(struct session *s, const char *qid, json_object **qdoc, struct cx_error *err)
{
	int index = session_plan_index(s->doc, qid);

	/* a question not asked yet has no answer */
	return read_question(s, qid, index < 0 || index <= session_current(s->doc), qdoc, err);
}

int
session_question_asked(struct session *s, const char *qid, json_object **qdoc,
    struct cx_error *err)
{
	return read_question(s, qid, 0, qdoc, err);
}

json_object *
session_new_question(struct session *s, json_object *question)
{
	json_object *qdoc = json_object_new_object();
	char id[CX_OID_LEN];
	const char *sid = cx_json_str(s->doc, "id"), *qid = cx_json_str(question, "id");

	cx_oid_new(id);
	json_object_object_add(qdoc, "id", json_object_new_string(id));
	json_object_object_add(qdoc, "session_id", json_object_new_string(sid != NULL ? sid : ""));
	json_object_object_add(qdoc, "question_id",
	    json_object_new_string(qid != NULL ? qid : ""));
	json_object_object_add(qdoc, "question", question);
	json_object_object_add(qdoc, "answer", NULL);
	keep_question(s, qdoc);
	return qdoc;
}

/* The answered questions of a session not read whole: nothing but a retry of a lost
 * response needs them again (it reads them back), and a worker caching every one of them
 * held 20 documents per interview by its end. */
static void
drop_answered(struct session *s)
{
	const char *drop[64];
	size_t n = 0, i;

	if (s->assembled || s->qdocs == NULL)
		return;
	json_object_object_foreach(s->qdocs, qid, qdoc) {
		if (n < sizeof(drop) / sizeof(drop[0]) && qdoc_answer(qdoc) != NULL)
			drop[n++] = qid;
	}
	for (i = 0; i < n; i++)
		json_object_object_del(s->qdocs, drop[i]);
}

void
session_free(struct session *s)
{
	if (s->req != NULL)
		state_flush(s->req);
	drop_answered(s);
	if (s->doc != NULL && s->clean && s->req != NULL)
		doc_cache_put(&((struct interview_app *)s->req->app->data)->docs, s->doc,
		    s->qdocs, s->log, s->assembled, session_rev(s->doc));
	else {
		json_object_put(s->doc);
		json_object_put(s->qdocs);
		json_object_put(s->log);
	}
	json_object_put(s->new_log);
	json_object_put(s->inputs);
	s->new_log = NULL;
	s->inputs = NULL;
	s->log = NULL;
	s->qdocs = NULL;
	s->assembled = 0;
	s->doc = NULL;
	s->clean = 0;
}

void
session_touch(struct session *s)
{
	s->clean = 0;
}

static int
conflict(struct cx_error *err)
{
	cx_error_clear(err);
	return cx_error_set(err, CX_ECONFLICT,
	    "The session was changed by another request; try again");
}

/* A new question document, or an answer: a document of its own, added (an answer
 * written into its question document made the row outgrow its page, and SQLite moved
 * rows between pages on every answer). The unique index on (session_id, question_id)
 * lets one answer per question through. */
static json_object *answer_doc(const struct qwrite *w);

static int
write_question(struct cx_store *store, const struct qwrite *w, struct cx_error *err)
{
	json_object *adoc;
	int rc;

	if (w->op == QW_INSERT)
		return cx_store_insert(store, QUESTIONS, w->doc, err);
	adoc = answer_doc(w);
	rc = cx_store_insert(store, ANSWERS, adoc, err);
	json_object_put(adoc);
	return rc == CX_ECONFLICT ? conflict(err) : rc;
}

/* The log entries s->new_log, after dropping the leftovers of a save that did not
 * complete (entries at n beyond the session's count: only a store without transactions
 * leaves any, and a session's writes all come from one worker). */
static int
write_log(struct cx_store *store, struct session *s, struct cx_error *err)
{
	json_object *first = json_object_array_get_idx(s->new_log, 0);
	struct cx_filter *f;
	size_t i;
	int rc;

	f = cx_filter_add(cx_filter_eq_str(cx_filter_new(), "session_id",
	    cx_json_str(s->doc, "id")), "n", CX_GTE,
	    json_object_get(json_object_object_get(first, "n")));
	while ((rc = cx_store_delete_one(store, EVENTS, f, err)) == CX_OK)
		;
	cx_filter_free(f);
	if (rc != CX_ENOTFOUND)
		return rc;
	cx_error_clear(err);
	for (i = 0, rc = CX_OK; i < json_object_array_length(s->new_log) && rc == CX_OK; i++)
		rc = cx_store_insert(store, EVENTS, json_object_array_get_idx(s->new_log, i), err);
	return rc;
}

/* The answer document of a QW_ANSWER write. */
static json_object *
answer_doc(const struct qwrite *w)
{
	json_object *adoc = json_object_new_object();
	char id[CX_OID_LEN];

	cx_oid_new(id);
	json_object_object_add(adoc, "id", json_object_new_string(id));
	json_object_object_add(adoc, "session_id", json_object_get(json_object_object_get(
	    w->doc, "session_id")));
	json_object_object_add(adoc, "question_id", json_object_get(json_object_object_get(
	    w->doc, "question_id")));
	json_object_object_add(adoc, "answer", json_object_get(qdoc_answer(w->doc)));
	return adoc;
}

/* The writes of session_save_with, prepared now (the documents as they are) and left to
 * the end of the worker's round (interview_batch_commit); the response waits for them. */
static int
defer_save(struct cx_request *req, struct session *s, const struct qwrite *w, size_t nw,
    int64_t rev, struct cx_error *err)
{
	struct interview_app *ia = req->app->data;
	struct cx_store *store = req->app->store;
	struct deferred *d;
	size_t i;
	int rc = CX_OK;

	if (ia->ndeferred == ia->deferred_cap) {
		size_t cap = ia->deferred_cap ? 2 * ia->deferred_cap : 16;
		struct deferred *p = realloc(ia->deferred, cap * sizeof(*p));

		if (p == NULL)
			return cx_error_internal(err, "out of memory");
		ia->deferred = p;
		ia->deferred_cap = cap;
	}
	d = &ia->deferred[ia->ndeferred];
	memset(d, 0, sizeof(*d));
	for (i = 0; i < nw && rc == CX_OK; i++) {
		json_object *doc = w[i].op == QW_INSERT ? json_object_get(w[i].doc) : answer_doc(&w[i]);

		rc = cx_store_prepare(store, w[i].op == QW_INSERT ? QUESTIONS : ANSWERS, NULL, doc,
		    &d->w[d->nw], err);
		json_object_put(doc);
		if (rc == CX_OK)
			d->nw++;
	}
	if (rc == CX_OK && (rc = cx_store_prepare(store, SESSIONS,
	    cx_filter_eq_int(cx_filter_new(), "rev", rev), s->doc, &d->w[d->nw], err)) == CX_OK)
		d->nw++;
	if (rc != CX_OK) {
		for (i = 0; i < d->nw; i++)
			cx_store_write_free(store, d->w[i]);
		return rc;
	}
	d->req = req;
	snprintf(d->session_id, sizeof(d->session_id), "%s", cx_json_str(s->doc, "id"));
	ia->ndeferred++;
	req->hold = 1;
	return CX_OK;
}

static struct deferred *
deferred_of(struct interview_app *ia, struct cx_request *req)
{
	for (size_t i = 0; i < ia->ndeferred; i++)
		if (ia->deferred[i].req == req)
			return &ia->deferred[i];
	return NULL;
}

/* Where state_flush leaves what a held request owes Redis. */
int
session_hold_state(struct cx_request *req)
{
	struct interview_app *ia = req->app->data;
	struct deferred *d = req->hold ? deferred_of(ia, req) : NULL;
	size_t i;

	if (d == NULL)
		return 0;
	if (ia->refresh_doc != NULL) {
		json_object_put(d->refresh_doc);
		d->refresh_doc = ia->refresh_doc;
		d->refresh_ms = ia->refresh_ms;
		ia->refresh_doc = NULL;
	}
	if (ia->outbox != NULL) {
		if (d->outbox == NULL) {
			d->outbox = ia->outbox;
			ia->outbox = NULL;
		}
		for (i = 0; ia->outbox != NULL && i < json_object_array_length(ia->outbox); i++)
			json_object_array_add(d->outbox, json_object_get(
			    json_object_array_get_idx(ia->outbox, i)));
		snprintf(d->outbox_session, sizeof(d->outbox_session), "%s", ia->outbox_session);
		json_object_put(ia->outbox);
		ia->outbox = NULL;
	}
	return 1;
}

static void send_states(struct cx_app *app);

void
interview_batch_commit(struct cx_app *app)
{
	struct interview_app *ia = app->data;
	struct cx_error err = { 0 };
	size_t i, nok = 0;
	int rc;

	if (ia == NULL || ia->ndeferred == 0)
		return;
	rc = cx_store_begin(app->store, &err);
	for (i = 0; i < ia->ndeferred && rc == CX_OK; i++) {
		struct deferred *d = &ia->deferred[i];
		int r = cx_store_apply(app->store, d->w, d->nw, &err);

		d->ok = r == CX_OK;
		nok += (size_t)d->ok;
		if (r != CX_OK && r != CX_ECONFLICT && r != CX_ENOTFOUND)
			rc = r;   /* the transaction is lost */
		cx_error_clear(&err);
	}
	if (rc == CX_OK && nok > 0)
		rc = cx_store_commit(app->store, &err);
	else
		cx_store_rollback(app->store);
	if (rc != CX_OK) {
		cx_logf(CX_LOG_WARN, "%zu deferred write(s) not stored, done again one by one: %s",
		    ia->ndeferred, err.message);
		cx_error_clear(&err);
	}
	for (i = 0; i < ia->ndeferred; i++) {
		ia->deferred[i].ok = ia->deferred[i].ok && rc == CX_OK;
		ia->deferred[i].req->held_ok = ia->deferred[i].ok;
	}
	if (rc == CX_OK)
		send_states(app);
}

/* What the stored ones owe Redis, in one round trip. */
static void
send_states(struct cx_app *app)
{
	struct interview_app *ia = app->data;
	struct state_due *due = calloc(ia->ndeferred, sizeof(*due));
	size_t i, n = 0;

	for (i = 0; due != NULL && i < ia->ndeferred; i++) {
		struct deferred *d = &ia->deferred[i];

		if (!d->ok || (d->refresh_doc == NULL && d->outbox == NULL))
			continue;
		due[n].doc = d->refresh_doc;
		due[n].refresh_ms = d->refresh_ms;
		due[n].outbox = d->outbox;
		due[n++].session = d->outbox_session;
	}
	state_send(app, due, n);   /* out of memory or Redis failing: skipped, as state_flush
	                            * does (Redis is a view, the next write brings it up) */
	free(due);
}

void
interview_batch_release(struct cx_request *req, int ok)
{
	struct interview_app *ia = req->app->data;
	struct deferred *d = deferred_of(ia, req);
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nw; i++)
		cx_store_write_free(req->app->store, d->w[i]);
	d->nw = 0;
	d->req = NULL;
	/* What it owes Redis went with the round's if it was stored (send_states); else the
	 * worker's copy is not what the store holds. */
	json_object_put(d->refresh_doc);
	json_object_put(d->outbox);
	d->refresh_doc = d->outbox = NULL;
	if (!ok)
		doc_cache_drop(&ia->docs, d->session_id);
	for (i = 0; i < ia->ndeferred && ia->deferred[i].req == NULL; i++)
		;
	if (i == ia->ndeferred)   /* all settled */
		ia->ndeferred = 0;
}

int
session_save_with(struct cx_request *req, struct session *s, const struct qwrite *w,
    size_t nw, struct cx_error *err)
{
	size_t nlog;
	struct cx_store *store = req->app->store;
	int64_t rev = session_rev(s->doc);
	struct cx_filter *f;
	char now[CX_TIME_LEN];
	size_t i;
	int rc;

	s->clean = 0;
	cx_time_format_ms(s->now_ms, now);
	json_object_object_add(s->doc, "rev", json_object_new_int64(rev + 1));
	json_object_object_add(s->doc, "updated_at", json_object_new_string(now));
	nlog = s->new_log != NULL ? json_object_array_length(s->new_log) : 0;
	if (s->defer && nlog == 0 && nw < DEFER_WRITES && !req->no_defer &&
	    ((struct interview_app *)req->app->data)->may_defer) {
		if ((rc = defer_save(req, s, w, nw, rev, err)) != CX_OK)
			return rc;
		s->clean = 1;
		state_refresh(req, s->doc, s->now_ms);
		return CX_OK;
	}
	if (nw + nlog > 0 && (rc = cx_store_begin(store, err)) != CX_OK)
		return rc;
	rc = nlog > 0 ? write_log(store, s, err) : CX_OK;
	for (i = 0; i < nw && rc == CX_OK; i++)
		rc = write_question(store, &w[i], err);
	if (rc == CX_OK) {
		f = cx_filter_eq_int(cx_filter_new(), "rev", rev);
		rc = cx_store_replace_one(store, SESSIONS, f, s->doc, err);
		cx_filter_free(f);
		if (rc == CX_ENOTFOUND)
			rc = conflict(err);
	}
	if (nw + nlog > 0) {
		if (rc == CX_OK)
			rc = cx_store_commit(store, err);
		else
			cx_store_rollback(store);
	}
	if (rc != CX_OK)
		return rc;
	json_object_put(s->new_log);
	s->new_log = NULL;
	s->clean = 1;
	state_refresh(req, s->doc, s->now_ms);
	return CX_OK;
}

int
session_save(struct cx_request *req, struct session *s, struct cx_error *err)
{
	return session_save_with(req, s, NULL, 0, err);
}

int
session_finish(struct cx_request *req, struct session *s, const char *status,
    const char *reason, struct cx_error *err)
{
	struct interview_app *ia = req->app->data;
	json_object *qs, *fb, *result = NULL;
	char now[CX_TIME_LEN];
	int64_t paused_at = time_field(s->doc, "paused_at");
	int i, n, rc;

	if ((rc = session_assemble(s, err)) != CX_OK)
		return rc;
	session_touch(s);
	/* The questions in plan order, and the AI's feedback of each (null: unanswered). */
	qs = json_object_new_array();
	fb = json_object_new_array();
	n = session_plan_length(s->doc);
	for (i = 0; i < n; i++) {
		json_object *qdoc = json_object_object_get(s->qdocs, session_plan_id(s->doc, i));

		json_object_array_add(qs, json_object_get(qdoc_question(qdoc)));
		json_object_array_add(fb, cx_json_thaw(json_object_object_get(
		    qdoc_answer(qdoc), "ai_feedback")));
	}
	rc = cx_ai_summarize(ia->ai, qs, fb, &result, err);
	json_object_put(fb);
	json_object_put(qs);
	if (rc != CX_OK)
		return rc;
	cx_time_format_ms(s->now_ms, now);
	if (paused_at >= 0)
		json_object_object_add(s->doc, "paused_ms", json_object_new_int64(
		    get_int(s->doc, "paused_ms", 0) + (s->now_ms - paused_at)));
	json_object_object_add(s->doc, "paused_at", NULL);
	json_object_object_add(s->doc, "status", json_object_new_string(status));
	json_object_object_add(s->doc, "result", result);
	json_object_object_add(s->doc, "completed_at", json_object_new_string(now));
	if (strcmp(status, "terminated") == 0) {
		json_object_object_add(s->doc, "completed_reason", json_object_new_string("terminated"));
		json_object_object_add(s->doc, "terminated_reason", json_object_new_string(reason));
	} else {
		json_object_object_add(s->doc, "completed_reason", json_object_new_string(reason));
		json_object_object_add(s->doc, "terminated_reason", NULL);
	}
	return session_save(req, s, err);
}

void
session_publish_complete(struct cx_request *req, struct session *s)
{
	json_object *data = json_object_new_object();
	const char *reason = cx_json_str(s->doc, "terminated_reason");

	if (reason == NULL)
		reason = cx_json_str(s->doc, "completed_reason");
	json_object_object_add(data, "status", json_object_new_string(session_status(s->doc)));
	json_object_object_add(data, "reason", reason != NULL ? json_object_new_string(reason) :
	    NULL);
	json_object_object_add(data, "result", json_object_get(json_object_object_get(s->doc,
	    "result")));
	state_publish(req, cx_json_str(s->doc, "id"), "complete", data);
}
