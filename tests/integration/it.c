/* it: shared helpers of the integration tests. */
#include "config.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cx_crypto.h"
#include "cx_time.h"
#include "it.h"

void
it_random_hex(char *out, size_t n)
{
	unsigned char raw[64];
	char hex[129];

	cr_assert_leq(n, sizeof(raw) * 2);
	cr_assert_eq(cx_random_bytes(raw, (n + 1) / 2), 0, "no random bytes");
	cx_hex_encode(raw, (n + 1) / 2, hex);
	memcpy(out, hex, n);
	out[n] = '\0';
}

void
it_random_email(char out[80])
{
	char hex[17];

	it_random_hex(hex, 16);
	snprintf(out, 80, "t%s@example.com", hex);
}

char *
it_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0, "out of memory");
	return s;
}

void
it_setup(void)
{
	redisContext *rc = it_redis();

	it_redis_delete(rc, "ratelimit:*", NULL);
	redisFree(rc);
}

/* ---- requests ------------------------------------------------------------------ */

struct http_response *
it_get(const char *path, const char *bearer)
{
	struct http_request req = { .method = "GET", .path = path, .bearer = bearer };

	return http_perform(&req);
}

struct http_response *
it_send_json(const char *method, const char *path, const char *bearer, const char *json)
{
	struct http_request req = {
		.method = method, .path = path, .bearer = bearer,
		.body = json, .content_type = "application/json",
	};

	return http_perform(&req);
}

struct http_response *
it_post_json(const char *path, const char *bearer, const char *json)
{
	return it_send_json("POST", path, bearer, json);
}

struct http_response *
it_post_form(const char *path, const char *bearer, const char *form)
{
	struct http_request req = {
		.method = "POST", .path = path, .bearer = bearer,
		.body = form, .content_type = "application/x-www-form-urlencoded",
	};

	return http_perform(&req);
}

struct http_response *
it_login(const char *email, const char *password)
{
	struct http_response *r;
	char *u, *p, *form;

	u = curl_easy_escape(NULL, email, 0);
	p = curl_easy_escape(NULL, password, 0);
	cr_assert(u != NULL && p != NULL);
	form = it_fmt("username=%s&password=%s", u, p);
	r = it_post_form("/api/auth/login", NULL, form);
	free(form);
	curl_free(u);
	curl_free(p);
	return r;
}

struct http_response *
it_forgot(const char *email)
{
	char *body = it_fmt("{\"email\":\"%s\"}", email);
	struct http_response *r = it_post_json("/api/auth/forgot-password", NULL, body);

	free(body);
	return r;
}

void
it_login_ok(const char *email, const char *password, char **access, char **refresh)
{
	struct http_response *r = it_login(email, password);

	cr_assert_eq(r->status, 200, "login of %s: %ld %s", email, r->status,
	    r->body ? r->body : "");
	it_assert_token_body(r->json);
	if (access != NULL)
		*access = strdup(http_json_str(r, "access_token"));
	if (refresh != NULL)
		*refresh = strdup(http_json_str(r, "refresh_token"));
	http_response_free(r);
}

long
it_me_status(const char *access)
{
	struct http_response *r = it_get("/api/auth/me", access);
	long status = r->status;

	it_assert_api_response(r);
	if (status == 401)
		it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	return status;
}

void
it_register(struct it_user *u, const char *role)
{
	struct http_response *r;
	json_object *body = json_object_new_object();
	const char *s;

	memset(u, 0, sizeof(*u));
	it_random_email(u->email);
	snprintf(u->password, sizeof(u->password), "%s", IT_PASSWORD);
	snprintf(u->full_name, sizeof(u->full_name), "Test User %.8s", u->email + 1);
	json_object_object_add(body, "email", json_object_new_string(u->email));
	json_object_object_add(body, "password", json_object_new_string(u->password));
	json_object_object_add(body, "full_name", json_object_new_string(u->full_name));
	if (role != NULL)
		json_object_object_add(body, "role", json_object_new_string(role));
	r = it_post_json("/api/auth/register", NULL, json_object_to_json_string(body));
	json_object_put(body);
	cr_assert_eq(r->status, 201, "register %s: %ld %s", u->email, r->status,
	    r->body ? r->body : r->curl_error);
	s = http_json_str(r, "data.user.id");
	cr_assert_not_null(s, "register: no data.user.id in %s", r->body);
	snprintf(u->id, sizeof(u->id), "%s", s);
	s = http_json_str(r, "data.access_token");
	cr_assert_not_null(s, "register: no data.access_token");
	u->access = strdup(s);
	s = http_json_str(r, "data.refresh_token");
	cr_assert_not_null(s, "register: no data.refresh_token");
	u->refresh = strdup(s);
	http_response_free(r);
}

