/* cx_store: public API, filter and update builders, checks, dispatch to a back end. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_json.h"
#include "cx_log.h"
#include "cx_store.h"
#include "cx_store_impl.h"
#include "cx_time.h"

#define INDEXES_FILE_MAX (1024 * 1024)
#define ID_MAX 64   /* bytes of a document id */

/* Returned when an allocation fails, so a chain of cx_filter_add calls never
 * degrades into a NULL filter (which would match every document). */
static struct cx_filter filter_oom = { .broken = "out of memory" };
static struct cx_update update_oom = { .broken = "out of memory" };

/* ---- names ------------------------------------------------------------------ */

int
cx_store_field_valid(const char *field)
{
	size_t i, len;
	int component = 0;

	if (field == NULL)
		return 0;
	len = strlen(field);
	if (len == 0 || len >= CX_STORE_FIELD_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)field[i];

		if (c == '.') {
			if (component == 0)
				return 0;
			component = 0;
		} else if (isalnum(c) || c == '_') {
			component++;
		} else
			return 0;
	}
	return component > 0;
}

int
cx_store_coll_valid(const char *name)
{
	size_t i, len;

	if (name == NULL)
		return 0;
	len = strlen(name);
	if (len == 0 || len >= CX_STORE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return 0;
	return strncmp(name, "sqlite_", 7) != 0;
}

static int
is_id_field(const char *field)
{
	return strcmp(field, "id") == 0;
}

/* Ids that are ObjectIds are kept in lower case so both back ends compare alike. */
static int
normalize_id_value(json_object *value)
{
	char buf[CX_OID_LEN];
	const char *s;
	size_t i;

	if (!json_object_is_type(value, json_type_string))
		return 0;
	s = json_object_get_string(value);
	if (!cx_oid_valid(s))
		return 0;
	for (i = 0; i < 24; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[24] = '\0';
	if (strcmp(buf, s) == 0)
		return 0;
	return json_object_set_string(value, buf) ? 0 : -1;
}

/* ---- filters ---------------------------------------------------------------- */

struct cx_filter *
cx_filter_new(void)
{
	struct cx_filter *filter = calloc(1, sizeof(*filter));

	return filter != NULL ? filter : &filter_oom;
}

void
cx_filter_free(struct cx_filter *filter)
{
	size_t i;

	if (filter == NULL || filter == &filter_oom)
		return;
	for (i = 0; i < filter->n; i++) {
		free(filter->conds[i].field);
		json_object_put(filter->conds[i].value);
	}
	free(filter->conds);
	free(filter);
}

static int
scalar_value(json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_null:
	case json_type_boolean:
	case json_type_int:
	case json_type_double:
	case json_type_string:
		return 1;
	default:
		return 0;
	}
}

/* Why value cannot be used with op, or NULL when it can. */
static const char *
check_cond_value(int op, json_object *value)
{
	size_t i, len;

	switch (op) {
	case CX_EQ:
	case CX_NE:
		return scalar_value(value) ? NULL : "value must be a string, number, bool or null";
	case CX_GT:
	case CX_GTE:
	case CX_LT:
	case CX_LTE:
		if (value == NULL || !scalar_value(value))
			return "comparison needs a string, number or bool";
		return NULL;
	case CX_CONTAINS_I:
		return json_object_is_type(value, json_type_string) ? NULL :
		    "CONTAINS_I needs a string";
	case CX_FILTER_IN:
		if (!json_object_is_type(value, json_type_array))
			return "in needs an array";
		len = json_object_array_length(value);
		if (len > CX_STORE_MAX_IN)
			return "too many values for in";
		for (i = 0; i < len; i++)
			if (!scalar_value(json_object_array_get_idx(value, i)))
				return "in values must be strings, numbers, bools or null";
		return NULL;
	default:
		return "unknown operator";
	}
}

static struct cx_filter *
filter_add(struct cx_filter *filter, const char *field, int op, json_object *value)
{
	struct cx_filter_cond *cond;
	size_t i;

	if (filter == NULL || filter->broken != NULL) {
		json_object_put(value);
		return filter;
	}
	if (!cx_store_field_valid(field))
		filter->broken = "invalid field name";
	else
		filter->broken = check_cond_value(op, value);
	if (filter->broken == NULL && filter->n >= CX_STORE_MAX_CONDS)
		filter->broken = "too many conditions";
	if (filter->broken == NULL && is_id_field(field)) {
		if (op == CX_FILTER_IN) {
			for (i = 0; i < json_object_array_length(value); i++)
				if (normalize_id_value(json_object_array_get_idx(value, i)) != 0)
					filter->broken = "out of memory";
		} else if (normalize_id_value(value) != 0)
			filter->broken = "out of memory";
	}
	if (filter->broken == NULL && filter->n == filter->cap) {
		size_t cap = filter->cap ? filter->cap * 2 : 4;

		cond = realloc(filter->conds, cap * sizeof(*cond));
		if (cond == NULL)
			filter->broken = "out of memory";
		else {
			filter->conds = cond;
			filter->cap = cap;
		}
	}
	if (filter->broken != NULL) {
		cx_logf(CX_LOG_ERROR, "store filter on '%.64s' unusable: %s",
		    field ? field : "(null)", filter->broken);
		json_object_put(value);
		return filter;
	}
	cond = &filter->conds[filter->n];
	cond->field = strdup(field);
	if (cond->field == NULL) {
		filter->broken = "out of memory";
		json_object_put(value);
		return filter;
	}
	cond->op = op;
	cond->value = value;
	filter->n++;
	return filter;
}

struct cx_filter *
cx_filter_add(struct cx_filter *filter, const char *field, enum cx_filter_op op,
    json_object *value)
{
	return filter_add(filter, field, (int)op, value);
}

struct cx_filter *
cx_filter_eq_str(struct cx_filter *filter, const char *field, const char *value)
{
	json_object *v;

	if (value == NULL)
		return filter_add(filter, field, CX_EQ, NULL);
	v = json_object_new_string(value);
	if (v == NULL && filter != NULL && filter->broken == NULL)
		filter->broken = "out of memory";
	return filter_add(filter, field, CX_EQ, v);
}

struct cx_filter *
cx_filter_eq_int(struct cx_filter *filter, const char *field, int64_t value)
{
	json_object *v = json_object_new_int64(value);

	if (v == NULL && filter != NULL && filter->broken == NULL)
		filter->broken = "out of memory";
	return filter_add(filter, field, CX_EQ, v);
}

struct cx_filter *
cx_filter_eq_bool(struct cx_filter *filter, const char *field, int value)
{
	json_object *v = json_object_new_boolean(value ? 1 : 0);

	if (v == NULL && filter != NULL && filter->broken == NULL)
		filter->broken = "out of memory";
	return filter_add(filter, field, CX_EQ, v);
}

struct cx_filter *
cx_filter_in(struct cx_filter *filter, const char *field, json_object *array)
{
	return filter_add(filter, field, CX_FILTER_IN, array);
}

/* ---- updates ---------------------------------------------------------------- */

struct cx_update *
cx_update_new(void)
{
	struct cx_update *update = calloc(1, sizeof(*update));

	return update != NULL ? update : &update_oom;
}

void
cx_update_free(struct cx_update *update)
{
	size_t i;

	if (update == NULL || update == &update_oom)
		return;
	for (i = 0; i < update->n; i++) {
		free(update->ops[i].field);
		json_object_put(update->ops[i].value);
	}
	free(update->ops);
	free(update);
}

/* Two paths overlap when equal or when one is a prefix of the other at a dot;
 * MongoDB refuses such an update, so we refuse it on every back end. */
static int
paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la == lb)
		return strcmp(a, b) == 0;
	if (la > lb)
		return strncmp(a, b, lb) == 0 && a[lb] == '.';
	return strncmp(a, b, la) == 0 && b[la] == '.';
}

