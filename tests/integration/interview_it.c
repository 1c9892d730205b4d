/* interview_it: helpers of the interview integration tests. */
#include "config.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cx_crypto.h"
#include "cx_time.h"
#include "interview_it.h"

/* ---- requests ------------------------------------------------------------------ */

char *
iv_path(const char *id, const char *suffix)
{
	if (id == NULL)
		return it_fmt("%s", IV_BASE);
	if (suffix == NULL)
		return it_fmt("%s/%s", IV_BASE, id);
	return it_fmt("%s/%s/%s", IV_BASE, id, suffix);
}

struct http_response *
iv_call(const char *method, const char *bearer, const char *id, const char *suffix,
    const char *json)
{
	char *path = iv_path(id, suffix);
	struct http_response *r;

	if (json != NULL) {
		r = it_send_json(method, path, bearer, json);
	} else {
		struct http_request req = { .method = method, .path = path, .bearer = bearer };

		r = http_perform(&req);
	}
	cr_assert_not_null(r, "out of memory");
	free(path);
	return r;
}

struct http_response *
iv_create(const char *bearer, const char *json)
{
	return iv_call("POST", bearer, NULL, NULL, json);
}

void
iv_create_ok(const struct it_user *u, const char *extra, char id[32])
{
	json_object *body = json_object_new_object(), *more;
	struct http_response *r;
	char *text;

	json_object_object_add(body, "job_title", json_object_new_string("Backend Engineer"));
	json_object_object_add(body, "mode", json_object_new_string("technical"));
	json_object_object_add(body, "question_count", json_object_new_int(3));
	json_object_object_add(body, "duration_minutes", json_object_new_int(30));
	if (extra != NULL) {
		text = it_fmt("{%s}", extra);
		more = json_tokener_parse(text);
		cr_assert_not_null(more, "bad extra members: %s", extra);
		free(text);
		json_object_object_foreach(more, k, v)
			json_object_object_add(body, k, json_object_get(v));
		json_object_put(more);
	}
	r = iv_create(u->access, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	it_assert_success(r, 201);
	text = (char *)http_json_str(r, "data.id");
	cr_assert(text != NULL && strlen(text) == 24 && cx_oid_valid(text),
	    "create: data.id is not 24 hex: %.300s", r->body);
	snprintf(id, 32, "%s", text);
	http_response_free(r);
}

json_object *
iv_get(const char *bearer, const char *id)
{
	struct http_response *r = iv_call("GET", bearer, id, NULL, NULL);
	json_object *data;

	it_assert_success(r, 200);
	data = json_object_get(http_json_path(r, "data"));
	http_response_free(r);
	return data;
}

void
iv_expect_status(const char *bearer, const char *id, const char *status)
{
	json_object *s = iv_get(bearer, id);

	cr_expect_str_eq(iv_str(s, "status"), status, "session %s", id);
	json_object_put(s);
}

char *
iv_begin(struct it_user *u, char id[32])
{
	it_register(u, NULL);
	iv_create_ok(u, NULL, id);
	return iv_start(u, id);
}

char *
iv_start(const struct it_user *u, const char *id)
{
	struct http_response *r = iv_call("POST", u->access, id, "precheck",
	    "{\"camera\":true,\"microphone\":true,\"speaker\":true,\"fullscreen\":true,"
	    "\"single_screen\":true}");
	const char *nonce;
	char *copy;

	it_assert_success(r, 200);
	cr_assert(iv_bool(http_json_path(r, "data"), "passed"), "precheck did not pass: %.300s",
	    r->body);
	cr_assert_str_eq(iv_str(http_json_path(r, "data"), "status"), "active");
	nonce = http_json_str(r, "data.session.anti_cheat.nonce");
	cr_assert(nonce != NULL && strlen(nonce) == 64 && strspn(nonce, "0123456789abcdef") == 64,
	    "no 64-hex anti-cheat nonce after precheck: %.500s", r->body);
	copy = strdup(nonce);
	http_response_free(r);
	return copy;
}

void
iv_fail_precheck(const struct it_user *u, const char *id)
{
	struct http_response *r = iv_call("POST", u->access, id, "precheck",
	    "{\"camera\":false,\"microphone\":true,\"speaker\":true,\"fullscreen\":true,"
	    "\"single_screen\":true}");

	it_assert_success(r, 200);
	cr_assert(!iv_bool(http_json_path(r, "data"), "passed"), "precheck without a camera "
	    "passed: %.300s", r->body);
	cr_assert_str_eq(iv_str(http_json_path(r, "data"), "status"), "precheck");
	http_response_free(r);
}

void
iv_current(const struct it_user *u, const char *id, char qid[16])
{
	struct http_response *r = iv_call("GET", u->access, id, "next-question", NULL);

	it_assert_success(r, 200);
	snprintf(qid, 16, "%s", iv_str(http_json_path(r, "data"), "id"));
	http_response_free(r);
}

struct http_response *
iv_answer(const char *bearer, const char *id, const char *qid, const char *content,
    const char *type)
{
	json_object *body = json_object_new_object();
	struct http_response *r;

	if (qid != NULL)
		json_object_object_add(body, "question_id", json_object_new_string(qid));
	if (content != NULL)
		json_object_object_add(body, "content", json_object_new_string(content));
	if (type != NULL)
		json_object_object_add(body, "type", json_object_new_string(type));
	r = iv_call("POST", bearer, id, "answer",
	    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return r;
}

json_object *
iv_answer_current(const struct it_user *u, const char *id, const char *content)
{
	char qid[16];
	struct http_response *r;
	json_object *data;

	iv_current(u, id, qid);
	r = iv_answer(u->access, id, qid, content, "text");
	it_assert_success(r, 200);
	data = json_object_get(http_json_path(r, "data"));
	http_response_free(r);
	return data;
}

/* ---- readers ------------------------------------------------------------------- */

static json_object *
at(json_object *o, const char *path, json_type type, int null_ok)
{
	json_object *v = http_json_at(o, path);

	if (v == NULL && null_ok && json_object_object_get_ex(o, path, NULL))
		return NULL;
	if (v == NULL && null_ok && strchr(path, '.') != NULL) {
		/* http_json_at cannot tell a null leaf from a missing one: look at the parent */
		char parent[256];
		const char *dot = strrchr(path, '.');
		json_object *p;

		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path), path);
		p = http_json_at(o, parent);
		if (p != NULL && json_object_object_get_ex(p, dot + 1, NULL))
			return NULL;
	}
	cr_assert(v != NULL, "%s is missing in %.600s", path, json_object_to_json_string(o));
	cr_assert(json_object_is_type(v, type), "%s has the wrong type in %.600s", path,
	    json_object_to_json_string(o));
	return v;
}

