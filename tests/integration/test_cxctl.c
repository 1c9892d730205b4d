/* cxctl, the operator's CLI, against the running stack: check reports every dependency,
 * create-admin enforces the password policy, is idempotent, and the admin can sign in;
 * init is idempotent. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it.h"

TestSuite(cxctl, .init = it_setup, .timeout = 60);

Test(cxctl, check_reports_every_dependency)
{
	char *out = NULL;
	char *args[] = { "check", NULL };
	const char *bad[] = { "REDIS_URL=unix:/nonexistent/redis.sock", NULL };

	cr_expect_eq(it_run_cxctl(NULL, args, &out), 0, "%s", out);
	for (const char *const *w = (const char *const[]){ "config", "keys", "database", "redis",
	    "schema", "mail", NULL }; *w != NULL; w++)
		cr_expect_not_null(strstr(out, *w), "no %s line in:\n%s", *w, out);
	cr_expect_null(strstr(out, "FAIL"), "%s", out);
	free(out);

	cr_expect_eq(it_run_cxctl(bad, args, &out), 1, "a dead Redis must fail the check:\n%s", out);
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
	cr_expect_eq(it_run_cxctl(weak, args, &out), 1, "%s", out);
	cr_expect_not_null(strstr(out, "at least 8 characters"), "%s", out);
	free(out);
	cr_expect_eq(it_run_cxctl(good, args, &out), 0, "%s", out);
	cr_expect_not_null(strstr(out, "created"), "%s", out);
	free(out);
	cr_expect_eq(it_run_cxctl(good, args, &out), 0, "%s", out);
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

	cr_expect_eq(it_run_cxctl(NULL, args, &out), 0, "%s", out);
	cr_expect_not_null(strstr(out, "keys: present"), "%s", out);
	cr_expect_not_null(strstr(out, "database: sqlite ready"), "%s", out);
	free(out);
}