static struct cx_update *
update_add(struct cx_update *update, enum cx_update_kind kind, const char *field,
    json_object *value, int64_t by)
{
	struct cx_update_op *op;
	size_t i;

	if (update == NULL || update->broken != NULL) {
		json_object_put(value);
		return update;
	}
	if (!cx_store_field_valid(field))
		update->broken = "invalid field name";
	else if (is_id_field(field) || strncmp(field, "id.", 3) == 0)
		update->broken = "the id cannot be changed";
	else if (update->n >= CX_STORE_MAX_OPS)
		update->broken = "too many operations";
	for (i = 0; update->broken == NULL && i < update->n; i++)
		if (paths_overlap(update->ops[i].field, field))
			update->broken = "two operations on overlapping fields";
	if (update->broken == NULL && update->n == update->cap) {
		size_t cap = update->cap ? update->cap * 2 : 4;

		op = realloc(update->ops, cap * sizeof(*op));
		if (op == NULL)
			update->broken = "out of memory";
		else {
			update->ops = op;
			update->cap = cap;
		}
	}
	if (update->broken != NULL) {
		cx_logf(CX_LOG_ERROR, "store update of '%.64s' unusable: %s",
		    field ? field : "(null)", update->broken);
		json_object_put(value);
		return update;
	}
	op = &update->ops[update->n];
	op->field = strdup(field);
	if (op->field == NULL) {
		update->broken = "out of memory";
		json_object_put(value);
		return update;
	}
	op->kind = kind;
	op->value = value;
	op->by = by;
	update->n++;
	return update;
}

