/* Unit tests of the core modules: cx_error, cx_time, cx_json. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cx_buf.h"
#include "cx_error.h"
#include "cx_json.h"
#include "cx_time.h"

Test(error, first_error_wins)
{
	struct cx_error err = { 0 };

	cr_assert_eq(cx_error_set(&err, CX_ENOTFOUND, "User %s not found", "x"), CX_ENOTFOUND);
	cr_assert_eq(cx_error_set(&err, CX_ECONFLICT, "later"), CX_ECONFLICT);
	cr_assert_eq(err.code, CX_ENOTFOUND);
	cr_assert_str_eq(err.message, "User x not found");
	cr_assert_eq(cx_code_status(err.code), 404);
	cr_assert_str_eq(cx_code_name(err.code), "NOT_FOUND");
}

Test(error, field_error_carries_details)
{
	struct cx_error err = { 0 };

	cr_assert_eq(cx_error_field(&err, "email", "invalid email format"), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "email");
	cr_assert_str_eq(err.reason, "invalid email format");
	cr_assert_eq(cx_code_status(CX_EVALIDATION), 422);
}

Test(error, table_is_complete)
{
	static const struct { enum cx_code code; const char *name; int status; } want[] = {
		{ CX_EVALIDATION, "VALIDATION_ERROR", 422 }, { CX_EBADREQ, "BAD_REQUEST", 400 },
		{ CX_EUNAUTH, "UNAUTHORIZED", 401 }, { CX_EFORBIDDEN, "FORBIDDEN", 403 },
		{ CX_ENOTFOUND, "NOT_FOUND", 404 }, { CX_ECONFLICT, "CONFLICT", 409 },
		{ CX_ESTATE, "INVALID_STATE", 409 }, { CX_ETOOLARGE, "PAYLOAD_TOO_LARGE", 413 },
		{ CX_EMEDIA, "UNSUPPORTED_MEDIA_TYPE", 415 }, { CX_ERATELIMIT, "RATE_LIMITED", 429 },
		{ CX_EINTERNAL, "INTERNAL_ERROR", 500 }, { CX_EUNAVAIL, "SERVICE_UNAVAILABLE", 503 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_expect_str_eq(cx_code_name(want[i].code), want[i].name);
		cr_expect_eq(cx_code_status(want[i].code), want[i].status);
	}
}

Test(error, internal_hides_detail)
{
	struct cx_error err = { 0 };

	cx_error_internal(&err, "sqlite said: no such table users");
	cr_assert_eq(err.code, CX_EINTERNAL);
	cr_assert_null(strstr(err.message, "sqlite"));
}

Test(time, format_and_parse_roundtrip)
{
	char buf[CX_TIME_LEN];
	int64_t ms;

	cx_time_format_ms(1735689600123LL, buf);
	cr_assert_str_eq(buf, "2025-01-01T00:00:00.123Z");
	cr_assert_eq(cx_time_parse_ms(buf, &ms), 0);
	cr_assert_eq(ms, 1735689600123LL);
	cr_assert_eq(cx_time_parse_ms("2025-01-01T01:00:00+01:00", &ms), 0);
	cr_assert_eq(ms, 1735689600000LL);
	cr_assert_eq(cx_time_parse_ms("2025-13-01T00:00:00Z", &ms), -1);
	cr_assert_eq(cx_time_parse_ms("2025-01-01T00:00:00", &ms), -1);
	cr_assert_eq(cx_time_parse_ms("yesterday", &ms), -1);
}

/* The hand-written formatter agrees with gmtime_r over leap days, century years,
 * the epoch and times before it, second by second across the ends of days. */
