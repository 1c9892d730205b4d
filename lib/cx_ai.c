/* cx_ai: argument checks shared by every provider, then dispatch through its table. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_ai_hosted.h"
#include "cx_ai_impl.h"
#include "cx_ai_local.h"
#include "cx_ai_remote.h"
#include "cx_config.h"
#include "cx_json.h"

int
cx_ai_new(const struct cx_ai_ops *ops, void *impl, struct cx_ai **out, struct cx_error *err)
{
	struct cx_ai *ai;

	ai = calloc(1, sizeof(*ai));
	if (ai == NULL) {
		ops->free(impl);
		return cx_error_internal(err, "out of memory creating AI provider");
	}
	ai->ops = ops;
	ai->impl = impl;
	*out = ai;
	return CX_OK;
}

void
cx_ai_free(struct cx_ai *ai)
{
	if (ai == NULL)
		return;
	ai->ops->free(ai->impl);
	free(ai);
}

const char *
cx_ai_provider_name(const struct cx_ai *ai)
{
	return ai != NULL ? ai->ops->name : "none";
}

static int
one_of(const char *s, const char *const *allowed)
{
	if (s == NULL)
		return 0;
	for (; *allowed != NULL; allowed++)
		if (strcmp(s, *allowed) == 0)
			return 1;
	return 0;
}

static const char *const modes[] = { "behavioral", "technical", NULL };
static const char *const levels[] = { "junior", "mid", "senior", NULL };
static const char *const answer_types[] = { "text", "voice", "code", NULL };

int
cx_ai_generate_questions(struct cx_ai *ai, const struct cx_ai_spec *spec,
    json_object **out, struct cx_error *err)
{
	size_t i;

	if (ai == NULL || spec == NULL || out == NULL)
		return cx_error_internal(err, "cx_ai_generate_questions: NULL argument");
	if (!one_of(spec->mode, modes))
		return cx_error_field(err, "mode", "must be behavioral or technical");
	if (!one_of(spec->level, levels))
		return cx_error_field(err, "level", "must be junior, mid or senior");
	if (spec->question_count < 1 || spec->question_count > CX_AI_MAX_QUESTIONS)
		return cx_error_field(err, "question_count", "must be between 1 and %d",
		    CX_AI_MAX_QUESTIONS);
	if (spec->duration_minutes < 0 || spec->duration_minutes > 24 * 60)
		return cx_error_field(err, "duration_minutes", "must be between 0 and %d",
		    24 * 60);
	if (spec->nfocus > CX_AI_MAX_FOCUS)
		return cx_error_field(err, "focus_areas", "at most %d entries",
		    CX_AI_MAX_FOCUS);
	for (i = 0; i < spec->nfocus; i++)
		if (spec->focus_areas == NULL || spec->focus_areas[i] == NULL ||
		    strlen(spec->focus_areas[i]) > 100)
			return cx_error_field(err, "focus_areas",
			    "entries must be strings of at most 100 bytes");
	return ai->ops->generate(ai->impl, spec, out, err);
}

int
cx_ai_evaluate_answer(struct cx_ai *ai, json_object *question, const char *answer,
    const char *answer_type, int allow_follow_up, json_object **out, struct cx_error *err)
{
	if (ai == NULL || out == NULL)
		return cx_error_internal(err, "cx_ai_evaluate_answer: NULL argument");
	if (!json_object_is_type(question, json_type_object))
		return cx_error_field(err, "question", "must be a question object");
	if (answer_type == NULL || *answer_type == '\0')
		answer_type = "text";
	else if (strcmp(answer_type, "coding") == 0)
		answer_type = "code";
	if (!one_of(answer_type, answer_types))
		return cx_error_field(err, "answer_type", "must be text, voice or code");
	return ai->ops->evaluate(ai->impl, question, answer != NULL ? answer : "", answer_type,
	    allow_follow_up != 0, out, err);
}

int
cx_ai_summarize(struct cx_ai *ai, json_object *questions, json_object *feedbacks,
    json_object **out, struct cx_error *err)
{
	if (ai == NULL || out == NULL)
		return cx_error_internal(err, "cx_ai_summarize: NULL argument");
	if (!json_object_is_type(questions, json_type_array))
		return cx_error_field(err, "questions", "must be an array");
	if (!json_object_is_type(feedbacks, json_type_array) ||
	    json_object_array_length(feedbacks) != json_object_array_length(questions))
		return cx_error_field(err, "feedbacks",
		    "must be an array with one entry per question");
	if (json_object_array_length(questions) > CX_AI_MAX_QUESTIONS)
		return cx_error_field(err, "questions", "at most %d questions",
		    CX_AI_MAX_QUESTIONS);
	return ai->ops->summarize(ai->impl, questions, feedbacks, out, err);
}

int
cx_ai_open(const struct cx_config *cfg, struct cx_redis *cache, struct cx_ai **out,
    struct cx_error *err)
{
	const char *provider;
	const struct ai_wire *wire;
	struct cx_ai *local = NULL;
	char qdir[4096], skills[4096];
	int rc;

	if (cfg == NULL || out == NULL)
		return cx_error_internal(err, "cx_ai_open: NULL argument");
	provider = cfg->ai_provider != NULL ? cfg->ai_provider : "local";
	if (strcmp(provider, "local") == 0)
		wire = NULL;
	else if (strcmp(provider, "openai") == 0)
		wire = &ai_wire_openai;
	else if (strcmp(provider, "gemini") == 0)
		wire = &ai_wire_gemini;
	else
		return cx_error_set(err, CX_EVALIDATION,
		    "AI_PROVIDER: must be local, openai or gemini");
	if (cfg->schema_dir == NULL ||
	    (size_t)snprintf(qdir, sizeof(qdir), "%s/questions", cfg->schema_dir) >=
	    sizeof(qdir) ||
	    (size_t)snprintf(skills, sizeof(skills), "%s/skills.json", cfg->schema_dir) >=
	    sizeof(skills))
		return cx_error_set(err, CX_EVALIDATION, "CX_SCHEMA_DIR: not set or too long");
	rc = cx_ai_open_local(qdir, skills, &local, err);
	if (rc != CX_OK)
		return rc;
	if (wire == NULL) {
		*out = local;
		return CX_OK;
	}
	return ai_hosted_open(cfg, wire, local, cache, out, err);
}

int
cx_ai_follow_up_question(struct cx_ai *ai, json_object *parent, json_object *feedback,
    json_object **out, struct cx_error *err)
{
	json_object *fu = json_object_object_get(feedback, "follow_up");
	const char *content = cx_json_str(fu, "content"), *gap = cx_json_str(fu, "gap");
	struct cx_ai *local;

	if (ai == NULL || out == NULL)
		return cx_error_internal(err, "cx_ai_follow_up_question: NULL argument");
	if (!json_object_is_type(parent, json_type_object))
		return cx_error_field(err, "parent", "must be a question object");
	if (!json_object_is_type(fu, json_type_object) || content == NULL || *content == '\0' ||
	    gap == NULL || *gap == '\0')
		return cx_error_field(err, "feedback", "has no follow_up {content, gap}");
	if (strlen(content) > 1000 || strlen(gap) > 300)
		return cx_error_field(err, "feedback", "follow_up is too long");
	/* Remote providers already chose the follow-up in evaluate; the question around it
	 * is the local provider's, which knows the bank's keywords. */
	local = ai_hosted_local(ai);
	return ai_local_follow_up(local != NULL ? local : ai, parent, fu, out, err);
}