struct cx_update *
cx_update_set(struct cx_update *update, const char *field, json_object *value)
{
	return update_add(update, CX_UPDATE_SET, field, value, 0);
}

struct cx_update *
cx_update_unset(struct cx_update *update, const char *field)
{
	return update_add(update, CX_UPDATE_UNSET, field, NULL, 0);
}

struct cx_update *
cx_update_push(struct cx_update *update, const char *field, json_object *value)
{
	return update_add(update, CX_UPDATE_PUSH, field, value, 0);
}

struct cx_update *
cx_update_inc(struct cx_update *update, const char *field, int64_t by)
{
	return update_add(update, CX_UPDATE_INC, field, NULL, by);
}

/* ---- applying an update in C (SQLite back end) -------------------------------- */

/* The object holding the last component of path, creating missing intermediate
 * objects when create is set. *leaf points into keybuf. Without create, NULL with
 * *bad = 0 when the path is not there (through a missing field or a non-object);
 * with create, NULL with *bad = 1 when it crosses a non-object or memory runs out. */
static json_object *
path_parent(json_object *doc, const char *path, int create, char *keybuf, size_t keysz,
    const char **leaf, int *bad)
{
	json_object *cur = doc, *next;
	char *part, *dot;

	size_t len = strnlen(path, keysz);

	*bad = 0;
	if (len >= keysz) {
		*bad = 1;
		return NULL;
	}
	memcpy(keybuf, path, len + 1);
	part = keybuf;
	while ((dot = strchr(part, '.')) != NULL) {
		*dot = '\0';
		if (!json_object_object_get_ex(cur, part, &next)) {
			if (!create)
				return NULL;
			next = json_object_new_object();
			if (next == NULL || json_object_object_add(cur, part, next) != 0) {
				json_object_put(next);
				*bad = 1;
				return NULL;
			}
		} else if (!json_object_is_type(next, json_type_object)) {
			*bad = create;   /* nothing to unset below a non-object */
			return NULL;
		}
		cur = next;
		part = dot + 1;
	}
	*leaf = part;
	return cur;
}

json_object *
cx_store_path_get(json_object *doc, const char *path)
{
	char keybuf[CX_STORE_FIELD_MAX];
	const char *leaf;
	json_object *parent, *v = NULL;
	int bad;

	parent = path_parent(doc, path, 0, keybuf, sizeof(keybuf), &leaf, &bad);
	if (parent != NULL && json_object_is_type(parent, json_type_object))
		json_object_object_get_ex(parent, leaf, &v);
	return v;
}

static int
copy_value(json_object *value, json_object **out)
{
	*out = NULL;
	if (value == NULL)
		return 0;
	return json_object_deep_copy(value, out, NULL) == 0 ? 0 : -1;
}