Test(time, format_agrees_with_gmtime)
{
	static const int64_t days[] = {
		-719527, -25567, -1, 0, 1, 59, 60, 365, 10956, 11016, 11017, 11323, 11324,
		16860, 19722, 19723, 20088, 20454, 47540, 47541, 2932895
	};
	char buf[CX_TIME_LEN], want[64];

	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		for (int64_t off = -3; off <= 3; off++) {
			int64_t secs = days[i] * 86400 + off, ms = secs * 1000 + (off & 7) * 111;
			time_t t = (time_t)secs;
			struct tm tm;

			cr_assert_not_null(gmtime_r(&t, &tm));
			snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			    tm.tm_sec, (int)((off & 7) * 111));
			cx_time_format_ms(ms, buf);
			cr_assert_str_eq(buf, want, "day %lld%+lld s", (long long)days[i],
			    (long long)off);
		}
	cx_time_format_ms(-1, buf);   /* a millisecond before the epoch */
	cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
}

Test(time, now_is_fixed_width)
{
	char buf[CX_TIME_LEN];

	cx_time_now(buf);
	cr_assert_eq(strlen(buf), 24);
	cr_assert_eq(buf[23], 'Z');
}

Test(oid, fresh_ids_are_valid_and_distinct)
{
	char a[CX_OID_LEN], b[CX_OID_LEN];

	cx_oid_new(a);
	cx_oid_new(b);
	cr_assert(cx_oid_valid(a));
	cr_assert_str_neq(a, b);
	cr_assert_not(cx_oid_valid("123"));
	cr_assert_not(cx_oid_valid("zzzzzzzzzzzzzzzzzzzzzzzz"));
	cr_assert_not(cx_oid_valid("0123456789abcdef012345678"));
}

Test(json, parse_rejects_garbage_and_depth)
{
	struct cx_error err = { 0 };
	json_object *obj = NULL;
	char deep[200];

	cr_assert_eq(cx_json_parse("{\"a\":1}", 7, &obj, &err), CX_OK);
	json_object_put(obj);
	obj = NULL;
	cr_assert_eq(cx_json_parse("{\"a\":1} x", 9, &obj, &err), CX_EBADREQ);
	cr_assert_null(obj);
	cx_error_clear(&err);
	cr_assert_eq(cx_json_parse("{a:1}", 5, &obj, &err), CX_EBADREQ);
	cx_error_clear(&err);
	cr_assert_eq(cx_json_parse("[1,]", 4, &obj, &err), CX_EBADREQ);
	cx_error_clear(&err);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	cr_assert_eq(cx_json_parse(deep, sizeof(deep), &obj, &err), CX_EBADREQ);
}

/* cx_json_write writes what json-c writes, byte for byte. */
Test(json, the_fast_writer_writes_what_json_c_writes)
{
	static const char *const docs[] = {
		"{}", "[]", "null", "true", "0", "-1", "9223372036854775807",
		"18446744073709551615", "-9223372036854775808", "2.5", "1e300", "-0.0", "3.0",
		"\"\"", "\"plain\"", "\"quote \\\" backslash \\\\ slash / end\"",
		"\"\\b\\f\\n\\r\\t \\u0001 \\u001f \\u007f\"", "\"caf\u00e9 \u2603 \\ud83d\\ude00\"",
		"{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{\"e\":\"f\",\"g\":[]},\"h\":false}",
		"[null,null,[[]],{\"\\n\":\"k\\u0000v\"}]",
		"{\"score\":71.25,\"weight\":0.45,\"n\":-12,\"big\":123456789012}",
	};
	struct cx_buf b = { 0 };
	json_object *o, *wrap;
	size_t i, len;
	const char *want;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		o = json_tokener_parse(docs[i]);
		cr_assert(o != NULL || strcmp(docs[i], "null") == 0, "%s", docs[i]);
		want = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		b.len = 0;
		cr_assert_eq(cx_json_write(&b, o), 0);
		cr_expect_eq(b.len, len, "%s: %zu vs %zu", docs[i], b.len, len);
		cr_expect_str_eq(b.data, want, "%s", docs[i]);
		json_object_put(o);
	}
	/* values built in memory, and a frozen value inside */
	o = json_object_new_object();
	json_object_object_add(o, "d", json_object_new_double(0.1));
	json_object_object_add(o, "i", json_object_new_int64(-42));
	json_object_object_add(o, "u", json_object_new_uint64(18446744073709551000ULL));
	json_object_object_add(o, "s", json_object_new_string_len("a\0b", 3));
	wrap = json_object_new_array();
	json_object_array_add(wrap, o);
	json_object_array_add(wrap, cx_json_raw("{\"x\":[1]}", 9));
	{   /* any value with a serializer of its own is written by it */
		json_object *own = json_object_new_object();

		json_object_set_serializer(own, json_object_userdata_to_json_string,
		    strdup("{\"own\":true}"), json_object_free_userdata);
		json_object_array_add(wrap, own);
	}
	want = json_object_to_json_string_length(wrap, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	b.len = 0;
	cr_assert_eq(cx_json_write(&b, wrap), 0);
	cr_expect_eq(b.len, len);
	cr_expect_eq(memcmp(b.data, want, len), 0, "%s vs %s", b.data, want);
	cr_expect_not_null(strstr(b.data, "{\"x\":[1]}"));
	cr_expect_not_null(strstr(b.data, "{\"own\":true}"));
	json_object_put(wrap);
	cx_buf_free(&b);
}

