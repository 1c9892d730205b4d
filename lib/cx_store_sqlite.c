/* cx_store_sqlite: the SQLite back end of cx_store. One file in WAL mode; a table
 * per collection (id TEXT PRIMARY KEY, doc TEXT NOT NULL, keys TEXT); filters compiled
 * to SQL over json_extract() with every value bound as a parameter; updates applied in C
 * inside BEGIN IMMEDIATE so concurrent writers never lose an update.
 *
 * keys holds the values of the collection's indexed fields ({"field":value,...}, null
 * for a missing one), and the indexes are built on it rather than on doc. SQLite
 * re-writes an index entry whenever a column its expression reads is written, whatever
 * the value: with indexes on doc, every update of a session re-wrote its five index
 * entries (a page each). A write leaves keys alone unless an indexed value changed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cx_buf.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_sqlite_vfs.h"
#include "cx_store.h"
#include "cx_store_impl.h"

#define BUSY_TIMEOUT_MS 5000
#define BEGIN_RETRIES 4
#define STMT_CACHE 64
#define TABLE_CACHE 32
#define KEY_FIELDS 16   /* indexed fields of one collection */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct stmt_slot {
	uint64_t hash;
	char *sql;
	sqlite3_stmt *stmt;
	uint64_t used;
};

/* A collection's table, as this connection knows it. */
struct table_info {
	char name[CX_STORE_NAME_MAX];
	int has_keys;         /* the table has the keys column */
	size_t nfields;       /* fields kept in keys, sorted; 0: keys unused */
	char fields[KEY_FIELDS][CX_STORE_FIELD_MAX];
};

/* The writers' queue, shared by every process of the database (the file <db>-cxlock,
 * mapped): a robust process-shared mutex held for as long as a write transaction is open.
 * SQLite's own write lock cannot be waited on; its busy handler polls with sleeps, and
 * two workers writing a few hundred microseconds each spent about 14 % of their time
 * asleep, often after the lock was free again. The mutex wakes the next writer as soon
 * as it is released, and is given up by the kernel when its owner dies. */
#define WRITER_LOCK_MAGIC 0x43584c4bu   /* "CXLK" */
struct writer_lock {
	uint32_t magic;
	uint32_t pad;
	pthread_mutex_t mutex;
};

struct sqlite_store {
	struct cx_store base;
	sqlite3 *db;
	struct json_tokener *tok;
	struct stmt_slot stmts[STMT_CACHE];
	uint64_t tick;
	struct table_info tables[TABLE_CACHE + 1];   /* collections known to exist; the
	                                              * last is scratch once it is full */
	size_t ntables;
	struct timespec busy_since;    /* first busy callback of the current wait */
	int txn;                       /* inside cx_store_begin ... commit/rollback */
	long busy_limit_ms;            /* 0: BUSY_TIMEOUT_MS */
	struct writer_lock *wl;        /* NULL: SQLite's busy handler alone */
	int wl_held;
	char lock_path[4096];          /* <db>-cxlock */
	int ckpt_fd;                   /* holds the checkpointer's lock (-1: not yet) */
	int presynced_nlog;            /* log length the checkpointer last synced ahead for */
};

/* ---- SQL text with its bound values ---------------------------------------- */

enum bind_kind { BIND_TEXT, BIND_INT, BIND_DOUBLE };

struct bind {
	enum bind_kind kind;
	const char *s;        /* borrowed: lives as long as the filter/document */
	size_t len;
	int64_t i;
	double d;
};

struct sql {
	struct cx_buf text;
	struct bind *binds;
	size_t nbinds, bcap;
	int oom;
	const struct table_info *t;   /* the table queried: where each field is read */
};

static void
sql_free(struct sql *q)
{
	cx_buf_free(&q->text);
	free(q->binds);
	memset(q, 0, sizeof(*q));
}

static void __attribute__((format(printf, 2, 3)))
sql_addf(struct sql *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cx_buf_vprintf(&q->text, fmt, ap);
	va_end(ap);
	if (q->text.failed)
		q->oom = 1;
}

static struct bind *
sql_bind(struct sql *q, enum bind_kind kind)
{
	struct bind *b;

	if (q->oom)
		return NULL;
	if (q->nbinds == q->bcap) {
		size_t cap = q->bcap ? q->bcap * 2 : 8;

		b = realloc(q->binds, cap * sizeof(*b));
		if (b == NULL) {
			q->oom = 1;
			return NULL;
		}
		q->binds = b;
		q->bcap = cap;
	}
	b = &q->binds[q->nbinds++];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	return b;
}

static void
sql_bind_text(struct sql *q, const char *s, size_t len)
{
	struct bind *b = sql_bind(q, BIND_TEXT);

	if (b != NULL) {
		b->s = s;
		b->len = len;
	}
}

static void
sql_bind_int(struct sql *q, int64_t v)
{
	struct bind *b = sql_bind(q, BIND_INT);

	if (b != NULL)
		b->i = v;
}

/* Bind a scalar JSON value: strings as text, bools as 0/1 (what json_extract gives). */
static void
sql_bind_value(struct sql *q, json_object *v)
{
	struct bind *b;

	switch (json_object_get_type(v)) {
	case json_type_string:
		sql_bind_text(q, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_boolean:
		sql_bind_int(q, json_object_get_boolean(v) ? 1 : 0);
		break;
	case json_type_int:
		sql_bind_int(q, json_object_get_int64(v));
		break;
	case json_type_double:
		if ((b = sql_bind(q, BIND_DOUBLE)) != NULL)
			b->d = json_object_get_double(v);
		break;
	default:
		q->oom = 1;   /* cx_store.c lets no other type through */
		break;
	}
}

/* ---- filters to SQL ----------------------------------------------------------- */

static int
is_id(const char *field)
{
	return strcmp(field, "id") == 0;
}

/* The column field's value is read from: keys for an indexed field (so the query can use
 * the index), doc otherwise. Both hold the same JSON value. */
static const char *
src(const struct sql *q, const char *field)
{
	size_t i;

	for (i = 0; q->t != NULL && q->t->has_keys && i < q->t->nfields; i++)
		if (strcmp(q->t->fields[i], field) == 0)
			return "keys";
	return "doc";
}

/* The json_type() values a stored value must have to compare with v: MongoDB never
 * matches a string against a number or a bool against 1, so neither do we. */
static const char *
type_class(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return "='text'";
	case json_type_boolean:
		return " IN ('true','false')";
	default:
		return " IN ('integer','real')";
	}
}

/* field <op> v for a non-null scalar v. The field path was validated by cx_store.c
 * ([A-Za-z0-9_.] only) so it is safe inside the quoted JSON path; v is bound. */
