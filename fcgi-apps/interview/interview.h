/* cx-interview: mock interviews with the AI interviewer, and their anti-cheat log. */
#ifndef INTERVIEW_H
#define INTERVIEW_H

#include <json-c/json.h>
#include <stdint.h>

#include "cx_anticheat.h"
#include "cx_error.h"
#include "cx_http.h"

/* A session is one small document in SESSIONS (status, clock, plan, anti-cheat state),
 * one document per question in QUESTIONS ({id, session_id, question_id, question,
 * answer: null}) and one per answer in ANSWERS ({id, session_id, question_id, answer}).
 * The plan in the session (question ids in asking order, "plan", and beside it when each
 * was asked, "asked_at": a time for each asked one, null or missing past the last) says
 * which questions count; an answer adds its document and writes the session, so the cost of a
 * write does not grow with the interview. In memory an answer sits in its question's
 * document ("answer"), where the release before ANSWERS stored it (still read). */
#define SESSIONS "interview_sessions"
#define QUESTIONS "interview_questions"
#define ANSWERS "interview_answers"
/* What a session was made from and no answer changes, kept apart so that an answer does
 * not write it again (a resume is often 5-10 KB): one document per session {id (the
 * session's), session_id, job_description, resume_text}. The session document says
 * has_resume. A session stored before this layout has both fields in its own document
 * (read there: a document with a job_description field has its inputs inside). */
#define INPUTS "interview_inputs"
/* The anti-cheat log: one document per entry {id, session_id, n, entry}, n its place in
 * the log (0, 1, ...). The session counts them (anti_cheat_logged); entries at n beyond
 * that count are leftovers of a save that did not complete, and are not part of it. */
#define EVENTS "interview_events"

/* A session document (and the question documents read with it) this worker read or
 * wrote, reused while the session's revision is current (cache.c). */
struct cached_doc {
	char id[25];
	int64_t rev;
	json_object *doc;      /* owned */
	json_object *qdocs;    /* owned: the question documents read with it (or NULL); every
	                        * write of a question bumps the session's revision too */
	int assembled;
	json_object *log;      /* owned: the anti-cheat log entries, when read (or NULL) */
	size_t weight;         /* documents held: 1 + questions (+ 1 for the log) */
	int32_t hnext;         /* hash chain (or free list) */
	int32_t prev, next;    /* least recently used list */
};
struct doc_cache {
	struct cached_doc *slots;
	size_t nslots;
	int32_t *buckets;      /* first slot of each hash chain */
	size_t nbuckets;       /* a power of two */
	int32_t lru_head, lru_tail, free_head;
	size_t weight, max_weight;
};

/* A session rendered for GET, without its clock, while its revision is current. */
#define VIEW_CACHE_SLOTS 32
struct cached_view {
	char id[25];
	int64_t rev;
	int staff;
	char *text;            /* owned; NULL = free slot */
	size_t len;
	uint64_t used;
};

/* The writes of one request left to the end of the worker's round (session_save_with),
 * and what it owes Redis once they are stored. */
#define DEFER_WRITES 4
struct deferred {
	struct cx_request *req;
	char session_id[25];
	struct cx_store_write *w[DEFER_WRITES];
	size_t nw;
	int ok;
	json_object *refresh_doc, *outbox;   /* owned: state_flush's inputs, held */
	int64_t refresh_ms;
	char outbox_session[25];
};

/* Per-worker state (app->data). */
struct interview_app {
	struct cx_ai *ai;
	struct cx_ac_policy ac;
	struct doc_cache docs;
	struct cached_view views[VIEW_CACHE_SLOTS];
	uint64_t tick;
	/* What this request owes Redis, sent in one round trip by state_flush. */
	json_object *refresh_doc;   /* a saved session whose state hash is due, or NULL */
	int64_t refresh_ms;
	json_object *outbox;        /* event messages (strings) for refresh_doc's channel */
	char outbox_session[25];
	int64_t redis_quiet_until;  /* after a failure, Redis is left alone until then (ms) */
	/* Deferred writes (SQLite and the local interviewer only: a remote one keeps a
	 * request for seconds, and the round's answers would wait for it). */
	int may_defer;
	struct deferred *deferred;
	size_t ndeferred, deferred_cap;
};

/* A loaded session and what the caller may do with it. */
struct session {
	json_object *doc;      /* the stored document (owned) */
	int owner;             /* the caller is the candidate of the session */
	int staff;             /* the caller reads as recruiter or admin */
	int64_t now_ms;
	const struct interview_app *ia;
	struct cx_request *req;   /* set by session_load: the worker's caches and Redis */
	int clean;             /* doc is what the store holds at its revision */
	json_object *qdocs;    /* question documents read so far, by question id (owned) */
	int assembled;         /* qdocs holds every question of the plan, log the log */
	int trusted;           /* the worker's copy, not checked against the store */
	int defer;             /* session_save_with may leave the writes to the round's end */
	json_object *log;      /* the anti-cheat log entries in order (owned), when assembled */
	json_object *new_log;  /* EVENTS documents to store with the next save (owned) */
	json_object *inputs;   /* its INPUTS document (owned), when read or made (or NULL) */
};

