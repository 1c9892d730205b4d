/* Integration: the interview API through nginx (the flow of spec 7.2, every state
 * transition allowed and refused, ownership, idempotency, validation and
 * list/pagination/filters). Black box over HTTPS; the contract is the interview API of
 * issue 3. Time-out, pause and the Redis side are in test_interview_state.c. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cx_time.h"
#include "interview_it.h"

TestSuite(flow, .init = it_setup, .timeout = 120);
TestSuite(transitions, .init = it_setup, .timeout = 120);
TestSuite(ownership, .init = it_setup, .timeout = 120);
TestSuite(idempotency, .init = it_setup, .timeout = 60);
TestSuite(validation, .init = it_setup, .timeout = 60);
TestSuite(listing, .init = it_setup, .timeout = 60);

/* A technical answer that names no key point and uses vague words without numbers: the
 * local interviewer always finds a gap in it (a follow-up when one is allowed). */
#define VAGUE "I always try to do my best and handle everything with a lot of care; it " \
	"depends on the stuff involved, and I keep the team informed about it."
/* A concrete answer. */
#define GOOD "First I would measure the latency with a profiler, then add an index to " \
	"the database and a cache in front of it, because that reduces the load. For " \
	"example we cut the p99 latency from 800 ms to 120 ms that way."

static const char *const kinds[] = { "face_missing", "tab_switch", "fullscreen_exit",
	"multiple_faces", "suspicious_input", "tampering", NULL };

/* ---- helpers ------------------------------------------------------------------- */

static json_object *
data_of(const struct http_response *r)
{
	return http_json_path(r, "data");
}

/* The question with this id in the session's questions, or NULL. */
static json_object *
find_question(json_object *session, const char *qid)
{
	json_object *qs = iv_arr(session, "questions");

	for (size_t i = 0; i < json_object_array_length(qs); i++) {
		json_object *q = json_object_array_get_idx(qs, i);

		if (strcmp(iv_str(q, "id"), qid) == 0)
			return q;
	}
	return NULL;
}

/* No question of the session carries key_points (what the candidate sees while the
 * interview runs). */
static void
expect_no_key_points(json_object *session, const char *who)
{
	json_object *qs = iv_arr(session, "questions");

	for (size_t i = 0; i < json_object_array_length(qs); i++)
		cr_expect(!json_object_object_get_ex(json_object_array_get_idx(qs, i),
		    "key_points", NULL), "%s sees key_points of %s", who,
		    iv_str(json_object_array_get_idx(qs, i), "id"));
}

/* Every question carries key_points (recruiter, admin, or after the end). */
static void
expect_key_points(json_object *session, const char *who)
{
	json_object *qs = iv_arr(session, "questions");

	cr_expect_gt(json_object_array_length(qs), 0, "%s sees no questions", who);
	for (size_t i = 0; i < json_object_array_length(qs); i++)
		iv_arr(json_object_array_get_idx(qs, i), "key_points");
}

/* The anti-cheat part of a fresh session: nothing counted, threshold 3, every kind 0. */
static void
expect_clean_anti_cheat(json_object *session)
{
	json_object *strikes = http_json_at(session, "anti_cheat.strikes");

	cr_expect_eq(iv_int(session, "anti_cheat.violations"), 0);
	cr_expect_eq(iv_int(session, "anti_cheat.threshold"), 3);
	cr_expect_eq(iv_int(session, "anti_cheat.last_seq"), 0);
	cr_expect(json_object_is_type(strikes, json_type_object),
	    "anti_cheat.strikes is not an object: %s",
	    json_object_to_json_string(json_object_object_get(session, "anti_cheat")));
	for (size_t i = 0; strikes != NULL && kinds[i] != NULL; i++) {
		json_object *v = json_object_object_get(strikes, kinds[i]);

		cr_expect(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 0,
		    "anti_cheat.strikes.%s is not 0", kinds[i]);
	}
	cr_expect_eq(json_object_array_length(iv_arr(session, "anti_cheat_log")), 0);
}

/* Fail the running interview with a fullscreen_exit (limit 1): status terminated. */
static void
terminate(const struct it_user *u, const char *id, const char *nonce)
{
	struct iv_chain c;
	json_object *out;

	iv_chain_init(&c, nonce);
	out = iv_events_ok(u, id, &c, "fullscreen_exit", 1);
	cr_assert(iv_bool(out, "terminated"), "a fullscreen exit did not terminate: %s",
	    json_object_to_json_string(out));
	json_object_put(out);
}

/* ---- the flow of spec 7.2 ------------------------------------------------------ */

