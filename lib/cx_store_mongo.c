/* cx_store_mongo: the MongoDB back end of cx_store (libmongoc 1.x, one client per
 * store, so one per pre-forked worker, opened after fork). "id" is stored as _id
 * (an ObjectId when it is 24-hex); other fields keep their JSON types. */
#include "config.h"

#include <ctype.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_log.h"
#include "cx_store.h"
#include "cx_store_impl.h"
#include "cx_time.h"

#define SERVER_SELECTION_MS 5000
#define DB_NAME_MAX 64

struct mongo_store {
	struct cx_store base;
	mongoc_client_t *client;
	char db[DB_NAME_MAX];
};

/* ---- JSON -> BSON --------------------------------------------------------------- */

static bool append_json(bson_t *b, const char *key, json_object *v, int depth);

static bool
append_object(bson_t *b, const char *key, json_object *obj, int depth)
{
	bson_t child;
	bool ok = true;

	if (!bson_append_document_begin(b, key, -1, &child))
		return false;
	json_object_object_foreach(obj, k, v) {
		if (ok)
			ok = append_json(&child, k, v, depth + 1);
	}
	return bson_append_document_end(b, &child) && ok;
}

static bool
append_array(bson_t *b, const char *key, json_object *arr, int depth)
{
	char buf[16];
	const char *ikey;
	bson_t child;
	size_t i, n = json_object_array_length(arr);
	bool ok = true;

	if (!bson_append_array_begin(b, key, -1, &child))
		return false;
	for (i = 0; i < n && ok; i++) {
		bson_uint32_to_string((uint32_t)i, &ikey, buf, sizeof(buf));
		ok = append_json(&child, ikey, json_object_array_get_idx(arr, i), depth + 1);
	}
	return bson_append_array_end(b, &child) && ok;
}

static bool
append_json(bson_t *b, const char *key, json_object *v, int depth)
{
	int64_t i;

	if (depth > CX_STORE_DOC_DEPTH)
		return false;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return bson_append_null(b, key, -1);
	case json_type_boolean:
		return bson_append_bool(b, key, -1, json_object_get_boolean(v));
	case json_type_int:
		i = json_object_get_int64(v);
		if (i >= INT32_MIN && i <= INT32_MAX)
			return bson_append_int32(b, key, -1, (int32_t)i);
		return bson_append_int64(b, key, -1, i);
	case json_type_double:
		return bson_append_double(b, key, -1, json_object_get_double(v));
	case json_type_string:
		return bson_append_utf8(b, key, -1, json_object_get_string(v),
		    json_object_get_string_len(v));
	case json_type_object:
		return append_object(b, key, v, depth);
	case json_type_array:
		return append_array(b, key, v, depth);
	}
	return false;
}

/* An id value: an ObjectId when it is 24-hex, else what it is. */
static bool
append_id(bson_t *b, const char *key, json_object *v)
{
	bson_oid_t oid;
	const char *s;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (bson_oid_is_valid(s, (size_t)json_object_get_string_len(v)) &&
		    json_object_get_string_len(v) == 24) {
			bson_oid_init_from_string(&oid, s);
			return bson_append_oid(b, key, -1, &oid);
		}
	}
	return append_json(b, key, v, 0);
}

static bool
doc_to_bson(json_object *doc, bson_t *out)
{
	bool ok = true;

	json_object_object_foreach(doc, key, v) {
		if (!ok)
			break;
		if (strcmp(key, "id") == 0)
			ok = append_id(out, "_id", v);
		else
			ok = append_json(out, key, v, 1);
	}
	return ok;
}

/* ---- BSON -> JSON --------------------------------------------------------------- */

static int iter_to_json(const bson_iter_t *it, json_object **out, int depth);

