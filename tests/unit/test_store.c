/* Unit tests of cx_store. One suite runs against every reachable back end: SQLite
 * always (a fresh file under a mkdtemp folder per test), MongoDB when
 * CX_TEST_MONGODB_URL is set (a fresh database per test, dropped afterwards). */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cx_json.h"
#include "cx_store.h"
#include "cx_store_impl.h"
#include "cx_time.h"

#define INDEXES_FILE CX_TEST_SRCDIR "/schema/indexes.json"

enum backend { BE_SQLITE, BE_MONGO };

struct be {
	enum backend kind;
};

static struct be all_backends[] = { { BE_SQLITE }, { BE_MONGO } };

/* The store of the running test (each Criterion test runs in its own process). */
static struct {
	enum backend kind;
	struct cx_store *store;
	char dir[64];
	char url[256];
	char db_name[64];
} T;

static struct criterion_test_params
backends(void)
{
	const char *url = getenv("CX_TEST_MONGODB_URL");

	return cr_make_param_array(struct be, all_backends, url != NULL && *url != '\0' ? 2 : 1);
}

static struct cx_store *
reopen(void)
{
	struct cx_error err = { 0 };
	struct cx_store *store = NULL;
	int rc;

	rc = cx_store_open(T.url, T.kind == BE_MONGO ? T.db_name : NULL, &store, &err);
	cr_assert_eq(rc, CX_OK, "open %s: %s", T.kind == BE_MONGO ? "mongodb" : "sqlite",
	    err.message);
	return store;
}

static void
open_store(enum backend kind)
{
	memset(&T, 0, sizeof(T));
	T.kind = kind;
	if (kind == BE_SQLITE) {
		snprintf(T.dir, sizeof(T.dir), "/tmp/cx-store-XXXXXX");
		cr_assert_not_null(mkdtemp(T.dir));
		snprintf(T.url, sizeof(T.url), "sqlite:%s/store.db", T.dir);
	} else {
		snprintf(T.url, sizeof(T.url), "%s", getenv("CX_TEST_MONGODB_URL"));
		snprintf(T.db_name, sizeof(T.db_name), "cx_test_%ld_%ld", (long)time(NULL),
		    (long)getpid());
	}
	T.store = reopen();
	cr_assert_str_eq(cx_store_backend(T.store), kind == BE_MONGO ? "mongodb" : "sqlite");
}

static void
close_store(void)
{
	char path[128];
	static const char *const suffixes[] = { "", "-wal", "-shm", "-cxlock" };
	size_t i;

	if (T.kind == BE_MONGO && T.store != NULL)
		cx_store_mongo_drop_database(T.store, NULL);
	cx_store_close(T.store);
	T.store = NULL;
	if (T.kind == BE_SQLITE && T.dir[0] != '\0') {
		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/store.db%s", T.dir, suffixes[i]);
			unlink(path);
		}
		rmdir(T.dir);
	}
}

#define STORE_TEST(name) \
	ParameterizedTestParameters(store, name) { return backends(); } \
	ParameterizedTest(struct be *be, store, name, .fini = close_store)

/* ---- helpers ------------------------------------------------------------------ */

static json_object *
parse(const char *text)
{
	json_object *v = json_tokener_parse(text);

	cr_assert(v != NULL || strcmp(text, "null") == 0, "bad JSON in test: %s", text);
	return v;
}

/* Insert a document given as JSON text; its id goes to id_out (may be NULL). */
static void
put(const char *coll, const char *text, char id_out[CX_OID_LEN])
{
	struct cx_error err = { 0 };
	json_object *doc = parse(text);

	cr_assert_eq(cx_store_insert(T.store, coll, doc, &err), CX_OK, "insert %s: %s", text,
	    err.message);
	if (id_out != NULL)
		snprintf(id_out, CX_OID_LEN, "%s", cx_json_str(doc, "id"));
	json_object_put(doc);
}

static struct cx_filter *
by_id(const char *id)
{
	return cx_filter_eq_str(cx_filter_new(), "id", id);
}

/* The document with this id (caller's), asserting it exists. */
static json_object *
get(const char *coll, const char *id)
{
	struct cx_error err = { 0 };
	struct cx_filter *f = by_id(id);
	json_object *doc = NULL;

	cr_assert_eq(cx_store_find_one(T.store, coll, f, &doc, &err), CX_OK, "get %s: %s", id,
	    err.message);
	cx_filter_free(f);
	return doc;
}

static const char *
str_at(json_object *doc, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(doc, a, &v))
		return NULL;
	if (b != NULL && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t
int_at(json_object *doc, const char *field)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(doc, field, &v), "no field %s", field);
	cr_assert(json_object_is_type(v, json_type_int), "%s is not an int", field);
	return json_object_get_int64(v);
}

/* Names of the documents matching filter, sorted by name, joined with ','. */
static void
names_of(const char *coll, const struct cx_filter *filter, char *out, size_t outsz)
{
	struct cx_sort sort[] = { { "name", 1 } };
	struct cx_error err = { 0 };
	json_object *list = NULL;
	size_t i, len = 0;

	cr_assert_eq(cx_store_find(T.store, coll, filter, sort, 1, 0, 0, &list, &err), CX_OK,
	    "find: %s", err.message);
	out[0] = '\0';
	for (i = 0; i < json_object_array_length(list); i++) {
		const char *name = str_at(json_object_array_get_idx(list, i), "name", NULL);

		len += (size_t)snprintf(out + len, outsz - len, "%s%s", i ? "," : "",
		    name ? name : "?");
		cr_assert_lt(len, outsz);
	}
	json_object_put(list);
}

static int64_t
count(const char *coll, const struct cx_filter *filter)
{
	struct cx_error err = { 0 };
	int64_t n = -1;

	cr_assert_eq(cx_store_count(T.store, coll, filter, &n, &err), CX_OK, "count: %s",
	    err.message);
	return n;
}

static void
ensure_indexes(void)
{
	struct cx_error err = { 0 };

	cr_assert_eq(cx_store_ensure_indexes(T.store, INDEXES_FILE, &err), CX_OK,
	    "ensure_indexes: %s", err.message);
}

/* A conflict message must name the field and show nothing of the database. */
static void
assert_clean_conflict(const struct cx_error *err, const char *field)
{
	static const char *const internals[] = {
		"UNIQUE", "constraint", "index", "E11000", "SQL", "sqlite", "dup key", "__",
	};
	char want[96];
	size_t i;

	cr_assert_eq(err->code, CX_ECONFLICT, "code %d: %s", err->code, err->message);
	snprintf(want, sizeof(want), "A record with this %s already exists", field);
	cr_assert_str_eq(err->message, want);
	for (i = 0; i < sizeof(internals) / sizeof(internals[0]); i++)
		cr_assert_null(strstr(err->message, internals[i]), "message shows '%s'",
		    internals[i]);
}

/* ---- basic operations ------------------------------------------------------------ */

STORE_TEST(ping_and_backend)
{
	struct cx_error err = { 0 };

	open_store(be->kind);
	cr_assert_eq(cx_store_ping(T.store, &err), CX_OK, "%s", err.message);
}

STORE_TEST(insert_generates_id)
{
	struct cx_error err = { 0 };
	json_object *doc = parse("{\"name\":\"ann\",\"n\":1}"), *got;
	const char *id;

	open_store(be->kind);
	cr_assert_eq(cx_store_insert(T.store, "things", doc, &err), CX_OK, "%s", err.message);
	id = cx_json_str(doc, "id");
	cr_assert(cx_oid_valid(id), "generated id '%s'", id ? id : "(none)");
	got = get("things", id);
	cr_assert_str_eq(str_at(got, "id", NULL), id);
	cr_assert_str_eq(str_at(got, "name", NULL), "ann");
	cr_assert_eq(int_at(got, "n"), 1);
	cr_assert_null(str_at(got, "_id", NULL));
	json_object_put(got);
	json_object_put(doc);
}

STORE_TEST(insert_keeps_given_id_in_lower_case)
{
	const char *upper = "65A0B1C2D3E4F5A6B7C8D9E0";
	char buf[128];
	json_object *got;

	open_store(be->kind);
	snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"name\":\"x\"}", upper);
	put("things", buf, NULL);
	got = get("things", upper);   /* found with either case */
	cr_assert_str_eq(str_at(got, "id", NULL), "65a0b1c2d3e4f5a6b7c8d9e0");
	json_object_put(got);
}

