/* Integration: the clock and the Redis side of an interview through nginx: the time-out
 * (active time = now - started_at - paused time), pause and resume, the state hash
 * interview:{id}:state, the results cache cache:interview:{id}:results and the events
 * published on interview:{id}:events. The stored session is edited in the stack's SQLite
 * file to move time, as test_auth_api.c does to deactivate a user. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cx_time.h"
#include "interview_it.h"

TestSuite(timeout, .init = it_setup, .timeout = 60);
TestSuite(redis, .init = it_setup, .timeout = 60);

/* A concrete answer. */
#define GOOD "First I would measure the latency with a profiler, then add an index to " \
	"the database and a cache in front of it, because that reduces the load. For " \
	"example we cut the p99 latency from 800 ms to 120 ms that way."

static json_object *
data_of(const struct http_response *r)
{
	return http_json_path(r, "data");
}

/* ---- time-out and pause -------------------------------------------------------- */

#define MIN_MS (60 * 1000)

Test(timeout, the_first_answer_after_the_time_is_up_finalizes)
{
	struct it_user u;
	char id[32], *nonce, q[16];
	struct http_response *r;
	json_object *s, *d;

	it_register(&u, NULL);
	iv_create_ok(&u, "\"duration_minutes\":5", id);
	nonce = iv_start(&u, id);
	d = iv_answer_current(&u, id, GOOD);
	json_object_put(d);
	iv_current(&u, id, q);

	iv_db_shift(id, "$.started_at", 6 * MIN_MS);
	r = iv_answer(u.access, id, q, GOOD, "text");
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);

	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "status"), "completed");
	it_assert_timestamp(iv_str(s, "completed_at"), "completed_at");
	cr_expect(!iv_is_null(s, "result"), "time up without a result");
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 1,
	    "the late answer was stored");
	cr_expect_eq(iv_int(s, "time.remaining_seconds"), 0);
	json_object_put(s);
	r = iv_call("GET", u.access, id, "next-question", NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	r = iv_call("GET", u.access, id, "summary", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	free(nonce);
	it_user_free(&u);
}

Test(timeout, paused_time_does_not_count)
{
	struct it_user u;
	char id[32], *nonce, q[16], *v;
	struct http_response *r;
	json_object *s, *d;
	redisContext *rc;
	long long deadline;

	it_register(&u, NULL);
	iv_create_ok(&u, "\"duration_minutes\":5", id);
	nonce = iv_start(&u, id);
	r = iv_call("POST", u.access, id, "pause", NULL);
	it_assert_success(r, 200);
	cr_expect_str_eq(iv_str(data_of(r), "status"), "paused");
	it_assert_timestamp(iv_str(data_of(r), "paused_at"), "paused_at");
	http_response_free(r);

	/* six minutes ago it started and was paused at once: no active time has passed */
	iv_db_shift(id, "$.started_at", 6 * MIN_MS);
	iv_db_shift(id, "$.paused_at", 6 * MIN_MS);
	s = iv_get(u.access, id);
	cr_expect_lt(iv_int(s, "time.elapsed_seconds"), 60, "%s",
	    json_object_to_json_string(s));
	cr_expect_gt(iv_int(s, "time.remaining_seconds"), 240);
	cr_expect_geq(iv_int(s, "time.paused_seconds"), 355);
	json_object_put(s);

	r = iv_call("POST", u.access, id, "resume", NULL);
	it_assert_success(r, 200);
	cr_expect_str_eq(iv_str(data_of(r), "status"), "active");
	cr_expect(iv_is_null(data_of(r), "paused_at"));
	cr_expect_geq(iv_int(data_of(r), "time.paused_seconds"), 355);
	cr_expect_gt(iv_int(data_of(r), "time.remaining_seconds"), 240);
	http_response_free(r);
	v = iv_db_get(id, "$.paused_ms");
	cr_expect(v != NULL && strtoll(v, NULL, 10) >= 355000, "stored paused_ms %s",
	    v ? v : "(null)");
	free(v);

	/* the Redis deadline is now + remaining */
	rc = it_redis();
	v = iv_state_field(rc, id, "deadline");
	deadline = v ? strtoll(v, NULL, 10) : 0;
	cr_expect(deadline > (long long)time(NULL) + 230 &&
	    deadline <= (long long)time(NULL) + 300 + 5, "deadline %s", v ? v : "(none)");
	free(v);
	redisFree(rc);

	d = iv_answer_current(&u, id, GOOD);
	snprintf(q, sizeof(q), "%s", iv_str(d, "next_question_id"));
	json_object_put(d);

	/* five and a half more minutes of active time: the time is up */
	iv_db_shift(id, "$.started_at", 5 * MIN_MS + 30 * 1000);
	r = iv_answer(u.access, id, q, GOOD, "text");
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	iv_expect_status(u.access, id, "completed");
	free(nonce);
	it_user_free(&u);
}

Test(timeout, pause_and_resume_are_refused_out_of_turn)
{
	struct it_user u;
	char id[32], *nonce;
	struct http_response *r;

	nonce = iv_begin(&u, id);
	r = iv_call("POST", u.access, id, "resume", NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	r = iv_call("POST", u.access, id, "pause", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	r = iv_call("POST", u.access, id, "pause", NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	r = iv_call("GET", u.access, id, "next-question", NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	r = iv_answer(u.access, id, "q1", GOOD, "text");
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	r = iv_call("POST", u.access, id, "resume", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	/* the same question is still current after the pause */
	{
		char q[16];

		iv_current(&u, id, q);
		cr_expect_str_eq(q, "q1");
	}
	free(nonce);
	it_user_free(&u);
}

/* ---- Redis: state hash, results cache, published events -------------------------- */

Test(redis, the_state_hash_follows_the_session)
{
	struct it_user u;
	char id[32], *nonce, *key, *v;
	redisContext *rc;
	json_object *d;
	struct http_response *r;
	long long ttl, remaining, deadline;
	int64_t when;

	nonce = iv_begin(&u, id);
	rc = it_redis();
	key = it_fmt("interview:%s:state", id);

	v = iv_state_field(rc, id, "status");
	cr_expect_str_eq(v ? v : "(none)", "active");
	free(v);
	v = iv_state_field(rc, id, "current_question");
	cr_expect_str_eq(v ? v : "(none)", "q1");
	free(v);
	v = iv_state_field(rc, id, "time_remaining");
	remaining = v ? strtoll(v, NULL, 10) : -1;
	cr_expect(remaining > 1700 && remaining <= 1800, "time_remaining %s", v ? v : "(none)");
	free(v);
	v = iv_state_field(rc, id, "last_activity");
	cr_expect(v != NULL && cx_time_parse_ms(v, &when) == 0, "last_activity %s",
	    v ? v : "(none)");
	free(v);
	v = iv_state_field(rc, id, "deadline");
	deadline = v ? strtoll(v, NULL, 10) : 0;
	cr_expect(deadline > (long long)time(NULL) + 1700 &&
	    deadline <= (long long)time(NULL) + 1805, "deadline %s", v ? v : "(none)");
	free(v);
	ttl = it_redis_ttl(rc, key);
	cr_expect(ttl > 86400 && ttl <= 86400 + 1800 + 5, "TTL %lld", ttl);

	d = iv_answer_current(&u, id, GOOD);
	v = iv_state_field(rc, id, "current_question");
	cr_expect_str_eq(v ? v : "(none)", iv_str(d, "next_question_id"));
	free(v);
	json_object_put(d);

	r = iv_call("POST", u.access, id, "pause", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	v = iv_state_field(rc, id, "status");
	cr_expect_str_eq(v ? v : "(none)", "paused");
	free(v);
	v = iv_state_field(rc, id, "deadline");
	cr_expect_str_eq(v ? v : "(none)", "", "no deadline while paused");
	free(v);

	r = iv_call("POST", u.access, id, "resume", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	v = iv_state_field(rc, id, "status");
	cr_expect_str_eq(v ? v : "(none)", "active");
	free(v);
	v = iv_state_field(rc, id, "deadline");
	cr_expect(v != NULL && strtoll(v, NULL, 10) > (long long)time(NULL), "deadline %s",
	    v ? v : "(none)");
	free(v);

	r = iv_call("POST", u.access, id, "finalize", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	/* deleted, or kept with the final status for at most a day */
	v = iv_state_field(rc, id, "status");
	if (v != NULL) {
		cr_expect_str_eq(v, "completed");
		ttl = it_redis_ttl(rc, key);
		cr_expect(ttl > 0 && ttl <= 86400, "TTL after the end %lld", ttl);
	}
	free(v);
	free(key);
	redisFree(rc);
	free(nonce);
	it_user_free(&u);
}

Test(redis, the_summary_is_cached_for_a_day)
{
	struct it_user u;
	char id[32], *nonce, *key;
	redisContext *rc;
	redisReply *rep;
	struct http_response *r;
	json_object *cached;
	double score;
	long long ttl;

	nonce = iv_begin(&u, id);
	rc = it_redis();
	key = it_fmt("cache:interview:%s:results", id);

	r = iv_call("GET", u.access, id, "summary", NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	cr_expect_eq(it_redis_count(rc, key), 0, "a summary of a running interview was cached");

	r = iv_call("POST", u.access, id, "finalize", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	for (int round = 0; round < 2; round++) {
		r = iv_call("GET", u.access, id, "summary", NULL);
		it_assert_success(r, 200);
		score = json_object_get_double(http_json_at(data_of(r), "result.total_score"));
		http_response_free(r);
		rep = redisCommand(rc, "GET %s", key);
		cr_assert(rep != NULL && rep->type == REDIS_REPLY_STRING,
		    "no %s after GET summary (round %d)", key, round);
		cached = json_tokener_parse(rep->str);
		cr_expect_not_null(cached, "the cached summary is not JSON: %s", rep->str);
		if (cached != NULL) {
			cr_expect_str_eq(iv_str(cached, "session_id"), id);
			cr_expect(json_object_get_double(http_json_at(cached,
			    "result.total_score")) == score, "cached score differs");
		}
		json_object_put(cached);
		freeReplyObject(rep);
		ttl = it_redis_ttl(rc, key);
		cr_expect(ttl > 86400 - 60 && ttl <= 86400, "TTL %lld", ttl);
		/* the next round: without the cache the summary is built again and cached */
		it_redis_delete(rc, key, NULL);
	}
	free(key);
	redisFree(rc);
	free(nonce);
	it_user_free(&u);
}

Test(redis, actions_publish_their_events)
{
	struct it_user u;
	char id[32], *nonce;
	redisContext *sub;
	json_object *msgs, *d;
	struct http_response *r;

	it_register(&u, NULL);
	iv_create_ok(&u, NULL, id);

	/* precheck: the first question */
	sub = iv_subscribe(id);
	nonce = iv_start(&u, id);
	msgs = iv_messages(sub, (const char *const[]){ "question", NULL }, 3000);
	redisFree(sub);
	cr_expect_geq(iv_count_type(msgs, "question"), 1, "precheck published %s",
	    json_object_to_json_string(msgs));
	iv_assert_messages(msgs, id);
	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		json_object *m = json_object_array_get_idx(msgs, i);

		if (strcmp(iv_str(m, "type"), "question") == 0)
			cr_expect(strstr(json_object_to_json_string(m), "key_points") == NULL,
			    "a published question carries its key points");
	}
	json_object_put(msgs);

	/* answer: the feedback and the next question */
	sub = iv_subscribe(id);
	d = iv_answer_current(&u, id, GOOD);
	msgs = iv_messages(sub, (const char *const[]){ "feedback", "question", NULL }, 3000);
	redisFree(sub);
	cr_expect_geq(iv_count_type(msgs, "feedback"), 1, "answer published %s",
	    json_object_to_json_string(msgs));
	cr_expect_geq(iv_count_type(msgs, "question"), 1, "answer published %s",
	    json_object_to_json_string(msgs));
	iv_assert_messages(msgs, id);
	/* the question event is the next question the answer's response shows, with the
	 * time, and no key points */
	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		json_object *m = json_object_array_get_idx(msgs, i), *q, *next;

		if (strcmp(iv_str(m, "type"), "question") != 0)
			continue;
		q = json_object_object_get(m, "data");
		next = json_object_object_get(d, "next_question");
		cr_assert_not_null(next, "the answer names a next question");
		json_object_object_foreach(next, key, val)
			cr_expect(json_object_equal(val, json_object_object_get(q, key)),
			    "%s differs: %s vs %s", key, json_object_to_json_string(next),
			    json_object_to_json_string(q));
		cr_expect_eq(json_object_object_length(q), json_object_object_length(next) + 1);
		cr_expect(json_object_equal(json_object_object_get(q, "time"),
		    json_object_object_get(d, "time")), "%s", json_object_to_json_string(q));
		cr_expect(strstr(json_object_to_json_string(q), "key_points") == NULL);
	}
	json_object_put(d);
	json_object_put(msgs);

	/* finalize: complete */
	sub = iv_subscribe(id);
	r = iv_call("POST", u.access, id, "finalize", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	msgs = iv_messages(sub, (const char *const[]){ "complete", NULL }, 3000);
	redisFree(sub);
	cr_expect_eq(iv_count_type(msgs, "complete"), 1, "finalize published %s",
	    json_object_to_json_string(msgs));
	iv_assert_messages(msgs, id);
	json_object_put(msgs);

	/* a refused action publishes nothing */
	sub = iv_subscribe(id);
	r = iv_call("POST", u.access, id, "finalize", NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	msgs = iv_messages(sub, NULL, 500);
	redisFree(sub);
	cr_expect_eq(json_object_array_length(msgs), 0, "a refused finalize published %s",
	    json_object_to_json_string(msgs));
	json_object_put(msgs);
	free(nonce);
	it_user_free(&u);
}

/* ---- storage: a session is a small document plus one document per question ---------- */

TestSuite(storage, .init = it_setup, .timeout = 60);

/* The rows of collection coll that belong to session id, counted by an update that
 * changes nothing; or deleted (how many). */
static int
session_rows(const char *coll, const char *id)
{
	char *sql = it_fmt("UPDATE %s SET doc = doc WHERE json_extract(doc, '$.session_id') = ?1",
	    coll);
	int n = iv_db_exec(sql, id, NULL, NULL);

	free(sql);
	return n;
}

static int
delete_session_rows(const char *coll, const char *id)
{
	char *sql = it_fmt("DELETE FROM %s WHERE json_extract(doc, '$.session_id') = ?1", coll);
	int n = iv_db_exec(sql, id, NULL, NULL);

	free(sql);
	return n;
}

/* A session begun and its first question answered well: q is the current question. */
static char *
begin_answered(struct it_user *u, char *id, char *q)
{
	char *nonce = iv_begin(u, id);

	json_object_put(iv_answer_current(u, id, GOOD));
	iv_current(u, id, q);
	return nonce;
}

#define PLAN_JOIN "FROM json_each(interview_sessions.doc, '$.plan') p JOIN " \
	"interview_questions q ON json_extract(q.doc, '$.session_id') = ?1 AND " \
	"json_extract(q.doc, '$.question_id') = p.value "

/* Sessions stored by the release before questions had documents of their own held them
 * (and the answers) inside the session: such a session is read, answered and moved to
 * the current layout without losing anything. */
Test(storage, a_session_of_the_old_layout_is_moved_on_first_use)
{
	struct it_user u;
	char id[32], *nonce, *v, q[16];
	struct http_response *r;
	json_object *s, *d;

	nonce = begin_answered(&u, id, q);
	/* rewrite it as the old release stored it */
	cr_assert_eq(iv_db_exec("UPDATE interview_sessions SET doc = json_set("
	    "json_remove(doc, '$.plan', '$.asked_at', '$.answered'), '$.questions', (SELECT "
	    "json_group_array(json(qq)) FROM (SELECT json_set(json_extract(q.doc, '$.question'), "
	    "'$.asked_at', json_extract(interview_sessions.doc, '$.asked_at[' || p.key || ']')) "
	    "AS qq " PLAN_JOIN
	    "ORDER BY p.key)), '$.answers', (SELECT json_group_array(json(aa)) FROM (SELECT "
	    "json_extract(a.doc, '$.answer') AS aa FROM json_each(interview_sessions.doc, "
	    "'$.plan') p JOIN interview_answers a ON json_extract(a.doc, '$.session_id') = ?1 "
	    "AND json_extract(a.doc, '$.question_id') = p.value "
	    "ORDER BY p.key)), '$.rev', json_extract(doc, '$.rev') + 1) "
	    "WHERE id = ?1", id, NULL, NULL), 1);
	cr_assert_gt(delete_session_rows("interview_questions", id), 2);
	cr_assert_eq(delete_session_rows("interview_answers", id), 1);
	v = iv_db_get(id, "$.questions");
	cr_assert_not_null(v, "the old layout was not written");
	free(v);

	/* the list reads it as stored, and shows where the interview stands */
	r = iv_call("GET", u.access, NULL, NULL, NULL);
	it_assert_success(r, 200);
	d = json_object_array_get_idx(http_json_path(r, "data.items"), 0);
	cr_assert_not_null(d, "the session is not listed");
	cr_expect_eq(iv_int(d, "progress.answered"), 1);
	cr_expect_eq(iv_int(d, "progress.asked"), 2);
	cr_expect_str_eq(iv_nz(iv_str_or_null(d, "progress.current_question_id")),
	    iv_nz(q));
	http_response_free(r);

	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "status"), "active");
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 1);
	cr_expect_eq(iv_int(s, "progress.answered"), 1);
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 2,
	    "the candidate sees the two questions asked so far");
	cr_expect_str_eq(iv_str(json_object_array_get_idx(iv_arr(s, "answers"), 0), "content"),
	    GOOD);
	json_object_put(s);
	v = iv_db_get(id, "$.questions");
	cr_expect_null(v, "the session still holds its questions: %s", iv_nz(v));
	free(v);
	v = iv_db_get(id, "$.plan");
	cr_expect_not_null(v, "the session has no plan");
	free(v);
	/* and it goes on as any other */
	d = iv_answer_current(&u, id, GOOD);
	cr_expect_eq(iv_int(d, "progress.answered"), 2);
	json_object_put(d);
	free(nonce);
	it_user_free(&u);
}

/* A session's job description and resume are stored apart from the session document
 * (interview_inputs), which every answer writes again: an answer does not copy them. A
 * session of the release before, with both inside its document, still shows them. */
Test(storage, inputs_are_stored_apart_and_the_old_layout_still_shows_them)
{
	struct it_user u;
	char id[32], *nonce, *v;
	json_object *s;

	it_register(&u, NULL);
	iv_create_ok(&u, "\"job_description\":\"Design payment APIs in Go.\","
	    "\"resume_text\":\"Eight years of Go and PostgreSQL.\"", id);
	nonce = iv_start(&u, id);
	json_object_put(iv_answer_current(&u, id, GOOD));
	v = iv_db_get(id, "$.resume_text");
	cr_expect_null(v, "the session document holds the resume: %s", iv_nz(v));
	free(v);
	v = iv_db_get(id, "$.job_description");
	cr_expect_null(v, "the session document holds the job description: %s", iv_nz(v));
	free(v);
	cr_expect_eq(iv_db_exec("UPDATE interview_inputs SET doc = doc WHERE id = ?1 AND "
	    "json_extract(doc, '$.session_id') = ?1 AND json_extract(doc, '$.job_description') = "
	    "?2 AND json_extract(doc, '$.resume_text') = ?3", id, "Design payment APIs in Go.",
	    "Eight years of Go and PostgreSQL."), 1, "no inputs document with both");
	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "job_description"), "Design payment APIs in Go.");
	cr_expect(iv_bool(s, "has_resume"));
	cr_expect(!json_object_object_get_ex(s, "resume_text", NULL), "the view shows the resume");
	json_object_put(s);

	/* as the release before stored it: both inside, no inputs document */
	cr_assert_eq(iv_db_exec("UPDATE interview_sessions SET doc = json_set(json_remove(doc, "
	    "'$.has_resume'), '$.job_description', ?2, '$.resume_text', ?3, '$.rev', "
	    "json_extract(doc, '$.rev') + 1) WHERE id = ?1", id, "Run the data platform.",
	    "Ten years of SQL."), 1);
	cr_assert_eq(iv_db_exec("DELETE FROM interview_inputs WHERE id = ?1", id, NULL, NULL), 1);
	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "job_description"), "Run the data platform.");
	cr_expect(iv_bool(s, "has_resume"));
	json_object_put(s);
	json_object_put(iv_answer_current(&u, id, GOOD));
	v = iv_db_get(id, "$.job_description");
	cr_expect_str_eq(iv_nz(v), "Run the data platform.", "an answer lost the inputs");
	free(v);
	free(nonce);
	it_user_free(&u);
}

/* The release before this one kept a plan entry as an object {id, asked_at, follow_up}:
 * such a session is read as it is, answered, and stored as ids beside asked_at. */
Test(storage, a_plan_of_the_previous_layout_is_read_and_answered)
{
	struct it_user u;
	char id[32], *nonce, *v, q[16];
	struct http_response *r;
	json_object *s, *d;

	nonce = begin_answered(&u, id, q);
	cr_assert_eq(iv_db_exec("UPDATE interview_sessions SET doc = json_set(json_remove(doc, "
	    "'$.asked_at'), '$.plan', (SELECT json_group_array(CASE WHEN a.value IS NULL THEN "
	    "json_object('id', p.value) WHEN p.value LIKE '%f' THEN json_object('id', p.value, "
	    "'asked_at', a.value, 'follow_up', json('true')) ELSE json_object('id', p.value, "
	    "'asked_at', a.value) END) FROM json_each(doc, '$.plan') p LEFT JOIN "
	    "json_each(doc, '$.asked_at') a ON a.key = p.key), '$.rev', "
	    "json_extract(doc, '$.rev') + 1) WHERE id = ?1", id, NULL, NULL), 1);
	v = iv_db_get(id, "$.plan[0].asked_at");
	cr_assert_not_null(v, "the previous layout was not written");
	free(v);

	r = iv_call("GET", u.access, NULL, NULL, NULL);
	it_assert_success(r, 200);
	d = json_object_array_get_idx(http_json_path(r, "data.items"), 0);
	cr_assert_not_null(d, "the session is not listed");
	cr_expect_eq(iv_int(d, "progress.asked"), 2);
	cr_expect_str_eq(iv_nz(iv_str_or_null(d, "progress.current_question_id")), q);
	http_response_free(r);
	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 2,
	    "the candidate sees the two questions asked so far");
	it_assert_timestamp(iv_str(json_object_array_get_idx(iv_arr(s, "questions"), 1),
	    "asked_at"), "asked_at");
	json_object_put(s);

	d = iv_answer_current(&u, id, GOOD);
	cr_expect_str_eq(iv_str(d, "question_id"), q);
	cr_expect_eq(iv_int(d, "progress.answered"), 2);
	cr_expect_eq(iv_int(d, "progress.asked"), 3);
	json_object_put(d);
	v = iv_db_get(id, "$.plan[0]");
	cr_expect_str_eq(iv_nz(v), "q1", "the plan was not stored as ids");
	free(v);
	v = iv_db_get(id, "$.asked_at[2]");
	cr_expect_not_null(v, "the third question's asked_at was not stored");
	free(v);
	free(nonce);
	it_user_free(&u);
}

/* Store answer (JSON) as question qid's answer, as if the session had not moved on after
 * it was written: as an answer document, or (in_question) inside the question's document,
 * where the release before answer documents kept it. */
static void
store_half_answer_in(const char *id, const char *qid, const char *answer, int in_question)
{
	if (in_question)
		cr_assert_eq(iv_db_exec("UPDATE interview_questions SET doc = json_set(doc, "
		    "'$.answer', json(?2)) WHERE json_extract(doc, '$.session_id') = ?1 AND "
		    "json_extract(doc, '$.question_id') = ?3", id, answer, qid), 1);
	else
		cr_assert_eq(iv_db_exec("INSERT INTO interview_answers (id, doc) SELECT x, "
		    "json_object('id', x, 'session_id', ?1, 'question_id', ?3, 'answer', "
		    "json(?2)) FROM (SELECT lower(hex(randomblob(12))) AS x)", id, answer, qid), 1);
}

static void
store_half_answer(const char *id, const char *qid, const char *answer)
{
	store_half_answer_in(id, qid, answer, 0);
}

/* Answers stored inside their question's document by the release before answer
 * documents count as answers: shown, refused a second time, and a half-stored one
 * completed. */
Test(storage, an_answer_inside_its_question_document_still_counts)
{
	struct it_user u;
	char id[32], *nonce, q[16];
	struct http_response *r;
	json_object *s;

	nonce = iv_begin(&u, id);
	store_half_answer_in(id, "q1", "{\"question_id\":\"q1\",\"content\":\"" GOOD "\","
	    "\"type\":\"text\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"ai_feedback\":"
	    "{\"score\":71,\"provider\":\"local\"},\"follow_up\":false,"
	    "\"next_question_id\":\"q2\"}", 1);
	/* as the older release left it: the worker that holds the session must read it again */
	cr_assert_eq(iv_db_exec("UPDATE interview_sessions SET doc = json_set(doc, '$.rev', "
	    "json_extract(doc, '$.rev') + 1) WHERE id = ?1", id, NULL, NULL), 1);
	r = iv_answer(u.access, id, "q1", "Something else entirely, said differently.", "text");
	it_assert_error(r, 409, "CONFLICT");
	http_response_free(r);
	r = iv_answer(u.access, id, "q1", GOOD, "text");
	it_assert_success(r, 200);
	cr_expect_eq(iv_int(http_json_path(r, "data"), "feedback.score"), 71);
	http_response_free(r);
	iv_current(&u, id, q);
	cr_expect_str_eq(q, "q2");
	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 1);
	cr_expect_str_eq(iv_str(json_object_array_get_idx(iv_arr(s, "answers"), 0), "content"),
	    GOOD);
	json_object_put(s);
	cr_expect_eq(session_rows("interview_answers", id), 0,
	    "the answer was stored a second time");
	free(nonce);
	it_user_free(&u);
}

/* On a store without transactions (MongoDB) an answer can be stored while the session
 * did not move on, if the process dies in between. The same answer sent again moves it
 * on instead of being refused or evaluated twice. */
Test(storage, a_stored_answer_whose_session_did_not_move_on_is_completed)
{
	struct it_user u;
	char id[32], *nonce, q[16], *v;
	struct http_response *r;
	json_object *d, *s;

	nonce = iv_begin(&u, id);
	iv_current(&u, id, q);
	cr_assert_str_eq(q, "q1");
	store_half_answer(id, "q1", "{\"question_id\":\"q1\",\"content\":\"" GOOD "\","
	    "\"type\":\"text\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"ai_feedback\":"
	    "{\"score\":71,\"provider\":\"local\"},\"follow_up\":false,"
	    "\"next_question_id\":\"q2\"}");

	/* other content is still refused */
	r = iv_answer(u.access, id, "q1", "Something else entirely, said differently.", "text");
	it_assert_error(r, 409, "CONFLICT");
	http_response_free(r);
	r = iv_answer(u.access, id, "q1", GOOD, "text");
	it_assert_success(r, 200);
	d = http_json_path(r, "data");
	cr_expect_eq(iv_int(d, "feedback.score"), 71, "the answer was evaluated again");
	cr_expect_str_eq(iv_str(d, "next_question_id"), "q2");
	cr_expect_str_eq(iv_str(d, "next_question.id"), "q2");
	cr_expect_eq(iv_int(d, "progress.answered"), 1);
	http_response_free(r);
	iv_current(&u, id, q);
	cr_expect_str_eq(q, "q2", "the session did not move on");
	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 1);
	json_object_put(s);
	v = iv_db_get(id, "$.answered");
	cr_expect_str_eq(iv_nz(v), "1");
	free(v);
	/* a second retry changes nothing more */
	r = iv_answer(u.access, id, "q1", GOOD, "text");
	it_assert_success(r, 200);
	http_response_free(r);
	iv_current(&u, id, q);
	cr_expect_str_eq(q, "q2");
	free(nonce);
	it_user_free(&u);
}

