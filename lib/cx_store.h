/* cx_store: a small document store (collections of JSON documents) with two back ends,
 * SQLite (default) and MongoDB (libmongoc). Filters and updates are built by code,
 * never parsed from a request, so client input can never become an operator. */
#ifndef CX_STORE_H
#define CX_STORE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "cx_error.h"

struct cx_store;   /* an open connection; one per process (open it after fork) */
struct cx_filter;  /* a conjunction of field conditions */
struct cx_update;  /* $set / $unset / $push / $inc operations */

/* Open a store. url forms:
 *   "sqlite:/path/to/file.db" or a plain path   -> SQLite (WAL, busy timeout)
 *   "mongodb://host:port/?..." (+ db_name)       -> MongoDB; db_name NULL = "candidatex"
 * Errors: SERVICE_UNAVAILABLE when the server/file cannot be opened. */
int cx_store_open(const char *url, const char *db_name, struct cx_store **out,
    struct cx_error *err);
void cx_store_close(struct cx_store *store);
const char *cx_store_backend(const struct cx_store *store);   /* "sqlite" | "mongodb" */

/* Cheap liveness check for /api/health (SELECT 1 / ping). */
int cx_store_ping(struct cx_store *store, struct cx_error *err);

/* Create collections and the indexes listed in the JSON file (schema/indexes.json):
 * { "users": [ {"name":"email_1","keys":[["email",1]],"unique":true}, ... ], ... }
 * Idempotent. */
int cx_store_ensure_indexes(struct cx_store *store, const char *indexes_json_path,
    struct cx_error *err);

/* Documents are JSON objects whose "id" is a 24-hex ObjectId string (the MongoDB back
 * end maps it to _id). Dotted field paths ("profile.phone") reach nested fields.
 * Times are stored as RFC 3339 strings (fixed width, sortable as text). */

/* Insert a document. If doc has no "id", one is generated and added to doc.
 * Errors: CONFLICT (unique index violated; message names no internals). */
int cx_store_insert(struct cx_store *store, const char *coll, json_object *doc,
    struct cx_error *err);

/* First document matching filter (filter may be NULL = any). *out is the caller's.
 * Errors: NOT_FOUND when nothing matches. */
int cx_store_find_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    json_object **out, struct cx_error *err);

/* Sort keys: field and direction (1 ascending, -1 descending). */
struct cx_sort {
	const char *field;
	int dir;
};

/* Matching documents as a new JSON array in *out (caller's), sorted by sort[0..nsort),
 * skipping `skip`, at most `limit` (0 = no limit). */
int cx_store_find(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_sort *sort, size_t nsort, int64_t skip, int64_t limit, json_object **out,
    struct cx_error *err);

int cx_store_count(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    int64_t *out, struct cx_error *err);

/* Apply update to the one document matching filter (typically id + a precondition such
 * as status == "active"), atomically: concurrent updates from other processes are never
 * lost. If `after` is non-NULL it receives the updated document (caller's).
 * Errors: NOT_FOUND when no document matches (the precondition failed),
 * CONFLICT when the update would violate a unique index. */
int cx_store_update_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    const struct cx_update *update, json_object **after, struct cx_error *err);

/* Replace the document whose id is doc's "id" with doc (borrowed), only if it also matches
 * filter (typically a revision precondition). The document is serialized before the write
 * starts, so a large document holds the database's write lock only while it is stored.
 * Errors: NOT_FOUND (no such document, or the precondition failed), CONFLICT (a unique
 * index would be violated). */
int cx_store_replace_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    json_object *doc, struct cx_error *err);

/* Delete the one document matching filter. Errors: NOT_FOUND. */
int cx_store_delete_one(struct cx_store *store, const char *coll, const struct cx_filter *filter,
    struct cx_error *err);

/* Group the writes that follow into one unit, ended by cx_store_commit or
 * cx_store_rollback (never nested). SQLite: one transaction that takes the write lock at
 * cx_store_begin, so a crash stores all of the writes or none, and another process never
 * sees some of them. MongoDB: a standalone server has no multi-document transactions, so
 * the writes apply one by one and rollback undoes nothing: order them so that every
 * prefix is a consistent state (write the document that makes the others count last).
 * Errors: SERVICE_UNAVAILABLE (the database is busy or failing). */
