/* Integration: the auth API through nginx (register, login, me, refresh, logout,
 * change-password, forgot/reset-password), black box over HTTPS. */
#include "config.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cx_crypto.h"
#include "cx_time.h"
#include "it.h"

TestSuite(register, .init = it_setup);
TestSuite(login, .init = it_setup);
TestSuite(me, .init = it_setup);
TestSuite(refresh, .init = it_setup);
TestSuite(logout, .init = it_setup);
TestSuite(password, .init = it_setup);
TestSuite(reset, .init = it_setup);

/* ---- helpers ------------------------------------------------------------------- */

/* A register body; NULL members are left out. Caller frees. */
static char *
register_body(const char *email, const char *password, const char *full_name,
    const char *role)
{
	json_object *o = json_object_new_object();
	char *s;

	if (email != NULL)
		json_object_object_add(o, "email", json_object_new_string(email));
	if (password != NULL)
		json_object_object_add(o, "password", json_object_new_string(password));
	if (full_name != NULL)
		json_object_object_add(o, "full_name", json_object_new_string(full_name));
	if (role != NULL)
		json_object_object_add(o, "role", json_object_new_string(role));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static struct http_response *
post_register(const char *email, const char *password, const char *full_name,
    const char *role)
{
	char *body = register_body(email, password, full_name, role);
	struct http_response *r = it_post_json("/api/auth/register", NULL, body);

	free(body);
	return r;
}

static void
expect_null_or_missing(json_object *obj, const char *key, const char *what)
{
	json_object *v = NULL;

	if (json_object_object_get_ex(obj, key, &v))
		cr_expect_null(v, "%s.%s should be null, is %s", what, key,
		    json_object_to_json_string(v));
}

static const char *
jstr(json_object *obj, const char *path)
{
	json_object *v = http_json_at(obj, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The public user object of the contract, for this email and role. */
static void
assert_user(json_object *user, const char *email, const char *role)
{
	json_object *v;
	const char *s;

	cr_assert(json_object_is_type(user, json_type_object), "no user object");
	s = jstr(user, "id");
	cr_assert(s != NULL && cx_oid_valid(s), "id is not 24 hex: %s", s ? s : "(none)");
	cr_expect_str_eq(jstr(user, "email"), email);
	cr_expect_str_eq(jstr(user, "role"), role);
	cr_expect_not_null(jstr(user, "full_name"));
	v = http_json_at(user, "is_active");
	cr_expect(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v),
	    "is_active is not true");
	it_assert_timestamp(jstr(user, "created_at"), "created_at");
	it_assert_timestamp(jstr(user, "updated_at"), "updated_at");
	cr_expect(json_object_object_get_ex(user, "preferences", NULL), "no preferences");
	cr_expect(json_object_object_get_ex(user, "profile", NULL), "no profile");
	it_assert_no_secrets(user);
}

static json_object *
get_me(const char *access)
{
	struct http_response *r = it_get("/api/auth/me", access);
	json_object *user;

	it_assert_success(r, 200);
	user = json_object_get(http_json_path(r, "data"));
	http_response_free(r);
	return user;
}

static char *
get_me_text(const char *access)
{
	json_object *user = get_me(access);
	char *s = strdup(json_object_to_json_string_ext(user, JSON_C_TO_STRING_PLAIN));

	json_object_put(user);
	return s;
}

/* ---- register ------------------------------------------------------------------ */

Test(register, creates_a_candidate_with_tokens)
{
	char email[80];
	struct http_response *r;
	json_object *user, *v;
	const char *access;

	it_random_email(email);
	r = post_register(email, IT_PASSWORD, "Ada Lovelace", NULL);
	it_assert_success(r, 201);
	user = http_json_path(r, "data.user");
	assert_user(user, email, "candidate");
	cr_expect_str_eq(jstr(user, "full_name"), "Ada Lovelace");
	expect_null_or_missing(user, "last_login", "user");
	expect_null_or_missing(user, "avatar_url", "user");
	cr_expect_str_eq(jstr(user, "preferences.theme"), "light");
	v = http_json_at(user, "preferences.notifications");
	cr_expect(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v),
	    "preferences.notifications is not true");
	cr_expect_str_eq(jstr(user, "preferences.language"), "en");
	for (const char *const *k = (const char *const[]){ "phone", "location", "linkedin_url",
	    "github_url", "bio", NULL }; *k != NULL; k++)
		expect_null_or_missing(http_json_at(user, "profile"), *k, "profile");

	access = http_json_str(r, "data.access_token");
	cr_assert(access != NULL && strchr(access, '.') != NULL, "no access_token");
	cr_expect_str_eq(http_json_str(r, "data.token_type"), "bearer");
	v = http_json_path(r, "data.expires_in");
	cr_expect(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 1800,
	    "expires_in is not 1800");
	cr_expect_not_null(http_json_str(r, "data.refresh_token"));
	it_assert_no_secrets(r->json);
	cr_expect_eq(it_me_status(access), 200, "the access token of register must work");
	http_response_free(r);
}

Test(register, recruiter_role_is_allowed)
{
	char email[80];
	struct http_response *r;

	it_random_email(email);
	r = post_register(email, IT_PASSWORD, "Rita Recruiter", "recruiter");
	it_assert_success(r, 201);
	assert_user(http_json_path(r, "data.user"), email, "recruiter");
	http_response_free(r);
}

Test(register, admin_and_unknown_roles_are_refused)
{
	static const char *const roles[] = { "admin", "ADMIN", "superuser", "" };
	char email[80];
	struct http_response *r;

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		it_random_email(email);
		r = post_register(email, IT_PASSWORD, "Eve", roles[i]);
		it_assert_validation(r, "role");
		http_response_free(r);
		/* and no account was created */
		r = it_login(email, IT_PASSWORD);
		cr_expect_eq(r->status, 401, "role \"%s\" refused but the account exists",
		    roles[i]);
		http_response_free(r);
	}
}