Test(flow, create_precheck_questions_answers_finalize_summary)
{
	struct it_user u;
	char id[32], qid[16];
	struct http_response *r;
	json_object *s, *d, *q;
	const char *provider, *asked_at;
	char *first_asked = NULL, *nonce;
	double score;
	int local;

	it_register(&u, NULL);

	/* create: the body of spec 7.2 plus the required job title */
	{
		char *body = it_fmt("{\"candidate_id\":\"%s\",\"type\":\"mock\","
		    "\"mode\":\"technical\",\"job_title\":\"Backend Engineer\","
		    "\"question_count\":3,\"duration_minutes\":30,"
		    "\"focus_areas\":[\"databases\"]}", u.id);

		r = iv_create(u.access, body);
		free(body);
	}
	it_assert_success(r, 201);
	s = data_of(r);
	snprintf(id, sizeof(id), "%s", iv_str(s, "id"));
	cr_assert(cx_oid_valid(id), "id %s is not 24 hex", id);
	cr_expect_str_eq(iv_str(s, "session_id"), id);
	cr_expect_str_eq(iv_str(s, "candidate_id"), u.id);
	cr_expect(iv_is_null(s, "recruiter_id"));
	cr_expect_str_eq(iv_str(s, "type"), "mock");
	cr_expect_str_eq(iv_str(s, "mode"), "technical");
	cr_expect_str_eq(iv_str(s, "status"), "setup");
	cr_expect_str_eq(iv_str(s, "job_title"), "Backend Engineer");
	cr_expect_str_eq(iv_str(s, "experience_level"), "mid");
	cr_expect_eq(iv_int(s, "question_count"), 3);
	cr_expect_eq(iv_int(s, "duration_minutes"), 30);
	cr_expect_eq(json_object_array_length(iv_arr(s, "focus_areas")), 1);
	cr_expect(!iv_bool(s, "has_resume"));
	provider = iv_str(s, "provider");
	cr_expect(strcmp(provider, "local") == 0 || strcmp(provider, "openai") == 0 ||
	    strcmp(provider, "gemini") == 0, "provider %s", provider);
	local = strcmp(provider, "local") == 0;
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 0,
	    "no question is asked before the precheck: %s", json_object_to_json_string(s));
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 0);
	cr_expect_eq(iv_int(s, "progress.asked"), 0);
	cr_expect_eq(iv_int(s, "progress.answered"), 0);
	cr_expect_eq(iv_int(s, "progress.total"), 3);
	cr_expect(iv_is_null(s, "progress.current_question_id"));
	cr_expect_eq(iv_int(s, "time.duration_seconds"), 1800);
	cr_expect_eq(iv_int(s, "time.remaining_seconds"), 1800);
	cr_expect(iv_is_null(s, "result"));
	cr_expect(iv_is_null(s, "precheck_result"));
	cr_expect(iv_is_null(s, "anti_cheat.nonce"), "no nonce before the precheck");
	expect_clean_anti_cheat(s);
	it_assert_timestamp(iv_str(s, "created_at"), "created_at");
	it_assert_timestamp(iv_str(s, "updated_at"), "updated_at");
	cr_expect(iv_is_null(s, "started_at"));
	cr_expect(iv_is_null(s, "completed_at"));
	cr_expect(iv_is_null(s, "terminated_reason"));
	http_response_free(r);

	/* precheck as spec 7.2 sends it: no fullscreen, and a client "passed" is ignored */
	r = iv_call("POST", u.access, id, "precheck",
	    "{\"camera\":true,\"microphone\":true,\"passed\":true}");
	it_assert_success(r, 200);
	d = data_of(r);
	cr_expect(!iv_bool(d, "passed"), "passed without fullscreen: %s", r->body);
	cr_expect_str_eq(iv_str(d, "status"), "precheck");
	/* fullscreen, speaker and single_screen are false: one sentence each */
	cr_expect_eq(json_object_array_length(iv_arr(d, "warnings")), 3, "%s", r->body);
	cr_expect(iv_bool(d, "precheck_result.camera"));
	cr_expect(iv_bool(d, "precheck_result.microphone"));
	cr_expect(!iv_bool(d, "precheck_result.fullscreen"));
	cr_expect(!iv_bool(d, "precheck_result.speaker"));
	cr_expect(!iv_bool(d, "precheck_result.single_screen"));
	cr_expect(!iv_bool(d, "precheck_result.passed"));
	it_assert_timestamp(iv_str(d, "precheck_result.checked_at"), "checked_at");
	cr_expect_str_eq(iv_str(d, "session.status"), "precheck");
	cr_expect(iv_is_null(d, "session.started_at"));
	cr_expect(iv_is_null(d, "session.anti_cheat.nonce"));
	http_response_free(r);

	/* the retry passes: active, started, q1 current, a nonce issued */
	nonce = iv_start(&u, id);
	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "status"), "active");
	it_assert_timestamp(iv_str(s, "started_at"), "started_at");
	cr_expect_str_eq(iv_str(s, "progress.current_question_id"), "q1");
	cr_expect_eq(iv_int(s, "progress.asked"), 1);
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 1,
	    "the candidate sees only asked questions");
	expect_no_key_points(s, "the candidate");
	cr_expect(iv_bool(s, "precheck_result.passed"));
	cr_expect_eq(json_object_array_length(iv_arr(s, "precheck_result.warnings")), 0);
	cr_expect_str_eq(iv_str(s, "anti_cheat.nonce"), nonce);
	json_object_put(s);

	/* next-question: q1, again and again */
	for (int i = 0; i < 2; i++) {
		r = iv_call("GET", u.access, id, "next-question", NULL);
		it_assert_success(r, 200);
		q = data_of(r);
		cr_expect_str_eq(iv_str(q, "id"), "q1");
		cr_expect_eq(iv_int(q, "index"), 1);
		cr_expect_eq(iv_int(q, "total"), 3);
		cr_expect(*iv_str(q, "content") != '\0');
		cr_expect(!iv_bool(q, "is_follow_up"));
		cr_expect(iv_is_null(q, "parent_id"));
		cr_expect(iv_is_null(q, "gap"));
		cr_expect(!json_object_object_get_ex(q, "key_points", NULL), "key_points leaked");
		cr_expect(iv_int(q, "time.remaining_seconds") > 1700 &&
		    iv_int(q, "time.remaining_seconds") <= 1800, "%s", r->body);
		asked_at = iv_str(q, "asked_at");
		it_assert_timestamp(asked_at, "asked_at");
		if (first_asked == NULL)
			first_asked = strdup(asked_at);
		else
			cr_expect_str_eq(asked_at, first_asked, "asking again moved asked_at");
		http_response_free(r);
	}

	/* q1 with a vague answer: evaluated; a follow-up (q1f) replaces the last base
	 * question */
	r = iv_answer(u.access, id, "q1", VAGUE, "text");
	it_assert_success(r, 200);
	d = data_of(r);
	score = json_object_get_double(http_json_at(d, "feedback.score"));
	cr_expect(score >= 0 && score <= 100, "score %f", score);
	iv_str(d, "feedback.provider");
	cr_expect_eq(iv_int(d, "progress.answered"), 1);
	cr_expect_eq(iv_int(d, "progress.total"), 3);
	iv_int(d, "time.remaining_seconds");
	if (local)
		cr_expect(iv_bool(d, "follow_up"), "the local interviewer found no gap in a vague "
		    "technical answer: %s", r->body);
	if (iv_bool(d, "follow_up")) {
		char asked[1024];

		cr_expect_str_eq(iv_str(d, "next_question_id"), "q1f");
		/* the feedback names the follow-up that is asked, word for word */
		cr_expect_str_eq(iv_str(d, "feedback.follow_up.question_id"), "q1f");
		cr_expect_str_eq(iv_str(d, "feedback.follow_up.content"),
		    iv_str(d, "next_question.content"));
		snprintf(asked, sizeof(asked), "%s", iv_str(d, "next_question.content"));
		http_response_free(r);
		r = iv_call("GET", u.access, id, "next-question", NULL);
		it_assert_success(r, 200);
		q = data_of(r);
		cr_expect_str_eq(iv_str(q, "id"), "q1f");
		cr_expect_eq(iv_int(q, "index"), 2);
		cr_expect_eq(iv_int(q, "total"), 3);
		cr_expect(iv_bool(q, "is_follow_up"));
		cr_expect_str_eq(iv_nz(iv_str_or_null(q, "parent_id")), "q1");
		cr_expect(iv_str_or_null(q, "gap") != NULL, "a follow-up names its gap");
		cr_expect_str_eq(iv_str(q, "content"), asked);
		http_response_free(r);
		/* a follow-up never gets its own follow-up */
		r = iv_answer(u.access, id, "q1f", VAGUE, "text");
		it_assert_success(r, 200);
		cr_expect(!iv_bool(data_of(r), "follow_up"), "a follow-up got a follow-up");
		cr_expect(json_object_is_type(http_json_at(data_of(r), "feedback.follow_up"),
		    json_type_null), "a follow-up that is not asked is not offered: %s", r->body);
		cr_expect_str_eq(iv_nz(iv_str_or_null(data_of(r), "next_question_id")), "q2");
	}
	http_response_free(r);

	/* answer until the plan is done; the total never exceeds question_count */
	for (int guard = 0; guard < 5; guard++) {
		r = iv_call("GET", u.access, id, "next-question", NULL);
		if (r->status == 409)
			break;
		it_assert_success(r, 200);
		snprintf(qid, sizeof(qid), "%s", iv_str(data_of(r), "id"));
		cr_expect_eq(iv_int(data_of(r), "total"), 3);
		http_response_free(r);
		r = iv_answer(u.access, id, qid, GOOD, "text");
		it_assert_success(r, 200);
		http_response_free(r);
		r = NULL;
	}
	/* every asked question is answered and none is left: finalize */
	cr_assert_not_null(r, "next-question never said the plan is done");
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	s = iv_get(u.access, id);
	cr_expect_eq(iv_int(s, "progress.answered"), 3);
	cr_expect_eq(iv_int(s, "progress.asked"), 3);
	cr_expect(iv_is_null(s, "progress.current_question_id"));
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 3);
	cr_expect_str_eq(iv_str(s, "status"), "active", "answering does not finish by itself");
	json_object_put(s);

	r = iv_call("POST", u.access, id, "finalize", NULL);
	it_assert_success(r, 200);
	d = data_of(r);
	score = json_object_get_double(http_json_at(d, "result.total_score"));
	cr_expect(score >= 0 && score <= 100, "total_score %f", score);
	/* the result is made of every answer's feedback (the worker's copy keeps it as text) */
	cr_expect_null(strstr(iv_str(d, "result.feedback"), "unanswered"),
	    "an answered question counted as unanswered: %s", iv_str(d, "result.feedback"));
	iv_arr(d, "result.strengths");
	iv_arr(d, "result.weaknesses");
	iv_arr(d, "result.recommendations");
	iv_str(d, "result.provider");
	cr_expect_str_eq(iv_str(d, "session.status"), "completed");
	it_assert_timestamp(iv_str(d, "session.completed_at"), "completed_at");
	http_response_free(r);

	/* after the end the candidate sees everything, key points included; no nonce */
	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "status"), "completed");
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 3,
	    "the total never exceeds question_count: %s", json_object_to_json_string(s));
	expect_key_points(s, "the candidate after the end");
	cr_expect(iv_is_null(s, "anti_cheat.nonce"));
	for (size_t i = 0; i < 3; i++) {
		json_object *a = json_object_array_get_idx(iv_arr(s, "answers"), i);

		it_assert_timestamp(iv_str(a, "timestamp"), "answer timestamp");
		iv_int(a, "ai_feedback.score");
		cr_expect(iv_bool(find_question(s, iv_str(a, "question_id")), "answered"));
	}
	if (local)
		cr_expect_not_null(find_question(s, "q1f"), "the follow-up is listed");
	cr_expect_null(find_question(s, "q3"), "the dropped base question is listed");
	json_object_put(s);

	/* summary */
	r = iv_call("GET", u.access, id, "summary", NULL);
	it_assert_success(r, 200);
	cr_expect_str_eq(iv_str(data_of(r), "session_id"), id);
	cr_expect_str_eq(iv_str(data_of(r), "status"), "completed");
	cr_expect(json_object_get_double(http_json_at(data_of(r), "result.total_score")) ==
	    score, "summary and finalize disagree on the score");
	http_response_free(r);

	free(first_asked);
	free(nonce);
	it_user_free(&u);
}

