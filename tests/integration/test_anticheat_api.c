/* Integration: the anti-cheat event log of an interview through nginx: the hash chain
 * (valid over batches, broken, replayed, out of order, an idempotent retry), batch
 * validation, each strike limit of the defaults and the total threshold, termination and
 * what a terminated session refuses, the warnings published on interview:{id}:events,
 * and who may read the log. Sequence hashes are computed here, independently of the
 * server. The stack runs with the defaults: ANTI_CHEAT_THRESHOLD=3 and
 * face_missing=3, tab_switch=2, fullscreen_exit=1, multiple_faces=1, suspicious_input=5. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_crypto.h"
#include "cx_time.h"
#include "interview_it.h"

TestSuite(chain, .init = it_setup, .timeout = 60);
TestSuite(batch, .init = it_setup, .timeout = 60);
TestSuite(threshold, .init = it_setup, .timeout = 60);
TestSuite(termination, .init = it_setup, .timeout = 90);

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

/* A candidate with an active session and the client side of its chain. */
struct running {
	struct it_user u;
	char id[32];
	char *nonce;
	struct iv_chain c;
};

static void
run_start(struct running *s)
{
	it_register(&s->u, NULL);
	iv_create_ok(&s->u, NULL, s->id);
	s->nonce = iv_start(&s->u, s->id);
	iv_chain_init(&s->c, s->nonce);
}

static void
run_free(struct running *s)
{
	free(s->nonce);
	it_user_free(&s->u);
}

/* Send a batch (taken) and return the outcome data (caller puts); asserts 200. */
static json_object *
send_ok(struct running *s, json_object *batch)
{
	struct http_response *r = iv_events(s->u.access, s->id, batch);
	json_object *d;

	it_assert_success(r, 200);
	d = json_object_get(http_json_path(r, "data"));
	http_response_free(r);
	return d;
}

/* One event of kind along the chain, alone in a batch. */
static json_object *
send_one(struct running *s, const char *kind)
{
	return iv_events_ok(&s->u, s->id, &s->c, kind, 1);
}

static json_object *
batch_of(json_object *ev1, json_object *ev2, json_object *ev3)
{
	json_object *b = json_object_new_array();

	json_object_array_add(b, ev1);
	if (ev2 != NULL)
		json_object_array_add(b, ev2);
	if (ev3 != NULL)
		json_object_array_add(b, ev3);
	return b;
}

/* The outcome's fixed fields. */
static void
expect_outcome(json_object *o, int accepted, int tampering, int last_seq, int violations,
    int terminated)
{
	const char *text = json_object_to_json_string(o);

	cr_expect_eq(iv_int(o, "accepted"), accepted, "accepted: %s", text);
	cr_expect(!iv_bool(o, "duplicate"), "duplicate: %s", text);
	cr_expect_eq(iv_bool(o, "tampering"), tampering, "tampering: %s", text);
	cr_expect_eq(iv_int(o, "last_seq"), last_seq, "last_seq: %s", text);
	cr_expect_eq(iv_int(o, "violations"), violations, "violations: %s", text);
	cr_expect_eq(iv_int(o, "threshold"), 3, "threshold: %s", text);
	cr_expect_eq(iv_bool(o, "terminated"), terminated, "terminated: %s", text);
	cr_expect_str_eq(iv_str(o, "status"), terminated ? "terminated" : "active", "%s", text);
	if (terminated)
		cr_expect(iv_str_or_null(o, "terminated_reason") != NULL, "no reason: %s", text);
	else
		cr_expect(iv_is_null(o, "terminated_reason"), "reason: %s", text);
	iv_arr(o, "warnings");
}

static json_object *
session_log(const char *bearer, const char *id, json_object **session)
{
	*session = iv_get(bearer, id);
	return iv_arr(*session, "anti_cheat_log");
}

/* ---- the chain ----------------------------------------------------------------- */

/* The test's own canonical writer against a vector computed with Node.js:
 *   keys sorted with Buffer.compare, JSON.stringify(sorted), prefixed with
 *   "7\ntab_switch\n2025-01-02T03:04:05.678Z\n", hashed after "ab" x 32 with
 *   crypto.createHash('sha256') (tests the writer, so failures below mean the server). */
