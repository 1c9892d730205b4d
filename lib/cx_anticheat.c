/* cx_anticheat: event validation, the canonical form, the hash chain and strike counting. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_anticheat.h"
#include "cx_buf.h"
#include "cx_crypto.h"
#include "cx_json.h"
#include "cx_time.h"

/* Integers must survive a JavaScript client (IEEE doubles): |n| <= 2^53 - 1. */
#define SAFE_INT_MAX INT64_C(9007199254740991)
#define MAX_TIMESTAMP 64
#define MAX_DETAIL_KEYS 16
#define MAX_DETAIL_KEY 64
#define MAX_DETAIL_STRING 256

/* The strike kinds: configuration key, spec 4.2 default, and words for people. */
static const struct kind_info {
	const char *name;
	int default_limit;
	const char *warning;     /* "<warning> (1 of 2 allowed)" */
	const char *one, *many;  /* "1 tab switch", "2 tab switches" */
} kinds[CX_AC_NKINDS] = {
	[CX_AC_FACE_MISSING] = { "face_missing", 3, "No face detected on camera",
	    "time no face was detected", "times no face was detected" },
	[CX_AC_TAB_SWITCH] = { "tab_switch", 2, "Tab switch detected",
	    "tab switch", "tab switches" },
	[CX_AC_FULLSCREEN_EXIT] = { "fullscreen_exit", 1, "Leaving full screen detected",
	    "full screen exit", "full screen exits" },
	[CX_AC_MULTIPLE_FACES] = { "multiple_faces", 1, "More than one face detected on camera",
	    "time several faces were detected", "times several faces were detected" },
	[CX_AC_SUSPICIOUS_INPUT] = { "suspicious_input", 5, "Suspicious input detected",
	    "suspicious input", "suspicious inputs" },
	[CX_AC_TAMPERING] = { "tampering", 0, "Tampering detected",
	    "tampering", "tamperings" },
};

/* What a client may send, and the kind it counts as (-1: logged only). */
enum detector { DETECT_ALWAYS, DETECT_FACE, DETECT_TAB };
static const struct client_event {
	const char *name;
	int kind;
	enum detector detector;
} client_events[] = {
	{ "tab_switch", CX_AC_TAB_SWITCH, DETECT_TAB },
	{ "fullscreen_exit", CX_AC_FULLSCREEN_EXIT, DETECT_ALWAYS },
	{ "right_click", -1, DETECT_ALWAYS },
	{ "copy_paste", CX_AC_SUSPICIOUS_INPUT, DETECT_ALWAYS },
	{ "face_missing", CX_AC_FACE_MISSING, DETECT_FACE },
	{ "multiple_faces", CX_AC_MULTIPLE_FACES, DETECT_FACE },
	{ "suspicious_input", CX_AC_SUSPICIOUS_INPUT, DETECT_ALWAYS },
};
#define N_CLIENT_EVENTS (sizeof(client_events) / sizeof(client_events[0]))

/* One validated event of a batch; everything borrowed from the request. */
struct ac_event {
	int64_t seq;
	const struct client_event *ce;
	const char *timestamp;
	json_object *details;    /* NULL: missing or null, canonical "{}" */
	const char *hash;        /* the client's sequence_hash (apply only) */
};

const char *
cx_ac_kind_name(enum cx_ac_kind kind)
{
	if (kind < 0 || kind >= CX_AC_NKINDS)
		return NULL;
	return kinds[kind].name;
}

/* ---- policy ---- */