/* The same when the stored answer asked for a follow-up that never got stored: the retry
 * stores it and asks it next, in place of the last planned question. */
Test(storage, a_half_stored_answer_gets_its_follow_up)
{
	struct it_user u;
	char id[32], *nonce, q[16], *v;
	struct http_response *r;
	json_object *d, *s;

	nonce = iv_begin(&u, id);
	store_half_answer(id, "q1", "{\"question_id\":\"q1\",\"content\":\"" GOOD "\","
	    "\"type\":\"text\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"ai_feedback\":"
	    "{\"score\":40,\"provider\":\"local\",\"follow_up\":{\"content\":\"Which "
	    "numbers did you measure before and after?\",\"gap\":\"specifics\","
	    "\"question_id\":\"q1f\"}},\"follow_up\":true,\"next_question_id\":\"q1f\"}");

	r = iv_answer(u.access, id, "q1", GOOD, "text");
	it_assert_success(r, 200);
	d = http_json_path(r, "data");
	cr_expect_str_eq(iv_str(d, "next_question_id"), "q1f");
	cr_expect_str_eq(iv_str(d, "next_question.id"), "q1f");
	cr_expect(iv_bool(d, "next_question.is_follow_up"));
	cr_expect_str_eq(iv_str(d, "next_question.parent_id"), "q1");
	http_response_free(r);
	iv_current(&u, id, q);
	cr_expect_str_eq(q, "q1f", "the follow-up is not the current question");
	s = iv_get(u.access, id);
	cr_expect_eq(iv_int(s, "progress.total"), 3, "the follow-up grew the interview");
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 2);
	json_object_put(s);
	v = iv_db_get(id, "$.plan[2]");
	cr_expect_str_eq(iv_nz(v), "q2", "the follow-up should replace the last planned one");
	free(v);
	/* and the follow-up is answered like any question */
	d = iv_answer_current(&u, id, GOOD);
	cr_expect_str_eq(iv_str(d, "question_id"), "q1f");
	json_object_put(d);
	free(nonce);
	it_user_free(&u);
}

