/* cx_ai_hosted: the remote providers — building the prompts of each operation, one call
 * through cache and HTTP, and the local provider's answer whenever that call fails. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_ai_hosted.h"
#include "cx_ai_impl.h"
#include "cx_ai_local.h"
#include "cx_ai_prompt.h"
#include "cx_ai_remote.h"
#include "cx_config.h"
#include "cx_json.h"
#include "cx_log.h"

/* How freely the model may word things: a little variety in questions, steady grading. */
static const double op_temperature[AI_OP_N] = { 0.7, 0.2, 0.3 };

struct hosted {
	const struct ai_wire *wire;
	struct cx_ai *local;           /* owned: the fallback and the bank */
	struct cx_redis *cache;        /* borrowed */
	struct ai_prompts *prompts;    /* owned */
	char *url, *auth, *model;
	const char *headers[4];
	struct ai_http http;
	int cache_ttl;
};

static const struct cx_ai_ops openai_ops, gemini_ops;

struct cx_ai *
ai_hosted_local(struct cx_ai *ai)
{
	if (ai == NULL || (ai->ops != &openai_ops && ai->ops != &gemini_ops))
		return NULL;
	return ((struct hosted *)ai->impl)->local;
}

void
ai_mark_fallback(json_object *result, const char *from, const char *why)
{
	json_object_object_add(result, "provider", json_object_new_string("local"));
	json_object_object_add(result, "fallback_from", json_object_new_string(from));
	json_object_object_add(result, "fallback_reason", json_object_new_string(why));
}

/* ---------------------------------------------------------------- one call */

typedef int (*check_fn)(json_object *answer, void *ctx, json_object **out, char *why,
    size_t whylen);

static int
parse_and_check(const char *text, size_t len, check_fn check, void *ctx, json_object **out,
    char *why, size_t whylen)
{
	struct cx_error perr = { 0 };
	json_object *answer = NULL;
	int rc;

	if (cx_json_parse(text, len, &answer, &perr) != CX_OK) {
		snprintf(why, whylen, "malformed answer");
		return -1;
	}
	rc = check(answer, ctx, out, why, whylen);
	json_object_put(answer);
	return rc;
}

/* Send user (with the system prompt and schema) to the provider, or take the cached answer
 * of the same request; the answer must pass check. 0 and *out, or -1 and why. Only answers
 * that passed are cached. */
