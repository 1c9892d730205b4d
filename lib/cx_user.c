/* cx_user: user documents and the rules for their fields. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_json.h"
#include "cx_store.h"
#include "cx_time.h"
#include "cx_user.h"

int
cx_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if ((size_t)(end - p) <= n)
			return 0;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

static void
trim_bounds(const char *in, const char **start, size_t *len)
{
	const char *s = in, *e = in + strlen(in);

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*start = s;
	*len = (size_t)(e - s);
}

int
cx_user_normalize_email(const char *in, const char *field, char out[CX_EMAIL_MAX + 1],
    struct cx_error *err)
{
	static const char local_ok[] = "!#$%&'*+/=?^_`{|}~-.";
	const char *s, *at, *dom;
	size_t len, llen, dlen, label = 0;
	int dots = 0, tld_alpha = 1;

	trim_bounds(in, &s, &len);
	if (len == 0)
		return cx_error_field(err, field, "must not be empty");
	if (len > CX_EMAIL_MAX)
		return cx_error_field(err, field, "must be at most %d characters", CX_EMAIL_MAX);
	at = memchr(s, '@', len);
	if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL)
		return cx_error_field(err, field, "invalid email format");
	llen = (size_t)(at - s);
	dom = at + 1;
	dlen = len - llen - 1;
	if (llen == 0 || llen > 64 || s[0] == '.' || s[llen - 1] == '.' || dlen < 3)
		return cx_error_field(err, field, "invalid email format");
	for (size_t i = 0; i < llen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || strchr(local_ok, c) != NULL) || (c == '.' && s[i + 1] == '.'))
			return cx_error_field(err, field, "invalid email format");
	}
	for (size_t i = 0; i < dlen; i++) {
		unsigned char c = (unsigned char)dom[i];
		if (c == '.') {
			if (label == 0 || dom[i - 1] == '-')
				return cx_error_field(err, field, "invalid email format");
			dots++;
			label = 0;
			tld_alpha = 1;
			continue;
		}
		if (!(isalnum(c) || c == '-') || (c == '-' && label == 0) || ++label > 63)
			return cx_error_field(err, field, "invalid email format");
		if (!isalpha(c))
			tld_alpha = 0;
	}
	if (dots == 0 || label < 2 || !tld_alpha || dom[dlen - 1] == '-')
		return cx_error_field(err, field, "invalid email format");
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
	return CX_OK;
}

/* Count UTF-8 characters; 0 on control characters. */
static size_t
text_chars(const char *s, size_t len, int allow_newlines)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) ||
		    c == 0x7f)
			return 0;
		if ((c & 0xc0) != 0x80)
			n++;
	}
	return n;
}

int
cx_user_clean_name(const char *in, const char *field, char **out, struct cx_error *err)
{
	const char *s;
	size_t len, chars;
	char *copy;

	trim_bounds(in, &s, &len);
	if (len == 0)
		return cx_error_field(err, field, "must not be empty");
	if (!cx_utf8_valid(s, len))
		return cx_error_field(err, field, "must be valid UTF-8 text");
	chars = text_chars(s, len, 0);
	if (chars == 0)
		return cx_error_field(err, field, "must not contain control characters");
	if (chars > CX_NAME_MAX)
		return cx_error_field(err, field, "must be at most %d characters", CX_NAME_MAX);
	copy = strndup(s, len);
	if (copy == NULL)
		return cx_error_internal(err, "out of memory");
	*out = copy;
	return CX_OK;
}

json_object *
cx_user_new_doc(const char *email, const char *full_name, const char *role,
    const char *password_hash)
{
	json_object *doc = json_object_new_object(), *prefs = json_object_new_object();
	json_object *profile = json_object_new_object();
	static const char *const profile_fields[] = { "phone", "location", "linkedin_url",
		"github_url", "bio" };
	char id[CX_OID_LEN], now[CX_TIME_LEN];

	cx_oid_new(id);
	cx_time_now(now);
	json_object_object_add(doc, "id", json_object_new_string(id));
	json_object_object_add(doc, "email", json_object_new_string(email));
	json_object_object_add(doc, "full_name", json_object_new_string(full_name));
	json_object_object_add(doc, "hashed_password", json_object_new_string(password_hash));
	json_object_object_add(doc, "role", json_object_new_string(role));
	json_object_object_add(doc, "is_active", json_object_new_boolean(1));
	json_object_object_add(doc, "avatar_url", NULL);
	json_object_object_add(doc, "created_at", json_object_new_string(now));
	json_object_object_add(doc, "updated_at", json_object_new_string(now));
	json_object_object_add(doc, "last_login", NULL);
	json_object_object_add(prefs, "theme", json_object_new_string("light"));
	json_object_object_add(prefs, "notifications", json_object_new_boolean(1));
	json_object_object_add(prefs, "language", json_object_new_string("en"));
	json_object_object_add(doc, "preferences", prefs);
	for (size_t i = 0; i < sizeof(profile_fields) / sizeof(profile_fields[0]); i++)
		json_object_object_add(profile, profile_fields[i], NULL);
	json_object_object_add(doc, "profile", profile);
	return doc;
}

