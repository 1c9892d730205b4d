/* cx_ai_hosted: the remote providers ("openai", "gemini") behind the cx_ai table — prompts
 * out, checked answers in, and the local provider whenever a call fails. Internal. */
#ifndef CX_AI_HOSTED_H
#define CX_AI_HOSTED_H

#include <json-c/json.h>
#include <stddef.h>

#include "cx_ai.h"
#include "cx_error.h"

struct cx_config;
struct cx_redis;
struct ai_wire;

/* Open the remote provider of wire with cfg's key, base URL, model, timeouts, retries and
 * cache TTL, and the prompts of <cfg->schema_dir>/prompts. local (the fallback) passes to
 * the new provider, also on failure. cache is borrowed (NULL: no cache). */
int ai_hosted_open(const struct cx_config *cfg, const struct ai_wire *wire,
    struct cx_ai *local, struct cx_redis *cache, struct cx_ai **out, struct cx_error *err);

/* The local provider a remote one falls back to (borrowed); NULL when ai is not remote. */
struct cx_ai *ai_hosted_local(struct cx_ai *ai);

/* What an evaluation is about: the question's fields, from the question object or, for a
 * bank question that only names its source_id, from the bank. All borrowed. */
struct ai_qview {
	const char *content, *mode, *type, *area, *competency;
	json_object *key_points;       /* array of strings, at least one */
	int behavioral, coding, voice, is_follow_up;
};

/* ---- cx_ai_answers.c: a model's answer checked and turned into the shapes cx_ai.h
 * promises. Each returns 0 and *out (caller's), or -1 with why (short: "invalid answer:
 * ..."), never keeping provider text in why. */

int ai_answer_questions(json_object *answer, const struct cx_ai_spec *spec,
    const char *provider, json_object **out, char *why, size_t whylen);
int ai_answer_evaluation(json_object *answer, const struct ai_qview *q, const char *text,
    int allow_follow_up, const char *provider, json_object **out, char *why, size_t whylen);
/* local_summary (borrowed) holds the scores; the model supplies the words. */
int ai_answer_summary(json_object *answer, json_object *local_summary, const char *provider,
    json_object **out, char *why, size_t whylen);

/* The evaluate schema for one question: tmpl (borrowed) with covered.items.enum = the key
 * points and follow_up.gap.enum = the key points, "result" and "specifics". Caller's. */
json_object *ai_evaluate_schema(json_object *tmpl, json_object *key_points);

/* Mark a local result as a fallback: provider "local", fallback_from, fallback_reason. */
void ai_mark_fallback(json_object *result, const char *from, const char *why);

#endif