static void
compare_cond(struct sql *q, const char *field, const char *op, json_object *v)
{
	const char *c = src(q, field);

	if (is_id(field)) {
		if (!json_object_is_type(v, json_type_string)) {
			sql_addf(q, "0");
			return;
		}
		sql_addf(q, "id %s ?", op);
	} else if (strcmp(op, "=") == 0 && (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_boolean))) {
		/* One parse of the document instead of two: `->` gives the stored value as JSON
		 * text, which names its type (5, 5.0, true, "5" all differ). A real that equals
		 * the integer (5.0 = 5) is still found by the second test. */
		if (json_object_is_type(v, json_type_boolean)) {
			sql_addf(q, "((%s -> '$.%s') = '%s')", c, field,
			    json_object_get_boolean(v) ? "true" : "false");
			return;
		}
		/* And none at all when the field is the document's first key: its text then
		 * starts with {"field":value, (a writer that keeps a version number first gets
		 * its "is my copy current?" answered from the first bytes of the row). */
		if (strchr(field, '.') == NULL && strcmp(c, "doc") == 0) {
			sql_addf(q, "(substr(doc,1,%zu+length(CAST(? AS TEXT)))='{\"%s\":'||"
			    "CAST(? AS TEXT)||',' OR ", strlen(field) + 5, field);
			sql_bind_value(q, v);
			sql_bind_value(q, v);
		} else
			sql_addf(q, "(");
		sql_addf(q, "(%s -> '$.%s') = CAST(? AS TEXT)", c, field);
		sql_bind_value(q, v);
		sql_addf(q, " OR (json_extract(%s,'$.%s') = ? AND json_type(%s,'$.%s')='real'))",
		    c, field, c, field);
	} else
		sql_addf(q, "(json_extract(%s,'$.%s') %s ? AND json_type(%s,'$.%s')%s)", c, field,
		    op, c, field, type_class(v));
	sql_bind_value(q, v);
}

/* field == v, where null also matches a missing field (as in MongoDB). */
static void
equal_cond(struct sql *q, const char *field, json_object *v)
{
	if (v != NULL)
		compare_cond(q, field, "=", v);
	else if (is_id(field))
		sql_addf(q, "0");
	else
		sql_addf(q, "json_extract(%s,'$.%s') IS NULL", src(q, field), field);
}

static void
cond_sql(struct sql *q, const struct cx_filter_cond *c)
{
	static const char *const cmp[] = {
		[CX_GT] = ">", [CX_GTE] = ">=", [CX_LT] = "<", [CX_LTE] = "<=",
	};
	size_t i, n;

	switch (c->op) {
	case CX_EQ:
		equal_cond(q, c->field, c->value);
		break;
	case CX_NE:
		/* NOT of a NULL comparison is NULL: a missing field must count as "not equal". */
		sql_addf(q, "NOT IFNULL(");
		equal_cond(q, c->field, c->value);
		sql_addf(q, ",0)");
		break;
	case CX_GT:
	case CX_GTE:
	case CX_LT:
	case CX_LTE:
		compare_cond(q, c->field, cmp[c->op], c->value);
		break;
	case CX_CONTAINS_I:
		if (is_id(c->field))
			sql_addf(q, "instr(lower(id),lower(?))>0");
		else
			sql_addf(q, "(instr(lower(json_extract(%s,'$.%s')),lower(?))>0 AND "
			    "json_type(%s,'$.%s')='text')", src(q, c->field), c->field,
			    src(q, c->field), c->field);
		sql_bind_value(q, c->value);
		break;
	case CX_FILTER_IN:
		n = json_object_array_length(c->value);
		if (n == 0) {
			sql_addf(q, "0");
			break;
		}
		/* Strings (the usual list, such as question ids): one IN, which an index on the
		 * field searches once per value; a chain of ORs made SQLite read every document
		 * that matched the other conditions, to check each one's type. */
		for (i = 0; i < n; i++)
			if (!json_object_is_type(json_object_array_get_idx(c->value, i),
			    json_type_string))
				break;
		if (i == n && !is_id(c->field)) {
			const char *col = src(q, c->field);

			sql_addf(q, "(json_extract(%s,'$.%s') IN (", col, c->field);
			for (i = 0; i < n; i++) {
				sql_addf(q, "%s", i > 0 ? ",?" : "?");
				sql_bind_value(q, json_object_array_get_idx(c->value, i));
			}
			sql_addf(q, ") AND json_type(%s,'$.%s')='text')", col, c->field);
			break;
		}
		sql_addf(q, "(");
		for (i = 0; i < n; i++) {
			if (i > 0)
				sql_addf(q, " OR ");
			equal_cond(q, c->field, json_object_array_get_idx(c->value, i));
		}
		sql_addf(q, ")");
		break;
	default:
		q->oom = 1;
		break;
	}
}

static void
where_sql(struct sql *q, const struct cx_filter *filter)
{
	size_t i;

	sql_addf(q, " WHERE ");
	if (filter == NULL || filter->n == 0) {
		sql_addf(q, "1");
		return;
	}
	for (i = 0; i < filter->n; i++) {
		if (i > 0)
			sql_addf(q, " AND ");
		cond_sql(q, &filter->conds[i]);
	}
}

/* Ties are broken by insertion order (rowid), which every index also carries. */
static void
order_sql(struct sql *q, const struct cx_sort *sort, size_t nsort)
{
	size_t i;

	if (nsort == 0)
		return;
	sql_addf(q, " ORDER BY ");
	for (i = 0; i < nsort; i++) {
		if (is_id(sort[i].field))
			sql_addf(q, "id");
		else
			sql_addf(q, "json_extract(%s,'$.%s')", src(q, sort[i].field), sort[i].field);
		sql_addf(q, "%s, ", sort[i].dir < 0 ? " DESC" : "");
	}
	sql_addf(q, "rowid");
}

/* ---- errors --------------------------------------------------------------------- */

static int
unavailable(struct cx_error *err, const char *msg)
{
	int first = err != NULL && err->code == CX_OK;

	cx_error_set(err, CX_EUNAVAIL, "%s", msg);
	if (first)
		err->retry_after = 1;
	return CX_EUNAVAIL;
}

/* SQLite's message goes to the log only; the client sees a generic one. */
static int
fail_msg(int rc, const char *what, const char *msg, struct cx_error *err)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		cx_logf(CX_LOG_WARN, "sqlite %s: %s", what, msg);
		return unavailable(err, "The database is busy, try again");
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_NOTADB:
		cx_logf(CX_LOG_ERROR, "sqlite %s: %s (%d)", what, msg, rc);
		return unavailable(err, "Database unavailable");
	default:
		return cx_error_internal(err, "sqlite %s: %s (%d)", what, msg, rc);
	}
}

static int
db_fail(struct sqlite_store *s, int rc, const char *what, struct cx_error *err)
{
	return fail_msg(rc, what, sqlite3_errmsg(s->db), err);
}

