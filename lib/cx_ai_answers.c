/* cx_ai_answers: a remote model's answers checked field by field and turned into the
 * objects cx_ai.h promises; anything that does not fit sends the call to the fallback. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai.h"
#include "cx_ai_hosted.h"
#include "cx_ai_local.h"
#include "cx_json.h"
#include "cx_log.h"

#define MAX_CONTENT   2000     /* bytes of a generated question */
#define MAX_POINT     300      /* bytes of one key point */
#define MAX_SENTENCE  1000     /* bytes of one strength, improvement, recommendation */
#define MAX_PROSE     4000     /* bytes of an explanation or summary */
#define MAX_LIST      6        /* entries kept of a list of sentences */
#define MAX_SKILLS    20

static int
bad(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(why, whylen, "invalid answer: ");
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < whylen)
		vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string field of 1..max bytes, else NULL. */
static const char *
text_field(json_object *o, const char *name, size_t max)
{
	json_object *v = json_object_object_get(o, name);

	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
	    (size_t)json_object_get_string_len(v) > max)
		return NULL;
	return json_object_get_string(v);
}

/* A list of sentences: the first max non-empty strings of at most max_len bytes. NULL
 * when a is not an array of strings. */
static json_object *
sentence_list(json_object *a, size_t max, size_t max_len)
{
	json_object *out;
	size_t i;

	if (!json_object_is_type(a, json_type_array))
		return NULL;
	out = json_object_new_array();
	for (i = 0; out != NULL && i < json_object_array_length(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string) ||
		    (size_t)json_object_get_string_len(s) > max_len) {
			json_object_put(out);
			return NULL;
		}
		if (json_object_get_string_len(s) > 0 && json_object_array_length(out) < max)
			json_object_array_add(out, json_object_get(s));
	}
	return out;
}

static int
array_index(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------- generate */

static char *
spec_context(const struct cx_ai_spec *spec)
{
	size_t total = 8, i, pos;
	char *s;

	total += spec->job_title != NULL ? strnlen(spec->job_title, CX_AI_MAX_CONTEXT) : 0;
	total += spec->job_description != NULL ?
	    strnlen(spec->job_description, CX_AI_MAX_CONTEXT) : 0;
	total += spec->resume_text != NULL ? strnlen(spec->resume_text, CX_AI_MAX_CONTEXT) : 0;
	for (i = 0; i < spec->nfocus; i++)
		total += strnlen(spec->focus_areas[i], 100) + 3;
	s = malloc(total);
	if (s == NULL)
		return NULL;
	pos = (size_t)snprintf(s, total, "%.*s . %.*s . %.*s", CX_AI_MAX_CONTEXT,
	    spec->job_title != NULL ? spec->job_title : "", CX_AI_MAX_CONTEXT,
	    spec->job_description != NULL ? spec->job_description : "", CX_AI_MAX_CONTEXT,
	    spec->resume_text != NULL ? spec->resume_text : "");
	for (i = 0; i < spec->nfocus && pos < total; i++)
		pos += (size_t)snprintf(s + pos, total - pos, " . %.100s", spec->focus_areas[i]);
	return s;
}

/* One generated question, checked; NULL with why when it does not fit. */
static json_object *
one_question(json_object *g, size_t n, const struct cx_ai_spec *spec,
    const struct words *ctx, const char *provider, char *why, size_t whylen)
{
	const char *content = text_field(g, "content", MAX_CONTENT);
	const char *mode = cx_json_str(g, "mode"), *type = cx_json_str(g, "type");
	const char *area = text_field(g, "area", 100);
	json_object *comp = json_object_object_get(g, "competency");
	json_object *skills = json_object_object_get(g, "skills");
	json_object *kps = json_object_object_get(g, "key_points");
	json_object *tm = json_object_object_get(g, "time_minutes");
	json_object *o, *matched;
	int behavioral_only = strcmp(spec->mode, "behavioral") == 0;
	char id[32];
	size_t i;

	if (!json_object_is_type(g, json_type_object) || content == NULL || area == NULL) {
		bad(why, whylen, "question %zu needs content and area", n);
		return NULL;
	}
	if (mode == NULL || (strcmp(mode, "technical") != 0 && strcmp(mode, "behavioral") != 0) ||
	    (behavioral_only && strcmp(mode, "behavioral") != 0)) {
		bad(why, whylen, "question %zu has mode %s in a %s interview", n,
		    mode != NULL ? "of the wrong kind" : "missing", spec->mode);
		return NULL;
	}
	if (type == NULL || (strcmp(type, "text") != 0 && strcmp(type, "voice") != 0 &&
	    strcmp(type, "coding") != 0) || (behavioral_only && strcmp(type, "coding") == 0)) {
		bad(why, whylen, "question %zu has a bad type", n);
		return NULL;
	}
	if (comp != NULL && !json_object_is_type(comp, json_type_null) &&
	    (!json_object_is_type(comp, json_type_string) ||
	    json_object_get_string_len(comp) > 100)) {
		bad(why, whylen, "question %zu has a bad competency", n);
		return NULL;
	}
	if (!ai_is_string_array(skills, 0) || json_object_array_length(skills) > MAX_SKILLS) {
		bad(why, whylen, "question %zu has bad skills", n);
		return NULL;
	}
	if (!ai_is_string_array(kps, 1) || json_object_array_length(kps) > BANK_MAX_KEYPOINTS) {
		bad(why, whylen, "question %zu needs 1..%d key points", n, BANK_MAX_KEYPOINTS);
		return NULL;
	}
	for (i = 0; i < json_object_array_length(kps); i++)
		if (json_object_get_string_len(json_object_array_get_idx(kps, i)) > MAX_POINT) {
			bad(why, whylen, "question %zu has an overlong key point", n);
			return NULL;
		}
	if (!json_object_is_type(tm, json_type_int) || json_object_get_int(tm) < 1 ||
	    json_object_get_int(tm) > 60) {
		bad(why, whylen, "question %zu needs time_minutes 1..60", n);
		return NULL;
	}
	o = json_object_new_object();
	matched = json_object_new_array();
	if (o == NULL || matched == NULL) {
		json_object_put(o);
		json_object_put(matched);
		bad(why, whylen, "out of memory");
		return NULL;
	}
	for (i = 0; i < json_object_array_length(skills); i++) {
		json_object *sk = json_object_array_get_idx(skills, i);

		if (ai_phrase_in(ctx, json_object_get_string(sk)))
			json_object_array_add(matched, json_object_get(sk));
	}
	snprintf(id, sizeof(id), "q%zu", n);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "area", json_object_new_string(area));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "content", json_object_new_string(content));
	json_object_object_add(o, "key_points", json_object_get(kps));
	json_object_object_add(o, "competency", json_object_is_type(comp, json_type_string) &&
	    json_object_get_string_len(comp) > 0 ? json_object_get(comp) : NULL);
	json_object_object_add(o, "skills", json_object_get(skills));
	json_object_object_add(o, "time_minutes", json_object_new_int(json_object_get_int(tm)));
	json_object_object_add(o, "matched_skills", matched);
	json_object_object_add(o, "level", json_object_new_string(spec->level));
	json_object_object_add(o, "provider", json_object_new_string(provider));
	return o;
}