static int
apply_op(json_object *doc, const struct cx_update_op *op, struct cx_error *err)
{
	char keybuf[CX_STORE_FIELD_MAX];
	json_object *parent, *cur = NULL, *copy = NULL;
	const char *leaf = NULL;
	int bad;
	int64_t sum;

	parent = path_parent(doc, op->field, op->kind != CX_UPDATE_UNSET, keybuf,
	    sizeof(keybuf), &leaf, &bad);
	if (parent == NULL) {
		if (!bad)
			return CX_OK;   /* $unset of a path that is not there */
		return cx_error_internal(err, "update of '%s' crosses a non-object", op->field);
	}
	switch (op->kind) {
	case CX_UPDATE_SET:
		if (copy_value(op->value, &copy) != 0 || json_object_object_add(parent, leaf, copy) != 0) {
			json_object_put(copy);
			return cx_error_internal(err, "out of memory setting '%s'", op->field);
		}
		return CX_OK;
	case CX_UPDATE_UNSET:
		json_object_object_del(parent, leaf);
		return CX_OK;
	case CX_UPDATE_PUSH:
		if (!json_object_object_get_ex(parent, leaf, &cur)) {
			cur = json_object_new_array();
			if (cur == NULL || json_object_object_add(parent, leaf, cur) != 0) {
				json_object_put(cur);
				return cx_error_internal(err, "out of memory pushing to '%s'", op->field);
			}
		} else if (!json_object_is_type(cur, json_type_array))
			return cx_error_internal(err, "$push to '%s' which is not an array", op->field);
		if (copy_value(op->value, &copy) != 0 || json_object_array_add(cur, copy) != 0) {
			json_object_put(copy);
			return cx_error_internal(err, "out of memory pushing to '%s'", op->field);
		}
		return CX_OK;
	case CX_UPDATE_INC:
		if (!json_object_object_get_ex(parent, leaf, &cur)) {
			copy = json_object_new_int64(op->by);
			if (copy == NULL || json_object_object_add(parent, leaf, copy) != 0) {
				json_object_put(copy);
				return cx_error_internal(err, "out of memory in $inc of '%s'", op->field);
			}
			return CX_OK;
		}
		if (json_object_is_type(cur, json_type_int)) {
			if (__builtin_add_overflow(json_object_get_int64(cur), op->by, &sum))
				return cx_error_internal(err, "$inc of '%s' overflows", op->field);
			json_object_set_int64(cur, sum);
		} else if (json_object_is_type(cur, json_type_double))
			json_object_set_double(cur, json_object_get_double(cur) + (double)op->by);
		else
			return cx_error_internal(err, "$inc of '%s' which is not a number", op->field);
		return CX_OK;
	}
	return cx_error_internal(err, "unknown update operation");
}

int
cx_store_apply_update(json_object *doc, const struct cx_update *update, struct cx_error *err)
{
	size_t i;
	int rc;

	if (!json_object_is_type(doc, json_type_object))
		return cx_error_internal(err, "update of a document that is not an object");
	for (i = 0; i < update->n; i++)
		if ((rc = apply_op(doc, &update->ops[i], err)) != CX_OK)
			return rc;
	return CX_OK;
}

/* ---- unique index conflicts ------------------------------------------------- */

int
cx_store_conflict(struct cx_error *err, const char *const *fields, size_t n)
{
	char list[192] = "";
	size_t i, len = 0;
	int w;

	if (n == 0)
		return cx_error_set(err, CX_ECONFLICT, "A record with these values already exists");
	for (i = 0; i < n; i++) {
		w = snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : (i + 1 == n ? " and " : ", "), fields[i]);
		if (w < 0 || (size_t)w >= sizeof(list) - len)
			return cx_error_set(err, CX_ECONFLICT,
			    "A record with these values already exists");
		len += (size_t)w;
	}
	return cx_error_set(err, CX_ECONFLICT, "A record with this %s already exists", list);
}