static int
children_to_json(const bson_iter_t *it, int is_array, json_object **out, int depth)
{
	bson_iter_t child;
	json_object *c = NULL, *v;

	if (depth > CX_STORE_DOC_DEPTH || !bson_iter_recurse(it, &child))
		return -1;
	c = is_array ? json_object_new_array() : json_object_new_object();
	if (c == NULL)
		return -1;
	while (bson_iter_next(&child)) {
		if (iter_to_json(&child, &v, depth + 1) != 0)
			goto fail;
		if ((is_array ? json_object_array_add(c, v) :
		    json_object_object_add(c, bson_iter_key(&child), v)) != 0) {
			json_object_put(v);
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	json_object_put(c);
	return -1;
}

static int
iter_to_json(const bson_iter_t *it, json_object **out, int depth)
{
	char buf[BSON_DECIMAL128_STRING > CX_TIME_LEN ? BSON_DECIMAL128_STRING : CX_TIME_LEN];
	bson_decimal128_t dec;
	const char *s;
	uint32_t len;
	json_object *v = NULL;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_UTF8:
		s = bson_iter_utf8(it, &len);
		v = json_object_new_string_len(s, (int)len);
		break;
	case BSON_TYPE_INT32:
		v = json_object_new_int64(bson_iter_int32(it));
		break;
	case BSON_TYPE_INT64:
		v = json_object_new_int64(bson_iter_int64(it));
		break;
	case BSON_TYPE_DOUBLE:
		v = json_object_new_double(bson_iter_double(it));
		break;
	case BSON_TYPE_BOOL:
		v = json_object_new_boolean(bson_iter_bool(it));
		break;
	case BSON_TYPE_OID:
		bson_oid_to_string(bson_iter_oid(it), buf);
		v = json_object_new_string(buf);
		break;
	case BSON_TYPE_DATE_TIME:
		cx_time_format_ms(bson_iter_date_time(it), buf);
		v = json_object_new_string(buf);
		break;
	case BSON_TYPE_DECIMAL128:
		if (!bson_iter_decimal128(it, &dec))
			return -1;
		bson_decimal128_to_string(&dec, buf);
		v = json_object_new_string(buf);
		break;
	case BSON_TYPE_DOCUMENT:
		return children_to_json(it, 0, out, depth);
	case BSON_TYPE_ARRAY:
		return children_to_json(it, 1, out, depth);
	default:   /* null, undefined and types we never write */
		*out = NULL;
		return 0;
	}
	if (v == NULL)
		return -1;
	*out = v;
	return 0;
}

/* A stored document as our JSON: _id becomes "id". */
static int
doc_from_bson(const bson_t *b, json_object **out, struct cx_error *err)
{
	bson_iter_t it;
	json_object *doc, *v;

	doc = json_object_new_object();
	if (doc == NULL || !bson_iter_init(&it, b))
		goto fail;
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);

		if (iter_to_json(&it, &v, 1) != 0)
			goto fail;
		if (json_object_object_add(doc, strcmp(key, "_id") == 0 ? "id" : key, v) != 0) {
			json_object_put(v);
			goto fail;
		}
	}
	*out = doc;
	return CX_OK;
fail:
	json_object_put(doc);
	return cx_error_internal(err, "cannot convert a stored MongoDB document");
}

/* ---- filters, sort, updates ------------------------------------------------------ */

static int
is_id(const char *field)
{
	return strcmp(field, "id") == 0;
}

static bool
append_value(bson_t *b, const char *key, const char *field, json_object *v)
{
	return is_id(field) ? append_id(b, key, v) : append_json(b, key, v, 1);
}

/* The text of a case-insensitive substring search as a literal regular expression:
 * every ASCII character other than a letter, digit or space is backslash-escaped. */
static char *
regex_escape(const char *s)
{
	size_t i, j = 0, len = strlen(s);
	char *out = malloc(len * 2 + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80 && !isalnum(c) && c != ' ')
			out[j++] = '\\';
		out[j++] = (char)c;
	}
	out[j] = '\0';
	return out;
}