const char *
iv_str(json_object *o, const char *path)
{
	return json_object_get_string(at(o, path, json_type_string, 0));
}

const char *
iv_str_or_null(json_object *o, const char *path)
{
	json_object *v = at(o, path, json_type_string, 1);

	return v ? json_object_get_string(v) : NULL;
}

int64_t
iv_int(json_object *o, const char *path)
{
	return json_object_get_int64(at(o, path, json_type_int, 0));
}

int
iv_bool(json_object *o, const char *path)
{
	return json_object_get_boolean(at(o, path, json_type_boolean, 0));
}

json_object *
iv_arr(json_object *o, const char *path)
{
	return at(o, path, json_type_array, 0);
}

const char *
iv_nz(const char *s)
{
	return s != NULL ? s : "(null)";
}

int
iv_is_null(json_object *o, const char *path)
{
	return http_json_at(o, path) == NULL;
}

void
iv_assert_validation_prefix(const struct http_response *r, const char *prefix)
{
	const char *got;

	it_assert_error(r, 422, "VALIDATION_ERROR");
	got = http_json_str(r, "error.details.field");
	cr_assert(got != NULL && strncmp(got, prefix, strlen(prefix)) == 0,
	    "details.field %s, want %s...: %.300s", got ? got : "(none)", prefix, r->body);
	got = http_json_str(r, "error.details.reason");
	cr_assert(got != NULL && *got != '\0', "no details.reason: %.300s", r->body);
}