static void
stmt_done(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* ---- statement cache ---------------------------------------------------------- */

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* A prepared statement for sql, from the cache when possible. It stays owned by the
 * cache: the caller only resets it (stmt_done). */
static int
prepare(struct sqlite_store *s, const char *sql, sqlite3_stmt **out, struct cx_error *err)
{
	struct stmt_slot *slot, *victim = &s->stmts[0];
	uint64_t h = fnv1a(sql);
	sqlite3_stmt *st = NULL;
	char *copy;
	size_t i;
	int rc;

	for (i = 0; i < STMT_CACHE; i++) {
		slot = &s->stmts[i];
		if (slot->stmt != NULL && slot->hash == h && strcmp(slot->sql, sql) == 0) {
			slot->used = ++s->tick;
			*out = slot->stmt;
			return CX_OK;
		}
		if (slot->stmt == NULL || (victim->stmt != NULL && slot->used < victim->used))
			victim = slot;
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "prepare", err);
	copy = strdup(sql);
	if (copy == NULL) {
		sqlite3_finalize(st);
		return cx_error_internal(err, "out of memory");
	}
	sqlite3_finalize(victim->stmt);
	free(victim->sql);
	victim->hash = h;
	victim->sql = copy;
	victim->stmt = st;
	victim->used = ++s->tick;
	*out = st;
	return CX_OK;
}

static int
bind_all(struct sqlite_store *s, sqlite3_stmt *st, const struct sql *q, struct cx_error *err)
{
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < q->nbinds && rc == SQLITE_OK; i++) {
		const struct bind *b = &q->binds[i];
		int pos = (int)i + 1;

		switch (b->kind) {
		case BIND_TEXT:
			rc = sqlite3_bind_text(st, pos, b->s, (int)b->len, SQLITE_STATIC);
			break;
		case BIND_INT:
			rc = sqlite3_bind_int64(st, pos, b->i);
			break;
		case BIND_DOUBLE:
			rc = sqlite3_bind_double(st, pos, b->d);
			break;
		}
	}
	return rc == SQLITE_OK ? CX_OK : db_fail(s, rc, "bind", err);
}

/* Prepare q (checking it was built without running out of memory) and bind it. */
static int
prepare_sql(struct sqlite_store *s, const struct sql *q, sqlite3_stmt **out,
    struct cx_error *err)
{
	int rc;

	if (q->oom || q->text.data == NULL)
		return cx_error_internal(err, "out of memory building SQL");
	if ((rc = prepare(s, q->text.data, out, err)) != CX_OK)
		return rc;
	if ((rc = bind_all(s, *out, q, err)) != CX_OK)
		stmt_done(*out);
	return rc;
}

/* Wait for another process's write lock. SQLite's own busy timeout sleeps 1, 2, 5, 10 ...
 * up to 100 ms between tries, so two workers writing a few hundred microseconds each
 * queue up for tens of milliseconds. Short sleeps (25 us growing to 1 ms) take the lock
 * soon after it is released; still BUSY after BUSY_TIMEOUT_MS. */
static int
busy_wait(void *arg, int count)
{
	struct sqlite_store *s = arg;
	struct timespec now, pause;
	long waited_ms, us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		s->busy_since = now;
	waited_ms = (now.tv_sec - s->busy_since.tv_sec) * 1000 +
	    (now.tv_nsec - s->busy_since.tv_nsec) / 1000000;
	if (waited_ms >= (s->busy_limit_ms > 0 ? s->busy_limit_ms : BUSY_TIMEOUT_MS))
		return 0;
	us = count < 6 ? 25L << count : 1000;
	pause.tv_sec = 0;
	pause.tv_nsec = us * 1000;
	nanosleep(&pause, NULL);
	return 1;
}

/* Map (creating it if need be) the writers' queue of the database at path. */
static struct writer_lock *
writer_lock_open(const char *lock_path)
{
	struct writer_lock *wl;
	struct stat st;
	int fd, ok = 0;

	if (*lock_path == '\0' || (fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return NULL;
	if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0 ||
	    ((size_t)st.st_size < sizeof(*wl) && ftruncate(fd, sizeof(*wl)) != 0)) {
		close(fd);
		return NULL;
	}
	wl = mmap(NULL, sizeof(*wl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (wl != MAP_FAILED && wl->magic != WRITER_LOCK_MAGIC) {
		/* first user: made under the file lock, so only once */
		pthread_mutexattr_t a;

		ok = pthread_mutexattr_init(&a) == 0 &&
		    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == 0 &&
		    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0 &&
		    pthread_mutex_init(&wl->mutex, &a) == 0;
		pthread_mutexattr_destroy(&a);
		if (ok)
			__atomic_store_n(&wl->magic, WRITER_LOCK_MAGIC, __ATOMIC_RELEASE);
	} else
		ok = wl != MAP_FAILED;
	flock(fd, LOCK_UN);
	close(fd);
	if (!ok) {
		if (wl != MAP_FAILED)
			munmap(wl, sizeof(*wl));
		return NULL;
	}
	return wl;
}

/* Queue for the right to write (at most BUSY_TIMEOUT_MS; past that SQLite decides). */
static void
writer_acquire(struct sqlite_store *s)
{
	struct timespec until;
	int rc;

	if (s->wl == NULL || s->wl_held)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += BUSY_TIMEOUT_MS / 1000;
	rc = pthread_mutex_timedlock(&s->wl->mutex, &until);
	if (rc == EOWNERDEAD) {   /* its owner died mid-write; SQLite rolled that back */
		pthread_mutex_consistent(&s->wl->mutex);
		rc = 0;
	}
	if (rc == 0)
		s->wl_held = 1;
	else if (rc != ETIMEDOUT) {
		cx_logf(CX_LOG_WARN, "sqlite writers' queue unusable (%s): polling instead",
		    strerror(rc));
		munmap(s->wl, sizeof(*s->wl));
		s->wl = NULL;
	}
}

/* Leave the queue once no write transaction is open. */
static void
writer_release(struct sqlite_store *s)
{
	if (s->wl_held && sqlite3_get_autocommit(s->db)) {
		pthread_mutex_unlock(&s->wl->mutex);
		s->wl_held = 0;
	}
}

/* Run a statement without parameters or results (BEGIN, COMMIT, ...). */
static int
run_simple(struct sqlite_store *s, const char *sql, struct cx_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(s, sql, &st, err)) != CX_OK)
		return rc;
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? CX_OK : db_fail(s, rc, sql, err);
	stmt_done(st);
	writer_release(s);   /* after COMMIT or ROLLBACK */
	return rc;
}

/* BEGIN IMMEDIATE takes the write lock up front, so the read-modify-write that
 * follows cannot interleave with another writer. The busy timeout waits for the
 * lock; a few retries cover the cases where SQLite reports BUSY without waiting. */
static int
begin_immediate(struct sqlite_store *s, struct cx_error *err)
{
	struct timespec pause;
	sqlite3_stmt *st;
	int attempt, rc;

	if ((rc = prepare(s, "BEGIN IMMEDIATE", &st, err)) != CX_OK)
		return rc;
	writer_acquire(s);
	for (attempt = 0;; attempt++) {
		rc = sqlite3_step(st);
		stmt_done(st);
		if (rc == SQLITE_DONE)
			return CX_OK;
		if ((rc & 0xff) != SQLITE_BUSY || attempt >= BEGIN_RETRIES) {
			writer_release(s);
			return db_fail(s, rc, "BEGIN IMMEDIATE", err);
		}
		pause.tv_sec = 0;
		pause.tv_nsec = 10L * 1000 * 1000 * (attempt + 1);
		nanosleep(&pause, NULL);
	}
}

static void
rollback(struct sqlite_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run_simple(s, "ROLLBACK", NULL);
}

/* ---- unique violations ---------------------------------------------------------- */

static size_t
add_field(char fields[][CX_STORE_FIELD_MAX], size_t n, size_t max, const char *f, size_t len)
{
	size_t i;

	if (len == 0 || len >= CX_STORE_FIELD_MAX || n >= max)
		return n;
	for (i = 0; i < n; i++)
		if (strncmp(fields[i], f, len) == 0 && fields[i][len] == '\0')
			return n;
	memcpy(fields[n], f, len);
	fields[n][len] = '\0';
	return n + 1;
}

/* Fields of an index: every '$.field' path in its CREATE INDEX statement. */
static size_t
index_fields(struct sqlite_store *s, const char *index, char fields[][CX_STORE_FIELD_MAX],
    size_t max)
{
	sqlite3_stmt *st;
	const char *sql, *p, *end;
	size_t n = 0;

	if (prepare(s, "SELECT sql FROM sqlite_master WHERE type='index' AND name=?", &st,
	    NULL) != CX_OK)
		return 0;
	sqlite3_bind_text(st, 1, index, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && (sql = (const char *)sqlite3_column_text(st, 0))) {
		for (p = strstr(sql, "'$."); p != NULL; p = strstr(end, "'$.")) {
			p += 3;
			end = strchr(p, '\'');
			if (end == NULL)
				break;
			n = add_field(fields, n, max, p, (size_t)(end - p));
		}
	}
	stmt_done(st);
	return n;
}

/* CONFLICT naming the fields of the violated index, from SQLite's message:
 * "UNIQUE constraint failed: index 'users__email_1'" (expression index) or
 * "UNIQUE constraint failed: users.id" (primary key). Never shows SQL. */
static int
unique_fail(struct sqlite_store *s, const char *errmsg, struct cx_error *err)
{
	char fields[CX_STORE_MAX_INDEX_KEYS][CX_STORE_FIELD_MAX];
	const char *ptrs[CX_STORE_MAX_INDEX_KEYS];
	char name[CX_STORE_NAME_MAX * 2 + 4];
	const char *p, *end, *sep;
	size_t n = 0, i;

	if ((p = strstr(errmsg, "index '")) != NULL) {
		p += 7;
		end = strchr(p, '\'');
		if (end != NULL && (size_t)(end - p) < sizeof(name)) {
			memcpy(name, p, (size_t)(end - p));
			name[end - p] = '\0';
			n = index_fields(s, name, fields, CX_STORE_MAX_INDEX_KEYS);
			if (n == 0 && (sep = strstr(name, "__")) != NULL)
				n = cx_store_index_name_fields(sep + 2, fields, CX_STORE_MAX_INDEX_KEYS);
		}
	} else if ((p = strstr(errmsg, "failed: ")) != NULL) {
		for (p += 8; *p != '\0'; p = *end ? end + 2 : end) {
			end = strstr(p, ", ");
			if (end == NULL)
				end = p + strlen(p);
			sep = memchr(p, '.', (size_t)(end - p));
			if (sep != NULL)
				n = add_field(fields, n, CX_STORE_MAX_INDEX_KEYS, sep + 1,
				    (size_t)(end - sep - 1));
		}
	}
	for (i = 0; i < n; i++)
		ptrs[i] = fields[i];
	return cx_store_conflict(err, ptrs, n);
}

/* A failed write: CONFLICT for a unique violation, else as fail_msg. */
static int
write_fail(struct sqlite_store *s, int rc, const char *what, const char *msg,
    struct cx_error *err)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return unique_fail(s, msg, err);
	return fail_msg(rc, what, msg, err);
}