static bool
append_cond(bson_t *b, const struct cx_filter_cond *c)
{
	static const char *const ops[] = {
		[CX_EQ] = "$eq", [CX_NE] = "$ne", [CX_GT] = "$gt", [CX_GTE] = "$gte",
		[CX_LT] = "$lt", [CX_LTE] = "$lte",
	};
	bson_t cond, list;
	char buf[16], *pattern;
	const char *ikey;
	size_t i, n;
	bool ok = true;

	if (!bson_append_document_begin(b, is_id(c->field) ? "_id" : c->field, -1, &cond))
		return false;
	switch (c->op) {
	case CX_EQ:
	case CX_NE:
	case CX_GT:
	case CX_GTE:
	case CX_LT:
	case CX_LTE:
		ok = append_value(&cond, ops[c->op], c->field, c->value);
		break;
	case CX_CONTAINS_I:
		pattern = regex_escape(json_object_get_string(c->value));
		ok = pattern != NULL && BSON_APPEND_UTF8(&cond, "$regex", pattern) &&
		    BSON_APPEND_UTF8(&cond, "$options", "i");
		free(pattern);
		break;
	case CX_FILTER_IN:
		if (!BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &list)) {
			ok = false;
			break;
		}
		n = json_object_array_length(c->value);
		for (i = 0; i < n && ok; i++) {
			bson_uint32_to_string((uint32_t)i, &ikey, buf, sizeof(buf));
			ok = append_value(&list, ikey, c->field, json_object_array_get_idx(c->value, i));
		}
		ok = bson_append_array_end(&cond, &list) && ok;
		break;
	default:
		ok = false;
		break;
	}
	return bson_append_document_end(b, &cond) && ok;
}

/* Conditions are ANDed; with more than one they go in an $and list, so two
 * conditions on one field never collide as duplicate keys. */
static bool
filter_to_bson(const struct cx_filter *filter, bson_t *out)
{
	bson_t list, item;
	char buf[16];
	const char *ikey;
	size_t i;
	bool ok = true;

	if (filter == NULL || filter->n == 0)
		return true;
	if (filter->n == 1)
		return append_cond(out, &filter->conds[0]);
	if (!BSON_APPEND_ARRAY_BEGIN(out, "$and", &list))
		return false;
	for (i = 0; i < filter->n && ok; i++) {
		bson_uint32_to_string((uint32_t)i, &ikey, buf, sizeof(buf));
		ok = bson_append_document_begin(&list, ikey, -1, &item);
		if (ok) {
			ok = append_cond(&item, &filter->conds[i]);
			ok = bson_append_document_end(&list, &item) && ok;
		}
	}
	return bson_append_array_end(out, &list) && ok;
}

static bool
update_to_bson(const struct cx_update *update, bson_t *out)
{
	static const char *const names[] = {
		[CX_UPDATE_SET] = "$set", [CX_UPDATE_UNSET] = "$unset",
		[CX_UPDATE_PUSH] = "$push", [CX_UPDATE_INC] = "$inc",
	};
	const struct cx_update_op *op;
	bson_t group;
	size_t i;
	int kind, any;
	bool ok = true;

	for (kind = CX_UPDATE_SET; kind <= CX_UPDATE_INC && ok; kind++) {
		for (any = 0, i = 0; i < update->n; i++)
			any |= (int)update->ops[i].kind == kind;
		if (!any)
			continue;
		if (!bson_append_document_begin(out, names[kind], -1, &group))
			return false;
		for (i = 0; i < update->n && ok; i++) {
			op = &update->ops[i];
			if ((int)op->kind != kind)
				continue;
			if (op->kind == CX_UPDATE_UNSET)
				ok = BSON_APPEND_UTF8(&group, op->field, "");
			else if (op->kind == CX_UPDATE_INC)
				ok = BSON_APPEND_INT64(&group, op->field, op->by);
			else
				ok = append_json(&group, op->field, op->value, 1);
		}
		ok = bson_append_document_end(out, &group) && ok;
	}
	return ok;
}

/* ---- errors ------------------------------------------------------------------ */

static int
unavailable(struct cx_error *err)
{
	int first = err != NULL && err->code == CX_OK;

	cx_error_set(err, CX_EUNAVAIL, "Database unavailable");
	if (first)
		err->retry_after = 1;
	return CX_EUNAVAIL;
}

static int
is_duplicate_key(const bson_error_t *e)
{
	return e->code == 11000 || e->code == 11001 || e->code == 12582;
}