int
ai_answer_questions(json_object *answer, const struct cx_ai_spec *spec,
    const char *provider, json_object **out, char *why, size_t whylen)
{
	json_object *qs = json_object_object_get(answer, "questions"), *arr = NULL;
	struct words ctx = { 0 };
	char *text = NULL;
	size_t i, want = (size_t)spec->question_count;
	int rc = -1;

	if (!json_object_is_type(qs, json_type_array))
		return bad(why, whylen, "no questions");
	if (json_object_array_length(qs) < want)
		return bad(why, whylen, "%zu of %zu questions", json_object_array_length(qs),
		    want);
	text = spec_context(spec);
	arr = json_object_new_array();
	if (text == NULL || arr == NULL || ai_words_init(&ctx, text, 4 * CX_AI_MAX_CONTEXT) != 0) {
		bad(why, whylen, "out of memory");
		goto out;
	}
	for (i = 0; i < want; i++) {       /* extra questions are dropped */
		json_object *q = one_question(json_object_array_get_idx(qs, i), i + 1, spec,
		    &ctx, provider, why, whylen);

		if (q == NULL)
			goto out;
		json_object_array_add(arr, q);
	}
	*out = arr;
	arr = NULL;
	rc = 0;
out:
	json_object_put(arr);
	ai_words_free(&ctx);
	free(text);
	return rc;
}

/* ---------------------------------------------------------------- evaluate */

enum { D_COV, D_STR, D_SPEC, D_LEN, D_CLA, D_N };
static const char *const dim_names[D_N] = {
	"coverage", "structure", "specificity", "length", "clarity"
};

/* The local rubric's weights (cx_ai_rubric.c eval_score), so scores of both providers
 * mean the same. */