/* ---- anti-cheat chain ---------------------------------------------------------- */

struct buf {
	char *s;
	size_t len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s, "out of memory");
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A string as JavaScript's JSON.stringify writes it (UTF-8 passes through). */
static void
put_js_string(struct buf *b, const char *s, size_t n)
{
	char esc[8];

	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': puts_(b, "\\\""); break;
		case '\\': puts_(b, "\\\\"); break;
		case '\b': puts_(b, "\\b"); break;
		case '\f': puts_(b, "\\f"); break;
		case '\n': puts_(b, "\\n"); break;
		case '\r': puts_(b, "\\r"); break;
		case '\t': puts_(b, "\\t"); break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				puts_(b, esc);
			} else {
				put(b, (const char *)&c, 1);
			}
		}
	}
	put(b, "\"", 1);
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
iv_ac_canonical(int64_t seq, const char *event, const char *timestamp, json_object *details)
{
	struct buf b = { 0 };
	const char *keys[64];
	size_t nkeys = 0;
	char num[32];

	snprintf(num, sizeof(num), "%lld\n", (long long)seq);
	puts_(&b, num);
	puts_(&b, event);
	puts_(&b, "\n");
	puts_(&b, timestamp);
	puts_(&b, "\n{");
	if (details != NULL) {
		json_object_object_foreach(details, k, v) {
			(void)v;
			cr_assert_lt(nkeys, 64, "too many details keys for the test writer");
			keys[nkeys++] = k;
		}
	}
	/* strcmp compares as unsigned char: byte order, as the contract says */
	qsort(keys, nkeys, sizeof(keys[0]), cmp_keys);
	for (size_t i = 0; i < nkeys; i++) {
		json_object *v = json_object_object_get(details, keys[i]);

		if (i > 0)
			puts_(&b, ",");
		put_js_string(&b, keys[i], strlen(keys[i]));
		puts_(&b, ":");
		switch (json_object_get_type(v)) {
		case json_type_null:
			puts_(&b, "null");
			break;
		case json_type_boolean:
			puts_(&b, json_object_get_boolean(v) ? "true" : "false");
			break;
		case json_type_int:
			snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
			puts_(&b, num);
			break;
		case json_type_string:
			put_js_string(&b, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
			break;
		default:
			cr_assert_fail("details value of key %s is not flat", keys[i]);
		}
	}
	puts_(&b, "}");
	return b.s;
}

void
iv_ac_hash(const char *prev, int64_t seq, const char *event, const char *timestamp,
    json_object *details, char out[65])
{
	char *canon = iv_ac_canonical(seq, event, timestamp, details);
	char *input = it_fmt("%s%s", prev, canon);

	cx_sha256_hex(input, strlen(input), out);
	free(input);
	free(canon);
}

void
iv_chain_init(struct iv_chain *c, const char *nonce)
{
	c->seq = 0;
	snprintf(c->prev, sizeof(c->prev), "%s", nonce);
}

json_object *
iv_ac_event(int64_t seq, const char *event, const char *timestamp, json_object *details,
    const char *prev)
{
	json_object *ev = json_object_new_object();
	char hash[65];

	iv_ac_hash(prev, seq, event, timestamp, details, hash);
	json_object_object_add(ev, "seq", json_object_new_int64(seq));
	json_object_object_add(ev, "event", json_object_new_string(event));
	json_object_object_add(ev, "timestamp", json_object_new_string(timestamp));
	json_object_object_add(ev, "details",
	    details ? json_object_get(details) : json_object_new_object());
	json_object_object_add(ev, "sequence_hash", json_object_new_string(hash));
	return ev;
}

json_object *
iv_chain_next(struct iv_chain *c, const char *event, json_object *details)
{
	char now[CX_TIME_LEN];
	json_object *ev;

	cx_time_now(now);
	ev = iv_ac_event(c->seq + 1, event, now, details, c->prev);
	c->seq++;
	snprintf(c->prev, sizeof(c->prev), "%s",
	    json_object_get_string(json_object_object_get(ev, "sequence_hash")));
	return ev;
}

struct http_response *
iv_events(const char *bearer, const char *id, json_object *events)
{
	json_object *body = json_object_new_object();
	struct http_response *r;

	json_object_object_add(body, "events", events);
	r = iv_call("POST", bearer, id, "events",
	    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return r;
}

json_object *
iv_events_ok(const struct it_user *u, const char *id, struct iv_chain *c, const char *event,
    int count)
{
	json_object *batch = json_object_new_array(), *data;
	struct http_response *r;

	for (int i = 0; i < count; i++)
		json_object_array_add(batch, iv_chain_next(c, event, NULL));
	r = iv_events(u->access, id, batch);
	it_assert_success(r, 200);
	data = json_object_get(http_json_path(r, "data"));
	http_response_free(r);
	return data;
}

/* ---- Redis --------------------------------------------------------------------- */

redisContext *
iv_subscribe(const char *id)
{
	redisContext *rc = it_redis();
	redisReply *rep = redisCommand(rc, "SUBSCRIBE interview:%s:events", id);

	cr_assert(rep != NULL && rep->type == REDIS_REPLY_ARRAY, "SUBSCRIBE failed: %s",
	    rc->errstr);
	freeReplyObject(rep);
	return rc;
}

static int
all_seen(json_object *msgs, const char *const *want)
{
	if (want == NULL)
		return 0;
	for (size_t i = 0; want[i] != NULL; i++)
		if (iv_count_type(msgs, want[i]) == 0)
			return 0;
	return 1;
}

json_object *
iv_messages(redisContext *rc, const char *const *want, int timeout_ms)
{
	json_object *msgs = json_object_new_array();
	double deadline = cx_time_mono_ms() + timeout_ms;

	while (!all_seen(msgs, want)) {
		double left = deadline - cx_time_mono_ms();
		struct timeval tv;
		redisReply *rep = NULL;

		if (left <= 0)
			break;
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)((long)left % 1000 * 1000);
		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			tv.tv_usec = 1000;
		if (redisSetTimeout(rc, tv) != REDIS_OK)
			break;
		if (redisGetReply(rc, (void **)&rep) != REDIS_OK || rep == NULL)
			break;   /* timed out (the context is spent) */
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
		    strcmp(rep->element[0]->str, "message") == 0) {
			json_object *m = json_tokener_parse(rep->element[2]->str);

			cr_expect_not_null(m, "a published message is not JSON: %s",
			    rep->element[2]->str);
			if (m != NULL)
				json_object_array_add(msgs, m);
		}
		freeReplyObject(rep);
	}
	return msgs;
}