static int
remote_call(struct hosted *H, enum ai_op op, const char *user, json_object *schema,
    check_fn check, void *ctx, json_object **out, char *why, size_t whylen)
{
	json_object *req;
	struct ai_reply reply = { 0 };
	char key[AI_CACHE_KEY_SIZE], *cached = NULL, *text = NULL;
	const char *body;
	size_t blen = 0, clen = 0;
	int use_cache = H->cache != NULL && H->cache_ttl > 0, rc = -1;

	req = H->wire->request(H->model, H->prompts->system, user, ai_op_name(op), schema,
	    op_temperature[op]);
	body = req != NULL ? cx_json_text(req, &blen) : NULL;
	if (body == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	ai_cache_key(H->wire->name, H->model, ai_op_name(op), body, blen, key);
	if (use_cache && (cached = ai_cache_get(H->cache, key, &clen)) != NULL) {
		if (parse_and_check(cached, clen, check, ctx, out, why, whylen) == 0) {
			cx_logf(CX_LOG_DEBUG, "AI %s: %s answered from cache", H->wire->name,
			    ai_op_name(op));
			rc = 0;
			goto out;
		}
		cx_logf(CX_LOG_WARN, "AI %s: cached %s answer no longer valid (%s)",
		    H->wire->name, ai_op_name(op), why);
	}
	if (ai_http_post(&H->http, body, blen, &reply) != 0) {
		snprintf(why, whylen, "%s", reply.why);
		goto out;
	}
	if (H->wire->extract(reply.body, reply.len, &text, why, whylen) != 0 ||
	    parse_and_check(text, strlen(text), check, ctx, out, why, whylen) != 0)
		goto out;
	if (use_cache)
		ai_cache_put(H->cache, key, text, strlen(text), H->cache_ttl);
	rc = 0;
out:
	if (rc != 0)
		cx_logf(CX_LOG_WARN, "AI %s: %s failed after %d attempt%s: %s; the local "
		    "provider answers", H->wire->name, ai_op_name(op), reply.attempts,
		    reply.attempts == 1 ? "" : "s", why);
	ai_reply_free(&reply);
	free(cached);
	free(text);
	json_object_put(req);
	return rc;
}

/* ---------------------------------------------------------------- generate */

struct gen_ctx {
	const struct cx_ai_spec *spec;
	const char *provider;
};

static int
check_questions(json_object *answer, void *ctx, json_object **out, char *why, size_t whylen)
{
	struct gen_ctx *g = ctx;

	return ai_answer_questions(answer, g->spec, g->provider, out, why, whylen);
}

/* The focus areas as a JSON array of cleaned strings (we built it: inserted as is). */
static char *
focus_json(const struct cx_ai_spec *spec)
{
	json_object *arr = json_object_new_array();
	char *s = NULL;
	size_t i;

	for (i = 0; arr != NULL && i < spec->nfocus; i++) {
		char *f = ai_text_clean(spec->focus_areas[i], 100);

		if (f != NULL)
			json_object_array_add(arr, json_object_new_string(f));
		free(f);
	}
	if (arr != NULL)
		s = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return s;
}

static int
hosted_generate(void *impl, const struct cx_ai_spec *spec, json_object **out,
    struct cx_error *err)
{
	struct hosted *H = impl;
	struct gen_ctx g = { spec, H->wire->name };
	char *title = ai_text_clean(spec->job_title, 1000);
	char *jd = ai_text_clean(spec->job_description, CX_AI_MAX_CONTEXT);
	char *resume = ai_text_clean(spec->resume_text, CX_AI_MAX_CONTEXT);
	char *seed = ai_text_clean(spec->seed, 100), *focus = focus_json(spec), *user = NULL;
	char count[16], minutes[16], why[64] = "out of memory";
	json_object *arr = NULL;
	size_t i;
	int rc;

	snprintf(count, sizeof(count), "%d", spec->question_count);
	if (spec->duration_minutes > 0)
		snprintf(minutes, sizeof(minutes), "%d", spec->duration_minutes);
	else
		snprintf(minutes, sizeof(minutes), "%d", 15 * spec->question_count);
	if (title != NULL && jd != NULL && resume != NULL && seed != NULL && focus != NULL) {
		const struct ai_var vars[] = {
			{ "mode", spec->mode, 0 }, { "level", spec->level, 0 },
			{ "question_count", count, 0 }, { "duration_minutes", minutes, 0 },
			{ "job_title", title, 1 },
			{ "job_description", jd, 1 }, { "resume", resume, 1 },
			{ "focus_areas", focus, 0 }, { "seed", seed, 1 },
		};

		user = ai_prompt_fill(H->prompts, AI_OP_GENERATE, vars,
		    sizeof(vars) / sizeof(vars[0]));
	}
	if (user != NULL && remote_call(H, AI_OP_GENERATE, user,
	    H->prompts->schema[AI_OP_GENERATE], check_questions, &g, out, why,
	    sizeof(why)) == 0) {
		rc = CX_OK;
		goto out;
	}
	rc = H->local->ops->generate(H->local->impl, spec, &arr, err);
	if (rc == CX_OK) {
		for (i = 0; i < json_object_array_length(arr); i++)
			ai_mark_fallback(json_object_array_get_idx(arr, i), H->wire->name, why);
		*out = arr;
	}
out:
	free(title);
	free(jd);
	free(resume);
	free(seed);
	free(focus);
	free(user);
	return rc;
}

/* ---------------------------------------------------------------- evaluate */

static int
str_is(const char *s, const char *v)
{
	return s != NULL && strcmp(s, v) == 0;
}

/* Fill v from the question, or from the bank when it names a bank question. -1 when
 * there is nothing to evaluate against (the local provider reports why). */
static int
question_view(struct hosted *H, json_object *q, const char *answer_type, struct ai_qview *v)
{
	const struct bq *b = ai_bank_find(H->local->impl, cx_json_str(q, "source_id"));
	json_object *fu = json_object_object_get(q, "is_follow_up");

	memset(v, 0, sizeof(*v));
	v->content = cx_json_str(q, "content");
	v->mode = cx_json_str(q, "mode");
	v->type = cx_json_str(q, "type");
	v->area = cx_json_str(q, "area");
	v->competency = cx_json_str(q, "competency");
	v->key_points = json_object_object_get(q, "key_points");
	if (b != NULL) {
		v->content = b->content;
		v->mode = b->mode;
		v->type = b->type;
		v->area = b->area;
		v->competency = b->competency;
		v->key_points = b->key_points;
	}
	if (v->content == NULL || !ai_is_string_array(v->key_points, 1) ||
	    json_object_array_length(v->key_points) > BANK_MAX_KEYPOINTS)
		return -1;
	v->behavioral = v->mode != NULL ? str_is(v->mode, "behavioral") : v->competency != NULL;
	v->coding = str_is(v->type, "coding") || str_is(answer_type, "code");
	v->voice = str_is(answer_type, "voice");
	v->is_follow_up = cx_json_str(q, "gap") != NULL || json_object_get_boolean(fu);
	return 0;
}

struct eval_ctx {
	const struct ai_qview *q;
	const char *answer;
	int allow_follow_up;
	const char *provider;
};

static int
check_evaluation(json_object *answer, void *ctx, json_object **out, char *why, size_t whylen)
{
	struct eval_ctx *e = ctx;

	return ai_answer_evaluation(answer, e->q, e->answer, e->allow_follow_up, e->provider,
	    out, why, whylen);
}

static int
hosted_evaluate(void *impl, json_object *question, const char *answer,
    const char *answer_type, int allow_follow_up, json_object **out, struct cx_error *err)
{
	struct hosted *H = impl;
	struct ai_qview v;
	struct eval_ctx e;
	json_object *schema = NULL, *fb = NULL;
	char *content = NULL, *text = NULL, *user = NULL, why[64] = "out of memory";
	const char *kp;
	int rc;

	if (question_view(H, question, answer_type, &v) != 0)
		return H->local->ops->evaluate(H->local->impl, question, answer, answer_type,
		    allow_follow_up, out, err);
	allow_follow_up = allow_follow_up && !v.is_follow_up;
	e = (struct eval_ctx){ &v, answer, allow_follow_up, H->wire->name };
	content = ai_text_clean(v.content, 8192);
	text = ai_text_clean(answer, CX_AI_MAX_ANSWER);
	kp = json_object_to_json_string_ext(v.key_points, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	schema = ai_evaluate_schema(H->prompts->schema[AI_OP_EVALUATE], v.key_points);
	if (content != NULL && text != NULL && kp != NULL && schema != NULL) {
		const struct ai_var vars[] = {
			{ "mode", v.behavioral ? "behavioral" : "technical", 0 },
			{ "area", v.area != NULL ? v.area : "general", 1 },
			{ "question", content, 1 },
			{ "question_type", v.type != NULL ? v.type : "text", 0 },
			{ "competency", v.competency != NULL ? v.competency : "none", 1 },
			{ "key_points", kp, 0 }, { "answer", text, 1 },
			{ "answer_type", answer_type, 0 },
			{ "allow_follow_up", allow_follow_up ? "yes" : "no", 0 },
		};

		user = ai_prompt_fill(H->prompts, AI_OP_EVALUATE, vars,
		    sizeof(vars) / sizeof(vars[0]));
	}
	if (user != NULL && remote_call(H, AI_OP_EVALUATE, user, schema, check_evaluation, &e,
	    out, why, sizeof(why)) == 0) {
		rc = CX_OK;
		goto out;
	}
	rc = H->local->ops->evaluate(H->local->impl, question, answer, answer_type,
	    allow_follow_up, &fb, err);
	if (rc == CX_OK) {
		ai_mark_fallback(fb, H->wire->name, why);
		*out = fb;
	}
out:
	json_object_put(schema);
	free(content);
	free(text);
	free(user);
	return rc;
}

/* ---------------------------------------------------------------- summarize */

struct sum_ctx {
	json_object *local_summary;
	const char *provider;
};

static int
check_summary(json_object *answer, void *ctx, json_object **out, char *why, size_t whylen)
{
	struct sum_ctx *s = ctx;

	return ai_answer_summary(answer, s->local_summary, s->provider, out, why, whylen);
}

static void
copy_field(json_object *dst, json_object *src, const char *name)
{
	json_object *v = json_object_object_get(src, name);

	json_object_object_add(dst, name, json_object_get(v));
}

/* What the model sees of the interview: each question with its score and the key points
 * covered and missed (not the answers themselves). */
static char *
interview_json(struct hosted *H, json_object *questions, json_object *feedbacks)
{
	json_object *arr = json_object_new_array();
	char *s = NULL;
	size_t i;

	for (i = 0; arr != NULL && i < json_object_array_length(questions); i++) {
		json_object *q = json_object_array_get_idx(questions, i);
		json_object *fb = json_object_array_get_idx(feedbacks, i);
		json_object *o = json_object_new_object();
		const struct bq *b = ai_bank_find(H->local->impl, cx_json_str(q, "source_id"));
		const char *content = b != NULL ? b->content : cx_json_str(q, "content");

		if (o == NULL)
			break;
		json_object_object_add(o, "question", json_object_new_string(
		    content != NULL ? content : ""));
		copy_field(o, q, "area");
		json_object_object_add(o, "mode", json_object_new_string(b != NULL ? b->mode :
		    cx_json_str(q, "mode") != NULL ? cx_json_str(q, "mode") : "technical"));
		if (json_object_is_type(fb, json_type_object)) {
			copy_field(o, fb, "score");
			copy_field(o, fb, "covered");
			copy_field(o, fb, "missing");
		} else {
			json_object_object_add(o, "score", NULL);
			json_object_object_add(o, "answered", json_object_new_boolean(0));
		}
		json_object_array_add(arr, o);
	}
	if (arr != NULL)
		s = ai_text_clean(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE), 4 * CX_AI_MAX_CONTEXT);
	json_object_put(arr);
	return s;
}

static const char *
score_text(json_object *summary, const char *field, char *buf, size_t size)
{
	json_object *v = json_object_object_get(summary, field);

	if (!json_object_is_type(v, json_type_int))
		return "null";
	snprintf(buf, size, "%d", json_object_get_int(v));
	return buf;
}

static int
hosted_summarize(void *impl, json_object *questions, json_object *feedbacks,
    json_object **out, struct cx_error *err)
{
	struct hosted *H = impl;
	json_object *local_sum = NULL;
	struct sum_ctx s;
	char *interview = NULL, *user = NULL, why[64] = "out of memory";
	char tot[16], beh[16], tech[16];
	int rc;

	/* The scores are the same arithmetic whoever words the summary. */
	rc = H->local->ops->summarize(H->local->impl, questions, feedbacks, &local_sum, err);
	if (rc != CX_OK)
		return rc;
	s = (struct sum_ctx){ local_sum, H->wire->name };
	interview = interview_json(H, questions, feedbacks);
	if (interview != NULL) {
		const struct ai_var vars[] = {
			{ "interview", interview, 0 },
			{ "total_score", score_text(local_sum, "total_score", tot, sizeof(tot)), 0 },
			{ "behavioral_score", score_text(local_sum, "behavioral_score", beh,
			    sizeof(beh)), 0 },
			{ "technical_score", score_text(local_sum, "technical_score", tech,
			    sizeof(tech)), 0 },
		};

		user = ai_prompt_fill(H->prompts, AI_OP_SUMMARIZE, vars,
		    sizeof(vars) / sizeof(vars[0]));
	}
	if (user != NULL && remote_call(H, AI_OP_SUMMARIZE, user,
	    H->prompts->schema[AI_OP_SUMMARIZE], check_summary, &s, out, why,
	    sizeof(why)) == 0) {
		json_object_put(local_sum);
	} else {
		ai_mark_fallback(local_sum, H->wire->name, why);
		*out = local_sum;
	}
	free(interview);
	free(user);
	return CX_OK;
}

/* ---------------------------------------------------------------- open */

static void
hosted_free(void *impl)
{
	struct hosted *H = impl;

	if (H == NULL)
		return;
	cx_ai_free(H->local);
	ai_prompts_free(H->prompts);
	free(H->url);
	free(H->auth);
	free(H->model);
	free(H);
}

static const struct cx_ai_ops openai_ops = {
	.name = "openai",
	.free = hosted_free,
	.generate = hosted_generate,
	.evaluate = hosted_evaluate,
	.summarize = hosted_summarize,
};

static const struct cx_ai_ops gemini_ops = {
	.name = "gemini",
	.free = hosted_free,
	.generate = hosted_generate,
	.evaluate = hosted_evaluate,
	.summarize = hosted_summarize,
};

/* A key or model goes into a header or URL: printable ASCII only. */
static int
printable(const char *s, size_t max, int url_safe)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || n >= max)
			return 0;
		if (url_safe && !isalnum(c) && c != '-' && c != '.' && c != '_')
			return 0;
	}
	return n > 0;
}

