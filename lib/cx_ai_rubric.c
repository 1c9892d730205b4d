/* cx_ai_rubric: the local provider's transparent rubric — scoring one answer and
 * summarizing an interview. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cx_ai.h"
#include "cx_ai_impl.h"
#include "cx_ai_local.h"
#include "cx_json.h"
#include "cx_log.h"

/* ---------------------------------------------------------------- evaluate */

enum { D_COV, D_STR, D_SPEC, D_LEN, D_CLA, D_N };
static const char *const dim_names[D_N] = {
	"coverage", "structure", "specificity", "length", "clarity"
};

struct eval {
	const struct local *L;
	const struct bq *bank;       /* the question in the bank, NULL for one from elsewhere */
	struct words w;
	uint16_t *wf;                /* per word of w: WF_* flags */
	unsigned char *named;        /* per skill of L: the answer names it */
	const char *answer;
	size_t alen;
	int behavioral, coding, voice;
	json_object *key_points;     /* borrowed */
	json_object *keywords;       /* borrowed, may be NULL */
	const char *follow_up;       /* the bank's, may be NULL */
	int is_follow_up;            /* the question is itself a follow-up ... */
	const char *gap;             /* ... probing this gap ("result", "specifics", a point) */
	size_t nkp, ncovered;
	int covered[BANK_MAX_KEYPOINTS];
	int situation, action, result, has_number;
	int approach, complexity, edges;
	size_t nnumbers, nskills, nvague, nfillers, ncode_lines, nsentences, nconnectors;
	char skills_named[128], filler_top[128], vague_top[96];
	int empty, nonsense, offtopic;
	double sc[D_N], wt[D_N];
	int wset, wvoice;            /* which weights() wt holds */
	int score;
};

static void
app(char *buf, size_t size, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
app(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n < size - *pos ? (size_t)n : size - *pos - 1;
}

/* app(buf, size, pos, "%s", s) without parsing a format: the same bytes. */
static void
app_str(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t n;

	if (*pos >= size)
		return;
	n = strlen(s);
	if (n > size - *pos - 1)
		n = size - *pos - 1;
	memcpy(buf + *pos, s, n);
	*pos += n;
	buf[*pos] = '\0';
}

static const char *
kp_text(const struct eval *e, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(e->key_points, i));
}

/* Words the rubric looks at one at a time, as written (not stemmed): each word of an
 * answer gets the flags of the lists it is in. */
enum {
	WF_STOP = 1 << 0,        /* a stopword */
	WF_FILLER = 1 << 1,      /* a filler on its own ("um", "basically", "like") */
	WF_LIKE_OK = 1 << 2,     /* before "like", makes it a real word ("would like") */
	WF_OF_OK = 1 << 3,       /* before "kind of", makes it a real phrase ("what kind of") */
	WF_PAST = 1 << 4,        /* an irregular past tense ("built") */
	WF_LIKE = 1 << 5, WF_TO = 1 << 6, WF_YOU = 1 << 7, WF_KNOW = 1 << 8, WF_I = 1 << 9,
	WF_MEAN = 1 << 10, WF_SORT = 1 << 11, WF_KIND = 1 << 12, WF_OF = 1 << 13,
	WF_NEEDED = 1 << 14
};

static const char *const stopwords[] = {
	"the", "a", "an", "i", "we", "to", "and", "of", "in", "it", "is", "was", "that", "for",
	"on", "with", "my", "our", "you", "this", "be", "are", "as", "at", "by", "or", "if",
	"then", "so", "but", "not", "they", "me", "us", "have", "had", "would", "will", "can",
	"use", "do", "did", "what", "when", "how", "which", "from", NULL
};
static const char *const fillers[] = { "um", "umm", "uh", "uhh", "erm", "er", "hmm",
	"basically", "actually", "literally", "like", NULL };
static const char *const like_ok_before[] = { "would", "d", "feel", "felt", "look",
	"looks", "looked", "seem", "seems", "something", "things", "anything", "not",
	"don", "didn", "i", "we", "they", "you", "people", "just", "much", "more", NULL };
static const char *const of_ok_before[] = { "what", "this", "that", "the", "a", "any",
	"some", "which", "same", "every", "all", "these", "those", NULL };
static const char *const irregular_past[] = { "built", "wrote", "led", "made", "took",
	"set", "ran", "met", "spoke", "brought", "chose", "found", "went", "gave", "told",
	"got", "drove", "began", "sat", "put", "rewrote", "caught", "sent", "taught",
	"thought", NULL };

static const struct {
	const char *const *words;
	unsigned flag;
} word_lists[] = {
	{ stopwords, WF_STOP }, { fillers, WF_FILLER }, { like_ok_before, WF_LIKE_OK },
	{ of_ok_before, WF_OF_OK }, { irregular_past, WF_PAST },
};

static const struct {
	const char *word;
	unsigned flag;
} cue_words[] = {
	{ "like", WF_LIKE }, { "to", WF_TO }, { "you", WF_YOU }, { "know", WF_KNOW },
	{ "i", WF_I }, { "mean", WF_MEAN }, { "sort", WF_SORT }, { "kind", WF_KIND },
	{ "of", WF_OF }, { "needed", WF_NEEDED },
};

/* Key point i is covered when any of its synonyms occurs; without keywords, when at
 * least half of the key point's longer words occur. */
static int
kp_covered(const struct eval *e, size_t i)
{
	json_object *syn = e->keywords != NULL ? json_object_array_get_idx(e->keywords, i) : NULL;
	struct words k;
	size_t j, sig = 0, hit = 0;

	if (e->bank != NULL)
		return ai_any_in(&e->w, &e->bank->syn[i]);
	if (json_object_is_type(syn, json_type_array)) {
		for (j = 0; j < json_object_array_length(syn); j++)
			if (ai_phrase_in(&e->w, json_object_get_string(
			    json_object_array_get_idx(syn, j))))
				return 1;
		return 0;
	}
	if (ai_words_init(&k, kp_text(e, i), 512) != 0)
		return 0;
	for (j = 0; j < k.n; j++) {
		if (strlen(k.r[j]) < 5)
			continue;
		sig++;
		hit += ai_phrase_in(&e->w, k.r[j]);
	}
	ai_words_free(&k);
	return sig > 0 && hit * 2 >= sig;
}