void
it_user_free(struct it_user *u)
{
	free(u->access);
	free(u->refresh);
	u->access = u->refresh = NULL;
}

/* ---- assertions ---------------------------------------------------------------- */

int
it_contains_ci(const char *haystack, const char *needle)
{
	return haystack != NULL && strcasestr(haystack, needle) != NULL;
}

void
it_assert_timestamp(const char *text, const char *what)
{
	int64_t ms;

	cr_assert_not_null(text, "%s: no timestamp", what);
	cr_assert_eq(cx_time_parse_ms(text, &ms), 0, "%s: not RFC 3339: %s", what, text);
}

void
it_assert_api_response(const struct http_response *r)
{
	const char *ct;

	cr_assert_eq(r->curl_code, CURLE_OK, "transport error: %s", r->curl_error);
	ct = http_response_header(r, "Content-Type");
	cr_assert(ct != NULL && strncasecmp(ct, "application/json", 16) == 0,
	    "status %ld: Content-Type is %s, want application/json; body %.300s", r->status,
	    ct ? ct : "(none)", r->body ? r->body : "");
	cr_assert_not_null(r->json, "status %ld: body is not JSON: %.300s", r->status,
	    r->body ? r->body : "");
	cr_assert_not_null(http_response_header(r, "X-Request-Id"),
	    "status %ld: no X-Request-Id header", r->status);
}

void
it_assert_success(const struct http_response *r, long status)
{
	json_object *v;

	cr_assert_eq(r->status, status, "want %ld, got %ld: %.500s", status, r->status,
	    r->body ? r->body : r->curl_error);
	it_assert_api_response(r);
	v = http_json_path(r, "success");
	cr_assert(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v),
	    "success is not true: %.300s", r->body);
	cr_assert(json_object_object_get_ex(r->json, "data", NULL), "no data: %.300s", r->body);
	cr_assert_not_null(http_json_str(r, "message"), "no message: %.300s", r->body);
	it_assert_timestamp(http_json_str(r, "timestamp"), "envelope");
	cr_assert_null(http_json_path(r, "error"), "success envelope with error: %.300s", r->body);
}

void
it_assert_error(const struct http_response *r, long status, const char *code)
{
	json_object *v;
	const char *got;

	cr_assert_eq(r->status, status, "want %ld %s, got %ld: %.500s", status, code, r->status,
	    r->body ? r->body : r->curl_error);
	it_assert_api_response(r);
	v = http_json_path(r, "success");
	cr_assert(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v),
	    "success is not false: %.300s", r->body);
	got = http_json_str(r, "error.code");
	cr_assert(got != NULL && strcmp(got, code) == 0, "error.code %s, want %s: %.300s",
	    got ? got : "(none)", code, r->body);
	got = http_json_str(r, "error.message");
	cr_assert(got != NULL && *got != '\0', "no error.message: %.300s", r->body);
	it_assert_timestamp(http_json_str(r, "timestamp"), "error envelope");
	if (status == 429) {
		const char *ra = http_response_header(r, "Retry-After");
		char *end;
		long secs;

		cr_assert_not_null(ra, "429 without Retry-After");
		secs = strtol(ra, &end, 10);
		cr_assert(*ra != '\0' && *end == '\0' && secs > 0,
		    "Retry-After is not a positive number of seconds: %s", ra);
	}
}

void
it_assert_validation(const struct http_response *r, const char *field)
{
	const char *got;

	it_assert_error(r, 422, "VALIDATION_ERROR");
	got = http_json_str(r, "error.details.field");
	cr_assert(got != NULL && strcmp(got, field) == 0, "details.field %s, want %s: %.300s",
	    got ? got : "(none)", field, r->body);
	got = http_json_str(r, "error.details.reason");
	cr_assert(got != NULL && *got != '\0', "no details.reason: %.300s", r->body);
}

void
it_assert_token_body(json_object *obj)
{
	json_object *v;
	const char *s;

	cr_assert_not_null(obj, "token body is not JSON");
	cr_assert(!json_object_object_get_ex(obj, "success", NULL),
	    "token body must be the plain OAuth2 body, not an envelope: %s",
	    json_object_to_json_string(obj));
	s = json_object_get_string(http_json_at(obj, "access_token"));
	cr_assert(s != NULL && strchr(s, '.') != NULL, "no JWT access_token");
	s = json_object_get_string(http_json_at(obj, "token_type"));
	cr_assert(s != NULL && strcasecmp(s, "bearer") == 0, "token_type %s", s ? s : "(none)");
	v = http_json_at(obj, "expires_in");
	cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 1800,
	    "expires_in is not 1800: %s", json_object_to_json_string(obj));
	s = json_object_get_string(http_json_at(obj, "refresh_token"));
	cr_assert(s != NULL && strlen(s) >= 32, "no refresh_token");
}

