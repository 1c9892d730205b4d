/* cx_user: the Users collection (spec 2.1): validation of its fields, new documents,
 * and the public view that never carries a password hash. */
#ifndef CX_USER_H
#define CX_USER_H

#include <json-c/json.h>
#include <stddef.h>

#include "cx_error.h"

struct cx_store;

#define CX_USERS "users"
#define CX_EMAIL_MAX 254
#define CX_NAME_MAX 100

/* Trim and lowercase an email into out (size CX_EMAIL_MAX + 1) and check its form
 * (local@domain.tld). VALIDATION_ERROR on `field` otherwise. */
int cx_user_normalize_email(const char *in, const char *field, char out[CX_EMAIL_MAX + 1],
    struct cx_error *err);

/* Trim a display name into a malloc'd string (caller frees): 1..100 characters of valid
 * UTF-8 without control characters. */
int cx_user_clean_name(const char *in, const char *field, char **out, struct cx_error *err);

/* A new user document (caller's reference) with defaults for preferences and profile. */
json_object *cx_user_new_doc(const char *email, const char *full_name, const char *role,
    const char *password_hash);

/* A copy of doc without secrets (hashed_password, password_changed_at): the User
 * schema of the API. Caller's reference. */
json_object *cx_user_public(json_object *doc);

/* Find by id / email. NOT_FOUND when missing. *out is the caller's. */
int cx_user_find_by_id(struct cx_store *store, const char *id, json_object **out,
    struct cx_error *err);
int cx_user_find_by_email(struct cx_store *store, const char *email, json_object **out,
    struct cx_error *err);

/* Validate a PUT /me body and turn it into store $set operations on `update`
 * (full_name, avatar_url, preferences.*, profile.*). Nothing is applied here. */
struct cx_update;
int cx_user_profile_update(json_object *body, struct cx_update *update, struct cx_error *err);

/* UTF-8 validity of s[0..len) (no overlongs, no surrogates). */
int cx_utf8_valid(const char *s, size_t len);

#endif
