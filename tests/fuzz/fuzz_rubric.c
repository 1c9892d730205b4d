/* Fuzz target: a candidate's answer is untrusted input — the local interviewer scores any
 * bytes as text, voice or code, builds the follow-up it asks for, scores the same bytes
 * against it, and summarizes, against the shipped question bank (CX_FUZZ_QDIR). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cx_ai *ai;
static json_object *questions;   /* behavioral, then technical (algorithms: coding too) */

static void
setup(void)
{
	static const char *const focus[] = { "algorithms" };
	struct cx_ai_spec beh = { .mode = "behavioral", .level = "mid", .job_title = "Engineer",
		.question_count = 2, .seed = "fuzz" };
	struct cx_ai_spec tech = { .mode = "technical", .level = "junior", .job_title =
		"Engineer", .focus_areas = focus, .nfocus = 1, .question_count = 4,
		.seed = "fuzz" };
	struct cx_error err = { 0 };
	json_object *a = NULL, *b = NULL;
	size_t i;

	if (cx_ai_open_local(CX_FUZZ_QDIR, CX_FUZZ_SKILLS, &ai, &err) != CX_OK ||
	    cx_ai_generate_questions(ai, &beh, &a, &err) != CX_OK ||
	    cx_ai_generate_questions(ai, &tech, &b, &err) != CX_OK)
		abort();
	questions = json_object_new_array();
	for (i = 0; i < json_object_array_length(a); i++)
		json_object_array_add(questions, json_object_get(json_object_array_get_idx(a, i)));
	for (i = 0; i < json_object_array_length(b); i++)
		json_object_array_add(questions, json_object_get(json_object_array_get_idx(b, i)));
	json_object_put(a);
	json_object_put(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "text", "voice", "code" };
	struct cx_error err = { 0 };
	json_object *fbs, *qs, *out = NULL;
	const char *type;
	char *answer;
	size_t i, n;

	if (ai == NULL)
		setup();
	if (size == 0)
		return 0;
	type = types[data[0] % 3];
	if ((answer = malloc(size)) == NULL)
		return 0;
	memcpy(answer, data + 1, size - 1);   /* the rest, as a string */
	answer[size - 1] = '\0';
	n = json_object_array_length(questions);
	fbs = json_object_new_array();
	qs = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *q = json_object_array_get_idx(questions, i), *fb = NULL, *fu = NULL;

		if (cx_ai_evaluate_answer(ai, q, answer, type, 1, &fb, &err) != CX_OK)
			abort();   /* any text is an answer */
		json_object_array_add(qs, json_object_get(q));
		json_object_array_add(fbs, fb);
		if (json_object_object_get(fb, "follow_up") == NULL)
			continue;
		if (cx_ai_follow_up_question(ai, q, fb, &fu, &err) != CX_OK)
			abort();
		fb = NULL;
		if (cx_ai_evaluate_answer(ai, fu, answer, type, 0, &fb, &err) != CX_OK ||
		    json_object_object_get(fb, "follow_up") != NULL)
			abort();   /* a follow-up never asks one of its own */
		json_object_array_add(qs, fu);
		json_object_array_add(fbs, fb);
	}
	json_object_array_add(qs, json_object_get(json_object_array_get_idx(questions, 0)));
	json_object_array_add(fbs, NULL);   /* one unanswered */
	if (cx_ai_summarize(ai, qs, fbs, &out, &err) != CX_OK)
		abort();
	json_object_put(out);
	json_object_put(qs);
	json_object_put(fbs);
	free(answer);
	return 0;
}