/* The worker that serves a session keeps it in memory and trusts its copy when an answer
 * is saved (the save checks the revision). A session changed behind its back (another
 * program, or SQL by hand) must not take the answer on the strength of that copy. */
Test(storage, a_session_changed_behind_the_workers_back_is_decided_on_the_store)
{
	struct it_user u;
	char id[32], *nonce, q[16];
	struct http_response *r;
	json_object *d, *s;

	nonce = iv_begin(&u, id);
	d = iv_answer_current(&u, id, GOOD);
	json_object_put(d);
	iv_current(&u, id, q);   /* the worker holds the session as it is now */
	iv_db_set(id, "$.status", "\"terminated\"");
	iv_db_set(id, "$.terminated_reason", "\"ended by an administrator\"");

	r = iv_answer(u.access, id, q, GOOD, NULL);
	it_assert_error(r, 409, "INVALID_STATE");
	cr_expect(strstr(r->body, "terminated") != NULL, "%s", r->body);
	http_response_free(r);
	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "status"), "terminated");
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 1,
	    "the answer was recorded in a terminated session");
	json_object_put(s);
	free(nonce);
	it_user_free(&u);
}

/* The anti-cheat log is stored one document per entry, not in the session, so a long log
 * does not make every save of the session longer. A session of the release that kept it
 * inside is moved on first use; a retried batch is still recognised against the entries
 * moved out, and the chain goes on from them. */
