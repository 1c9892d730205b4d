/* cx_json: bounded parsing and typed readers. */
#include "config.h"

#include <string.h>

#include "cx_json.h"

int
cx_json_parse(const char *buf, size_t len, json_object **out, struct cx_error *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	if (len > (size_t)INT32_MAX)
		return cx_error_set(err, CX_ETOOLARGE, "Request body too large");
	tok = json_tokener_new_ex(CX_JSON_MAX_DEPTH);
	if (tok == NULL)
		return cx_error_internal(err, "json_tokener_new_ex failed");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj == NULL || jerr != json_tokener_success) {
		json_object_put(obj);
		return cx_error_set(err, CX_EBADREQ, "Request body is not valid JSON%s",
		    jerr == json_tokener_error_depth ? " (nested too deeply)" : "");
	}
	while (used < len && strchr(" \t\r\n", buf[used]) != NULL)
		used++;
	if (used != len) {
		json_object_put(obj);
		return cx_error_set(err, CX_EBADREQ, "Request body is not valid JSON");
	}
	*out = obj;
	return CX_OK;
}

static int
get_field(json_object *obj, const char *field, int required, json_object **val,
    struct cx_error *err)
{
	*val = NULL;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return cx_error_field(err, field, "request body must be a JSON object");
	if (!json_object_object_get_ex(obj, field, val) || *val == NULL) {
		*val = NULL;
		if (required)
			return cx_error_field(err, field, "field required");
	}
	return CX_OK;
}

int
cx_json_get_string(json_object *obj, const char *field, int required, size_t min_len,
    size_t max_len, const char **out, struct cx_error *err)
{
	json_object *v;
	size_t n;
	int rc;

	if ((rc = get_field(obj, field, required, &v, err)) != CX_OK || v == NULL)
		return rc;
	if (!json_object_is_type(v, json_type_string))
		return cx_error_field(err, field, "must be a string");
	n = (size_t)json_object_get_string_len(v);
	if (memchr(json_object_get_string(v), '\0', n) != NULL)
		return cx_error_field(err, field, "must not contain NUL characters");
	if (n < min_len)
		return min_len == 1 ? cx_error_field(err, field, "must not be empty")
		                    : cx_error_field(err, field, "must be at least %zu characters", min_len);
	if (n > max_len)
		return cx_error_field(err, field, "must be at most %zu characters", max_len);
	*out = json_object_get_string(v);
	return CX_OK;
}

int
cx_json_get_int(json_object *obj, const char *field, int required, int64_t min, int64_t max,
    int64_t *out, struct cx_error *err)
{
	json_object *v;
	int64_t n;
	int rc;

	if ((rc = get_field(obj, field, required, &v, err)) != CX_OK || v == NULL)
		return rc;
	if (!json_object_is_type(v, json_type_int))
		return cx_error_field(err, field, "must be an integer");
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return cx_error_field(err, field, "must be between %lld and %lld", (long long)min,
		    (long long)max);
	*out = n;
	return CX_OK;
}

int
cx_json_get_bool(json_object *obj, const char *field, int required, int *out,
    struct cx_error *err)
{
	json_object *v;
	int rc;

	if ((rc = get_field(obj, field, required, &v, err)) != CX_OK || v == NULL)
		return rc;
	if (!json_object_is_type(v, json_type_boolean))
		return cx_error_field(err, field, "must be true or false");
	*out = json_object_get_boolean(v);
	return CX_OK;
}

int
cx_json_get_object(json_object *obj, const char *field, int required, json_object **out,
    struct cx_error *err)
{
	json_object *v;
	int rc;

	if ((rc = get_field(obj, field, required, &v, err)) != CX_OK || v == NULL)
		return rc;
	if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
		return cx_error_field(err, field, "must be an object");
	*out = v;
	return CX_OK;
}

int
cx_json_only_keys(json_object *obj, const char *const *allowed, struct cx_error *err)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return cx_error_field(err, "body", "must be a JSON object");
	json_object_object_foreach(obj, key, val) {
		size_t i;
		(void)val;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL)
			return cx_error_field(err, key, "unknown field");
	}
	return CX_OK;
}

const char *
cx_json_str(json_object *obj, const char *field)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *
cx_json_text(json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static int
raw_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
	(void)level;
	(void)flags;
	return printbuf_memappend(pb, json_object_get_string(jso),
	    json_object_get_string_len(jso));
}

json_object *
cx_json_raw(const char *text, size_t len)
{
	json_object *o = json_object_new_string_len(text, (int)len);

	if (o != NULL)
		json_object_set_serializer(o, raw_to_string, NULL, NULL);
	return o;
}

json_object *
cx_json_freeze(json_object *obj)
{
	size_t len = 0;
	const char *text = cx_json_text(obj, &len);
	json_object *raw = text != NULL ? cx_json_raw(text, len) : NULL;

	json_object_put(obj);
	return raw;
}