Test(chain, the_test_writer_matches_json_stringify)
{
	json_object *d = json_object_new_object();
	char *canon, hash[65];
	static const char want_canon[] = "7\ntab_switch\n2025-01-02T03:04:05.678Z\n"
	    "{\"B\":true,\"_\":null,\"a\":1,\"a2\":\"\\b\\f\\r\","
	    "\"b\":\"x/y \\\"q\\\" \\\\ \\n\\t\\u0001 \xc3\xa9 \xe2\x98\x83 \x7f\","
	    "\"\xc3\xa4\":-5}";

	json_object_object_add(d, "b", json_object_new_string(
	    "x/y \"q\" \\ \n\t\x01 \xc3\xa9 \xe2\x98\x83 \x7f"));
	json_object_object_add(d, "a", json_object_new_int(1));
	json_object_object_add(d, "B", json_object_new_boolean(1));
	json_object_object_add(d, "_", NULL);
	json_object_object_add(d, "\xc3\xa4", json_object_new_int(-5));
	json_object_object_add(d, "a2", json_object_new_string("\b\f\r"));
	canon = iv_ac_canonical(7, "tab_switch", "2025-01-02T03:04:05.678Z", d);
	cr_expect_str_eq(canon, want_canon);
	iv_ac_hash("abababababababababababababababababababababababababababababababab", 7,
	    "tab_switch", "2025-01-02T03:04:05.678Z", d, hash);
	cr_expect_str_eq(hash, "16310fa684f86f3d963318ee95a39b0f907fc2fcae35828571f59a7a6b7ae85c");
	free(canon);
	json_object_put(d);
}

Test(chain, a_valid_chain_over_batches_is_logged_as_sent)
{
	struct running s;
	json_object *details = json_object_new_object(), *tab = json_object_new_object();
	json_object *sent = json_object_new_array(), *o, *b, *sess, *log, *e1, *e2;

	run_start(&s);
	/* every escape of the canonical form in one details object */
	json_object_object_add(details, "url", json_object_new_string("https://x.test/a?b=\"c\""));
	json_object_object_add(details, "Note", json_object_new_string(
	    "line\nbreak\ttab \\ \x01 caf\xc3\xa9 \xe2\x98\x83"));
	json_object_object_add(details, "count", json_object_new_int(42));
	json_object_object_add(details, "negative", json_object_new_int(-7));
	json_object_object_add(details, "flag", json_object_new_boolean(0));
	json_object_object_add(details, "nothing", NULL);
	json_object_object_add(tab, "hidden_ms", json_object_new_int(1500));

	e1 = iv_chain_next(&s.c, "right_click", details);   /* in order: seq 1, then 2 */
	e2 = iv_chain_next(&s.c, "right_click", NULL);
	b = batch_of(e1, e2, NULL);
	for (size_t i = 0; i < 2; i++)
		json_object_array_add(sent, json_object_get(json_object_array_get_idx(b, i)));
	o = send_ok(&s, b);
	expect_outcome(o, 2, 0, 2, 0, 0);
	cr_expect_eq(json_object_array_length(iv_arr(o, "warnings")), 0, "right clicks warn");
	for (size_t i = 0; i < 6; i++) {
		static const char *const k[] = { "face_missing", "tab_switch", "fullscreen_exit",
		    "multiple_faces", "suspicious_input", "tampering" };
		char path[64];

		snprintf(path, sizeof(path), "strikes.%s", k[i]);
		cr_expect_eq(iv_int(o, path), 0, "%s", path);
	}
	json_object_put(o);

	e1 = iv_chain_next(&s.c, "right_click", NULL);
	e2 = iv_chain_next(&s.c, "tab_switch", tab);
	b = batch_of(e1, e2, NULL);
	for (size_t i = 0; i < 2; i++)
		json_object_array_add(sent, json_object_get(json_object_array_get_idx(b, i)));
	o = send_ok(&s, b);
	expect_outcome(o, 2, 0, 4, 1, 0);
	cr_expect_eq(iv_int(o, "strikes.tab_switch"), 1);
	cr_expect_eq(json_object_array_length(iv_arr(o, "warnings")), 1,
	    "one warning per counted strike: %s", json_object_to_json_string(o));
	json_object_put(o);

	/* the log holds what was sent, with the server's time beside the client's */
	log = session_log(s.u.access, s.id, &sess);
	cr_expect_eq(iv_int(sess, "anti_cheat.last_seq"), 4);
	cr_expect_eq(iv_int(sess, "anti_cheat.violations"), 1);
	cr_expect_eq(iv_int(sess, "anti_cheat.strikes.tab_switch"), 1);
	cr_assert_eq(json_object_array_length(log), 4, "%s", json_object_to_json_string(log));
	for (size_t i = 0; i < 4; i++) {
		json_object *e = json_object_array_get_idx(log, i);
		json_object *x = json_object_array_get_idx(sent, i);

		cr_expect_eq(iv_int(e, "seq"), (int64_t)i + 1);
		cr_expect_str_eq(iv_str(e, "event"), iv_str(x, "event"));
		cr_expect_str_eq(iv_str(e, "sequence_hash"), iv_str(x, "sequence_hash"));
		cr_expect_str_eq(iv_nz(iv_str_or_null(e, "client_timestamp")), iv_str(x, "timestamp"));
		it_assert_timestamp(iv_str(e, "timestamp"), "server timestamp");
		cr_expect(json_object_equal(json_object_object_get(e, "details"),
		    json_object_object_get(x, "details")), "details of seq %zu: %s vs %s", i + 1,
		    json_object_to_json_string(json_object_object_get(e, "details")),
		    json_object_to_json_string(json_object_object_get(x, "details")));
		cr_expect_eq(iv_bool(e, "counted"), i == 3, "counted of seq %zu", i + 1);
		if (i == 3)
			cr_expect_str_eq(iv_nz(iv_str_or_null(e, "strike")), "tab_switch");
		else
			cr_expect(iv_is_null(e, "strike"), "a right click is a strike");
	}
	json_object_put(sess);
	json_object_put(sent);
	json_object_put(details);
	json_object_put(tab);
	run_free(&s);
}