Test(storage, the_anti_cheat_log_lives_beside_the_session)
{
	struct it_user u;
	struct iv_chain c;
	char id[32], *nonce, *v;
	json_object *d, *s, *batch = json_object_new_array();
	struct http_response *r;

	nonce = iv_begin(&u, id);
	iv_chain_init(&c, nonce);
	for (int i = 0; i < 3; i++)
		json_object_array_add(batch, iv_chain_next(&c, "right_click", NULL));
	r = iv_events(u.access, id, json_object_get(batch));
	it_assert_success(r, 200);
	http_response_free(r);
	v = iv_db_get(id, "$.anti_cheat_log");
	cr_expect_null(v, "the session holds its log: %s", iv_nz(v));
	free(v);
	v = iv_db_get(id, "$.anti_cheat_logged");
	cr_expect_str_eq(iv_nz(v), "3");
	free(v);
	cr_expect_eq(session_rows("interview_events", id), 3);

	/* as the release before stored it: the entries inside the session */
	cr_assert_eq(iv_db_exec("UPDATE interview_sessions SET doc = json_set(json_remove(doc, "
	    "'$.anti_cheat_logged'), '$.anti_cheat_log', (SELECT json_group_array(json(e)) FROM "
	    "(SELECT json_extract(doc, '$.entry') AS e FROM interview_events WHERE "
	    "json_extract(doc, '$.session_id') = ?1 ORDER BY json_extract(doc, '$.n'))), '$.rev', "
	    "json_extract(doc, '$.rev') + 1) WHERE id = ?1", id, NULL, NULL), 1);
	cr_assert_eq(delete_session_rows("interview_events", id), 3);

	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "anti_cheat_log")), 3);
	json_object_put(s);
	v = iv_db_get(id, "$.anti_cheat_log");
	cr_expect_null(v, "the old layout was not moved: %s", iv_nz(v));
	free(v);

	/* the batch again: a retry, recognised against the moved entries */
	r = iv_events(u.access, id, batch);
	it_assert_success(r, 200);
	cr_expect(iv_bool(http_json_path(r, "data"), "duplicate"), "%s", r->body);
	http_response_free(r);
	/* and the chain goes on */
	d = iv_events_ok(&u, id, &c, "right_click", 1);
	cr_expect_eq(iv_int(d, "accepted"), 1);
	cr_expect_eq(iv_int(d, "last_seq"), 4);
	json_object_put(d);
	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "anti_cheat_log")), 4);
	json_object_put(s);
	free(nonce);
	it_user_free(&u);
}

