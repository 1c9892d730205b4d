/* cx_ai: the AI interviewer — choose questions, evaluate answers, summarize an interview. */
#ifndef CX_AI_H
#define CX_AI_H

#include <json-c/json.h>
#include <stddef.h>

#include "cx_error.h"

/* One provider, loaded once per worker process and read-only afterwards (safe to share
 * between requests of one process). Providers sit behind a table of operations
 * (lib/cx_ai_impl.h); "local" is built in and needs no network. */
struct cx_ai;

/* Bounds on what the interviewer accepts from outside. */
#define CX_AI_MAX_QUESTIONS  30
#define CX_AI_MAX_FOCUS      20
#define CX_AI_MAX_ANSWER     (64 * 1024)   /* bytes of an answer that are read */
#define CX_AI_MAX_CONTEXT    (64 * 1024)   /* bytes of job description / resume read */

struct cx_redis;
struct cx_config;

/* Open the provider configured by cfg (AI_PROVIDER and the keys/URLs/models/timeouts of
 * cx_config: openai_api_key, openai_base_url, openai_model, gemini_*, ai_timeout_seconds,
 * ai_connect_timeout_seconds, ai_max_retries, ai_cache_ttl_seconds, schema_dir). The local
 * bank is always loaded from <schema_dir>/questions and <schema_dir>/skills.json (it is
 * the fallback); prompts from <schema_dir>/prompts (remote providers only; a missing or
 * malformed prompt file is an error naming the file). cache (borrowed, may be NULL: no
 * caching) is used for cache:ai:* entries and must outlive the provider. *out is the
 * caller's (cx_ai_free) and set only on success.
 * Remote calls that fail (after retries) or answer something that does not validate are
 * answered by the local provider instead: the result then has provider "local",
 * "fallback_from" ("openai"|"gemini") and a short "fallback_reason"; remote-generated
 * questions carry "provider" too. */
int cx_ai_open(const struct cx_config *cfg, struct cx_redis *cache, struct cx_ai **out,
    struct cx_error *err);

/* Load the local provider's bank: every <questions_dir>/NAME.json (one area each) and the
 * skill taxonomy at skills_path. A malformed or unreadable file is VALIDATION_ERROR (bad
 * content) or INTERNAL_ERROR (unreadable) whose message names the file. *out is the
 * caller's (cx_ai_free) and set only on success. */
int cx_ai_open_local(const char *questions_dir, const char *skills_path, struct cx_ai **out,
    struct cx_error *err);
void cx_ai_free(struct cx_ai *ai);                        /* NULL is fine */
/* "local" | "openai" | "gemini": the configured provider, also when a call fell back.
 * Static string. */
const char *cx_ai_provider_name(const struct cx_ai *ai);

/* What a session asks for. All strings are borrowed for the call. */
struct cx_ai_spec {
	const char *mode;            /* "behavioral" | "technical" */
	const char *level;           /* "junior" | "mid" | "senior" */
	const char *job_title, *job_description, *resume_text;  /* may be NULL/empty */
	const char *const *focus_areas; size_t nfocus;          /* area ids or skill ids/aliases */
	int question_count;          /* 1..CX_AI_MAX_QUESTIONS */
	int duration_minutes;        /* the interview's length; 0 = not limited. Questions are
	                                chosen so their time_minutes fit in it when the bank
	                                allows */
	const char *seed;            /* e.g. the session id: same seed + spec = same questions */
};

/* Choose the session's questions. *out (caller's) is a JSON array of
 *   {id "q1".."qN", source_id, area, mode, type, content, key_points[], competency|null,
 *    skills[], time_minutes, matched_skills[], level, level_note?}
 * in the order they should be asked. "level" is the bank level the question was taken at;
 * when it differs from the session's level (the bank had too few fitting questions)
 * "level_note" says so in words. Fewer than question_count entries are returned only when
 * the whole bank has fewer usable questions. VALIDATION_ERROR names a bad spec field;
 * SERVICE_UNAVAILABLE when nothing at all fits. */
int cx_ai_generate_questions(struct cx_ai *ai, const struct cx_ai_spec *spec,
    json_object **out, struct cx_error *err);

/* Evaluate one answer (answer_type "text" | "voice" | "code") to one question object as
 * generate produced it (borrowed; the provider finds keywords and follow-up by source_id).
 * *out (caller's):
 *   {score 0..100, provider, rubric:{coverage, structure, specificity, length, clarity:
 *    {score 0..100, weight 0..1}}, covered[], missing[], strengths[], improvements[],
 *    explanation, follow_up: null | {content, gap}}
 * gap is what the answer left out: one of the question's key points (its exact text),
 * "result" (a story without a measurable result) or "specifics" (no concrete example).
 * follow_up is always null when allow_follow_up is 0 and for a question that is itself a
 * follow-up (has "gap"). answer may be NULL (= empty). */
int cx_ai_evaluate_answer(struct cx_ai *ai, json_object *question, const char *answer,
    const char *answer_type, int allow_follow_up, json_object **out, struct cx_error *err);

/* Summarize a finished interview. questions: the array generate produced; feedbacks: an
 * array of the same length whose entries are evaluate's objects or null (unanswered,
 * counts as 0). Both borrowed. Scores are averages weighted by each question's
 * time_minutes. *out (caller's):
 *   {total_score, behavioral_score|null, technical_score|null, feedback, strengths[],
 *    weaknesses[], recommendations[], provider} */
int cx_ai_summarize(struct cx_ai *ai, json_object *questions, json_object *feedbacks,
    json_object **out, struct cx_error *err);

/* Build the follow-up question that probes the gap named by feedback.follow_up, for the
 * parent question (both borrowed; feedback is what cx_ai_evaluate_answer returned for the
 * parent, with follow_up non-null). *out (caller's) is a question object that
 * cx_ai_evaluate_answer can evaluate on its own (same provider or local):
 *   {content, gap, type (parent's), mode, area, competency, skills, time_minutes (2..5),
 *    key_points[] (what a good answer to the follow-up covers), keywords[][] (aligned
 *    with key_points, when the local provider knows them), level?}
 * It has no source_id (evaluation must not score it against all the parent's key points).
 * Local evaluation of it expects a shorter answer and never proposes a follow-up of its
 * own. The caller adds id, parent_id, is_follow_up. VALIDATION_ERROR (field "feedback")
 * if feedback has no follow_up {content, gap}. */
int cx_ai_follow_up_question(struct cx_ai *ai, json_object *parent, json_object *feedback,
    json_object **out, struct cx_error *err);

#endif
