/* Unit tests of cx_anticheat: canonical form, hash chain, tampering, strikes and limits. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cx_anticheat.h"
#include "cx_crypto.h"

#define NOW "2025-01-01T10:00:00.000Z"
#define CLIENT_TS "2025-01-01T09:59:59.500Z"

static json_object *
parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "test JSON does not parse: %s", text);
	return o;
}

/* ---- a session as the handler keeps it, and a well-behaved client ---- */

struct sess {
	struct cx_ac_policy pol;
	json_object *state, *log;   /* what the store holds */
	char prev[CX_AC_HASH_LEN];  /* the client's chain head */
	int64_t seq;                /* the client's last seq */
};

static void
sess_init(struct sess *s, const char *strikes, int total, int face, int tab)
{
	struct cx_error err = { 0 };

	memset(s, 0, sizeof(*s));
	cr_assert_eq(cx_ac_policy_init(&s->pol, strikes, total, face, tab, &err), CX_OK, "%s",
	    err.reason);
	cr_assert_eq(cx_ac_state_new(&s->state, &err), CX_OK);
	s->log = json_object_new_array();
	snprintf(s->prev, sizeof(s->prev), "%s", json_object_get_string(
	    json_object_object_get(s->state, "nonce")));
}

static void
sess_free(struct sess *s)
{
	json_object_put(s->state);
	json_object_put(s->log);
}

/* An event with seq, chained on prev (details_json NULL: no details key). */
static json_object *
make_event(int64_t seq, const char *event, const char *details_json, const char *prev,
    char hash[CX_AC_HASH_LEN])
{
	struct cx_error err = { 0 };
	json_object *e = json_object_new_object();

	json_object_object_add(e, "seq", json_object_new_int64(seq));
	json_object_object_add(e, "event", json_object_new_string(event));
	json_object_object_add(e, "timestamp", json_object_new_string(CLIENT_TS));
	if (details_json != NULL)
		json_object_object_add(e, "details", parse(details_json));
	cr_assert_eq(cx_ac_hash(prev, e, hash, &err), CX_OK, "%s %s", err.field, err.reason);
	json_object_object_add(e, "sequence_hash", json_object_new_string(hash));
	return e;
}

/* The client's next event: seq and hash advance. */
static json_object *
next_event(struct sess *s, const char *event, const char *details_json)
{
	char h[CX_AC_HASH_LEN];
	json_object *e = make_event(++s->seq, event, details_json, s->prev, h);

	memcpy(s->prev, h, sizeof(h));
	return e;
}

/* A batch of n client events of one kind. */
static json_object *
batch_of(struct sess *s, const char *event, int n)
{
	json_object *b = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(b, next_event(s, event, "{\"i\":1}"));
	return b;
}

/* What the handler does: apply, then store state and push entries. Consumes batch. */
static int
sess_apply(struct sess *s, json_object *batch, struct cx_ac_outcome *o, struct cx_error *err)
{
	int rc = cx_ac_apply(&s->pol, s->state, s->log, batch, NOW, o, err);

	json_object_put(batch);
	if (rc != CX_OK)
		return rc;
	json_object_put(s->state);
	s->state = json_object_get(o->state);
	for (size_t i = 0; i < json_object_array_length(o->entries); i++)
		json_object_array_add(s->log, json_object_get(json_object_array_get_idx(o->entries, i)));
	return rc;
}

static int64_t
st_int(json_object *state, const char *key)
{
	return json_object_get_int64(json_object_object_get(state, key));
}

static int64_t
st_strike(json_object *state, const char *kind)
{
	return json_object_get_int64(json_object_object_get(json_object_object_get(state, "strikes"),
	    kind));
}

static json_object *
entry(struct cx_ac_outcome *o, size_t i)
{
	return json_object_array_get_idx(o->entries, i);
}

static const char *
entry_str(json_object *e, const char *key)
{
	json_object *v = json_object_object_get(e, key);

	return v != NULL ? json_object_get_string(v) : NULL;
}

/* ---- canonical form: reference vectors ---- */

/* Reference vectors computed independently with Node.js v20 (JSON.stringify and
 * crypto.createHash('sha256')) at development time:
 *   nonce = sha256("candidatex") as hex;
 *   canonical(e) = `${seq}\n${event}\n${timestamp}\n` + '{' + keys sorted with
 *       Buffer.compare(Buffer.from(a), Buffer.from(b)), each JSON.stringify(k) + ':' +
 *       JSON.stringify(v), joined by ',' + '}';
 *   hash_i = sha256(hash_{i-1} + canonical(e_i)) as hex, hash_0 = nonce.
 * The expected canonical texts are given as hex of their UTF-8 bytes (Buffer.toString('hex')).
 * Event 2 holds every escape, non-ASCII text, U+2028 and a key order where byte order and
 * JavaScript's default (UTF-16) sort differ ("\ufffd" before the emoji). */