/* Server errors that mean "not now" (failover, shutdown, network) rather than a bug. */
static int
is_transient(const bson_error_t *e)
{
	static const uint32_t codes[] = {
		6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
	};
	size_t i;

	if (e->domain == MONGOC_ERROR_STREAM || e->domain == MONGOC_ERROR_SERVER_SELECTION ||
	    (e->domain == MONGOC_ERROR_CLIENT && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE))
		return 1;
	if (e->domain != MONGOC_ERROR_SERVER && e->domain != MONGOC_ERROR_WRITE_CONCERN)
		return 0;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (e->code == codes[i])
			return 1;
	return 0;
}

/* Fields of the violated index: keyPattern of the server's reply (top level for
 * commands, writeErrors.0 for inserts), else the index name in the message. */
static int
conflict(const bson_error_t *e, const bson_t *reply, struct cx_error *err)
{
	char fields[CX_STORE_MAX_INDEX_KEYS][CX_STORE_FIELD_MAX];
	const char *ptrs[CX_STORE_MAX_INDEX_KEYS];
	char name[CX_STORE_NAME_MAX];
	bson_iter_t it, kp;
	const char *p;
	size_t n = 0, i, len;
	int found = 0;

	if (reply != NULL && bson_iter_init(&it, reply)) {
		if (bson_iter_find_descendant(&it, "keyPattern", &kp))
			found = 1;
		else if (bson_iter_init(&it, reply) &&
		    bson_iter_find_descendant(&it, "writeErrors.0.keyPattern", &kp))
			found = 1;
	}
	if (found && BSON_ITER_HOLDS_DOCUMENT(&kp) && bson_iter_recurse(&kp, &it)) {
		while (bson_iter_next(&it) && n < CX_STORE_MAX_INDEX_KEYS)
			snprintf(fields[n++], CX_STORE_FIELD_MAX, "%s",
			    strcmp(bson_iter_key(&it), "_id") == 0 ? "id" : bson_iter_key(&it));
	}
	if (n == 0 && (p = strstr(e->message, "index: ")) != NULL) {
		p += 7;
		len = strcspn(p, " ");
		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			n = cx_store_index_name_fields(name, fields, CX_STORE_MAX_INDEX_KEYS);
		}
	}
	for (i = 0; i < n; i++)
		ptrs[i] = fields[i];
	return cx_store_conflict(err, ptrs, n);
}

static int
mongo_fail(const bson_error_t *e, const bson_t *reply, const char *what, struct cx_error *err)
{
	if (e->domain != MONGOC_ERROR_STREAM && is_duplicate_key(e))
		return conflict(e, reply, err);
	if (is_transient(e)) {
		cx_logf(CX_LOG_ERROR, "mongodb %s: %s (domain %u, code %u)", what, e->message,
		    e->domain, e->code);
		return unavailable(err);
	}
	return cx_error_internal(err, "mongodb %s: %s (domain %u, code %u)", what, e->message,
	    e->domain, e->code);
}

/* ---- operations --------------------------------------------------------------- */

static mongoc_collection_t *
get_coll(struct mongo_store *m, const char *coll)
{
	return mongoc_client_get_collection(m->client, m->db, coll);
}