Test(register, email_is_trimmed_and_lowercased)
{
	char email[80], upper[100];
	struct http_response *r;

	it_random_email(email);
	snprintf(upper, sizeof(upper), "  %s  ", email);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r = post_register(upper, IT_PASSWORD, "Up Per", NULL);
	it_assert_success(r, 201);
	cr_expect_str_eq(http_json_str(r, "data.user.email"), email);
	http_response_free(r);
	r = it_login(email, IT_PASSWORD);
	cr_expect_eq(r->status, 200, "login with the normalised address: %ld", r->status);
	http_response_free(r);
}

Test(register, duplicate_email_conflicts)
{
	struct it_user u;
	char upper[80];
	struct http_response *r;

	it_register(&u, NULL);
	r = post_register(u.email, IT_PASSWORD2, "Someone Else", NULL);
	it_assert_error(r, 409, "CONFLICT");
	http_response_free(r);

	snprintf(upper, sizeof(upper), "%s", u.email);
	upper[0] = 'T';
	for (char *p = strchr(upper, '@'); *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r = post_register(upper, IT_PASSWORD2, "Someone Else", NULL);
	it_assert_error(r, 409, "CONFLICT");
	http_response_free(r);

	/* the original account is untouched: its password still works, the other not */
	it_login_ok(u.email, IT_PASSWORD, NULL, NULL);
	r = it_login(u.email, IT_PASSWORD2);
	cr_expect_eq(r->status, 401);
	http_response_free(r);
	it_user_free(&u);
}

Test(register, invalid_emails_are_refused)
{
	static const char *const emails[] = {
		"not-an-email", "a@", "@example.com", "a b@example.com", "", "a@b@example.com",
		"a@example..com", "a@.example.com", "a\n@example.com", "<a>@example.com",
	};
	struct http_response *r;

	for (size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
		r = post_register(emails[i], IT_PASSWORD, "Bad Mail", NULL);
		it_assert_validation(r, "email");
		http_response_free(r);
	}
}

Test(register, unknown_field_is_refused)
{
	char email[80], *body;
	struct http_response *r;

	it_random_email(email);
	body = it_fmt("{\"email\":\"%s\",\"password\":\"%s\",\"full_name\":\"X\","
	    "\"is_admin\":true}", email, IT_PASSWORD);
	r = it_post_json("/api/auth/register", NULL, body);
	it_assert_validation(r, "is_admin");
	http_response_free(r);
	free(body);

	body = it_fmt("{\"email\":\"%s\",\"password\":\"%s\",\"full_name\":\"X\","
	    "\"is_active\":false}", email, IT_PASSWORD);
	r = it_post_json("/api/auth/register", NULL, body);
	it_assert_validation(r, "is_active");
	http_response_free(r);
	free(body);
}

Test(register, missing_fields_are_refused)
{
	char email[80];
	struct http_response *r;
	const char *reason;
	struct {
		const char *email, *password, *full_name, *field;
	} cases[] = {
		{ NULL, IT_PASSWORD, "No Mail", "email" },
		{ email, NULL, "No Password", "password" },
		{ email, IT_PASSWORD, NULL, "full_name" },
	};

	it_random_email(email);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = post_register(cases[i].email, cases[i].password, cases[i].full_name, NULL);
		it_assert_validation(r, cases[i].field);
		reason = http_json_str(r, "error.details.reason");
		cr_expect(it_contains_ci(reason, "required"), "%s missing: reason \"%s\"",
		    cases[i].field, reason);
		http_response_free(r);
	}
}

