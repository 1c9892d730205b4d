/* cx_json: bounded parsing and typed readers. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cx_buf.h"
#include "cx_json.h"

static __thread struct json_tokener *parse_tok;

int
cx_json_parse(const char *buf, size_t len, json_object **out, struct cx_error *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	if (len > (size_t)INT32_MAX)
		return cx_error_set(err, CX_ETOOLARGE, "Request body too large");
	/* one tokener per thread, reset for each text: making one costs more than a small
	 * body's parse */
	if ((tok = parse_tok) == NULL) {
		if ((tok = json_tokener_new_ex(CX_JSON_MAX_DEPTH)) == NULL)
			return cx_error_internal(err, "json_tokener_new_ex failed");
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		parse_tok = tok;
	}
	json_tokener_reset(tok);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	json_tokener_reset(tok);
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

/* ---- serialization -------------------------------------------------------------- */

/* What cx_json_raw marks its values with (their serializer's userdata). */
static const char raw_marker[] = "cx_json_raw";

static int
grow(struct cx_buf *b, size_t n)
{
	/* 4 KiB first: what the programs serialize (a session, an answer, a response) is
	 * mostly 1-4 KiB, and each doubling of a buffer that size is a realloc that copies */
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->failed)
		return -1;
	if (n > (size_t)-1 / 4 - b->len) {
		b->failed = 1;
		return -1;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

static inline void
put(struct cx_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap && grow(b, n) != 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static inline void
put_c(struct cx_buf *b, char c)
{
	if (b->len + 2 > b->cap && grow(b, 1) != 0)
		return;
	b->data[b->len++] = c;
}

/* The bytes of w below 0x20, '"' or '\\' (bytes of 0x80 and up never match: UTF-8
 * passes), as the high bit of each byte. The lowest one set is exact (a borrow runs only
 * upward, from a byte that matched): the first byte to escape; those above it may be
 * false. */
static inline uint64_t
escape_mask8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
	    ((backslash - ones) & ~backslash)) & high;
}

static inline int
must_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* Copies s[0, n) to d up to the first byte to escape, sixteen bytes at a time where the
 * CPU has SSE2 (every x86-64), then eight; returns how many it copied (n: none to
 * escape). The last bytes are checked as one word too: most strings (keys, ids, times)
 * are short, and a loop over their last few bytes cost more than the words before. */
static inline size_t
copy_plain(char *d, const char *s, size_t n)
{
	size_t i = 0;
	uint64_t w, m;

#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
	const __m128i control = _mm_set1_epi8(0x1f);

	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* below 0x20 (unsigned): min(v, 0x1f) == v; UTF-8 bytes never match */
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, control), v),
		    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
		int mask = _mm_movemask_epi8(hit);

		if (mask != 0) {
			size_t k = (size_t)__builtin_ctz((unsigned)mask);

			memcpy(d + i, s + i, k);
			return i + k;
		}
		_mm_storeu_si128((__m128i *)(void *)(d + i), v);
	}
#endif
	for (; n - i >= 8; i += 8) {
		memcpy(&w, s + i, 8);
		if ((m = escape_mask8(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			size_t k = (size_t)__builtin_ctzll(m) >> 3;

			memcpy(d + i, &w, k);
			return i + k;
#else
			goto bytes;   /* the byte loop below finds which one */
#endif
		}
		memcpy(d + i, &w, 8);
	}
	if (i == n)
		return n;
	/* Fewer than 8 left. A mask of 0 means no byte to escape (a borrow only starts at
	 * a byte that matched), wherever the bytes sit in the word. */
	if (n >= 8) {
		memcpy(&w, s + n - 8, 8);   /* the last 8: those before i are plain already */
		if (escape_mask8(w) == 0) {
			memcpy(d + n - 8, &w, 8);
			return n;
		}
	} else {
		w = 0x6161616161616161ULL;   /* 'a', never escaped, past the string */
		memcpy(&w, s, n);
		if (escape_mask8(w) == 0) {
			memcpy(d, s, n);
			return n;
		}
	}
#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
bytes:
#endif
	for (; i < n && !must_escape((unsigned char)s[i]); i++)
		d[i] = s[i];
	return i;
}

/* A JSON string, escaped as json-c does with JSON_C_TO_STRING_NOSLASHESCAPE. The run
 * up to each byte to escape is checked and copied a word at a time, in place (the
 * buffer is given room for the rest of the string first); most strings (keys, ids,
 * times, sentences) are one run. */
static void
put_string(struct cx_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	char esc[6];

	put_c(b, '"');
	for (;;) {
		unsigned char c;
		size_t n = 2;

		if (b->len + (len - start) + 2 > b->cap && grow(b, len - start + 1) != 0)
			return;
		i = start + copy_plain(b->data + b->len, s + start, len - start);
		b->len += i - start;
		if (i == len)
			break;
		c = (unsigned char)s[i];
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
			break;
		}
		put(b, esc, n);
		start = i + 1;
	}
	put_c(b, '"');
}