/* A question document written with the session (session_save_with). */
enum qwrite_op {
	QW_INSERT,             /* a new question */
	QW_ANSWER,             /* its answer, only if it has none yet (answer is null) */
};
struct qwrite {
	enum qwrite_op op;
	json_object *doc;      /* borrowed */
};

/* Time accounting of a session (milliseconds; paused time does not count). */
struct session_time {
	int64_t duration_ms, elapsed_ms, remaining_ms, paused_ms;
	int started, running;
};

/* ---- cache.c: parsed sessions ---------------------------------------------- */
int doc_cache_init(struct doc_cache *c, size_t sessions, struct cx_error *err);
void doc_cache_fini(struct doc_cache *c);
/* Take session id's entry out of the cache into *out (its documents are the caller's):
 * 1, or 0 when it is not there. */
int doc_cache_take(struct doc_cache *c, const char *id, struct cached_doc *out);
/* Release the documents of an entry taken out; drop the entry of id, if any. */
void doc_cache_release(struct cached_doc *e);
void doc_cache_drop(struct doc_cache *c, const char *id);
/* Keep doc (with qdocs and log) at revision rev, evicting the least recently used; all
 * taken. */
void doc_cache_put(struct doc_cache *c, json_object *doc, json_object *qdocs,
    json_object *log, int assembled, int64_t rev);

/* ---- session.c: loading, saving, rendering ---------------------------------- */
int interview_worker_init(struct cx_app *app, struct cx_error *err);
void interview_worker_fini(struct cx_app *app);

/* Load session {id} of the route for the caller: NOT_FOUND unless the caller owns it or
 * reads as staff (staff_ok). A session whose time ran out while active is finalized first
 * (so every reader sees it completed). s->doc is the caller's (session_free). */
int session_load(struct cx_request *req, int staff_ok, struct session *s, struct cx_error *err);
/* The same for a request that saves the session: the worker's copy is used without
 * asking the store whether it is current, since the save's revision check refuses a
 * stale one (CONFLICT; the caller loads again, and the retry reads the store). nginx
 * sends a session's requests to one worker, so its copy is nearly always current. */
int session_load_to_write(struct cx_request *req, struct session *s, struct cx_error *err);
/* Read every question of the plan into s->qdocs, and the session's inputs (needed by
 * session_view(s, 0)). */
int session_assemble(struct session *s, struct cx_error *err);
/* The document of question qid (borrowed from s->qdocs; read if need be), with its
 * answer if it was asked and answered. NOT_FOUND. */
int session_question(struct session *s, const char *qid, json_object **qdoc,
    struct cx_error *err);
/* The same for a question that this request made current and that has no answer yet
 * (no answer is looked for). */
int session_question_asked(struct session *s, const char *qid, json_object **qdoc,
    struct cx_error *err);
/* A new question document for s (its id generated); the question is taken. It is kept in
 * s->qdocs (borrowed return) and written by session_save_with(QW_INSERT). */
json_object *session_new_question(struct session *s, json_object *question);
void session_free(struct session *s);
/* cx_program hooks: store the round's deferred writes; settle one held request. */
void interview_batch_commit(struct cx_app *app);
void interview_batch_release(struct cx_request *req, int ok);
/* The handler is about to change s->doc: it must be saved before it is reused. */
void session_touch(struct session *s);
/* Append entries (an array of anti-cheat log entries, borrowed) to s's log: stored with
 * the next save, in the same transaction. */
void session_log_append(struct session *s, json_object *entries);
/* Entries of s's log whose seq is one of the batch's (for the idempotent-retry check),
 * as an array (caller's). */
int session_log_for(struct session *s, json_object *events, json_object **out,
    struct cx_error *err);
int64_t session_log_length(json_object *doc);

/* Store s->doc (the whole document) with rev + 1 and updated_at, only if nobody else
 * wrote the session since it was loaded: CONFLICT ("changed while you were working")
 * otherwise. Then the Redis state hash is due and the cached results are dropped. */
int session_save(struct cx_request *req, struct session *s, struct cx_error *err);
/* The same, with question documents written in the same transaction, before the session
 * (on a store without transactions every prefix of these writes is consistent). */
int session_save_with(struct cx_request *req, struct session *s, const struct qwrite *w,
    size_t nw, struct cx_error *err);