/* Filler words, with the uses of "like" / "kind of" that are real words left out. */
static void
count_fillers(struct eval *e)
{
	const char *names[16];
	size_t counts[16], nnames = 0, i, j, best[2] = { SIZE_MAX, SIZE_MAX };
	size_t pos = 0, n = e->w.n;

	for (i = 0; i < n; i++) {
		unsigned wf = e->wf[i], prev = i > 0 ? e->wf[i - 1] : 0u;
		unsigned next = i + 1 < n ? e->wf[i + 1] : 0u;
		const char *f = NULL;

		if (wf & WF_FILLER) {
			f = e->w.r[i];
			if ((wf & WF_LIKE) && ((prev & WF_LIKE_OK) || (next & WF_TO)))
				f = NULL;
		} else if ((wf & WF_YOU) && (next & WF_KNOW)) {
			f = "you know";
		} else if ((wf & WF_I) && (next & WF_MEAN)) {
			f = "i mean";
		} else if ((wf & (WF_SORT | WF_KIND)) && (next & WF_OF) && !(prev & WF_OF_OK)) {
			f = (wf & WF_SORT) ? "sort of" : "kind of";
		}
		if (f == NULL)
			continue;
		e->nfillers++;
		for (j = 0; j < nnames; j++)
			if (strcmp(names[j], f) == 0)
				break;
		if (j == nnames && nnames < 16) {
			names[nnames] = f;
			counts[nnames++] = 0;
		}
		if (j < nnames)
			counts[j]++;
	}
	for (i = 0; i < nnames; i++) {
		if (best[0] == SIZE_MAX || counts[i] > counts[best[0]]) {
			best[1] = best[0];
			best[0] = i;
		} else if (best[1] == SIZE_MAX || counts[i] > counts[best[1]]) {
			best[1] = i;
		}
	}
	e->filler_top[0] = '\0';
	for (i = 0; i < 2; i++)
		if (best[i] != SIZE_MAX)
			app(e->filler_top, sizeof(e->filler_top), &pos, "%s'%s' (%zux)",
			    i > 0 ? ", " : "", names[best[i]], counts[best[i]]);
}

static size_t
count_code_lines(const char *s, size_t len)
{
	static const struct {
		const char *text;
		size_t len;
	} starts[] = {
#define S(text) { text, sizeof(text) - 1 }
		S("def "), S("return"), S("for "), S("for("), S("while"), S("if "), S("if("),
		S("select "), S("from "), S("int "), S("const "), S("let "), S("var "),
		S("function"), S("#include"), S("class "), S("find "), S("sort "), S("du "),
		S("import "), S("public "), S("fn "),
#undef S
	};
	/* ';', '{', '}', '=', '|' or "()" make a line code */
	static const unsigned char code_byte[256] = {
		[';'] = 1, ['{'] = 1, ['}'] = 1, ['='] = 1, ['|'] = 1, ['('] = 1
	};
	size_t i = 0, lines = 0, p;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - s) : len, k;
		int code = 0;

		for (k = i; k < end && !code; k++)
			if (code_byte[(unsigned char)s[k]])
				code = s[k] != '(' || (k + 1 < end && s[k + 1] == ')');
		for (k = i; k < end && (s[k] == ' ' || s[k] == '\t'); k++)
			;
		/* (c | 0x20) is c lowercased for a letter, so no start is skipped wrongly */
		for (p = 0; !code && p < sizeof(starts) / sizeof(starts[0]); p++)
			if (end - k >= starts[p].len && (s[k] | 0x20) == starts[p].text[0] &&
			    strncasecmp(s + k, starts[p].text, starts[p].len) == 0)
				code = 1;
		lines += code;
		i = end + 1;
	}
	return lines;
}

static int
first_person_past(const struct eval *e)
{
	size_t i, len;

	for (i = 0; i + 1 < e->w.n; i++) {
		if (!(e->wf[i] & WF_I))
			continue;
		len = strlen(e->w.r[i + 1]);
		if ((len > 3 && ai_ends_with(e->w.r[i + 1], len, "ed") &&
		    !(e->wf[i + 1] & WF_NEEDED)) || (e->wf[i + 1] & WF_PAST))
			return 1;
	}
	return 0;
}

static int
has_vowel_or_digit(const char *w)
{
	for (; *w != '\0'; w++)
		if (*w == 'a' || *w == 'e' || *w == 'i' || *w == 'o' || *w == 'u' || *w == 'y' ||
		    (*w >= '0' && *w <= '9'))
			return 1;
	return 0;
}

/* Words that say a story reached a result (also the keywords of a "result" follow-up). */
const char *const ai_result_phrases[] = { "as a result", "which led to", "led to",
	"resulted in", "result", "reduced", "increased", "saved", "improved", "grew",
	"outcome", "in the end", "by the end", "we shipped", "we delivered", "launched",
	"went from", "dropped", "doubled", "halved", "impact", NULL };

/* The phrases the rubric looks for. */
static const char *const situation[] = { "when i was", "at my previous", "at my last",
	"at my current", "the project", "a project", "our team", "my team", "we had",
	"we were", "i was working", "i was responsible", "was tasked", "my task",
	"the situation", "the goal", "the deadline", "last year", "in my role",
	"our customer", "the client", "our client", "we needed", "in my last",
	"in my previous", "in my current", "at my job", "at work", NULL };
static const char *const action[] = { "i decided", "i built", "i talked", "i wrote",
	"i led", "i organized", "i proposed", "i created", "i set up", "i implemented",
	"i fixed", "i started", "i asked", "i reached out", "i designed", "i introduced",
	"i took", NULL };
static const char *const number_words[] = { "percent", "doubled", "halved", "tripled",
	NULL };
static const char *const vague[] = { "hard worker", "hard working", "team player",
	"perfectionist", "always", "never", "best", "everything", "everyone", "passionate",
	"a lot", "stuff", "etc", "whatever", "very good", "amazing", NULL };
static const char *const connectors[] = { "because", "so that", "therefore",
	"for example", "for instance", "trade off", "tradeoff", "however", "first",
	"then", "finally", "depend", "in practice", "which means", "instead", "whereas",
	"on the other hand", "otherwise", NULL };
static const char *const approach[] = { "approach", "idea", "iterate", "loop",
	"use a", "i would", "we can", "store", "keep track", "traverse", "recursion",
	"recursive", "two pointer", "scan", "walk", "step", NULL };
static const char *const complexity[] = { "complexity", "o n", "o 1", "o log",
	"o v", "o n2", "n log n", "linear", "logarithmic", "quadratic", "constant time",
	"constant space", NULL };