/* Step a write statement to its end and reset it. The statement is reset before a
 * failure is examined (which may run other statements), its message copied first. */
static int
step_write(struct sqlite_store *s, sqlite3_stmt *st, const char *what, struct cx_error *err)
{
	char msg[256];
	int rc;

	writer_acquire(s);   /* a no-op inside a transaction, which holds it already */
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		writer_release(s);
		return CX_OK;
	}
	snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(s->db));
	stmt_done(st);
	writer_release(s);
	return write_fail(s, rc, what, msg, err);
}

/* ---- documents ---------------------------------------------------------------- */

static int
parse_doc(struct sqlite_store *s, sqlite3_stmt *st, int col, json_object **out,
    struct cx_error *err)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	int len = sqlite3_column_bytes(st, col);
	json_object *doc;

	if (text == NULL)
		return cx_error_internal(err, "stored document is NULL");
	json_tokener_reset(s->tok);
	doc = json_tokener_parse_ex(s->tok, text, len);
	if (doc == NULL || json_tokener_get_error(s->tok) != json_tokener_success ||
	    !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return cx_error_internal(err, "stored document is not a JSON object");
	}
	*out = doc;
	return CX_OK;
}

static int
cmp_field(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The fields t's indexes read from keys (every '$.field' of an index on keys), sorted. */
static void
load_key_fields(struct sqlite_store *s, struct table_info *t)
{
	sqlite3_stmt *st;
	const char *sql, *p, *end;

	t->nfields = 0;
	if (!t->has_keys || prepare(s, "SELECT sql FROM sqlite_master WHERE type='index' AND "
	    "tbl_name=? AND sql LIKE '%json_extract(keys,%'", &st, NULL) != CX_OK)
		return;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((sql = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		for (p = strstr(sql, "'$."); p != NULL; p = strstr(end, "'$.")) {
			p += 3;
			if ((end = strchr(p, '\'')) == NULL)
				break;
			t->nfields = add_field(t->fields, t->nfields, KEY_FIELDS, p, (size_t)(end - p));
		}
	}
	stmt_done(st);
	qsort(t->fields, t->nfields, sizeof(t->fields[0]), cmp_field);
}

/* Create coll's table if need be, and learn what it keeps in keys. */
static int
ensure_table(struct sqlite_store *s, const char *coll, const struct table_info **out,
    struct cx_error *err)
{
	struct table_info *t;
	sqlite3_stmt *st;
	char sql[200];
	size_t i;
	int rc;

	for (i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].name, coll) == 0) {
			*out = &s->tables[i];
			return CX_OK;
		}
	/* json_valid() keeps every stored doc parseable, so one bad document can never
	 * break the json_extract() of every query on the table. */
	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS \"%s\" "
	    "(id TEXT PRIMARY KEY, doc TEXT NOT NULL CHECK (json_valid(doc)), keys TEXT)", coll);
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "create table", err);
	t = &s->tables[s->ntables < TABLE_CACHE ? s->ntables++ : TABLE_CACHE];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", coll);
	if ((rc = prepare(s, "SELECT 1 FROM pragma_table_info(?) WHERE name='keys'", &st,
	    err)) != CX_OK)
		return rc;
	sqlite3_bind_text(st, 1, coll, -1, SQLITE_TRANSIENT);
	t->has_keys = sqlite3_step(st) == SQLITE_ROW;
	stmt_done(st);
	load_key_fields(s, t);
	*out = t;
	return CX_OK;
}

/* Append the JSON text of doc's value at the dotted path field (null when missing). */
static void
add_value(struct cx_buf *b, json_object *doc, const char *field)
{
	json_object *v = cx_store_path_get(doc, field);

	/* cx_json_write writes json-c's text without leaving json-c's copy in v */
	if (v == NULL)
		cx_buf_str(b, "null");
	else if (cx_json_write(b, v) != 0)
		b->failed = 1;
}

/* keys for doc in table t ({"field":value,...}, t's field order), malloc'd; NULL when t
 * keeps no keys (*oom set when that is for want of memory). What the migration in
 * sq_ensure_indexes writes is the same text, so an unchanged value compares equal. */