static const char *const vector_events[] = {
	"{\"seq\":1,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00.000Z\","
	    "\"details\":{}}",
	"{\"seq\":2,\"event\":\"copy_paste\",\"timestamp\":\"2025-01-01T12:00:05.123+02:00\","
	    "\"details\":{\"z\":1,\"a\":\"x\\\"y\\\\z/\\u00e9\\u0001\\n\\t\\b\\f\\r\\u001f\\u007f"
	    "\\ud83d\\ude00 <\\/>\",\"B\":true,\"m\":null,\"n\":-42,\"k\\u00e9y\":false,"
	    "\"\\u2028\":\"\\u2028\\u2029\",\"\\ufffd\":1,\"\\ud83d\\ude00\":2}}",
	"{\"seq\":3,\"event\":\"face_missing\",\"timestamp\":\"2025-01-01T10:00:09Z\"}",
};
static const char *const vector_canonical_hex[] = {
	"310a7461625f7377697463680a323032352d30312d30315431303a30303a30302e3030305a0a7b7d",
	"320a636f70795f70617374650a323032352d30312d30315431323a30303a30352e3132332b30323a3030"
	    "0a7b2242223a747275652c2261223a22785c22795c5c7a2fc3a95c75303030315c6e5c745c625c665c"
	    "725c75303031667ff09f9880203c2f3e222c226bc3a979223a66616c73652c226d223a6e756c6c2c22"
	    "6e223a2d34322c227a223a312c22e280a8223a22e280a8e280a9222c22efbfbd223a312c22f09f9880"
	    "223a327d",
	"330a666163655f6d697373696e670a323032352d30312d30315431303a30303a30395a0a7b7d",
};
static const char *const vector_hash[] = {
	"0cf13f14a3235f5aa585f4ed2e694e93dfa4a3cb6c2d82e6ff1576ca374e276c",
	"adeb261d6bd70229d5cb47fdd1abbfb68b71d55b46bf9d649323369254deb887",
	"299716ae99f5bb6467132b640d507b9e0724a0eb2c843bf864f33b1e9eecc4e0",
};
#define VECTOR_NONCE "f3130a120a89fa9716708fbf8abfbf88125cf4d46ce08cfd2a5edeb0a4248000"

Test(canonical, matches_javascript_reference_vectors)
{
	char nonce[CX_AC_HASH_LEN], prev[CX_AC_HASH_LEN], h[CX_AC_HASH_LEN];

	cx_sha256_hex("candidatex", 10, nonce);
	cr_assert_str_eq(nonce, VECTOR_NONCE);
	memcpy(prev, nonce, sizeof(prev));
	for (size_t i = 0; i < 3; i++) {
		struct cx_error err = { 0 };
		json_object *e = parse(vector_events[i]);
		char *text = cx_ac_canonical(e, &err), *hex;

		cr_assert_not_null(text, "event %zu: %s %s", i, err.field, err.reason);
		hex = malloc(2 * strlen(text) + 1);
		cx_hex_encode(text, strlen(text), hex);
		cr_expect_str_eq(hex, vector_canonical_hex[i], "canonical of event %zu: %s", i, text);
		cr_assert_eq(cx_ac_hash(prev, e, h, &err), CX_OK);
		cr_expect_str_eq(h, vector_hash[i], "hash of event %zu", i);
		memcpy(prev, h, sizeof(prev));
		free(hex);
		free(text);
		json_object_put(e);
	}
}

Test(canonical, server_accepts_the_reference_chain)
{
	struct cx_ac_policy pol;
	struct cx_ac_outcome o;
	struct cx_error err = { 0 };
	json_object *state, *batch = json_object_new_array();

	cx_ac_policy_init(&pol, NULL, 10, 1, 1, NULL);
	state = parse("{\"nonce\":\"" VECTOR_NONCE "\",\"last_hash\":\"" VECTOR_NONCE "\","
	    "\"last_seq\":0,\"violations\":0,\"strikes\":{}}");
	for (size_t i = 0; i < 3; i++) {
		json_object *e = parse(vector_events[i]);

		json_object_object_add(e, "sequence_hash", json_object_new_string(vector_hash[i]));
		json_object_array_add(batch, e);
	}
	cr_assert_eq(cx_ac_apply(&pol, state, NULL, batch, NOW, &o, &err), CX_OK, "%s %s",
	    err.field, err.reason);
	cr_expect_eq(o.accepted, 3);
	cr_expect_eq(o.tampering, 0);
	cr_expect_eq(st_int(o.state, "last_seq"), 3);
	cr_expect_str_eq(entry_str(o.state, "last_hash"), vector_hash[2]);
	cr_expect_str_eq(entry_str(o.state, "nonce"), VECTOR_NONCE);
	cx_ac_outcome_free(&o);
	json_object_put(batch);
	json_object_put(state);
}

Test(canonical, missing_and_null_details_are_empty_objects)
{
	static const char *const texts[] = {
		"{\"seq\":7,\"event\":\"right_click\",\"timestamp\":\"2025-01-01T10:00:00Z\"}",
		"{\"seq\":7,\"event\":\"right_click\",\"timestamp\":\"2025-01-01T10:00:00Z\","
		    "\"details\":null}",
		"{\"seq\":7,\"event\":\"right_click\",\"timestamp\":\"2025-01-01T10:00:00Z\","
		    "\"details\":{},\"sequence_hash\":\"ignored\",\"extra\":[1]}",
	};
	for (size_t i = 0; i < 3; i++) {
		json_object *e = parse(texts[i]);
		char *text = cx_ac_canonical(e, NULL);

		cr_assert_not_null(text);
		cr_expect_str_eq(text, "7\nright_click\n2025-01-01T10:00:00Z\n{}");
		free(text);
		json_object_put(e);
	}
}

