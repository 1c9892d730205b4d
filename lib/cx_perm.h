/* cx_perm: roles and permissions exactly as spec 4.1's table, checked in one place. */
#ifndef CX_PERM_H
#define CX_PERM_H

/* Roles: "candidate", "recruiter", "admin". Permissions (spec 4.1):
 *   candidate: read_own_profile, create_interview, upload_resume
 *   recruiter: read_candidates, create_live_interview, analyze_resumes
 *   admin:     manage_users, view_audit_logs, configure_system
 * The pseudo-permission "authenticated" is held by every valid role. */
int cx_role_valid(const char *role);                              /* 1 if known */
int cx_role_has_permission(const char *role, const char *permission); /* 1 if granted */
int cx_permission_valid(const char *permission);                  /* 1 if known */

#endif
