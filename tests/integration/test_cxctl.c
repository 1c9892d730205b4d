/* cxctl, the operator's CLI, against the running stack: check reports every dependency,
 * create-admin enforces the password policy, is idempotent, and the admin can sign in;
 * init is idempotent. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it.h"

TestSuite(cxctl, .init = it_setup, .timeout = 60);

/* Run cxctl with the stack's settings plus `extra` ("NAME=value", NULL-ended); returns the
 * exit status and the combined output in *out (caller frees). */
static int
run_cxctl(const char *const *extra, char *const *args, char **out)
{
	const char *bdir = getenv("CX_TEST_BUILD_DIR"), *data = getenv("CX_TEST_DATA_DIR");
	int pipefd[2], status = -1;
	size_t used = 0, cap = 16384;
	char *buf = calloc(1, cap), path[1024];
	pid_t pid;
	ssize_t n;

	cr_assert_not_null(bdir, "CX_TEST_BUILD_DIR is not set");
	cr_assert_not_null(data, "CX_TEST_DATA_DIR is not set");
	snprintf(path, sizeof(path), "%s/fcgi-apps/cxctl/cxctl", bdir);
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *argv[8] = { path };
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		setenv("CX_DATA_DIR", data, 1);
		setenv("REDIS_URL", getenv("CX_TEST_REDIS_URL"), 1);
		setenv("CX_SCHEMA_DIR", getenv("CX_TEST_SCHEMA_DIR"), 1);
		unsetenv("CX_ADMIN_PASSWORD");
		for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
			putenv(strdup(extra[i]));
		for (size_t i = 0; args[i] != NULL && i < 6; i++)
			argv[i + 1] = args[i];
		execv(path, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], buf + used, cap - used - 1)) > 0)
		used += (size_t)n;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cxctl, check_reports_every_dependency)
{
	char *out = NULL;
	char *args[] = { "check", NULL };
	const char *bad[] = { "REDIS_URL=unix:/nonexistent/redis.sock", NULL };

	cr_expect_eq(run_cxctl(NULL, args, &out), 0, "%s", out);
	for (const char *const *w = (const char *const[]){ "config", "keys", "database", "redis",
	    "schema", "mail", NULL }; *w != NULL; w++)
		cr_expect_not_null(strstr(out, *w), "no %s line in:\n%s", *w, out);
	cr_expect_null(strstr(out, "FAIL"), "%s", out);
	free(out);

	cr_expect_eq(run_cxctl(bad, args, &out), 1, "a dead Redis must fail the check:\n%s", out);
	cr_expect_not_null(strstr(out, "FAIL"), "%s", out);
	free(out);
}

Test(cxctl, create_admin_is_checked_idempotent_and_can_sign_in)
{
	char email[80], *out = NULL, *access = NULL;
	char *args[] = { "create-admin", "--email", email, "--name", "Ops Admin", NULL };
	const char *weak[] = { "CX_ADMIN_PASSWORD=short", NULL };
	const char *good[] = { "CX_ADMIN_PASSWORD=" IT_PASSWORD, NULL };
	json_object *payload;

	it_random_email(email);
	cr_expect_eq(run_cxctl(weak, args, &out), 1, "%s", out);
	cr_expect_not_null(strstr(out, "at least 8 characters"), "%s", out);
	free(out);
	cr_expect_eq(run_cxctl(good, args, &out), 0, "%s", out);
	cr_expect_not_null(strstr(out, "created"), "%s", out);
	free(out);
	cr_expect_eq(run_cxctl(good, args, &out), 0, "%s", out);
	cr_expect_not_null(strstr(out, "already exists"), "%s", out);
	free(out);

	it_login_ok(email, IT_PASSWORD, &access, NULL);
	payload = it_jwt_payload(access);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(payload, "role")), "admin");
	json_object_put(payload);
	free(access);
}

Test(cxctl, init_is_idempotent)
{
	char *out = NULL;
	char *args[] = { "init", NULL };

	cr_expect_eq(run_cxctl(NULL, args, &out), 0, "%s", out);
	cr_expect_not_null(strstr(out, "keys: present"), "%s", out);
	cr_expect_not_null(strstr(out, "database: sqlite ready"), "%s", out);
	free(out);
}