int
cx_ac_policy_init(struct cx_ac_policy *pol, const char *strikes, int total_limit,
    int face_detection, int tab_switch_detection, struct cx_error *err)
{
	struct cx_ac_policy p;
	int seen[CX_AC_NKINDS] = { 0 };
	const char *s = strikes != NULL ? strikes : "";

	memset(&p, 0, sizeof(p));
	for (int k = 0; k < CX_AC_NKINDS; k++)
		p.limit[k] = kinds[k].default_limit;
	if (total_limit < 1)
		return cx_error_field(err, "ANTI_CHEAT_THRESHOLD", "must be at least 1");
	p.total_limit = total_limit;
	p.face_detection = face_detection != 0;
	p.tab_switch_detection = tab_switch_detection != 0;

	while (*s != '\0') {
		const char *end = strchr(s, ','), *eq, *name, *num;
		size_t namelen, numlen;
		char digits[16];
		int kind = -1;
		long v;
		char *stop;

		if (end == NULL)
			end = s + strlen(s);
		name = s;
		while (name < end && isspace((unsigned char)*name))
			name++;
		eq = memchr(name, '=', (size_t)(end - name));
		if (eq == NULL) {
			if (name == end)   /* an empty item, e.g. a trailing comma */
				goto next;
			return cx_error_field(err, "ANTI_CHEAT_STRIKES",
			    "items must be kind=N (e.g. tab_switch=2)");
		}
		namelen = (size_t)(eq - name);
		while (namelen > 0 && isspace((unsigned char)name[namelen - 1]))
			namelen--;
		for (int k = 0; k < CX_AC_TAMPERING; k++)
			if (strlen(kinds[k].name) == namelen &&
			    memcmp(kinds[k].name, name, namelen) == 0)
				kind = k;
		if (kind < 0)
			return cx_error_field(err, "ANTI_CHEAT_STRIKES", "unknown kind \"%.*s\" "
			    "(face_missing, tab_switch, fullscreen_exit, multiple_faces, "
			    "suspicious_input)", (int)(namelen > 32 ? 32 : namelen), name);
		if (seen[kind]++)
			return cx_error_field(err, "ANTI_CHEAT_STRIKES", "%s is listed twice",
			    kinds[kind].name);
		num = eq + 1;
		while (num < end && isspace((unsigned char)*num))
			num++;
		numlen = (size_t)(end - num);
		while (numlen > 0 && isspace((unsigned char)num[numlen - 1]))
			numlen--;
		if (numlen == 0 || numlen >= sizeof(digits))
			return cx_error_field(err, "ANTI_CHEAT_STRIKES", "%s needs a number 0..%d",
			    kinds[kind].name, CX_AC_MAX_LOG);
		memcpy(digits, num, numlen);
		digits[numlen] = '\0';
		for (size_t i = 0; i < numlen; i++)
			if (!isdigit((unsigned char)digits[i]))
				return cx_error_field(err, "ANTI_CHEAT_STRIKES",
				    "%s needs a number 0..%d", kinds[kind].name, CX_AC_MAX_LOG);
		errno = 0;
		v = strtol(digits, &stop, 10);
		if (errno != 0 || *stop != '\0' || v < 0 || v > CX_AC_MAX_LOG)
			return cx_error_field(err, "ANTI_CHEAT_STRIKES", "%s needs a number 0..%d",
			    kinds[kind].name, CX_AC_MAX_LOG);
		p.limit[kind] = (int)v;
next:
		s = *end == ',' ? end + 1 : end;
	}
	*pol = p;
	return CX_OK;
}

/* ---- state ---- */

static json_object *
strikes_new(const int64_t count[CX_AC_NKINDS])
{
	json_object *o = json_object_new_object();

	for (int k = 0; o != NULL && k < CX_AC_NKINDS; k++)
		json_object_object_add(o, kinds[k].name, json_object_new_int64(count[k]));
	return o;
}

int
cx_ac_state_new(json_object **out, struct cx_error *err)
{
	static const int64_t zero[CX_AC_NKINDS];
	uint8_t raw[32];
	char nonce[CX_AC_HASH_LEN];
	json_object *st;

	if (cx_random_bytes(raw, sizeof(raw)) != 0)
		return cx_error_internal(err, "anti-cheat nonce: no random bytes");
	cx_hex_encode(raw, sizeof(raw), nonce);
	st = json_object_new_object();
	if (st == NULL)
		return cx_error_internal(err, "out of memory");
	json_object_object_add(st, "nonce", json_object_new_string(nonce));
	json_object_object_add(st, "last_hash", json_object_new_string(nonce));
	json_object_object_add(st, "last_seq", json_object_new_int64(0));
	json_object_object_add(st, "violations", json_object_new_int64(0));
	json_object_object_add(st, "strikes", strikes_new(zero));
	*out = st;
	return CX_OK;
}