static char *
keys_text(const struct table_info *t, json_object *doc, int *oom)
{
	struct cx_buf b = { 0 };
	size_t i;
	char *out;

	*oom = 0;
	if (!t->has_keys || t->nfields == 0)
		return NULL;
	cx_buf_str(&b, "{\"");
	for (i = 0; i < t->nfields; i++) {
		if (i > 0)
			cx_buf_str(&b, ",\"");
		cx_buf_str(&b, t->fields[i]);
		cx_buf_str(&b, "\":");
		add_value(&b, doc, t->fields[i]);
	}
	cx_buf_str(&b, "}");
	if ((out = cx_buf_take(&b)) == NULL)
		*oom = 1;
	return out;
}

/* ---- operations --------------------------------------------------------------- */

static int
sq_ping(struct cx_store *store, struct cx_error *err)
{
	return run_simple((struct sqlite_store *)store, "SELECT 1", err);
}

/* The CREATE INDEX statement SQLite keeps for index name, or NULL (malloc'd). */
static char *
stored_index_sql(struct sqlite_store *s, const char *name)
{
	sqlite3_stmt *st;
	const char *sql;
	char *out = NULL;

	if (prepare(s, "SELECT sql FROM sqlite_master WHERE type='index' AND name=?", &st,
	    NULL) != CX_OK)
		return NULL;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW && (sql = (const char *)sqlite3_column_text(st, 0)))
		out = strdup(sql);
	stmt_done(st);
	return out;
}

/* Create idx, or re-create it when the stored one was made by an older definition. */
static int
create_index(struct sqlite_store *s, const struct cx_index *idx, struct cx_error *err)
{
	struct sql q = { 0 }, drop = { 0 };
	char name[CX_STORE_NAME_MAX * 2 + 4], *have = NULL;
	size_t i;
	int rc = CX_OK;

	snprintf(name, sizeof(name), "%s__%s", idx->coll, idx->name);
	sql_addf(&q, "CREATE %sINDEX \"%s\" ON \"%s\" (",
	    idx->unique ? "UNIQUE " : "", name, idx->coll);
	for (i = 0; i < idx->nkeys; i++)
		sql_addf(&q, "%sjson_extract(keys,'$.%s')%s", i ? ", " : "", idx->keys[i].field,
		    idx->keys[i].dir < 0 ? " DESC" : "");
	sql_addf(&q, ")");
	/* A unique index leaves out the documents without its first field (early sessions
	 * have no session_id), as the MongoDB one does with its partial filter. Only the
	 * first: a query on that field alone implies it, so the index serves it (a condition
	 * on every field made finding the questions of a session a scan of all of them). */
	if (idx->unique)
		sql_addf(&q, " WHERE json_extract(keys,'$.%s') IS NOT NULL", idx->keys[0].field);
	if (q.oom) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	have = stored_index_sql(s, name);
	if (have != NULL && strcmp(have, q.text.data) == 0)
		goto out;
	if (have != NULL) {
		cx_logf(CX_LOG_INFO, "index %s changed: re-creating it", name);
		sql_addf(&drop, "DROP INDEX \"%s\"", name);
		if (drop.oom) {
			rc = cx_error_internal(err, "out of memory");
			goto out;
		}
		rc = sqlite3_exec(s->db, drop.text.data, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, q.text.data, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(s->db));
		rc = write_fail(s, rc, "create index", msg, err);
	}
out:
	free(have);
	sql_free(&drop);
	sql_free(&q);
	return rc;
}