Test(register, wrong_types_are_refused)
{
	char email[80], quoted[100], *body;
	struct http_response *r;
	static const char pw[] = "\"" IT_PASSWORD "\"";
	struct {
		const char *email;      /* JSON value; NULL: a fresh address */
		const char *password;
		const char *full_name;
		const char *extra;      /* more members, with a leading comma */
		const char *field;
	} cases[] = {
		{ "{\"$ne\":null}", pw, "\"X\"", "", "email" },
		{ "[\"a@example.com\"]", pw, "\"X\"", "", "email" },
		{ "42", pw, "\"X\"", "", "email" },
		{ NULL, pw, "123", "", "full_name" },
		{ NULL, pw, "[\"X\"]", "", "full_name" },
		{ NULL, "true", "\"X\"", "", "password" },
		{ NULL, "{\"$gt\":\"\"}", "\"X\"", "", "password" },
		{ NULL, pw, "\"X\"", ",\"role\":7", "role" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		it_random_email(email);
		snprintf(quoted, sizeof(quoted), "\"%s\"", email);
		body = it_fmt("{\"email\":%s,\"password\":%s,\"full_name\":%s%s}",
		    cases[i].email ? cases[i].email : quoted, cases[i].password,
		    cases[i].full_name, cases[i].extra);
		r = it_post_json("/api/auth/register", NULL, body);
		it_assert_validation(r, cases[i].field);
		http_response_free(r);
		free(body);
	}
}

Test(register, weak_passwords_are_refused_naming_the_rule)
{
	char long73[80], utf8[120];
	struct {
		const char *password;
		const char *rule[3];   /* the reason mentions one of these */
	} cases[] = {
		{ "Sh0rt!a", { "8", "short", "length" } },
		{ "nouppercase1!", { "upper", NULL, NULL } },
		{ "NOLOWERCASE1!", { "lower", NULL, NULL } },
		{ "NoDigitsHere!", { "number", "digit", NULL } },
		{ "NoSymbols123", { "symbol", "special", NULL } },
		{ long73, { "72", "long", "bytes" } },
		{ utf8, { "72", "long", "bytes" } },
	};
	char email[80];
	struct http_response *r;
	const char *reason;
	int hit;

	snprintf(long73, sizeof(long73), "Aa1!%069d", 0);   /* 73 bytes */
	memcpy(utf8, "Aa1!", 4);                             /* 39 characters, 74 bytes */
	for (int i = 0; i < 35; i++)
		memcpy(utf8 + 4 + 2 * i, "\xc3\xa9", 2);
	utf8[74] = '\0';
	cr_assert_eq(strlen(long73), 73);
	cr_assert_eq(strlen(utf8), 74);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		it_random_email(email);
		r = post_register(email, cases[i].password, "Weak Pass", NULL);
		it_assert_validation(r, "password");
		reason = http_json_str(r, "error.details.reason");
		hit = 0;
		for (int j = 0; j < 3 && cases[i].rule[j] != NULL; j++)
			hit |= it_contains_ci(reason, cases[i].rule[j]);
		cr_expect(hit, "password \"%s\": reason \"%s\" does not name the rule (%s)",
		    cases[i].password, reason, cases[i].rule[0]);
		http_response_free(r);
	}
}

Test(register, a_72_byte_password_is_accepted_and_used_whole)
{
	char email[80], pw[80], other[80];
	struct http_response *r;

	snprintf(pw, sizeof(pw), "Aa1!%068d", 0);
	cr_assert_eq(strlen(pw), 72);
	it_random_email(email);
	r = post_register(email, pw, "Long Pass", NULL);
	it_assert_success(r, 201);
	http_response_free(r);
	it_login_ok(email, pw, NULL, NULL);
	/* the last byte counts */
	snprintf(other, sizeof(other), "%s", pw);
	other[71] = '1';
	r = it_login(email, other);
	cr_expect_eq(r->status, 401, "a password differing in byte 72 must not log in");
	http_response_free(r);
}

Test(register, full_name_is_trimmed_and_bounded)
{
	char email[80], n100[101], n101[102];
	struct http_response *r;
	static const char *const bad[] = { "", "   ", "\t\n" };

	memset(n100, 'a', 100);
	n100[100] = '\0';
	memset(n101, 'b', 101);
	n101[101] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		it_random_email(email);
		r = post_register(email, IT_PASSWORD, bad[i], NULL);
		it_assert_validation(r, "full_name");
		http_response_free(r);
	}
	it_random_email(email);
	r = post_register(email, IT_PASSWORD, n101, NULL);
	it_assert_validation(r, "full_name");
	http_response_free(r);

	it_random_email(email);
	r = post_register(email, IT_PASSWORD, n100, NULL);
	it_assert_success(r, 201);
	cr_expect_str_eq(http_json_str(r, "data.user.full_name"), n100);
	http_response_free(r);

	it_random_email(email);
	r = post_register(email, IT_PASSWORD, "  Grace Hopper \t", NULL);
	it_assert_success(r, 201);
	cr_expect_str_eq(http_json_str(r, "data.user.full_name"), "Grace Hopper");
	http_response_free(r);
}

Test(register, invalid_json_is_a_bad_request)
{
	static const char *const bodies[] = {
		"{bad", "{\"email\":\"a@example.com\",}", "[1,2", "{\"email\":\"x\"} trailing",
		"\"\\ud800\"x",
	};
	struct http_response *r;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		r = it_post_json("/api/auth/register", NULL, bodies[i]);
		it_assert_error(r, 400, "BAD_REQUEST");
		http_response_free(r);
	}
}