/* ---- validation ---- */

static int
is_hex64(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		for (size_t j = 1; j <= need; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A VALIDATION_ERROR naming "events[idx].name" (idx >= 0) or "name" (a lone event). */
static int
event_fail(struct cx_error *err, int idx, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int
event_fail(struct cx_error *err, int idx, const char *name, const char *fmt, ...)
{
	char field[64], reason[192];
	va_list ap;

	if (idx < 0)
		snprintf(field, sizeof(field), "%s", name != NULL ? name : "event");
	else if (name == NULL)
		snprintf(field, sizeof(field), "events[%d]", idx);
	else
		snprintf(field, sizeof(field), "events[%d].%s", idx, name);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return cx_error_field(err, field, "%s", reason);
}

static int
check_details(json_object *d, int idx, struct cx_error *err)
{
	if (!json_object_is_type(d, json_type_object))
		return event_fail(err, idx, "details", "must be an object");
	if (json_object_object_length(d) > MAX_DETAIL_KEYS)
		return event_fail(err, idx, "details", "at most %d keys", MAX_DETAIL_KEYS);
	json_object_object_foreach(d, key, val) {
		size_t klen = strlen(key);
		const char *v;
		int64_t n;

		if (klen > MAX_DETAIL_KEY || !utf8_valid((const unsigned char *)key, klen))
			return event_fail(err, idx, "details",
			    "keys must be UTF-8 of at most %d bytes", MAX_DETAIL_KEY);
		switch (json_object_get_type(val)) {
		case json_type_null:
		case json_type_boolean:
			break;
		case json_type_int:
			n = json_object_get_int64(val);
			if (n < -SAFE_INT_MAX || n > SAFE_INT_MAX)
				return event_fail(err, idx, "details",
				    "\"%s\": integers must be within +/-(2^53-1)", key);
			break;
		case json_type_string:
			v = json_object_get_string(val);
			if ((size_t)json_object_get_string_len(val) > MAX_DETAIL_STRING)
				return event_fail(err, idx, "details",
				    "\"%s\": strings must be at most %d bytes", key,
				    MAX_DETAIL_STRING);
			if (!utf8_valid((const unsigned char *)v,
			    (size_t)json_object_get_string_len(val)))
				return event_fail(err, idx, "details", "\"%s\": must be UTF-8", key);
			break;
		case json_type_double:
			return event_fail(err, idx, "details",
			    "\"%s\": numbers must be integers", key);
		default:
			return event_fail(err, idx, "details",
			    "\"%s\": values must be strings, integers, booleans or null", key);
		}
	}
	return CX_OK;
}

/* Validate one client event into *ev. idx < 0: a lone event (fields unprefixed). */
static int
parse_event(json_object *obj, int idx, int with_hash, struct ac_event *ev,
    struct cx_error *err)
{
	struct cx_error e = { 0 };
	const char *name = NULL;
	json_object *d = NULL;
	int64_t ms;

	memset(ev, 0, sizeof(*ev));
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return event_fail(err, idx, NULL, "must be an object");
	if (cx_json_get_int(obj, "seq", 1, 1, SAFE_INT_MAX, &ev->seq, &e) != CX_OK)
		return event_fail(err, idx, "seq", "%s", e.reason);
	if (cx_json_get_string(obj, "event", 1, 1, 64, &name, &e) != CX_OK)
		return event_fail(err, idx, "event", "%s", e.reason);
	for (size_t i = 0; i < N_CLIENT_EVENTS; i++)
		if (strcmp(client_events[i].name, name) == 0)
			ev->ce = &client_events[i];
	if (ev->ce == NULL)
		return event_fail(err, idx, "event", strcmp(name, "tampering") == 0 ?
		    "tampering is recorded by the server only" :
		    "must be one of tab_switch, fullscreen_exit, right_click, copy_paste, "
		    "face_missing, multiple_faces, suspicious_input");
	if (cx_json_get_string(obj, "timestamp", 1, 1, MAX_TIMESTAMP, &ev->timestamp, &e) != CX_OK)
		return event_fail(err, idx, "timestamp", "%s", e.reason);
	if (cx_time_parse_ms(ev->timestamp, &ms) != 0)
		return event_fail(err, idx, "timestamp", "must be an RFC 3339 date-time");
	if (json_object_object_get_ex(obj, "details", &d) && d != NULL) {
		if (check_details(d, idx, err) != CX_OK)
			return CX_EVALIDATION;
		ev->details = d;
	}
	if (with_hash) {
		if (cx_json_get_string(obj, "sequence_hash", 1, 64, 64, &ev->hash, &e) != CX_OK)
			return event_fail(err, idx, "sequence_hash", "%s", e.reason);
		if (!is_hex64(ev->hash))
			return event_fail(err, idx, "sequence_hash", "must be 64 lowercase hex digits");
	}
	return CX_OK;
}

/* ---- canonical form ---- */

/* A JSON string exactly as JavaScript's JSON.stringify writes it. */
static void
sb_json_string(struct cx_buf *b, const char *s, size_t n)
{
	size_t run = 0;

	cx_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		const char *rep = NULL;

		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				rep = esc;
			}
		}
		if (rep == NULL)
			continue;
		cx_buf_add(b, s + run, i - run);
		cx_buf_str(b, rep);
		run = i + 1;
	}
	cx_buf_add(b, s + run, n - run);
	cx_buf_add(b, "\"", 1);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* details (validated: flat, at most MAX_DETAIL_KEYS) with keys sorted by byte value. */
static void
sb_details(struct cx_buf *b, json_object *d)
{
	const char *keys[MAX_DETAIL_KEYS];
	size_t n = 0;
	char num[32];

	if (d != NULL) {
		json_object_object_foreach(d, key, val) {
			(void)val;
			if (n < MAX_DETAIL_KEYS)
				keys[n++] = key;
		}
	}
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	cx_buf_add(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_object_get(d, keys[i]);

		if (i > 0)
			cx_buf_add(b, ",", 1);
		sb_json_string(b, keys[i], strlen(keys[i]));
		cx_buf_add(b, ":", 1);
		switch (json_object_get_type(v)) {
		case json_type_boolean:
			cx_buf_str(b, json_object_get_boolean(v) ? "true" : "false");
			break;
		case json_type_int:
			snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(v));
			cx_buf_str(b, num);
			break;
		case json_type_string:
			sb_json_string(b, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
			break;
		default:
			cx_buf_str(b, "null");
		}
	}
	cx_buf_add(b, "}", 1);
}

/* canonical(ev) into b (b->failed on allocation failure). */
static void
canonical(struct cx_buf *b, const struct ac_event *ev)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64 "\n", ev->seq);
	cx_buf_str(b, num);
	cx_buf_str(b, ev->ce->name);
	cx_buf_add(b, "\n", 1);
	cx_buf_str(b, ev->timestamp);
	cx_buf_add(b, "\n", 1);
	sb_details(b, ev->details);
}