/* The one tampering entry of the log (asserts there is exactly one). */
static json_object *
tampering_entry(json_object *log)
{
	json_object *found = NULL;

	for (size_t i = 0; i < json_object_array_length(log); i++) {
		json_object *e = json_object_array_get_idx(log, i);

		if (strcmp(iv_str(e, "event"), "tampering") == 0) {
			cr_expect_null(found, "more than one tampering entry");
			found = e;
		}
	}
	cr_assert_not_null(found, "no tampering entry in %s", json_object_to_json_string(log));
	cr_expect(iv_bool(found, "counted"), "tampering is not counted");
	return found;
}

Test(chain, a_wrong_hash_is_a_chain_break_and_drops_the_rest_of_the_batch)
{
	struct running s;
	json_object *e1, *e2, *e3, *o, *sess, *log, *t;
	char bad[65], good2[65];

	run_start(&s);
	e1 = iv_chain_next(&s.c, "right_click", NULL);
	e2 = iv_chain_next(&s.c, "right_click", NULL);
	snprintf(good2, sizeof(good2), "%s", iv_str(e2, "sequence_hash"));
	e3 = iv_chain_next(&s.c, "right_click", NULL);   /* chained on the true e2 */
	snprintf(bad, sizeof(bad), "%s", good2);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	json_object_object_add(e2, "sequence_hash", json_object_new_string(bad));
	o = send_ok(&s, batch_of(e1, json_object_get(e2), e3));
	expect_outcome(o, 1, 1, 1, 1, 0);
	cr_expect_eq(iv_int(o, "strikes.tampering"), 1);
	cr_expect_geq(json_object_array_length(iv_arr(o, "warnings")), 1, "tampering warns");
	json_object_put(o);

	log = session_log(s.u.access, s.id, &sess);
	cr_expect_eq(json_object_array_length(log), 2, "e1 and the tampering entry only: %s",
	    json_object_to_json_string(log));
	t = tampering_entry(log);
	cr_expect_str_eq(iv_str(t, "details.reason"), "chain_break");
	cr_expect_eq(iv_int(t, "details.seq"), 2);
	cr_expect_str_eq(iv_str(t, "details.event"), "right_click");
	cr_expect_eq(iv_int(sess, "anti_cheat.last_seq"), 1);
	json_object_put(sess);

	/* the chain goes on from the last good event: the true e2 is accepted */
	json_object_object_add(e2, "sequence_hash", json_object_new_string(good2));
	o = send_ok(&s, batch_of(e2, NULL, NULL));
	expect_outcome(o, 1, 0, 2, 1, 0);
	json_object_put(o);
	run_free(&s);
}