STORE_TEST(find_one_by_id_by_field_and_not_found)
{
	struct cx_error err = { 0 };
	struct cx_filter *f;
	json_object *doc = NULL;
	char id[CX_OID_LEN], other[CX_OID_LEN];

	open_store(be->kind);
	f = by_id("65a0b1c2d3e4f5a6b7c8d9e0");
	cr_assert_eq(cx_store_find_one(T.store, "users", f, &doc, &err), CX_ENOTFOUND);
	cr_assert_null(doc);
	cx_filter_free(f);

	put("users", "{\"email\":\"ann@example.com\",\"name\":\"ann\"}", id);
	put("users", "{\"email\":\"bob@example.com\",\"name\":\"bob\"}", other);
	doc = get("users", other);
	cr_assert_str_eq(str_at(doc, "name", NULL), "bob");
	json_object_put(doc);

	f = cx_filter_eq_str(cx_filter_new(), "email", "ann@example.com");
	cr_assert_eq(cx_store_find_one(T.store, "users", f, &doc, &err), CX_OK, "%s", err.message);
	cr_assert_str_eq(str_at(doc, "id", NULL), id);
	json_object_put(doc);
	cx_filter_free(f);

	doc = NULL;
	f = cx_filter_eq_str(cx_filter_new(), "email", "nobody@example.com");
	cr_assert_eq(cx_store_find_one(T.store, "users", f, &doc, &err), CX_ENOTFOUND);
	cr_assert_eq(err.code, CX_ENOTFOUND);
	cr_assert_null(doc);
	cx_filter_free(f);

	/* No filter: any document. Another collection: nothing. */
	cr_assert_eq(cx_store_find_one(T.store, "users", NULL, &doc, NULL), CX_OK);
	json_object_put(doc);
	doc = NULL;
	cr_assert_eq(cx_store_find_one(T.store, "resumes", NULL, &doc, NULL), CX_ENOTFOUND);
	cr_assert_null(doc);
}

/* ---- filters --------------------------------------------------------------------- */

#define OP_IN (-1)

static const char *const people[] = {
	"{\"name\":\"ann\",\"age\":30,\"active\":true,\"email\":\"ann@EXAMPLE.com\","
	    "\"nick\":\"Annie\",\"score\":1.5}",
	"{\"name\":\"bob\",\"age\":25,\"active\":false,\"email\":\"Bob@example.com\",\"nick\":null}",
	"{\"name\":\"cat\",\"age\":35,\"active\":true,\"email\":\"cat@test.org\"}",
	/* dan's age is a string and his flag a number: strict types must not match them
	 * against numbers and bools. */
	"{\"name\":\"dan\",\"age\":\"40\",\"active\":1,\"email\":\"dan@test.org\"}",
	"{\"name\":\"eve\",\"age\":28,\"active\":false,\"email\":\"eve+x%_@test.org\","
	    "\"profile\":{\"city\":\"Paris\"}}",
};

static const struct {
	const char *field;
	int op;
	const char *value;   /* JSON text */
	const char *want;    /* names, sorted */
} filter_cases[] = {
	{ "email", CX_EQ, "\"cat@test.org\"", "cat" },
	{ "age", CX_EQ, "25", "bob" },
	{ "age", CX_EQ, "\"40\"", "dan" },
	{ "age", CX_EQ, "25.0", "bob" },
	{ "score", CX_EQ, "1.5", "ann" },
	{ "active", CX_EQ, "true", "ann,cat" },
	{ "active", CX_EQ, "false", "bob,eve" },
	{ "active", CX_NE, "true", "bob,dan,eve" },
	{ "nick", CX_EQ, "null", "bob,cat,dan,eve" },
	{ "nick", CX_NE, "null", "ann" },
	{ "nick", CX_NE, "\"Annie\"", "bob,cat,dan,eve" },
	{ "name", CX_NE, "\"ann\"", "bob,cat,dan,eve" },
	{ "age", CX_GT, "28", "ann,cat" },
	{ "age", CX_GTE, "28", "ann,cat,eve" },
	{ "age", CX_LT, "28", "bob" },
	{ "age", CX_LTE, "28", "bob,eve" },
	{ "name", CX_GT, "\"cat\"", "dan,eve" },
	{ "name", CX_LTE, "\"bob\"", "ann,bob" },
	{ "email", CX_CONTAINS_I, "\"EXAMPLE\"", "ann,bob" },
	{ "email", CX_CONTAINS_I, "\"%_\"", "eve" },
	{ "email", CX_CONTAINS_I, "\"+X\"", "eve" },
	{ "email", CX_CONTAINS_I, "\"t.org\"", "cat,dan,eve" },
	{ "email", CX_CONTAINS_I, "\"t_org\"", "" },
	{ "name", CX_CONTAINS_I, "\"a.n\"", "" },
	{ "name", CX_CONTAINS_I, "\".*\"", "" },
	{ "age", CX_CONTAINS_I, "\"4\"", "dan" },
	{ "profile.city", CX_CONTAINS_I, "\"AR\"", "eve" },
	{ "profile.city", CX_EQ, "\"Paris\"", "eve" },
	{ "profile.city", CX_EQ, "null", "ann,bob,cat,dan" },
	{ "missing", CX_EQ, "null", "ann,bob,cat,dan,eve" },
	{ "missing", CX_EQ, "\"x\"", "" },
	{ "name", OP_IN, "[\"ann\",\"eve\",\"zed\"]", "ann,eve" },
	{ "age", OP_IN, "[25,\"40\"]", "bob,dan" },
	{ "age", OP_IN, "[\"25\",\"40\"]", "dan" },   /* strings match strings only */
	{ "nick", OP_IN, "[null,\"Annie\"]", "ann,bob,cat,dan,eve" },
	{ "active", OP_IN, "[true]", "ann,cat" },
	{ "name", OP_IN, "[]", "" },
};

STORE_TEST(filter_operators)
{
	char got[256];
	size_t i;

	open_store(be->kind);
	for (i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		put("people", people[i], NULL);
	for (i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++) {
		struct cx_filter *f = cx_filter_new();
		json_object *v = parse(filter_cases[i].value);

		if (filter_cases[i].op == OP_IN)
			cx_filter_in(f, filter_cases[i].field, v);
		else
			cx_filter_add(f, filter_cases[i].field, filter_cases[i].op, v);
		names_of("people", f, got, sizeof(got));
		cr_expect_str_eq(got, filter_cases[i].want, "case %zu: %s op %d %s", i,
		    filter_cases[i].field, filter_cases[i].op, filter_cases[i].value);
		cr_expect_eq(count("people", f), (int64_t)(got[0] ? 1 + (strlen(got) / 4) : 0),
		    "count of case %zu", i);
		cx_filter_free(f);
	}
}

STORE_TEST(filter_conditions_are_anded)
{
	struct cx_filter *f;
	char got[256];
	size_t i;

	open_store(be->kind);
	for (i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		put("people", people[i], NULL);
	f = cx_filter_eq_bool(cx_filter_new(), "active", 1);
	cx_filter_add(f, "age", CX_GT, json_object_new_int(30));
	names_of("people", f, got, sizeof(got));
	cr_assert_str_eq(got, "cat");
	cx_filter_free(f);

	/* two conditions on one field */
	f = cx_filter_add(cx_filter_new(), "age", CX_GTE, json_object_new_int(25));
	cx_filter_add(f, "age", CX_LT, json_object_new_int(30));
	names_of("people", f, got, sizeof(got));
	cr_assert_str_eq(got, "bob,eve");
	cx_filter_free(f);

	f = cx_filter_eq_int(cx_filter_new(), "age", 25);
	cx_filter_eq_str(f, "name", "ann");
	names_of("people", f, got, sizeof(got));
	cr_assert_str_eq(got, "");
	cx_filter_free(f);
}

STORE_TEST(filter_on_ids)
{
	char a[CX_OID_LEN], b[CX_OID_LEN], c[CX_OID_LEN], got[64];
	struct cx_filter *f;
	json_object *ids;

	open_store(be->kind);
	put("people", "{\"name\":\"ann\"}", a);
	put("people", "{\"name\":\"bob\"}", b);
	put("people", "{\"name\":\"cat\"}", c);
	ids = json_object_new_array();
	json_object_array_add(ids, json_object_new_string(a));
	json_object_array_add(ids, json_object_new_string(c));
	f = cx_filter_in(cx_filter_new(), "id", ids);
	names_of("people", f, got, sizeof(got));
	cr_assert_str_eq(got, "ann,cat");
	cx_filter_free(f);

	f = cx_filter_add(cx_filter_new(), "id", CX_NE, json_object_new_string(b));
	names_of("people", f, got, sizeof(got));
	cr_assert_str_eq(got, "ann,cat");
	cx_filter_free(f);

	f = cx_filter_eq_str(cx_filter_new(), "id", "not-an-object-id");
	names_of("people", f, got, sizeof(got));
	cr_assert_str_eq(got, "");
	cx_filter_free(f);
}

/* Client text used as a value stays a value: no operator, no pattern, no SQL. */
STORE_TEST(no_operator_injection)
{
	static const char *const hostile[] = {
		"{\"$ne\": null}", "{\"$gt\": \"\"}", "' OR '1'='1", "\") OR 1=1 --", "%", "_",
	};
	struct cx_error err = { 0 };
	struct cx_filter *f;
	json_object *doc = NULL;
	char id[CX_OID_LEN], buf[256];
	size_t i;

	open_store(be->kind);
	put("users", "{\"email\":\"ann@example.com\",\"name\":\"ann\"}", NULL);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		f = cx_filter_eq_str(cx_filter_new(), "email", hostile[i]);
		doc = NULL;
		cr_expect_eq(cx_store_find_one(T.store, "users", f, &doc, NULL), CX_ENOTFOUND,
		    "value %s matched", hostile[i]);
		json_object_put(doc);
		cx_filter_free(f);
	}
	/* the same text stored literally is found, and only it */
	snprintf(buf, sizeof(buf), "{\"email\":\"{\\\"$ne\\\": null}\",\"name\":\"mal\"}");
	put("users", buf, id);
	f = cx_filter_eq_str(cx_filter_new(), "email", "{\"$ne\": null}");
	cr_assert_eq(cx_store_find_one(T.store, "users", f, &doc, &err), CX_OK, "%s", err.message);
	cr_assert_str_eq(str_at(doc, "id", NULL), id);
	json_object_put(doc);
	cx_filter_free(f);

	/* hostile field names are refused, not run */
	f = cx_filter_eq_str(cx_filter_new(), "email') OR 1=1 --", "x");
	doc = NULL;
	cr_assert_eq(cx_store_find_one(T.store, "users", f, &doc, &err), CX_EINTERNAL);
	cr_assert_null(doc);
	cx_filter_free(f);
	f = cx_filter_eq_str(cx_filter_new(), "$where", "1");
	cr_assert_eq(cx_store_count(T.store, "users", f, &(int64_t){ 0 }, NULL), CX_EINTERNAL);
	cx_filter_free(f);
	f = cx_filter_eq_str(cx_filter_new(), "email", "x");
	cx_filter_add(f, "email", CX_EQ, parse("{\"$ne\":null}"));   /* object value */
	cr_assert_eq(cx_store_count(T.store, "users", f, &(int64_t){ 0 }, NULL), CX_EINTERNAL);
	cx_filter_free(f);
}

/* ---- sort, skip, limit, count ----------------------------------------------- */

static void
seq_of(json_object *list, char *out, size_t outsz)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < json_object_array_length(list); i++) {
		len += (size_t)snprintf(out + len, outsz - len, "%s%s", i ? "," : "",
		    str_at(json_object_array_get_idx(list, i), "name", NULL));
		cr_assert_lt(len, outsz);
	}
}

