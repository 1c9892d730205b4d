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