size_t
cx_store_index_name_fields(const char *name, char fields[][CX_STORE_FIELD_MAX], size_t max)
{
	char field[CX_STORE_FIELD_MAX] = "";
	const char *p, *end;
	size_t n = 0, flen = 0, tlen;

	if (name == NULL)
		return 0;
	if (strcmp(name, "_id_") == 0) {
		if (max == 0)
			return 0;
		snprintf(fields[0], CX_STORE_FIELD_MAX, "id");
		return 1;
	}
	for (p = name; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, '_');
		if (end == NULL)
			end = p + strlen(p);
		tlen = (size_t)(end - p);
		if ((tlen == 1 && p[0] == '1') || (tlen == 2 && p[0] == '-' && p[1] == '1')) {
			if (flen == 0 || n >= max)
				return 0;
			snprintf(fields[n++], CX_STORE_FIELD_MAX, "%s", field);
			flen = 0;
			field[0] = '\0';
			continue;
		}
		if (tlen == 0 && *end == '\0')
			break;
		if (flen + tlen + 2 >= sizeof(field))
			return 0;
		if (flen > 0)
			field[flen++] = '_';
		memcpy(field + flen, p, tlen);
		flen += tlen;
		field[flen] = '\0';
	}
	return flen == 0 ? n : 0;
}

/* ---- indexes file ----------------------------------------------------------- */

void
cx_store_index_set_free(struct cx_index_set *set)
{
	if (set == NULL)
		return;
	free(set->colls);
	free(set->indexes);
	memset(set, 0, sizeof(*set));
}

static int
index_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= CX_STORE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

static int
load_index(const char *coll, size_t pos, json_object *spec, struct cx_index *idx,
    struct cx_error *err)
{
	static const char *const allowed[] = { "name", "keys", "unique", NULL };
	json_object *keys, *key, *field, *dir;
	const char *name;
	size_t i;

	memset(idx, 0, sizeof(*idx));
	snprintf(idx->coll, sizeof(idx->coll), "%s", coll);
	if (!json_object_is_type(spec, json_type_object) || cx_json_only_keys(spec, allowed, NULL) != 0)
		return cx_error_field(err, "indexes", "%s[%zu]: an object with name, keys, unique",
		    coll, pos);
	name = cx_json_str(spec, "name");
	if (name == NULL || !index_name_valid(name))
		return cx_error_field(err, "indexes", "%s[%zu]: bad or missing name", coll, pos);
	snprintf(idx->name, sizeof(idx->name), "%s", name);
	if (!json_object_object_get_ex(spec, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array) ||
	    json_object_array_length(keys) == 0 ||
	    json_object_array_length(keys) > CX_STORE_MAX_INDEX_KEYS)
		return cx_error_field(err, "indexes", "%s.%s: keys must be 1..%d pairs", coll, name,
		    CX_STORE_MAX_INDEX_KEYS);
	for (i = 0; i < json_object_array_length(keys); i++) {
		key = json_object_array_get_idx(keys, i);
		if (!json_object_is_type(key, json_type_array) || json_object_array_length(key) != 2)
			return cx_error_field(err, "indexes", "%s.%s: a key is [field, 1|-1]", coll, name);
		field = json_object_array_get_idx(key, 0);
		dir = json_object_array_get_idx(key, 1);
		if (!json_object_is_type(field, json_type_string) ||
		    !cx_store_field_valid(json_object_get_string(field)) ||
		    is_id_field(json_object_get_string(field)))
			return cx_error_field(err, "indexes", "%s.%s: bad key field", coll, name);
		if (!json_object_is_type(dir, json_type_int) ||
		    (json_object_get_int64(dir) != 1 && json_object_get_int64(dir) != -1))
			return cx_error_field(err, "indexes", "%s.%s: direction must be 1 or -1", coll,
			    name);
		snprintf(idx->keys[i].field, sizeof(idx->keys[i].field), "%s",
		    json_object_get_string(field));
		idx->keys[i].dir = (int)json_object_get_int64(dir);
	}
	idx->nkeys = i;
	if (json_object_object_get_ex(spec, "unique", &field)) {
		if (!json_object_is_type(field, json_type_boolean))
			return cx_error_field(err, "indexes", "%s.%s: unique must be a bool", coll, name);
		idx->unique = json_object_get_boolean(field);
	}
	return CX_OK;
}