Test(chain, a_replayed_event_is_tampering)
{
	struct running s;
	json_object *e1, *e2, *o, *sess, *log, *t, *d;
	char prev1[65];

	run_start(&s);
	e1 = iv_chain_next(&s.c, "right_click", NULL);
	snprintf(prev1, sizeof(prev1), "%s", iv_str(e1, "sequence_hash"));
	e2 = iv_chain_next(&s.c, "right_click", NULL);
	o = send_ok(&s, batch_of(json_object_get(e1), e2, NULL));
	expect_outcome(o, 2, 0, 2, 0, 0);
	json_object_put(o);

	/* seq 2 again with other content (a correct hash for it) */
	d = json_object_new_object();
	json_object_object_add(d, "x", json_object_new_int(1));
	o = send_ok(&s, batch_of(iv_ac_event(2, "right_click", "2025-01-01T00:00:00.000Z", d,
	    prev1), NULL, NULL));
	expect_outcome(o, 0, 1, 2, 1, 0);
	json_object_put(o);
	json_object_put(d);
	log = session_log(s.u.access, s.id, &sess);
	t = tampering_entry(log);
	cr_expect_str_eq(iv_str(t, "details.reason"), "replay");
	cr_expect_eq(iv_int(t, "details.seq"), 2);
	json_object_put(sess);

	/* an old event resent alone is not the idempotent retry (its last seq is not the
	 * last one): a replay too */
	o = send_ok(&s, batch_of(e1, NULL, NULL));
	expect_outcome(o, 0, 1, 2, 2, 0);
	cr_expect_eq(iv_int(o, "strikes.tampering"), 2);
	json_object_put(o);
	run_free(&s);
}

Test(chain, a_gap_in_the_sequence_is_out_of_order)
{
	struct running s;
	json_object *o, *sess, *log, *t;

	run_start(&s);
	o = iv_events_ok(&s.u, s.id, &s.c, "right_click", 2);
	expect_outcome(o, 2, 0, 2, 0, 0);
	json_object_put(o);
	/* seq 4, hashed on seq 2 (seq 3 never sent) */
	o = send_ok(&s, batch_of(iv_ac_event(4, "right_click", "2025-01-01T00:00:00.000Z",
	    NULL, s.c.prev), NULL, NULL));
	expect_outcome(o, 0, 1, 2, 1, 0);
	json_object_put(o);
	log = session_log(s.u.access, s.id, &sess);
	t = tampering_entry(log);
	cr_expect_str_eq(iv_str(t, "details.reason"), "out_of_order");
	cr_expect_eq(iv_int(t, "details.seq"), 4);
	cr_expect_eq(json_object_array_length(log), 3);
	json_object_put(sess);
	/* and the chain still goes on at seq 3 */
	o = send_one(&s, "right_click");
	expect_outcome(o, 1, 0, 3, 1, 0);
	json_object_put(o);
	run_free(&s);
}

Test(chain, a_retried_batch_is_a_duplicate_and_changes_nothing)
{
	struct running s;
	json_object *b, *o, *sess, *e1, *e2;
	char *text;

	run_start(&s);
	e1 = iv_chain_next(&s.c, "right_click", NULL);
	e2 = iv_chain_next(&s.c, "tab_switch", NULL);
	b = batch_of(e1, e2, NULL);
	text = strdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
	o = send_ok(&s, b);
	expect_outcome(o, 2, 0, 2, 1, 0);
	json_object_put(o);
	for (int i = 0; i < 2; i++) {
		o = send_ok(&s, json_tokener_parse(text));
		cr_expect(iv_bool(o, "duplicate"), "a retry is not a duplicate: %s",
		    json_object_to_json_string(o));
		cr_expect_eq(iv_int(o, "accepted"), 0);
		cr_expect(!iv_bool(o, "tampering"));
		cr_expect_eq(iv_int(o, "last_seq"), 2);
		cr_expect_eq(iv_int(o, "violations"), 1);
		cr_expect_eq(iv_int(o, "strikes.tab_switch"), 1);
		cr_expect(!iv_bool(o, "terminated"));
		json_object_put(o);
	}
	session_log(s.u.access, s.id, &sess);
	cr_expect_eq(json_object_array_length(iv_arr(sess, "anti_cheat_log")), 2);
	cr_expect_eq(iv_int(sess, "anti_cheat.violations"), 1);
	json_object_put(sess);
	free(text);
	run_free(&s);
}

Test(chain, events_are_accepted_while_paused)
{
	struct running s;
	struct http_response *r;
	json_object *o;

	run_start(&s);
	r = iv_call("POST", s.u.access, s.id, "pause", NULL);
	it_assert_success(r, 200);
	http_response_free(r);
	o = send_one(&s, "right_click");
	cr_expect_eq(iv_int(o, "accepted"), 1);
	cr_expect_str_eq(iv_str(o, "status"), "paused");
	json_object_put(o);
	run_free(&s);
}

/* ---- batch validation ---------------------------------------------------------- */

/* One event object with these members (JSON text without braces). */
static char *
ev_text(const char *seq, const char *event, const char *ts, const char *details,
    const char *hash)
{
	return it_fmt("{\"seq\":%s,\"event\":%s,\"timestamp\":%s%s%s,\"sequence_hash\":%s}",
	    seq, event, ts, details ? ",\"details\":" : "", details ? details : "", hash);
}