Test(flow, behavioral_ai_mock_with_options)
{
	struct it_user u;
	char id[32];
	json_object *s;

	it_register(&u, NULL);
	iv_create_ok(&u, "\"mode\":\"behavioral\",\"type\":\"ai_mock\",\"level\":\"senior\","
	    "\"question_count\":2,\"duration_minutes\":45,\"job_description\":\"Lead a team\","
	    "\"resume_text\":\"Ten years of Go and PostgreSQL.\",\"unknown_field\":1", id);
	s = iv_get(u.access, id);
	cr_expect_str_eq(iv_str(s, "mode"), "behavioral");
	cr_expect_str_eq(iv_str(s, "type"), "ai_mock");
	cr_expect_str_eq(iv_str(s, "experience_level"), "senior", "\"level\" is an alias");
	cr_expect_eq(iv_int(s, "question_count"), 2);
	cr_expect_eq(iv_int(s, "duration_minutes"), 45);
	cr_expect_str_eq(iv_str(s, "job_description"), "Lead a team");
	cr_expect(iv_bool(s, "has_resume"));
	cr_expect(!json_object_object_get_ex(s, "unknown_field", NULL));
	json_object_put(s);
	it_user_free(&u);
}

Test(flow, defaults_of_a_minimal_body)
{
	struct it_user u;
	struct http_response *r;
	json_object *s;

	it_register(&u, NULL);
	r = iv_create(u.access, "{\"job_title\":\"QA\",\"mode\":\"behavioral\"}");
	it_assert_success(r, 201);
	s = data_of(r);
	cr_expect_str_eq(iv_str(s, "type"), "mock");
	cr_expect_str_eq(iv_str(s, "experience_level"), "mid");
	cr_expect_eq(iv_int(s, "question_count"), 5);
	cr_expect_eq(iv_int(s, "duration_minutes"), 30);
	cr_expect_eq(json_object_array_length(iv_arr(s, "focus_areas")), 0);
	cr_expect(iv_is_null(s, "resume_id"));
	http_response_free(r);
	it_user_free(&u);
}

