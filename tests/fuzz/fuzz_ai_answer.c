/* Fuzz target: what a remote AI model answers is untrusted input — the checks that turn
 * it into questions, an evaluation or a summary must refuse anything malformed. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai_hosted.h"
#include "cx_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const focus[] = { "databases" };
	struct cx_ai_spec spec = { .mode = "technical", .level = "mid", .job_title = "Engineer",
		.focus_areas = focus, .nfocus = 1, .question_count = 3, .seed = "s" };
	struct ai_qview q = { .content = "What is an index?", .mode = "technical",
		.type = "text", .area = "databases" };
	json_object *answer = NULL, *out = NULL, *kp, *local;
	char why[128];

	if (cx_json_parse((const char *)data, size, &answer, NULL) != CX_OK)
		return 0;
	if (ai_answer_questions(answer, &spec, "openai", &out, why, sizeof(why)) == 0)
		json_object_put(out);
	kp = json_object_new_array();
	json_object_array_add(kp, json_object_new_string("Speeds up lookups"));
	json_object_array_add(kp, json_object_new_string("Slows down writes"));
	q.key_points = kp;
	out = NULL;
	if (ai_answer_evaluation(answer, &q, "An index is a B-tree that speeds up reads.", 1,
	    "gemini", &out, why, sizeof(why)) == 0)
		json_object_put(out);
	local = json_tokener_parse("{\"total_score\":50,\"behavioral_score\":null,"
	    "\"technical_score\":50,\"feedback\":\"x\",\"strengths\":[],\"weaknesses\":[],"
	    "\"recommendations\":[],\"provider\":\"local\"}");
	out = NULL;
	if (ai_answer_summary(answer, local, "openai", &out, why, sizeof(why)) == 0)
		json_object_put(out);
	json_object_put(local);
	json_object_put(kp);
	json_object_put(answer);
	return 0;
}