static void
weights(const struct ai_qview *q, double w[D_N])
{
	static const double w_beh[D_N] = { .25, .35, .15, .15, .10 };
	static const double w_tech[D_N] = { .45, .15, .15, .15, .10 };
	static const double w_code[D_N] = { .30, .30, .10, .25, .05 };
	const double *src = q->coding ? w_code : q->behavioral ? w_beh : w_tech;

	memcpy(w, src, sizeof(double) * D_N);
	if (q->voice && !q->coding) {
		w[D_LEN] -= .10;
		w[D_CLA] += .10;
	}
}

static int
dim_score(json_object *scores, const char *name, double *out)
{
	json_object *v = json_object_object_get(scores, name);
	double d;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	d = json_object_get_double(v);
	if (!(d >= 0 && d <= 100))
		return -1;
	*out = ai_trunc0(d + 0.5);
	return 0;
}

/* follow_up {content, gap} when it names a real gap, else NULL (logged). */
static json_object *
check_follow_up(json_object *fu, const struct ai_qview *q, const int *covered)
{
	const char *content = text_field(fu, "content", MAX_SENTENCE);
	const char *gap = text_field(fu, "gap", MAX_POINT);
	json_object *o;
	int k;

	if (!json_object_is_type(fu, json_type_object))
		return NULL;
	if (content == NULL || gap == NULL) {
		cx_logf(CX_LOG_INFO, "AI: follow-up without content or gap dropped");
		return NULL;
	}
	k = array_index(q->key_points, gap);
	if (!(k >= 0 && !covered[k]) && strcmp(gap, "result") != 0 &&
	    strcmp(gap, "specifics") != 0) {
		cx_logf(CX_LOG_INFO, "AI: follow-up about something the answer covered dropped");
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "content", json_object_new_string(content));
	json_object_object_add(o, "gap", json_object_new_string(gap));
	return o;
}

static int
has_words(const char *text)
{
	struct words w;
	size_t n;

	if (ai_words_init(&w, text, CX_AI_MAX_ANSWER) != 0)
		return 1;
	n = w.n;
	ai_words_free(&w);
	return n > 0;
}

int
ai_answer_evaluation(json_object *answer, const struct ai_qview *q, const char *text,
    int allow_follow_up, const char *provider, json_object **out, char *why, size_t whylen)
{
	json_object *cov = json_object_object_get(answer, "covered");
	json_object *scores = json_object_object_get(answer, "scores");
	json_object *strengths = NULL, *improvements = NULL, *o = NULL, *rubric, *covered,
	    *missing;
	const char *explanation = text_field(answer, "explanation", MAX_PROSE);
	size_t nkp = json_object_array_length(q->key_points), ncov = 0, i;
	int is_cov[BANK_MAX_KEYPOINTS] = { 0 }, rc = -1;
	double sc[D_N], w[D_N], total = 0;
	int score;
	char wbuf[16];

	if (!json_object_is_type(cov, json_type_array))
		return bad(why, whylen, "no covered list");
	for (i = 0; i < json_object_array_length(cov); i++) {
		json_object *c = json_object_array_get_idx(cov, i);
		int k = json_object_is_type(c, json_type_string) ?
		    array_index(q->key_points, json_object_get_string(c)) : -1;

		if (k < 0 || k >= BANK_MAX_KEYPOINTS)
			return bad(why, whylen, "covered names something not a key point");
		ncov += !is_cov[k];
		is_cov[k] = 1;
	}
	if (!json_object_is_type(scores, json_type_object) ||
	    dim_score(scores, "structure", &sc[D_STR]) != 0 ||
	    dim_score(scores, "specificity", &sc[D_SPEC]) != 0 ||
	    dim_score(scores, "length", &sc[D_LEN]) != 0 ||
	    dim_score(scores, "clarity", &sc[D_CLA]) != 0)
		return bad(why, whylen, "scores must be numbers 0..100");
	if (explanation == NULL)
		return bad(why, whylen, "no explanation");
	strengths = sentence_list(json_object_object_get(answer, "strengths"), MAX_LIST,
	    MAX_SENTENCE);
	improvements = sentence_list(json_object_object_get(answer, "improvements"), MAX_LIST,
	    MAX_SENTENCE);
	if (strengths == NULL || improvements == NULL) {
		bad(why, whylen, "strengths and improvements must be lists of sentences");
		goto out;
	}
	sc[D_COV] = ai_trunc0(100.0 * (double)ncov / (double)nkp + 0.5);
	weights(q, w);
	if (!has_words(text))
		for (i = 0; i < D_N; i++)
			sc[i] = 0;
	for (i = 0; i < D_N; i++)
		total += sc[i] * w[i];
	score = (int)ai_trunc0(total + 0.5);
	/* as the local rubric: delivery earns little when no key point was touched */
	if (!q->behavioral && ncov == 0 && score > 25)
		score = 25;

	o = json_object_new_object();
	if (o == NULL) {
		bad(why, whylen, "out of memory");
		goto out;
	}
	rubric = json_object_new_object();
	covered = json_object_new_array();
	missing = json_object_new_array();
	json_object_object_add(o, "score", json_object_new_int(score));
	json_object_object_add(o, "provider", json_object_new_string(provider));
	json_object_object_add(o, "rubric", rubric);
	for (i = 0; i < D_N; i++) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "score", json_object_new_int((int)sc[i]));
		snprintf(wbuf, sizeof(wbuf), "%.2f", w[i]);
		json_object_object_add(d, "weight", json_object_new_double_s(w[i], wbuf));
		json_object_object_add(rubric, dim_names[i], d);
	}
	for (i = 0; i < nkp; i++)
		json_object_array_add(is_cov[i] ? covered : missing, json_object_new_string(
		    json_object_get_string(json_object_array_get_idx(q->key_points, i))));
	json_object_object_add(o, "covered", covered);
	json_object_object_add(o, "missing", missing);
	json_object_object_add(o, "strengths", strengths);
	json_object_object_add(o, "improvements", improvements);
	strengths = improvements = NULL;
	json_object_object_add(o, "explanation", json_object_new_string(explanation));
	json_object_object_add(o, "follow_up", allow_follow_up && has_words(text) ?
	    check_follow_up(json_object_object_get(answer, "follow_up"), q, is_cov) : NULL);
	*out = o;
	rc = 0;