Test(flow, a_stored_resume_of_the_caller_is_used_and_others_are_not_found)
{
	struct it_user u, other;
	char rid[CX_OID_LEN], oid[CX_OID_LEN], now[CX_TIME_LEN], *doc, *body;
	struct http_response *r;

	it_register(&u, NULL);
	it_register(&other, NULL);
	cx_oid_new(rid);
	cx_oid_new(oid);
	cx_time_now(now);
	doc = it_fmt("{\"id\":\"%s\",\"candidate_id\":\"%s\",\"filename\":\"cv.pdf\","
	    "\"parsed_text\":\"Senior engineer: Python, Django, PostgreSQL, Redis.\","
	    "\"status\":\"processed\",\"uploaded_at\":\"%s\"}", rid, u.id, now);
	iv_db_insert("resumes", rid, doc);
	free(doc);

	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"resume_id\":\"%s\"}", rid);
	r = iv_create(u.access, body);
	it_assert_success(r, 201);
	cr_expect_str_eq(iv_nz(iv_str_or_null(data_of(r), "resume_id")), rid);
	cr_expect(iv_bool(data_of(r), "has_resume"));
	http_response_free(r);
	/* somebody else's resume is not found, and neither is an unknown one */
	r = iv_create(other.access, body);
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	free(body);
	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"resume_id\":\"%s\"}", oid);
	r = iv_create(u.access, body);
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	free(body);
	it_user_free(&u);
	it_user_free(&other);
}

/* ---- state transitions --------------------------------------------------------- */

enum state { ST_SETUP, ST_PRECHECK, ST_ACTIVE, ST_PAUSED, ST_COMPLETED, ST_TERMINATED,
	ST_N };
static const char *const state_names[ST_N] = { "setup", "precheck", "active", "paused",
	"completed", "terminated" };

/* A new session of u in state st. */
static void
make_state(const struct it_user *u, enum state st, char id[32])
{
	struct http_response *r;
	char *nonce = NULL;

	iv_create_ok(u, NULL, id);
	if (st == ST_PRECHECK)
		iv_fail_precheck(u, id);
	if (st >= ST_ACTIVE)
		nonce = iv_start(u, id);
	if (st == ST_PAUSED) {
		r = iv_call("POST", u->access, id, "pause", NULL);
		it_assert_success(r, 200);
		http_response_free(r);
	}
	if (st == ST_COMPLETED) {
		r = iv_call("POST", u->access, id, "finalize", NULL);
		it_assert_success(r, 200);
		http_response_free(r);
	}
	if (st == ST_TERMINATED)
		terminate(u, id, nonce);
	iv_expect_status(u->access, id, state_names[st]);
	free(nonce);
}

enum action { A_PRECHECK, A_NEXT, A_ANSWER, A_PAUSE, A_RESUME, A_FINALIZE, A_EVENTS,
	A_SUMMARY, A_N };
static const char *const action_names[A_N] = { "precheck", "next-question", "answer",
	"pause", "resume", "finalize", "events", "summary" };

/* Expected HTTP status of each action in each state (spec: the route table of the
 * contract), and the status the session has afterwards when the action is allowed. */
static const int allowed[A_N][ST_N] = {
	/*               setup precheck active paused completed terminated */
	[A_PRECHECK] = { 1,    1,       0,     0,     0,        0 },
	[A_NEXT]     = { 0,    0,       1,     0,     0,        0 },
	[A_ANSWER]   = { 0,    0,       1,     0,     0,        0 },
	[A_PAUSE]    = { 0,    0,       1,     0,     0,        0 },
	[A_RESUME]   = { 0,    0,       0,     1,     0,        0 },
	[A_FINALIZE] = { 0,    0,       1,     1,     0,        0 },
	[A_EVENTS]   = { 0,    0,       1,     1,     0,        0 },
	[A_SUMMARY]  = { 0,    0,       0,     0,     1,        1 },
};
static const char *const after[A_N] = { "active", NULL, "active", "paused", "active",
	"completed", NULL, NULL };   /* NULL: unchanged */

static struct http_response *
do_action(const struct it_user *u, const char *id, enum action a)
{
	char zeros[65];
	json_object *batch, *s;
	const char *nonce;

	switch (a) {
	case A_PRECHECK:
		return iv_call("POST", u->access, id, "precheck", "{\"camera\":true,"
		    "\"microphone\":true,\"speaker\":true,\"fullscreen\":true,"
		    "\"single_screen\":true}");
	case A_NEXT:
		return iv_call("GET", u->access, id, "next-question", NULL);
	case A_ANSWER:
		return iv_answer(u->access, id, "q1", GOOD, "text");
	case A_PAUSE:
		return iv_call("POST", u->access, id, "pause", NULL);
	case A_RESUME:
		return iv_call("POST", u->access, id, "resume", NULL);
	case A_FINALIZE:
		return iv_call("POST", u->access, id, "finalize", NULL);
	case A_EVENTS:
		/* a right_click (logged, never counted) chained from the nonce when there is
		 * one */
		s = iv_get(u->access, id);
		nonce = iv_str_or_null(s, "anti_cheat.nonce");
		memset(zeros, '0', 64);
		zeros[64] = '\0';
		batch = json_object_new_array();
		json_object_array_add(batch, iv_ac_event(1, "right_click",
		    "2025-01-01T00:00:00.000Z", NULL, nonce ? nonce : zeros));
		json_object_put(s);
		return iv_events(u->access, id, batch);
	case A_SUMMARY:
	default:
		return iv_call("GET", u->access, id, "summary", NULL);
	}
}