static int
mg_ping(struct cx_store *store, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	bson_t cmd = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	bson_error_t e;
	int rc = CX_OK;

	BSON_APPEND_INT32(&cmd, "ping", 1);
	if (!mongoc_client_command_simple(m->client, "admin", &cmd, NULL, &reply, &e))
		rc = mongo_fail(&e, &reply, "ping", err);
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

static bool
index_spec(const struct cx_index *idx, bson_t *out)
{
	bson_t key, partial, exists;
	size_t i;
	bool ok;

	ok = BSON_APPEND_DOCUMENT_BEGIN(out, "key", &key);
	for (i = 0; ok && i < idx->nkeys; i++)
		ok = BSON_APPEND_INT32(&key, idx->keys[i].field, idx->keys[i].dir);
	ok = ok && bson_append_document_end(out, &key);
	ok = ok && BSON_APPEND_UTF8(out, "name", idx->name);
	if (ok && idx->unique) {
		/* Documents without the first field must not collide (as on SQLite). Only the
		 * first: a query on that field alone then satisfies the filter, so the index
		 * serves it (one condition per field kept finding a session's questions off
		 * the index). */
		ok = BSON_APPEND_BOOL(out, "unique", true) &&
		    BSON_APPEND_DOCUMENT_BEGIN(out, "partialFilterExpression", &partial) &&
		    BSON_APPEND_DOCUMENT_BEGIN(&partial, idx->keys[0].field, &exists) &&
		    BSON_APPEND_BOOL(&exists, "$exists", true) &&
		    bson_append_document_end(&partial, &exists) &&
		    bson_append_document_end(out, &partial);
	}
	return ok;
}

/* Drop index name of coll; a missing one is not an error. */
static void
drop_index(mongoc_database_t *db, const char *coll, const char *name)
{
	bson_t cmd = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	bson_error_t e;

	if (BSON_APPEND_UTF8(&cmd, "dropIndexes", coll) && BSON_APPEND_UTF8(&cmd, "index", name) &&
	    !mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &e) &&
	    e.code != 27 /* IndexNotFound */)
		cx_logf(CX_LOG_WARN, "drop index %s of %s: %s", name, coll, e.message);
	bson_destroy(&reply);
	bson_destroy(&cmd);
}

static int
ensure_collection(struct mongo_store *m, mongoc_database_t *db, const struct cx_index_set *set,
    const char *coll, struct cx_error *err)
{
	bson_t cmd = BSON_INITIALIZER, reply = BSON_INITIALIZER, list, spec;
	bson_error_t e;
	char buf[16];
	const char *ikey;
	uint32_t n = 0;
	size_t i;
	bool ok;
	int rc = CX_OK;

	for (i = 0; i < set->nindexes; i++)
		if (strcmp(set->indexes[i].coll, coll) == 0)
			n++;
	if (n == 0) {
		ok = BSON_APPEND_UTF8(&cmd, "create", coll);
		if (ok && !mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &e) &&
		    e.code != 48 /* NamespaceExists */)
			rc = mongo_fail(&e, &reply, "create collection", err);
		goto out;
	}
	ok = BSON_APPEND_UTF8(&cmd, "createIndexes", coll) &&
	    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
	for (i = 0, n = 0; ok && i < set->nindexes; i++) {
		if (strcmp(set->indexes[i].coll, coll) != 0)
			continue;
		bson_uint32_to_string(n++, &ikey, buf, sizeof(buf));
		ok = bson_append_document_begin(&list, ikey, -1, &spec);
		if (ok) {
			ok = index_spec(&set->indexes[i], &spec);
			ok = bson_append_document_end(&list, &spec) && ok;
		}
	}
	ok = ok && bson_append_array_end(&cmd, &list);
	if (!ok) {
		rc = cx_error_internal(err, "cannot build createIndexes for %s", coll);
		goto out;
	}
	ok = mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &e);
	if (!ok && (e.code == 85 || e.code == 86)) {
		/* IndexOptionsConflict, IndexKeySpecsConflict: an index of the same name made
		 * by an older definition. Build them anew. */
		cx_logf(CX_LOG_INFO, "indexes of %s changed: re-creating them", coll);
		for (i = 0; i < set->nindexes; i++)
			if (strcmp(set->indexes[i].coll, coll) == 0)
				drop_index(db, coll, set->indexes[i].name);
		bson_destroy(&reply);
		ok = mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &e);
	}
	if (!ok)
		rc = mongo_fail(&e, &reply, "createIndexes", err);
out:
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

static int
mg_ensure_indexes(struct cx_store *store, const struct cx_index_set *set, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_database_t *db = mongoc_client_get_database(m->client, m->db);
	size_t i;
	int rc = CX_OK;

	for (i = 0; i < set->ncolls && rc == CX_OK; i++)
		rc = ensure_collection(m, db, set, set->colls[i], err);
	mongoc_database_destroy(db);
	return rc;
}

