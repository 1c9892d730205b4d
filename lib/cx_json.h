/* cx_json: bounded JSON parsing and typed field readers that report VALIDATION_ERROR. */
#ifndef CX_JSON_H
#define CX_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "cx_error.h"

#define CX_JSON_MAX_DEPTH 32

/* Parse exactly one JSON value from buf[0..len) (no trailing garbage), nesting at most
 * CX_JSON_MAX_DEPTH. On success *out is the caller's reference. BAD_REQUEST otherwise. */
int cx_json_parse(const char *buf, size_t len, json_object **out, struct cx_error *err);

/* Field readers for an object `obj`. `required` 1: a missing/null field is a
 * VALIDATION_ERROR naming it; 0: a missing field leaves *out untouched and returns 0.
 * A present field of the wrong type is always a VALIDATION_ERROR.
 * Strings are borrowed from obj; lengths are in bytes and checked (min..max). */
int cx_json_get_string(json_object *obj, const char *field, int required, size_t min_len,
    size_t max_len, const char **out, struct cx_error *err);
int cx_json_get_int(json_object *obj, const char *field, int required, int64_t min,
    int64_t max, int64_t *out, struct cx_error *err);
int cx_json_get_bool(json_object *obj, const char *field, int required, int *out,
    struct cx_error *err);
/* An object or array field, borrowed. */
int cx_json_get_object(json_object *obj, const char *field, int required, json_object **out,
    struct cx_error *err);

/* Reject any key of obj not in the NULL-terminated list `allowed` (VALIDATION_ERROR). */
int cx_json_only_keys(json_object *obj, const char *const *allowed, struct cx_error *err);

/* Borrowed string of a field or NULL when absent / not a string. */
const char *cx_json_str(json_object *obj, const char *field);

/* Serialize compactly; the string is owned by obj (valid until obj changes/frees). */
const char *cx_json_text(json_object *obj, size_t *len);

struct cx_buf;
/* Append the compact JSON of obj to b (NUL-terminated): the same text as cx_json_text,
 * written faster than json-c does. -1 when out of memory (b->failed). */
int cx_json_write(struct cx_buf *b, json_object *obj);

/* Writing a JSON object as text field by field, for a hot path that would otherwise build
 * a json-c tree only to serialize it (the same text cx_json_write makes). Keys are written
 * as given: literal names that need no escaping. A nested object: cx_jw_key, then
 * cx_jw_open of a second writer on the same buffer. Check b->failed once at the end. */
struct cx_jw {
	struct cx_buf *b;
	int n;                 /* fields written so far */
};
void cx_jw_open(struct cx_jw *w, struct cx_buf *b);
void cx_jw_close(struct cx_jw *w);   /* also NUL-terminates the buffer */
void cx_jw_key(struct cx_jw *w, const char *key);
void cx_jw_str(struct cx_jw *w, const char *key, const char *s);   /* NULL: null */
void cx_jw_int(struct cx_jw *w, const char *key, int64_t v);
void cx_jw_bool(struct cx_jw *w, const char *key, int v);
void cx_jw_json(struct cx_jw *w, const char *key, json_object *v);   /* cx_json_write */

/* A value that serializes as the JSON text given (copied; not checked): a document sent
 * in more than one message is serialized once. Only for output: its fields cannot be
 * read (it is a string to json-c). */
json_object *cx_json_raw(const char *text, size_t len);
/* obj serialized now and released: cx_json_raw of its text (NULL on out of memory). */
json_object *cx_json_freeze(json_object *obj);
/* A value to read: obj itself when it is not raw (a new reference), else its text parsed
 * (NULL when that fails). The caller puts it. */
json_object *cx_json_thaw(json_object *obj);

#endif