/* How many of coll's two keys triggers exist. */
static int
count_triggers(struct sqlite_store *s, const char *coll)
{
	sqlite3_stmt *st;
	char a[CX_STORE_NAME_MAX + 16], b[CX_STORE_NAME_MAX + 16];
	int n = 0;

	snprintf(a, sizeof(a), "%s__keys", coll);
	snprintf(b, sizeof(b), "%s__keys_insert", coll);
	if (prepare(s, "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND "
	    "tbl_name=?1 AND name IN (?2, ?3)", &st, NULL) != CX_OK)
		return 0;
	sqlite3_bind_text(st, 1, coll, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, a, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, b, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	stmt_done(st);
	return n;
}

/* The SQL expression of keys for the document in column doc (see keys_text). */
static void
keys_sql(struct sql *q, const char *doc, char fields[][CX_STORE_FIELD_MAX], size_t n)
{
	size_t i;

	if (n == 0)
		sql_addf(q, "NULL");
	for (i = 0; i < n; i++)
		sql_addf(q, "%s'\"%s\":' || coalesce(%s -> '$.%s', 'null')",
		    i ? " || ',' || " : "('{' || ", fields[i], doc, fields[i]);
	if (n > 0)
		sql_addf(q, " || '}')");
}

/* Bring coll's keys column to the fields its indexes in set read: add the column to a
 * table of an older release, and fill it anew when the fields changed. */
static int
migrate_keys(struct sqlite_store *s, const struct cx_index_set *set, const char *coll,
    struct cx_error *err)
{
	char fields[KEY_FIELDS][CX_STORE_FIELD_MAX];
	const struct table_info *t;
	struct sql q = { 0 };
	size_t i, j, n = 0;
	int rc;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	for (i = 0; i < set->nindexes; i++)
		for (j = 0; strcmp(set->indexes[i].coll, coll) == 0 && j < set->indexes[i].nkeys; j++)
			if (!is_id(set->indexes[i].keys[j].field))
				n = add_field(fields, n, KEY_FIELDS, set->indexes[i].keys[j].field,
				    strlen(set->indexes[i].keys[j].field));
	qsort(fields, n, sizeof(fields[0]), cmp_field);
	if (t->has_keys && t->nfields == n &&
	    memcmp(t->fields, fields, n * sizeof(fields[0])) == 0 &&
	    (n == 0 || count_triggers(s, coll) == 2))
		return CX_OK;
	if (!t->has_keys)
		sql_addf(&q, "ALTER TABLE \"%s\" ADD COLUMN keys TEXT; ", coll);
	/* K: the text keys_text() makes, {"a":<a as JSON>,"b":...} (null when missing) */
	sql_addf(&q, "DROP TRIGGER IF EXISTS \"%s__keys\"; "
	    "DROP TRIGGER IF EXISTS \"%s__keys_insert\"; UPDATE \"%s\" SET keys = ",
	    coll, coll, coll);
	keys_sql(&q, "doc", fields, n);
	sql_addf(&q, "; ");
	/* Every writer's update of doc brings keys along, when (and only when) an indexed
	 * value changed: an update that leaves them be writes no index entry. */
	if (n > 0) {
		static const char *const when[] = { "UPDATE OF doc", "INSERT" };

		for (i = 0; i < 2; i++) {
			sql_addf(&q, "CREATE TRIGGER \"%s__keys%s\" AFTER %s ON \"%s\" FOR EACH ROW "
			    "WHEN new.keys IS NOT ", coll, i ? "_insert" : "", when[i], coll);
			keys_sql(&q, "new.doc", fields, n);
			sql_addf(&q, " BEGIN UPDATE \"%s\" SET keys = ", coll);
			keys_sql(&q, "new.doc", fields, n);
			sql_addf(&q, " WHERE rowid = new.rowid; END; ");
		}
	}
	if (q.oom)
		rc = cx_error_internal(err, "out of memory");
	else if ((rc = sqlite3_exec(s->db, q.text.data, NULL, NULL, NULL)) != SQLITE_OK)
		rc = db_fail(s, rc, "keep keys", err);
	sql_free(&q);
	if (rc == CX_OK)
		cx_logf(CX_LOG_INFO, "%s: indexed fields kept in keys (%zu)", coll, n);
	return rc;
}

static int
sq_ensure_indexes(struct cx_store *store, const struct cx_index_set *set, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	size_t i;
	int rc;

	if (s->txn)
		return cx_error_internal(err, "ensure_indexes inside a transaction");
	if ((rc = begin_immediate(s, err)) != CX_OK)
		return rc;
	s->ntables = 0;   /* the cache is rebuilt as the tables are (re)created */
	for (i = 0; i < set->ncolls && rc == CX_OK; i++)
		rc = migrate_keys(s, set, set->colls[i], err);
	for (i = 0; i < set->nindexes && rc == CX_OK; i++)
		rc = create_index(s, &set->indexes[i], err);
	if (rc == CX_OK)
		rc = run_simple(s, "COMMIT", err);
	if (rc != CX_OK)
		rollback(s);
	s->ntables = 0;   /* learnt again from the indexes as they are now */
	return rc;
}

/* The statements of insert and replace_one, on a document already serialized (text) with
 * its keys (NULL: the table keeps none). */
static int
insert_text(struct sqlite_store *s, const char *coll, const char *id, const char *text,
    size_t len, const char *keys, struct cx_error *err)
{
	struct sql q = { 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	sql_addf(&q, "INSERT INTO \"%s\" (id, doc%s) VALUES (?, ?%s)", coll,
	    keys != NULL ? ", keys" : "", keys != NULL ? ", ?" : "");
	sql_bind_text(&q, id, strlen(id));
	sql_bind_text(&q, text, len);
	if (keys != NULL)
		sql_bind_text(&q, keys, strlen(keys));
	if ((rc = prepare_sql(s, &q, &st, err)) == CX_OK)
		rc = step_write(s, st, "insert", err);
	sql_free(&q);
	return rc;
}

/* keys is written only when an indexed value changed (writing it re-writes every index
 * entry of the row, even with the same text): the first statement matches only a row
 * whose keys are the same, the second one the rest. */
static int
replace_text(struct sqlite_store *s, const struct table_info *t, const char *coll,
    const struct cx_filter *filter, const char *id, const char *text, size_t len,
    const char *keys, struct cx_error *err)
{
	struct sql q = { 0 };
	sqlite3_stmt *st = NULL;
	int rc, pass;

	for (pass = keys != NULL ? 0 : 1; pass < 2; pass++) {
		sql_free(&q);
		q.t = t;
		sql_addf(&q, "UPDATE \"%s\" SET doc = ?", coll);
		sql_bind_text(&q, text, len);
		if (pass == 1 && keys != NULL) {
			sql_addf(&q, ", keys = ?");
			sql_bind_text(&q, keys, strlen(keys));
		}
		where_sql(&q, filter);
		sql_addf(&q, " AND id = ?");
		sql_bind_text(&q, id, strlen(id));
		if (pass == 0) {
			sql_addf(&q, " AND keys IS ?");
			sql_bind_text(&q, keys, strlen(keys));
		}
		if ((rc = prepare_sql(s, &q, &st, err)) != CX_OK)
			goto out;
		if ((rc = step_write(s, st, "replace_one", err)) != CX_OK)
			goto out;
		if (sqlite3_changes(s->db) > 0)
			goto out;
	}
	rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
out:
	sql_free(&q);
	return rc;
}

static int
sq_insert(struct cx_store *store, const char *coll, json_object *doc, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct cx_buf text = { 0 };
	json_object *id;
	char *keys;
	int rc, oom;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	json_object_object_get_ex(doc, "id", &id);
	keys = keys_text(t, doc, &oom);
	if (cx_json_write(&text, doc) != 0 || oom)
		rc = cx_error_internal(err, "out of memory serializing a document");
	else
		rc = insert_text(s, coll, json_object_get_string(id), text.data, text.len, keys,
		    err);
	free(keys);
	cx_buf_free(&text);
	return rc;
}

static int
sq_find_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    json_object **out, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct sql q = { 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	q.t = t;
	sql_addf(&q, "SELECT doc FROM \"%s\"", coll);
	where_sql(&q, filter);
	sql_addf(&q, " LIMIT 1");
	if ((rc = prepare_sql(s, &q, &st, err)) != CX_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = parse_doc(s, st, 0, out, err);
	else if (rc == SQLITE_DONE)
		rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
	else
		rc = db_fail(s, rc, "find_one", err);
	stmt_done(st);
out:
	sql_free(&q);
	return rc;
}

static int
sq_find(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit, json_object *array,
    struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct sql q = { 0 };
	sqlite3_stmt *st = NULL;
	json_object *doc;
	int rc, step = SQLITE_DONE;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	q.t = t;
	sql_addf(&q, "SELECT doc FROM \"%s\"", coll);
	where_sql(&q, filter);
	order_sql(&q, sort, nsort);
	sql_addf(&q, " LIMIT ? OFFSET ?");
	sql_bind_int(&q, limit > 0 ? limit : -1);
	sql_bind_int(&q, skip);
	if ((rc = prepare_sql(s, &q, &st, err)) != CX_OK)
		goto out;
	while (rc == CX_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = parse_doc(s, st, 0, &doc, err)) != CX_OK)
			break;
		if (json_object_array_add(array, doc) != 0) {
			json_object_put(doc);
			rc = cx_error_internal(err, "out of memory");
		}
	}
	if (rc == CX_OK && step != SQLITE_DONE)
		rc = db_fail(s, step, "find", err);
	stmt_done(st);
out:
	sql_free(&q);
	return rc;
}

static int
sq_count(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    int64_t *out, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct sql q = { 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	q.t = t;
	sql_addf(&q, "SELECT count(*) FROM \"%s\"", coll);
	where_sql(&q, filter);
	if ((rc = prepare_sql(s, &q, &st, err)) != CX_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = CX_OK;
	} else
		rc = db_fail(s, rc, "count", err);
	stmt_done(st);
out:
	sql_free(&q);
	return rc;
}

/* Inside BEGIN IMMEDIATE: read the one matching document, apply the update in C,
 * write it back, commit. The write lock is held from the read to the commit. */
static int
sq_update_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_update *update, json_object **after, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct sql q = { 0 };
	struct cx_buf text = { 0 };
	sqlite3_stmt *st = NULL;
	json_object *doc = NULL;
	char *id = NULL, *keys = NULL;
	const char *idtext;
	int rc, oom, in_txn = 0;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	q.t = t;
	sql_addf(&q, "SELECT id, doc FROM \"%s\"", coll);
	where_sql(&q, filter);
	sql_addf(&q, " LIMIT 1");
	if (!s->txn) {   /* else the caller's transaction holds the write lock */
		if ((rc = begin_immediate(s, err)) != CX_OK)
			goto out;
		in_txn = 1;
	}
	if ((rc = prepare_sql(s, &q, &st, err)) != CX_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = parse_doc(s, st, 1, &doc, err);
		idtext = (const char *)sqlite3_column_text(st, 0);
		if (rc == CX_OK && (idtext == NULL || (id = strdup(idtext)) == NULL))
			rc = cx_error_internal(err, "stored document without id (or out of memory)");
	} else if (rc == SQLITE_DONE)
		rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
	else
		rc = db_fail(s, rc, "update_one select", err);
	stmt_done(st);
	if (rc != CX_OK)
		goto out;
	if (update->n > 0) {
		if ((rc = cx_store_apply_update(doc, update, err)) != CX_OK)
			goto out;
		keys = keys_text(t, doc, &oom);
		if (cx_json_write(&text, doc) != 0 || oom) {
			rc = cx_error_internal(err, "out of memory serializing a document");
			goto out;
		}
		if ((rc = replace_text(s, t, coll, NULL, id, text.data, text.len, keys, err)) !=
		    CX_OK)
			goto out;
	}
	if (in_txn && (rc = run_simple(s, "COMMIT", err)) != CX_OK)
		goto out;
	in_txn = 0;
	if (after != NULL) {
		*after = doc;
		doc = NULL;
	}
out:
	if (in_txn)
		rollback(s);
	json_object_put(doc);
	free(id);
	free(keys);
	cx_buf_free(&text);
	sql_free(&q);
	return rc;
}

/* One statement: the precondition and the write are one transaction, and the
 * serialization happened before it. */
static int
sq_replace_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const char *id, json_object *doc, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct cx_buf text = { 0 };
	char *keys;
	int rc, oom;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	keys = keys_text(t, doc, &oom);
	if (cx_json_write(&text, doc) != 0 || oom)
		rc = cx_error_internal(err, "out of memory serializing a document");
	else
		rc = replace_text(s, t, coll, filter, id, text.data, text.len, keys, err);
	free(keys);
	cx_buf_free(&text);
	return rc;
}