/* "[event]" (malloc'd). */
static char *
one(const char *seq, const char *event, const char *ts, const char *details,
    const char *hash)
{
	char *ev = ev_text(seq, event, ts, details, hash), *arr = it_fmt("[%s]", ev);

	free(ev);
	return arr;
}

Test(batch, malformed_batches_are_refused_whole)
{
	struct running s;
	char *ts65 = NULL, *keys17 = NULL, *longkey = NULL, *longval = NULL, *many, *good, *bad2;
	struct http_response *r;
	json_object *sess;
	static const char H[] = "\"" ZEROS "\"";
	static const char T[] = "\"2025-01-01T00:00:00.000Z\"";

	run_start(&s);
	{
		char pad[66], k[70], v[260];

		memset(pad, '1', 65);
		pad[65] = '\0';
		ts65 = it_fmt("\"%s\"", pad);
		keys17 = strdup("{\"k0\":1");
		for (int i = 1; i < 17; i++) {
			char *more = it_fmt("%s,\"k%d\":1", keys17, i);

			free(keys17);
			keys17 = more;
		}
		{
			char *more = it_fmt("%s}", keys17);

			free(keys17);
			keys17 = more;
		}
		memset(k, 'k', 65);
		k[65] = '\0';
		longkey = it_fmt("{\"%s\":1}", k);
		memset(v, 'v', 257);
		v[257] = '\0';
		longval = it_fmt("{\"a\":\"%s\"}", v);
	}
	good = ev_text("1", "\"right_click\"", T, NULL, H);
	bad2 = ev_text("2", "\"nope\"", T, NULL, H);
	{
		struct {
			char *events;   /* the value of "events" (malloc'd below) */
			const char *field;
		} cases[] = {
			{ it_fmt("[]"), "events" },
			{ it_fmt("{}"), "events" },
			{ it_fmt("[1]"), "events[0]" },
			{ one("0", "\"right_click\"", T, NULL, H), "events[0].seq" },
			{ one("-1", "\"right_click\"", T, NULL, H), "events[0].seq" },
			{ one("\"1\"", "\"right_click\"", T, NULL, H),
			  "events[0].seq" },
			{ one("1.5", "\"right_click\"", T, NULL, H),
			  "events[0].seq" },
			{ one("1", "\"tampering\"", T, NULL, H), "events[0].event" },
			{ one("1", "\"paste\"", T, NULL, H), "events[0].event" },
			{ one("1", "7", T, NULL, H), "events[0].event" },
			{ one("1", "\"right_click\"", "12", NULL, H),
			  "events[0].timestamp" },
			{ one("1", "\"right_click\"", ts65, NULL, H),
			  "events[0].timestamp" },
			{ one("1", "\"right_click\"", T, "{\"a\":{\"b\":1}}", H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, "{\"a\":[1]}", H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, "{\"a\":1.5}", H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, "[1]", H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, keys17, H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, longkey, H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, longval, H),
			  "events[0].details" },
			{ one("1", "\"right_click\"", T, NULL,
			    "\"" "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" "\""),
			  "events[0].sequence_hash" },
			{ one("1", "\"right_click\"", T, NULL, "\"abc\""),
			  "events[0].sequence_hash" },
			{ one("1", "\"right_click\"", T, NULL, "null"),
			  "events[0].sequence_hash" },
			/* a good first event does not save a bad second one */
			{ it_fmt("[%s,%s]", good, bad2),
			  "events[1].event" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *body = it_fmt("{\"events\":%s}", cases[i].events);

			r = iv_call("POST", s.u.access, s.id, "events", body);
			iv_assert_validation_prefix(r, cases[i].field);
			http_response_free(r);
			free(body);
			free(cases[i].events);
		}
	}
	/* 51 events */
	many = strdup("");
	for (int i = 1; i <= 51; i++) {
		char seq[8], *more, *ev;

		snprintf(seq, sizeof(seq), "%d", i);
		ev = ev_text(seq, "\"right_click\"", T, NULL, H);
		more = it_fmt("%s%s%s", many, i > 1 ? "," : "", ev);
		free(ev);
		free(many);
		many = more;
	}
	{
		char *body = it_fmt("{\"events\":[%s]}", many);

		r = iv_call("POST", s.u.access, s.id, "events", body);
		iv_assert_validation_prefix(r, "events");
		http_response_free(r);
		free(body);
	}
	r = iv_call("POST", s.u.access, s.id, "events", "{\"other\":[]}");
	iv_assert_validation_prefix(r, "events");
	http_response_free(r);
	r = iv_call("POST", s.u.access, s.id, "events", "{\"events\":[");
	it_assert_error(r, 400, "BAD_REQUEST");
	http_response_free(r);

	/* nothing was logged or counted */
	sess = iv_get(s.u.access, s.id);
	cr_expect_eq(iv_int(sess, "anti_cheat.last_seq"), 0);
	cr_expect_eq(iv_int(sess, "anti_cheat.violations"), 0);
	cr_expect_eq(json_object_array_length(iv_arr(sess, "anti_cheat_log")), 0);
	json_object_put(sess);
	free(many);
	free(good);
	free(bad2);
	free(ts65);
	free(keys17);
	free(longkey);
	free(longval);
	run_free(&s);
}

Test(batch, events_need_a_running_session_of_the_caller)
{
	struct it_user u, other, rec;
	char id[32], *nonce;
	struct iv_chain c;
	struct http_response *r;

	it_register(&u, NULL);
	it_register(&other, NULL);
	it_register(&rec, "recruiter");
	iv_create_ok(&u, NULL, id);
	r = iv_events(u.access, id, batch_of(iv_ac_event(1, "right_click",
	    "2025-01-01T00:00:00.000Z", NULL, ZEROS), NULL, NULL));
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	nonce = iv_start(&u, id);
	iv_chain_init(&c, nonce);
	r = iv_events(other.access, id, batch_of(iv_chain_next(&c, "right_click", NULL), NULL,
	    NULL));
	it_assert_error(r, 404, "NOT_FOUND");
	http_response_free(r);
	iv_chain_init(&c, nonce);
	r = iv_events(rec.access, id, batch_of(iv_chain_next(&c, "right_click", NULL), NULL,
	    NULL));
	it_assert_error(r, 403, "FORBIDDEN");
	http_response_free(r);
	r = iv_events(NULL, id, batch_of(iv_chain_next(&c, "right_click", NULL), NULL, NULL));
	it_assert_error(r, 401, "UNAUTHORIZED");
	http_response_free(r);
	free(nonce);
	it_user_free(&u);
	it_user_free(&other);
	it_user_free(&rec);
}

/* ---- thresholds ---------------------------------------------------------------- */

/* Send count single-event batches of kind (each below every limit) and check that the
 * session is still running with those strikes. */
static void
strikes_below(struct running *s, const char *kind, const char *strike, int count)
{
	for (int i = 1; i <= count; i++) {
		json_object *o = send_one(s, kind);
		char path[64];

		snprintf(path, sizeof(path), "strikes.%s", strike);
		cr_expect(!iv_bool(o, "terminated"), "%s %d terminated: %s", kind, i,
		    json_object_to_json_string(o));
		cr_expect_eq(iv_int(o, path), i, "%s", path);
		cr_expect_eq(json_object_array_length(iv_arr(o, "warnings")), 1,
		    "a counted strike warns: %s", json_object_to_json_string(o));
		json_object_put(o);
	}
}

/* The batch that ends it: terminated, with these strikes and violations, and a reason
 * mentioning `words` (case-insensitive). */
static void
strike_ends(struct running *s, const char *kind, const char *strike, int strikes,
    int violations, const char *words)
{
	json_object *o = send_one(s, kind), *sess;
	char path[64];
	const char *reason;

	snprintf(path, sizeof(path), "strikes.%s", strike);
	cr_expect(iv_bool(o, "terminated"), "%s did not terminate: %s", kind,
	    json_object_to_json_string(o));
	cr_expect_str_eq(iv_str(o, "status"), "terminated");
	cr_expect_eq(iv_int(o, path), strikes, "%s", path);
	cr_expect_eq(iv_int(o, "violations"), violations);
	reason = iv_str_or_null(o, "terminated_reason");
	cr_expect(reason != NULL && it_contains_ci(reason, words), "reason \"%s\" does not "
	    "mention %s", reason ? reason : "(none)", words);
	sess = iv_get(s->u.access, s->id);
	cr_expect_str_eq(iv_str(sess, "status"), "terminated");
	cr_expect_str_eq(iv_nz(iv_str_or_null(sess, "terminated_reason")), reason ? reason : "");
	json_object_put(sess);
	json_object_put(o);
}

Test(threshold, two_tab_switches_end_it_below_the_total)
{
	struct running s;

	run_start(&s);
	strikes_below(&s, "tab_switch", "tab_switch", 1);
	strike_ends(&s, "tab_switch", "tab_switch", 2, 2, "tab");
	run_free(&s);
}

Test(threshold, one_fullscreen_exit_ends_it)
{
	struct running s;

	run_start(&s);
	strike_ends(&s, "fullscreen_exit", "fullscreen_exit", 1, 1, "full");
	run_free(&s);
}

Test(threshold, one_multiple_faces_ends_it)
{
	struct running s;

	run_start(&s);
	strike_ends(&s, "multiple_faces", "multiple_faces", 1, 1, "face");
	run_free(&s);
}

/* The third face_missing reaches both its own limit (3) and the total (3). */
Test(threshold, three_face_missing_end_it_at_both_limits)
{
	struct running s;

	run_start(&s);
	strikes_below(&s, "face_missing", "face_missing", 2);
	strike_ends(&s, "face_missing", "face_missing", 3, 3, "anti-cheat");
	run_free(&s);
}

/* suspicious_input's own limit (5) cannot be reached with ANTI_CHEAT_THRESHOLD=3: the
 * total ends it at 3; copy_paste counts as suspicious_input. */
Test(threshold, suspicious_input_is_ended_by_the_total_at_three)
{
	struct running s;
	json_object *o;

	run_start(&s);
	strikes_below(&s, "suspicious_input", "suspicious_input", 1);
	o = send_one(&s, "copy_paste");
	cr_expect(!iv_bool(o, "terminated"));
	cr_expect_eq(iv_int(o, "strikes.suspicious_input"), 2, "copy_paste is suspicious input");
	json_object_put(o);
	strike_ends(&s, "suspicious_input", "suspicious_input", 3, 3, "violation");
	run_free(&s);
}

Test(threshold, the_total_counts_every_kind_and_tampering)
{
	struct running s;
	json_object *o, *bad;

	run_start(&s);
	o = send_one(&s, "tab_switch");
	expect_outcome(o, 1, 0, 1, 1, 0);
	json_object_put(o);
	/* a broken chain: one violation */
	bad = iv_ac_event(2, "right_click", "2025-01-01T00:00:00.000Z", NULL, ZEROS);
	o = send_ok(&s, batch_of(bad, NULL, NULL));
	expect_outcome(o, 0, 1, 1, 2, 0);
	json_object_put(o);
	strike_ends(&s, "face_missing", "face_missing", 1, 3, "violation");
	run_free(&s);
}

Test(threshold, right_clicks_are_logged_but_never_counted)
{
	struct running s;
	json_object *o;

	run_start(&s);
	o = iv_events_ok(&s.u, s.id, &s.c, "right_click", 10);
	expect_outcome(o, 10, 0, 10, 0, 0);
	json_object_put(o);
	run_free(&s);
}

Test(threshold, events_after_the_ending_one_are_dropped)
{
	struct running s;
	json_object *o, *sess, *e1, *e2, *e3;

	run_start(&s);
	e1 = iv_chain_next(&s.c, "tab_switch", NULL);
	e2 = iv_chain_next(&s.c, "tab_switch", NULL);
	e3 = iv_chain_next(&s.c, "right_click", NULL);
	o = send_ok(&s, batch_of(e1, e2, e3));
	cr_expect(iv_bool(o, "terminated"), "%s", json_object_to_json_string(o));
	cr_expect_eq(iv_int(o, "accepted"), 2, "%s", json_object_to_json_string(o));
	cr_expect_eq(iv_int(o, "last_seq"), 2);
	json_object_put(o);
	sess = iv_get(s.u.access, s.id);
	cr_expect_eq(json_object_array_length(iv_arr(sess, "anti_cheat_log")), 2);
	json_object_put(sess);
	run_free(&s);
}

/* ---- termination --------------------------------------------------------------- */

Test(termination, ends_with_a_result_and_refuses_every_action)
{
	struct running s;
	json_object *o, *sess;
	struct http_response *r;
	static const struct {
		const char *method, *suffix, *body;
	} refused[] = {
		{ "POST", "precheck", "{\"camera\":true,\"microphone\":true,\"fullscreen\":true}" },
		{ "GET", "next-question", NULL },
		{ "POST", "answer", "{\"question_id\":\"q2\",\"content\":\"Late answer\"}" },
		{ "POST", "pause", NULL },
		{ "POST", "resume", NULL },
		{ "POST", "finalize", NULL },
	};

	run_start(&s);
	o = iv_answer_current(&s.u, s.id, "I would add an index and measure the query plan.");
	json_object_put(o);
	strike_ends(&s, "fullscreen_exit", "fullscreen_exit", 1, 1, "full");

	sess = iv_get(s.u.access, s.id);
	it_assert_timestamp(iv_str(sess, "completed_at"), "completed_at");
	cr_expect(!iv_is_null(sess, "result"), "terminated without a result");
	cr_expect(json_object_get_double(http_json_at(sess, "result.total_score")) >= 0);
	cr_expect(iv_is_null(sess, "anti_cheat.nonce"), "the nonce outlives the session");
	cr_expect_eq(json_object_array_length(iv_arr(sess, "answers")), 1);
	json_object_put(sess);

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		r = iv_call(refused[i].method, s.u.access, s.id, refused[i].suffix,
		    refused[i].body);
		cr_expect_eq(r->status, 409, "%s after termination: %ld %.200s",
		    refused[i].suffix, r->status, r->body);
		if (r->status == 409)
			it_assert_error(r, 409, "INVALID_STATE");
		http_response_free(r);
	}
	r = iv_events(s.u.access, s.id, batch_of(iv_chain_next(&s.c, "right_click", NULL),
	    NULL, NULL));
	it_assert_error(r, 409, "INVALID_STATE");
	http_response_free(r);
	iv_expect_status(s.u.access, s.id, "terminated");

	r = iv_call("GET", s.u.access, s.id, "summary", NULL);
	it_assert_success(r, 200);
	cr_expect_str_eq(http_json_str(r, "data.status"), "terminated");
	http_response_free(r);
	run_free(&s);
}