Test(canonical, malformed_event_names_the_field)
{
	static const struct { const char *json, *field; } cases[] = {
		{ "[]", "event" },
		{ "{\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\"}", "seq" },
		{ "{\"seq\":1,\"event\":\"tabswitch\",\"timestamp\":\"2025-01-01T10:00:00Z\"}", "event" },
		{ "{\"seq\":1,\"event\":\"tab_switch\",\"timestamp\":\"now\"}", "timestamp" },
		{ "{\"seq\":1,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
		    "\"details\":{\"a\":1.5}}", "details" },
	};
	char h[CX_AC_HASH_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };
		json_object *e = parse(cases[i].json);

		cr_expect_eq(cx_ac_hash(VECTOR_NONCE, e, h, &err), CX_EVALIDATION, "%s", cases[i].json);
		cr_expect_str_eq(err.field, cases[i].field, "%s", cases[i].json);
		cr_expect_null(cx_ac_canonical(e, NULL));
		json_object_put(e);
	}
}

Test(canonical, bad_previous_hash_is_internal)
{
	struct cx_error err = { 0 };
	json_object *e = parse(vector_events[0]);
	char h[CX_AC_HASH_LEN];

	cr_expect_eq(cx_ac_hash("abc", e, h, &err), CX_EINTERNAL);
	cr_expect_eq(cx_ac_hash(NULL, e, h, NULL), CX_EINTERNAL);
	cr_expect_eq(cx_ac_hash("F3130A120A89FA9716708FBF8ABFBF88125CF4D46CE08CFD2A5EDEB0A4248000",
	    e, h, NULL), CX_EINTERNAL);
	json_object_put(e);
}

/* ---- state ---- */

Test(state, new_state_has_a_fresh_nonce_and_zero_counters)
{
	static const char *const kinds[] = { "face_missing", "tab_switch", "fullscreen_exit",
		"multiple_faces", "suspicious_input", "tampering" };
	json_object *a = NULL, *b = NULL;
	const char *nonce;

	cr_assert_eq(cx_ac_state_new(&a, NULL), CX_OK);
	cr_assert_eq(cx_ac_state_new(&b, NULL), CX_OK);
	nonce = entry_str(a, "nonce");
	cr_assert_eq(strlen(nonce), 64);
	cr_expect_eq(strspn(nonce, "0123456789abcdef"), 64);
	cr_expect_str_eq(entry_str(a, "last_hash"), nonce);
	cr_expect_str_neq(entry_str(b, "nonce"), nonce);
	cr_expect_eq(st_int(a, "last_seq"), 0);
	cr_expect_eq(st_int(a, "violations"), 0);
	cr_expect_eq(json_object_object_length(json_object_object_get(a, "strikes")), 6);
	for (size_t i = 0; i < 6; i++) {
		json_object *v = json_object_object_get(json_object_object_get(a, "strikes"), kinds[i]);

		cr_expect(json_object_is_type(v, json_type_int), "%s", kinds[i]);
		cr_expect_eq(json_object_get_int64(v), 0);
	}
	json_object_put(a);
	json_object_put(b);
}

/* ---- policy ---- */