/* ---- deferred writes ------------------------------------------------------------ */

struct cx_store_write {
	char coll[CX_STORE_NAME_MAX];
	struct cx_filter *filter;   /* owned; NULL: an insert */
	char *id, *text, *keys;     /* owned (keys NULL: the table keeps none) */
	size_t len;
};

static void
sq_write_free(struct cx_store_write *w)
{
	if (w == NULL)
		return;
	cx_filter_free(w->filter);
	free(w->id);
	free(w->text);
	free(w->keys);
	free(w);
}

static int
sq_prepare(struct cx_store *store, const char *coll, struct cx_filter *filter, const char *id,
    json_object *doc, struct cx_store_write **out, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct cx_store_write *w;
	struct cx_buf text = { 0 };
	int rc, oom;

	*out = NULL;
	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK) {
		cx_filter_free(filter);
		return rc;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		cx_filter_free(filter);
		return cx_error_internal(err, "out of memory");
	}
	w->filter = filter;
	snprintf(w->coll, sizeof(w->coll), "%s", coll);
	w->keys = keys_text(t, doc, &oom);
	w->id = strdup(id);
	if (cx_json_write(&text, doc) == 0) {
		w->len = text.len;
		w->text = cx_buf_take(&text);
	}
	cx_buf_free(&text);
	if (w->id == NULL || w->text == NULL || oom) {
		sq_write_free(w);
		return cx_error_internal(err, "out of memory serializing a document");
	}
	*out = w;
	return CX_OK;
}

static int
sq_apply(struct cx_store *store, struct cx_store_write *const *w, size_t n, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	size_t i;
	int rc;

	if (!s->txn)
		return cx_error_internal(err, "deferred writes need an open transaction");
	if ((rc = run_simple(s, "SAVEPOINT cx_unit", err)) != CX_OK)
		return rc;
	for (i = 0; i < n && rc == CX_OK; i++) {
		if ((rc = ensure_table(s, w[i]->coll, &t, err)) != CX_OK)
			break;
		rc = w[i]->filter == NULL ?
		    insert_text(s, w[i]->coll, w[i]->id, w[i]->text, w[i]->len, w[i]->keys, err) :
		    replace_text(s, t, w[i]->coll, w[i]->filter, w[i]->id, w[i]->text, w[i]->len,
		    w[i]->keys, err);
	}
	if (rc != CX_OK) {   /* none of them */
		if (run_simple(s, "ROLLBACK TO cx_unit", NULL) != CX_OK ||
		    run_simple(s, "RELEASE cx_unit", NULL) != CX_OK) {
			rollback(s);   /* the transaction is gone (or SQLite rolled it back) */
			s->txn = 0;
		}
		return rc;
	}
	if ((rc = run_simple(s, "RELEASE cx_unit", err)) != CX_OK) {
		rollback(s);
		s->txn = 0;
	}
	return rc;
}

static int
sq_delete_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	const struct table_info *t;
	struct sql q = { 0 };
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = ensure_table(s, coll, &t, err)) != CX_OK)
		return rc;
	q.t = t;
	/* One statement, so finding and deleting the document is one transaction. */
	sql_addf(&q, "DELETE FROM \"%s\" WHERE id = (SELECT id FROM \"%s\"", coll, coll);
	where_sql(&q, filter);
	sql_addf(&q, " LIMIT 1)");
	if ((rc = prepare_sql(s, &q, &st, err)) != CX_OK)
		goto out;
	if ((rc = step_write(s, st, "delete_one", err)) == CX_OK && sqlite3_changes(s->db) == 0)
		rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
out:
	sql_free(&q);
	return rc;
}

static int
sq_begin(struct cx_store *store, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	int rc;

	if (s->txn)
		return cx_error_internal(err, "a transaction is already open");
	if ((rc = begin_immediate(s, err)) == CX_OK)
		s->txn = 1;
	return rc;
}

static int
sq_commit(struct cx_store *store, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	int rc;

	if (!s->txn)
		return cx_error_internal(err, "no transaction is open");
	rc = run_simple(s, "COMMIT", err);
	if (rc != CX_OK)
		rollback(s);
	s->txn = 0;
	return rc;
}

static void
sq_rollback(struct cx_store *store)
{
	struct sqlite_store *s = (struct sqlite_store *)store;

	if (s->txn)
		rollback(s);
	s->txn = 0;
}

/* A writer whose commit takes the log past this many pages checkpoints it itself: only a
 * safety net while the checkpointer is away. Such a checkpoint syncs the log and the
 * database inside a request's transaction; at 10000 pages it happened whenever the log
 * could not be restarted for a while (readers on it), costing 8 % of the workers' time
 * in fdatasync. */
#define DEFERRED_CHECKPOINT_PAGES 100000

static void
sq_defer_checkpoints(struct cx_store *store)
{
	sqlite3_wal_autocheckpoint(((struct sqlite_store *)store)->db, DEFERRED_CHECKPOINT_PAGES);
}

/* A passive checkpoint copies what it can while writers go on, so under a steady stream
 * of writes it never catches up and the log is never started over: it grows, and every
 * read searches a longer log index. Past RESTART_FRAMES the checkpointer waits for the
 * writer of the moment, copies the rest and waits for readers to leave the log, so the
 * next writer starts it over (journal_size_limit then trims the file). */
#define RESTART_FRAMES 4096
#define RESTART_WAIT_MS 20
/* Passes of passive copy and sync before the restart (see sq_checkpoint). */
#define PRESYNC_PASSES 2

/* Sync the file behind op (SQLITE_FCNTL_FILE_POINTER: the database;
 * SQLITE_FCNTL_JOURNAL_POINTER: its log) through the connection's own handle. */