out:
	json_object_put(strengths);
	json_object_put(improvements);
	return rc;
}

static json_object *
enum_of(json_object *key_points, const char *const *extra)
{
	json_object *e = json_object_new_array();
	size_t i;

	for (i = 0; e != NULL && i < json_object_array_length(key_points); i++) {
		json_object *k = json_object_array_get_idx(key_points, i);

		if (array_index(e, json_object_get_string(k)) < 0)
			json_object_array_add(e, json_object_new_string(
			    json_object_get_string(k)));
	}
	for (; e != NULL && extra != NULL && *extra != NULL; extra++)
		if (array_index(e, *extra) < 0)
			json_object_array_add(e, json_object_new_string(*extra));
	return e;
}

json_object *
ai_evaluate_schema(json_object *tmpl, json_object *key_points)
{
	static const char *const gaps[] = { "result", "specifics", NULL };
	json_object *s = NULL, *items, *gap;

	if (json_object_deep_copy(tmpl, &s, NULL) != 0)
		return NULL;
	/* ai_prompts_load checked that both are there */
	items = json_object_object_get(json_object_object_get(json_object_object_get(s,
	    "properties"), "covered"), "items");
	gap = json_object_object_get(json_object_object_get(json_object_array_get_idx(
	    json_object_object_get(json_object_object_get(json_object_object_get(s,
	    "properties"), "follow_up"), "anyOf"), 0), "properties"), "gap");
	if (items == NULL || gap == NULL) {
		json_object_put(s);
		return NULL;
	}
	json_object_object_add(items, "enum", enum_of(key_points, NULL));
	json_object_object_add(gap, "enum", enum_of(key_points, gaps));
	return s;
}

/* ---------------------------------------------------------------- summarize */

int
ai_answer_summary(json_object *answer, json_object *local_summary, const char *provider,
    json_object **out, char *why, size_t whylen)
{
	static const char *const lists[] = { "strengths", "weaknesses", "recommendations" };
	const char *feedback = text_field(answer, "feedback", MAX_PROSE);
	json_object *o = NULL, *l[3] = { NULL, NULL, NULL };
	size_t i;
	int rc = -1;

	if (feedback == NULL)
		return bad(why, whylen, "no feedback");
	for (i = 0; i < 3; i++) {
		l[i] = sentence_list(json_object_object_get(answer, lists[i]), MAX_LIST,
		    MAX_SENTENCE);
		if (l[i] == NULL) {
			bad(why, whylen, "%s must be a list of sentences", lists[i]);
			goto out;
		}
	}
	if (json_object_deep_copy(local_summary, &o, NULL) != 0) {
		bad(why, whylen, "out of memory");
		goto out;
	}
	json_object_object_add(o, "feedback", json_object_new_string(feedback));
	for (i = 0; i < 3; i++) {
		json_object_object_add(o, lists[i], l[i]);
		l[i] = NULL;
	}
	json_object_object_add(o, "provider", json_object_new_string(provider));
	*out = o;
	rc = 0;
out:
	for (i = 0; i < 3; i++)
		json_object_put(l[i]);
	return rc;
}