Test(register, non_json_content_type_is_refused)
{
	char email[80], *body;
	struct http_request req = { .method = "POST", .path = "/api/auth/register" };
	struct http_response *r;
	static const char *const types[] = { "text/plain", "application/xml",
	    "application/x-www-form-urlencoded" };

	it_random_email(email);
	body = register_body(email, IT_PASSWORD, "Type Test", NULL);
	req.body = body;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		req.content_type = types[i];
		r = http_perform(&req);
		it_assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE");
		http_response_free(r);
	}
	/* application/json with a charset is fine */
	req.content_type = "application/json; charset=utf-8";
	r = http_perform(&req);
	it_assert_success(r, 201);
	http_response_free(r);
	free(body);
}

Test(register, empty_body_is_refused)
{
	struct http_response *r;

	r = it_post_json("/api/auth/register", NULL, "");
	cr_expect(r->status == 400 || r->status == 422, "empty body: %ld", r->status);
	it_assert_api_response(r);
	http_response_free(r);
	r = it_post_json("/api/auth/register", NULL, "{}");
	cr_expect_eq(r->status, 422, "{}: %ld", r->status);
	it_assert_api_response(r);
	http_response_free(r);
	r = it_post_json("/api/auth/register", NULL, "[]");
	cr_expect(r->status == 400 || r->status == 422, "[]: %ld", r->status);
	it_assert_api_response(r);
	http_response_free(r);
}

/* ---- login --------------------------------------------------------------------- */

Test(login, form_login_returns_the_oauth2_body)
{
	struct it_user u;
	struct http_response *r;

	it_register(&u, NULL);
	r = it_login(u.email, u.password);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	it_assert_api_response(r);
	it_assert_token_body(r->json);
	cr_expect_eq(it_me_status(http_json_str(r, "access_token")), 200);
	cr_expect_str_neq(http_json_str(r, "refresh_token"), u.refresh,
	    "a login must start a new refresh token");
	http_response_free(r);
	it_user_free(&u);
}