static const char *const edges[] = { "edge case", "corner case", "empty", "null",
	"none", "overflow", "duplicate", "negative", "boundary", "invalid", "no solution",
	"zero", "out of range", "not found", "single element", "spaces", "error", NULL };

enum { PL_SITUATION, PL_ACTION, PL_NUMBER, PL_VAGUE, PL_CONNECTOR, PL_APPROACH,
	PL_COMPLEXITY, PL_EDGE, PL_RESULT, PL_N };
static const char *const *const phrase_lists[PL_N] = { situation, action, number_words,
	vague, connectors, approach, complexity, edges, ai_result_phrases };

/* The weights of the dimensions: for technical, behavioral or coding questions, and for
 * a transcript (voice, not coding), where delivery matters more than length. */
enum { WS_TECH, WS_BEH, WS_CODE, WS_N };

static void
weights(int set, int voice, double wt[D_N])
{
	static const double w_set[WS_N][D_N] = {
		[WS_TECH] = { .45, .15, .15, .15, .10 },
		[WS_BEH] = { .25, .35, .15, .15, .10 },
		[WS_CODE] = { .30, .30, .10, .25, .05 },
	};

	memcpy(wt, w_set[set], sizeof(w_set[set]));
	if (voice) {
		wt[D_LEN] -= .10;
		wt[D_CLA] += .10;
	}
}

#define FLAG_SLOTS 512              /* a power of two, over twice the flagged words */

/* The lists above tokenized, once per bank. */
struct ai_rubric {
	struct ai_phrases list[PL_N];
	struct {                       /* the words of word_lists and cue_words, by hash */
		const char *word;
		uint64_t hash;
		unsigned flags;
	} flagged[FLAG_SLOTS];
	char weight_text[WS_N][2][D_N][8];   /* weights() as JSON shows them ("%.2f") */
};

/* The slot of word in r->flagged: where it is, or the free one where it belongs. */
static size_t
flag_slot(const struct ai_rubric *r, const char *word, uint64_t h)
{
	size_t i;

	for (i = (size_t)h & (FLAG_SLOTS - 1); r->flagged[i].word != NULL;
	    i = (i + 1) & (FLAG_SLOTS - 1))
		if (r->flagged[i].hash == h && strcmp(r->flagged[i].word, word) == 0)
			break;
	return i;
}

static unsigned
word_flags(const struct ai_rubric *r, const char *word)
{
	return r->flagged[flag_slot(r, word, ai_hash(word))].flags;
}

/* -1 when the table would be more than half full. */
static int
flag_add(struct ai_rubric *r, size_t *n, const char *word, unsigned flag)
{
	uint64_t h = ai_hash(word);
	size_t i = flag_slot(r, word, h);

	if (r->flagged[i].word == NULL) {
		if (++*n > FLAG_SLOTS / 2)
			return -1;
		r->flagged[i].word = word;
		r->flagged[i].hash = h;
	}
	r->flagged[i].flags |= flag;
	return 0;
}

void
ai_rubric_free(struct ai_rubric *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < PL_N; i++)
		ai_phrases_free(&r->list[i]);
	free(r);
}

int
ai_rubric_new(struct ai_rubric **out)
{
	struct ai_rubric *r = calloc(1, sizeof(*r));
	size_t i, j, n = 0;
	int rc = -1;

	if (r == NULL)
		return -1;
	for (i = 0; i < sizeof(word_lists) / sizeof(word_lists[0]); i++)
		for (j = 0; word_lists[i].words[j] != NULL; j++)
			if (flag_add(r, &n, word_lists[i].words[j], word_lists[i].flag) != 0)
				goto out;
	for (i = 0; i < sizeof(cue_words) / sizeof(cue_words[0]); i++)
		if (flag_add(r, &n, cue_words[i].word, cue_words[i].flag) != 0)
			goto out;
	for (i = 0; i < PL_N; i++)
		if (ai_phrases_init(&r->list[i], phrase_lists[i]) != 0)
			goto out;
	for (i = 0; i < WS_N; i++)
		for (j = 0; j < 2; j++) {
			double wt[D_N];
			size_t d;

			weights((int)i, (int)j, wt);
			for (d = 0; d < D_N; d++)
				snprintf(r->weight_text[i][j][d], sizeof(r->weight_text[i][j][d]),
				    "%.2f", wt[d]);
		}
	*out = r;
	r = NULL;
	rc = 0;
out:
	ai_rubric_free(r);
	return rc;
}

static int
gap_is(const struct eval *e, const char *gap)
{
	return e->is_follow_up && e->gap != NULL && strcmp(e->gap, gap) == 0;
}

/* 1 when the answer names a technology (a skill outside the behavioral areas: "customer"
 * or "stakeholder" are not concrete). */
static int
names_technology(const struct eval *e)
{
	size_t i;

	for (i = 0; i < e->L->nskills; i++) {
		const struct area *a;

		if (!e->named[i])
			continue;
		a = ai_area_find(e->L, e->L->skills[i].area);
		if (a == NULL || strcmp(a->mode, "behavioral") != 0)
			return 1;
	}
	return 0;
}