void session_time(json_object *doc, int64_t now_ms, struct session_time *t);
json_object *session_time_json(const struct session_time *t);
json_object *session_progress_json(json_object *doc);
/* The same as text: the field key with the object of session_time_json or
 * session_progress_json as its value. */
struct cx_jw;
void session_time_write(struct cx_jw *w, const char *key, const struct session_time *t);
void session_progress_write(struct cx_jw *w, const char *key, json_object *doc);

/* The resource as the caller may see it (new object). list_form drops questions, answers
 * and logs; the full form needs session_assemble first. */
json_object *session_view(const struct session *s, int list_form);
/* One question as the candidate sees it while interviewing (no key points); asked_at is
 * when it was asked (NULL: not yet). */
json_object *question_view(json_object *q, const char *asked_at, int index, int total,
    int with_key_points);
/* Its fields as text, into an object w has open (the caller may add more, then close). */
void question_view_write(struct cx_jw *w, json_object *q, const char *asked_at, int index,
    int total, int with_key_points);

const char *session_status(json_object *doc);
int64_t session_rev(json_object *doc);                 /* -1 when missing */
int question_is_follow_up(json_object *q);
/* The caller reads sessions as staff: a recruiter (read_candidates) or an admin. */
int session_reader_is_staff(const struct cx_request *req);
int session_is(json_object *doc, const char *status);
/* The plan. A session stored before it took this layout has objects {id, asked_at} in
 * its plan (or in "questions"): read as they are, and turned into this layout when a
 * request loads the session to write it (session_load). */
json_object *session_plan(json_object *doc);       /* the plan array, or NULL */
int session_plan_length(json_object *doc);
const char *session_plan_id(json_object *doc, int index);       /* NULL out of range */
const char *session_plan_asked_at(json_object *doc, int index); /* NULL: not asked */
void session_plan_ask(json_object *doc, int index, int64_t now_ms);
/* A follow-up goes in right after the question at index; spare (> index, or -1) leaves. */
void session_plan_insert(json_object *doc, int index, const char *qid, int spare);
int session_plan_index(json_object *doc, const char *qid);      /* -1 if not planned */
int session_current(json_object *doc);             /* index of the current question, -1 */
/* Parts of a question document (borrowed): the question, and its answer or NULL. */
json_object *qdoc_question(json_object *qdoc);
json_object *qdoc_answer(json_object *qdoc);

/* Finish the session: status (completed|terminated), the result from the answers so far,
 * completed_at and the reason, saved with whatever else the caller changed in s->doc. */
int session_finish(struct cx_request *req, struct session *s, const char *status,
    const char *reason, struct cx_error *err);
/* Publish the "complete" event of a finished session. */
void session_publish_complete(struct cx_request *req, struct session *s);

/* ---- state.c: Redis (state hash, pub/sub, results cache) --------------------- */
/* Both only note what is due; state_flush sends it all in one round trip (session_free
 * calls it, after the response has gone out). */
void state_refresh(struct cx_request *req, json_object *doc, int64_t now_ms);
/* Publish {type, session_id, at, data} on interview:{id}:events; data is taken. */
void state_publish(struct cx_request *req, const char *session_id, const char *type,
    json_object *data);
void state_flush(struct cx_request *req);
/* What a request owes Redis: the state hash of doc (or NULL) at refresh_ms, and the
 * messages of outbox (or NULL) on session's event channel. */
struct state_due {
	json_object *doc;
	int64_t refresh_ms;
	json_object *outbox;
	const char *session;
};
/* Send due[0..n) in one round trip (a round's answers, once stored). */
void state_send(struct cx_app *app, const struct state_due *due, size_t n);
/* state_flush of a request whose writes are deferred: what it owes Redis is kept with
 * them (sent by interview_batch_release once they are stored). 1 if so. */
int session_hold_state(struct cx_request *req);
json_object *state_cached_results(struct cx_request *req, const char *session_id);
void state_cache_results(struct cx_request *req, const char *session_id, json_object *summary);

/* ---- handlers ---------------------------------------------------------------- */
int interview_create(struct cx_request *req, struct cx_error *err);
int interview_list(struct cx_request *req, struct cx_error *err);
int interview_get(struct cx_request *req, struct cx_error *err);
int interview_precheck(struct cx_request *req, struct cx_error *err);
int interview_next_question(struct cx_request *req, struct cx_error *err);
int interview_answer(struct cx_request *req, struct cx_error *err);
int interview_pause(struct cx_request *req, struct cx_error *err);
int interview_resume(struct cx_request *req, struct cx_error *err);
int interview_finalize(struct cx_request *req, struct cx_error *err);
int interview_summary(struct cx_request *req, struct cx_error *err);
int interview_events(struct cx_request *req, struct cx_error *err);

#endif