static void
check_state(enum state st)
{
	struct it_user u;
	char id[32];

	it_register(&u, NULL);
	for (int a = 0; a < A_N; a++) {
		struct http_response *r;
		const char *want;

		make_state(&u, st, id);
		r = do_action(&u, id, (enum action)a);
		if (allowed[a][st]) {
			cr_expect_eq(r->status, 200, "%s in %s: want 200, got %ld %.300s",
			    action_names[a], state_names[st], r->status, r->body);
			want = after[a] ? after[a] : state_names[st];
		} else {
			cr_expect_eq(r->status, 409, "%s in %s: want 409, got %ld %.300s",
			    action_names[a], state_names[st], r->status, r->body);
			if (r->status == 409)
				it_assert_error(r, 409, "INVALID_STATE");
			want = state_names[st];
		}
		http_response_free(r);
		iv_expect_status(u.access, id, want);
	}
	it_user_free(&u);
}

Test(transitions, from_setup) { check_state(ST_SETUP); }
Test(transitions, from_precheck) { check_state(ST_PRECHECK); }
Test(transitions, from_active) { check_state(ST_ACTIVE); }
Test(transitions, from_paused) { check_state(ST_PAUSED); }
Test(transitions, from_completed) { check_state(ST_COMPLETED); }
Test(transitions, from_terminated) { check_state(ST_TERMINATED); }

Test(transitions, a_failed_precheck_may_be_retried_until_it_passes)
{
	struct it_user u;
	char id[32], *nonce;

	it_register(&u, NULL);
	iv_create_ok(&u, NULL, id);
	iv_fail_precheck(&u, id);
	iv_fail_precheck(&u, id);
	nonce = iv_start(&u, id);
	iv_expect_status(u.access, id, "active");
	free(nonce);
	it_user_free(&u);
}

/* ---- ownership ----------------------------------------------------------------- */

/* Every owner action of the candidate's session, as who: this status and code. */
static void
expect_actions_refused(const struct it_user *who, const char *id, long status,
    const char *code, const char *name)
{
	for (int a = 0; a < A_N; a++) {
		struct http_response *r;

		if (a == A_SUMMARY)
			continue;
		if (a == A_EVENTS) {
			json_object *batch = json_object_new_array();
			char zeros[65];

			memset(zeros, '0', 64);
			zeros[64] = '\0';
			json_object_array_add(batch, iv_ac_event(1, "right_click",
			    "2025-01-01T00:00:00.000Z", NULL, zeros));
			r = iv_events(who->access, id, batch);
		} else {
			r = do_action(who, id, (enum action)a);
		}
		cr_expect_eq(r->status, status, "%s %s: want %ld, got %ld %.300s", name,
		    action_names[a], status, r->status, r->body);
		if (r->status == status)
			it_assert_error(r, status, code);
		http_response_free(r);
	}
}

Test(ownership, other_candidates_get_not_found)
{
	struct it_user a, b;
	char id[32], *nonce;
	struct http_response *r;

	it_register(&a, NULL);
	it_register(&b, NULL);
	iv_create_ok(&a, NULL, id);
	nonce = iv_start(&a, id);
	r = iv_call("GET", b.access, id, NULL, NULL);
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	r = iv_call("GET", b.access, id, "summary", NULL);
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	expect_actions_refused(&b, id, 404, "NOT_FOUND", "another candidate");
	/* nothing changed */
	iv_expect_status(a.access, id, "active");
	/* and B's list does not show it */
	r = it_get(IV_BASE, b.access);
	it_assert_success(r, 200);
	cr_expect_eq(iv_int(data_of(r), "total"), 0);
	http_response_free(r);
	/* a candidate cannot create a session for somebody else */
	{
		char *body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\","
		    "\"candidate_id\":\"%s\"}", a.id);

		r = iv_create(b.access, body);
		it_assert_error(r, 403, "FORBIDDEN");
		http_response_free(r);
		free(body);
	}
	free(nonce);
	it_user_free(&a);
	it_user_free(&b);
}

/* A recruiter or admin reads the session (all questions with key points, no nonce),
 * lists it by candidate, reads the summary, and may neither act nor create. */
static void
check_reader(const struct it_user *reader, const char *name)
{
	struct it_user cand;
	char id[32], *nonce;
	struct http_response *r;
	json_object *s, *items;
	char *path;

	it_register(&cand, NULL);
	iv_create_ok(&cand, NULL, id);
	nonce = iv_start(&cand, id);

	s = iv_get(reader->access, id);
	cr_expect_str_eq(iv_str(s, "candidate_id"), cand.id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "questions")), 3,
	    "%s sees every planned question", name);
	expect_key_points(s, name);
	cr_expect(iv_is_null(s, "anti_cheat.nonce"), "%s sees the nonce", name);
	iv_arr(s, "anti_cheat_log");
	json_object_put(s);
	/* Workers reuse a rendered session while it does not change: the candidate's view and
	 * the reader's must never be mixed up, whichever worker answers. */
	for (int i = 0; i < 6; i++) {
		s = iv_get(i % 2 ? reader->access : cand.access, id);
		if (i % 2) {
			expect_key_points(s, name);
			cr_expect(iv_is_null(s, "anti_cheat.nonce"), "%s sees the nonce", name);
		} else {
			expect_no_key_points(s, "the candidate");
			cr_expect_str_eq(iv_nz(iv_str_or_null(s, "anti_cheat.nonce")), nonce);
		}
		json_object_put(s);
	}

	expect_actions_refused(reader, id, 403, "FORBIDDEN", name);
	iv_expect_status(cand.access, id, "active");

	r = iv_create(reader->access, "{\"job_title\":\"Dev\",\"mode\":\"technical\"}");
	it_assert_error(r, 403, "FORBIDDEN");
	http_response_free(r);

	path = it_fmt("%s?candidate_id=%s", IV_BASE, cand.id);
	r = it_get(path, reader->access);
	it_assert_success(r, 200);
	cr_expect_eq(iv_int(data_of(r), "total"), 1);
	items = iv_arr(data_of(r), "items");
	cr_expect_eq(json_object_array_length(items), 1);
	if (json_object_array_length(items) == 1)
		cr_expect_str_eq(iv_str(json_object_array_get_idx(items, 0), "id"), id);
	http_response_free(r);
	free(path);

	r = iv_call("POST", cand.access, id, "finalize", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	r = iv_call("GET", reader->access, id, "summary", NULL);
	it_assert_success(r, 200);
	cr_expect_str_eq(iv_str(data_of(r), "session_id"), id);
	http_response_free(r);
	free(nonce);
	it_user_free(&cand);
}