int cx_store_begin(struct cx_store *store, struct cx_error *err);
int cx_store_commit(struct cx_store *store, struct cx_error *err);
void cx_store_rollback(struct cx_store *store);

/* Deferred writes: an insert or replace_one prepared now, from the document as it is now
 * (serialized: later changes to it do not count), and applied later inside an open
 * transaction (cx_store_begin). A worker gathers the writes of the requests it has in
 * hand and commits them at once, so they share one commit, and the write lock is held
 * only while they are applied. Only where a transaction is atomic (SQLite):
 * cx_store_can_defer says whether it is. */
struct cx_store_write;
int cx_store_can_defer(struct cx_store *store);
/* An insert of doc (filter NULL; doc must have its "id"), or replace_one(filter, doc);
 * the filter is taken either way. */
int cx_store_prepare(struct cx_store *store, const char *coll, struct cx_filter *filter,
    json_object *doc, struct cx_store_write **out, struct cx_error *err);
/* Apply w[0..n), all or none, in the open transaction. The errors of insert and
 * replace_one (CONFLICT, NOT_FOUND); SERVICE_UNAVAILABLE when the transaction itself is
 * lost (then cx_store_commit fails too). */
int cx_store_apply(struct cx_store *store, struct cx_store_write *const *w, size_t n,
    struct cx_error *err);
void cx_store_write_free(struct cx_store *store, struct cx_store_write *w);

/* WAL checkpoints. By default a SQLite connection copies the write-ahead log back into
 * the database (and syncs it to disk) inside whichever commit crosses 1000 pages, which
 * makes that request wait for the disk. cx_store_defer_checkpoints: this connection
 * leaves that to a checkpointer process (it still checkpoints past 10000 pages, so a
 * dead checkpointer cannot let the log grow without bound). cx_store_checkpoint: copy
 * what no reader still needs, without waiting for readers or writers (the checkpointer's
 * tick). Both do nothing on MongoDB. */
void cx_store_defer_checkpoints(struct cx_store *store);
int cx_store_checkpoint(struct cx_store *store, struct cx_error *err);

/* ---- filters ---------------------------------------------------------------- */
enum cx_filter_op { CX_EQ, CX_NE, CX_GT, CX_GTE, CX_LT, CX_LTE, CX_CONTAINS_I };

struct cx_filter *cx_filter_new(void);
void cx_filter_free(struct cx_filter *filter);
/* Add `field op value`. value is taken (ownership passes to the filter); a string,
 * int, double, bool or null. CX_CONTAINS_I: case-insensitive substring match of a
 * string field (literal text, no pattern syntax). Returns the filter for chaining. */
struct cx_filter *cx_filter_add(struct cx_filter *filter, const char *field,
    enum cx_filter_op op, json_object *value);
/* Shorthands for the common case. */
struct cx_filter *cx_filter_eq_str(struct cx_filter *filter, const char *field, const char *value);
struct cx_filter *cx_filter_eq_int(struct cx_filter *filter, const char *field, int64_t value);
struct cx_filter *cx_filter_eq_bool(struct cx_filter *filter, const char *field, int value);
/* Any of several conditions on one field: `field == v1 OR field == v2 ...` (values taken). */
struct cx_filter *cx_filter_in(struct cx_filter *filter, const char *field, json_object *array);

/* ---- updates ---------------------------------------------------------------- */
struct cx_update *cx_update_new(void);
void cx_update_free(struct cx_update *update);
/* value is taken. */
struct cx_update *cx_update_set(struct cx_update *update, const char *field, json_object *value);
struct cx_update *cx_update_unset(struct cx_update *update, const char *field);
struct cx_update *cx_update_push(struct cx_update *update, const char *field, json_object *value);
struct cx_update *cx_update_inc(struct cx_update *update, const char *field, int64_t by);

#endif