static int
read_file(const char *path, char **out, size_t *len, struct cx_error *err)
{
	FILE *fp;
	char *buf = NULL;
	size_t n;
	int rc = CX_OK;

	fp = fopen(path, "r");
	if (fp == NULL)
		return cx_error_field(err, "indexes", "cannot open %.120s: %s", path, strerror(errno));
	buf = malloc(INDEXES_FILE_MAX + 1);
	if (buf == NULL) {
		rc = cx_error_internal(err, "out of memory reading %s", path);
		goto out;
	}
	n = fread(buf, 1, INDEXES_FILE_MAX + 1, fp);
	if (ferror(fp) || n > INDEXES_FILE_MAX) {
		rc = cx_error_field(err, "indexes", "cannot read %.120s (or larger than 1 MiB)", path);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(fp);
	return rc;
}

int
cx_store_index_set_load(const char *path, struct cx_index_set *set, struct cx_error *err)
{
	json_object *root = NULL, *list;
	char *text = NULL;
	size_t len = 0, i, ncolls = 0, nidx = 0;
	int rc;

	memset(set, 0, sizeof(*set));
	if ((rc = read_file(path, &text, &len, err)) != CX_OK)
		goto out;
	if ((rc = cx_json_parse(text, len, &root, NULL)) != CX_OK) {
		rc = cx_error_field(err, "indexes", "%.120s is not valid JSON", path);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		rc = cx_error_field(err, "indexes", "%.120s: top level must be an object", path);
		goto out;
	}
	json_object_object_foreach(root, coll, spec) {
		if (!cx_store_coll_valid(coll) || !json_object_is_type(spec, json_type_array)) {
			rc = cx_error_field(err, "indexes", "bad collection '%.64s' (or not a list)", coll);
			goto out;
		}
		ncolls++;
		nidx += json_object_array_length(spec);
	}
	set->colls = calloc(ncolls ? ncolls : 1, sizeof(*set->colls));
	set->indexes = calloc(nidx ? nidx : 1, sizeof(*set->indexes));
	if (set->colls == NULL || set->indexes == NULL) {
		rc = cx_error_internal(err, "out of memory loading %s", path);
		goto out;
	}
	json_object_object_foreach(root, coll2, spec2) {
		snprintf(set->colls[set->ncolls++], CX_STORE_NAME_MAX, "%s", coll2);
		list = spec2;
		for (i = 0; i < json_object_array_length(list); i++) {
			rc = load_index(coll2, i, json_object_array_get_idx(list, i),
			    &set->indexes[set->nindexes], err);
			if (rc != CX_OK)
				goto out;
			set->nindexes++;
		}
	}
	rc = CX_OK;
out:
	if (rc != CX_OK)
		cx_store_index_set_free(set);
	json_object_put(root);
	free(text);
	return rc;
}

/* ---- public API --------------------------------------------------------------- */

int
cx_store_open(const char *url, const char *db_name, struct cx_store **out, struct cx_error *err)
{
	if (url == NULL || *url == '\0') {
		cx_logf(CX_LOG_ERROR, "store: no database URL configured");
		return cx_error_set(err, CX_EUNAVAIL, "Database unavailable");
	}
	if (strncmp(url, "mongodb://", 10) == 0 || strncmp(url, "mongodb+srv://", 14) == 0)
		return cx_store_mongo_open(url, db_name, out, err);
	if (strncmp(url, "sqlite://", 9) == 0)
		url += 9;
	else if (strncmp(url, "sqlite:", 7) == 0)
		url += 7;
	if (*url == '\0') {
		cx_logf(CX_LOG_ERROR, "store: empty SQLite path");
		return cx_error_set(err, CX_EUNAVAIL, "Database unavailable");
	}
	return cx_store_sqlite_open(url, out, err);
}

void
cx_store_close(struct cx_store *store)
{
	if (store != NULL)
		store->ops->close(store);
}

const char *
cx_store_backend(const struct cx_store *store)
{
	return store != NULL ? store->ops->name : "none";
}

int
cx_store_ping(struct cx_store *store, struct cx_error *err)
{
	if (store == NULL)
		return cx_error_set(err, CX_EUNAVAIL, "Database unavailable");
	return store->ops->ping(store, err);
}

int
cx_store_ensure_indexes(struct cx_store *store, const char *indexes_json_path,
    struct cx_error *err)
{
	struct cx_index_set set;
	int rc;

	if (store == NULL || indexes_json_path == NULL)
		return cx_error_internal(err, "cx_store_ensure_indexes: NULL argument");
	if ((rc = cx_store_index_set_load(indexes_json_path, &set, err)) != CX_OK)
		return rc;
	rc = store->ops->ensure_indexes(store, &set, err);
	cx_store_index_set_free(&set);
	return rc;
}

static int
check_common(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    struct cx_error *err)
{
	if (store == NULL)
		return cx_error_internal(err, "store call without a store");
	if (!cx_store_coll_valid(coll))
		return cx_error_internal(err, "invalid collection name '%.64s'", coll ? coll : "(null)");
	if (filter != NULL && filter->broken != NULL)
		return cx_error_internal(err, "unusable store filter: %s", filter->broken);
	return CX_OK;
}

int
cx_store_insert(struct cx_store *store, const char *coll, json_object *doc,
    struct cx_error *err)
{
	char oid[CX_OID_LEN];
	json_object *id = NULL, *gen = NULL;
	int rc;

	if ((rc = check_common(store, coll, NULL, err)) != CX_OK)
		return rc;
	if (!json_object_is_type(doc, json_type_object))
		return cx_error_internal(err, "insert of a document that is not an object");
	if (json_object_object_get_ex(doc, "_id", NULL))
		return cx_error_internal(err, "insert of a document with an _id field");
	if (json_object_object_get_ex(doc, "id", &id)) {
		if (!json_object_is_type(id, json_type_string) || json_object_get_string_len(id) == 0 ||
		    json_object_get_string_len(id) >= ID_MAX)
			return cx_error_internal(err, "document id must be a non-empty string");
		if (normalize_id_value(id) != 0)
			return cx_error_internal(err, "out of memory");
	} else {
		cx_oid_new(oid);
		gen = json_object_new_string(oid);
		if (gen == NULL || json_object_object_add(doc, "id", gen) != 0) {
			json_object_put(gen);
			return cx_error_internal(err, "out of memory");
		}
	}
	rc = store->ops->insert(store, coll, doc, err);
	if (rc != CX_OK && gen != NULL)
		json_object_object_del(doc, "id");   /* leave the caller's doc as it was */
	return rc;
}

int
cx_store_find_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    json_object **out, struct cx_error *err)
{
	int rc;

	if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		return rc;
	return store->ops->find_one(store, coll, filter, out, err);
}