Test(ownership, recruiters_read_but_do_not_act)
{
	struct it_user rec;

	it_register(&rec, "recruiter");
	check_reader(&rec, "a recruiter");
	it_user_free(&rec);
}

Test(ownership, admins_read_but_do_not_act)
{
	struct it_user adm;

	iv_admin(&adm);
	check_reader(&adm, "an admin");
	it_user_free(&adm);
}

Test(ownership, the_owner_may_name_themself_and_sees_the_nonce_only_while_running)
{
	struct it_user u;
	char *body, id[32], *nonce;
	struct http_response *r;
	json_object *s;

	it_register(&u, NULL);
	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"candidate_id\":\"%s\"}",
	    u.id);
	r = iv_create(u.access, body);
	it_assert_success(r, 201);
	snprintf(id, sizeof(id), "%s", iv_str(data_of(r), "id"));
	http_response_free(r);
	free(body);
	nonce = iv_start(&u, id);
	r = iv_call("POST", u.access, id, "pause", NULL);
	it_assert_success(r, 200);
	cr_expect_str_eq(iv_nz(iv_str_or_null(data_of(r), "anti_cheat.nonce")), nonce,
	    "the owner keeps the nonce while paused");
	http_response_free(r);
	r = iv_call("POST", u.access, id, "finalize", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	s = iv_get(u.access, id);
	cr_expect(iv_is_null(s, "anti_cheat.nonce"), "the nonce is shown after the end");
	json_object_put(s);
	free(nonce);
	it_user_free(&u);
}

Test(ownership, tokens_and_ids_are_checked)
{
	struct it_user u;
	char unknown[CX_OID_LEN];
	struct http_response *r;

	it_register(&u, NULL);
	r = it_get(IV_BASE, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	r = iv_create(NULL, "{\"job_title\":\"Dev\",\"mode\":\"technical\"}");
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	r = iv_call("GET", "not.a.token", "0123456789abcdef01234567", NULL, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	r = iv_call("GET", u.access, "not-an-id", NULL, NULL);
	it_assert_error(r, 422, "VALIDATION_ERROR");
	http_response_free(r);
	r = iv_call("POST", u.access, "0123456789abcdef0123456", "pause", NULL);   /* 23 hex */
	it_assert_error(r, 422, "VALIDATION_ERROR");
	http_response_free(r);
	cx_oid_new(unknown);
	r = iv_call("GET", u.access, unknown, NULL, NULL);
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	r = iv_call("GET", u.access, unknown, "summary", NULL);
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	it_user_free(&u);
}

/* ---- idempotency --------------------------------------------------------------- */

Test(idempotency, answers_are_stored_once)
{
	struct it_user u;
	char id[32], *nonce, *feedback, next[16];
	struct http_response *r;
	json_object *s;

	nonce = iv_begin(&u, id);

	/* a question that was not asked yet, and one that does not exist */
	r = iv_answer(u.access, id, "q2", GOOD, "text");
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	r = iv_answer(u.access, id, "q99", GOOD, "text");
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);

	r = iv_answer(u.access, id, "q1", GOOD, "text");
	it_assert_success(r, 200);
	feedback = strdup(json_object_to_json_string_ext(http_json_path(r, "data.feedback"),
	    JSON_C_TO_STRING_PLAIN));
	snprintf(next, sizeof(next), "%s", iv_str(data_of(r), "next_question_id"));
	http_response_free(r);

	/* the same answer again: the stored result, nothing changes */
	for (int i = 0; i < 2; i++) {
		r = iv_answer(u.access, id, "q1", GOOD, "text");
		it_assert_success(r, 200);
		cr_expect_str_eq(json_object_to_json_string_ext(http_json_path(r, "data.feedback"),
		    JSON_C_TO_STRING_PLAIN), feedback, "a retry evaluated again");
		cr_expect_eq(iv_int(data_of(r), "progress.answered"), 1);
		http_response_free(r);
	}
	/* different content for an answered question */
	r = iv_answer(u.access, id, "q1", GOOD " And more.", "text");
	it_assert_error(r, 409, "CONFLICT");
	http_response_free(r);

	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 1);
	cr_expect_str_eq(iv_str(s, "progress.current_question_id"), next);
	cr_expect_eq(iv_int(s, "progress.answered"), 1);
	json_object_put(s);
	free(feedback);
	free(nonce);
	it_user_free(&u);
}

Test(idempotency, next_question_returns_the_current_one_until_answered)
{
	struct it_user u;
	char id[32], *nonce, q[16], again[16];
	json_object *d;

	nonce = iv_begin(&u, id);
	iv_current(&u, id, q);
	iv_current(&u, id, again);
	cr_expect_str_eq(again, q);
	d = iv_answer_current(&u, id, GOOD);
	iv_current(&u, id, again);
	cr_expect_str_neq(again, q, "answering did not move on");
	cr_expect_str_eq(again, iv_str(d, "next_question_id"));
	json_object_put(d);
	free(nonce);
	it_user_free(&u);
}

/* ---- validation ---------------------------------------------------------------- */