static int
mg_insert(struct cx_store *store, const char *coll, json_object *doc, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_collection_t *c = NULL;
	bson_t b = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	bson_error_t e;
	int rc = CX_OK;

	if (!doc_to_bson(doc, &b)) {
		rc = cx_error_internal(err, "cannot convert a document to BSON");
		goto out;
	}
	c = get_coll(m, coll);
	if (!mongoc_collection_insert_one(c, &b, NULL, &reply, &e))
		rc = mongo_fail(&e, &reply, "insert", err);
out:
	if (c != NULL)
		mongoc_collection_destroy(c);
	bson_destroy(&reply);
	bson_destroy(&b);
	return rc;
}

/* Run a find: documents go into array, or only the first into *first (find_one). */
static int
run_find(struct mongo_store *m, const char *coll, const struct cx_filter *filter,
    const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit, json_object *array,
    json_object **first, struct cx_error *err)
{
	mongoc_collection_t *c = NULL;
	mongoc_cursor_t *cur = NULL;
	bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER, s;
	const bson_t *doc, *errdoc = NULL;
	bson_error_t e;
	json_object *j;
	size_t i;
	bool ok;
	int rc = CX_OK;

	ok = filter_to_bson(filter, &q);
	if (ok && nsort > 0) {
		ok = BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &s);
		for (i = 0; ok && i < nsort; i++)
			ok = BSON_APPEND_INT32(&s, is_id(sort[i].field) ? "_id" : sort[i].field,
			    sort[i].dir < 0 ? -1 : 1);
		ok = ok && bson_append_document_end(&opts, &s);
	}
	if (ok && skip > 0)
		ok = BSON_APPEND_INT64(&opts, "skip", skip);
	if (ok && limit > 0)
		ok = BSON_APPEND_INT64(&opts, "limit", limit);
	if (ok && first != NULL)
		ok = BSON_APPEND_BOOL(&opts, "singleBatch", true);
	if (!ok) {
		rc = cx_error_internal(err, "cannot build a MongoDB query");
		goto out;
	}
	c = get_coll(m, coll);
	cur = mongoc_collection_find_with_opts(c, &q, &opts, NULL);
	while (rc == CX_OK && mongoc_cursor_next(cur, &doc)) {
		if ((rc = doc_from_bson(doc, &j, err)) != CX_OK)
			break;
		if (first != NULL) {
			*first = j;
			break;
		}
		if (json_object_array_add(array, j) != 0) {
			json_object_put(j);
			rc = cx_error_internal(err, "out of memory");
		}
	}
	if (rc == CX_OK && mongoc_cursor_error_document(cur, &e, &errdoc))
		rc = mongo_fail(&e, errdoc, "find", err);
	if (rc != CX_OK && first != NULL && *first != NULL) {
		json_object_put(*first);
		*first = NULL;
	}
out:
	if (cur != NULL)
		mongoc_cursor_destroy(cur);
	if (c != NULL)
		mongoc_collection_destroy(c);
	bson_destroy(&opts);
	bson_destroy(&q);
	return rc;
}

static int
mg_find_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    json_object **out, struct cx_error *err)
{
	json_object *doc = NULL;
	int rc;

	rc = run_find((struct mongo_store *)store, coll, filter, NULL, 0, 0, 1, NULL, &doc, err);
	if (rc != CX_OK)
		return rc;
	if (doc == NULL)
		return cx_error_set(err, CX_ENOTFOUND, "Not found");
	*out = doc;
	return CX_OK;
}

static int
mg_find(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit, json_object *array,
    struct cx_error *err)
{
	return run_find((struct mongo_store *)store, coll, filter, sort, nsort, skip, limit, array,
	    NULL, err);
}

static int
mg_count(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    int64_t *out, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_collection_t *c;
	bson_t q = BSON_INITIALIZER;
	bson_error_t e;
	int64_t n;
	int rc = CX_OK;

	if (!filter_to_bson(filter, &q)) {
		bson_destroy(&q);
		return cx_error_internal(err, "cannot build a MongoDB query");
	}
	c = get_coll(m, coll);
	n = mongoc_collection_count_documents(c, &q, NULL, NULL, NULL, &e);
	if (n < 0)
		rc = mongo_fail(&e, NULL, "count", err);
	else
		*out = n;
	mongoc_collection_destroy(c);
	bson_destroy(&q);
	return rc;
}