Test(login, json_login_with_email_or_username)
{
	struct it_user u;
	struct http_response *r;
	char *body;

	it_register(&u, NULL);
	body = it_fmt("{\"email\":\"%s\",\"password\":\"%s\"}", u.email, u.password);
	r = it_post_json("/api/auth/login", NULL, body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	it_assert_token_body(r->json);
	http_response_free(r);
	free(body);

	body = it_fmt("{\"username\":\"%s\",\"password\":\"%s\"}", u.email, u.password);
	r = it_post_json("/api/auth/login", NULL, body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	it_assert_token_body(r->json);
	http_response_free(r);
	free(body);
	it_user_free(&u);
}

Test(login, wrong_password_and_unknown_email_look_the_same)
{
	struct it_user u;
	char unknown[80], *body;
	struct http_response *a, *b, *c;

	it_register(&u, NULL);
	it_random_email(unknown);
	a = it_login(u.email, "Wr0ng!Password");
	b = it_login(unknown, IT_PASSWORD);
	body = it_fmt("{\"email\":\"%s\",\"password\":\"Wr0ng!Password\"}", u.email);
	c = it_post_json("/api/auth/login", NULL, body);
	it_assert_error(a, 401, "UNAUTHORIZED");
	it_assert_error(b, 401, "UNAUTHORIZED");
	it_assert_error(c, 401, "UNAUTHORIZED");
	cr_expect_str_eq(http_json_str(a, "error.message"), "Incorrect email or password");
	cr_expect_str_eq(http_json_str(b, "error.message"), http_json_str(a, "error.message"));
	cr_expect_str_eq(http_json_str(c, "error.message"), http_json_str(a, "error.message"));
	http_response_free(a);
	http_response_free(b);
	http_response_free(c);
	free(body);
	it_user_free(&u);
}

Test(login, login_sets_last_login)
{
	struct it_user u;
	json_object *user;
	char *access;

	it_register(&u, NULL);
	user = get_me(u.access);
	expect_null_or_missing(user, "last_login", "user before login");
	json_object_put(user);

	it_login_ok(u.email, u.password, &access, NULL);
	user = get_me(access);
	it_assert_timestamp(jstr(user, "last_login"), "last_login after login");
	json_object_put(user);
	free(access);
	it_user_free(&u);
}

/* Deactivate an account the way an administrator will: by changing the stored document
 * (the admin API is another area). Done on the SQLite file of the running stack. */
static void
deactivate(const char *user_id)
{
	char path[1024];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *dir = getenv("CX_TEST_DATA_DIR");

	cr_assert_not_null(dir, "CX_TEST_DATA_DIR is not set");
	snprintf(path, sizeof(path), "%s/candidatex.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK, "cannot open %s", path);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE users SET doc = json_set(doc, '$.is_active', "
	    "json('false')) WHERE id = ?", -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_changes(db), 1, "user %s not found in %s", user_id, path);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(login, deactivated_user_is_refused)
{
	struct it_user u;
	struct http_response *r;
	char *body;

	it_register(&u, "candidate");
	deactivate(u.id);
	r = it_login(u.email, u.password);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	/* The session that existed before is over too. */
	cr_expect_eq(it_me_status(u.access), 401, "access token of a deactivated account");
	body = it_fmt("{\"refresh_token\":\"%s\"}", u.refresh);
	r = it_post_json("/api/auth/refresh", NULL, body);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	free(body);
	it_user_free(&u);
}

/* Audit entries of a user, read from the stack's database: "action|ip|user_agent" lines. */
static char *
audit_trail(const char *user_id)
{
	char path[1024], *out = calloc(1, 8192);
	size_t used = 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	cr_assert_not_null(out);
	snprintf(path, sizeof(path), "%s/candidatex.db", getenv("CX_TEST_DATA_DIR"));
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT json_extract(doc,'$.action'), "
	    "json_extract(doc,'$.ip_address'), json_extract(doc,'$.user_agent') FROM audit_logs "
	    "WHERE json_extract(doc,'$.user_id') = ? ORDER BY json_extract(doc,'$.timestamp')",
	    -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && used + 300 < 8192)
		used += (size_t)snprintf(out + used, 8192 - used, "%s|%s|%s\n",
		    (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

Test(audit, security_actions_are_logged_with_ip_and_user_agent)
{
	struct it_user u;
	struct http_response *r;
	char *trail, *body;

	it_register(&u, NULL);
	r = it_login(u.email, "Wr0ng!password");
	cr_assert_eq(r->status, 401);
	http_response_free(r);
	it_login_ok(u.email, u.password, NULL, NULL);
	r = it_post_json("/api/auth/logout", u.access, NULL);
	cr_assert_eq(r->status, 200);
	http_response_free(r);
	free(u.access);
	it_login_ok(u.email, u.password, &u.access, NULL);
	body = it_fmt("{\"current_password\":\"%s\",\"new_password\":\"%s\"}", u.password,
	    IT_PASSWORD2);
	r = it_post_json("/api/auth/change-password", u.access, body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	http_response_free(r);
	free(body);

	/* A password reset is audited too. */
	r = it_forgot(u.email);
	cr_assert_eq(r->status, 200, "%s", r->body);
	http_response_free(r);
	{
		char *token = it_mail_wait_token(u.email, 10);
		cr_assert_not_null(token, "no reset mail");
		body = it_fmt("{\"token\":\"%s\",\"new_password\":\"%s\"}", token, IT_PASSWORD);
		r = it_post_json("/api/auth/reset-password", NULL, body);
		cr_assert_eq(r->status, 200, "%s", r->body);
		http_response_free(r);
		free(body);
		free(token);
	}

	trail = audit_trail(u.id);
	cr_expect(strstr(trail, "password_reset_requested|127.0.0.1|") != NULL, "%s", trail);
	cr_expect(strstr(trail, "password_reset|127.0.0.1|") != NULL, "%s", trail);
	cr_expect(strstr(trail, "register|127.0.0.1|") != NULL, "%s", trail);
	cr_expect(strstr(trail, "login_failed|127.0.0.1|") != NULL, "%s", trail);
	cr_expect(strstr(trail, "\nlogin|127.0.0.1|") != NULL, "%s", trail);
	cr_expect(strstr(trail, "logout|127.0.0.1|") != NULL, "%s", trail);
	cr_expect(strstr(trail, "password_change|127.0.0.1|") != NULL, "%s", trail);
	/* The user agent of the client is recorded (libcurl names itself). */
	cr_expect(strstr(trail, "|cx-integration/1.0") != NULL, "no user agent in %s", trail);
	free(trail);
	it_user_free(&u);
}

/* ---- me ------------------------------------------------------------------------ */

Test(me, returns_the_current_user)
{
	struct it_user u;
	json_object *user;

	it_register(&u, "recruiter");
	user = get_me(u.access);
	assert_user(user, u.email, "recruiter");
	cr_expect_str_eq(jstr(user, "id"), u.id);
	cr_expect_str_eq(jstr(user, "full_name"), u.full_name);
	json_object_put(user);
	it_user_free(&u);
}

Test(me, requires_a_bearer_token)
{
	static const char *const auth[] = {
		NULL, "Authorization: Bearer ", "Authorization: Bearer", "Authorization: Basic "
		"dXNlcjpwYXNz", "Authorization: bearer garbage", "Authorization: Token abc",
	};
	struct http_request req = { .method = "GET", .path = "/api/auth/me" };
	const char *hdrs[2] = { NULL, NULL };
	struct http_response *r;

	for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
		hdrs[0] = auth[i];
		req.headers = hdrs;
		r = http_perform(&req);
		it_assert_error(r, 401, "UNAUTHORIZED");
		http_response_free(r);
	}
}

Test(me, update_changes_only_what_is_sent)
{
	struct it_user u;
	struct http_response *r;
	json_object *user, *v;

	it_register(&u, NULL);
	r = it_send_json("PUT", "/api/auth/me", u.access,
	    "{\"full_name\":\"  Ada King \",\"avatar_url\":\"https://example.com/a.png\","
	    "\"preferences\":{\"theme\":\"dark\",\"notifications\":false,\"language\":\"fr\"},"
	    "\"profile\":{\"phone\":\"+44 20 7946 0000\",\"location\":\"London\","
	    "\"linkedin_url\":\"https://www.linkedin.com/in/ada\","
	    "\"github_url\":\"https://github.com/ada\",\"bio\":\"Analyst\"}}");
	it_assert_success(r, 200);
	user = http_json_path(r, "data");
	if (json_object_object_get_ex(user, "user", NULL))
		user = http_json_at(user, "user");
	assert_user(user, u.email, "candidate");
	cr_expect_str_eq(jstr(user, "full_name"), "Ada King");
	cr_expect_str_eq(jstr(user, "avatar_url"), "https://example.com/a.png");
	cr_expect_str_eq(jstr(user, "preferences.theme"), "dark");
	cr_expect_str_eq(jstr(user, "preferences.language"), "fr");
	cr_expect_str_eq(jstr(user, "profile.location"), "London");
	cr_expect_str_eq(jstr(user, "profile.github_url"), "https://github.com/ada");
	http_response_free(r);

	/* partial: only the theme and the bio */
	r = it_send_json("PUT", "/api/auth/me", u.access,
	    "{\"preferences\":{\"theme\":\"system\"},\"profile\":{\"bio\":\"Mathematician\"}}");
	it_assert_success(r, 200);
	http_response_free(r);

	user = get_me(u.access);
	cr_expect_str_eq(jstr(user, "full_name"), "Ada King");
	cr_expect_str_eq(jstr(user, "avatar_url"), "https://example.com/a.png");
	cr_expect_str_eq(jstr(user, "preferences.theme"), "system");
	v = http_json_at(user, "preferences.notifications");
	cr_expect(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v),
	    "preferences.notifications lost by a partial update");
	cr_expect_str_eq(jstr(user, "preferences.language"), "fr");
	cr_expect_str_eq(jstr(user, "profile.bio"), "Mathematician");
	cr_expect_str_eq(jstr(user, "profile.phone"), "+44 20 7946 0000");
	cr_expect_str_eq(jstr(user, "profile.linkedin_url"), "https://www.linkedin.com/in/ada");
	cr_expect_str_eq(jstr(user, "email"), u.email);
	json_object_put(user);
	it_user_free(&u);
}

Test(me, invalid_updates_are_refused_and_change_nothing)
{
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
		{ "{\"preferences\":{\"theme\":\"purple\"}}", "preferences.theme" },
		{ "{\"preferences\":{\"notifications\":\"yes\"}}", "preferences.notifications" },
		{ "{\"preferences\":{\"colour\":\"red\"}}", "preferences.colour" },
		{ "{\"profile\":{\"linkedin_url\":\"javascript:alert(1)\"}}",
		    "profile.linkedin_url" },
		{ "{\"profile\":{\"github_url\":\"ftp://github.com/x\"}}", "profile.github_url" },
		{ "{\"profile\":{\"bio\":42}}", "profile.bio" },
		{ "{\"full_name\":\"\"}", "full_name" },
		{ "{\"full_name\":\"   \"}", "full_name" },
		{ "{\"full_name\":123}", "full_name" },
		{ "{\"email\":\"new@example.com\"}", "email" },
		{ "{\"role\":\"admin\"}", "role" },
		{ "{\"is_active\":false}", "is_active" },
		{ "{\"hashed_password\":\"$2b$12$abcdefghijklmnopqrstuv\"}", "hashed_password" },
		{ "{\"preferences\":\"dark\"}", "preferences" },
		/* validate everything first: the good full_name must not be stored either */
		{ "{\"full_name\":\"Changed Name\",\"preferences\":{\"theme\":\"purple\"}}",
		    "preferences.theme" },
		{ "{\"full_name\":\"Changed Name\",\"role\":\"admin\"}", "role" },
	};
	struct it_user u;
	struct http_response *r;
	char *before, *after;

	it_register(&u, NULL);
	before = get_me_text(u.access);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = it_send_json("PUT", "/api/auth/me", u.access, cases[i].body);
		it_assert_validation(r, cases[i].field);
		http_response_free(r);
		after = get_me_text(u.access);
		cr_expect_str_eq(after, before, "%s changed the user", cases[i].body);
		free(after);
	}
	free(before);
	it_user_free(&u);
}

Test(me, update_requires_a_token)
{
	struct http_response *r;

	r = it_send_json("PUT", "/api/auth/me", NULL, "{\"full_name\":\"Nobody\"}");
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
}

/* ---- refresh ------------------------------------------------------------------- */

static void
assert_rotated(struct http_response *r, char **refresh, const char *how)
{
	const char *next;

	cr_assert_eq(r->status, 200, "refresh via %s: %ld %s", how, r->status, r->body);
	it_assert_api_response(r);
	it_assert_token_body(r->json);
	next = http_json_str(r, "refresh_token");
	cr_expect_str_neq(next, *refresh, "refresh via %s returned the same token", how);
	cr_expect_eq(it_me_status(http_json_str(r, "access_token")), 200,
	    "new access token via %s", how);
	free(*refresh);
	*refresh = strdup(next);
}

Test(refresh, rotates_through_every_transport)
{
	struct it_user u;
	struct http_response *r;
	char *body, *esc;

	it_register(&u, NULL);
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	assert_rotated(r, &u.refresh, "Authorization header");
	http_response_free(r);

	body = it_fmt("{\"refresh_token\":\"%s\"}", u.refresh);
	r = it_post_json("/api/auth/refresh", NULL, body);
	assert_rotated(r, &u.refresh, "JSON body");
	http_response_free(r);
	free(body);

	esc = curl_easy_escape(NULL, u.refresh, 0);
	body = it_fmt("grant_type=refresh_token&refresh_token=%s", esc);
	r = it_post_form("/api/auth/refresh", NULL, body);
	assert_rotated(r, &u.refresh, "OAuth2 form");
	http_response_free(r);
	free(body);
	curl_free(esc);
	it_user_free(&u);
}

Test(refresh, wrong_kinds_of_token_are_refused)
{
	struct it_user u;
	struct http_response *r;

	it_register(&u, NULL);
	r = it_post_json("/api/auth/refresh", u.access, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);

	cr_expect_eq(it_me_status(u.refresh), 401, "a refresh token is not an access token");

	r = it_post_json("/api/auth/refresh", "garbage-token", NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	r = it_post_json("/api/auth/refresh", NULL, "{\"refresh_token\":\"AAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAA\"}");
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);

	/* the real one still works after all that */
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	cr_expect_eq(r->status, 200, "%ld %s", r->status, r->body);
	http_response_free(r);
	it_user_free(&u);
}

/* ---- logout -------------------------------------------------------------------- */

Test(logout, revokes_the_access_and_refresh_token_of_the_session)
{
	struct it_user u;
	struct http_response *r;
	char *other_access, *other_refresh;

	it_register(&u, NULL);
	it_login_ok(u.email, u.password, &other_access, &other_refresh);
	r = it_post_json("/api/auth/logout", u.access, NULL);
	it_assert_success(r, 200);
	http_response_free(r);

	cr_expect_eq(it_me_status(u.access), 401, "access token still valid after logout");
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);

	/* another session of the same user is not affected */
	cr_expect_eq(it_me_status(other_access), 200, "logout ended another session");
	r = it_post_json("/api/auth/refresh", other_refresh, NULL);
	cr_expect_eq(r->status, 200, "other session's refresh: %ld", r->status);
	http_response_free(r);
	free(other_access);
	free(other_refresh);
	it_user_free(&u);
}

Test(logout, with_the_refresh_token_in_the_body)
{
	struct it_user u;
	struct http_response *r;
	char *body;

	it_register(&u, NULL);
	body = it_fmt("{\"refresh_token\":\"%s\"}", u.refresh);
	r = it_post_json("/api/auth/logout", u.access, body);
	it_assert_success(r, 200);
	http_response_free(r);
	free(body);
	cr_expect_eq(it_me_status(u.access), 401);
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	it_user_free(&u);
}

Test(logout, requires_an_access_token)
{
	struct it_user u;
	struct http_response *r;

	r = it_post_json("/api/auth/logout", NULL, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);

	it_register(&u, NULL);
	r = it_post_json("/api/auth/logout", u.refresh, NULL);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	cr_expect_eq(it_me_status(u.access), 200, "a refused logout must not sign out");
	it_user_free(&u);
}

/* ---- change-password ----------------------------------------------------------- */

static struct http_response *
change_password(const char *access, const char *current, const char *next)
{
	char *body = it_fmt("{\"current_password\":\"%s\",\"new_password\":\"%s\"}", current,
	    next);
	struct http_response *r = it_post_json("/api/auth/change-password", access, body);

	free(body);
	return r;
}

Test(password, change_signs_out_everywhere_and_returns_new_tokens)
{
	struct it_user u;
	struct http_response *r;
	char *access2, *refresh2, *new_access;
	json_object *v;

	it_register(&u, NULL);
	it_login_ok(u.email, u.password, &access2, &refresh2);
	sleep(1);   /* revocation is by "issued before this second" */
	r = change_password(u.access, u.password, IT_PASSWORD2);
	it_assert_success(r, 200);
	new_access = strdup(http_json_str(r, "data.access_token"));
	cr_expect_not_null(http_json_str(r, "data.refresh_token"));
	cr_expect_str_eq(http_json_str(r, "data.token_type"), "bearer");
	v = http_json_path(r, "data.expires_in");
	cr_expect(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 1800);
	http_response_free(r);

	cr_expect_eq(it_me_status(new_access), 200, "the new access token must work");
	cr_expect_eq(it_me_status(u.access), 401, "old access token still valid");
	cr_expect_eq(it_me_status(access2), 401, "other session's access token still valid");
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	cr_expect_eq(r->status, 401, "old refresh token: %ld", r->status);
	http_response_free(r);
	r = it_post_json("/api/auth/refresh", refresh2, NULL);
	cr_expect_eq(r->status, 401, "other session's refresh token: %ld", r->status);
	http_response_free(r);

	r = it_login(u.email, u.password);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	it_login_ok(u.email, IT_PASSWORD2, NULL, NULL);
	free(new_access);
	free(access2);
	free(refresh2);
	it_user_free(&u);
}

Test(password, wrong_current_password_is_refused)
{
	struct it_user u;
	struct http_response *r;

	it_register(&u, NULL);
	r = change_password(u.access, "Wr0ng!Password", IT_PASSWORD2);
	it_assert_validation(r, "current_password");
	http_response_free(r);
	cr_expect_eq(it_me_status(u.access), 200, "a refused change must not sign out");
	it_login_ok(u.email, u.password, NULL, NULL);
	it_user_free(&u);
}

Test(password, weak_new_password_is_refused)
{
	struct it_user u;
	struct http_response *r;

	it_register(&u, NULL);
	r = change_password(u.access, u.password, "weakpass");
	it_assert_validation(r, "new_password");
	http_response_free(r);
	it_login_ok(u.email, u.password, NULL, NULL);
	it_user_free(&u);
}

Test(password, change_requires_a_token)
{
	struct http_response *r = change_password(NULL, IT_PASSWORD, IT_PASSWORD2);

	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
}

/* ---- forgot / reset ------------------------------------------------------------ */

static struct http_response *
reset(const char *token, const char *password)
{
	json_object *o = json_object_new_object();
	struct http_response *r;

	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "new_password", json_object_new_string(password));
	r = it_post_json("/api/auth/reset-password", NULL, json_object_to_json_string(o));
	json_object_put(o);
	return r;
}