static void
eval_analyse(struct eval *e)
{
	const struct ai_phrases *pl = e->L->rubric->list;
	size_t i, pos = 0, vpos = 0, uniq = 0, stops = 0, vowelless = 0;

	e->nkp = json_object_array_length(e->key_points);
	if (e->nkp > BANK_MAX_KEYPOINTS)
		e->nkp = BANK_MAX_KEYPOINTS;
	for (i = 0; i < e->nkp; i++) {
		e->covered[i] = kp_covered(e, i);
		e->ncovered += (size_t)e->covered[i];
	}
	for (i = 0; i < e->w.n; i++)
		e->wf[i] = (uint16_t)word_flags(e->L->rubric, e->w.r[i]);
	for (i = 0; i < e->w.n && i < 2002; i++) {
		const char *w = e->w.r[i];

		if (ai_is_number_word(w))
			e->nnumbers++;
		if (e->wf[i] & WF_STOP)
			stops++;
		if (!has_vowel_or_digit(w))
			vowelless++;
	}
	uniq = ai_words_distinct(&e->w, 2002);   /* only matters for short garbage */
	e->nnumbers += ai_count_all(&e->w, &pl[PL_NUMBER]);
	e->has_number = e->nnumbers > 0;
	e->situation = ai_any_in(&e->w, &pl[PL_SITUATION]);
	e->action = ai_any_in(&e->w, &pl[PL_ACTION]) || first_person_past(e);
	e->result = ai_any_in(&e->w, &pl[PL_RESULT]);
	e->nvague = ai_count_all(&e->w, &pl[PL_VAGUE]);
	for (i = 0; i < pl[PL_VAGUE].n && vpos < 60; i++)
		if (ai_words_count(&e->w, &pl[PL_VAGUE].w[i], 1) > 0)
			app(e->vague_top, sizeof(e->vague_top), &vpos, "%s'%s'",
			    vpos > 0 ? ", " : "", vague[i]);
	for (i = 0; i < pl[PL_CONNECTOR].n; i++)
		e->nconnectors += ai_words_count(&e->w, &pl[PL_CONNECTOR].w[i], 1);
	e->approach = ai_any_in(&e->w, &pl[PL_APPROACH]);
	e->complexity = ai_any_in(&e->w, &pl[PL_COMPLEXITY]);
	e->edges = ai_any_in(&e->w, &pl[PL_EDGE]);
	ai_skills_named(e->L, &e->w, e->named);
	for (i = 0; i < e->L->nskills; i++)
		if (e->named[i]) {
			if (e->nskills < 4) {
				app_str(e->skills_named, sizeof(e->skills_named), &pos,
				    pos > 0 ? ", " : "");
				app_str(e->skills_named, sizeof(e->skills_named), &pos,
				    e->L->skills[i].id);
			}
			e->nskills++;
		}
	/* A "specifics" follow-up is answered by something concrete: a number or a named
	 * technology, which no keyword list can stand for. */
	if (gap_is(e, "specifics") && e->nkp == 1 && e->keywords == NULL) {
		e->covered[0] = e->nnumbers > 0 || names_technology(e);
		e->ncovered = (size_t)e->covered[0];
	}
	count_fillers(e);
	e->ncode_lines = count_code_lines(e->answer, e->alen);
	for (i = 0; i < e->alen; i++)
		if (e->answer[i] == '.' || e->answer[i] == '!' || e->answer[i] == '?')
			if (i + 1 == e->alen || isspace((unsigned char)e->answer[i + 1]))
				e->nsentences++;
	e->empty = e->w.n == 0;
	e->nonsense = !e->empty && !(e->coding && e->ncode_lines >= 2) &&
	    ((e->ncovered == 0 && (stops == 0 || (e->w.n >= 5 && stops * 20 < e->w.n))) ||
	    (e->w.n >= 8 && uniq * 4 < (e->w.n < 2000 ? e->w.n : 2000)) ||
	    vowelless * 2 > e->w.n);
}

static double
clampd(double v)
{
	return v < 0 ? 0 : v > 100 ? 100 : v;
}

static void
eval_score(struct eval *e)
{
	size_t n = e->w.n, i;
	double per100, total = 0;

	e->wset = e->coding ? WS_CODE : e->behavioral ? WS_BEH : WS_TECH;
	e->wvoice = e->voice && !e->coding;
	weights(e->wset, e->wvoice, e->wt);
	e->sc[D_COV] = e->nkp > 0 ? 100.0 * (double)e->ncovered / (double)e->nkp : 0;
	if (e->coding)
		e->sc[D_STR] = 35.0 * e->approach + 35.0 * e->complexity + 30.0 * e->edges;
	else if (gap_is(e, "result"))   /* only the missing result is asked for */
		e->sc[D_STR] = e->result && e->has_number ? 100.0 : e->result ? 60.0 :
		    e->has_number ? 40.0 : 0;
	else if (e->behavioral)         /* a follow-up's situation is the parent's story */
		e->sc[D_STR] = 25.0 * (e->situation || e->is_follow_up) + 35.0 * e->action +
		    (e->result && e->has_number ? 40.0 : e->result ? 25.0 :
		    e->has_number ? 15.0 : 0);
	else
		e->sc[D_STR] = clampd(40.0 + 15.0 * (double)(e->nconnectors < 4 ?
		    e->nconnectors : 4)) * (n < 20 ? 0.5 : 1.0);
	e->sc[D_SPEC] = clampd(30.0 + 12.0 * (double)(e->nnumbers < 3 ? e->nnumbers : 3) +
	    10.0 * (double)(e->nskills < 3 ? e->nskills : 3) +
	    4.0 * (double)(e->ncovered < 4 ? e->ncovered : 4) -
	    12.0 * (double)(e->nvague < 3 ? e->nvague : 3) +
	    (e->coding && e->ncode_lines >= 3 ? 20.0 : 0));
	if (e->coding)
		e->sc[D_LEN] = e->ncode_lines >= 3 ? 100 : e->ncode_lines > 0 ? 60 :
		    n >= 10 ? 20 : 5;
	else if (n < 10)
		e->sc[D_LEN] = 5;
	else if (e->is_follow_up && n < 20)   /* a follow-up wants a few sentences */
		e->sc[D_LEN] = 20.0 + 8.0 * (double)(n - 10);
	else if (!e->is_follow_up && n < 40)
		e->sc[D_LEN] = 20.0 + 2.0 * (double)(n - 10);
	else if (n <= (e->voice ? 550u : 400u))
		e->sc[D_LEN] = 100;
	else
		e->sc[D_LEN] = clampd(100.0 - (double)(n - (e->voice ? 550 : 400)) / 8.0) < 50 ?
		    50 : clampd(100.0 - (double)(n - (e->voice ? 550 : 400)) / 8.0);
	per100 = n > 0 ? 100.0 * (double)e->nfillers / (double)n : 0;
	e->sc[D_CLA] = clampd(100.0 - per100 * (e->voice ? 10.0 : 7.0));
	if (!e->voice && e->nsentences > 0 && n / e->nsentences > 35)
		e->sc[D_CLA] = clampd(e->sc[D_CLA] - 15);
	if (e->empty)
		for (i = 0; i < D_N; i++)
			e->sc[i] = 0;
	for (i = 0; i < D_N; i++) {
		e->sc[i] = ai_trunc0(e->sc[i] + 0.5);
		total += e->sc[i] * e->wt[i];
	}
	e->score = (int)ai_trunc0(total + 0.5);
	if (e->nonsense && e->score > 10)
		e->score = 10;
	if (!e->coding && n < 10 && e->score > 25)
		e->score = 25;
	/* Polished but off-topic: delivery earns little when no key point was touched. */
	e->offtopic = !e->behavioral && e->nkp > 0 && e->ncovered == 0;
	if (e->offtopic && e->score > 25)
		e->score = 25;
	if (e->empty)
		e->score = 0;
}