static void
expect_page(const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit,
    const char *want)
{
	struct cx_error err = { 0 };
	json_object *list = NULL;
	char got[128];

	cr_assert_eq(cx_store_find(T.store, "items", NULL, sort, nsort, skip, limit, &list, &err),
	    CX_OK, "%s", err.message);
	seq_of(list, got, sizeof(got));
	cr_expect_str_eq(got, want, "skip %lld limit %lld", (long long)skip, (long long)limit);
	json_object_put(list);
}

STORE_TEST(sort_skip_limit)
{
	/* name, group, n, created_at */
	static const char *const items[] = {
		"{\"name\":\"c\",\"g\":\"x\",\"n\":3,\"t\":\"2025-01-03T00:00:00.000Z\"}",
		"{\"name\":\"a\",\"g\":\"y\",\"n\":1,\"t\":\"2025-01-01T00:00:00.000Z\"}",
		"{\"name\":\"e\",\"g\":\"x\",\"n\":5,\"t\":\"2025-01-05T00:00:00.000Z\"}",
		"{\"name\":\"b\",\"g\":\"y\",\"n\":2,\"t\":\"2025-01-02T00:00:00.000Z\"}",
		"{\"name\":\"d\",\"g\":\"x\",\"n\":4,\"t\":\"2025-01-04T00:00:00.000Z\"}",
		"{\"name\":\"f\",\"g\":\"y\",\"n\":10,\"t\":\"2025-01-10T00:00:00.000Z\"}",
	};
	struct cx_sort by_n[] = { { "n", 1 } }, by_n_desc[] = { { "n", -1 } },
	    by_t_desc[] = { { "t", -1 } }, two[] = { { "g", 1 }, { "n", -1 } };
	size_t i;

	open_store(be->kind);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		put("items", items[i], NULL);
	expect_page(by_n, 1, 0, 0, "a,b,c,d,e,f");     /* numbers sort as numbers: 10 last */
	expect_page(by_n_desc, 1, 0, 0, "f,e,d,c,b,a");
	expect_page(by_t_desc, 1, 0, 0, "f,e,d,c,b,a");
	expect_page(two, 2, 0, 0, "e,d,c,f,b,a");
	expect_page(by_n, 1, 0, 2, "a,b");
	expect_page(by_n, 1, 2, 2, "c,d");
	expect_page(by_n, 1, 4, 2, "e,f");
	expect_page(by_n, 1, 6, 2, "");
	expect_page(by_n, 1, 3, 0, "d,e,f");
	expect_page(two, 2, 1, 3, "d,c,f");
}

STORE_TEST(paging_arguments_are_checked)
{
	struct cx_sort bad_field[] = { { "n; DROP TABLE items", 1 } }, bad_dir[] = { { "n", 0 } };
	struct cx_error err = { 0 };
	json_object *list = NULL;

	open_store(be->kind);
	cr_assert_eq(cx_store_find(T.store, "items", NULL, NULL, 0, -1, 10, &list, &err),
	    CX_EVALIDATION);
	cr_assert_str_eq(err.field, "skip");
	cx_error_clear(&err);
	cr_assert_eq(cx_store_find(T.store, "items", NULL, NULL, 0, 0, -5, &list, &err),
	    CX_EVALIDATION);
	cr_assert_str_eq(err.field, "limit");
	cr_assert_eq(cx_store_find(T.store, "items", NULL, bad_field, 1, 0, 0, &list, NULL),
	    CX_EVALIDATION);
	cr_assert_eq(cx_store_find(T.store, "items", NULL, bad_dir, 1, 0, 0, &list, NULL),
	    CX_EVALIDATION);
	cr_assert_null(list);
	/* nothing matches: an empty array, not an error */
	cr_assert_eq(cx_store_find(T.store, "items", NULL, NULL, 0, 0, 0, &list, NULL), CX_OK);
	cr_assert_eq(json_object_array_length(list), 0);
	json_object_put(list);
	cr_assert_eq(cx_store_find(T.store, "bad name", NULL, NULL, 0, 0, 0, &list, NULL),
	    CX_EINTERNAL);
}