json_object *
cx_user_public(json_object *doc)
{
	static const char *const secret[] = { "hashed_password", "password_changed_at", NULL };
	json_object *out = json_object_new_object();

	json_object_object_foreach(doc, key, val) {
		size_t i;
		for (i = 0; secret[i] != NULL; i++)
			if (strcmp(key, secret[i]) == 0)
				break;
		if (secret[i] == NULL)
			json_object_object_add(out, key, json_object_get(val));
	}
	return out;
}

int
cx_user_find_by_id(struct cx_store *store, const char *id, json_object **out,
    struct cx_error *err)
{
	struct cx_filter *f;
	int rc;

	if (!cx_oid_valid(id))
		return cx_error_set(err, CX_ENOTFOUND, "User not found");
	f = cx_filter_eq_str(cx_filter_new(), "id", id);
	rc = cx_store_find_one(store, CX_USERS, f, out, err);
	cx_filter_free(f);
	return rc;
}

int
cx_user_find_by_email(struct cx_store *store, const char *email, json_object **out,
    struct cx_error *err)
{
	struct cx_filter *f = cx_filter_eq_str(cx_filter_new(), "email", email);
	int rc = cx_store_find_one(store, CX_USERS, f, out, err);

	cx_filter_free(f);
	return rc;
}

/* ---- profile updates ---------------------------------------------------------- */

/* A nullable bounded text field: string (trimmed later by the UI) or null. */
static int
optional_text(json_object *v, const char *field, size_t max_chars, int multiline,
    json_object **out, struct cx_error *err)
{
	const char *s;
	size_t len, chars;

	if (v == NULL) {
		*out = NULL;
		return CX_OK;
	}
	if (!json_object_is_type(v, json_type_string))
		return cx_error_field(err, field, "must be a string or null");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!cx_utf8_valid(s, len) || memchr(s, '\0', len) != NULL)
		return cx_error_field(err, field, "must be valid UTF-8 text");
	chars = text_chars(s, len, multiline);
	if (len > 0 && chars == 0)
		return cx_error_field(err, field, "must not contain control characters");
	if (chars > max_chars)
		return cx_error_field(err, field, "must be at most %zu characters", max_chars);
	*out = len > 0 ? json_object_new_string_len(s, (int)len) : NULL;
	return CX_OK;
}

static int
url_field(json_object *v, const char *field, json_object **out, struct cx_error *err)
{
	const char *s;
	int rc = optional_text(v, field, 500, 0, out, err);

	if (rc != CX_OK || *out == NULL)
		return rc;
	s = json_object_get_string(*out);
	if ((strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) ||
	    strpbrk(s, " \"<>\\^`{|}") != NULL || strlen(s) < 11) {
		json_object_put(*out);
		*out = NULL;
		return cx_error_field(err, field, "must be an http(s) URL");
	}
	return CX_OK;
}

static int
phone_field(json_object *v, const char *field, json_object **out, struct cx_error *err)
{
	const char *s;
	int digits = 0, rc = optional_text(v, field, 32, 0, out, err);

	if (rc != CX_OK || *out == NULL)
		return rc;
	for (s = json_object_get_string(*out); *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (strchr("+-() .", *s) == NULL)
			break;
	}
	if (*s != '\0' || digits < 5) {
		json_object_put(*out);
		*out = NULL;
		return cx_error_field(err, field, "must be a phone number (digits, spaces, + - ( ) .)");
	}
	return CX_OK;
}