Test(policy, parses_good_strings)
{
	static const struct { const char *text; int want[5]; } cases[] = {
		/* face_missing, tab_switch, fullscreen_exit, multiple_faces, suspicious_input */
		{ NULL, { 3, 2, 1, 1, 5 } },
		{ "", { 3, 2, 1, 1, 5 } },
		{ "face_missing=3,tab_switch=2,fullscreen_exit=1,multiple_faces=1,suspicious_input=5",
		  { 3, 2, 1, 1, 5 } },
		{ "tab_switch=4", { 3, 4, 1, 1, 5 } },
		{ " tab_switch = 7 , face_missing=0,", { 0, 7, 1, 1, 5 } },
		{ "suspicious_input=1000,multiple_faces=2", { 3, 2, 1, 2, 1000 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_ac_policy pol;
		struct cx_error err = { 0 };

		cr_assert_eq(cx_ac_policy_init(&pol, cases[i].text, 3, 1, 0, &err), CX_OK,
		    "\"%s\": %s", cases[i].text ? cases[i].text : "(null)", err.reason);
		for (int k = 0; k < 5; k++)
			cr_expect_eq(pol.limit[k], cases[i].want[k], "\"%s\" %s", cases[i].text ?
			    cases[i].text : "(null)", cx_ac_kind_name(k));
		cr_expect_eq(pol.limit[CX_AC_TAMPERING], 0);
		cr_expect_eq(pol.total_limit, 3);
		cr_expect_eq(pol.face_detection, 1);
		cr_expect_eq(pol.tab_switch_detection, 0);
	}
}

Test(policy, rejects_bad_strings)
{
	static const char *const bad[] = {
		"foo=1", "tab_switch", "tab_switch=", "tab_switch=-1", "tab_switch=x",
		"tab_switch=2x", "tab_switch=1001", "tab_switch=99999999999999999999",
		"tab_switch=1,tab_switch=2", "tampering=1", "Tab_Switch=2", "=3", "tab_switch=1;x=2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cx_ac_policy pol;
		struct cx_error err = { 0 };

		memset(&pol, 0x55, sizeof(pol));
		cr_expect_eq(cx_ac_policy_init(&pol, bad[i], 3, 1, 1, &err), CX_EVALIDATION, "%s",
		    bad[i]);
		cr_expect_str_eq(err.field, "ANTI_CHEAT_STRIKES", "%s", bad[i]);
		cr_expect_eq(pol.total_limit, 0x55555555, "pol written on failure: %s", bad[i]);
	}
}

Test(policy, rejects_a_total_limit_below_one)
{
	struct cx_ac_policy pol;
	struct cx_error err = { 0 };

	cr_expect_eq(cx_ac_policy_init(&pol, NULL, 0, 1, 1, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "ANTI_CHEAT_THRESHOLD");
}

/* ---- the chain ---- */

Test(chain, valid_over_several_batches)
{
	struct sess s;
	struct cx_ac_outcome o;
	struct cx_error err = { 0 };
	int sizes[] = { 1, 3, 50 };
	int64_t seq = 0;

	sess_init(&s, NULL, 3, 1, 1);
	for (size_t b = 0; b < 3; b++) {
		cr_assert_eq(sess_apply(&s, batch_of(&s, "right_click", sizes[b]), &o, &err), CX_OK,
		    "%s %s", err.field, err.reason);
		cr_expect_eq(o.accepted, sizes[b]);
		cr_expect_eq(o.duplicate + o.tampering + o.terminate, 0);
		cr_expect_eq(json_object_array_length(o.entries), (size_t)sizes[b]);
		cr_expect_eq(json_object_array_length(o.warnings), 0);
		for (int i = 0; i < sizes[b]; i++) {
			json_object *e = entry(&o, (size_t)i);

			seq++;
			cr_expect_eq(json_object_get_int64(json_object_object_get(e, "seq")), seq);
			cr_expect_str_eq(entry_str(e, "event"), "right_click");
			cr_expect_str_eq(entry_str(e, "timestamp"), NOW);
			cr_expect_str_eq(entry_str(e, "client_timestamp"), CLIENT_TS);
			cr_expect_eq(json_object_get_int64(json_object_object_get(
			    json_object_object_get(e, "details"), "i")), 1);
			cr_expect_eq(json_object_get_boolean(json_object_object_get(e, "counted")), 0);
			cr_expect(json_object_object_get_ex(e, "strike", NULL));
			cr_expect_null(json_object_object_get(e, "strike"));
		}
		cr_expect_str_eq(entry_str(entry(&o, (size_t)sizes[b] - 1), "sequence_hash"), s.prev);
		cr_expect_eq(st_int(o.state, "last_seq"), seq);
		cr_expect_str_eq(entry_str(o.state, "last_hash"), s.prev);
		cr_expect_eq(st_int(o.state, "violations"), 0);
		cx_ac_outcome_free(&o);
	}
	cr_expect_eq(json_object_array_length(s.log), 54);
	sess_free(&s);
}

Test(chain, input_state_is_not_modified)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch;
	char before[1024];

	sess_init(&s, NULL, 3, 1, 1);
	snprintf(before, sizeof(before), "%s", json_object_to_json_string(s.state));
	batch = batch_of(&s, "tab_switch", 1);
	cr_assert_eq(cx_ac_apply(&s.pol, s.state, s.log, batch, NOW, &o, NULL), CX_OK);
	cr_expect_str_eq(json_object_to_json_string(s.state), before);
	cr_expect_eq(json_object_array_length(s.log), 0);
	cr_expect_eq(st_strike(o.state, "tab_switch"), 1);
	cx_ac_outcome_free(&o);
	cx_ac_outcome_free(&o);   /* harmless twice */
	json_object_put(batch);
	sess_free(&s);
}

/* The tampering entry of a batch: one, last, with the reason. */
static void
expect_tampering(struct cx_ac_outcome *o, const char *reason, int64_t seq, const char *event)
{
	json_object *e = entry(o, json_object_array_length(o->entries) - 1), *d;

	cr_assert_eq(o->tampering, 1);
	cr_expect_str_eq(entry_str(e, "event"), "tampering");
	cr_expect_null(json_object_object_get(e, "seq"));
	cr_expect_null(json_object_object_get(e, "sequence_hash"));
	cr_expect_eq(json_object_get_boolean(json_object_object_get(e, "counted")), 1);
	cr_expect_str_eq(entry_str(e, "strike"), "tampering");
	cr_expect_str_eq(entry_str(e, "timestamp"), NOW);
	d = json_object_object_get(e, "details");
	cr_expect_str_eq(entry_str(d, "reason"), reason);
	cr_expect_eq(json_object_get_int64(json_object_object_get(d, "seq")), seq);
	cr_expect_str_eq(entry_str(d, "event"), event);
}

Test(chain, broken_hash_is_tampering_and_drops_the_rest)
{
	struct sess s;
	struct cx_ac_outcome o;
	struct cx_error err = { 0 };
	json_object *batch = json_object_new_array();
	char h[CX_AC_HASH_LEN], head[CX_AC_HASH_LEN];

	sess_init(&s, NULL, 3, 1, 1);
	json_object_array_add(batch, next_event(&s, "right_click", NULL));
	memcpy(head, s.prev, sizeof(head));
	/* seq 2 chained on the wrong hash (the nonce again) */
	json_object_array_add(batch, make_event(2, "right_click", "{\"x\":\"y\"}",
	    entry_str(s.state, "nonce"), h));
	json_object_array_add(batch, make_event(3, "tab_switch", NULL, h, h));
	cr_assert_eq(sess_apply(&s, batch, &o, &err), CX_OK, "%s", err.reason);
	cr_expect_eq(o.accepted, 1);
	cr_expect_eq(json_object_array_length(o.entries), 2);
	expect_tampering(&o, "chain_break", 2, "right_click");
	cr_expect_eq(o.terminate, 0);
	cr_expect_eq(st_int(o.state, "last_seq"), 1);
	cr_expect_str_eq(entry_str(o.state, "last_hash"), head);
	cr_expect_eq(st_int(o.state, "violations"), 1);
	cr_expect_eq(st_strike(o.state, "tampering"), 1);
	cr_expect_eq(st_strike(o.state, "tab_switch"), 0, "the dropped event was counted");
	cr_assert_eq(json_object_array_length(o.warnings), 1);
	cr_expect_not_null(strstr(json_object_get_string(json_object_array_get_idx(o.warnings, 0)),
	    "Your interview's event log failed verification"));
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(chain, altered_content_is_a_chain_break)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch;

	sess_init(&s, NULL, 3, 1, 1);
	batch = batch_of(&s, "tab_switch", 1);
	/* the client hashed a tab_switch but reports a right_click */
	json_object_object_add(json_object_array_get_idx(batch, 0), "event",
	    json_object_new_string("right_click"));
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	cr_expect_eq(o.accepted, 0);
	expect_tampering(&o, "chain_break", 1, "right_click");
	cr_expect_eq(st_int(o.state, "last_seq"), 0);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(chain, replayed_event_is_tampering)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *first, *replay;

	sess_init(&s, NULL, 3, 1, 1);
	first = batch_of(&s, "right_click", 3);
	replay = json_object_new_array();
	json_object_array_add(replay, json_object_get(json_object_array_get_idx(first, 1)));
	cr_assert_eq(sess_apply(&s, first, &o, NULL), CX_OK);
	cx_ac_outcome_free(&o);
	cr_assert_eq(sess_apply(&s, replay, &o, NULL), CX_OK);
	cr_expect_eq(o.duplicate, 0);
	cr_expect_eq(o.accepted, 0);
	expect_tampering(&o, "replay", 2, "right_click");
	cr_expect_eq(st_int(o.state, "last_seq"), 3);
	cr_expect_eq(st_int(o.state, "violations"), 1);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(chain, gap_in_seq_is_out_of_order)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch = json_object_new_array();
	char h[CX_AC_HASH_LEN];

	sess_init(&s, NULL, 3, 1, 1);
	/* seq 2 first, with the hash it would have if it were next */
	json_object_array_add(batch, make_event(2, "tab_switch", NULL, s.prev, h));
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	expect_tampering(&o, "out_of_order", 2, "tab_switch");
	cr_expect_eq(o.accepted, 0);
	cr_expect_eq(st_int(o.state, "last_seq"), 0);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(chain, retry_of_the_last_batch_is_idempotent)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch, *again, *before;

	sess_init(&s, NULL, 3, 1, 1);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "right_click", 2), &o, NULL), CX_OK);
	cx_ac_outcome_free(&o);
	batch = batch_of(&s, "tab_switch", 2);
	again = json_object_get(batch);
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	cr_expect_eq(o.accepted, 2);
	cx_ac_outcome_free(&o);
	before = json_object_get(s.state);
	cr_assert_eq(sess_apply(&s, again, &o, NULL), CX_OK);
	cr_expect_eq(o.duplicate, 1);
	cr_expect_eq(o.accepted + o.tampering + o.terminate, 0);
	cr_expect_eq(json_object_array_length(o.entries), 0);
	cr_expect_eq(json_object_array_length(o.warnings), 0);
	cr_expect(json_object_equal(o.state, before), "state changed: %s",
	    json_object_to_json_string(o.state));
	cr_expect_eq(st_strike(o.state, "tab_switch"), 2);
	cr_expect_eq(json_object_array_length(s.log), 4);
	json_object_put(before);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(chain, retry_with_a_different_hash_is_not_a_duplicate)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch = json_object_new_array();
	char h[CX_AC_HASH_LEN];

	sess_init(&s, NULL, 3, 1, 1);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "right_click", 1), &o, NULL), CX_OK);
	cx_ac_outcome_free(&o);
	/* same seq as the last logged one, different content */
	json_object_array_add(batch, make_event(1, "right_click", "{\"other\":true}",
	    entry_str(s.state, "nonce"), h));
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	cr_expect_eq(o.duplicate, 0);
	expect_tampering(&o, "replay", 1, "right_click");
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