static size_t
first_missing(const struct eval *e)
{
	size_t i;

	for (i = 0; i < e->nkp; i++)
		if (!e->covered[i])
			return i;
	return SIZE_MAX;
}

/* The sentence naming what would raise this score most (largest weighted shortfall). */
static const char *
eval_lever(const struct eval *e, int *dim)
{
	size_t i, best = D_COV;

	for (i = 1; i < D_N; i++)
		if (e->wt[i] * (100 - e->sc[i]) > e->wt[best] * (100 - e->sc[best]))
			best = i;
	*dim = (int)best;
	switch (best) {
	case D_COV:
		return "covering the missing key points";
	case D_STR:
		if (e->coding)
			return !e->complexity ? "stating the time and space complexity" :
			    !e->edges ? "naming the edge cases you handle" :
			    "explaining your approach before the code";
		if (e->behavioral)
			return !e->result || !e->has_number ?
			    "ending with a measurable result" : !e->action ?
			    "saying what you personally did" : "opening with the situation";
		return "explaining your reasoning: why, the trade-offs, an example";
	case D_SPEC:
		return "adding specifics: numbers, named technologies, a real example";
	case D_LEN:
		if (e->coding)
			return "writing the code itself, not only describing it";
		return e->w.n < (e->is_follow_up ? 20u : 40u) ? (e->is_follow_up ?
		    "giving a fuller answer (a few sentences)" :
		    "giving a fuller answer (about 100-300 words)") :
		    "tightening the answer to its key points";
	default:
		return "cutting filler words";
	}
}

static void
add_str(json_object *arr, const char *s)
{
	json_object_array_add(arr, json_object_new_string(s));
}

/* The improvement for a missed key point: the point, and the two most specific of the
 * terms that would have counted for it (the longest: a bank lists a short stem such as
 * "owner" first, for matching, and a phrase such as "data steward" after it). */
static void
cover_hint(char *buf, size_t size, const char *point, json_object *terms)
{
	const char *t[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 }, i, l, n = json_object_is_type(terms, json_type_array) ?
	    json_object_array_length(terms) : 0;

	for (i = 0; i < n; i++) {   /* a term, when there is one, is longer than 0 */
		json_object *v = json_object_array_get_idx(terms, i);

		if ((l = (size_t)json_object_get_string_len(v)) > len[0]) {
			t[1] = t[0], len[1] = len[0];
			t[0] = json_object_get_string(v), len[0] = l;
		} else if (l > len[1]) {
			t[1] = json_object_get_string(v), len[1] = l;
		}
	}
	if (t[1] != NULL)
		snprintf(buf, size, "Cover \"%s\": for example, mention \"%s\" or \"%s\".",
		    point, t[0], t[1]);
	else if (t[0] != NULL)
		snprintf(buf, size, "Cover \"%s\": for example, mention \"%s\".", point, t[0]);
	else
		snprintf(buf, size, "Cover \"%s\".", point);
}

static void
eval_lists(const struct eval *e, json_object *strengths, json_object *improvements)
{
	char buf[512];
	size_t i, pos = 0, shown = 0;
	json_object *syn;

	if (e->empty || e->nonsense) {
		add_str(improvements, "Answer the question in full sentences, covering the "
		    "key points listed as missing.");
		return;
	}
	if (e->nkp > 0 && e->ncovered * 4 >= e->nkp * 3) {
		app(buf, sizeof(buf), &pos, "Covered %zu of %zu key points.", e->ncovered, e->nkp);
		add_str(strengths, buf);
	}
	if (e->behavioral && e->situation && e->action && e->result && e->has_number)
		add_str(strengths, "Clear STAR structure: the situation, what you did, and a "
		    "measurable result.");
	if (e->nnumbers > 0 && !e->coding)
		add_str(strengths, "Concrete numbers make your impact credible.");
	if (e->nskills > 0) {
		snprintf(buf, sizeof(buf), "Named specific technologies (%s).", e->skills_named);
		add_str(strengths, buf);
	}
	if (e->coding && e->ncode_lines >= 3)
		add_str(strengths, "Wrote actual code.");
	if (e->coding && e->complexity)
		add_str(strengths, "Stated the complexity of the solution.");
	if (e->sc[D_CLA] >= 90 && e->w.n >= 40)
		add_str(strengths, "Clear delivery with few filler words.");
	if (!e->coding && e->sc[D_LEN] == 100)
		add_str(strengths, "Good length: complete without rambling.");

	for (i = 0; i < e->nkp && shown < 3; i++) {
		if (e->covered[i])
			continue;
		syn = e->keywords != NULL ? json_object_array_get_idx(e->keywords, i) : NULL;
		cover_hint(buf, sizeof(buf), kp_text(e, i), syn);
		add_str(improvements, buf);
		shown++;
	}
	if (e->behavioral) {
		if (!e->situation && !e->is_follow_up)
			add_str(improvements, "Open with one or two sentences of context: where "
			    "you were and what was at stake.");
		if (!e->action && !gap_is(e, "result"))
			add_str(improvements, "Say what you personally did, in the first person "
			    "(\"I decided...\", \"I built...\").");
		if (!e->result || !e->has_number)
			add_str(improvements, "End with the result: what changed, ideally with a "
			    "number (time saved, % improvement, users affected).");
	} else if (e->coding) {
		if (e->ncode_lines < 3)
			add_str(improvements, "Write the code itself, not only a description.");
		if (!e->complexity)
			add_str(improvements, "State the time and space complexity (e.g. O(n) "
			    "time, O(1) extra space).");
		if (!e->edges)
			add_str(improvements, "Mention the edge cases you handle: empty input, "
			    "duplicates, overflow, invalid values.");
	} else if (e->sc[D_STR] < 70) {
		add_str(improvements, "Explain your reasoning: say why, name a trade-off, and "
		    "give a short example.");
	}
	if (e->sc[D_SPEC] < 50) {
		if (e->nvague > 0)
			snprintf(buf, sizeof(buf), "Replace general claims (%s) with specifics: a "
			    "named project, technology or number.", e->vague_top);
		else
			snprintf(buf, sizeof(buf), "Add specifics: a named project, technology or "
			    "number that backs up what you say.");
		add_str(improvements, buf);
	}
	if (!e->coding && e->is_follow_up && e->w.n < 20)
		add_str(improvements, "Give a fuller answer: a few sentences that explain the "
		    "point asked about.");
	else if (!e->coding && !e->is_follow_up && e->w.n < 40)
		add_str(improvements, "Give a fuller answer: about 100-300 words is enough to "
		    "show depth.");
	else if (!e->coding && e->sc[D_LEN] < 100)
		add_str(improvements, "Tighten your answer: lead with the key points and cut "
		    "side stories.");
	if (e->sc[D_CLA] < 80 && e->nfillers > 0) {
		snprintf(buf, sizeof(buf), "Cut filler words - you used %zu, mostly %s; pause "
		    "silently instead.", e->nfillers, e->filler_top);
		add_str(improvements, buf);
	}
}