Test(validation, create_bodies)
{
	struct it_user u;
	struct http_response *r;
	char *long_title = calloc(1, 202), *long_desc = calloc(1, 20002);
	char *long_area = calloc(1, 102), *long_resume = calloc(1, 65 * 1024 + 2);
	char *many_areas, *body;
	struct {
		const char *members;   /* after job_title and mode unless they are replaced */
		int replace;           /* 1: members are the whole body */
		const char *field;
	} cases[] = {
		{ "\"mode\":\"technical\"", 1, "job_title" },
		{ "\"job_title\":\"\",\"mode\":\"technical\"", 1, "job_title" },
		{ "\"job_title\":42,\"mode\":\"technical\"", 1, "job_title" },
		{ "\"job_title\":\"Dev\"", 1, "mode" },
		{ "\"job_title\":\"Dev\",\"mode\":\"creative\"", 1, "mode" },
		{ "\"job_title\":\"Dev\",\"mode\":[\"technical\"]", 1, "mode" },
		{ "\"experience_level\":\"expert\"", 0, "experience_level" },
		{ "\"experience_level\":3", 0, "experience_level" },
		{ "\"type\":\"live\"", 0, "type" },
		{ "\"type\":\"other\"", 0, "type" },
		{ "\"question_count\":0", 0, "question_count" },
		{ "\"question_count\":31", 0, "question_count" },
		{ "\"question_count\":\"5\"", 0, "question_count" },
		{ "\"question_count\":2.5", 0, "question_count" },
		{ "\"duration_minutes\":4", 0, "duration_minutes" },
		{ "\"duration_minutes\":181", 0, "duration_minutes" },
		{ "\"focus_areas\":\"databases\"", 0, "focus_areas" },
		{ "\"focus_areas\":[1]", 0, "focus_areas" },
		{ "\"resume_id\":\"xyz\"", 0, "resume_id" },
		{ "\"resume_text\":7", 0, "resume_text" },
		{ "\"job_description\":false", 0, "job_description" },
	};

	it_register(&u, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = cases[i].replace ? it_fmt("{%s}", cases[i].members) :
		    it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",%s}", cases[i].members);
		r = iv_create(u.access, body);
		iv_assert_validation_prefix(r, cases[i].field);
		if (strcmp(cases[i].members, "\"type\":\"live\"") == 0)
			cr_expect(it_contains_ci(http_json_str(r, "error.details.reason"),
			    "live-interview"), "live: %s", r->body);
		http_response_free(r);
		free(body);
	}

	/* length bounds */
	memset(long_title, 'a', 201);
	memset(long_desc, 'd', 20001);
	memset(long_area, 'f', 101);
	memset(long_resume, 'r', 65 * 1024 + 1);
	body = it_fmt("{\"job_title\":\"%s\",\"mode\":\"technical\"}", long_title);
	r = iv_create(u.access, body);
	iv_assert_validation_prefix(r, "job_title");
	http_response_free(r);
	free(body);
	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"job_description\":\"%s\"}",
	    long_desc);
	r = iv_create(u.access, body);
	iv_assert_validation_prefix(r, "job_description");
	http_response_free(r);
	free(body);
	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"focus_areas\":[\"%s\"]}",
	    long_area);
	r = iv_create(u.access, body);
	iv_assert_validation_prefix(r, "focus_areas");
	http_response_free(r);
	free(body);
	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"resume_text\":\"%s\"}",
	    long_resume);
	r = iv_create(u.access, body);
	iv_assert_validation_prefix(r, "resume_text");
	http_response_free(r);
	free(body);
	many_areas = strdup("\"a\"");
	for (int i = 1; i < 21; i++) {
		char *more = it_fmt("%s,\"a%d\"", many_areas, i);

		free(many_areas);
		many_areas = more;
	}
	body = it_fmt("{\"job_title\":\"Dev\",\"mode\":\"technical\",\"focus_areas\":[%s]}",
	    many_areas);
	r = iv_create(u.access, body);
	iv_assert_validation_prefix(r, "focus_areas");
	http_response_free(r);
	free(body);

	/* the largest valid values are accepted */
	long_title[200] = '\0';
	long_desc[20000] = '\0';
	body = it_fmt("{\"job_title\":\"%s\",\"mode\":\"technical\",\"job_description\":\"%s\","
	    "\"question_count\":30,\"duration_minutes\":180}", long_title, long_desc);
	r = iv_create(u.access, body);
	it_assert_success(r, 201);
	http_response_free(r);
	free(body);
	body = it_fmt("{\"job_title\":\"D\",\"mode\":\"behavioral\",\"question_count\":1,"
	    "\"duration_minutes\":5}");
	r = iv_create(u.access, body);
	it_assert_success(r, 201);
	http_response_free(r);
	free(body);

	/* not JSON */
	r = iv_create(u.access, "{\"job_title\":");
	it_assert_error(r, 400, "BAD_REQUEST");
	http_response_free(r);

	free(many_areas);
	free(long_title);
	free(long_desc);
	free(long_area);
	free(long_resume);
	it_user_free(&u);
}

Test(validation, answer_bodies)
{
	struct it_user u;
	char id[32], *nonce, *big;
	struct http_response *r;
	json_object *s;
	struct {
		const char *body;
		const char *field;
	} cases[] = {
		{ "{\"content\":\"An answer\"}", "question_id" },
		{ "{\"question_id\":1,\"content\":\"An answer\"}", "question_id" },
		{ "{\"question_id\":\"q1\"}", "content" },
		{ "{\"question_id\":\"q1\",\"content\":\"\"}", "content" },
		{ "{\"question_id\":\"q1\",\"content\":[\"x\"]}", "content" },
		{ "{\"question_id\":\"q1\",\"content\":\"An answer\",\"type\":\"video\"}", "type" },
		{ "{\"question_id\":\"q1\",\"content\":\"An answer\",\"type\":5}", "type" },
		{ "{\"question_id\":\"q1\",\"content\":\"   \\n\"}", "content" },
		{ "{\"question_id\":\"q1\",\"content\":\"bad \xff\xfe bytes\"}", "content" },
	};

	nonce = iv_begin(&u, id);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = iv_call("POST", u.access, id, "answer", cases[i].body);
		iv_assert_validation_prefix(r, cases[i].field);
		http_response_free(r);
	}
	big = calloc(1, 65536 + 2);
	memset(big, 'w', 65536 + 1);
	r = iv_answer(u.access, id, "q1", big, "text");
	iv_assert_validation_prefix(r, "content");
	http_response_free(r);
	free(big);
	/* nothing was stored, q1 is still current */
	s = iv_get(u.access, id);
	cr_expect_eq(json_object_array_length(iv_arr(s, "answers")), 0);
	cr_expect_str_eq(iv_str(s, "progress.current_question_id"), "q1");
	json_object_put(s);
	/* code answers are accepted */
	r = iv_answer(u.access, id, "q1", "def add(a, b):\n    return a + b\n", "code");
	it_assert_success(r, 200);
	http_response_free(r);
	free(nonce);
	it_user_free(&u);
}

/* ---- list, pagination and filters ---------------------------------------------- */