/* ---- strikes and limits ---- */

Test(limits, each_kind_ends_the_interview_at_its_limit)
{
	/* spec 4.2 defaults; the total limit is set high so each kind's own limit shows */
	static const struct { const char *event, *kind; int limit; const char *reason; } cases[] = {
		{ "face_missing", "face_missing", 3,
		  "Anti-cheat: 3 times no face was detected (limit 3)" },
		{ "tab_switch", "tab_switch", 2, "Anti-cheat: 2 tab switches (limit 2)" },
		{ "fullscreen_exit", "fullscreen_exit", 1, "Anti-cheat: 1 full screen exit (limit 1)" },
		{ "multiple_faces", "multiple_faces", 1,
		  "Anti-cheat: 1 time several faces were detected (limit 1)" },
		{ "suspicious_input", "suspicious_input", 5,
		  "Anti-cheat: 5 suspicious inputs (limit 5)" },
		{ "copy_paste", "suspicious_input", 5, "Anti-cheat: 5 suspicious inputs (limit 5)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sess s;
		struct cx_ac_outcome o;
		int below = cases[i].limit - 1;

		sess_init(&s, NULL, 100, 1, 1);
		if (below > 0) {
			cr_assert_eq(sess_apply(&s, batch_of(&s, cases[i].event, below), &o, NULL), CX_OK);
			cr_expect_eq(o.terminate, 0, "%s", cases[i].event);
			cr_expect_str_eq(o.reason, "");
			cr_expect_eq(json_object_array_length(o.warnings), (size_t)below, "%s",
			    cases[i].event);
			cr_expect_eq(st_strike(o.state, cases[i].kind), below);
			cr_expect_str_eq(entry_str(entry(&o, 0), "strike"), cases[i].kind);
			cx_ac_outcome_free(&o);
		}
		/* the limit-reaching event, then one more that must be dropped */
		cr_assert_eq(sess_apply(&s, batch_of(&s, cases[i].event, 2), &o, NULL), CX_OK);
		cr_expect_eq(o.terminate, 1, "%s", cases[i].event);
		cr_expect_str_eq(o.reason, cases[i].reason);
		cr_expect_eq(o.accepted, 1, "%s: events after the limit were kept", cases[i].event);
		cr_expect_eq(json_object_array_length(o.entries), 1);
		cr_expect_eq(json_object_array_length(o.warnings), 0);
		cr_expect_eq(st_strike(o.state, cases[i].kind), cases[i].limit);
		cr_expect_eq(st_int(o.state, "violations"), cases[i].limit);
		cr_expect_eq(st_int(o.state, "last_seq"), cases[i].limit);
		cx_ac_outcome_free(&o);
		sess_free(&s);
	}
}

Test(limits, warnings_name_the_kind_and_the_counts)
{
	struct sess s;
	struct cx_ac_outcome o;
	const char *w;

	sess_init(&s, NULL, 3, 1, 1);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "tab_switch", 1), &o, NULL), CX_OK);
	cr_assert_eq(json_object_array_length(o.warnings), 1);
	w = json_object_get_string(json_object_array_get_idx(o.warnings, 0));
	cr_expect_not_null(strstr(w, "Tab switch detected (1 of 2 allowed)"), "%s", w);
	cr_expect_not_null(strstr(w, "1 of 3"), "%s", w);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(limits, total_across_kinds_ends_the_interview)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch = json_object_new_array();

	sess_init(&s, NULL, 3, 1, 1);
	json_object_array_add(batch, next_event(&s, "tab_switch", NULL));
	json_object_array_add(batch, next_event(&s, "face_missing", NULL));
	json_object_array_add(batch, next_event(&s, "right_click", NULL));
	json_object_array_add(batch, next_event(&s, "copy_paste", NULL));
	json_object_array_add(batch, next_event(&s, "right_click", NULL));
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	cr_expect_eq(o.terminate, 1);
	cr_expect_str_eq(o.reason, "Anti-cheat: 3 violations (limit 3)");
	cr_expect_eq(o.accepted, 4);
	cr_expect_eq(json_object_array_length(o.warnings), 2);
	cr_expect_eq(st_int(o.state, "violations"), 3);
	cr_expect_eq(st_strike(o.state, "suspicious_input"), 1);
	cr_expect_eq(st_int(o.state, "last_seq"), 4);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(limits, both_limits_at_once_name_the_kind)
{
	struct sess s;
	struct cx_ac_outcome o;

	sess_init(&s, NULL, 3, 1, 1);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "face_missing", 3), &o, NULL), CX_OK);
	cr_expect_eq(o.terminate, 1);
	cr_expect_str_eq(o.reason, "Anti-cheat: 3 times no face was detected (limit 3)");
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(limits, suspicious_input_is_ended_by_the_total_first)
{
	struct sess s;
	struct cx_ac_outcome o;

	sess_init(&s, NULL, 3, 1, 1);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "suspicious_input", 5), &o, NULL), CX_OK);
	cr_expect_eq(o.terminate, 1);
	cr_expect_eq(o.accepted, 3);
	cr_expect_str_eq(o.reason, "Anti-cheat: 3 violations (limit 3)");
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(limits, tampering_counts_toward_the_total)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch = json_object_new_array();
	char h[CX_AC_HASH_LEN];

	sess_init(&s, NULL, 3, 1, 1);
	json_object_array_add(batch, next_event(&s, "face_missing", NULL));
	json_object_array_add(batch, next_event(&s, "copy_paste", NULL));
	json_object_array_add(batch, make_event(9, "right_click", NULL, s.prev, h));
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	expect_tampering(&o, "out_of_order", 9, "right_click");
	cr_expect_eq(o.terminate, 1);
	cr_expect_str_eq(o.reason, "Anti-cheat: 3 violations (limit 3)");
	cr_expect_eq(json_object_array_length(o.warnings), 2, "no tampering warning when it ends");
	cr_expect_eq(st_strike(o.state, "tampering"), 1);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(limits, a_kind_limit_of_zero_leaves_only_the_total)
{
	struct sess s;
	struct cx_ac_outcome o;

	sess_init(&s, "fullscreen_exit=0", 4, 1, 1);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "fullscreen_exit", 3), &o, NULL), CX_OK);
	cr_expect_eq(o.terminate, 0);
	cr_expect_eq(json_object_array_length(o.warnings), 3);
	cx_ac_outcome_free(&o);
	cr_assert_eq(sess_apply(&s, batch_of(&s, "fullscreen_exit", 1), &o, NULL), CX_OK);
	cr_expect_eq(o.terminate, 1);
	cr_expect_str_eq(o.reason, "Anti-cheat: 4 violations (limit 4)");
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(limits, detection_switches_off_log_without_counting)
{
	static const struct { const char *event; int face, tab; } cases[] = {
		{ "face_missing", 0, 1 }, { "multiple_faces", 0, 1 }, { "tab_switch", 1, 0 },
		{ "right_click", 1, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sess s;
		struct cx_ac_outcome o;
		json_object *e;

		sess_init(&s, NULL, 3, cases[i].face, cases[i].tab);
		cr_assert_eq(sess_apply(&s, batch_of(&s, cases[i].event, 5), &o, NULL), CX_OK);
		cr_expect_eq(o.accepted, 5, "%s", cases[i].event);
		cr_expect_eq(o.terminate, 0, "%s", cases[i].event);
		cr_expect_eq(json_object_array_length(o.warnings), 0);
		cr_expect_eq(st_int(o.state, "violations"), 0);
		e = entry(&o, 4);
		cr_expect_str_eq(entry_str(e, "event"), cases[i].event);
		cr_expect_eq(json_object_get_boolean(json_object_object_get(e, "counted")), 0);
		cr_expect_null(json_object_object_get(e, "strike"));
		cr_expect_str_eq(entry_str(o.state, "last_hash"), s.prev);
		cx_ac_outcome_free(&o);
		sess_free(&s);
	}
}

/* ---- batch validation ---- */

static const char *
padded(char *buf, size_t len, char c)
{
	memset(buf, c, len);
	buf[len] = '\0';
	return buf;
}

Test(validation, malformed_batches_name_the_field_and_compute_nothing)
{
	char long65[66], long257[258], key65[66], big[16384], *owned[3];
	struct { const char *json, *field; } cases[32];
	size_t n = 0;
	char t[20][512];
	const char *ok = "{\"seq\":1,\"event\":\"right_click\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\"}";
	size_t blen = 0;

#define ADD(j, f) do { cases[n].json = (j); cases[n].field = (f); n++; } while (0)
#define EV(i, body) (snprintf(t[i], sizeof(t[i]), "[%s,{%s}]", ok, body), t[i])
#define BASE "\"seq\":2,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\"," \
	"\"sequence_hash\":\"" VECTOR_NONCE "\""
	padded(long65, 65, '1');
	padded(long257, 257, 'x');
	padded(key65, 65, 'k');
	ADD("{\"seq\":1}", "events");
	ADD("[]", "events");
	ADD("\"x\"", "events");
	snprintf(t[0], sizeof(t[0]), "[%s,7]", ok);
	ADD(t[0], "events[1]");
	ADD(EV(1, "\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].seq");
	ADD(EV(2, "\"seq\":0,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].seq");
	ADD(EV(3, "\"seq\":\"2\",\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].seq");
	ADD(EV(4, "\"seq\":2.0,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].seq");
	ADD(EV(5, "\"seq\":2,\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].event");
	ADD(EV(6, "\"seq\":2,\"event\":\"tampering\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].event");
	ADD(EV(7, "\"seq\":2,\"event\":\"keylogger\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].event");
	ADD(EV(8, "\"seq\":2,\"event\":\"tab_switch\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].timestamp");
	ADD(EV(9, "\"seq\":2,\"event\":\"tab_switch\",\"timestamp\":\"yesterday\","
	    "\"sequence_hash\":\"" VECTOR_NONCE "\""), "events[1].timestamp");
	ADD(EV(10, BASE ",\"details\":[1]"), "events[1].details");
	ADD(EV(11, BASE ",\"details\":{\"a\":{\"b\":1}}"), "events[1].details");
	ADD(EV(12, BASE ",\"details\":{\"a\":0.5}"), "events[1].details");
	ADD(EV(13, BASE ",\"details\":{\"a\":9007199254740992}"), "events[1].details");
	ADD(EV(14, BASE ",\"details\":{\"a\":[]}"), "events[1].details");
	ADD(EV(15, "\"seq\":2,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\""),
	    "events[1].sequence_hash");
	ADD(EV(16, "\"seq\":2,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"F3130A120A89FA9716708FBF8ABFBF88125CF4D46CE08CFD2A5EDEB0A4248000\""),
	    "events[1].sequence_hash");
	ADD(EV(17, "\"seq\":2,\"event\":\"tab_switch\",\"timestamp\":\"2025-01-01T10:00:00Z\","
	    "\"sequence_hash\":\"abc\""), "events[1].sequence_hash");
	/* sizes: timestamp 65 bytes, key 65 bytes, value 257 bytes, 17 keys, 51 events */
	snprintf(t[18], sizeof(t[18]), "[%s,{\"seq\":2,\"event\":\"tab_switch\",\"timestamp\":"
	    "\"2025-01-01T10:00:00.%sZ\",\"sequence_hash\":\"%s\"}]", ok, long65 + 20, VECTOR_NONCE);
	ADD(t[18], "events[1].timestamp");
	snprintf(t[19], sizeof(t[19]), "[%s,{" BASE ",\"details\":{\"%s\":1}}]", ok, key65);
	ADD(t[19], "events[1].details");
	snprintf(big, sizeof(big), "[%s,{" BASE ",\"details\":{\"a\":\"%s\"}}]", ok, long257);
	ADD(owned[0] = strdup(big), "events[1].details");
	blen = (size_t)snprintf(big, sizeof(big), "[%s,{" BASE ",\"details\":{", ok);
	for (int k = 0; k < 17; k++)
		blen += (size_t)snprintf(big + blen, sizeof(big) - blen, "%s\"k%d\":%d",
		    k ? "," : "", k, k);
	snprintf(big + blen, sizeof(big) - blen, "}}]");
	ADD(owned[1] = strdup(big), "events[1].details");
	blen = (size_t)snprintf(big, sizeof(big), "[");
	for (int k = 0; k < 51; k++)
		blen += (size_t)snprintf(big + blen, sizeof(big) - blen, "%s%s", k ? "," : "", ok);
	snprintf(big + blen, sizeof(big) - blen, "]");
	ADD(owned[2] = strdup(big), "events");
#undef ADD
#undef EV
#undef BASE

	for (size_t i = 0; i < n; i++) {
		struct sess s;
		struct cx_ac_outcome o;
		struct cx_error err = { 0 };
		json_object *batch = parse(cases[i].json);

		sess_init(&s, NULL, 3, 1, 1);
		memset(&o, 0x55, sizeof(o));
		cr_expect_eq(cx_ac_apply(&s.pol, s.state, s.log, batch, NOW, &o, &err),
		    CX_EVALIDATION, "case %zu: %s", i, cases[i].json);
		cr_expect_str_eq(err.field, cases[i].field, "case %zu: %s (%s)", i, cases[i].json,
		    err.reason);
		cr_expect_null(o.state, "case %zu", i);
		cr_expect_null(o.entries, "case %zu", i);
		cr_expect_null(o.warnings, "case %zu", i);
		cr_expect_eq(o.accepted + o.duplicate + o.tampering + o.terminate, 0);
		json_object_put(batch);
		sess_free(&s);
	}
	for (size_t i = 0; i < 3; i++)
		free(owned[i]);
}

Test(validation, flat_details_of_every_allowed_type_pass)
{
	struct sess s;
	struct cx_ac_outcome o;
	json_object *batch = json_object_new_array();

	sess_init(&s, NULL, 3, 1, 1);
	json_object_array_add(batch, next_event(&s, "right_click",
	    "{\"s\":\"\u00e9\",\"i\":-9007199254740991,\"b\":false,\"n\":null,\"\":\"empty key\"}"));
	cr_assert_eq(sess_apply(&s, batch, &o, NULL), CX_OK);
	cr_expect_eq(o.accepted, 1);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(validation, invalid_utf8_in_details_is_refused)
{
	struct sess s;
	struct cx_ac_outcome o;
	struct cx_error err = { 0 };
	json_object *batch = json_object_new_array(), *e, *d = json_object_new_object();

	sess_init(&s, NULL, 3, 1, 1);
	e = next_event(&s, "right_click", NULL);
	json_object_object_add(d, "a", json_object_new_string_len("\xc3\x28", 2));
	json_object_object_add(e, "details", d);
	json_object_array_add(batch, e);
	cr_expect_eq(sess_apply(&s, batch, &o, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "events[0].details");
	sess_free(&s);
}

Test(validation, a_full_log_refuses_growth)
{
	struct sess s;
	struct cx_ac_outcome o;
	struct cx_error err = { 0 };

	sess_init(&s, NULL, 3, 1, 1);
	for (int i = 0; i < CX_AC_MAX_LOG - 1; i++)
		json_object_array_add(s.log, parse("{\"seq\":null,\"event\":\"tampering\"}"));
	cr_expect_eq(sess_apply(&s, batch_of(&s, "right_click", 2), &o, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "events");
	cr_expect_str_eq(err.reason, "the session's event log is full");
	cr_expect_null(o.entries);
	cr_expect_eq(json_object_array_length(s.log), CX_AC_MAX_LOG - 1);
	/* a fresh client chain of one event still fits */
	s.seq = 0;
	snprintf(s.prev, sizeof(s.prev), "%s", entry_str(s.state, "nonce"));
	cr_assert_eq(sess_apply(&s, batch_of(&s, "right_click", 1), &o, NULL), CX_OK);
	cr_expect_eq(o.accepted, 1);
	cr_expect_eq(json_object_array_length(s.log), CX_AC_MAX_LOG);
	cx_ac_outcome_free(&o);
	sess_free(&s);
}

Test(validation, a_corrupt_state_is_internal)
{
	static const char *const states[] = {
		"[]", "{}", "{\"last_hash\":\"abc\",\"last_seq\":0}",
		"{\"last_hash\":\"" VECTOR_NONCE "\"}",
		"{\"last_hash\":\"" VECTOR_NONCE "\",\"last_seq\":-1}",
	};
	struct cx_ac_policy pol;

	cx_ac_policy_init(&pol, NULL, 3, 1, 1, NULL);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct cx_ac_outcome o;
		struct cx_error err = { 0 };
		json_object *state = parse(states[i]), *batch;
		char h[CX_AC_HASH_LEN];

		batch = json_object_new_array();
		json_object_array_add(batch, make_event(1, "right_click", NULL, VECTOR_NONCE, h));
		cr_expect_eq(cx_ac_apply(&pol, state, NULL, batch, NOW, &o, &err), CX_EINTERNAL,
		    "%s", states[i]);
		cr_expect_null(o.state);
		json_object_put(batch);
		json_object_put(state);
	}
}