STORE_TEST(count_documents)
{
	struct cx_filter *f;
	size_t i;

	open_store(be->kind);
	cr_assert_eq(count("people", NULL), 0);
	for (i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		put("people", people[i], NULL);
	cr_assert_eq(count("people", NULL), 5);
	f = cx_filter_eq_bool(cx_filter_new(), "active", 0);
	cr_assert_eq(count("people", f), 2);
	cx_filter_free(f);
	cr_assert_eq(count("other", NULL), 0);
}

/* ---- updates ------------------------------------------------------------------ */

static int
update(const char *coll, struct cx_filter *f, struct cx_update *u, json_object **after,
    struct cx_error *err)
{
	int rc = cx_store_update_one(T.store, coll, f, u, after, err);

	cx_filter_free(f);
	cx_update_free(u);
	return rc;
}

STORE_TEST(update_set_nested_paths)
{
	struct cx_error err = { 0 };
	json_object *after = NULL, *doc;
	char id[CX_OID_LEN];

	open_store(be->kind);
	put("users", "{\"name\":\"ann\",\"profile\":{\"bio\":\"hi\"}}", id);
	cr_assert_eq(update("users", by_id(id),
	    cx_update_set(cx_update_set(cx_update_set(cx_update_new(),
	    "profile.phone", json_object_new_string("+33 1")),
	    "preferences.theme.color", json_object_new_string("dark")),
	    "name", json_object_new_string("Ann")), &after, &err), CX_OK, "%s", err.message);
	cr_assert_str_eq(str_at(after, "profile", "phone"), "+33 1");
	cr_assert_str_eq(str_at(after, "name", NULL), "Ann");
	json_object_put(after);

	doc = get("users", id);
	cr_assert_str_eq(str_at(doc, "profile", "phone"), "+33 1");
	cr_assert_str_eq(str_at(doc, "profile", "bio"), "hi");
	cr_assert_str_eq(str_at(doc, "name", NULL), "Ann");
	cr_assert_str_eq(str_at(doc, "id", NULL), id);
	{
		json_object *prefs, *theme;

		cr_assert(json_object_object_get_ex(doc, "preferences", &prefs));
		cr_assert(json_object_object_get_ex(prefs, "theme", &theme));
		cr_assert_str_eq(str_at(theme, "color", NULL), "dark");
	}
	json_object_put(doc);

	/* set to an object and to null */
	cr_assert_eq(update("users", by_id(id), cx_update_set(cx_update_set(cx_update_new(),
	    "result", parse("{\"total_score\":7,\"strengths\":[\"a\"]}")), "profile.bio", NULL),
	    NULL, &err), CX_OK, "%s", err.message);
	doc = get("users", id);
	{
		json_object *result, *profile, *bio = (json_object *)1;

		cr_assert(json_object_object_get_ex(doc, "result", &result));
		cr_assert_eq(int_at(result, "total_score"), 7);
		cr_assert(json_object_object_get_ex(doc, "profile", &profile));
		cr_assert(json_object_object_get_ex(profile, "bio", &bio));
		cr_assert_null(bio);
	}
	json_object_put(doc);
}

STORE_TEST(update_unset_push_inc)
{
	struct cx_error err = { 0 };
	json_object *after = NULL, *tags, *profile;
	char id[CX_OID_LEN];

	open_store(be->kind);
	put("sessions", "{\"status\":\"active\",\"profile\":{\"a\":1,\"b\":2},\"score\":1.5}", id);
	cr_assert_eq(update("sessions", by_id(id),
	    cx_update_inc(cx_update_push(cx_update_unset(cx_update_new(), "profile.a"),
	    "tags", json_object_new_string("t1")), "counter", 5), &after, &err), CX_OK, "%s",
	    err.message);
	cr_assert(json_object_object_get_ex(after, "profile", &profile));
	cr_assert_not(json_object_object_get_ex(profile, "a", NULL));
	cr_assert_eq(int_at(profile, "b"), 2);
	cr_assert(json_object_object_get_ex(after, "tags", &tags));
	cr_assert_eq(json_object_array_length(tags), 1);
	cr_assert_eq(int_at(after, "counter"), 5);
	json_object_put(after);

	cr_assert_eq(update("sessions", by_id(id),
	    cx_update_inc(cx_update_push(cx_update_unset(cx_update_unset(cx_update_new(),
	    "nothing.here"), "status.below_a_string"),
	    "tags", parse("{\"event\":\"blur\"}")), "counter", -2), &after, &err), CX_OK, "%s",
	    err.message);
	cr_assert_eq(int_at(after, "counter"), 3);
	cr_assert(json_object_object_get_ex(after, "tags", &tags));
	cr_assert_eq(json_object_array_length(tags), 2);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(tags, 0)), "t1");
	cr_assert_str_eq(str_at(json_object_array_get_idx(tags, 1), "event", NULL), "blur");
	json_object_put(after);

	/* $inc of a double keeps it a number */
	cr_assert_eq(update("sessions", by_id(id), cx_update_inc(cx_update_new(), "score", 1),
	    &after, &err), CX_OK, "%s", err.message);
	cr_assert(json_object_object_get_ex(after, "score", &tags));
	cr_assert_float_eq(json_object_get_double(tags), 2.5, 1e-9);
	json_object_put(after);
}

STORE_TEST(update_precondition_failing_changes_nothing)
{
	struct cx_error err = { 0 };
	struct cx_filter *f;
	json_object *after = NULL, *doc;
	char id[CX_OID_LEN];

	open_store(be->kind);
	put("sessions", "{\"status\":\"completed\",\"n\":1}", id);
	f = cx_filter_eq_str(by_id(id), "status", "active");
	cr_assert_eq(update("sessions", f, cx_update_inc(cx_update_set(cx_update_new(), "status",
	    json_object_new_string("paused")), "n", 1), &after, &err), CX_ENOTFOUND);
	cr_assert_eq(err.code, CX_ENOTFOUND);
	cr_assert_null(after);
	doc = get("sessions", id);
	cr_assert_str_eq(str_at(doc, "status", NULL), "completed");
	cr_assert_eq(int_at(doc, "n"), 1);
	json_object_put(doc);

	f = cx_filter_eq_str(by_id(id), "status", "completed");
	cr_assert_eq(update("sessions", f, cx_update_set(cx_update_new(), "status",
	    json_object_new_string("archived")), NULL, &err), CX_OK);
	doc = get("sessions", id);
	cr_assert_str_eq(str_at(doc, "status", NULL), "archived");
	json_object_put(doc);

	/* an empty update only checks the filter */
	cr_assert_eq(update("sessions", by_id(id), cx_update_new(), &after, NULL), CX_OK);
	cr_assert_str_eq(str_at(after, "status", NULL), "archived");
	json_object_put(after);
	after = NULL;
	cr_assert_eq(update("sessions", by_id("65a0b1c2d3e4f5a6b7c8d9e0"), cx_update_new(), &after,
	    NULL), CX_ENOTFOUND);
	cr_assert_null(after);
}

STORE_TEST(update_type_errors_change_nothing)
{
	struct cx_error err = { 0 };
	json_object *doc;
	char id[CX_OID_LEN];

	open_store(be->kind);
	put("sessions", "{\"name\":\"s\",\"n\":\"one\",\"list\":{}}", id);
	cr_assert_neq(update("sessions", by_id(id), cx_update_push(cx_update_new(), "name",
	    json_object_new_string("x")), NULL, &err), CX_OK);
	cr_assert_neq(update("sessions", by_id(id), cx_update_inc(cx_update_new(), "n", 1), NULL,
	    NULL), CX_OK);
	cr_assert_neq(update("sessions", by_id(id), cx_update_set(cx_update_new(), "name.first",
	    json_object_new_string("x")), NULL, NULL), CX_OK);
	doc = get("sessions", id);
	cr_assert_str_eq(str_at(doc, "name", NULL), "s");
	cr_assert_str_eq(str_at(doc, "n", NULL), "one");
	json_object_put(doc);

	/* refused before reaching the database */
	cr_assert_eq(update("sessions", by_id(id), cx_update_set(cx_update_new(), "id",
	    json_object_new_string("65a0b1c2d3e4f5a6b7c8d9e0")), NULL, NULL), CX_EINTERNAL);
	cr_assert_eq(update("sessions", by_id(id), cx_update_inc(cx_update_set(cx_update_new(),
	    "a", json_object_new_int(1)), "a.b", 1), NULL, NULL), CX_EINTERNAL);
	cr_assert_eq(update("sessions", by_id(id), cx_update_set(cx_update_new(), "a.$b",
	    json_object_new_int(1)), NULL, NULL), CX_EINTERNAL);
	cr_assert_eq(update("sessions", NULL, cx_update_inc(cx_update_new(), "n", 1), NULL, NULL),
	    CX_EINTERNAL);
}

/* ---- unique indexes ----------------------------------------------------------- */

STORE_TEST(unique_violation_on_insert)
{
	struct cx_error err = { 0 };
	json_object *doc;
	struct cx_filter *f;
	char id[CX_OID_LEN];

	open_store(be->kind);
	ensure_indexes();
	put("users", "{\"email\":\"ann@example.com\",\"name\":\"ann\"}", id);
	doc = parse("{\"email\":\"ann@example.com\",\"name\":\"imposter\"}");
	cr_assert_eq(cx_store_insert(T.store, "users", doc, &err), CX_ECONFLICT);
	assert_clean_conflict(&err, "email");
	cr_assert_not(json_object_object_get_ex(doc, "id", NULL), "failed insert kept an id");
	json_object_put(doc);
	f = cx_filter_eq_str(cx_filter_new(), "email", "ann@example.com");
	cr_assert_eq(count("users", f), 1);
	cx_filter_free(f);

	/* the same id twice */
	cx_error_clear(&err);
	doc = json_object_new_object();
	json_object_object_add(doc, "id", json_object_new_string(id));
	json_object_object_add(doc, "email", json_object_new_string("other@example.com"));
	cr_assert_eq(cx_store_insert(T.store, "users", doc, &err), CX_ECONFLICT);
	assert_clean_conflict(&err, "id");
	json_object_put(doc);
}

