/* cx_perm: the role/permission table of spec 4.1, the only place it is written down. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "cx_perm.h"

/* Every valid role holds this one, so a route can say "any signed-in user". */
#define PERM_AUTHENTICATED "authenticated"

static const struct role {
	const char *name;
	const char *const *permissions;   /* NULL-terminated */
} roles[] = {
	{ "candidate", (const char *const[]){
		"read_own_profile", "create_interview", "upload_resume", NULL } },
	{ "recruiter", (const char *const[]){
		"read_candidates", "create_live_interview", "analyze_resumes", NULL } },
	{ "admin", (const char *const[]){
		"manage_users", "view_audit_logs", "configure_system", NULL } },
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))

static const struct role *
find_role(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NROLES; i++)
		if (strcmp(roles[i].name, name) == 0)
			return &roles[i];
	return NULL;
}

static int
list_has(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

int
cx_role_valid(const char *role)
{
	return find_role(role) != NULL;
}

int
cx_permission_valid(const char *permission)
{
	if (permission == NULL)
		return 0;
	if (strcmp(permission, PERM_AUTHENTICATED) == 0)
		return 1;
	for (size_t i = 0; i < NROLES; i++)
		if (list_has(roles[i].permissions, permission))
			return 1;
	return 0;
}

int
cx_role_has_permission(const char *role, const char *permission)
{
	const struct role *r = find_role(role);

	if (r == NULL || permission == NULL)
		return 0;
	if (strcmp(permission, PERM_AUTHENTICATED) == 0)
		return 1;
	return list_has(r->permissions, permission);
}