/* out = hex(SHA-256(prev ‖ canonical(ev))). */
static int
chain_step(const char *prev, const struct ac_event *ev, char out[CX_AC_HASH_LEN],
    struct cx_error *err)
{
	struct cx_buf b = { 0 };

	cx_buf_add(&b, prev, 64);
	canonical(&b, ev);
	if (b.failed) {
		free(b.data);
		return cx_error_internal(err, "out of memory");
	}
	cx_sha256_hex(b.data, b.len, out);
	free(b.data);
	return CX_OK;
}

char *
cx_ac_canonical(json_object *event, struct cx_error *err)
{
	struct ac_event ev;
	struct cx_buf b = { 0 };

	if (parse_event(event, -1, 0, &ev, err) != CX_OK)
		return NULL;
	canonical(&b, &ev);
	if (b.failed) {
		free(b.data);
		cx_error_internal(err, "out of memory");
		return NULL;
	}
	return b.data;
}

int
cx_ac_hash(const char *prev_hex, json_object *event, char out[CX_AC_HASH_LEN],
    struct cx_error *err)
{
	struct ac_event ev;

	if (!is_hex64(prev_hex))
		return cx_error_internal(err, "cx_ac_hash: previous hash is not 64 lowercase hex");
	if (parse_event(event, -1, 0, &ev, err) != CX_OK)
		return CX_EVALIDATION;
	return chain_step(prev_hex, &ev, out, err);
}