void
it_assert_no_secrets(json_object *obj)
{
	if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val) {
			cr_assert(!it_contains_ci(key, "password") && !it_contains_ci(key, "hash"),
			    "secret field \"%s\" exposed", key);
			it_assert_no_secrets(val);
		}
	} else if (json_object_is_type(obj, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(obj); i++)
			it_assert_no_secrets(json_object_array_get_idx(obj, i));
	} else if (json_object_is_type(obj, json_type_string)) {
		const char *s = json_object_get_string(obj);

		cr_assert(strncmp(s, "$2b$", 4) != 0 && strncmp(s, "$2a$", 4) != 0 &&
		    strncmp(s, "$2y$", 4) != 0, "a bcrypt hash is exposed");
	}
}

json_object *
it_jwt_payload(const char *token)
{
	const char *dot1, *dot2;
	uint8_t *raw;
	size_t len;
	char *text;
	json_object *obj;

	dot1 = token ? strchr(token, '.') : NULL;
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL)
		return NULL;
	raw = cx_base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &len);
	if (raw == NULL)
		return NULL;
	text = strndup((const char *)raw, len);   /* decoded bytes are not NUL-terminated */
	free(raw);
	if (text == NULL)
		return NULL;
	obj = json_tokener_parse(text);
	free(text);
	return obj;
}

/* ---- Redis --------------------------------------------------------------------- */

redisContext *
it_redis(void)
{
	const char *url = getenv("CX_TEST_REDIS_URL");
	redisContext *rc = NULL;
	char path[512], host[256];
	int port = 6379, db = 0;
	const char *q, *p;
	redisReply *rep;

	cr_assert_not_null(url, "CX_TEST_REDIS_URL is not set");
	if (strncmp(url, "unix:", 5) == 0) {
		p = url + 5;
		q = strchr(p, '?');
		snprintf(path, sizeof(path), "%.*s", (int)(q ? (size_t)(q - p) : strlen(p)), p);
		if (q != NULL && strncmp(q, "?db=", 4) == 0)
			db = (int)strtol(q + 4, NULL, 10);
		rc = redisConnectUnix(path);
	} else if (strncmp(url, "redis://", 8) == 0) {
		p = url + 8;
		if (strchr(p, '@') != NULL)
			p = strchr(p, '@') + 1;
		q = p + strcspn(p, ":/");
		snprintf(host, sizeof(host), "%.*s", (int)(q - p), p);
		if (*q == ':')
			port = (int)strtol(q + 1, NULL, 10);
		q = strchr(p, '/');
		if (q != NULL)
			db = (int)strtol(q + 1, NULL, 10);
		rc = redisConnect(host[0] ? host : "127.0.0.1", port);
	} else {
		cr_assert_fail("unsupported CX_TEST_REDIS_URL %s", url);
	}
	cr_assert(rc != NULL && !rc->err, "cannot connect to Redis at %s: %s", url,
	    rc ? rc->errstr : "out of memory");
	if (strncmp(url, "redis://:", 9) == 0 && strchr(url, '@') != NULL) {
		const char *pw = url + 9;
		int pwlen = (int)(strchr(url, '@') - pw);

		rep = redisCommand(rc, "AUTH %b", pw, (size_t)pwlen);
		cr_assert(rep != NULL && rep->type != REDIS_REPLY_ERROR, "Redis AUTH failed");
		freeReplyObject(rep);
	}
	if (db != 0) {
		rep = redisCommand(rc, "SELECT %d", db);
		cr_assert(rep != NULL && rep->type != REDIS_REPLY_ERROR, "Redis SELECT failed");
		freeReplyObject(rep);
	}
	return rc;
}