/* A worker stores the answers it has in hand at once (one commit for all of them):
 * answers sent at the same moment to many sessions are each stored, once, with their
 * sessions moved on, and each candidate gets the answer to their own question (sessions
 * of 3 questions, all answered). */
#define PARALLEL 6
#define ROUNDS 3
Test(storage, answers_sent_at_once_to_many_sessions_are_all_stored)
{
	struct it_user u[PARALLEL];
	char id[PARALLEL][32], *nonce[PARALLEL];
	pid_t pid[PARALLEL];
	int i, status;

	for (i = 0; i < PARALLEL; i++)
		nonce[i] = iv_begin(&u[i], id[i]);
	for (i = 0; i < PARALLEL; i++) {
		pid[i] = fork();
		cr_assert_geq(pid[i], 0);
		if (pid[i] == 0) {   /* answer ROUNDS questions in a row; exit 0 if all went well */
			char q[16] = "q1";
			int k;

			for (k = 0; k < ROUNDS; k++) {
				struct http_response *r = iv_answer(u[i].access, id[i], q, GOOD, "text");
				json_object *d = r != NULL && r->status == 200 ?
				    http_json_path(r, "data") : NULL;
				const char *sid = d != NULL ? iv_str_or_null(d, "session_id") : NULL;
				const char *qid = d != NULL ? iv_str_or_null(d, "question_id") : NULL;
				const char *next = d != NULL ? iv_str_or_null(d, "next_question_id") : NULL;

				if (sid == NULL || strcmp(sid, id[i]) != 0 || qid == NULL ||
				    strcmp(qid, q) != 0 || (next == NULL && k + 1 < ROUNDS) ||
				    iv_int(d, "progress.answered") != k + 1)
					_exit(1);
				snprintf(q, sizeof(q), "%s", next != NULL ? next : "");
				http_response_free(r);
			}
			_exit(0);
		}
	}
	for (i = 0; i < PARALLEL; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "candidate %d did not get their answers recorded in turn", i);
	}
	for (i = 0; i < PARALLEL; i++) {
		json_object *s = iv_get(u[i].access, id[i]);
		char *v;

		cr_expect_eq(iv_int(s, "progress.answered"), ROUNDS);
		cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), ROUNDS);
		json_object_put(s);
		v = iv_db_get(id[i], "$.answered");
		cr_expect_str_eq(iv_nz(v), "3", "the stored session did not move on");
		free(v);
		cr_expect_eq(session_rows("interview_answers", id[i]), ROUNDS,
		    "answer documents of session %d", i);
		free(nonce[i]);
		it_user_free(&u[i]);
	}
}