/* ---- applying a batch ---- */

/* The counters of an anti-cheat state while a batch is walked. */
struct counters {
	int64_t last_seq;
	char last_hash[CX_AC_HASH_LEN];
	int64_t violations;
	int64_t strikes[CX_AC_NKINDS];
};

static int
read_counters(json_object *state, struct counters *c, struct cx_error *err)
{
	json_object *v, *strikes = NULL;
	const char *h;

	memset(c, 0, sizeof(*c));
	if (state == NULL || !json_object_is_type(state, json_type_object))
		return cx_error_internal(err, "anti-cheat state is not an object");
	h = cx_json_str(state, "last_hash");
	if (!is_hex64(h))
		return cx_error_internal(err, "anti-cheat state has no last_hash");
	memcpy(c->last_hash, h, CX_AC_HASH_LEN);
	if (!json_object_object_get_ex(state, "last_seq", &v) ||
	    !json_object_is_type(v, json_type_int) || (c->last_seq = json_object_get_int64(v)) < 0)
		return cx_error_internal(err, "anti-cheat state has no last_seq");
	if (json_object_object_get_ex(state, "violations", &v) && json_object_is_type(v, json_type_int))
		c->violations = json_object_get_int64(v);
	json_object_object_get_ex(state, "strikes", &strikes);
	for (int k = 0; k < CX_AC_NKINDS; k++)
		if (strikes != NULL && json_object_object_get_ex(strikes, kinds[k].name, &v) &&
		    json_object_is_type(v, json_type_int))
			c->strikes[k] = json_object_get_int64(v);
	return CX_OK;
}

/* The logged sequence_hash of the chain entry with this seq, or NULL. */
static const char *
logged_hash(json_object *log, int64_t seq)
{
	size_t n = log != NULL ? json_object_array_length(log) : 0;

	for (size_t i = n; i-- > 0;) {
		json_object *e = json_object_array_get_idx(log, i), *s;

		if (json_object_object_get_ex(e, "seq", &s) && json_object_is_type(s, json_type_int) &&
		    json_object_get_int64(s) == seq)
			return cx_json_str(e, "sequence_hash");
	}
	return NULL;
}

/* The contract's idempotent retry: consecutive seqs ending at last_seq, each matching the
 * logged entry's hash. */
static int
is_duplicate(const struct ac_event *ev, size_t n, json_object *log, const struct counters *c)
{
	if (ev[n - 1].seq != c->last_seq)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *h;

		if (i > 0 && ev[i].seq != ev[i - 1].seq + 1)
			return 0;
		h = logged_hash(log, ev[i].seq);
		if (h == NULL || strcmp(h, ev[i].hash) != 0)
			return 0;
	}
	return 1;
}