static int
check_page(const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit,
    struct cx_error *err)
{
	size_t i;

	if (skip < 0)
		return cx_error_field(err, "skip", "must not be negative");
	if (limit < 0)
		return cx_error_field(err, "limit", "must not be negative");
	if (nsort > CX_STORE_MAX_SORT || (nsort > 0 && sort == NULL))
		return cx_error_field(err, "sort", "at most %d sort keys", CX_STORE_MAX_SORT);
	for (i = 0; i < nsort; i++) {
		if (!cx_store_field_valid(sort[i].field))
			return cx_error_field(err, "sort", "invalid sort field");
		if (sort[i].dir != 1 && sort[i].dir != -1)
			return cx_error_field(err, "sort", "direction must be 1 or -1");
	}
	return CX_OK;
}

int
cx_store_find(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit, json_object **out,
    struct cx_error *err)
{
	json_object *array;
	int rc;

	if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		return rc;
	if ((rc = check_page(sort, nsort, skip, limit, err)) != CX_OK)
		return rc;
	array = json_object_new_array();
	if (array == NULL)
		return cx_error_internal(err, "out of memory");
	rc = store->ops->find(store, coll, filter, sort, nsort, skip, limit, array, err);
	if (rc != CX_OK) {
		json_object_put(array);
		return rc;
	}
	*out = array;
	return CX_OK;
}

int
cx_store_count(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    int64_t *out, struct cx_error *err)
{
	int rc;

	if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		return rc;
	return store->ops->count(store, coll, filter, out, err);
}