static void
sync_file(struct sqlite_store *s, int op)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(s->db, "main", op, &f) == SQLITE_OK && f != NULL &&
	    f->pMethods != NULL)
		(void)f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/* One checkpointer per database file: each program's master runs one, and two copying
 * the same log contend for nothing but the disk. The first to take a lock on byte
 * CKPT_LOCK_BYTE of <db>-cxlock (an open-file-description lock, dropped when its process
 * dies) does the work; the others try again on their next tick. */
#define CKPT_LOCK_BYTE 4096
static int
checkpointer_lock(struct sqlite_store *s)
{
	struct flock fl;

	if (s->ckpt_fd >= 0)
		return 1;
	if (s->lock_path[0] == '\0')
		return 1;
	if ((s->ckpt_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return 1;   /* no lock file: checkpoint anyway */
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = CKPT_LOCK_BYTE;
	fl.l_len = 1;
	if (fcntl(s->ckpt_fd, F_OFD_SETLK, &fl) == 0)
		return 1;
	close(s->ckpt_fd);
	s->ckpt_fd = -1;
	return 0;
}

static int
sq_checkpoint(struct cx_store *store, struct cx_error *err)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	int nlog = 0, ndone = 0, rc;

	if (!checkpointer_lock(s))
		return CX_OK;   /* another process checkpoints this database */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &ndone);
	if (rc == SQLITE_OK && nlog >= RESTART_FRAMES && nlog != s->presynced_nlog) {
		/* A passive checkpoint that writers overtook leaves the pages it copied unsynced;
		 * the restart would sync them all (a second's worth, ~100 ms on a VPS disk)
		 * while it holds the writers back. Sync them now, copy what came meanwhile, and
		 * sync again, so the restart has only the last few milliseconds to sync. Not
		 * again while the log stays as it is (idle: the next writer starts it over). */
		for (int pass = 0; pass < PRESYNC_PASSES && rc == SQLITE_OK; pass++) {
			sync_file(s, SQLITE_FCNTL_FILE_POINTER);
			rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
			    NULL);
		}
		sync_file(s, SQLITE_FCNTL_FILE_POINTER);
		sync_file(s, SQLITE_FCNTL_JOURNAL_POINTER);
		s->presynced_nlog = nlog;
	}
	if (rc == SQLITE_OK && nlog >= RESTART_FRAMES) {
		/* Writers queue behind a pending restart: give up soon, try next tick. It holds
		 * the write lock while it runs, so it takes its place in the writers' queue: the
		 * writers then wait on the queue (woken when it is done) instead of polling. */
		s->busy_limit_ms = RESTART_WAIT_MS;
		writer_acquire(s);
		rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		writer_release(s);
		s->busy_limit_ms = 0;
	}
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return CX_OK;   /* busy: another checkpoint is running, the next tick goes on */
	return db_fail(s, rc, "wal_checkpoint", err);
}

static void
sq_close(struct cx_store *store)
{
	struct sqlite_store *s = (struct sqlite_store *)store;
	size_t i;

	for (i = 0; i < STMT_CACHE; i++) {
		sqlite3_finalize(s->stmts[i].stmt);
		free(s->stmts[i].sql);
	}
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		cx_logf(CX_LOG_WARN, "sqlite close: %s", sqlite3_errmsg(s->db));
	if (s->tok != NULL)
		json_tokener_free(s->tok);
	if (s->wl_held)
		pthread_mutex_unlock(&s->wl->mutex);
	if (s->wl != NULL)
		munmap(s->wl, sizeof(*s->wl));
	if (s->ckpt_fd >= 0)
		close(s->ckpt_fd);
	free(s);
}

static const struct cx_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.ping = sq_ping,
	.ensure_indexes = sq_ensure_indexes,
	.insert = sq_insert,
	.find_one = sq_find_one,
	.find = sq_find,
	.count = sq_count,
	.update_one = sq_update_one,
	.replace_one = sq_replace_one,
	.delete_one = sq_delete_one,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.prepare = sq_prepare,
	.apply = sq_apply,
	.write_free = sq_write_free,
	.defer_checkpoints = sq_defer_checkpoints,
	.checkpoint = sq_checkpoint,
};

static int
journal_mode_cb(void *arg, int ncols, char **vals, char **names)
{
	char *mode = arg;

	if (ncols > 0 && vals[0] != NULL)
		snprintf(mode, 16, "%s", vals[0]);
	return 0;
}

/* Before SQLite initializes (the first open does): no count of the memory it holds.
 * Counting takes a process-wide mutex on every allocation and free, about 200 per
 * stored answer, and nothing here reads the count. Too late (another part of the
 * process started SQLite first) is harmless: the count stays on. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void
configure_sqlite(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int
cx_store_sqlite_open(const char *path, struct cx_store **out, struct cx_error *err)
{
	struct sqlite_store *s;
	const char *vfs = NULL;
	char mode[16] = "";
	int rc, attempt;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cx_error_internal(err, "out of memory");
	s->base.ops = &sqlite_ops;
	pthread_once(&config_once, configure_sqlite);
	/* Writes a transaction's log frames with one write instead of two per page. */
	rc = cx_sqlite_vfs_register();
	if (rc == SQLITE_OK)
		vfs = CX_SQLITE_VFS;
	else
		cx_logf(CX_LOG_WARN, "sqlite VFS %s: %s: using the default VFS", CX_SQLITE_VFS,
		    sqlite3_errstr(rc));
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
	if (rc != SQLITE_OK) {
		cx_logf(CX_LOG_ERROR, "sqlite open %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		rc = unavailable(err, "Database unavailable");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, busy_wait, s);
	s->ckpt_fd = -1;
	if (snprintf(s->lock_path, sizeof(s->lock_path), "%s-cxlock", path) >=
	    (int)sizeof(s->lock_path))
		s->lock_path[0] = '\0';
	s->wl = writer_lock_open(s->lock_path);
	for (attempt = 0; attempt < BEGIN_RETRIES; attempt++) {
		rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", journal_mode_cb, mode, NULL);
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
	}
	/* The page cache stays at SQLite's default (2 MiB): every commit walks its hash
	 * table (pcache1 truncate), so a 16 MiB cache cost more there than it saved in
	 * reads, which the OS page cache serves anyway. */
	/* This connection writes keys itself, and only JSON that json-c made: the keys
	 * triggers and the json_valid CHECK, each a parse of the whole document per write,
	 * are for the other writers of the file (the sqlite3 shell, an older release). */
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL; "
		    "PRAGMA journal_size_limit=67108864; PRAGMA ignore_check_constraints=ON; "
		    "PRAGMA mmap_size=1073741824",
		    NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		cx_logf(CX_LOG_ERROR, "sqlite open %s: %s", path, sqlite3_errmsg(s->db));
		rc = unavailable(err, "Database unavailable");
		goto out;
	}
	if (strcmp(mode, "wal") != 0)
		cx_logf(CX_LOG_WARN, "sqlite %s: journal mode is '%s', not WAL", path, mode);
	s->tok = json_tokener_new_ex(CX_STORE_DOC_DEPTH);
	if (s->tok == NULL) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	*out = &s->base;
	return CX_OK;
out:
	sq_close(&s->base);
	return rc;
}