static void
eval_explain(const struct eval *e, char *ex, size_t size)
{
	size_t pos = 0, miss = first_missing(e), i;
	int dim;
	const char *lever;

	ex[0] = '\0';
	if (e->empty || e->nonsense) {
		app(ex, size, &pos, e->empty ? "No answer was given, so none of the %zu key "
		    "points could be credited (score %d/100). " : "The answer did not read as a "
		    "response to the question, so none of the %zu key points could be credited "
		    "(score %d/100). ", e->nkp, e->score);
		app_str(ex, size, &pos, "Answer in full sentences that cover: ");
		for (i = 0; i < e->nkp && i < 3; i++) {
			app_str(ex, size, &pos, i > 0 ? "; " : "");
			app_str(ex, size, &pos, kp_text(e, i));
		}
		app_str(ex, size, &pos, ".");
		return;
	}
	app(ex, size, &pos, "Scored %d/100: you covered %zu of %zu key points", e->score,
	    e->ncovered, e->nkp);
	if (gap_is(e, "result"))
		app(ex, size, &pos, " and you %s", e->result && e->has_number ?
		    "gave the measurable result that was missing" : e->result ?
		    "named a result but no number to show it" :
		    "still did not say what the result was");
	else if (e->behavioral)   /* a follow-up needs no situation of its own (D_STR) */
		app(ex, size, &pos, " and your story %s", !e->action ?
		    "does not yet follow situation, action, result" : !e->result ?
		    "describes what you did but not the result" : !e->has_number ?
		    "has a result but no number to show it" :
		    e->situation || e->is_follow_up ?
		    "follows STAR through to a measurable result" :
		    "shows what you did and a measurable result, but not the situation it "
		    "started from");
	app_str(ex, size, &pos, ". ");
	if (miss != SIZE_MAX) {
		app(ex, size, &pos, "Missing: \"%s\"", kp_text(e, miss));
		if (e->nkp - e->ncovered > 1)
			app(ex, size, &pos, " and %zu more", e->nkp - e->ncovered - 1);
		app_str(ex, size, &pos, ". ");
	}
	if (e->offtopic)
		app_str(ex, size, &pos, "The answer did not touch any key point of this "
		    "question, so its delivery could not earn more than 25 points. ");
	lever = eval_lever(e, &dim);
	if (e->sc[dim] < 100)
		app(ex, size, &pos, "The biggest gain would come from %s.", lever);
	if (dim != D_CLA && e->sc[D_CLA] < 80 && e->nfillers > 0)
		app(ex, size, &pos, " Filler words (%s) cost clarity points.", e->filler_top);
}

/* o[key] = v, for a key that is a string constant and not yet in o: json-c neither
 * copies it nor looks for it. */
static void
put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
	    JSON_C_OBJECT_KEY_IS_CONSTANT);
}

static json_object *
eval_follow_up(const struct eval *e)
{
	json_object *fu;
	const char *content = NULL, *gap = NULL;
	char buf[400];
	size_t miss = first_missing(e);

	if (e->empty || e->nonsense || e->is_follow_up)
		return NULL;
	if (e->behavioral && e->action && (!e->result || !e->has_number)) {
		content = "You described what you did - what was the measurable result?";
		gap = "result";
	} else if (!e->behavioral && miss != SIZE_MAX) {
		gap = kp_text(e, miss);
		if (miss == 0 && e->follow_up != NULL && *e->follow_up != '\0') {
			content = e->follow_up;
		} else {
			ai_gap_question(buf, sizeof(buf), gap);
			content = buf;
		}
	} else if (e->sc[D_SPEC] < 45 || (e->nvague > 0 && e->nnumbers == 0)) {
		content = "Can you give a concrete example - a specific project, technology or "
		    "number that backs that up?";
		gap = "specifics";
	}
	if (content == NULL)
		return NULL;
	fu = json_object_new_object();
	put(fu, "content", json_object_new_string(content));
	put(fu, "gap", json_object_new_string(gap));
	return fu;
}

static json_object *
eval_json(const struct eval *e, int allow_follow_up)
{
	json_object *o = json_object_new_object(), *rubric = json_object_new_object();
	json_object *covered = json_object_new_array(), *missing = json_object_new_array();
	json_object *strengths = json_object_new_array(), *improvements = json_object_new_array();
	char ex[1024];
	size_t i;

	if (o == NULL || rubric == NULL || covered == NULL || missing == NULL ||
	    strengths == NULL || improvements == NULL) {
		json_object_put(o);
		json_object_put(rubric);
		json_object_put(covered);
		json_object_put(missing);
		json_object_put(strengths);
		json_object_put(improvements);
		return NULL;
	}
	for (i = 0; i < D_N; i++) {
		json_object *d = json_object_new_object();

		put(d, "score", json_object_new_int((int)e->sc[i]));
		put(d, "weight", json_object_new_double_s(e->wt[i],
		    e->L->rubric->weight_text[e->wset][e->wvoice][i]));
		put(rubric, dim_names[i], d);
	}
	for (i = 0; i < e->nkp; i++)
		add_str(e->covered[i] ? covered : missing, kp_text(e, i));
	eval_lists(e, strengths, improvements);
	eval_explain(e, ex, sizeof(ex));
	put(o, "score", json_object_new_int(e->score));
	put(o, "provider", json_object_new_string("local"));
	put(o, "rubric", rubric);
	put(o, "covered", covered);
	put(o, "missing", missing);
	put(o, "strengths", strengths);
	put(o, "improvements", improvements);
	put(o, "explanation", json_object_new_string(ex));
	put(o, "follow_up", allow_follow_up ? eval_follow_up(e) : NULL);
	return o;
}

static int
question_is_behavioral(const struct local *L, json_object *q)
{
	const struct bq *b = ai_bank_find(L, cx_json_str(q, "source_id"));
	const char *mode = b != NULL ? b->mode : cx_json_str(q, "mode");

	if (mode != NULL)
		return strcmp(mode, "behavioral") == 0;
	return cx_json_str(q, "competency") != NULL;
}

