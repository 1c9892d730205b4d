/* cx_ai_followup: the follow-up question that probes one gap of an answer, built so the
 * local rubric scores it on that gap alone (every provider uses this). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_ai_impl.h"
#include "cx_ai_local.h"
#include "cx_json.h"

/* What a good answer to a "result" or "specifics" follow-up covers. */
#define RESULT_POINT    "A measurable result: what changed because of what you did, with a " \
	"number (time saved, % improvement, users affected)"
#define SPECIFICS_POINT "A concrete example: a named project, technology or number"

static json_object *
string_array(const char *const *list)
{
	json_object *a = json_object_new_array();

	for (; a != NULL && *list != NULL; list++)
		json_object_array_add(a, json_object_new_string(*list));
	return a;
}

static json_object *
copy_of(json_object *src)
{
	json_object *dst = NULL;

	if (src == NULL || json_object_deep_copy(src, &dst, NULL) != 0)
		return NULL;
	return dst;
}

static int
index_of(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; json_object_is_type(arr, json_type_array) &&
	    i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return (int)i;
	return -1;
}

/* 2..5 minutes: about half the parent's time. */
static int
follow_up_minutes(json_object *parent, const struct bq *b)
{
	json_object *v = json_object_object_get(parent, "time_minutes");
	int t = b != NULL ? b->time_minutes : json_object_is_type(v, json_type_int) ?
	    json_object_get_int(v) : 4;

	t = (t + 1) / 2;
	return t < 2 ? 2 : t > 5 ? 5 : t;
}

/* The key points (and keywords, may stay NULL) that stand for gap. */
static int
gap_points(const struct bq *b, json_object *parent, const char *gap, json_object **kps,
    json_object **kws)
{
	static const char *const result_point[] = { RESULT_POINT, NULL };
	static const char *const specifics_point[] = { SPECIFICS_POINT, NULL };
	json_object *pkps = b != NULL ? b->key_points : json_object_object_get(parent,
	    "key_points");
	json_object *pkws = b != NULL ? b->keywords : json_object_object_get(parent,
	    "keywords");
	int k;

	*kps = *kws = NULL;
	if (strcmp(gap, "result") == 0) {
		*kps = string_array(result_point);
		*kws = json_object_new_array();
		if (*kws != NULL)
			json_object_array_add(*kws, string_array(ai_result_phrases));
	} else if (strcmp(gap, "specifics") == 0) {
		*kps = string_array(specifics_point);   /* the rubric credits numbers, skills */
	} else {
		const char *one[] = { gap, NULL };

		*kps = string_array(one);
		k = index_of(pkps, gap);
		if (k >= 0 && json_object_is_type(pkws, json_type_array) &&
		    json_object_array_length(pkws) == json_object_array_length(pkps) &&
		    ai_is_string_array(json_object_array_get_idx(pkws, (size_t)k), 1)) {
			*kws = json_object_new_array();
			if (*kws != NULL)
				json_object_array_add(*kws, copy_of(
				    json_object_array_get_idx(pkws, (size_t)k)));
		}
	}
	return *kps != NULL ? 0 : -1;
}

void
ai_gap_question(char *buf, size_t size, const char *point)
{
	snprintf(buf, size, "Your answer did not cover \"%s\". Can you walk me through it?",
	    point);
}

int
ai_local_follow_up(struct cx_ai *ai, json_object *parent, json_object *follow_up,
    json_object **out, struct cx_error *err)
{
	struct local *L = ai_local_impl(ai);
	const struct bq *b;
	const char *content, *gap, *mode, *level;
	json_object *o = NULL, *kps = NULL, *kws = NULL;
	char buf[400];

	if (L == NULL)
		return cx_error_internal(err, "follow-up: no local provider");
	b = ai_bank_find(L, cx_json_str(parent, "source_id"));
	content = cx_json_str(follow_up, "content");
	gap = cx_json_str(follow_up, "gap");
	mode = b != NULL ? b->mode : cx_json_str(parent, "mode");
	if (mode == NULL)
		mode = cx_json_str(parent, "competency") != NULL ? "behavioral" : "technical";
	/* The bank's own follow-up goes deeper on the topic rather than at this gap: ask
	 * about the gap itself, as the rubric does for every other key point. */
	if (b != NULL && b->follow_up != NULL && strcmp(content, b->follow_up) == 0 &&
	    strcmp(gap, "result") != 0 && strcmp(gap, "specifics") != 0) {
		ai_gap_question(buf, sizeof(buf), gap);
		content = buf;
	}
	if (gap_points(b, parent, gap, &kps, &kws) != 0 ||
	    (o = json_object_new_object()) == NULL) {
		json_object_put(kps);
		json_object_put(kws);
		return cx_error_internal(err, "out of memory building a follow-up");
	}
	json_object_object_add(o, "content", json_object_new_string(content));
	json_object_object_add(o, "gap", json_object_new_string(gap));
	json_object_object_add(o, "type", json_object_new_string(b != NULL ? b->type :
	    cx_json_str(parent, "type") != NULL ? cx_json_str(parent, "type") : "text"));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "area", json_object_new_string(b != NULL ? b->area :
	    cx_json_str(parent, "area") != NULL ? cx_json_str(parent, "area") : "general"));
	json_object_object_add(o, "competency", b != NULL ? (b->competency != NULL ?
	    json_object_new_string(b->competency) : NULL) :
	    copy_of(json_object_object_get(parent, "competency")));
	json_object_object_add(o, "skills", b != NULL ? copy_of(b->skills) :
	    ai_is_string_array(json_object_object_get(parent, "skills"), 0) ?
	    copy_of(json_object_object_get(parent, "skills")) : json_object_new_array());
	json_object_object_add(o, "time_minutes", json_object_new_int(
	    follow_up_minutes(parent, b)));
	json_object_object_add(o, "key_points", kps);
	if (kws != NULL)
		json_object_object_add(o, "keywords", kws);
	level = cx_json_str(parent, "level");
	if (level != NULL)
		json_object_object_add(o, "level", json_object_new_string(level));
	*out = o;
	return CX_OK;
}
