/* interview_it: helpers of the interview integration tests (sessions, the anti-cheat
 * event chain computed independently of the server, Redis pub/sub, the stored session
 * document, an admin user). Functions fail the running Criterion test on surprises. */
#ifndef INTERVIEW_IT_H
#define INTERVIEW_IT_H

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <stdint.h>

#include "it.h"

#define IV_BASE "/api/interview/sessions"

/* "/api/interview/sessions[/<id>[/<suffix>]]" (malloc'd; id and suffix may be NULL). */
char *iv_path(const char *id, const char *suffix);

/* method on /sessions/<id>/<suffix> with an optional JSON body. */
struct http_response *iv_call(const char *method, const char *bearer, const char *id,
    const char *suffix, const char *json);

/* POST /sessions with this body. */
struct http_response *iv_create(const char *bearer, const char *json);
/* Create a session: the defaults job_title "Backend Engineer", mode "technical",
 * question_count 3, duration_minutes 30, unless `extra` (JSON members without braces,
 * e.g. "\"mode\":\"behavioral\"", or NULL) overrides them. Asserts 201 and fills id
 * (24 hex). */
void iv_create_ok(const struct it_user *u, const char *extra, char id[32]);

/* GET /sessions/<id> as bearer: asserts 200 and returns data (caller puts). */
json_object *iv_get(const char *bearer, const char *id);
/* The session's status as bearer sees it (asserts 200). */
void iv_expect_status(const char *bearer, const char *id, const char *status);

/* Passing precheck (all devices on): asserts 200, passed, status active. Returns the
 * anti-cheat nonce (malloc'd, 64 hex). */
char *iv_start(const struct it_user *u, const char *id);
/* A new candidate u with a new default session id, started (iv_start): the nonce. */
char *iv_begin(struct it_user *u, char id[32]);
/* A failing precheck (camera off): asserts 200, passed false, status precheck. */
void iv_fail_precheck(const struct it_user *u, const char *id);

/* GET next-question: asserts 200 and copies the question id into qid. */
void iv_current(const struct it_user *u, const char *id, char qid[16]);
/* POST answer {question_id, content, type (NULL: not sent)}. */
struct http_response *iv_answer(const char *bearer, const char *id, const char *qid,
    const char *content, const char *type);
/* Answer the current question with content; asserts 200; returns data (caller puts). */
json_object *iv_answer_current(const struct it_user *u, const char *id,
    const char *content);

/* Readers of a borrowed JSON value at a dotted path; they fail the test when the value is
 * missing or of another type (iv_str_or_null also allows null and returns NULL). */
const char *iv_str(json_object *o, const char *path);
const char *iv_str_or_null(json_object *o, const char *path);
int64_t iv_int(json_object *o, const char *path);
int iv_bool(json_object *o, const char *path);
json_object *iv_arr(json_object *o, const char *path);
/* s, or "(null)" for NULL (for string comparisons in messages). */
const char *iv_nz(const char *s);
/* 1 when the value at path is JSON null or missing. */
int iv_is_null(json_object *o, const char *path);

/* 422 VALIDATION_ERROR whose details.field begins with prefix. */
void iv_assert_validation_prefix(const struct http_response *r, const char *prefix);

/* Run one SQL statement on the stack's SQLite file with ?1..?3 bound to a, b, c (text;
 * NULL binds null); asserts it ran. Returns the number of rows it changed. */
int iv_db_exec(const char *sql, const char *a, const char *b, const char *c);

/* ---- anti-cheat chain (computed here, independently of the server) ------------- */

/* canonical(event) of the contract (malloc'd): "<seq>\n<event>\n<timestamp>\n<details>"
 * with details as JavaScript's JSON.stringify writes it after sorting keys by byte value.
 * details may be NULL ({}); it must be a flat object. */
char *iv_ac_canonical(int64_t seq, const char *event, const char *timestamp,
    json_object *details);
/* hex(SHA-256(prev ‖ canonical)) */
void iv_ac_hash(const char *prev, int64_t seq, const char *event, const char *timestamp,
    json_object *details, char out[65]);

/* The client side of a chain: the last sequence number and hash. */
struct iv_chain {
	int64_t seq;
	char prev[65];
};
void iv_chain_init(struct iv_chain *c, const char *nonce);
/* The next event of the chain (new object, caller's): seq = c->seq + 1, timestamp now,
 * details (borrowed; NULL: {}), sequence_hash chained; c advances. */
json_object *iv_chain_next(struct iv_chain *c, const char *event, json_object *details);
/* An event with an explicit seq and previous hash (nothing advances). */
json_object *iv_ac_event(int64_t seq, const char *event, const char *timestamp,
    json_object *details, const char *prev);

/* POST events {"events": events}; takes events (an array). */
struct http_response *iv_events(const char *bearer, const char *id, json_object *events);
/* Send count events of one kind along the chain in one batch; asserts 200; returns the
 * outcome data (caller puts). */
json_object *iv_events_ok(const struct it_user *u, const char *id, struct iv_chain *c,
    const char *event, int count);

/* ---- Redis ---------------------------------------------------------------------- */

/* A new connection subscribed to interview:<id>:events (redisFree it). */
redisContext *iv_subscribe(const char *id);
/* Messages received within timeout_ms, stopping early once every type in want
 * (NULL-terminated, or NULL) has arrived. Returns an array of the parsed messages
 * (caller puts); the connection is not usable afterwards (free it). */
json_object *iv_messages(redisContext *rc, const char *const *want, int timeout_ms);
/* How many messages of this type are in msgs. */
int iv_count_type(json_object *msgs, const char *type);
/* Every message has type, session_id == id, an RFC 3339 "at" and an object "data". */
void iv_assert_messages(json_object *msgs, const char *id);

/* HGET of the state hash interview:<id>:state (malloc'd, NULL when missing). */
char *iv_state_field(redisContext *rc, const char *id, const char *field);

/* ---- the stored session (SQLite file of the stack) ------------------------------ */

/* json_extract(doc, jpath) of the stored session as text (malloc'd; NULL when null). */
char *iv_db_get(const char *id, const char *jpath);
/* doc = json_set(doc, jpath, json(value_json)). */
void iv_db_set(const char *id, const char *jpath, const char *value_json);
/* Move the stored RFC 3339 time at jpath back by ms milliseconds. */
void iv_db_shift(const char *id, const char *jpath, int64_t ms);
/* Insert a document (id, doc) into a collection table. */
void iv_db_insert(const char *coll, const char *id, const char *doc_json);

/* ---- users ---------------------------------------------------------------------- */

/* A fresh administrator (cxctl create-admin with the stack's settings), signed in:
 * fills u (email, password, id, access). */
void iv_admin(struct it_user *u);

#endif