int
ai_hosted_open(const struct cx_config *cfg, const struct ai_wire *wire,
    struct cx_ai *local, struct cx_redis *cache, struct cx_ai **out, struct cx_error *err)
{
	int gemini = wire == &ai_wire_gemini;
	const char *key = gemini ? cfg->gemini_api_key : cfg->openai_api_key;
	const char *base = gemini ? cfg->gemini_base_url : cfg->openai_base_url;
	const char *model = gemini ? cfg->gemini_model : cfg->openai_model;
	const char *key_name = gemini ? "GEMINI_API_KEY" : "OPENAI_API_KEY";
	struct hosted *H = NULL;
	char dir[4096], *b = NULL;
	size_t blen;
	int rc;

	if (key == NULL || !printable(key, 512, 0)) {
		rc = cx_error_set(err, CX_EVALIDATION, "%s: must be set when AI_PROVIDER is %s",
		    key_name, wire->name);
		goto fail;
	}
	if (model == NULL || !printable(model, 128, gemini)) {
		rc = cx_error_set(err, CX_EVALIDATION, "%s_MODEL: not a valid model name",
		    gemini ? "GEMINI" : "OPENAI");
		goto fail;
	}
	if (base == NULL || !printable(base, 1024, 0)) {
		rc = cx_error_set(err, CX_EVALIDATION, "%s_BASE_URL: not a valid URL",
		    gemini ? "GEMINI" : "OPENAI");
		goto fail;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/prompts", cfg->schema_dir) >= sizeof(dir)) {
		rc = cx_error_set(err, CX_EVALIDATION, "CX_SCHEMA_DIR: path too long");
		goto fail;
	}
	if (ai_http_global_init() != 0) {
		rc = cx_error_internal(err, "libcurl initialisation failed");
		goto fail;
	}
	H = calloc(1, sizeof(*H));
	b = strdup(base);
	if (H == NULL || b == NULL) {
		rc = cx_error_internal(err, "out of memory opening the AI provider");
		goto fail;
	}
	for (blen = strlen(b); blen > 0 && b[blen - 1] == '/'; blen--)
		b[blen - 1] = '\0';
	H->wire = wire;
	H->local = local;
	local = NULL;
	H->cache = cache;
	H->cache_ttl = cfg->ai_cache_ttl_seconds;
	H->url = wire->url(b, model);
	H->auth = wire->auth_header(key);
	H->model = strdup(model);
	if (H->url == NULL || H->auth == NULL || H->model == NULL) {
		rc = cx_error_internal(err, "out of memory opening the AI provider");
		goto fail;
	}
	rc = ai_prompts_load(dir, &H->prompts, err);
	if (rc != CX_OK)
		goto fail;
	H->headers[0] = "Content-Type: application/json";
	H->headers[1] = "Accept: application/json";
	H->headers[2] = H->auth;
	H->headers[3] = NULL;
	H->http = (struct ai_http){
		.name = wire->name, .url = H->url, .headers = H->headers,
		.connect_timeout = cfg->ai_connect_timeout_seconds,
		.timeout = cfg->ai_timeout_seconds, .max_retries = cfg->ai_max_retries,
	};
	free(b);
	cx_logf(CX_LOG_INFO, "AI provider %s (model %s), local fallback, cache %s", wire->name,
	    H->model, cache != NULL && H->cache_ttl > 0 ? "on" : "off");
	return cx_ai_new(gemini ? &gemini_ops : &openai_ops, H, out, err);
fail:
	free(b);
	cx_ai_free(local);
	hosted_free(H);
	return rc;
}