/* Walk keys matching pattern with SCAN; delete (del=1) or count those containing substr. */
static long
scan_keys(redisContext *rc, const char *pattern, const char *substr, int del)
{
	char cursor[32] = "0";
	long n = 0;
	redisReply *rep, *keys, *d;

	do {
		rep = redisCommand(rc, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		cr_assert(rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2,
		    "Redis SCAN failed");
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		keys = rep->element[1];
		for (size_t i = 0; i < keys->elements; i++) {
			if (substr != NULL && strstr(keys->element[i]->str, substr) == NULL)
				continue;
			n++;
			if (!del)
				continue;
			d = redisCommand(rc, "DEL %b", keys->element[i]->str,
			    (size_t)keys->element[i]->len);
			cr_assert(d != NULL && d->type == REDIS_REPLY_INTEGER, "Redis DEL failed");
			freeReplyObject(d);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0);
	return n;
}

long
it_redis_delete(redisContext *rc, const char *pattern, const char *substr)
{
	return scan_keys(rc, pattern, substr, 1);
}

long
it_redis_count(redisContext *rc, const char *pattern)
{
	return scan_keys(rc, pattern, NULL, 0);
}

long long
it_redis_ttl(redisContext *rc, const char *key)
{
	redisReply *rep = redisCommand(rc, "TTL %s", key);
	long long ttl;

	cr_assert(rep != NULL && rep->type == REDIS_REPLY_INTEGER, "Redis TTL failed");
	ttl = rep->integer;
	freeReplyObject(rep);
	return ttl;
}

/* ---- outbox -------------------------------------------------------------------- */

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)len + 1);
	if (buf == NULL)
		goto out;
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[len] = '\0';
out:
	fclose(f);
	return buf;
}

/* Is msg addressed to email (a "To:" header line in the header block naming it)? */
static int
mail_is_to(const char *msg, const char *email)
{
	const char *line = msg, *eol;
	size_t len;
	char *copy;
	int hit;

	while (*line != '\0' && *line != '\r' && *line != '\n') {
		eol = line + strcspn(line, "\n");
		len = (size_t)(eol - line);
		if (len > 3 && strncasecmp(line, "To:", 3) == 0) {
			copy = strndup(line, len);
			hit = copy != NULL && it_contains_ci(copy, email);
			free(copy);
			if (hit)
				return 1;
		}
		if (*eol == '\0')
			break;
		line = eol + 1;
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undo quoted-printable in place (soft line breaks and =XX). */
static void
qp_decode(char *s)
{
	char *w = s;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && s[1] == '\n') {
			s += 2;
		} else if (s[0] == '=' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 3;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* The token after "token=" in msg's body (decoded when quoted-printable), or NULL. */
static char *
mail_token(char *msg)
{
	char *body = strstr(msg, "\r\n\r\n"), *t;
	size_t n;

	if (body == NULL)
		body = strstr(msg, "\n\n");
	if (body == NULL)
		return NULL;
	if (it_contains_ci(msg, "quoted-printable"))
		qp_decode(body);
	t = strstr(body, "token=");
	if (t == NULL)
		return NULL;
	t += 6;
	n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%");
	return n > 0 ? strndup(t, n) : NULL;
}

/* Visit the outbox messages to email that contain needle (NULL: all); newest gets the
 * newest one (malloc'd text). */
static int
scan_outbox(const char *email, const char *needle, char **newest)
{
	const char *dir = getenv("CX_TEST_DATA_DIR");
	char path[4096], outbox[3800], *msg;
	struct timespec best = { 0, 0 };
	struct dirent *de;
	struct stat st;
	DIR *d;
	int count = 0;

	cr_assert_not_null(dir, "CX_TEST_DATA_DIR is not set");
	snprintf(outbox, sizeof(outbox), "%s/outbox", dir);
	d = opendir(outbox);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", outbox, de->d_name);
		if (stat(path, &st) != 0 || (msg = read_file(path)) == NULL)
			continue;
		if (!mail_is_to(msg, email) || (needle != NULL && strstr(msg, needle) == NULL)) {
			free(msg);
			continue;
		}
		count++;
		if (newest != NULL && (st.st_mtim.tv_sec > best.tv_sec ||
		    (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec >= best.tv_nsec))) {
			best = st.st_mtim;
			free(*newest);
			*newest = msg;
		} else {
			free(msg);
		}
	}
	closedir(d);
	return count;
}

int
it_mail_count(const char *email, const char *needle)
{
	return scan_outbox(email, needle, NULL);
}

char *
it_mail_wait_token(const char *email, int timeout_s)
{
	char *msg = NULL, *token = NULL;

	for (int i = 0; i <= timeout_s * 10; i++) {
		if (scan_outbox(email, "token=", &msg) > 0 && msg != NULL) {
			token = mail_token(msg);
			free(msg);
			if (token == NULL)
				cr_log_warn("mail to %s has no token= link", email);
			return token;
		}
		usleep(100 * 1000);
	}
	return NULL;
}

/* Run cxctl with the stack's settings plus `extra` ("NAME=value", NULL-ended); returns the
 * exit status and the combined output in *out (caller frees). */
int
it_run_cxctl(const char *const *extra, char *const *args, char **out)
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