/* Strings are scanned sixteen bytes at a time, then eight, then their last eight (or
 * fewer, as one word): a byte to escape at any place of any of them, beside bytes that
 * only look close (0x20, '!', '#', '[', ']', 0x7f, 0x80, 0xff), is escaped as json-c
 * escapes it. */
Test(json, every_byte_to_escape_is_found_wherever_it_is)
{
	static const unsigned char probe[] = { '"', '\\', 0x01, 0x1f, '\n', 0x20, '!', '#',
		'[', ']', 0x7f, 0x80, 0xff };
	struct cx_buf b = { 0 };
	char text[56];
	size_t len, pos, k, wlen;

	for (len = 1; len <= sizeof(text); len++)
		for (pos = 0; pos < len; pos++)
			for (k = 0; k < sizeof(probe); k++) {
				json_object *o;
				const char *want;

				memset(text, 'a', len);
				text[pos] = (char)probe[k];
				o = json_object_new_string_len(text, (int)len);
				want = json_object_to_json_string_length(o,
				    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &wlen);
				b.len = 0;
				cr_assert_eq(cx_json_write(&b, o), 0);
				cr_assert_eq(b.len, wlen, "len %zu, 0x%02x at %zu", len, probe[k], pos);
				cr_assert_eq(memcmp(b.data, want, wlen), 0, "len %zu, 0x%02x at %zu",
				    len, probe[k], pos);
				json_object_put(o);
			}
	cx_buf_free(&b);
}

/* Two bytes to escape anywhere in a string (the same word, neighbours, apart), each
 * escaped as json-c escapes it and the bytes between them kept. */
Test(json, bytes_to_escape_side_by_side_are_each_found)
{
	static const unsigned char probe[] = { '"', '\\', 0x01, '\n', 0x1f, 0x20, 0x80 };
	struct cx_buf b = { 0 };
	char text[20];
	size_t len, p1, p2, k1, k2, wlen;

	for (len = 2; len <= sizeof(text); len++)
		for (p1 = 0; p1 < len; p1++)
			for (p2 = p1 + 1; p2 < len; p2++)
				for (k1 = 0; k1 < sizeof(probe); k1++)
					for (k2 = 0; k2 < sizeof(probe); k2++) {
						json_object *o;
						const char *want;

						memset(text, 'b', len);
						text[p1] = (char)probe[k1];
						text[p2] = (char)probe[k2];
						o = json_object_new_string_len(text, (int)len);
						want = json_object_to_json_string_length(o,
						    JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE, &wlen);
						b.len = 0;
						cr_assert_eq(cx_json_write(&b, o), 0);
						cr_assert(b.len == wlen && memcmp(b.data, want, wlen) == 0,
						    "len %zu: 0x%02x at %zu, 0x%02x at %zu", len,
						    probe[k1], p1, probe[k2], p2);
						json_object_put(o);
					}
	cx_buf_free(&b);
}