Test(termination, strikes_publish_warnings_and_the_end_publishes_complete)
{
	struct running s;
	redisContext *sub;
	json_object *msgs, *o;

	run_start(&s);
	sub = iv_subscribe(s.id);
	o = send_one(&s, "right_click");
	json_object_put(o);
	msgs = iv_messages(sub, NULL, 500);
	redisFree(sub);
	cr_expect_eq(iv_count_type(msgs, "warning"), 0, "a right click warned: %s",
	    json_object_to_json_string(msgs));
	json_object_put(msgs);

	sub = iv_subscribe(s.id);
	o = send_one(&s, "tab_switch");
	json_object_put(o);
	msgs = iv_messages(sub, (const char *const[]){ "warning", NULL }, 3000);
	redisFree(sub);
	cr_expect_eq(iv_count_type(msgs, "warning"), 1, "the first tab switch: %s",
	    json_object_to_json_string(msgs));
	cr_expect_eq(iv_count_type(msgs, "complete"), 0);
	iv_assert_messages(msgs, s.id);
	json_object_put(msgs);

	sub = iv_subscribe(s.id);
	o = send_one(&s, "tab_switch");
	cr_expect(iv_bool(o, "terminated"));
	json_object_put(o);
	msgs = iv_messages(sub, (const char *const[]){ "warning", "complete", NULL }, 3000);
	redisFree(sub);
	cr_expect_geq(iv_count_type(msgs, "warning"), 1, "termination: %s",
	    json_object_to_json_string(msgs));
	cr_expect_eq(iv_count_type(msgs, "complete"), 1, "termination: %s",
	    json_object_to_json_string(msgs));
	iv_assert_messages(msgs, s.id);
	json_object_put(msgs);
	run_free(&s);
}

