/* cx_store_impl: internals of cx_store shared by its back ends and its unit tests. */
#ifndef CX_STORE_IMPL_H
#define CX_STORE_IMPL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "cx_error.h"
#include "cx_store.h"

#define CX_STORE_FIELD_MAX 128      /* bytes of a dotted field path, NUL included */
#define CX_STORE_NAME_MAX 64        /* bytes of a collection or index name, NUL included */
#define CX_STORE_MAX_CONDS 64       /* conditions in one filter */
#define CX_STORE_MAX_IN 1000        /* values in one cx_filter_in */
#define CX_STORE_MAX_OPS 64         /* operations in one update */
#define CX_STORE_MAX_SORT 8         /* sort keys of one find */
#define CX_STORE_MAX_INDEX_KEYS 8   /* fields of one index */
#define CX_STORE_DOC_DEPTH 128      /* nesting of a stored document */

/* Internal filter operator beside enum cx_filter_op: the value is an array and the
 * field must equal one of its elements. */
#define CX_FILTER_IN 100

struct cx_filter_cond {
	char *field;          /* validated dotted path; "id" is the document id */
	int op;               /* enum cx_filter_op or CX_FILTER_IN */
	json_object *value;   /* owned; NULL is JSON null */
};

struct cx_filter {
	struct cx_filter_cond *conds;
	size_t n, cap;
	const char *broken;   /* why the filter is unusable (bad field, value, memory), or NULL */
};

enum cx_update_kind { CX_UPDATE_SET, CX_UPDATE_UNSET, CX_UPDATE_PUSH, CX_UPDATE_INC };

struct cx_update_op {
	enum cx_update_kind kind;
	char *field;          /* validated dotted path, never "id" */
	json_object *value;   /* owned; SET and PUSH only (NULL is JSON null) */
	int64_t by;           /* INC only */
};

struct cx_update {
	struct cx_update_op *ops;
	size_t n, cap;
	const char *broken;   /* as for filters; also set when two paths overlap */
};

/* One index of schema/indexes.json, validated. */
struct cx_index_key {
	char field[CX_STORE_FIELD_MAX];
	int dir;              /* 1 or -1 */
};

struct cx_index {
	char coll[CX_STORE_NAME_MAX];
	char name[CX_STORE_NAME_MAX];
	struct cx_index_key keys[CX_STORE_MAX_INDEX_KEYS];
	size_t nkeys;
	int unique;
};

struct cx_index_set {
	char (*colls)[CX_STORE_NAME_MAX];   /* every collection named in the file */
	size_t ncolls;
	struct cx_index *indexes;
	size_t nindexes;
};

/* A back end. cx_store.c validates every argument (collection name, filter, update,
 * sort, skip, limit, document id) before calling one of these. */
struct cx_store_ops {
	const char *name;
	void (*close)(struct cx_store *store);
	int (*ping)(struct cx_store *store, struct cx_error *err);
	int (*ensure_indexes)(struct cx_store *store, const struct cx_index_set *set,
	    struct cx_error *err);
	int (*insert)(struct cx_store *store, const char *coll, json_object *doc,
	    struct cx_error *err);
	int (*find_one)(struct cx_store *store, const char *coll, const struct cx_filter *filter,
	    json_object **out, struct cx_error *err);
	int (*find)(struct cx_store *store, const char *coll, const struct cx_filter *filter,
	    const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit,
	    json_object *array, struct cx_error *err);
	int (*count)(struct cx_store *store, const char *coll, const struct cx_filter *filter,
	    int64_t *out, struct cx_error *err);
	int (*update_one)(struct cx_store *store, const char *coll, const struct cx_filter *filter,
	    const struct cx_update *update, json_object **after, struct cx_error *err);
	int (*delete_one)(struct cx_store *store, const char *coll, const struct cx_filter *filter,
	    struct cx_error *err);
	int (*replace_one)(struct cx_store *store, const char *coll, const struct cx_filter *filter,
	    const char *id, json_object *doc, struct cx_error *err);
	/* Optional (NULL: the writes between them apply one by one). */
	int (*begin)(struct cx_store *store, struct cx_error *err);
	int (*commit)(struct cx_store *store, struct cx_error *err);
	void (*rollback)(struct cx_store *store);
	void (*defer_checkpoints)(struct cx_store *store);
	int (*checkpoint)(struct cx_store *store, struct cx_error *err);
	/* Optional (NULL: writes cannot be deferred). id: the document's; filter taken. */
	int (*prepare)(struct cx_store *store, const char *coll, struct cx_filter *filter,
	    const char *id, json_object *doc, struct cx_store_write **out, struct cx_error *err);
	int (*apply)(struct cx_store *store, struct cx_store_write *const *w, size_t n,
	    struct cx_error *err);
	void (*write_free)(struct cx_store_write *w);
};

/* Every back end's store struct begins with this. */
struct cx_store {
	const struct cx_store_ops *ops;
};

/* ---- shared helpers (cx_store.c) ------------------------------------------- */

/* 1 if field is a dotted path of [A-Za-z0-9_] components (no empty component) that
 * fits CX_STORE_FIELD_MAX, else 0. */
int cx_store_field_valid(const char *field);
/* 1 if name is [A-Za-z0-9_], 1..63 bytes, not starting with "sqlite_". */
int cx_store_coll_valid(const char *name);

/* The value at the dotted path in doc (borrowed), or NULL when it is missing, null, or
 * below a non-object. */
json_object *cx_store_path_get(json_object *doc, const char *path);

/* Apply update to doc in place, as MongoDB would ($set creates intermediate objects,
 * $push creates the array, $inc creates the number). INTERNAL when a path crosses a
 * non-object, $push meets a non-array, $inc a non-number or overflows. */
int cx_store_apply_update(json_object *doc, const struct cx_update *update,
    struct cx_error *err);

/* CONFLICT naming the fields of the violated unique index:
 * "A record with this email already exists". n == 0 gives a generic message. */
int cx_store_conflict(struct cx_error *err, const char *const *fields, size_t n);
/* The fields of a MongoDB-style index name ("candidate_id_1_created_at_-1" ->
 * candidate_id, created_at; "_id_" -> id) into fields[0..max); returns the count,
 * 0 when the name does not have that form. */
size_t cx_store_index_name_fields(const char *name, char fields[][CX_STORE_FIELD_MAX],
    size_t max);

/* Parse and validate an indexes file. set is the caller's (cx_store_index_set_free). */
int cx_store_index_set_load(const char *path, struct cx_index_set *set, struct cx_error *err);
void cx_store_index_set_free(struct cx_index_set *set);

/* ---- back ends --------------------------------------------------------------- */
int cx_store_sqlite_open(const char *path, struct cx_store **out, struct cx_error *err);
int cx_store_mongo_open(const char *url, const char *db_name, struct cx_store **out,
    struct cx_error *err);
/* Tests only: drop the whole MongoDB database of this store. */
int cx_store_mongo_drop_database(struct cx_store *store, struct cx_error *err);

#endif