static json_object *
entry_new(json_object *seq, const char *event, const char *now, const char *client_ts,
    json_object *details, const char *hash, const char *strike)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "seq", seq);
	json_object_object_add(e, "event", json_object_new_string(event));
	json_object_object_add(e, "timestamp", json_object_new_string(now));
	json_object_object_add(e, "client_timestamp",
	    client_ts != NULL ? json_object_new_string(client_ts) : NULL);
	json_object_object_add(e, "details", details);
	json_object_object_add(e, "sequence_hash",
	    hash != NULL ? json_object_new_string(hash) : NULL);
	json_object_object_add(e, "counted", json_object_new_boolean(strike != NULL));
	json_object_object_add(e, "strike", strike != NULL ? json_object_new_string(strike) : NULL);
	return e;
}

static void
add_warning(json_object *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
add_warning(json_object *warnings, const char *fmt, ...)
{
	char text[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object_array_add(warnings, json_object_new_string(text));
}

/* Count one strike of kind; decides termination or adds the warning. */
static void
count_strike(const struct cx_ac_policy *pol, struct counters *c, int kind,
    const char *why, struct cx_ac_outcome *out)
{
	int64_t n = ++c->strikes[kind], total = ++c->violations;
	int limit = pol->limit[kind];
	char kind_part[96] = "";

	if (limit > 0 && n >= limit) {
		out->terminate = 1;
		snprintf(out->reason, sizeof(out->reason), "Anti-cheat: %" PRId64 " %s (limit %d)",
		    n, n == 1 ? kinds[kind].one : kinds[kind].many, limit);
		return;
	}
	if (pol->total_limit > 0 && total >= pol->total_limit) {
		out->terminate = 1;
		snprintf(out->reason, sizeof(out->reason),
		    "Anti-cheat: %" PRId64 " violation%s (limit %d)", total, total == 1 ? "" : "s",
		    pol->total_limit);
		return;
	}
	if (limit > 0)
		snprintf(kind_part, sizeof(kind_part), " (%" PRId64 " of %d allowed)", n, limit);
	if (why != NULL)
		add_warning(out->warnings, "%s%s. This counts as a violation: %" PRId64 " of %d. "
		    "The interview ends when a limit is reached.", why, kind_part, total,
		    pol->total_limit);
	else
		add_warning(out->warnings, "%s%s; violations: %" PRId64 " of %d. "
		    "The interview ends when a limit is reached.", kinds[kind].warning, kind_part,
		    total, pol->total_limit);
}

static int
is_counted(const struct cx_ac_policy *pol, const struct client_event *ce)
{
	if (ce->kind < 0)
		return 0;
	if (ce->detector == DETECT_FACE)
		return pol->face_detection;
	if (ce->detector == DETECT_TAB)
		return pol->tab_switch_detection;
	return 1;
}

/* Log the tampering found at ev (reason from the contract) and count it. */
static void
log_tampering(const struct cx_ac_policy *pol, struct counters *c, const struct ac_event *ev,
    const char *now, struct cx_ac_outcome *out)
{
	const char *reason = ev->seq <= c->last_seq ? "replay" :
	    ev->seq > c->last_seq + 1 ? "out_of_order" : "chain_break";
	json_object *d = json_object_new_object();
	char why[160];

	json_object_object_add(d, "reason", json_object_new_string(reason));
	json_object_object_add(d, "seq", json_object_new_int64(ev->seq));
	json_object_object_add(d, "event", json_object_new_string(ev->ce->name));
	json_object_array_add(out->entries, entry_new(NULL, "tampering", now, ev->timestamp, d,
	    NULL, kinds[CX_AC_TAMPERING].name));
	out->tampering = 1;
	snprintf(why, sizeof(why), "Your interview's event log failed verification (%s at "
	    "event %" PRId64 ")", reason, ev->seq);
	count_strike(pol, c, CX_AC_TAMPERING, why, out);
}

static json_object *
state_with(json_object *state, const struct counters *c)
{
	json_object *st = NULL;

	if (json_object_deep_copy(state, &st, NULL) != 0)
		return NULL;
	json_object_object_add(st, "last_hash", json_object_new_string(c->last_hash));
	json_object_object_add(st, "last_seq", json_object_new_int64(c->last_seq));
	json_object_object_add(st, "violations", json_object_new_int64(c->violations));
	json_object_object_add(st, "strikes", strikes_new(c->strikes));
	return st;
}

/* Walk the validated batch along the chain (the contract's rules). */
static int
walk(const struct cx_ac_policy *pol, struct counters *c, const struct ac_event *ev, size_t n,
    const char *now, struct cx_ac_outcome *out, struct cx_error *err)
{
	for (size_t i = 0; i < n && !out->terminate; i++) {
		char want[CX_AC_HASH_LEN];
		json_object *details = NULL;
		const char *strike;
		int rc;

		if ((rc = chain_step(c->last_hash, &ev[i], want, err)) != CX_OK)
			return rc;
		if (ev[i].seq != c->last_seq + 1 || strcmp(want, ev[i].hash) != 0) {
			log_tampering(pol, c, &ev[i], now, out);
			break;
		}
		c->last_seq = ev[i].seq;
		memcpy(c->last_hash, want, sizeof(want));
		out->accepted++;
		strike = is_counted(pol, ev[i].ce) ? kinds[ev[i].ce->kind].name : NULL;
		if (ev[i].details != NULL) {
			if (json_object_deep_copy(ev[i].details, &details, NULL) != 0)
				return cx_error_internal(err, "out of memory");
		} else {
			details = json_object_new_object();
		}
		json_object_array_add(out->entries, entry_new(json_object_new_int64(ev[i].seq),
		    ev[i].ce->name, now, ev[i].timestamp, details, want, strike));
		if (strike != NULL)
			count_strike(pol, c, ev[i].ce->kind, NULL, out);
	}
	return CX_OK;
}

int
cx_ac_apply(const struct cx_ac_policy *pol, json_object *state, json_object *log,
    json_object *events, const char *now, struct cx_ac_outcome *out, struct cx_error *err)
{
	struct ac_event ev[CX_AC_MAX_BATCH];
	struct cx_ac_outcome o;
	struct counters c;
	size_t n, logged;
	int64_t ms;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	if (events == NULL || !json_object_is_type(events, json_type_array))
		return cx_error_field(err, "events", "must be an array of events");
	n = json_object_array_length(events);
	if (n < 1 || n > CX_AC_MAX_BATCH)
		return cx_error_field(err, "events", "must hold 1 to %d events", CX_AC_MAX_BATCH);
	for (size_t i = 0; i < n; i++)
		if ((rc = parse_event(json_object_array_get_idx(events, i), (int)i, 1, &ev[i],
		    err)) != CX_OK)
			return rc;

	if (pol == NULL || now == NULL || cx_time_parse_ms(now, &ms) != 0)
		return cx_error_internal(err, "cx_ac_apply: no policy or bad time");
	if (log != NULL && !json_object_is_type(log, json_type_array))
		return cx_error_internal(err, "anti-cheat log is not an array");
	if ((rc = read_counters(state, &c, err)) != CX_OK)
		return rc;
	logged = log != NULL ? json_object_array_length(log) : 0;

	o.entries = json_object_new_array();
	o.warnings = json_object_new_array();
	if (o.entries == NULL || o.warnings == NULL) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	if (is_duplicate(ev, n, log, &c))
		o.duplicate = 1;
	else if ((rc = walk(pol, &c, ev, n, now, &o, err)) != CX_OK)
		goto out;
	if (logged + json_object_array_length(o.entries) > CX_AC_MAX_LOG) {
		rc = cx_error_field(err, "events", "the session's event log is full");
		goto out;
	}
	if ((o.state = state_with(state, &c)) == NULL) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	*out = o;
	return CX_OK;
out:
	cx_ac_outcome_free(&o);
	return rc;
}

void
cx_ac_outcome_free(struct cx_ac_outcome *out)
{
	if (out == NULL)
		return;
	json_object_put(out->state);
	json_object_put(out->entries);
	json_object_put(out->warnings);
	memset(out, 0, sizeof(*out));
}
