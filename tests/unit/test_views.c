/* What cx-interview writes as text on its hot paths (an answer's response, the question
 * event, next-question) is the text the json-c builders of the same views make: the
 * question as the candidate and as staff see it, the clock and the progress. */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "cx_buf.h"
#include "cx_json.h"
#include "interview.h"

static json_object *
parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "bad JSON in the test: %s", text);
	return o;
}

/* question_view_write inside an object against cx_json_write(question_view(...)). */
static void
same_view(const char *question, const char *asked_at, int index, int total, int staff)
{
	json_object *q = parse(question), *tree = question_view(q, asked_at, index, total, staff);
	struct cx_buf a = { 0 }, b = { 0 };
	struct cx_jw w;

	cx_jw_open(&w, &a);
	question_view_write(&w, q, asked_at, index, total, staff);
	cx_jw_close(&w);
	cr_assert_eq(cx_json_write(&b, tree), 0);
	cr_assert_not(a.failed);
	cr_expect_str_eq(a.data, b.data, "question %s (asked %s, %d of %d, staff %d)", question,
	    asked_at ? asked_at : "-", index, total, staff);
	cx_buf_free(&a);
	cx_buf_free(&b);
	json_object_put(tree);
	json_object_put(q);
}

Test(views, a_question_as_text_is_the_tree_written)
{
	static const char *const questions[] = {
		"{\"id\":\"q3\",\"type\":\"text\",\"content\":\"Tell me about a time you "
		"disagreed with \\\"your\\\" lead.\\nWhat happened?\",\"competency\":\"conflict\","
		"\"time_minutes\":4,\"key_points\":[\"situation\",\"result\"],\"level\":\"mid\"}",
		"{\"id\":\"q7f\",\"type\":\"voice\",\"content\":\"And the result?\",\"area\":"
		"\"databases\",\"parent_id\":\"q7\",\"gap\":\"result\",\"is_follow_up\":true,"
		"\"matched_skills\":[\"postgresql\"],\"skills\":[\"sql\",\"indexes\"],"
		"\"level_note\":\"for a senior: name the trade-off\"}",
		"{\"id\":\"q1\",\"type\":\"code\",\"content\":\"Reverse a list \\u00e9\\t\\u0001\","
		"\"area\":\"algorithms\",\"time_minutes\":12.5,\"competency\":null}",
		"{}",
	};

	for (size_t i = 0; i < sizeof(questions) / sizeof(questions[0]); i++)
		for (int staff = 0; staff < 2; staff++) {
			same_view(questions[i], NULL, 1, 0, staff);
			same_view(questions[i], "2026-11-26T18:40:03.094Z", 4, 20, staff);
		}
}

Test(views, the_clock_and_the_progress_as_text_are_the_trees_written)
{
	static const struct session_time times[] = {
		{ 0 },
		{ 3600000, 61999, 3538001, 0, 1, 1 },
		{ 1800000, 1800000, 0, 125400, 1, 0 },
	};
	static const char *const docs[] = {
		"{\"status\":\"active\",\"plan\":[\"q1\",\"q2\",\"q3\"],\"asked_at\":"
		"[\"2026-11-26T18:40:03.094Z\",\"2026-11-26T18:41:03.094Z\"],\"current\":1,"
		"\"answered\":1,\"question_count\":3}",
		"{\"status\":\"paused\",\"plan\":[\"q1\",\"q2\"],\"asked_at\":[],\"current\":0}",
		"{\"status\":\"completed\",\"plan\":[{\"id\":\"q1\",\"asked_at\":\"2026-11-26T18:"
		"40:03.094Z\"},{\"id\":\"q2\",\"asked_at\":null}],\"answers\":[{}]}",
	};
	struct cx_buf a = { 0 }, b = { 0 };
	struct cx_jw w;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "time", session_time_json(&times[i]));
		cx_jw_open(&w, &a);
		session_time_write(&w, "time", &times[i]);
		cx_jw_close(&w);
		cr_assert_eq(cx_json_write(&b, o), 0);
		cr_expect_str_eq(a.data, b.data);
		cx_buf_free(&a);
		cx_buf_free(&b);
		json_object_put(o);
	}
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_object *doc = parse(docs[i]), *o = json_object_new_object();

		json_object_object_add(o, "progress", session_progress_json(doc));
		cx_jw_open(&w, &a);
		session_progress_write(&w, "progress", doc);
		cx_jw_close(&w);
		cr_assert_eq(cx_json_write(&b, o), 0);
		cr_expect_str_eq(a.data, b.data, "%s", docs[i]);
		cx_buf_free(&a);
		cx_buf_free(&b);
		json_object_put(o);
		json_object_put(doc);
	}
}

/* The writer's own pieces: nested objects, escapes, null, numbers at the edges. */
Test(views, the_writer_writes_what_json_c_reads_back)
{
	struct cx_buf a = { 0 };
	struct cx_jw w, in;
	json_object *o, *v = parse("[1,\"x\",null]");

	cx_jw_open(&w, &a);
	cx_jw_str(&w, "s", "quote \" backslash \\ newline \n tab \t bell \a");
	cx_jw_str(&w, "none", NULL);
	cx_jw_int(&w, "min", INT64_MIN);
	cx_jw_int(&w, "max", INT64_MAX);
	cx_jw_bool(&w, "yes", 1);
	cx_jw_key(&w, "inner");
	cx_jw_open(&in, &a);
	cx_jw_json(&in, "v", v);
	cx_jw_json(&in, "nil", NULL);
	cx_jw_close(&in);
	cx_jw_close(&w);
	cr_assert_not(a.failed);
	cr_assert_eq(a.data[a.len], '\0');
	o = parse(a.data);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(o, "s")),
	    "quote \" backslash \\ newline \n tab \t bell \a");
	cr_expect(json_object_object_get_ex(o, "none", NULL) &&
	    json_object_object_get(o, "none") == NULL);
	cr_expect_eq(json_object_get_int64(json_object_object_get(o, "min")), INT64_MIN);
	cr_expect_eq(json_object_get_int64(json_object_object_get(o, "max")), INT64_MAX);
	cr_expect(json_object_get_boolean(json_object_object_get(o, "yes")));
	cr_expect_str_eq(json_object_to_json_string_ext(json_object_object_get(o, "inner"),
	    JSON_C_TO_STRING_PLAIN), "{\"v\":[1,\"x\",null],\"nil\":null}");
	json_object_put(o);
	json_object_put(v);
	cx_buf_free(&a);
}