/* replace_one: the whole document, only while the precondition holds. */
STORE_TEST(replace_with_revision_precondition)
{
	struct cx_error err = { 0 };
	struct cx_filter *f;
	json_object *doc, *next;
	char id[CX_OID_LEN], text[160];

	open_store(be->kind);
	put("sessions", "{\"status\":\"active\",\"rev\":3,\"answers\":[1,2]}", id);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"status\":\"paused\",\"rev\":4,"
	    "\"answers\":[1,2,3]}", id);
	next = parse(text);
	/* a stale revision changes nothing */
	f = cx_filter_eq_int(by_id(id), "rev", 2);
	cr_assert_eq(cx_store_replace_one(T.store, "sessions", f, next, &err), CX_ENOTFOUND);
	cx_filter_free(f);
	doc = get("sessions", id);
	cr_assert_str_eq(str_at(doc, "status", NULL), "active");
	cr_assert_eq(int_at(doc, "rev"), 3);
	json_object_put(doc);
	/* the current one replaces the whole document */
	f = cx_filter_eq_int(by_id(id), "rev", 3);
	cr_assert_eq(cx_store_replace_one(T.store, "sessions", f, next, &err), CX_OK, "%s",
	    err.message);
	cx_filter_free(f);
	doc = get("sessions", id);
	cr_assert_str_eq(str_at(doc, "status", NULL), "paused");
	cr_assert_eq(int_at(doc, "rev"), 4);
	cr_assert_eq(json_object_array_length(json_object_object_get(doc, "answers")), 3);
	json_object_put(doc);
	/* ... once: the same precondition no longer holds */
	f = cx_filter_eq_int(by_id(id), "rev", 3);
	cr_assert_eq(cx_store_replace_one(T.store, "sessions", f, next, NULL), CX_ENOTFOUND);
	cx_filter_free(f);
	json_object_put(next);
	/* an unknown id, and a document without one */
	next = parse("{\"id\":\"65a0b1c2d3e4f5a6b7c8d9e0\",\"rev\":1}");
	cr_assert_eq(cx_store_replace_one(T.store, "sessions", NULL, next, NULL), CX_ENOTFOUND);
	json_object_put(next);
	next = parse("{\"rev\":1}");
	cr_assert_eq(cx_store_replace_one(T.store, "sessions", NULL, next, NULL), CX_EINTERNAL);
	json_object_put(next);
}

/* A group of writes: on SQLite all or nothing, and invisible to other connections until
 * committed; on MongoDB the writes apply one by one (the documented contract). */
STORE_TEST(transactions_group_writes)
{
	struct cx_error err = { 0 };
	struct cx_store *other;
	struct cx_update *u;
	struct cx_filter *f;
	json_object *a, *b;
	char id[CX_OID_LEN];

	open_store(be->kind);
	put("answers", "{\"n\":0}", id);
	/* committed: every write is there, update_one included */
	cr_assert_eq(cx_store_begin(T.store, &err), CX_OK, "%s", err.message);
	a = parse("{\"n\":1}");
	cr_assert_eq(cx_store_insert(T.store, "answers", a, &err), CX_OK, "%s", err.message);
	f = by_id(id);
	u = cx_update_inc(cx_update_new(), "n", 5);
	cr_assert_eq(cx_store_update_one(T.store, "answers", f, u, NULL, &err), CX_OK, "%s",
	    err.message);
	cx_update_free(u);
	cx_filter_free(f);
	if (be->kind == BE_SQLITE) {
		/* another connection sees none of it yet */
		int64_t n = -1;

		other = reopen();
		cr_assert_eq(cx_store_count(other, "answers", NULL, &n, &err), CX_OK, "%s",
		    err.message);
		cr_expect_eq(n, 1, "an uncommitted insert is visible: %lld", (long long)n);
		cx_store_close(other);
	}
	cr_assert_eq(cx_store_commit(T.store, &err), CX_OK, "%s", err.message);
	cr_expect_eq(count("answers", NULL), 2);
	b = get("answers", id);
	cr_expect_eq(int_at(b, "n"), 5);
	json_object_put(b);
	json_object_put(a);
	/* rolled back: on SQLite none of it stays */
	cr_assert_eq(cx_store_begin(T.store, &err), CX_OK, "%s", err.message);
	a = parse("{\"n\":2}");
	cr_assert_eq(cx_store_insert(T.store, "answers", a, &err), CX_OK, "%s", err.message);
	f = by_id(id);
	u = cx_update_set(cx_update_new(), "n", json_object_new_int(99));
	cr_assert_eq(cx_store_update_one(T.store, "answers", f, u, NULL, &err), CX_OK);
	cx_update_free(u);
	cx_filter_free(f);
	cx_store_rollback(T.store);
	json_object_put(a);
	if (be->kind == BE_SQLITE) {
		cr_expect_eq(count("answers", NULL), 2, "a rolled-back insert stayed");
		b = get("answers", id);
		cr_expect_eq(int_at(b, "n"), 5, "a rolled-back update stayed");
		json_object_put(b);
		/* one at a time, and a commit needs a begin */
		cr_assert_eq(cx_store_begin(T.store, &err), CX_OK);
		cr_expect_eq(cx_store_begin(T.store, &err), CX_EINTERNAL);
		cx_error_clear(&err);
		cx_store_rollback(T.store);
		cr_expect_eq(cx_store_commit(T.store, &err), CX_EINTERNAL);
	} else
		cr_expect_eq(count("answers", NULL), 3);
	/* after all that, plain writes commit on their own again */
	put("answers", "{\"n\":3}", NULL);
	{
		struct cx_store *again = reopen();
		int64_t n = -1;

		cr_assert_eq(cx_store_count(again, "answers", NULL, &n, &err), CX_OK);
		cr_expect_eq(n, be->kind == BE_SQLITE ? 3 : 4);
		cx_store_close(again);
	}
}

/* Checkpoints copy the log into the database; a connection that defers them still reads
 * and writes, and the data survives a checkpoint. */
STORE_TEST(checkpoints_keep_the_data)
{
	struct cx_error err = { 0 };
	char path[160];
	struct stat st;
	int i;

	open_store(be->kind);
	cx_store_defer_checkpoints(T.store);
	for (i = 0; i < 300; i++)
		put("answers", "{\"text\":\"a few hundred bytes of answer text to fill pages with "
		    "data, again and again, so that the log grows past a page or two per "
		    "document and the checkpoint has work to do\"}", NULL);
	cr_assert_eq(cx_store_checkpoint(T.store, &err), CX_OK, "%s", err.message);
	cr_expect_eq(count("answers", NULL), 300);
	if (be->kind == BE_SQLITE) {
		/* the database file now holds the documents, not only the log */
		snprintf(path, sizeof(path), "%s/store.db", T.dir);
		cr_assert_eq(stat(path, &st), 0);
		cr_expect_gt(st.st_size, 300 * 150, "the checkpoint copied nothing (%lld bytes)",
		    (long long)st.st_size);
	}
	cx_store_close(T.store);
	T.store = reopen();
	cr_expect_eq(count("answers", NULL), 300);
}

/* An integer equality on a document's first key (a version number kept first) is
 * answered from its first bytes in SQLite; the answers must be the same as anywhere. */
STORE_TEST(equality_on_the_first_key)
{
	static const struct {
		const char *doc;
		int64_t want_n[4];   /* matches for rev = 5, 50, -5, 0 */
	} cases[] = {
		{ "{\"rev\":5,\"a\":1}", { 1, 0, 0, 0 } },
		{ "{\"rev\":50,\"a\":1}", { 0, 1, 0, 0 } },
		{ "{\"rev\":-5,\"a\":1}", { 0, 0, 1, 0 } },
		{ "{\"rev\":5.0,\"a\":1}", { 1, 0, 0, 0 } },
		{ "{\"rev\":\"5\",\"a\":1}", { 0, 0, 0, 0 } },
		{ "{\"rev\":false,\"a\":1}", { 0, 0, 0, 0 } },
		{ "{\"a\":1,\"rev\":5}", { 1, 0, 0, 0 } },
		{ "{\"a\":1,\"nested\":{\"rev\":5}}", { 0, 0, 0, 0 } },
	};
	static const int64_t revs[] = { 5, 50, -5, 0 };
	char id[CX_OID_LEN];
	size_t i, j;

	open_store(be->kind);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("versions", cases[i].doc, id);
		for (j = 0; j < 4; j++) {
			struct cx_filter *f = cx_filter_eq_int(by_id(id), "rev", revs[j]);

			cr_expect_eq(count("versions", f), cases[i].want_n[j], "%s with rev = %lld",
			    cases[i].doc, (long long)revs[j]);
			cx_filter_free(f);
		}
	}
}

STORE_TEST(replace_respects_unique_indexes)
{
	struct cx_error err = { 0 };
	json_object *doc;
	char bob[CX_OID_LEN], text[128];

	open_store(be->kind);
	ensure_indexes();
	put("users", "{\"email\":\"ann@example.com\"}", NULL);
	put("users", "{\"email\":\"bob@example.com\"}", bob);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"email\":\"ann@example.com\"}", bob);
	doc = parse(text);
	cr_assert_eq(cx_store_replace_one(T.store, "users", NULL, doc, &err), CX_ECONFLICT,
	    "%d %s", err.code, err.message);
	assert_clean_conflict(&err, "email");
	json_object_put(doc);
	doc = get("users", bob);
	cr_assert_str_eq(str_at(doc, "email", NULL), "bob@example.com");
	json_object_put(doc);
}

