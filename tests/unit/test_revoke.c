/* cx_revoke against a real Redis: a revocation is in every live view as soon as the
 * revoking call returns, stored revocations are loaded on open, and a view whose
 * subscription is lost says so (callers ask Redis) and recovers by itself. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cx_revoke.h"
#include "cx_tokens.h"
#include "redis_fixture.h"

static struct redis_fixture fx;
static struct cx_redis *r;

static void
setup(void)
{
	struct cx_error err = { 0 };

	cr_assert_eq(redis_fixture_start(&fx), 0, "%s", fx.why);
	cr_assert_eq(cx_redis_new(fx.url, &r, &err), CX_OK, "%s", err.message);
}

static void
teardown(void)
{
	cx_redis_free(r);
	redis_fixture_stop(&fx);
}

TestSuite(revoke, .init = setup, .fini = teardown, .timeout = 30);

#define UID "0123456789abcdef01234567"

Test(revoke, revocation_is_seen_by_the_next_check)
{
	struct cx_revoke_view *a = NULL, *b = NULL;
	struct cx_error err = { 0 };
	int64_t now = (int64_t)time(NULL);

	cr_assert_eq(cx_revoke_view_open(fx.url, r, 1800, &a, &err), CX_OK);
	cr_assert_eq(cx_revoke_view_open(fx.url, r, 1800, &b, &err), CX_OK);
	cr_assert_eq(cx_revoke_view_sync(a), 1);
	cr_assert_not(cx_revoke_view_is_revoked(a, "jti-one", UID, now));

	cr_assert_eq(cx_access_revoke(r, "jti-one", now + 600, &err), CX_OK, "%s", err.message);
	/* No waiting: the revoking call returns only once every subscriber has it. */
	for (int i = 0; i < 2; i++) {
		struct cx_revoke_view *v = i ? b : a;
		cr_assert_eq(cx_revoke_view_sync(v), 1);
		cr_expect(cx_revoke_view_is_revoked(v, "jti-one", UID, now), "view %d", i);
		cr_expect_not(cx_revoke_view_is_revoked(v, "jti-two", UID, now), "view %d", i);
	}

	cr_assert_eq(cx_access_revoke_user(r, UID, 1800, &err), CX_OK);
	cr_assert_eq(cx_revoke_view_sync(b), 1);
	cr_expect(cx_revoke_view_is_revoked(b, "jti-two", UID, now - 5),
	    "a token issued before the user's revocation is dead");
	cr_expect_not(cx_revoke_view_is_revoked(b, "jti-two", UID, now + 5),
	    "a token issued after it lives");
	cr_expect_not(cx_revoke_view_is_revoked(b, "jti-two", "fedcba9876543210fedcba98", now - 5),
	    "another user's tokens live");
	cx_revoke_view_free(a);
	cx_revoke_view_free(b);
}

Test(revoke, stored_revocations_are_loaded_on_open)
{
	struct cx_revoke_view *v = NULL;
	struct cx_error err = { 0 };
	int64_t now = (int64_t)time(NULL);
	char jti[32];

	/* More than one SCAN page. */
	for (int i = 0; i < 1200; i++) {
		snprintf(jti, sizeof(jti), "old-%d", i);
		cr_assert_eq(cx_access_revoke(r, jti, now + 600, &err), CX_OK);
	}
	cr_assert_eq(cx_access_revoke_user(r, UID, 1800, &err), CX_OK);
	cr_assert_eq(cx_revoke_view_open(fx.url, r, 1800, &v, &err), CX_OK);
	cr_assert_eq(cx_revoke_view_sync(v), 1);
	cr_expect(cx_revoke_view_is_revoked(v, "old-0", UID, now + 5));
	cr_expect(cx_revoke_view_is_revoked(v, "old-1199", UID, now + 5));
	cr_expect_not(cx_revoke_view_is_revoked(v, "new-1", UID, now + 5));
	cr_expect(cx_revoke_view_is_revoked(v, "new-1", UID, now - 5));
	cx_revoke_view_free(v);
}

Test(revoke, lost_subscription_is_reported_and_recovers)
{
	struct cx_revoke_view *v = NULL;
	struct cx_error err = { 0 };
	int64_t now = (int64_t)time(NULL);
	int live = 0;

	if (fx.external)
		cr_skip_test("needs its own redis-server to kill");
	cr_assert_eq(cx_revoke_view_open(fx.url, r, 1800, &v, &err), CX_OK);
	cr_assert_eq(cx_revoke_view_sync(v), 1);
	cr_assert_eq(redis_fixture_kill(&fx), 0);
	cr_expect_eq(cx_revoke_view_sync(v), 0, "a dead subscription must not be trusted");
	cr_assert_eq(redis_fixture_restart(&fx), 0, "%s", fx.why);
	cr_assert_eq(cx_access_revoke(r, "after-restart", now + 600, &err), CX_OK, "%s",
	    err.message);
	for (int i = 0; i < 30 && !live; i++) {
		live = cx_revoke_view_sync(v);
		if (!live)
			usleep(100 * 1000);
	}
	cr_assert(live, "the view did not come back");
	cr_expect(cx_revoke_view_is_revoked(v, "after-restart", UID, now),
	    "revocations made while the view was down are loaded");
	cx_revoke_view_free(v);
}
