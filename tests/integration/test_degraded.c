/* Redis unavailable: what needs it answers clear 503 envelopes, signed-in users keep
 * reading their profile, and everything recovers by itself when Redis comes back. Redis is paused (SIGSTOP) rather than killed, so the
 * stack is whole again after this suite, whatever its outcome. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it.h"

static pid_t redis_pid;

static pid_t
read_redis_pid(void)
{
	const char *dir = getenv("CX_TEST_DATA_DIR");
	char path[1024];
	long pid = 0;
	FILE *f;

	cr_assert_not_null(dir, "CX_TEST_DATA_DIR is not set");
	snprintf(path, sizeof(path), "%s/pids/redis.pid", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "no redis pid file at %s", path);
	cr_assert_eq(fscanf(f, "%ld", &pid), 1, "bad pid file %s", path);
	fclose(f);
	return (pid_t)pid;
}

static void
resume_redis(void)
{
	if (redis_pid > 0)
		kill(redis_pid, SIGCONT);
}

static void
setup(void)
{
	it_setup();
	redis_pid = read_redis_pid();
}

TestSuite(degraded, .init = setup, .fini = resume_redis, .timeout = 120);

static long
health_status(char **redis_state)
{
	struct http_response *r = http_request("GET", "/api/health", NULL, NULL, NULL);
	long status = r->status;
	const char *s = http_json_str(r, "services.redis");

	*redis_state = strdup(s ? s : "");
	http_response_free(r);
	return status;
}

Test(degraded, redis_down_answers_503_and_recovers)
{
	struct it_user u;
	struct http_response *r;
	char *state = NULL;
	long status = 0;

	it_register(&u, NULL);
	cr_assert_eq(health_status(&state), 200);
	cr_assert_str_eq(state, "healthy");
	free(state);

	cr_assert_eq(kill(redis_pid, SIGSTOP), 0, "cannot pause redis (pid %d)", (int)redis_pid);

	/* Each worker reuses a probe of its dependencies for at most a second. */
	usleep(1200 * 1000);
	r = http_request("GET", "/api/health", NULL, NULL, NULL);
	cr_expect_eq(r->status, 503);
	cr_expect_str_eq(http_json_str(r, "status"), "unhealthy");
	cr_expect_str_eq(http_json_str(r, "services.redis"), "unhealthy");
	cr_expect_str_eq(http_json_str(r, "services.database"), "healthy");
	cr_expect_not_null(http_json_str(r, "checked_at"));
	http_response_free(r);

	/* A signed-in user keeps working: each worker holds a live copy of the revocations
	 * (nothing can be revoked while Redis is away, so it is still exact). */
	cr_expect_eq(it_me_status(u.access), 200, "GET /me during a Redis outage");

	/* Signing in needs Redis (rate limits, the new session): refused, clearly. */
	r = it_login(u.email, u.password);
	it_assert_error(r, 503, "SERVICE_UNAVAILABLE");
	cr_expect_not_null(http_response_header(r, "Retry-After"), "503 without Retry-After");
	http_response_free(r);

	resume_redis();
	/* The workers reconnect on their next command. */
	for (int i = 0; i < 20; i++) {
		status = health_status(&state);
		free(state);
		if (status == 200)
			break;
		usleep(250 * 1000);
	}
	cr_assert_eq(status, 200, "health did not recover after redis came back");
	cr_expect_eq(it_me_status(u.access), 200, "the session survives a Redis outage");
	it_login_ok(u.email, u.password, NULL, NULL);
	it_user_free(&u);
}

static struct http_response *
answer(const char *access, const char *id, const char *qid)
{
	char *path = it_fmt("/api/interview/sessions/%s/answer", id);
	char *body = it_fmt("{\"question_id\":\"%s\",\"content\":\"I would add an index on the "
	    "columns of the WHERE clause, check the plan with EXPLAIN ANALYZE, and measure "
	    "the latency before and after.\",\"type\":\"text\"}", qid);
	struct http_response *r = it_post_json(path, access, body);

	free(path);
	free(body);
	return r;
}

/* The stored session is the truth and Redis only a view of it: a candidate in the middle
 * of an interview keeps answering while Redis stalls, and the view catches up with the
 * first write after it is back. */
Test(degraded, interview_goes_on_while_redis_stalls)
{
	struct it_user u;
	struct http_response *r;
	redisContext *rc;
	redisReply *rep;
	char id[32], *path, *key, next[16];

	it_register(&u, NULL);
	r = it_post_json("/api/interview/sessions", u.access, "{\"job_title\":\"Backend "
	    "Engineer\",\"mode\":\"technical\",\"question_count\":4,\"duration_minutes\":60}");
	it_assert_success(r, 201);
	snprintf(id, sizeof(id), "%s", http_json_str(r, "data.id"));
	http_response_free(r);
	path = it_fmt("/api/interview/sessions/%s/precheck", id);
	r = it_post_json(path, u.access, "{\"camera\":true,\"microphone\":true,"
	    "\"fullscreen\":true}");
	it_assert_success(r, 200);
	http_response_free(r);
	free(path);

	cr_assert_eq(kill(redis_pid, SIGSTOP), 0, "cannot pause redis (pid %d)", (int)redis_pid);
	r = answer(u.access, id, "q1");
	it_assert_success(r, 200);
	snprintf(next, sizeof(next), "%s", http_json_str(r, "data.next_question_id"));
	http_response_free(r);
	path = it_fmt("/api/interview/sessions/%s", id);
	r = it_get(path, u.access);
	it_assert_success(r, 200);
	cr_expect_str_eq(http_json_str(r, "data.progress.current_question_id"), next);
	http_response_free(r);
	free(path);
	resume_redis();

	/* Once the workers ask Redis again (they leave a failing one alone for 5 s), the
	 * next answer brings the state hash up to date. */
	sleep(6);
	r = answer(u.access, id, next);
	it_assert_success(r, 200);
	snprintf(next, sizeof(next), "%s", http_json_str(r, "data.next_question_id") ?
	    http_json_str(r, "data.next_question_id") : "");
	http_response_free(r);
	rc = it_redis();
	key = it_fmt("interview:%s:state", id);
	for (int i = 0; i < 40; i++) {
		rep = redisCommand(rc, "HGET %s current_question", key);
		if (rep != NULL && rep->type == REDIS_REPLY_STRING && strcmp(rep->str, next) == 0) {
			freeReplyObject(rep);
			break;
		}
		if (rep != NULL)
			freeReplyObject(rep);
		usleep(100 * 1000);
		if (i == 39)
			cr_expect(0, "%s never showed current_question %s", key, next);
	}
	free(key);
	redisFree(rc);
	it_user_free(&u);
}