/* A document serialized once goes into several messages as the same text. */
Test(json, a_frozen_value_is_sent_as_its_text)
{
	json_object *data = json_tokener_parse("{\"a\":[1,2.5,\"x\\\"y\"],\"b\":null}");
	json_object *frozen = cx_json_freeze(data), *msg = json_object_new_object();
	json_object *again;
	size_t len = 0;
	const char *text;

	cr_assert_not_null(frozen);
	json_object_object_add(msg, "type", json_object_new_string("feedback"));
	json_object_object_add(msg, "data", json_object_get(frozen));
	text = cx_json_text(msg, &len);
	cr_assert_str_eq(text, "{\"type\":\"feedback\",\"data\":{\"a\":[1,2.5,\"x\\\"y\"],"
	    "\"b\":null}}");
	cr_assert_eq(len, strlen(text));
	again = json_tokener_parse(text);   /* still JSON, with the value in place */
	cr_assert_not_null(again);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(json_object_object_get(
	    json_object_object_get(again, "data"), "a"), 2)), "x\"y");
	json_object_put(again);
	json_object_put(msg);
	json_object_put(frozen);
}

/* A frozen value is read again as the tree it was; a tree is read as itself. */
Test(json, a_frozen_value_thaws_into_its_tree)
{
	json_object *tree = json_tokener_parse("{\"score\":54,\"missing\":[\"a\",\"b\"]}");
	json_object *frozen = cx_json_freeze(json_object_get(tree)), *back, *same;

	cr_assert_not_null(frozen);
	cr_assert(json_object_is_type(frozen, json_type_string), "frozen is not raw");
	back = cx_json_thaw(frozen);
	cr_assert_not_null(back);
	cr_assert(json_object_is_type(back, json_type_object));
	cr_expect_eq(json_object_get_int(json_object_object_get(back, "score")), 54);
	cr_expect_eq(json_object_array_length(json_object_object_get(back, "missing")), 2);
	cr_expect(json_object_equal(back, tree), "the thawed tree differs from the original");
	same = cx_json_thaw(tree);   /* not raw: the same object, one more reference */
	cr_expect_eq(same, tree);
	cr_expect_null(cx_json_thaw(NULL));
	json_object_put(same);
	json_object_put(back);
	json_object_put(frozen);
	json_object_put(tree);
}