int
cx_store_update_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_update *update, json_object **after, struct cx_error *err)
{
	int rc;

	if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		return rc;
	/* A NULL filter here is a bug that would update an arbitrary document. */
	if (filter == NULL || update == NULL)
		return cx_error_internal(err, "update_one needs a filter and an update");
	if (update->broken != NULL)
		return cx_error_internal(err, "unusable store update: %s", update->broken);
	return store->ops->update_one(store, coll, filter, update, after, err);
}

int
cx_store_replace_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    json_object *doc, struct cx_error *err)
{
	json_object *id = NULL;
	int rc;

	if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		return rc;
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "id", &id) ||
	    !json_object_is_type(id, json_type_string) || json_object_get_string_len(id) == 0 ||
	    json_object_get_string_len(id) >= ID_MAX)
		return cx_error_internal(err, "replace_one needs a document with an id");
	if (json_object_object_get_ex(doc, "_id", NULL))
		return cx_error_internal(err, "replace_one of a document with an _id field");
	return store->ops->replace_one(store, coll, filter, json_object_get_string(id), doc, err);
}

int
cx_store_can_defer(struct cx_store *store)
{
	return store != NULL && store->ops->prepare != NULL && store->ops->apply != NULL;
}

int
cx_store_prepare(struct cx_store *store, const char *coll, struct cx_filter *filter,
    json_object *doc, struct cx_store_write **out, struct cx_error *err)
{
	json_object *id = NULL;
	int rc;

	*out = NULL;
	if (!cx_store_can_defer(store))
		rc = cx_error_internal(err, "this store cannot defer writes");
	else if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		;
	else if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "id", &id) ||
	    !json_object_is_type(id, json_type_string) || json_object_get_string_len(id) == 0 ||
	    json_object_get_string_len(id) >= ID_MAX)
		rc = cx_error_internal(err, "a deferred write needs a document with an id");
	else if (json_object_object_get_ex(doc, "_id", NULL))
		rc = cx_error_internal(err, "a deferred write of a document with an _id field");
	else if (filter == NULL && normalize_id_value(id) != 0)
		rc = cx_error_internal(err, "out of memory");
	else
		return store->ops->prepare(store, coll, filter, json_object_get_string(id), doc, out,
		    err);
	cx_filter_free(filter);
	return rc;
}

int
cx_store_apply(struct cx_store *store, struct cx_store_write *const *w, size_t n,
    struct cx_error *err)
{
	if (!cx_store_can_defer(store))
		return cx_error_internal(err, "this store cannot defer writes");
	return n > 0 ? store->ops->apply(store, w, n, err) : CX_OK;
}

void
cx_store_write_free(struct cx_store *store, struct cx_store_write *w)
{
	if (w != NULL && store != NULL && store->ops->write_free != NULL)
		store->ops->write_free(w);
}

void
cx_store_defer_checkpoints(struct cx_store *store)
{
	if (store != NULL && store->ops->defer_checkpoints != NULL)
		store->ops->defer_checkpoints(store);
}

int
cx_store_checkpoint(struct cx_store *store, struct cx_error *err)
{
	if (store == NULL)
		return cx_error_set(err, CX_EUNAVAIL, "Database unavailable");
	return store->ops->checkpoint != NULL ? store->ops->checkpoint(store, err) : CX_OK;
}

int
cx_store_begin(struct cx_store *store, struct cx_error *err)
{
	if (store == NULL)
		return cx_error_internal(err, "no store");
	return store->ops->begin != NULL ? store->ops->begin(store, err) : CX_OK;
}

int
cx_store_commit(struct cx_store *store, struct cx_error *err)
{
	if (store == NULL)
		return cx_error_internal(err, "no store");
	return store->ops->commit != NULL ? store->ops->commit(store, err) : CX_OK;
}

void
cx_store_rollback(struct cx_store *store)
{
	if (store != NULL && store->ops->rollback != NULL)
		store->ops->rollback(store);
}

int
cx_store_delete_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    struct cx_error *err)
{
	int rc;

	if ((rc = check_common(store, coll, filter, err)) != CX_OK)
		return rc;
	if (filter == NULL)
		return cx_error_internal(err, "delete_one needs a filter");
	return store->ops->delete_one(store, coll, filter, err);
}