/* findAndModify applies the update atomically on the server and returns the new
 * document, or null when nothing matched the filter. */
static int
mg_update_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_update *update, json_object **after, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_find_and_modify_opts_t *fam = NULL;
	mongoc_collection_t *c = NULL;
	bson_t q = BSON_INITIALIZER, u = BSON_INITIALIZER, reply = BSON_INITIALIZER, value;
	bson_iter_t it;
	bson_error_t e;
	const uint8_t *data;
	uint32_t len;
	json_object *doc = NULL;
	int rc = CX_OK;

	if (update->n == 0) {   /* nothing to change: report the document as it is */
		rc = mg_find_one(store, coll, filter, &doc, err);
		goto done;
	}
	if (!filter_to_bson(filter, &q) || !update_to_bson(update, &u) ||
	    (fam = mongoc_find_and_modify_opts_new()) == NULL ||
	    !mongoc_find_and_modify_opts_set_update(fam, &u) ||
	    !mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW)) {
		rc = cx_error_internal(err, "cannot build a MongoDB update");
		goto done;
	}
	c = get_coll(m, coll);
	if (!mongoc_collection_find_and_modify_with_opts(c, &q, fam, &reply, &e)) {
		rc = mongo_fail(&e, &reply, "findAndModify", err);
		goto done;
	}
	if (!bson_iter_init_find(&it, &reply, "value") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
		goto done;
	}
	bson_iter_document(&it, &len, &data);
	if (!bson_init_static(&value, data, len)) {
		rc = cx_error_internal(err, "bad findAndModify reply");
		goto done;
	}
	rc = doc_from_bson(&value, &doc, err);
done:
	if (rc == CX_OK && after != NULL) {
		*after = doc;
		doc = NULL;
	}
	json_object_put(doc);
	if (fam != NULL)
		mongoc_find_and_modify_opts_destroy(fam);
	if (c != NULL)
		mongoc_collection_destroy(c);
	bson_destroy(&reply);
	bson_destroy(&u);
	bson_destroy(&q);
	return rc;
}

static int
mg_replace_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const char *id, json_object *doc, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_collection_t *c = NULL;
	bson_t q = BSON_INITIALIZER, b = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	struct cx_filter *f = NULL;
	bson_iter_t it;
	bson_error_t e;
	size_t i;
	int rc = CX_OK;

	/* The filter's conditions plus the id of the document being replaced. */
	f = cx_filter_eq_str(cx_filter_new(), "id", id);
	for (i = 0; filter != NULL && i < filter->n; i++) {
		const struct cx_filter_cond *cond = &filter->conds[i];

		if (cond->op == CX_FILTER_IN)
			cx_filter_in(f, cond->field, json_object_get(cond->value));
		else
			cx_filter_add(f, cond->field, (enum cx_filter_op)cond->op,
			    json_object_get(cond->value));
	}
	if (f == NULL || f->broken != NULL || !filter_to_bson(f, &q) || !doc_to_bson(doc, &b)) {
		rc = cx_error_internal(err, "cannot build a MongoDB replace");
		goto out;
	}
	c = get_coll(m, coll);
	if (!mongoc_collection_replace_one(c, &q, &b, NULL, &reply, &e)) {
		rc = mongo_fail(&e, &reply, "replace", err);
		goto out;
	}
	if (!bson_iter_init_find(&it, &reply, "matchedCount") || bson_iter_as_int64(&it) == 0)
		rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
out:
	cx_filter_free(f);
	if (c != NULL)
		mongoc_collection_destroy(c);
	bson_destroy(&reply);
	bson_destroy(&b);
	bson_destroy(&q);
	return rc;
}