int
iv_count_type(json_object *msgs, const char *type)
{
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		const char *t = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(msgs, i), "type"));

		n += t != NULL && strcmp(t, type) == 0;
	}
	return n;
}

void
iv_assert_messages(json_object *msgs, const char *id)
{
	static const char *const types[] = { "question", "timer", "feedback", "warning",
	    "complete", NULL };

	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		json_object *m = json_object_array_get_idx(msgs, i);
		const char *t = iv_str(m, "type");
		size_t k;

		for (k = 0; types[k] != NULL && strcmp(types[k], t) != 0; k++)
			;
		cr_expect_not_null(types[k], "unknown message type %s", t);
		cr_expect_str_eq(iv_str(m, "session_id"), id, "message %s", t);
		it_assert_timestamp(iv_str(m, "at"), "message at");
		cr_expect(json_object_is_type(json_object_object_get(m, "data"),
		    json_type_object), "message %s has no data object", t);
	}
}

char *
iv_state_field(redisContext *rc, const char *id, const char *field)
{
	redisReply *rep = redisCommand(rc, "HGET interview:%s:state %s", id, field);
	char *v = NULL;

	cr_assert(rep != NULL && rep->type != REDIS_REPLY_ERROR, "HGET failed");
	if (rep->type == REDIS_REPLY_STRING)
		v = strdup(rep->str);
	freeReplyObject(rep);
	return v;
}