int
ai_local_evaluate(void *impl, json_object *question, const char *answer,
    const char *answer_type, int allow_follow_up, json_object **out, struct cx_error *err)
{
	struct local *L = impl;
	struct eval e;
	/* Answers up to a few KB are analysed here: a large malloc() would make glibc
	 * consolidate its fast bins, which costs more than the analysis. */
	uint64_t words_buf[4096];
	const struct bq *b;
	const char *qtype;
	json_object *o;

	memset(&e, 0, sizeof(e));
	e.L = L;
	b = ai_bank_find(L, cx_json_str(question, "source_id"));
	if (b != NULL) {
		e.bank = b;
		e.key_points = b->key_points;
		e.keywords = b->keywords;
		e.follow_up = b->follow_up;
		qtype = b->type;
	} else {
		e.key_points = json_object_object_get(question, "key_points");
		e.keywords = json_object_object_get(question, "keywords");
		if (!json_object_is_type(e.keywords, json_type_array) ||
		    json_object_array_length(e.keywords) !=
		    json_object_array_length(e.key_points))
			e.keywords = NULL;
		qtype = cx_json_str(question, "type");
		if (!ai_is_string_array(e.key_points, 0))
			return cx_error_field(err, "question",
			    "unknown source_id and no key_points");
	}
	e.gap = cx_json_str(question, "gap");
	e.is_follow_up = e.gap != NULL ||
	    json_object_get_boolean(json_object_object_get(question, "is_follow_up"));
	e.behavioral = question_is_behavioral(L, question);
	e.coding = (qtype != NULL && strcmp(qtype, "coding") == 0) ||
	    strcmp(answer_type, "code") == 0;
	e.voice = strcmp(answer_type, "voice") == 0;
	e.answer = answer;
	e.alen = strnlen(answer, CX_AI_MAX_ANSWER);
	if ((e.named = calloc(L->nskills + 1, 1)) == NULL)
		return cx_error_internal(err, "out of memory evaluating an answer");
	if (ai_words_init_buf(&e.w, answer, CX_AI_MAX_ANSWER, words_buf,
	    sizeof(words_buf)) != 0 || (e.wf = calloc(e.w.n + 1, sizeof(*e.wf))) == NULL) {
		ai_words_free(&e.w);
		free(e.named);
		return cx_error_internal(err, "out of memory evaluating an answer");
	}
	eval_analyse(&e);
	eval_score(&e);
	o = eval_json(&e, allow_follow_up);
	ai_words_free(&e.w);
	free(e.wf);
	free(e.named);
	if (o == NULL)
		return cx_error_internal(err, "out of memory building feedback");
	*out = o;
	return CX_OK;
}

/* ---------------------------------------------------------------- summarize */

struct area_sum {
	const char *area;
	double sum, weight;
	size_t answered, n, nmissing;
	const char *missing[3];      /* borrowed key points still to study */
};

/* The area already lists point among those to study. */
static int
area_lists(const struct area_sum *a, const char *point)
{
	size_t i;

	for (i = 0; i < a->nmissing; i++)
		if (strcmp(a->missing[i], point) == 0)
			return 1;
	return 0;
}

static double
weighted(double sum, double weight)
{
	return weight > 0 ? ai_trunc0(sum / weight + 0.5) : 0;
}

static const char *
area_title(const struct local *L, const char *id)
{
	const struct area *a = ai_area_find(L, id);

	return a != NULL && a->title != NULL ? a->title : id != NULL ? id : "general";
}

static int
area_cmp(const void *pa, const void *pb)
{
	const struct area_sum *a = pa, *b = pb;
	double x = weighted(a->sum, a->weight), y = weighted(b->sum, b->weight);

	return x < y ? -1 : x > y ? 1 : strcmp(a->area, b->area);
}

static void
sum_recommend(const struct local *L, struct area_sum *as, size_t nas, const double *dim,
    size_t unanswered, int any_beh, json_object *recs)
{
	char buf[512];
	size_t i, j, pos;

	for (i = 0; i < nas && i < 3; i++) {
		double avg = weighted(as[i].sum, as[i].weight);

		if (i > 0 && avg >= 75)
			break;
		pos = 0;
		app(buf, sizeof(buf), &pos, "Study %s (scored %.0f/100)", area_title(L,
		    as[i].area), avg);
		if (as[i].nmissing > 0) {
			app(buf, sizeof(buf), &pos, ": review ");
			for (j = 0; j < as[i].nmissing; j++)
				app(buf, sizeof(buf), &pos, "%s%s", j > 0 ? "; " : "",
				    as[i].missing[j]);
		} else {
			app(buf, sizeof(buf), &pos, ": practise more questions in this area");
		}
		app(buf, sizeof(buf), &pos, ".");
		add_str(recs, buf);
	}
	if (any_beh && dim[D_STR] < 60)
		add_str(recs, "Practise the STAR method: for each story, name the situation, "
		    "what you did, and end with a measurable result.");
	if (dim[D_SPEC] < 55)
		add_str(recs, "Back each answer with specifics: numbers, named technologies "
		    "and a real example you worked on.");
	if (dim[D_CLA] < 70)
		add_str(recs, "Record yourself answering out loud and cut filler words such as "
		    "'um', 'like' and 'you know'.");
	if (unanswered > 0)
		add_str(recs, "Answer every question: even a partial answer earns credit.");
}