static int
preferences_update(json_object *prefs, struct cx_update *update, struct cx_error *err)
{
	static const char *const keys[] = { "theme", "notifications", "language", NULL };
	json_object *v;
	int rc;

	if (!json_object_is_type(prefs, json_type_object))
		return cx_error_field(err, "preferences", "must be an object");
	json_object_object_foreach(prefs, key, val) {
		size_t i;
		(void)val;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], key) == 0)
				break;
		if (keys[i] == NULL) {
			char f[96];
			snprintf(f, sizeof(f), "preferences.%.80s", key);
			return cx_error_field(err, f, "unknown field");
		}
	}
	if (json_object_object_get_ex(prefs, "theme", &v)) {
		const char *t = v && json_object_is_type(v, json_type_string)
		    ? json_object_get_string(v) : "";
		if (strcmp(t, "light") != 0 && strcmp(t, "dark") != 0 && strcmp(t, "system") != 0)
			return cx_error_field(err, "preferences.theme",
			    "must be one of light, dark, system");
		cx_update_set(update, "preferences.theme", json_object_new_string(t));
	}
	if (json_object_object_get_ex(prefs, "notifications", &v)) {
		if (v == NULL || !json_object_is_type(v, json_type_boolean))
			return cx_error_field(err, "preferences.notifications", "must be true or false");
		cx_update_set(update, "preferences.notifications",
		    json_object_new_boolean(json_object_get_boolean(v)));
	}
	if (json_object_object_get_ex(prefs, "language", &v)) {
		const char *l = v && json_object_is_type(v, json_type_string)
		    ? json_object_get_string(v) : "";
		size_t n = strlen(l);
		/* BCP 47 short form: "en", "pt-BR". */
		if (!(n == 2 || (n == 5 && l[2] == '-')) || !islower((unsigned char)l[0]) ||
		    !islower((unsigned char)l[1]) ||
		    (n == 5 && (!isupper((unsigned char)l[3]) || !isupper((unsigned char)l[4]))))
			return cx_error_field(err, "preferences.language",
			    "must be a language code such as \"en\" or \"pt-BR\"");
		cx_update_set(update, "preferences.language", json_object_new_string(l));
	}
	rc = CX_OK;
	return rc;
}

static int
profile_update(json_object *profile, struct cx_update *update, struct cx_error *err)
{
	if (!json_object_is_type(profile, json_type_object))
		return cx_error_field(err, "profile", "must be an object");
	json_object_object_foreach(profile, key, val) {
		char field[96];
		json_object *clean = NULL;
		int rc;

		snprintf(field, sizeof(field), "profile.%.80s", key);
		if (strcmp(key, "phone") == 0)
			rc = phone_field(val, field, &clean, err);
		else if (strcmp(key, "location") == 0)
			rc = optional_text(val, field, 100, 0, &clean, err);
		else if (strcmp(key, "linkedin_url") == 0 || strcmp(key, "github_url") == 0)
			rc = url_field(val, field, &clean, err);
		else if (strcmp(key, "bio") == 0)
			rc = optional_text(val, field, 1000, 1, &clean, err);
		else
			return cx_error_field(err, field, "unknown field");
		if (rc != CX_OK)
			return rc;
		cx_update_set(update, field, clean);
	}
	return CX_OK;
}

int
cx_user_profile_update(json_object *body, struct cx_update *update, struct cx_error *err)
{
	static const char *const allowed[] = { "full_name", "avatar_url", "preferences", "profile",
		NULL };
	json_object *v;
	int rc;

	if (body == NULL || !json_object_is_type(body, json_type_object))
		return cx_error_field(err, "body", "must be a JSON object");
	if ((rc = cx_json_only_keys(body, allowed, err)) != CX_OK)
		return rc;
	if (json_object_object_length(body) == 0)
		return cx_error_field(err, "body", "nothing to update");
	if (json_object_object_get_ex(body, "full_name", &v)) {
		char *name = NULL;
		if (v == NULL || !json_object_is_type(v, json_type_string))
			return cx_error_field(err, "full_name", "must be a string");
		if ((rc = cx_user_clean_name(json_object_get_string(v), "full_name", &name, err)))
			return rc;
		cx_update_set(update, "full_name", json_object_new_string(name));
		free(name);
	}
	if (json_object_object_get_ex(body, "avatar_url", &v)) {
		json_object *clean = NULL;
		if ((rc = url_field(v, "avatar_url", &clean, err)) != CX_OK)
			return rc;
		cx_update_set(update, "avatar_url", clean);
	}
	if (json_object_object_get_ex(body, "preferences", &v) &&
	    (rc = preferences_update(v, update, err)) != CX_OK)
		return rc;
	if (json_object_object_get_ex(body, "profile", &v) &&
	    (rc = profile_update(v, update, err)) != CX_OK)
		return rc;
	return CX_OK;
}