/* GET the list with this query as bearer; asserts 200 and returns data (caller puts). */
static json_object *
list(const char *bearer, const char *query)
{
	char *path = it_fmt("%s%s%s", IV_BASE, query ? "?" : "", query ? query : "");
	struct http_response *r = it_get(path, bearer);
	json_object *d;

	it_assert_success(r, 200);
	d = json_object_get(data_of(r));
	http_response_free(r);
	free(path);
	return d;
}

Test(listing, newest_first_paginated_filtered_and_summarized)
{
	struct it_user u, other;
	char ids[3][32], oid[32], *nonce;
	json_object *d, *items;
	struct http_response *r;
	static const char *const bad[] = { "status=done", "type=other", "mode=creative",
		"page=0", "page=x", "limit=0", "limit=101", "limit=abc", NULL };

	it_register(&u, NULL);
	it_register(&other, NULL);
	iv_create_ok(&u, NULL, ids[0]);
	iv_create_ok(&u, "\"mode\":\"behavioral\",\"type\":\"ai_mock\"", ids[1]);
	iv_create_ok(&u, NULL, ids[2]);
	iv_create_ok(&other, NULL, oid);
	nonce = iv_start(&u, ids[2]);

	d = list(u.access, NULL);
	cr_expect_eq(iv_int(d, "total"), 3);
	cr_expect_eq(iv_int(d, "page"), 1);
	cr_expect_eq(iv_int(d, "limit"), 20);
	cr_expect_eq(iv_int(d, "pages"), 1);
	items = iv_arr(d, "items");
	cr_assert_eq(json_object_array_length(items), 3);
	for (int i = 0; i < 3; i++) {
		json_object *it = json_object_array_get_idx(items, (size_t)i);

		cr_expect_str_eq(iv_str(it, "id"), ids[2 - i], "newest first");
		cr_expect_str_eq(iv_str(it, "candidate_id"), u.id);
		cr_expect(!json_object_object_get_ex(it, "answers", NULL), "items are summaries");
		cr_expect(!json_object_object_get_ex(it, "anti_cheat_log", NULL),
		    "items are summaries");
	}
	json_object_put(d);

	/* pages */
	d = list(u.access, "page=1&limit=2");
	cr_expect_eq(iv_int(d, "total"), 3);
	cr_expect_eq(iv_int(d, "pages"), 2);
	cr_expect_eq(iv_int(d, "limit"), 2);
	cr_expect_eq(json_object_array_length(iv_arr(d, "items")), 2);
	json_object_put(d);
	d = list(u.access, "page=2&limit=2");
	cr_expect_eq(iv_int(d, "page"), 2);
	items = iv_arr(d, "items");
	cr_expect_eq(json_object_array_length(items), 1);
	if (json_object_array_length(items) == 1)
		cr_expect_str_eq(iv_str(json_object_array_get_idx(items, 0), "id"), ids[0]);
	json_object_put(d);
	d = list(u.access, "page=3&limit=2");
	cr_expect_eq(json_object_array_length(iv_arr(d, "items")), 0);
	json_object_put(d);

	/* filters */
	d = list(u.access, "mode=behavioral");
	cr_expect_eq(iv_int(d, "total"), 1);
	json_object_put(d);
	d = list(u.access, "type=ai_mock");
	cr_expect_eq(iv_int(d, "total"), 1);
	json_object_put(d);
	d = list(u.access, "type=mock&mode=technical");
	cr_expect_eq(iv_int(d, "total"), 2);
	json_object_put(d);
	d = list(u.access, "status=active");
	cr_expect_eq(iv_int(d, "total"), 1);
	items = iv_arr(d, "items");
	if (json_object_array_length(items) == 1)
		cr_expect_str_eq(iv_str(json_object_array_get_idx(items, 0), "id"), ids[2]);
	json_object_put(d);
	d = list(u.access, "status=setup");
	cr_expect_eq(iv_int(d, "total"), 2);
	json_object_put(d);
	d = list(u.access, "status=completed");
	cr_expect_eq(iv_int(d, "total"), 0);
	json_object_put(d);

	/* a candidate sees only their own sessions, whatever candidate_id says */
	{
		char *q = it_fmt("candidate_id=%s", other.id);
		char *path = it_fmt("%s?%s", IV_BASE, q);

		r = it_get(path, u.access);
		if (r->status == 200) {
			items = iv_arr(data_of(r), "items");
			for (size_t i = 0; i < json_object_array_length(items); i++)
				cr_expect_str_eq(iv_str(json_object_array_get_idx(items, i),
				    "candidate_id"), u.id, "a candidate listed another's session");
		} else {
			it_assert_error(r, 403, "FORBIDDEN");
		}
		http_response_free(r);
		free(path);
		free(q);
	}

	/* bad values */
	for (size_t i = 0; bad[i] != NULL; i++) {
		char *path = it_fmt("%s?%s", IV_BASE, bad[i]);

		r = it_get(path, u.access);
		cr_expect_eq(r->status, 422, "%s: %ld %.200s", bad[i], r->status, r->body);
		if (r->status == 422)
			it_assert_error(r, 422, "VALIDATION_ERROR");
		http_response_free(r);
		free(path);
	}
	free(nonce);
	it_user_free(&u);
	it_user_free(&other);
}

Test(listing, recruiters_see_everyone_or_one_candidate)
{
	struct it_user rec, a, b;
	char ida[32], idb[32], *q;
	json_object *d, *items;

	it_register(&rec, "recruiter");
	it_register(&a, NULL);
	it_register(&b, NULL);
	iv_create_ok(&a, NULL, ida);
	iv_create_ok(&b, NULL, idb);
	d = list(rec.access, "limit=100");
	cr_expect_geq(iv_int(d, "total"), 2);
	json_object_put(d);
	q = it_fmt("candidate_id=%s", b.id);
	d = list(rec.access, q);
	cr_expect_eq(iv_int(d, "total"), 1);
	items = iv_arr(d, "items");
	if (json_object_array_length(items) == 1)
		cr_expect_str_eq(iv_str(json_object_array_get_idx(items, 0), "id"), idb);
	json_object_put(d);
	free(q);
	it_user_free(&rec);
	it_user_free(&a);
	it_user_free(&b);
}