static void
put_int(struct cx_buf *b, int64_t v)
{
	char tmp[CX_U64_DIGITS + 1], *p = cx_u64_digits(tmp + sizeof(tmp),
	    v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--p = '-';
	put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void
put_value(struct cx_buf *b, json_object *o)
{
	const char *text;
	size_t i, n, len;
	int64_t v;
	int first = 1;

	if (o != NULL && json_object_get_userdata(o) != NULL) {
		/* a value with a serializer of its own (json_object_set_serializer): a frozen
		 * one here, else json-c's (a parsed number keeps its text so) */
		if (json_object_get_userdata(o) == (void *)raw_marker) {
			put(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
			return;
		}
		goto json_c;
	}
	switch (json_object_get_type(o)) {
	case json_type_null:
		put(b, "null", 4);
		return;
	case json_type_boolean:
		if (json_object_get_boolean(o))
			put(b, "true", 4);
		else
			put(b, "false", 5);
		return;
	case json_type_int:
		v = json_object_get_int64(o);
		if (v != INT64_MAX) {   /* else maybe a larger unsigned one: json-c writes it */
			put_int(b, v);
			return;
		}
		break;
	case json_type_string:
		put_string(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		return;
	case json_type_array:
		put_c(b, '[');
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i > 0)
				put_c(b, ',');
			put_value(b, json_object_array_get_idx(o, i));
		}
		put_c(b, ']');
		return;
	case json_type_object:
		put_c(b, '{');
		json_object_object_foreach(o, key, val) {
			if (!first)
				put_c(b, ',');
			first = 0;
			put_string(b, key, strlen(key));
			put_c(b, ':');
			put_value(b, val);
		}
		put_c(b, '}');
		return;
	case json_type_double:   /* json-c's own format */
		break;
	}
json_c:
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		b->failed = 1;
	else
		put(b, text, len);
}

int
cx_json_write(struct cx_buf *b, json_object *obj)
{
	put_value(b, obj);
	if (b->failed)
		return -1;
	if (b->data != NULL)
		b->data[b->len] = '\0';
	return 0;
}

void
cx_jw_open(struct cx_jw *w, struct cx_buf *b)
{
	w->b = b;
	w->n = 0;
	put_c(b, '{');
}

void
cx_jw_close(struct cx_jw *w)
{
	put_c(w->b, '}');
	if (!w->b->failed)
		w->b->data[w->b->len] = '\0';
}

void
cx_jw_key(struct cx_jw *w, const char *key)
{
	size_t n = strlen(key);

	if (w->n++ > 0)
		put_c(w->b, ',');
	put_c(w->b, '"');
	put(w->b, key, n);
	put(w->b, "\":", 2);
}

void
cx_jw_str(struct cx_jw *w, const char *key, const char *s)
{
	cx_jw_key(w, key);
	if (s != NULL)
		put_string(w->b, s, strlen(s));
	else
		put(w->b, "null", 4);
}

void
cx_jw_int(struct cx_jw *w, const char *key, int64_t v)
{
	cx_jw_key(w, key);
	put_int(w->b, v);
}

void
cx_jw_bool(struct cx_jw *w, const char *key, int v)
{
	cx_jw_key(w, key);
	if (v)
		put(w->b, "true", 4);
	else
		put(w->b, "false", 5);
}

void
cx_jw_json(struct cx_jw *w, const char *key, json_object *v)
{
	cx_jw_key(w, key);
	put_value(w->b, v);
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
		json_object_set_serializer(o, raw_to_string, (void *)raw_marker, NULL);
	return o;
}

json_object *
cx_json_thaw(json_object *obj)
{
	json_object *tree = NULL;

	if (obj == NULL || json_object_get_userdata(obj) != (void *)raw_marker)
		return json_object_get(obj);
	(void)cx_json_parse(json_object_get_string(obj), (size_t)json_object_get_string_len(obj),
	    &tree, NULL);
	return tree;
}

json_object *
cx_json_freeze(json_object *obj)
{
	struct cx_buf b = { 0 };
	json_object *raw = cx_json_write(&b, obj) == 0 ? cx_json_raw(b.data, b.len) : NULL;

	cx_buf_free(&b);
	json_object_put(obj);
	return raw;
}