Test(termination, the_candidate_recruiter_and_admin_read_the_same_log)
{
	struct running s;
	struct it_user rec, adm;
	json_object *o, *mine, *theirs, *bad;
	const struct it_user *readers[2];

	run_start(&s);
	it_register(&rec, "recruiter");
	iv_admin(&adm);
	readers[0] = &rec;
	readers[1] = &adm;
	o = send_one(&s, "right_click");
	json_object_put(o);
	o = send_one(&s, "tab_switch");
	json_object_put(o);
	bad = iv_ac_event(3, "face_missing", "2025-01-01T00:00:00.000Z", NULL, ZEROS);
	o = send_ok(&s, batch_of(bad, NULL, NULL));
	json_object_put(o);

	mine = iv_get(s.u.access, s.id);
	cr_expect_eq(json_object_array_length(iv_arr(mine, "anti_cheat_log")), 3);
	cr_expect(!iv_is_null(mine, "anti_cheat.nonce"), "the owner lost the nonce");
	for (int i = 0; i < 2; i++) {
		theirs = iv_get(readers[i]->access, s.id);
		cr_expect(json_object_equal(json_object_object_get(theirs, "anti_cheat_log"),
		    json_object_object_get(mine, "anti_cheat_log")), "%s reads another log",
		    i ? "the admin" : "the recruiter");
		cr_expect_eq(iv_int(theirs, "anti_cheat.violations"), 2);
		cr_expect(iv_is_null(theirs, "anti_cheat.nonce"), "%s sees the nonce",
		    i ? "the admin" : "the recruiter");
		json_object_put(theirs);
	}
	json_object_put(mine);
	it_user_free(&rec);
	it_user_free(&adm);
	run_free(&s);
}