static int
mg_delete_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_collection_t *c = NULL;
	bson_t q = BSON_INITIALIZER, reply = BSON_INITIALIZER;
	bson_iter_t it;
	bson_error_t e;
	int rc = CX_OK;

	if (!filter_to_bson(filter, &q)) {
		rc = cx_error_internal(err, "cannot build a MongoDB query");
		goto out;
	}
	c = get_coll(m, coll);
	if (!mongoc_collection_delete_one(c, &q, NULL, &reply, &e))
		rc = mongo_fail(&e, &reply, "delete", err);
	else if (!bson_iter_init_find(&it, &reply, "deletedCount") ||
	    !BSON_ITER_HOLDS_NUMBER(&it) || bson_iter_as_int64(&it) < 1)
		rc = cx_error_set(err, CX_ENOTFOUND, "Not found");
out:
	if (c != NULL)
		mongoc_collection_destroy(c);
	bson_destroy(&reply);
	bson_destroy(&q);
	return rc;
}

static void
mg_close(struct cx_store *store)
{
	struct mongo_store *m = (struct mongo_store *)store;

	if (m->client != NULL)
		mongoc_client_destroy(m->client);
	free(m);
}

static const struct cx_store_ops mongo_ops = {
	.name = "mongodb",
	.close = mg_close,
	.ping = mg_ping,
	.ensure_indexes = mg_ensure_indexes,
	.insert = mg_insert,
	.find_one = mg_find_one,
	.find = mg_find,
	.count = mg_count,
	.update_one = mg_update_one,
	.replace_one = mg_replace_one,
	.delete_one = mg_delete_one,
};

static int
db_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= DB_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

/* libmongoc's own warnings and errors go to our log as JSON lines (its default
 * handler prints free text on stderr); its chatter below WARNING is dropped. */
static void
route_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message, void *arg)
{
	if (level <= MONGOC_LOG_LEVEL_CRITICAL)
		cx_logf(CX_LOG_ERROR, "libmongoc %s: %s", domain, message);
	else if (level == MONGOC_LOG_LEVEL_WARNING)
		cx_logf(CX_LOG_WARN, "libmongoc %s: %s", domain, message);
}

/* The URL may hold a password: it is never logged. */
int
cx_store_mongo_open(const char *url, const char *db_name, struct cx_store **out,
    struct cx_error *err)
{
	struct mongo_store *m = NULL;
	mongoc_uri_t *uri = NULL;
	bson_error_t e;
	int rc;

	if (db_name == NULL)
		db_name = "candidatex";
	if (!db_name_valid(db_name))
		return cx_error_internal(err, "invalid MongoDB database name");
	mongoc_log_set_handler(route_mongoc_log, NULL);
	mongoc_init();   /* once per process; later calls do nothing */
	uri = mongoc_uri_new_with_error(url, &e);
	if (uri == NULL) {
		cx_logf(CX_LOG_ERROR, "mongodb: invalid URL: %s", e.message);
		rc = unavailable(err);
		goto out;
	}
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
		    SERVER_SELECTION_MS);
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	m->base.ops = &mongo_ops;
	snprintf(m->db, sizeof(m->db), "%s", db_name);
	m->client = mongoc_client_new_from_uri_with_error(uri, &e);
	if (m->client == NULL) {
		cx_logf(CX_LOG_ERROR, "mongodb: cannot create client: %s", e.message);
		rc = unavailable(err);
		goto out;
	}
	mongoc_client_set_error_api(m->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(m->client, "candidatex");
	if ((rc = mg_ping(&m->base, err)) != CX_OK)
		goto out;
	*out = &m->base;
	m = NULL;
out:
	if (m != NULL)
		mg_close(&m->base);
	mongoc_uri_destroy(uri);
	return rc;
}

int
cx_store_mongo_drop_database(struct cx_store *store, struct cx_error *err)
{
	struct mongo_store *m = (struct mongo_store *)store;
	mongoc_database_t *db;
	bson_error_t e;
	int rc = CX_OK;

	if (store == NULL || store->ops != &mongo_ops)
		return cx_error_internal(err, "not a MongoDB store");
	db = mongoc_client_get_database(m->client, m->db);
	if (!mongoc_database_drop_with_opts(db, NULL, &e))
		rc = mongo_fail(&e, NULL, "dropDatabase", err);
	mongoc_database_destroy(db);
	return rc;
}
