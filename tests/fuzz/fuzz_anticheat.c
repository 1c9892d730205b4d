/* Fuzz target: an anti-cheat batch (POST /api/interview/sessions/{id}/events) checked and
 * applied to a fresh chain, and the canonical form of each event. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cx_anticheat.h"
#include "cx_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cx_ac_policy pol;
	static int ready;
	struct cx_error err = { 0 };
	struct cx_ac_outcome out;
	json_object *body = NULL, *state = NULL, *log, *events;
	size_t i;

	if (!ready) {
		if (cx_ac_policy_init(&pol, NULL, 3, 1, 1, &err) != CX_OK)
			abort();
		ready = 1;
	}
	if (cx_json_parse((const char *)data, size, &body, &err) != CX_OK)
		return 0;
	events = json_object_object_get(body, "events");
	if (json_object_is_type(events, json_type_array))
		for (i = 0; i < json_object_array_length(events); i++) {
			char *c = cx_ac_canonical(json_object_array_get_idx(events, i), NULL);

			free(c);
		}
	if (cx_ac_state_new(&state, NULL) == CX_OK) {
		log = json_object_new_array();
		memset(&out, 0, sizeof(out));
		if (cx_ac_apply(&pol, state, log, events, "2026-01-01T00:00:00.000Z", &out,
		    NULL) == CX_OK)
			cx_ac_outcome_free(&out);
		json_object_put(log);
		json_object_put(state);
	}
	json_object_put(body);
	return 0;
}