Test(reset, forgot_answers_the_same_for_unknown_addresses)
{
	struct it_user u;
	char unknown[80], *token;
	struct http_response *a, *b;

	it_register(&u, NULL);
	it_random_email(unknown);
	a = it_forgot(u.email);
	b = it_forgot(unknown);
	it_assert_success(a, 200);
	it_assert_success(b, 200);
	cr_expect_str_eq(http_json_str(a, "message"), http_json_str(b, "message"));
	cr_expect_str_eq(json_object_to_json_string(http_json_path(a, "data")),
	    json_object_to_json_string(http_json_path(b, "data")));
	token = it_mail_wait_token(u.email, 10);
	cr_expect_not_null(token, "no reset mail with token= for %s in the outbox", u.email);
	cr_expect_eq(it_mail_count(unknown, NULL), 0,
	    "a mail was sent to an unknown address");
	free(token);
	http_response_free(a);
	http_response_free(b);
	it_user_free(&u);
}

Test(reset, token_resets_once_and_signs_out)
{
	struct it_user u;
	struct http_response *r;
	char *token, key[80], hash[65];
	redisContext *rc;
	long long ttl;

	it_register(&u, NULL);
	r = it_forgot(u.email);
	it_assert_success(r, 200);
	http_response_free(r);
	token = it_mail_wait_token(u.email, 10);
	cr_assert_not_null(token, "no reset mail for %s", u.email);

	/* one hour of validity, stored hashed */
	cx_sha256_hex(token, strlen(token), hash);
	snprintf(key, sizeof(key), "reset:%s", hash);
	rc = it_redis();
	ttl = it_redis_ttl(rc, key);
	redisFree(rc);
	cr_expect(ttl >= 3500 && ttl <= 3600, "TTL of %s is %lld, want about 3600", key, ttl);

	/* a weak password is refused first and does not use up the token */
	r = reset(token, "weak");
	it_assert_validation(r, "new_password");
	http_response_free(r);

	sleep(1);   /* revocation is by "issued before this second" */
	r = reset(token, IT_PASSWORD2);
	it_assert_success(r, 200);
	http_response_free(r);

	cr_expect_eq(it_me_status(u.access), 401, "a reset must sign out existing sessions");
	r = it_post_json("/api/auth/refresh", u.refresh, NULL);
	cr_expect_eq(r->status, 401, "refresh token after reset: %ld", r->status);
	http_response_free(r);
	r = it_login(u.email, u.password);
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	it_login_ok(u.email, IT_PASSWORD2, NULL, NULL);

	r = reset(token, "An0ther!Passw0rd");
	it_assert_error(r, 400, "BAD_REQUEST");
	http_response_free(r);
	it_login_ok(u.email, IT_PASSWORD2, NULL, NULL);
	free(token);
	it_user_free(&u);
}

Test(reset, made_up_tokens_are_refused)
{
	char token[44];
	struct http_response *r;

	cr_assert_eq(cx_random_token(token), 0);
	r = reset(token, IT_PASSWORD2);
	it_assert_error(r, 400, "BAD_REQUEST");
	http_response_free(r);
	r = reset("x", IT_PASSWORD2);
	it_assert_error(r, 400, "BAD_REQUEST");
	http_response_free(r);
}

Test(reset, missing_fields_are_validation_errors)
{
	struct http_response *r;

	r = it_post_json("/api/auth/reset-password", NULL, "{\"new_password\":\"" IT_PASSWORD
	    "\"}");
	it_assert_validation(r, "token");
	http_response_free(r);
	r = it_post_json("/api/auth/forgot-password", NULL, "{}");
	it_assert_validation(r, "email");
	http_response_free(r);
	r = it_post_json("/api/auth/forgot-password", NULL, "{\"email\":{\"$ne\":null}}");
	it_assert_validation(r, "email");
	http_response_free(r);
}