/* ---- the stored session -------------------------------------------------------- */

static sqlite3 *
db_open(void)
{
	const char *dir = getenv("CX_TEST_DATA_DIR");
	char path[4096];
	sqlite3 *db = NULL;

	cr_assert_not_null(dir, "CX_TEST_DATA_DIR is not set");
	snprintf(path, sizeof(path), "%s/candidatex.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK, "cannot open %s", path);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

char *
iv_db_get(const char *id, const char *jpath)
{
	sqlite3 *db = db_open();
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT json_extract(doc, ?) FROM "
	    "interview_sessions WHERE id = ?", -1, &st, NULL), SQLITE_OK, "%s",
	    sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, jpath, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "session %s is not stored", id);
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void
iv_db_set(const char *id, const char *jpath, const char *value_json)
{
	sqlite3 *db = db_open();
	sqlite3_stmt *st = NULL;

	/* Like every writer, bump the revision: the programs keep documents they have read
	 * and check only the revision before reusing one. */
	cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE interview_sessions SET doc = "
	    "json_set(doc, ?, json(?), '$.rev', json_extract(doc, '$.rev') + 1) WHERE id = ?",
	    -1, &st, NULL), SQLITE_OK, "%s",
	    sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, jpath, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_changes(db), 1, "session %s is not stored", id);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int
iv_db_exec(const char *sql, const char *a, const char *b, const char *c)
{
	sqlite3 *db = db_open();
	sqlite3_stmt *st = NULL;
	const char *args[3] = { a, b, c };
	int i, n;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	for (i = 0; i < 3; i++)
		if (args[i] != NULL)
			sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	n = sqlite3_changes(db);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

void
iv_db_shift(const char *id, const char *jpath, int64_t ms)
{
	char *old = iv_db_get(id, jpath), moved[CX_TIME_LEN], *json;
	int64_t t;

	cr_assert_not_null(old, "stored %s of %s is null", jpath, id);
	cr_assert_eq(cx_time_parse_ms(old, &t), 0, "stored %s is not RFC 3339: %s", jpath, old);
	cx_time_format_ms(t - ms, moved);
	json = it_fmt("\"%s\"", moved);
	iv_db_set(id, jpath, json);
	free(json);
	free(old);
}

void
iv_db_insert(const char *coll, const char *id, const char *doc_json)
{
	sqlite3 *db = db_open();
	sqlite3_stmt *st = NULL;
	char *sql = it_fmt("INSERT INTO \"%s\" (id, doc) VALUES (?, json(?))", coll);

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
	    sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, doc_json, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(sql);
}

/* ---- users --------------------------------------------------------------------- */

/* cxctl create-admin with the stack's settings. */
static void
create_admin(const char *email)
{
	char *args[] = { "create-admin", "--email", (char *)email, "--name", "Interview Admin",
		NULL };
	const char *env[] = { "CX_ADMIN_PASSWORD=" IT_PASSWORD, NULL };
	char *out = NULL;
	int status = it_run_cxctl(env, args, &out);

	cr_assert_eq(status, 0, "cxctl create-admin failed:\n%s", out);
	free(out);
}

void
iv_admin(struct it_user *u)
{
	struct http_response *r;

	memset(u, 0, sizeof(*u));
	it_random_email(u->email);
	snprintf(u->password, sizeof(u->password), "%s", IT_PASSWORD);
	snprintf(u->full_name, sizeof(u->full_name), "Interview Admin");
	create_admin(u->email);
	it_login_ok(u->email, u->password, &u->access, &u->refresh);
	r = it_get("/api/auth/me", u->access);
	it_assert_success(r, 200);
	cr_assert_str_eq(http_json_str(r, "data.role"), "admin");
	snprintf(u->id, sizeof(u->id), "%s", http_json_str(r, "data.id"));
	http_response_free(r);
}