STORE_TEST(unique_violation_on_update)
{
	struct cx_error err = { 0 };
	json_object *doc;
	char bob[CX_OID_LEN];

	open_store(be->kind);
	ensure_indexes();
	put("users", "{\"email\":\"ann@example.com\"}", NULL);
	put("users", "{\"email\":\"bob@example.com\"}", bob);
	cr_assert_eq(update("users", by_id(bob), cx_update_set(cx_update_new(), "email",
	    json_object_new_string("ann@example.com")), NULL, &err), CX_ECONFLICT);
	assert_clean_conflict(&err, "email");
	doc = get("users", bob);
	cr_assert_str_eq(str_at(doc, "email", NULL), "bob@example.com");
	json_object_put(doc);
	/* the store still works after the failed transaction */
	cr_assert_eq(update("users", by_id(bob), cx_update_set(cx_update_new(), "email",
	    json_object_new_string("robert@example.com")), NULL, NULL), CX_OK);
}

STORE_TEST(unique_index_ignores_missing_fields)
{
	struct cx_error err = { 0 };
	json_object *doc;

	open_store(be->kind);
	ensure_indexes();
	put("interview_sessions", "{\"status\":\"setup\"}", NULL);
	put("interview_sessions", "{\"status\":\"setup\"}", NULL);
	put("interview_sessions", "{\"session_id\":\"s-1\"}", NULL);
	doc = parse("{\"session_id\":\"s-1\"}");
	cr_assert_eq(cx_store_insert(T.store, "interview_sessions", doc, &err), CX_ECONFLICT);
	assert_clean_conflict(&err, "session_id");
	json_object_put(doc);
	cr_assert_eq(count("interview_sessions", NULL), 3);
}