int
ai_local_summarize(void *impl, json_object *questions, json_object *feedbacks,
    json_object **out, struct cx_error *err)
{
	struct local *L = impl;
	struct area_sum as[CX_AI_MAX_QUESTIONS];
	size_t nq = json_object_array_length(questions), nas = 0, i, j, k, added, unanswered = 0;
	size_t answered = 0, pos = 0;
	int alike;
	double tot = 0, totw = 0, bs = 0, bw = 0, ts = 0, tw = 0, dim[D_N] = { 0 }, lo, hi;
	json_object *o = NULL, *strengths, *weaknesses, *recs;
	char buf[1024];

	memset(as, 0, sizeof(as));
	for (i = 0; i < nq; i++) {
		json_object *q = json_object_array_get_idx(questions, i);
		json_object *fb = json_object_array_get_idx(feedbacks, i), *v, *rubric, *miss;
		const char *area = cx_json_str(q, "area");
		double w = 1, score = 0;

		if (!json_object_is_type(q, json_type_object))
			return cx_error_field(err, "questions", "entry %zu is not an object", i);
		v = json_object_object_get(q, "time_minutes");
		if (json_object_is_type(v, json_type_int) && json_object_get_int(v) > 0)
			w = json_object_get_int(v) > 60 ? 60 : json_object_get_int(v);
		if (json_object_is_type(fb, json_type_object)) {
			v = json_object_object_get(fb, "score");
			score = json_object_get_int(v);
			score = score < 0 ? 0 : score > 100 ? 100 : score;
			answered++;
			rubric = json_object_object_get(fb, "rubric");
			for (j = 0; j < D_N; j++)
				dim[j] += json_object_get_int(json_object_object_get(
				    json_object_object_get(rubric, dim_names[j]), "score"));
		} else {
			unanswered++;
		}
		tot += score * w;
		totw += w;
		if (question_is_behavioral(L, q)) {
			bs += score * w;
			bw += w;
		} else {
			ts += score * w;
			tw += w;
		}
		if (area == NULL)
			area = "general";
		for (j = 0; j < nas; j++)
			if (strcmp(as[j].area, area) == 0)
				break;
		if (j == nas)
			as[nas++].area = area;
		as[j].sum += score * w;
		as[j].weight += w;
		as[j].n++;
		miss = json_object_is_type(fb, json_type_object) ? json_object_object_get(fb, "missing") :
		    json_object_object_get(q, "key_points");
		/* up to two points per question, most important first, three per area, each
		 * once (a follow-up probes a point its parent missed, and may miss it again) */
		for (k = 0, added = 0; json_object_is_type(miss, json_type_array) && added < 2 &&
		    k < json_object_array_length(miss) && as[j].nmissing < 3; k++) {
			const char *point = json_object_get_string(json_object_array_get_idx(miss, k));

			if (point != NULL && !area_lists(&as[j], point)) {
				as[j].missing[as[j].nmissing++] = point;
				added++;
			}
		}
	}
	for (j = 0; j < D_N; j++)
		dim[j] = answered > 0 ? dim[j] / (double)answered : 0;
	qsort(as, nas, sizeof(as[0]), area_cmp);

	o = json_object_new_object();
	strengths = json_object_new_array();
	weaknesses = json_object_new_array();
	recs = json_object_new_array();
	if (o == NULL || strengths == NULL || weaknesses == NULL || recs == NULL) {
		json_object_put(o);
		json_object_put(strengths);
		json_object_put(weaknesses);
		json_object_put(recs);
		return cx_error_internal(err, "out of memory summarizing");
	}
	for (i = nas; i-- > 0;) {
		double avg = weighted(as[i].sum, as[i].weight);

		snprintf(buf, sizeof(buf), "%s: %.0f/100.", area_title(L, as[i].area), avg);
		if (avg >= 75)
			add_str(strengths, buf);
		else if (avg < 60)
			json_object_array_add(weaknesses, json_object_new_string(buf));
	}
	if (answered > 0 && dim[D_COV] >= 75)
		add_str(strengths, "You covered most key points.");
	if (answered > 0 && dim[D_SPEC] >= 75)
		add_str(strengths, "Concrete, specific examples.");
	if (answered > 0 && dim[D_CLA] >= 90)
		add_str(strengths, "Clear delivery with few filler words.");
	if (answered > 0 && dim[D_COV] < 50)
		add_str(weaknesses, "Many key points were missed.");
	if (answered > 0 && dim[D_SPEC] < 50)
		add_str(weaknesses, "Answers lacked specifics: numbers, technologies, examples.");
	if (answered > 0 && dim[D_CLA] < 70)
		add_str(weaknesses, "Filler words made answers harder to follow.");
	if (unanswered > 0) {
		snprintf(buf, sizeof(buf), "%zu of %zu questions unanswered.", unanswered, nq);
		add_str(weaknesses, buf);
	}
	sum_recommend(L, as, nas, dim, unanswered, bw > 0, recs);

	app(buf, sizeof(buf), &pos, "Overall score %.0f/100 over %zu question%s",
	    weighted(tot, totw), nq, nq == 1 ? "" : "s");
	if (bw > 0 && tw > 0)
		app(buf, sizeof(buf), &pos, " (behavioral %.0f, technical %.0f)",
		    weighted(bs, bw), weighted(ts, tw));
	app(buf, sizeof(buf), &pos, ". ");
	/* as[] is sorted weakest first: the first and the last score alike only when all do */
	lo = nas > 0 ? weighted(as[0].sum, as[0].weight) : 0;
	hi = nas > 0 ? weighted(as[nas - 1].sum, as[nas - 1].weight) : 0;
	alike = nas > 1 && lo == hi;
	if (alike && nas == 2)
		app(buf, sizeof(buf), &pos, "Both areas, %s and %s, scored %.0f. ",
		    area_title(L, as[0].area), area_title(L, as[1].area), lo);
	else if (alike)
		app(buf, sizeof(buf), &pos, "All %zu areas scored %.0f. ", nas, lo);
	else if (nas > 1)
		app(buf, sizeof(buf), &pos, "Your strongest area was %s (%.0f) and your "
		    "weakest was %s (%.0f). ", area_title(L, as[nas - 1].area), hi,
		    area_title(L, as[0].area), lo);
	if (unanswered > 0)
		app(buf, sizeof(buf), &pos, "%zu question%s went unanswered and counted as 0. ",
		    unanswered, unanswered == 1 ? "" : "s");
	if (alike)
		app(buf, sizeof(buf), &pos, "Prepare them side by side, starting with the key "
		    "points the recommendations name.");
	else if (nas > 0)
		app(buf, sizeof(buf), &pos, "Focus your preparation on %s first.",
		    area_title(L, as[0].area));

	json_object_object_add(o, "total_score", json_object_new_int((int)weighted(tot, totw)));
	json_object_object_add(o, "behavioral_score", bw > 0 ?
	    json_object_new_int((int)weighted(bs, bw)) : NULL);
	json_object_object_add(o, "technical_score", tw > 0 ?
	    json_object_new_int((int)weighted(ts, tw)) : NULL);
	json_object_object_add(o, "feedback", json_object_new_string(buf));
	json_object_object_add(o, "strengths", strengths);
	json_object_object_add(o, "weaknesses", weaknesses);
	json_object_object_add(o, "recommendations", recs);
	json_object_object_add(o, "provider", json_object_new_string("local"));
	*out = o;
	return CX_OK;
}

