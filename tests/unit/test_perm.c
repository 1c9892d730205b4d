/* Unit tests of cx_perm: the whole role x permission table of spec 4.1. */
#include "config.h"

#include <criterion/criterion.h>
#include <stddef.h>

#include "cx_perm.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const roles[] = { "candidate", "recruiter", "admin" };
static const char *const perms[] = {
	"read_own_profile", "create_interview", "upload_resume",
	"read_candidates", "create_live_interview", "analyze_resumes",
	"manage_users", "view_audit_logs", "configure_system",
	"authenticated",
};

/* Spec 4.1 written out as a grid: grant[role][perm]. */
static const int grant[N(roles)][N(perms)] = {
	/*              own cre upl | rdc live ana | mng aud cfg | auth */
	/* candidate */ { 1, 1, 1,    0, 0, 0,      0, 0, 0,      1 },
	/* recruiter */ { 0, 0, 0,    1, 1, 1,      0, 0, 0,      1 },
	/* admin     */ { 0, 0, 0,    0, 0, 0,      1, 1, 1,      1 },
};

Test(perm, whole_table)
{
	for (size_t r = 0; r < N(roles); r++)
		for (size_t p = 0; p < N(perms); p++)
			cr_expect_eq(cx_role_has_permission(roles[r], perms[p]), grant[r][p],
			    "%s / %s: want %d", roles[r], perms[p], grant[r][p]);
}

Test(perm, roles_and_permissions_are_known)
{
	for (size_t r = 0; r < N(roles); r++)
		cr_expect(cx_role_valid(roles[r]), "%s", roles[r]);
	for (size_t p = 0; p < N(perms); p++)
		cr_expect(cx_permission_valid(perms[p]), "%s", perms[p]);
}

Test(perm, unknown_role_or_permission_is_refused)
{
	static const char *const bad_roles[] = { "", "Admin", "ADMIN", "admin ", "root",
		"superuser", "candidates" };
	static const char *const bad_perms[] = { "", "Manage_users", "manage_users ", "*",
		"all", "delete_everything", "read_own_profile\n" };

	for (size_t i = 0; i < N(bad_roles); i++) {
		cr_expect_not(cx_role_valid(bad_roles[i]), "'%s'", bad_roles[i]);
		for (size_t p = 0; p < N(perms); p++)
			cr_expect_not(cx_role_has_permission(bad_roles[i], perms[p]),
			    "'%s' / %s", bad_roles[i], perms[p]);
	}
	for (size_t i = 0; i < N(bad_perms); i++) {
		cr_expect_not(cx_permission_valid(bad_perms[i]), "'%s'", bad_perms[i]);
		for (size_t r = 0; r < N(roles); r++)
			cr_expect_not(cx_role_has_permission(roles[r], bad_perms[i]),
			    "%s / '%s'", roles[r], bad_perms[i]);
	}
}

Test(perm, null_is_refused)
{
	cr_expect_not(cx_role_valid(NULL));
	cr_expect_not(cx_permission_valid(NULL));
	cr_expect_not(cx_role_has_permission(NULL, "authenticated"));
	cr_expect_not(cx_role_has_permission("admin", NULL));
}