STORE_TEST(ensure_indexes_is_idempotent)
{
	struct cx_error err = { 0 };
	char path[128];
	FILE *fp;

	open_store(be->kind);
	ensure_indexes();
	put("users", "{\"email\":\"ann@example.com\"}", NULL);
	ensure_indexes();
	cx_store_close(T.store);
	T.store = reopen();
	ensure_indexes();
	cr_assert_eq(count("users", NULL), 1);

	cr_assert_neq(cx_store_ensure_indexes(T.store, "/nonexistent/indexes.json", &err), CX_OK);
	cx_error_clear(&err);
	snprintf(path, sizeof(path), "/tmp/cx-store-idx-%ld.json", (long)getpid());
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("{\"users\":[{\"name\":\"x_1\",\"keys\":[[\"x\",2]]}]}", fp);
	fclose(fp);
	cr_assert_eq(cx_store_ensure_indexes(T.store, path, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "indexes");
	unlink(path);
}

/* SQLite's plan for a query, as one line per step ("SEARCH t USING INDEX ..."). */
static void
query_plan(const char *sql, char *out, size_t len)
{
	char path[160], q[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t used = 0;

	snprintf(path, sizeof(path), "%s/store.db", T.dir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && used < len)
		used += (size_t)snprintf(out + used, len - used, "%s\n",
		    (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
db_exec(const char *sql)
{
	char path[160];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/store.db", T.dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int64_t
count_eq(const char *coll, const char *field, const char *value)
{
	struct cx_filter *f = cx_filter_eq_str(cx_filter_new(), field, value);
	int64_t n = count(coll, f);

	cx_filter_free(f);
	return n;
}

/* The questions of one session are found through the (session_id, question_id) index,
 * not by reading every question stored. A database of an older release (no keys column,
 * indexes on doc, a condition on both fields of the unique one) is brought to the
 * current layout by ensure_indexes, its documents all there and still unique. */
Test(store_sqlite, older_databases_get_indexes_that_serve_their_queries, .fini = close_store)
{
	static const char *const q = "SELECT doc FROM interview_questions WHERE "
	    "json_extract(keys,'$.session_id') = 's-1'";
	struct cx_error err = { 0 };
	json_object *doc;
	char plan[1024];

	open_store(BE_SQLITE);
	cx_store_close(T.store);
	T.store = NULL;
	db_exec("PRAGMA journal_mode=WAL;"
	    "CREATE TABLE interview_questions (id TEXT PRIMARY KEY, doc TEXT NOT NULL "
	    "CHECK (json_valid(doc)));"
	    "CREATE UNIQUE INDEX \"interview_questions__session_id_1_question_id_1\" ON "
	    "\"interview_questions\" (json_extract(doc,'$.session_id'), "
	    "json_extract(doc,'$.question_id')) WHERE json_extract(doc,'$.session_id') IS NOT "
	    "NULL AND json_extract(doc,'$.question_id') IS NOT NULL;"
	    "INSERT INTO interview_questions VALUES ('a', '{\"id\":\"a\",\"session_id\":\"s-1\","
	    "\"question_id\":\"q1\"}'), ('b', '{\"id\":\"b\",\"session_id\":\"s-1\","
	    "\"question_id\":\"q2\"}'), ('c', '{\"id\":\"c\",\"session_id\":\"s-2\","
	    "\"question_id\":\"q1\"}'), ('d', '{\"id\":\"d\",\"note\":\"no session\"}');");
	T.store = reopen();
	ensure_indexes();
	query_plan(q, plan, sizeof(plan));
	cr_assert(strstr(plan, "USING INDEX interview_questions__session_id_1_question_id_1"),
	    "plan: %s", plan);
	cr_expect_eq(count_eq("interview_questions", "session_id", "s-1"), 2);
	cr_expect_eq(count_eq("interview_questions", "session_id", "s-2"), 1);
	cr_expect_eq(count("interview_questions", NULL), 4);
	doc = parse("{\"session_id\":\"s-1\",\"question_id\":\"q2\"}");
	cr_assert_eq(cx_store_insert(T.store, "interview_questions", doc, &err), CX_ECONFLICT);
	json_object_put(doc);
	cx_error_clear(&err);
	/* and a second ensure_indexes leaves it as it is */
	ensure_indexes();
	cr_expect_eq(count_eq("interview_questions", "session_id", "s-1"), 2);
}

/* The indexes follow every writer: the program's updates, and SQL run by hand. */
Test(store_sqlite, indexed_values_follow_every_writer, .fini = close_store)
{
	char id[CX_OID_LEN];

	open_store(BE_SQLITE);
	ensure_indexes();
	put("interview_sessions", "{\"candidate_id\":\"c1\",\"status\":\"active\","
	    "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"rev\":1}", id);
	cr_expect_eq(count_eq("interview_sessions", "status", "active"), 1);
	/* the program: a whole document replaced, one field changed */
	cr_assert_eq(update("interview_sessions", by_id(id), cx_update_set(cx_update_new(),
	    "status", json_object_new_string("completed")), NULL, NULL), CX_OK);
	cr_expect_eq(count_eq("interview_sessions", "status", "active"), 0);
	cr_expect_eq(count_eq("interview_sessions", "status", "completed"), 1);
	/* a field nobody indexes: found as before */
	cr_assert_eq(update("interview_sessions", by_id(id), cx_update_set(cx_update_new(),
	    "rev", json_object_new_int(2)), NULL, NULL), CX_OK);
	cr_expect_eq(count_eq("interview_sessions", "status", "completed"), 1);
	/* replaced under a precondition, the way an interview is saved */
	{
		struct cx_error err = { 0 };
		struct cx_filter *f = cx_filter_eq_int(cx_filter_new(), "rev", 2);
		json_object *doc = get("interview_sessions", id);

		json_object_object_add(doc, "status", json_object_new_string("paused"));
		json_object_object_add(doc, "rev", json_object_new_int(3));
		cr_assert_eq(cx_store_replace_one(T.store, "interview_sessions", f, doc, &err), CX_OK,
		    "%s", err.message);
		cr_expect_eq(cx_store_replace_one(T.store, "interview_sessions", f, doc, &err),
		    CX_ENOTFOUND, "the precondition no longer holds");
		cx_error_clear(&err);
		cx_filter_free(f);
		json_object_put(doc);
	}
	cr_expect_eq(count_eq("interview_sessions", "status", "completed"), 0);
	cr_expect_eq(count_eq("interview_sessions", "status", "paused"), 1);
	/* by hand */
	db_exec("UPDATE interview_sessions SET doc = json_set(doc, '$.status', 'terminated')");
	cr_expect_eq(count_eq("interview_sessions", "status", "paused"), 0);
	cr_expect_eq(count_eq("interview_sessions", "status", "terminated"), 1);
	db_exec("INSERT INTO interview_sessions (id, doc) VALUES ('x1', "
	    "'{\"id\":\"x1\",\"candidate_id\":\"c1\",\"status\":\"active\"}')");
	cr_expect_eq(count_eq("interview_sessions", "status", "active"), 1);
	cr_expect_eq(count_eq("interview_sessions", "candidate_id", "c1"), 2);
}

/* Deferred writes: prepared from the document as it is then, applied later in one
 * transaction; a unit that fails leaves nothing of itself and the others are stored. */
Test(store_sqlite, deferred_writes_apply_all_or_none_of_each_unit, .fini = close_store)
{
	struct cx_error err = { 0 };
	struct cx_store_write *a[2], *b[2], *c[1];
	json_object *doc, *s1;
	char id[CX_OID_LEN];
	size_t i;

	open_store(BE_SQLITE);
	ensure_indexes();
	cr_assert(cx_store_can_defer(T.store));
	put("interview_sessions", "{\"candidate_id\":\"c1\",\"status\":\"active\","
	    "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"rev\":1}", id);
	/* unit a: an answer and the session moved on (rev 1 -> 2, status changed) */
	doc = parse("{\"id\":\"a1\",\"session_id\":\"s1\",\"question_id\":\"q1\"}");
	cr_assert_eq(cx_store_prepare(T.store, "interview_answers", NULL, doc, &a[0], &err),
	    CX_OK, "%s", err.message);
	json_object_put(doc);
	s1 = get("interview_sessions", id);
	json_object_object_add(s1, "rev", json_object_new_int(2));
	json_object_object_add(s1, "status", json_object_new_string("paused"));
	cr_assert_eq(cx_store_prepare(T.store, "interview_sessions",
	    cx_filter_eq_int(cx_filter_new(), "rev", 1), s1, &a[1], &err), CX_OK);
	/* the document as it was when prepared counts, not what it became */
	json_object_object_add(s1, "status", json_object_new_string("terminated"));
	/* unit b: the same answer again and a stale revision: refused whole */
	doc = parse("{\"id\":\"a2\",\"session_id\":\"s1\",\"question_id\":\"q2\"}");
	cr_assert_eq(cx_store_prepare(T.store, "interview_answers", NULL, doc, &b[0], &err),
	    CX_OK);
	json_object_put(doc);
	cr_assert_eq(cx_store_prepare(T.store, "interview_sessions",
	    cx_filter_eq_int(cx_filter_new(), "rev", 1), s1, &b[1], &err), CX_OK);
	/* unit c: an answer to a question answered already (unique index) */
	doc = parse("{\"id\":\"a3\",\"session_id\":\"s1\",\"question_id\":\"q1\"}");
	cr_assert_eq(cx_store_prepare(T.store, "interview_answers", NULL, doc, &c[0], &err),
	    CX_OK);
	json_object_put(doc);
	json_object_put(s1);

	cr_assert_eq(cx_store_apply(T.store, a, 2, &err), CX_EINTERNAL,
	    "applied without a transaction");
	cx_error_clear(&err);
	cr_assert_eq(cx_store_begin(T.store, &err), CX_OK);
	cr_expect_eq(cx_store_apply(T.store, a, 2, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cx_store_apply(T.store, b, 2, &err), CX_ENOTFOUND, "a stale revision");
	cx_error_clear(&err);
	cr_expect_eq(cx_store_apply(T.store, c, 1, &err), CX_ECONFLICT, "a second answer");
	cx_error_clear(&err);
	cr_assert_eq(cx_store_commit(T.store, &err), CX_OK, "%s", err.message);
	for (i = 0; i < 2; i++) {
		cx_store_write_free(T.store, a[i]);
		cx_store_write_free(T.store, b[i]);
	}
	cx_store_write_free(T.store, c[0]);

	cr_expect_eq(count_eq("interview_answers", "session_id", "s1"), 1,
	    "unit b's answer was stored without its session");
	cr_expect_eq(count_eq("interview_sessions", "status", "paused"), 1,
	    "the indexed status did not follow");
	cr_expect_eq(count_eq("interview_sessions", "status", "active"), 0);
	cr_expect_eq(count_eq("interview_sessions", "status", "terminated"), 0,
	    "a change made after the write was prepared was stored");
	s1 = get("interview_sessions", id);
	cr_expect_eq(int_at(s1, "rev"), 2);
	json_object_put(s1);
}

/* ---- delete --------------------------------------------------------------------- */

STORE_TEST(delete_one)
{
	struct cx_error err = { 0 };
	struct cx_filter *f;
	json_object *doc = NULL;
	char a[CX_OID_LEN];

	open_store(be->kind);
	put("people", "{\"name\":\"ann\",\"g\":1}", a);
	put("people", "{\"name\":\"bob\",\"g\":2}", NULL);
	put("people", "{\"name\":\"cat\",\"g\":2}", NULL);
	f = by_id(a);
	cr_assert_eq(cx_store_delete_one(T.store, "people", f, &err), CX_OK, "%s", err.message);
	cr_assert_eq(cx_store_find_one(T.store, "people", f, &doc, NULL), CX_ENOTFOUND);
	cr_assert_eq(cx_store_delete_one(T.store, "people", f, &err), CX_ENOTFOUND);
	cx_filter_free(f);

	f = cx_filter_eq_int(cx_filter_new(), "g", 2);
	cr_assert_eq(cx_store_delete_one(T.store, "people", f, NULL), CX_OK);
	cr_assert_eq(count("people", f), 1);   /* exactly one of the two */
	cx_filter_free(f);
	cr_assert_eq(cx_store_delete_one(T.store, "people", NULL, NULL), CX_EINTERNAL);
	cr_assert_eq(count("people", NULL), 1);
}

/* ---- concurrency ----------------------------------------------------------------- */

#define WORKERS 2
#define ROUNDS 200

static int
hammer(const char *id)
{
	struct cx_store *store = NULL;
	struct cx_error err = { 0 };
	int i, failures = 0;
	char item[32];

	if (cx_store_open(T.url, T.kind == BE_MONGO ? T.db_name : NULL, &store, &err) != CX_OK)
		return 1;
	for (i = 0; i < ROUNDS; i++) {
		struct cx_filter *f = by_id(id);
		struct cx_update *u = cx_update_inc(cx_update_new(), "counter", 1);

		if (cx_store_update_one(store, "docs", f, u, NULL, &err) != CX_OK)
			failures++;
		cx_update_free(u);
		snprintf(item, sizeof(item), "%ld-%d", (long)getpid(), i);
		u = cx_update_push(cx_update_new(), "items", json_object_new_string(item));
		if (cx_store_update_one(store, "docs", f, u, NULL, &err) != CX_OK)
			failures++;
		cx_update_free(u);
		cx_filter_free(f);
	}
	cx_store_close(store);
	return failures == 0 ? 0 : 1;
}

STORE_TEST(concurrent_updates_from_two_processes)
{
	pid_t pids[WORKERS];
	json_object *doc, *items;
	char id[CX_OID_LEN];
	int i, status;

	open_store(be->kind);
	put("docs", "{\"counter\":0,\"items\":[]}", id);
	/* no connection crosses fork(): each process opens its own */
	cx_store_close(T.store);
	T.store = NULL;
	for (i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		cr_assert_neq(pids[i], -1);
		if (pids[i] == 0)
			_exit(hammer(id));
	}
	for (i = 0; i < WORKERS; i++) {
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d failed", i);
	}
	T.store = reopen();
	doc = get("docs", id);
	cr_assert_eq(int_at(doc, "counter"), WORKERS * ROUNDS);
	cr_assert(json_object_object_get_ex(doc, "items", &items));
	cr_assert_eq(json_object_array_length(items), WORKERS * ROUNDS);
	json_object_put(doc);
}

/* A process that dies in the middle of a write transaction (holding the writers' queue
 * and SQLite's lock) holds up nobody: the next writer goes on at once. */
Test(store_sqlite, a_writer_that_dies_mid_transaction_blocks_nobody, .fini = close_store)
{
	struct cx_error err = { 0 };
	struct timespec t0, t1;
	char id[CX_OID_LEN];
	int pipefd[2], status;
	pid_t pid;
	char c;

	open_store(BE_SQLITE);
	put("docs", "{\"counter\":0}", id);
	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct cx_store *mine = reopen();

		if (cx_store_begin(mine, NULL) != CX_OK)
			_exit(1);
		(void)!write(pipefd[1], "x", 1);
		pause();   /* killed here, the transaction open */
		_exit(0);
	}
	cr_assert_eq(read(pipefd[0], &c, 1), 1, "the child could not begin");
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(pipefd[0]);
	close(pipefd[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(update("docs", by_id(id), cx_update_inc(cx_update_new(), "counter", 1),
	    NULL, &err), CX_OK, "%s", err.message);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect_lt(t1.tv_sec - t0.tv_sec, 4, "the write waited for the dead writer's lock");
	cr_expect_eq(count("docs", NULL), 1);
}

/* ---- opening ---------------------------------------------------------------------- */

Test(store_open, unusable_targets_are_unavailable)
{
	struct cx_error err = { 0 };
	struct cx_store *store = NULL;
	char dir[] = "/tmp/cx-store-XXXXXX", path[64];
	FILE *fp;

	cr_assert_eq(cx_store_open("sqlite:/nonexistent/dir/x.db", NULL, &store, &err),
	    CX_EUNAVAIL);
	cr_assert_null(store);
	cr_assert_null(strstr(err.message, "nonexistent"));

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/junk.db", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("this is not an SQLite database, just text that is long enough to be a header\n", fp);
	fclose(fp);
	cr_assert_eq(cx_store_open(path, NULL, &store, NULL), CX_EUNAVAIL);
	cr_assert_null(store);
	unlink(path);
	rmdir(dir);

	cr_assert_eq(cx_store_open("", NULL, &store, NULL), CX_EUNAVAIL);
	cr_assert_eq(cx_store_open("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"
	    "&connectTimeoutMS=300", "cx_test", &store, NULL), CX_EUNAVAIL);
	cr_assert_eq(cx_store_open("mongodb://", "cx_test", &store, NULL), CX_EUNAVAIL);
	cr_assert_null(store);
}

Test(store_open, plain_path_and_prefixes)
{
	static const char *const prefixes[] = { "", "sqlite:", "sqlite://" };
	struct cx_store *store = NULL;
	char dir[] = "/tmp/cx-store-XXXXXX", url[96], file[96];
	size_t i;

	cr_assert_not_null(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "%s%s/%c.db", prefixes[i], dir, 'a' + (int)i);
		cr_assert_eq(cx_store_open(url, NULL, &store, NULL), CX_OK, "%s", url);
		cr_assert_str_eq(cx_store_backend(store), "sqlite");
		cr_assert_eq(cx_store_ping(store, NULL), CX_OK);
		cx_store_close(store);
		snprintf(file, sizeof(file), "%s/%c.db", dir, 'a' + (int)i);
		cr_assert_eq(access(file, F_OK), 0, "%s not created", file);
		unlink(file);
		snprintf(file, sizeof(file), "%s/%c.db-wal", dir, 'a' + (int)i);
		unlink(file);
		snprintf(file, sizeof(file), "%s/%c.db-shm", dir, 'a' + (int)i);
		unlink(file);
		snprintf(file, sizeof(file), "%s/%c.db-cxlock", dir, 'a' + (int)i);
		cr_assert_eq(access(file, F_OK), 0, "%s not created", file);
		unlink(file);
	}
	cr_assert_eq(rmdir(dir), 0);
}

/* ---- internals ---------------------------------------------------------------------- */

Test(store_internals, field_names)
{
	static const struct { const char *field; int ok; } cases[] = {
		{ "email", 1 }, { "profile.phone", 1 }, { "a_b.c1.D", 1 }, { "", 0 }, { ".a", 0 },
		{ "a.", 0 }, { "a..b", 0 }, { "a-b", 0 }, { "$ne", 0 }, { "a'b", 0 }, { "a b", 0 },
		{ "é", 0 },
	};
	char longname[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(cx_store_field_valid(cases[i].field), cases[i].ok, "%s", cases[i].field);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_expect_not(cx_store_field_valid(longname));
	cr_expect(cx_store_coll_valid("interview_sessions"));
	cr_expect_not(cx_store_coll_valid("sqlite_master"));
	cr_expect_not(cx_store_coll_valid("users\"; --"));
}

Test(store_internals, conflict_fields_from_index_names)
{
	static const struct { const char *name; const char *want; } cases[] = {
		{ "email_1", "email" },
		{ "candidate_id_1_created_at_-1", "candidate_id,created_at" },
		{ "_id_", "id" },
		{ "email_unique", "" },
		{ "1", "" },
	};
	char fields[4][CX_STORE_FIELD_MAX], got[128];
	size_t i, j, n, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cx_store_index_name_fields(cases[i].name, fields, 4);
		got[0] = '\0';
		for (j = 0, len = 0; j < n; j++)
			len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", j ? "," : "",
			    fields[j]);
		cr_expect_str_eq(got, cases[i].want, "%s", cases[i].name);
	}
}

Test(store_internals, conflict_messages)
{
	const char *two[] = { "candidate_id", "status" }, *three[] = { "a", "b", "c" };
	struct cx_error err = { 0 };

	cr_assert_eq(cx_store_conflict(&err, two, 2), CX_ECONFLICT);
	cr_assert_str_eq(err.message, "A record with this candidate_id and status already exists");
	cx_error_clear(&err);
	cx_store_conflict(&err, three, 3);
	cr_assert_str_eq(err.message, "A record with this a, b and c already exists");
	cx_error_clear(&err);
	cx_store_conflict(&err, NULL, 0);
	cr_assert_str_eq(err.message, "A record with these values already exists");
}

Test(store_internals, apply_update_creates_paths)
{
	json_object *doc = parse("{\"a\":{\"x\":1},\"n\":2}");
	struct cx_update *u = cx_update_new();

	cx_update_set(u, "a.b.c", json_object_new_int(3));
	cx_update_inc(u, "n", 40);
	cx_update_inc(u, "m", -1);
	cx_update_push(u, "p.q", json_object_new_boolean(1));
	cx_update_unset(u, "a.x");
	cr_assert_eq(cx_store_apply_update(doc, u, NULL), CX_OK);
	cr_assert_str_eq(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN),
	    "{\"a\":{\"b\":{\"c\":3}},\"n\":42,\"m\":-1,\"p\":{\"q\":[true]}}");
	cx_update_free(u);
	json_object_put(doc);
}

Test(store_internals, apply_update_refuses_bad_targets)
{
	static const char *const docs[] = {
		"{\"a\":[1]}", "{\"a\":\"s\"}", "{\"a\":null}", "{\"a\":true}",
	};
	struct cx_error err = { 0 };
	json_object *doc;
	size_t i;

	/* "a.b" cannot be created inside a non-object; neither can "a" be incremented
	 * or pushed to when it is not a number / an array. */
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct cx_update *set = cx_update_set(cx_update_new(), "a.b", json_object_new_int(1));
		struct cx_update *inc = cx_update_inc(cx_update_new(), "a", 1);
		struct cx_update *push = cx_update_push(cx_update_new(), "a", json_object_new_int(1));

		doc = parse(docs[i]);
		cr_expect_eq(cx_store_apply_update(doc, set, &err), CX_EINTERNAL, "set into %s",
		    docs[i]);
		cr_expect_eq(cx_store_apply_update(doc, inc, NULL), CX_EINTERNAL, "inc of %s", docs[i]);
		if (i > 0)
			cr_expect_eq(cx_store_apply_update(doc, push, NULL), CX_EINTERNAL, "push to %s",
			    docs[i]);
		cr_expect_str_eq(err.message, "Internal server error");
		cx_error_clear(&err);
		json_object_put(doc);
		cx_update_free(set);
		cx_update_free(inc);
		cx_update_free(push);
	}
	doc = parse("{\"n\":9223372036854775807}");
	{
		struct cx_update *u = cx_update_inc(cx_update_new(), "n", 1);

		cr_expect_eq(cx_store_apply_update(doc, u, NULL), CX_EINTERNAL, "overflow");
		cx_update_free(u);
	}
	json_object_put(doc);
}

Test(store_internals, broken_builders_are_refused)
{
	struct cx_filter *f = cx_filter_new();
	struct cx_update *u = cx_update_new();
	size_t i;

	cx_filter_add(f, "a", CX_CONTAINS_I, json_object_new_int(1));   /* not a string */
	cr_assert_not_null(f->broken);
	cx_filter_free(f);
	f = cx_filter_new();
	cx_filter_add(f, "a", CX_GT, NULL);
	cr_assert_not_null(f->broken);
	cx_filter_free(f);
	f = cx_filter_new();
	for (i = 0; i <= CX_STORE_MAX_CONDS; i++)
		cx_filter_eq_int(f, "a", (int64_t)i);
	cr_assert_not_null(f->broken);
	cx_filter_free(f);
	cx_update_push(u, "a.b", NULL);
	cx_update_push(u, "a.b", NULL);   /* same path twice */
	cr_assert_not_null(u->broken);
	cx_update_free(u);
	cr_assert_null(cx_filter_add(NULL, "a", CX_EQ, json_object_new_int(1)));
}