Test(json, typed_readers)
{
	struct cx_error err = { 0 };
	json_object *obj = json_tokener_parse("{\"s\":\"abc\",\"n\":5,\"b\":true,\"o\":{\"$ne\":null}}");
	const char *s = NULL;
	int64_t n = 0;
	int b = 0;

	cr_assert_eq(cx_json_get_string(obj, "s", 1, 1, 10, &s, &err), CX_OK);
	cr_assert_str_eq(s, "abc");
	cr_assert_eq(cx_json_get_int(obj, "n", 1, 0, 10, &n, &err), CX_OK);
	cr_assert_eq(n, 5);
	cr_assert_eq(cx_json_get_bool(obj, "b", 1, &b, &err), CX_OK);
	cr_assert_eq(b, 1);
	cr_assert_eq(cx_json_get_string(obj, "missing", 0, 1, 10, &s, &err), CX_OK);
	cr_assert_eq(cx_json_get_string(obj, "o", 1, 1, 10, &s, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "o");
	cr_assert_str_eq(err.reason, "must be a string");
	cx_error_clear(&err);
	cr_assert_eq(cx_json_get_string(obj, "s", 1, 5, 10, &s, &err), CX_EVALIDATION);
	cx_error_clear(&err);
	cr_assert_eq(cx_json_get_int(obj, "n", 1, 6, 10, &n, &err), CX_EVALIDATION);
	cx_error_clear(&err);
	cr_assert_eq(cx_json_get_string(obj, "nothere", 1, 1, 10, &s, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.reason, "field required");
	json_object_put(obj);
}

#include "cx_crypto.h"
#include <stdlib.h>

Test(crypto, sha256_known_vector)
{
	char hex[65];

	cx_sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(crypto, base64url_table)
{
	static const struct { const char *in; const char *out; } cases[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "\xfb\xff", "-_8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc = cx_base64url_encode(cases[i].in, strlen(cases[i].in));
		size_t n = 0;
		uint8_t *dec = cx_base64url_decode(enc, strlen(enc), &n);
		cr_expect_str_eq(enc, cases[i].out);
		cr_assert_not_null(dec);
		cr_expect_eq(n, strlen(cases[i].in));
		cr_expect_eq(memcmp(dec, cases[i].in, n), 0);
		free(enc);
		free(dec);
	}
	size_t n;
	cr_assert_null(cx_base64url_decode("Zm9v+", 5, &n));
	cr_assert_null(cx_base64url_decode("Z", 1, &n));
	cr_assert_null(cx_base64url_decode("Zh", 2, &n)); /* non-zero leftover bits */
}

Test(crypto, random_tokens_differ)
{
	char a[44], b[44];

	cr_assert_eq(cx_random_token(a), 0);
	cr_assert_eq(cx_random_token(b), 0);
	cr_assert_eq(strlen(a), 43);
	cr_assert_str_neq(a, b);
}

Test(crypto, constant_time_compare)
{
	cr_assert(cx_ct_streq("secret", "secret"));
	cr_assert_not(cx_ct_streq("secret", "secreT"));
	cr_assert_not(cx_ct_streq("secret", "secret1"));
	cr_assert(cx_ct_equal("abc", "abc", 3));
	cr_assert_not(cx_ct_equal("abc", "abd", 3));
}

#include "cx_log.h"
#include <stdio.h>
#include <unistd.h>

/* Log lines are one JSON object each, with untrusted text escaped. */
Test(log, lines_are_json_with_context)
{
	char path[] = "/tmp/cx-log-test-XXXXXX", line[4096];
	int fd = mkstemp(path);
	FILE *f;
	json_object *obj;
	int n = 0;

	cr_assert_geq(fd, 0);
	cx_log_init("cx-test", CX_LOG_INFO, fd);
	cx_log_set_request("req-1", "10.0.0.9");
	cx_logf(CX_LOG_WARN, "user said \"%s\"", "hi\n\x01{\"evil\":1}");
	cx_logf(CX_LOG_DEBUG, "below the level: not written");
	cx_log_access("GET", "/api/auth/me", "/api/auth/me", 200, 1.25, "abc");
	cx_log_set_request(NULL, NULL);
	f = fdopen(fd, "r");
	cr_assert_not_null(f);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		obj = json_tokener_parse(line);
		cr_assert_not_null(obj, "not JSON: %s", line);
		cr_expect_str_eq(cx_json_str(obj, "program"), "cx-test");
		cr_expect_str_eq(cx_json_str(obj, "request_id"), "req-1");
		cr_expect_str_eq(cx_json_str(obj, "remote_addr"), "10.0.0.9");
		cr_expect_not_null(cx_json_str(obj, "time"));
		if (n == 0) {
			cr_expect_str_eq(cx_json_str(obj, "level"), "warn");
			cr_expect_str_eq(cx_json_str(obj, "msg"), "user said \"hi\n\x01{\"evil\":1}\"");
		} else {
			cr_expect_str_eq(cx_json_str(obj, "route"), "/api/auth/me");
			cr_expect_eq(json_object_get_int(json_object_object_get(obj, "status")), 200);
			cr_expect_str_eq(cx_json_str(obj, "user_id"), "abc");
		}
		json_object_put(obj);
		n++;
	}
	cr_expect_eq(n, 2, "one line per event, nothing below the level");
	fclose(f);
	unlink(path);
	cx_log_init("cx", CX_LOG_INFO, 2);
}

/* A worker's round holds its access lines and writes them at its end; a warning in the
 * round writes what was held, then itself, so the file keeps the order of events. The
 * duration has three decimals as before. */
Test(log, held_lines_come_out_in_order_at_the_flush)
{
	char path[] = "/tmp/cx-log-test-XXXXXX", text[4096];
	int fd = mkstemp(path);
	ssize_t n;
	const char *a, *b, *w, *c;

	cr_assert_geq(fd, 0);
	cx_log_init("cx-test", CX_LOG_INFO, fd);
	cx_log_hold();
	cx_log_access("POST", "/a", "/a", 200, 0.0004, NULL);
	cx_log_access("POST", "/b", "/b", 404, 12.3456, NULL);
	cr_expect_eq(lseek(fd, 0, SEEK_END), 0, "held lines were written early");
	cx_logf(CX_LOG_WARN, "something odd");
	cx_log_access("POST", "/c", "/c", 503, 1234.5, NULL);
	cx_log_flush();
	cx_log_access("GET", "/d", "/d", 200, 1, NULL);   /* not holding: written at once */
	n = pread(fd, text, sizeof(text) - 1, 0);
	cr_assert_gt(n, 0);
	text[n] = '\0';
	a = strstr(text, "\"route\":\"/a\"");
	b = strstr(text, "\"route\":\"/b\"");
	w = strstr(text, "something odd");
	c = strstr(text, "\"route\":\"/c\"");
	cr_assert(a != NULL && b != NULL && w != NULL && c != NULL, "%s", text);
	cr_expect(a < b && b < w && w < c, "out of order: %s", text);
	cr_expect_not_null(strstr(text, "\"status\":200,\"duration_ms\":0.000"));
	cr_expect_not_null(strstr(text, "\"status\":404,\"duration_ms\":12.346"));
	cr_expect_not_null(strstr(text, "\"status\":503,\"duration_ms\":1234.500"));
	cr_expect_not_null(strstr(text, "\"route\":\"/d\",\"path\":\"/d\",\"status\":200,"
	    "\"duration_ms\":1.000}"));
	close(fd);
	unlink(path);
	cx_log_init("cx", CX_LOG_INFO, 2);
}

#include "cx_buf.h"

Test(buf, appends_grow_and_take_hands_over)
{
	struct cx_buf b = { 0 };
	char *s, big[2000];

	s = cx_buf_take(&b);
	cr_assert_str_eq(s, "", "an untouched buffer gives an empty string");
	free(s);
	cx_buf_str(&b, "id=");
	cx_buf_printf(&b, "%d/%s", 42, "x");
	cx_buf_add(&b, "abc", 2);
	cr_assert_eq(b.len, 9);
	cr_assert_str_eq(b.data, "id=42/xab");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cx_buf_printf(&b, "[%s]", big);   /* longer than printf's stack buffer */
	cr_assert_eq(b.len, 9 + 2 + sizeof(big) - 1);
	cr_assert_eq(b.data[b.len], '\0');
	cr_assert_eq(b.data[b.len - 1], ']');
	s = cx_buf_take(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(strncmp(s, "id=42/xab[zzz", 13), 0);
	free(s);
}

Test(buf, a_failed_buffer_yields_null)
{
	struct cx_buf b = { 0 };

	cx_buf_str(&b, "partial");
	b.failed = 1;          /* what an allocation failure leaves */
	cx_buf_str(&b, " more");
	cr_assert_eq(b.len, 7, "appends after a failure are ignored");
	cr_assert_null(cx_buf_take(&b));
	cr_assert_null(b.data);
}
