/* cx_ai_local: the built-in interviewer — a curated question bank and a transparent rubric. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cx_ai.h"
#include "cx_ai_impl.h"
#include "cx_json.h"
#include "cx_log.h"

#define BANK_MAX_FILE      (4 * 1024 * 1024)
#define BANK_MAX_FILES     128
#define BANK_MAX_QUESTIONS 10000
#define BANK_MAX_KEYPOINTS 12

enum { LV_JUNIOR = 1, LV_MID = 2, LV_SENIOR = 4 };

struct skill {
	const char *id, *area;
	json_object *aliases;        /* array of strings, borrowed from the skills file */
};

struct area {
	const char *id, *title, *mode;
};

struct bq {                      /* one bank question; strings borrowed from its file */
	const char *id, *area, *mode, *type, *competency, *content, *follow_up;
	json_object *skills, *key_points, *keywords;
	unsigned levels;
	int time_minutes;
	size_t area_idx, file_idx;
};

struct local {
	json_object *files[BANK_MAX_FILES];
	char *names[BANK_MAX_FILES];   /* file names, for messages */
	size_t nfiles;
	json_object *skills_json;
	struct skill *skills;
	size_t nskills;
	struct area *areas;
	size_t nareas;
	struct bq *qs;
	size_t nqs;
};

/* floor() for the non-negative values used here, without libm. */
static double
trunc0(double v)
{
	return v <= 0 ? 0 : (double)(long long)v;
}

/* ---------------------------------------------------------------- words */

/* Text as lowercase words (letters, digits, '+', '#', UTF-8 bytes) with a light stem that
 * makes plurals match their singular. Every comparison in this file goes through it. */
struct words {
	char *raw, *stem;
	const char **r, **s;
	size_t n;
};

static int
is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '#' || c >= 0x80;
}

static int
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static void
stem_inplace(char *s)
{
	size_t len = strlen(s);

	if (len > 4 && ends_with(s, len, "ies")) {
		s[len - 3] = 'y';
		s[len - 2] = '\0';
	} else if (len > 4 && (ends_with(s, len, "sses") || ends_with(s, len, "xes") ||
	    ends_with(s, len, "ches") || ends_with(s, len, "shes"))) {
		s[len - 2] = '\0';
	} else if (len > 3 && s[len - 1] == 's' && s[len - 2] != 's' && s[len - 2] != 'u' &&
	    s[len - 2] != 'i') {
		s[len - 1] = '\0';
	}
}

static void
words_free(struct words *w)
{
	free(w->raw);
	free(w->stem);
	free(w->r);
	free(w->s);
	memset(w, 0, sizeof(*w));
}

static int
words_init(struct words *w, const char *text, size_t max)
{
	size_t len, i, n = 0, cap;
	int in_word = 0;

	memset(w, 0, sizeof(*w));
	len = text != NULL ? strnlen(text, max) : 0;
	cap = len / 2 + 1;
	w->raw = malloc(len + 1);
	w->stem = malloc(len + 1);
	w->r = calloc(cap, sizeof(*w->r));
	w->s = calloc(cap, sizeof(*w->s));
	if (w->raw == NULL || w->stem == NULL || w->r == NULL || w->s == NULL) {
		words_free(w);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (is_word_byte(c)) {
			w->raw[i] = (char)tolower(c);
			if (!in_word && n < cap)
				w->r[n++] = w->raw + i;
			in_word = 1;
		} else {
			w->raw[i] = '\0';
			in_word = 0;
		}
	}
	w->raw[len] = '\0';
	memcpy(w->stem, w->raw, len + 1);
	for (i = 0; i < n; i++) {
		w->s[i] = w->stem + (w->r[i] - w->raw);
		stem_inplace((char *)w->s[i]);
	}
	w->n = n;
	return 0;
}

/* How often phrase occurs in text as whole words (stems compared); at most `limit`. */
static size_t
phrase_count(const struct words *text, const char *phrase, size_t limit)
{
	struct words p;
	size_t i, j, count = 0;

	if (text->n == 0 || words_init(&p, phrase, 256) != 0)
		return 0;
	if (p.n == 0 || p.n > text->n)
		goto out;
	for (i = 0; i + p.n <= text->n && count < limit; i++) {
		for (j = 0; j < p.n; j++)
			if (strcmp(text->s[i + j], p.s[j]) != 0)
				break;
		if (j == p.n)
			count++;
	}
out:
	words_free(&p);
	return count;
}

static int
phrase_in(const struct words *text, const char *phrase)
{
	return phrase_count(text, phrase, 1) > 0;
}

/* 1 when any phrase of the NULL-terminated list occurs. */
static int
any_in(const struct words *text, const char *const *phrases)
{
	for (; *phrases != NULL; phrases++)
		if (phrase_in(text, *phrases))
			return 1;
	return 0;
}

static size_t
count_all(const struct words *text, const char *const *phrases)
{
	size_t n = 0;

	for (; *phrases != NULL; phrases++)
		n += phrase_count(text, *phrases, SIZE_MAX);
	return n;
}

static int
is_number_word(const char *w)
{
	return isdigit((unsigned char)w[0]);
}

/* ---------------------------------------------------------------- loading */

static int
bank_bad(struct cx_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
bank_bad(struct cx_error *err, const char *path, const char *fmt, ...)
{
	char why[160];
	const char *base = strrchr(path, '/');
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cx_logf(CX_LOG_ERROR, "AI question bank: %s: %s", path, why);
	return cx_error_set(err, CX_EVALIDATION, "Question bank file %s: %s",
	    base != NULL ? base + 1 : path, why);
}

static int
read_json_file(const char *path, json_object **out, struct cx_error *err)
{
	FILE *fp = NULL;
	char *buf = NULL;
	struct stat st;
	struct cx_error perr = { 0 };
	size_t got;
	int rc = CX_OK;

	fp = fopen(path, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		cx_logf(CX_LOG_ERROR, "AI question bank: cannot open %s: %s", path,
		    strerror(errno));
		rc = cx_error_set(err, CX_EINTERNAL, "Cannot read question bank file %s", path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > BANK_MAX_FILE) {
		rc = bank_bad(err, path, "size must be 1..%d bytes", BANK_MAX_FILE);
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL) {
		rc = cx_error_internal(err, "out of memory reading %s", path);
		goto out;
	}
	got = fread(buf, 1, (size_t)st.st_size, fp);
	if (got != (size_t)st.st_size) {
		rc = cx_error_set(err, CX_EINTERNAL, "Cannot read question bank file %s", path);
		goto out;
	}
	if (cx_json_parse(buf, got, out, &perr) != CX_OK)
		rc = bank_bad(err, path, "not valid JSON");
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return rc;
}

static int
is_string_array(json_object *a, size_t min)
{
	size_t i, n;

	if (!json_object_is_type(a, json_type_array))
		return 0;
	n = json_object_array_length(a);
	if (n < min)
		return 0;
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string) ||
		    json_object_get_string_len(s) == 0)
			return 0;
	}
	return 1;
}

static unsigned
level_bit(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "junior") == 0)
		return LV_JUNIOR;
	if (strcmp(s, "mid") == 0)
		return LV_MID;
	if (strcmp(s, "senior") == 0)
		return LV_SENIOR;
	return 0;
}

static const char *
level_name(unsigned bit)
{
	return bit == LV_JUNIOR ? "junior" : bit == LV_MID ? "mid" : "senior";
}

static size_t
area_add(struct local *L, const char *id, const char *title, const char *mode)
{
	size_t i;

	for (i = 0; i < L->nareas; i++)
		if (strcmp(L->areas[i].id, id) == 0)
			return i;
	L->areas[L->nareas].id = id;
	L->areas[L->nareas].title = title;
	L->areas[L->nareas].mode = mode;
	return L->nareas++;
}

/* 0 or minus the index of the problem in question_problem[]. */
static int
load_question(struct local *L, json_object *q, size_t area_idx, const char *mode)
{
	struct bq *b = &L->qs[L->nqs];
	json_object *v, *levels;
	size_t i, nkp;

	memset(b, 0, sizeof(*b));
	b->id = cx_json_str(q, "id");
	if (b->id == NULL || *b->id == '\0')
		return -1;
	levels = json_object_object_get(q, "levels");
	if (!is_string_array(levels, 1))
		return -2;
	for (i = 0; i < json_object_array_length(levels); i++) {
		unsigned bit = level_bit(json_object_get_string(
		    json_object_array_get_idx(levels, i)));

		if (bit == 0)
			return -2;
		b->levels |= bit;
	}
	b->type = cx_json_str(q, "type");
	if (b->type == NULL || (strcmp(b->type, "text") != 0 && strcmp(b->type, "voice") != 0 &&
	    strcmp(b->type, "coding") != 0))
		return -3;
	v = json_object_object_get(q, "competency");
	if (v != NULL && !json_object_is_type(v, json_type_null) &&
	    !json_object_is_type(v, json_type_string))
		return -4;
	b->competency = cx_json_str(q, "competency");
	b->skills = json_object_object_get(q, "skills");
	if (!is_string_array(b->skills, 0))
		return -5;
	b->content = cx_json_str(q, "content");
	if (b->content == NULL || *b->content == '\0')
		return -6;
	b->key_points = json_object_object_get(q, "key_points");
	if (!is_string_array(b->key_points, 1) ||
	    json_object_array_length(b->key_points) > BANK_MAX_KEYPOINTS)
		return -7;
	nkp = json_object_array_length(b->key_points);
	b->keywords = json_object_object_get(q, "keywords");
	if (!json_object_is_type(b->keywords, json_type_array) ||
	    json_object_array_length(b->keywords) != nkp)
		return -8;
	for (i = 0; i < nkp; i++)
		if (!is_string_array(json_object_array_get_idx(b->keywords, i), 1))
			return -8;
	v = json_object_object_get(q, "follow_up");
	if (v != NULL && !json_object_is_type(v, json_type_null) &&
	    !json_object_is_type(v, json_type_string))
		return -9;
	b->follow_up = cx_json_str(q, "follow_up");
	b->time_minutes = 4;
	v = json_object_object_get(q, "time_minutes");
	if (v != NULL) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
		    json_object_get_int(v) > 60)
			return -10;
		b->time_minutes = json_object_get_int(v);
	}
	b->area_idx = area_idx;
	b->file_idx = L->nfiles - 1;
	b->area = L->areas[area_idx].id;
	b->mode = mode;
	L->nqs++;
	return 0;
}

static const char *const question_problem[] = {
	"", "missing id", "levels must be a non-empty list of junior|mid|senior",
	"type must be text, voice or coding", "competency must be null or a string",
	"skills must be a list of strings", "missing content",
	"key_points must be a list of 1..12 strings",
	"keywords must hold one non-empty list of strings per key point",
	"follow_up must be a string or null", "time_minutes must be an integer 1..60",
};

static int
load_area_file(struct local *L, const char *path, struct cx_error *err)
{
	json_object *root = NULL, *questions;
	const char *area, *mode, *title;
	size_t i, n, area_idx;
	int rc;

	if (L->nfiles >= BANK_MAX_FILES)
		return bank_bad(err, path, "too many question files (max %d)", BANK_MAX_FILES);
	rc = read_json_file(path, &root, err);
	if (rc != CX_OK)
		return rc;
	L->files[L->nfiles++] = root;   /* freed with the bank */
	area = cx_json_str(root, "area");
	mode = cx_json_str(root, "mode");
	title = cx_json_str(root, "title");
	questions = json_object_object_get(root, "questions");
	if (area == NULL || *area == '\0')
		return bank_bad(err, path, "missing \"area\"");
	if (mode == NULL || (strcmp(mode, "technical") != 0 && strcmp(mode, "behavioral") != 0))
		return bank_bad(err, path, "\"mode\" must be technical or behavioral");
	if (!json_object_is_type(questions, json_type_array))
		return bank_bad(err, path, "\"questions\" must be an array");
	n = json_object_array_length(questions);
	if (L->nqs + n > BANK_MAX_QUESTIONS)
		return bank_bad(err, path, "too many questions (bank max %d)",
		    BANK_MAX_QUESTIONS);
	area_idx = area_add(L, area, title != NULL ? title : area, mode);
	for (i = 0; i < n; i++) {
		json_object *q = json_object_array_get_idx(questions, i);
		const char *qid;

		if (!json_object_is_type(q, json_type_object))
			return bank_bad(err, path, "question %zu is not an object", i + 1);
		rc = load_question(L, q, area_idx, mode);
		if (rc != 0) {
			qid = cx_json_str(q, "id");
			return bank_bad(err, path, "question %s: %s",
			    qid != NULL ? qid : "(no id)", question_problem[-rc]);
		}
	}
	return CX_OK;
}

static int
load_skills(struct local *L, const char *path, struct cx_error *err)
{
	json_object *list;
	size_t i, n;
	int rc;

	rc = read_json_file(path, &L->skills_json, err);
	if (rc != CX_OK)
		return rc;
	list = json_object_object_get(L->skills_json, "skills");
	if (!json_object_is_type(list, json_type_array))
		return bank_bad(err, path, "\"skills\" must be an array");
	n = json_object_array_length(list);
	L->skills = calloc(n + 1, sizeof(*L->skills));
	if (L->skills == NULL)
		return cx_error_internal(err, "out of memory loading skills");
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(list, i);
		struct skill *k = &L->skills[i];

		k->id = cx_json_str(s, "id");
		k->area = cx_json_str(s, "area");
		k->aliases = json_object_object_get(s, "aliases");
		if (k->id == NULL || *k->id == '\0' || k->area == NULL ||
		    !is_string_array(k->aliases, 0))
			return bank_bad(err, path, "skill %zu needs id, area and aliases[]",
			    i + 1);
	}
	L->nskills = n;
	return CX_OK;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
bq_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bq *)a)->id, ((const struct bq *)b)->id);
}

static void
local_free(void *impl)
{
	struct local *L = impl;
	size_t i;

	if (L == NULL)
		return;
	for (i = 0; i < L->nfiles; i++)
		json_object_put(L->files[i]);
	for (i = 0; i < BANK_MAX_FILES; i++)
		free(L->names[i]);
	json_object_put(L->skills_json);
	free(L->skills);
	free(L->areas);
	free(L->qs);
	free(L);
}

static int
load_bank(struct local *L, const char *dir, struct cx_error *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = L->names;   /* kept for messages, freed with the bank */
	char path[4096];
	size_t n = 0, i;
	int rc = CX_OK;

	d = opendir(dir);
	if (d == NULL) {
		cx_logf(CX_LOG_ERROR, "AI question bank: cannot open %s: %s", dir,
		    strerror(errno));
		return cx_error_set(err, CX_EINTERNAL, "Cannot read question bank directory %s",
		    dir);
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (n == BANK_MAX_FILES) {
			rc = bank_bad(err, dir, "more than %d question files", BANK_MAX_FILES);
			goto out;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = cx_error_internal(err, "out of memory listing %s", dir);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		rc = bank_bad(err, dir, "no *.json question files");
		goto out;
	}
	qsort(names, n, sizeof(names[0]), name_cmp);   /* same bank order on every host */
	L->areas = calloc(n, sizeof(*L->areas));
	L->qs = calloc(BANK_MAX_QUESTIONS, sizeof(*L->qs));
	if (L->areas == NULL || L->qs == NULL) {
		rc = cx_error_internal(err, "out of memory loading question bank");
		goto out;
	}
	for (i = 0; i < n && rc == CX_OK; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
			rc = bank_bad(err, names[i], "path too long");
		else
			rc = load_area_file(L, path, err);
	}
	if (rc != CX_OK)
		goto out;
	qsort(L->qs, L->nqs, sizeof(*L->qs), bq_id_cmp);
	for (i = 1; i < L->nqs; i++)
		if (strcmp(L->qs[i - 1].id, L->qs[i].id) == 0) {
			rc = bank_bad(err, names[L->qs[i].file_idx], "question id %s is also in %s",
			    L->qs[i].id, names[L->qs[i - 1].file_idx]);
			goto out;
		}
out:
	closedir(d);
	return rc;
}

static const struct cx_ai_ops local_ops;

int
cx_ai_open_local(const char *questions_dir, const char *skills_path, struct cx_ai **out,
    struct cx_error *err)
{
	struct local *L;
	int rc;

	if (questions_dir == NULL || skills_path == NULL || out == NULL)
		return cx_error_internal(err, "cx_ai_open_local: NULL argument");
	L = calloc(1, sizeof(*L));
	if (L == NULL)
		return cx_error_internal(err, "out of memory opening local AI");
	rc = load_skills(L, skills_path, err);
	if (rc == CX_OK)
		rc = load_bank(L, questions_dir, err);
	if (rc != CX_OK) {
		local_free(L);
		return rc;
	}
	cx_logf(CX_LOG_INFO, "AI local provider: %zu questions in %zu areas, %zu skills",
	    L->nqs, L->nareas, L->nskills);
	return cx_ai_new(&local_ops, L, out, err);
}

static const struct bq *
bank_find(const struct local *L, const char *id)
{
	struct bq key;

	if (id == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.id = id;
	return bsearch(&key, L->qs, L->nqs, sizeof(*L->qs), bq_id_cmp);
}

static const struct area *
area_find(const struct local *L, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < L->nareas; i++)
		if (strcmp(L->areas[i].id, id) == 0)
			return &L->areas[i];
	return NULL;
}

static long
skill_find(const struct local *L, const char *id)
{
	size_t i;

	for (i = 0; i < L->nskills; i++)
		if (strcmp(L->skills[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* 1 when text names skill k: any alias as whole words, or its id when it has no aliases
 * (the aliases decide, so an id like "go" does not match the verb). */
static int
skill_named(const struct skill *k, const struct words *text)
{
	size_t i;

	if (json_object_array_length(k->aliases) == 0)
		return phrase_in(text, k->id);
	for (i = 0; i < json_object_array_length(k->aliases); i++)
		if (phrase_in(text, json_object_get_string(
		    json_object_array_get_idx(k->aliases, i))))
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- generate */

static uint64_t
seed_hash(const char *seed, const char *id)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)(seed != NULL ? seed : ""); *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static int
level_distance(unsigned levels, unsigned want)
{
	int w = want == LV_JUNIOR ? 0 : want == LV_MID ? 1 : 2, best = 9, i;

	for (i = 0; i < 3; i++)
		if ((levels & (1u << i)) && abs(i - w) < best)
			best = abs(i - w);
	return best;
}

static unsigned
nearest_level(unsigned levels, unsigned want)
{
	int w = want == LV_JUNIOR ? 0 : want == LV_MID ? 1 : 2, d, i;

	for (d = 0; d < 3; d++)
		for (i = w - d; i <= w + d; i += (d == 0 ? 1 : 2 * d))
			if (i >= 0 && i < 3 && (levels & (1u << i)))
				return 1u << i;
	return want;
}

static char *
join_context(const char *a, const char *b, const char *const *list, size_t nlist)
{
	size_t la = a != NULL ? strnlen(a, CX_AI_MAX_CONTEXT) : 0;
	size_t lb = b != NULL ? strnlen(b, CX_AI_MAX_CONTEXT) : 0;
	size_t total = la + lb + 4, i, pos;
	char *s;

	for (i = 0; i < nlist; i++)
		total += strnlen(list[i], 100) + 3;
	s = malloc(total);
	if (s == NULL)
		return NULL;
	pos = (size_t)snprintf(s, total, "%.*s . %.*s", (int)la, a != NULL ? a : "", (int)lb,
	    b != NULL ? b : "");
	for (i = 0; i < nlist && pos < total; i++)
		pos += (size_t)snprintf(s + pos, total - pos, " . %.100s", list[i]);
	return s;
}

struct gen {
	const struct local *L;
	const struct cx_ai_spec *spec;
	int *skill_weight;       /* per taxonomy skill: 0 none, 1 resume, 2 job, 3 focus */
	int *area_focus;         /* per area: focus area named explicitly */
	int *area_rel;           /* per area: some matched skill lives there */
	struct words job, resume;
};

static int
gen_match_context(struct gen *g)
{
	const struct local *L = g->L;
	const struct cx_ai_spec *sp = g->spec;
	char *job = NULL;
	size_t i, j;
	int rc = -1;

	job = join_context(sp->job_title, sp->job_description, sp->focus_areas, sp->nfocus);
	if (job == NULL || words_init(&g->job, job, 3 * CX_AI_MAX_CONTEXT) != 0 ||
	    words_init(&g->resume, sp->resume_text, CX_AI_MAX_CONTEXT) != 0)
		goto out;
	for (i = 0; i < L->nskills; i++) {
		if (skill_named(&L->skills[i], &g->job))
			g->skill_weight[i] = 2;
		else if (skill_named(&L->skills[i], &g->resume))
			g->skill_weight[i] = 1;
	}
	for (j = 0; j < sp->nfocus; j++) {
		struct words f;

		for (i = 0; i < L->nareas; i++)
			if (strcasecmp(sp->focus_areas[j], L->areas[i].id) == 0 ||
			    strcasecmp(sp->focus_areas[j], L->areas[i].title) == 0)
				g->area_focus[i] = 1;
		if (words_init(&f, sp->focus_areas[j], 100) != 0)
			goto out;
		for (i = 0; i < L->nskills; i++)
			if (f.n > 0 && skill_named(&L->skills[i], &f))
				g->skill_weight[i] = 3;
		words_free(&f);
	}
	for (i = 0; i < L->nskills; i++) {
		const struct area *a = area_find(L, L->skills[i].area);

		if (g->skill_weight[i] > 0 && a != NULL)
			g->area_rel[a - L->areas] = 1;
	}
	rc = 0;
out:
	free(job);
	return rc;
}

/* Fit of a bank question to the session before spreading: skills named in the job,
 * resume or focus areas count most, then an explicitly chosen area, then a related one. */
static double
gen_fit(const struct gen *g, const struct bq *b, json_object *matched)
{
	size_t i;
	double fit = 0;
	int counted = 0;

	for (i = 0; i < json_object_array_length(b->skills); i++) {
		const char *sid = json_object_get_string(json_object_array_get_idx(b->skills, i));
		long k = skill_find(g->L, sid);
		int w = k >= 0 ? g->skill_weight[k] : 0;

		if (k < 0 && (phrase_in(&g->job, sid) || phrase_in(&g->resume, sid)))
			w = phrase_in(&g->job, sid) ? 2 : 1;
		if (w == 0)
			continue;
		if (counted++ < 3)
			fit += 10.0 * w;
		if (matched != NULL)
			json_object_array_add(matched, json_object_new_string(sid));
	}
	if (g->area_focus[b->area_idx])
		fit += 15;
	else if (g->area_rel[b->area_idx])
		fit += 10;
	return fit;
}

static json_object *
deep_copy(json_object *src)
{
	json_object *dst = NULL;

	if (json_object_deep_copy(src, &dst, NULL) != 0)
		return NULL;
	return dst;
}

static json_object *
jstr(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

static json_object *
question_json(const struct gen *g, const struct bq *b, int n, unsigned want_level)
{
	json_object *o = json_object_new_object(), *matched = json_object_new_array();
	unsigned lv = nearest_level(b->levels, want_level);
	char id[16];

	if (o == NULL || matched == NULL) {
		json_object_put(o);
		json_object_put(matched);
		return NULL;
	}
	snprintf(id, sizeof(id), "q%d", n);
	gen_fit(g, b, matched);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "source_id", json_object_new_string(b->id));
	json_object_object_add(o, "area", json_object_new_string(b->area));
	json_object_object_add(o, "mode", json_object_new_string(b->mode));
	json_object_object_add(o, "type", json_object_new_string(b->type));
	json_object_object_add(o, "content", json_object_new_string(b->content));
	json_object_object_add(o, "key_points", deep_copy(b->key_points));
	json_object_object_add(o, "competency", jstr(b->competency));
	json_object_object_add(o, "skills", deep_copy(b->skills));
	json_object_object_add(o, "time_minutes", json_object_new_int(b->time_minutes));
	json_object_object_add(o, "matched_skills", matched);
	json_object_object_add(o, "level", json_object_new_string(level_name(lv)));
	if (lv != want_level) {
		char note[160];

		snprintf(note, sizeof(note), "Asked at %s level: the bank had too few %s "
		    "questions that fit this session", level_name(lv), level_name(want_level));
		json_object_object_add(o, "level_note", json_object_new_string(note));
	}
	return o;
}

static int
type_index(const char *type)
{
	return strcmp(type, "voice") == 0 ? 1 : strcmp(type, "coding") == 0 ? 2 : 0;
}

/* Greedy pick: best fit first, every pick penalising more of the same area, competency
 * and type so the interview spreads; exact-level questions always beat adjacent levels. */
static size_t
gen_pick(const struct gen *g, const double *fit, const int *dist, unsigned char *used,
    size_t *chosen, size_t count)
{
	const struct local *L = g->L;
	int technical = strcmp(g->spec->mode, "technical") == 0;
	size_t beh_quota = technical ? count / 5 : count;
	size_t coding_cap = technical ? (count + 2) / 3 : 0;
	size_t nchosen = 0, nbeh = 0, i, j, area_count[BANK_MAX_FILES] = { 0 };
	size_t type_count[3] = { 0 };

	while (nchosen < count) {
		double bestv = -1e18;
		size_t best = SIZE_MAX;

		for (i = 0; i < L->nqs; i++) {
			const struct bq *b = &L->qs[i];
			int is_beh = strcmp(b->mode, "behavioral") == 0;
			int t = type_index(b->type);
			double v;

			if (used[i] || dist[i] > 2)
				continue;
			if (is_beh && technical && nbeh >= beh_quota)
				continue;
			if (!is_beh && !technical)
				continue;
			if (t == 2 && type_count[2] >= coding_cap)
				continue;
			v = fit[i] + (double)(seed_hash(g->spec->seed, b->id) % 6000) / 1000.0;
			v -= 8.0 * (double)area_count[b->area_idx];
			v -= 3.0 * (double)type_count[t];
			for (j = 0; b->competency != NULL && j < nchosen; j++)
				if (L->qs[chosen[j]].competency != NULL &&
				    strcmp(L->qs[chosen[j]].competency, b->competency) == 0)
					v -= 6.0;
			v -= 1000.0 * dist[i];
			if (v > bestv) {
				bestv = v;
				best = i;
			}
		}
		if (best == SIZE_MAX)
			break;
		used[best] = 1;
		chosen[nchosen++] = best;
		area_count[L->qs[best].area_idx]++;
		type_count[type_index(L->qs[best].type)]++;
		if (strcmp(L->qs[best].mode, "behavioral") == 0)
			nbeh++;
	}
	return nchosen;
}

static int
local_generate(void *impl, const struct cx_ai_spec *spec, json_object **out,
    struct cx_error *err)
{
	struct local *L = impl;
	struct gen g;
	double *fit = NULL;
	int *dist = NULL;
	unsigned char *used = NULL;
	size_t chosen[CX_AI_MAX_QUESTIONS], n, i;
	unsigned want = level_bit(spec->level);
	json_object *arr = NULL;
	int rc = CX_OK;

	memset(&g, 0, sizeof(g));
	g.L = L;
	g.spec = spec;
	g.skill_weight = calloc(L->nskills + 1, sizeof(int));
	g.area_focus = calloc(L->nareas + 1, sizeof(int));
	g.area_rel = calloc(L->nareas + 1, sizeof(int));
	fit = calloc(L->nqs + 1, sizeof(double));
	dist = calloc(L->nqs + 1, sizeof(int));
	used = calloc(L->nqs + 1, 1);
	if (g.skill_weight == NULL || g.area_focus == NULL || g.area_rel == NULL ||
	    fit == NULL || dist == NULL || used == NULL || gen_match_context(&g) != 0) {
		rc = cx_error_internal(err, "out of memory choosing questions");
		goto out;
	}
	for (i = 0; i < L->nqs; i++) {
		const struct bq *b = &L->qs[i];

		fit[i] = gen_fit(&g, b, NULL);
		dist[i] = level_distance(b->levels, want);
		if (strcmp(spec->mode, "behavioral") == 0 && strcmp(b->type, "coding") == 0)
			dist[i] = 99;
	}
	n = gen_pick(&g, fit, dist, used, chosen, (size_t)spec->question_count);
	if (n == 0) {
		rc = cx_error_set(err, CX_EUNAVAIL, "No %s questions are available",
		    spec->mode);
		goto out;
	}
	arr = json_object_new_array();
	for (i = 0; arr != NULL && i < n; i++) {
		json_object *q = question_json(&g, &L->qs[chosen[i]], (int)i + 1, want);

		if (q == NULL || json_object_array_add(arr, q) != 0) {
			json_object_put(q);
			break;
		}
	}
	if (arr == NULL || json_object_array_length(arr) != n) {
		rc = cx_error_internal(err, "out of memory building questions");
		goto out;
	}
	if (n < (size_t)spec->question_count)
		cx_logf(CX_LOG_WARN, "AI local: only %zu of %d %s questions available", n,
		    spec->question_count, spec->mode);
	*out = arr;
	arr = NULL;
out:
	json_object_put(arr);
	words_free(&g.job);
	words_free(&g.resume);
	free(g.skill_weight);
	free(g.area_focus);
	free(g.area_rel);
	free(fit);
	free(dist);
	free(used);
	return rc;
}

/* ---------------------------------------------------------------- evaluate */

enum { D_COV, D_STR, D_SPEC, D_LEN, D_CLA, D_N };
static const char *const dim_names[D_N] = {
	"coverage", "structure", "specificity", "length", "clarity"
};

struct eval {
	const struct local *L;
	struct words w;
	const char *answer;
	size_t alen;
	int behavioral, coding, voice;
	json_object *key_points;     /* borrowed */
	json_object *keywords;       /* borrowed, may be NULL */
	const char *follow_up;       /* the bank's, may be NULL */
	size_t nkp, ncovered;
	int covered[BANK_MAX_KEYPOINTS];
	int situation, action, result, has_number;
	int approach, complexity, edges;
	size_t nnumbers, nskills, nvague, nfillers, ncode_lines, nsentences, nconnectors;
	char skills_named[128], filler_top[128], vague_top[96];
	int empty, nonsense, offtopic;
	double sc[D_N], wt[D_N];
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

static const char *
kp_text(const struct eval *e, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(e->key_points, i));
}

static const char *const stopwords[] = {
	"the", "a", "an", "i", "we", "to", "and", "of", "in", "it", "is", "was", "that", "for",
	"on", "with", "my", "our", "you", "this", "be", "are", "as", "at", "by", "or", "if",
	"then", "so", "but", "not", "they", "me", "us", "have", "had", "would", "will", "can",
	"use", "do", "did", "what", "when", "how", "which", "from", NULL
};

/* Key point i is covered when any of its synonyms occurs; without keywords, when at
 * least half of the key point's longer words occur. */
static int
kp_covered(const struct eval *e, size_t i)
{
	json_object *syn = e->keywords != NULL ? json_object_array_get_idx(e->keywords, i) : NULL;
	struct words k;
	size_t j, sig = 0, hit = 0;

	if (json_object_is_type(syn, json_type_array)) {
		for (j = 0; j < json_object_array_length(syn); j++)
			if (phrase_in(&e->w, json_object_get_string(
			    json_object_array_get_idx(syn, j))))
				return 1;
		return 0;
	}
	if (words_init(&k, kp_text(e, i), 512) != 0)
		return 0;
	for (j = 0; j < k.n; j++) {
		if (strlen(k.r[j]) < 5)
			continue;
		sig++;
		hit += phrase_in(&e->w, k.r[j]);
	}
	words_free(&k);
	return sig > 0 && hit * 2 >= sig;
}

static int
word_in(const char *w, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(w, *list) == 0)
			return 1;
	return 0;
}

/* Filler words, with the uses of "like" / "kind of" that are real words left out. */
static void
count_fillers(struct eval *e)
{
	static const char *const single[] = { "um", "umm", "uh", "uhh", "erm", "er", "hmm",
		"basically", "actually", "literally", "like", NULL };
	static const char *const like_ok_before[] = { "would", "d", "feel", "felt", "look",
		"looks", "looked", "seem", "seems", "something", "things", "anything", "not",
		"don", "didn", "i", "we", "they", "you", "people", "just", "much", "more", NULL };
	static const char *const of_ok_before[] = { "what", "this", "that", "the", "a", "any",
		"some", "which", "same", "every", "all", "these", "those", NULL };
	const char *names[16];
	size_t counts[16], nnames = 0, i, j, best[2] = { SIZE_MAX, SIZE_MAX };
	size_t pos = 0;

	for (i = 0; i < e->w.n; i++) {
		const char *w = e->w.r[i], *prev = i > 0 ? e->w.r[i - 1] : "";
		const char *next = i + 1 < e->w.n ? e->w.r[i + 1] : "";
		const char *f = NULL;

		if (word_in(w, single)) {
			f = w;
			if (strcmp(w, "like") == 0 && (word_in(prev, like_ok_before) ||
			    strcmp(next, "to") == 0))
				f = NULL;
		} else if (strcmp(w, "you") == 0 && strcmp(next, "know") == 0) {
			f = "you know";
		} else if (strcmp(w, "i") == 0 && strcmp(next, "mean") == 0) {
			f = "i mean";
		} else if ((strcmp(w, "sort") == 0 || strcmp(w, "kind") == 0) &&
		    strcmp(next, "of") == 0 && !word_in(prev, of_ok_before)) {
			f = strcmp(w, "sort") == 0 ? "sort of" : "kind of";
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
	static const char *const starts[] = { "def ", "return", "for ", "for(", "while",
		"if ", "if(", "select ", "from ", "int ", "const ", "let ", "var ", "function",
		"#include", "class ", "find ", "sort ", "du ", "import ", "public ", "fn ", NULL };
	size_t i = 0, lines = 0;

	while (i < len) {
		size_t end = i, k;
		int code = 0;

		while (end < len && s[end] != '\n')
			end++;
		for (k = i; k < end && !code; k++)
			if (s[k] == ';' || s[k] == '{' || s[k] == '}' || s[k] == '=' ||
			    (s[k] == '(' && k + 1 < end && s[k + 1] == ')') || s[k] == '|')
				code = 1;
		for (k = i; k < end && (s[k] == ' ' || s[k] == '\t'); k++)
			;
		for (const char *const *p = starts; !code && *p != NULL; p++)
			if (end - k >= strlen(*p) && strncasecmp(s + k, *p, strlen(*p)) == 0)
				code = 1;
		lines += code;
		i = end + 1;
	}
	return lines;
}

static int
first_person_past(const struct words *w)
{
	static const char *const irregular[] = { "built", "wrote", "led", "made", "took",
		"set", "ran", "met", "spoke", "brought", "chose", "found", "went", "gave", "told",
		"got", "drove", "began", "sat", "put", "rewrote", "caught", "sent", "taught",
		"thought", NULL };
	size_t i, len;

	for (i = 0; i + 1 < w->n; i++) {
		if (strcmp(w->r[i], "i") != 0)
			continue;
		len = strlen(w->r[i + 1]);
		if ((len > 3 && ends_with(w->r[i + 1], len, "ed") &&
		    strcmp(w->r[i + 1], "needed") != 0) || word_in(w->r[i + 1], irregular))
			return 1;
	}
	return 0;
}

static void
eval_analyse(struct eval *e)
{
	static const char *const situation[] = { "when i was", "at my previous", "at my last",
		"at my current", "the project", "a project", "our team", "my team", "we had",
		"we were", "i was working", "i was responsible", "was tasked", "my task",
		"the situation", "the goal", "the deadline", "last year", "in my role",
		"our customer", "the client", "our client", "we needed", NULL };
	static const char *const action[] = { "i decided", "i built", "i talked", "i wrote",
		"i led", "i organized", "i proposed", "i created", "i set up", "i implemented",
		"i fixed", "i started", "i asked", "i reached out", "i designed", "i introduced",
		"i took", NULL };
	static const char *const result[] = { "as a result", "which led to", "led to",
		"resulted in", "result", "reduced", "increased", "saved", "improved", "grew",
		"outcome", "in the end", "by the end", "we shipped", "we delivered", "launched",
		"went from", "dropped", "doubled", "halved", "impact", NULL };
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
	size_t i, pos = 0, vpos = 0, uniq = 0, stops = 0, vowelless = 0;

	e->nkp = json_object_array_length(e->key_points);
	if (e->nkp > BANK_MAX_KEYPOINTS)
		e->nkp = BANK_MAX_KEYPOINTS;
	for (i = 0; i < e->nkp; i++) {
		e->covered[i] = kp_covered(e, i);
		e->ncovered += (size_t)e->covered[i];
	}
	for (i = 0; i < e->w.n; i++) {
		const char *w = e->w.r[i];
		size_t j;

		if (is_number_word(w))
			e->nnumbers++;
		if (word_in(w, stopwords))
			stops++;
		if (strpbrk(w, "aeiouy0123456789") == NULL)
			vowelless++;
		for (j = 0; j < i; j++)
			if (strcmp(e->w.s[j], e->w.s[i]) == 0)
				break;
		uniq += j == i;
		if (i > 2000)   /* uniqueness only matters for short garbage */
			break;
	}
	e->nnumbers += count_all(&e->w, number_words);
	e->has_number = e->nnumbers > 0;
	e->situation = any_in(&e->w, situation);
	e->action = any_in(&e->w, action) || first_person_past(&e->w);
	e->result = any_in(&e->w, result);
	e->nvague = count_all(&e->w, vague);
	for (i = 0; vague[i] != NULL && vpos < 60; i++)
		if (phrase_in(&e->w, vague[i]))
			app(e->vague_top, sizeof(e->vague_top), &vpos, "%s'%s'",
			    vpos > 0 ? ", " : "", vague[i]);
	for (i = 0; connectors[i] != NULL; i++)
		e->nconnectors += (size_t)phrase_in(&e->w, connectors[i]);
	e->approach = any_in(&e->w, approach);
	e->complexity = any_in(&e->w, complexity);
	e->edges = any_in(&e->w, edges);
	for (i = 0; i < e->L->nskills; i++)
		if (skill_named(&e->L->skills[i], &e->w)) {
			if (e->nskills < 4)
				app(e->skills_named, sizeof(e->skills_named), &pos, "%s%s",
				    pos > 0 ? ", " : "", e->L->skills[i].id);
			e->nskills++;
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
	static const double w_beh[D_N] = { .25, .35, .15, .15, .10 };
	static const double w_tech[D_N] = { .45, .15, .15, .15, .10 };
	static const double w_code[D_N] = { .30, .30, .10, .25, .05 };
	size_t n = e->w.n, i;
	double per100, total = 0;
	const double *w = e->coding ? w_code : e->behavioral ? w_beh : w_tech;

	for (i = 0; i < D_N; i++)
		e->wt[i] = w[i];
	if (e->voice && !e->coding) {   /* a transcript: delivery matters more than length */
		e->wt[D_LEN] -= .10;
		e->wt[D_CLA] += .10;
	}
	e->sc[D_COV] = e->nkp > 0 ? 100.0 * (double)e->ncovered / (double)e->nkp : 0;
	if (e->coding)
		e->sc[D_STR] = 35.0 * e->approach + 35.0 * e->complexity + 30.0 * e->edges;
	else if (e->behavioral)
		e->sc[D_STR] = 25.0 * e->situation + 35.0 * e->action +
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
	else if (n < 40)
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
		e->sc[i] = trunc0(e->sc[i] + 0.5);
		total += e->sc[i] * e->wt[i];
	}
	e->score = (int)trunc0(total + 0.5);
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
		return e->w.n < 40 ? "giving a fuller answer (about 100-300 words)" :
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
		if (json_object_array_length(syn) > 0)
			snprintf(buf, sizeof(buf), "Cover \"%s\" - for example, talk about %s.",
			    kp_text(e, i), json_object_get_string(json_object_array_get_idx(syn, 0)));
		else
			snprintf(buf, sizeof(buf), "Cover \"%s\".", kp_text(e, i));
		add_str(improvements, buf);
		shown++;
	}
	if (e->behavioral) {
		if (!e->situation)
			add_str(improvements, "Open with one or two sentences of context: where "
			    "you were and what was at stake.");
		if (!e->action)
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
	if (!e->coding && e->w.n < 40)
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
		app(ex, size, &pos, "Answer in full sentences that cover: ");
		for (i = 0; i < e->nkp && i < 3; i++)
			app(ex, size, &pos, "%s%s", i > 0 ? "; " : "", kp_text(e, i));
		app(ex, size, &pos, ".");
		return;
	}
	app(ex, size, &pos, "Scored %d/100: you covered %zu of %zu key points", e->score,
	    e->ncovered, e->nkp);
	if (e->behavioral)
		app(ex, size, &pos, " and your story %s", e->situation && e->action &&
		    e->result && e->has_number ? "follows STAR through to a measurable result" :
		    e->action && !e->result ? "describes what you did but not the result" :
		    e->action && !e->has_number ? "has a result but no number to show it" :
		    "does not yet follow situation, action, result");
	app(ex, size, &pos, ". ");
	if (miss != SIZE_MAX) {
		app(ex, size, &pos, "Missing: \"%s\"", kp_text(e, miss));
		if (e->nkp - e->ncovered > 1)
			app(ex, size, &pos, " and %zu more", e->nkp - e->ncovered - 1);
		app(ex, size, &pos, ". ");
	}
	if (e->offtopic)
		app(ex, size, &pos, "The answer did not touch any key point of this question, so "
		    "its delivery could not earn more than 25 points. ");
	lever = eval_lever(e, &dim);
	if (e->sc[dim] < 100)
		app(ex, size, &pos, "The biggest gain would come from %s.", lever);
	if (dim != D_CLA && e->sc[D_CLA] < 80 && e->nfillers > 0)
		app(ex, size, &pos, " Filler words (%s) cost clarity points.", e->filler_top);
}

static json_object *
eval_follow_up(const struct eval *e)
{
	json_object *fu;
	const char *content = NULL, *gap = NULL;
	char buf[400];
	size_t miss = first_missing(e);

	if (e->empty || e->nonsense)
		return NULL;
	if (e->behavioral && e->action && (!e->result || !e->has_number)) {
		content = "You described what you did - what was the measurable result?";
		gap = "result";
	} else if (!e->behavioral && miss != SIZE_MAX) {
		gap = kp_text(e, miss);
		if (miss == 0 && e->follow_up != NULL && *e->follow_up != '\0') {
			content = e->follow_up;
		} else {
			snprintf(buf, sizeof(buf), "How would you handle this: %s?", gap);
			if (isupper((unsigned char)buf[27]))
				buf[27] = (char)tolower((unsigned char)buf[27]);
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
	json_object_object_add(fu, "content", json_object_new_string(content));
	json_object_object_add(fu, "gap", json_object_new_string(gap));
	return fu;
}

static json_object *
eval_json(const struct eval *e, int allow_follow_up)
{
	json_object *o = json_object_new_object(), *rubric = json_object_new_object();
	json_object *covered = json_object_new_array(), *missing = json_object_new_array();
	json_object *strengths = json_object_new_array(), *improvements = json_object_new_array();
	char ex[1024], wbuf[16];
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

		json_object_object_add(d, "score", json_object_new_int((int)e->sc[i]));
		snprintf(wbuf, sizeof(wbuf), "%.2f", e->wt[i]);
		json_object_object_add(d, "weight", json_object_new_double_s(e->wt[i], wbuf));
		json_object_object_add(rubric, dim_names[i], d);
	}
	for (i = 0; i < e->nkp; i++)
		add_str(e->covered[i] ? covered : missing, kp_text(e, i));
	eval_lists(e, strengths, improvements);
	eval_explain(e, ex, sizeof(ex));
	json_object_object_add(o, "score", json_object_new_int(e->score));
	json_object_object_add(o, "provider", json_object_new_string("local"));
	json_object_object_add(o, "rubric", rubric);
	json_object_object_add(o, "covered", covered);
	json_object_object_add(o, "missing", missing);
	json_object_object_add(o, "strengths", strengths);
	json_object_object_add(o, "improvements", improvements);
	json_object_object_add(o, "explanation", json_object_new_string(ex));
	json_object_object_add(o, "follow_up", allow_follow_up ? eval_follow_up(e) : NULL);
	return o;
}

static int
question_is_behavioral(const struct local *L, json_object *q)
{
	const struct bq *b = bank_find(L, cx_json_str(q, "source_id"));
	const char *mode = b != NULL ? b->mode : cx_json_str(q, "mode");

	if (mode != NULL)
		return strcmp(mode, "behavioral") == 0;
	return cx_json_str(q, "competency") != NULL;
}

static int
local_evaluate(void *impl, json_object *question, const char *answer,
    const char *answer_type, int allow_follow_up, json_object **out, struct cx_error *err)
{
	struct local *L = impl;
	struct eval e;
	const struct bq *b;
	const char *qtype;
	json_object *o;

	memset(&e, 0, sizeof(e));
	e.L = L;
	b = bank_find(L, cx_json_str(question, "source_id"));
	if (b != NULL) {
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
		if (!is_string_array(e.key_points, 0))
			return cx_error_field(err, "question",
			    "unknown source_id and no key_points");
	}
	e.behavioral = question_is_behavioral(L, question);
	e.coding = (qtype != NULL && strcmp(qtype, "coding") == 0) ||
	    strcmp(answer_type, "code") == 0;
	e.voice = strcmp(answer_type, "voice") == 0;
	e.answer = answer;
	e.alen = strnlen(answer, CX_AI_MAX_ANSWER);
	if (words_init(&e.w, answer, CX_AI_MAX_ANSWER) != 0)
		return cx_error_internal(err, "out of memory evaluating an answer");
	eval_analyse(&e);
	eval_score(&e);
	o = eval_json(&e, allow_follow_up);
	words_free(&e.w);
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

static double
weighted(double sum, double weight)
{
	return weight > 0 ? trunc0(sum / weight + 0.5) : 0;
}

static const char *
area_title(const struct local *L, const char *id)
{
	const struct area *a = area_find(L, id);

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

static int
local_summarize(void *impl, json_object *questions, json_object *feedbacks,
    json_object **out, struct cx_error *err)
{
	struct local *L = impl;
	struct area_sum as[CX_AI_MAX_QUESTIONS];
	size_t nq = json_object_array_length(questions), nas = 0, i, j, k, unanswered = 0;
	size_t answered = 0, pos = 0;
	double tot = 0, totw = 0, bs = 0, bw = 0, ts = 0, tw = 0, dim[D_N] = { 0 };
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
		/* up to two points per question, most important first, three per area */
		for (k = 0; json_object_is_type(miss, json_type_array) && k < 2 &&
		    k < json_object_array_length(miss) && as[j].nmissing < 3; k++)
			as[j].missing[as[j].nmissing++] = json_object_get_string(
			    json_object_array_get_idx(miss, k));
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
	if (nas > 1)
		app(buf, sizeof(buf), &pos, "Your strongest area was %s (%.0f) and your "
		    "weakest was %s (%.0f). ", area_title(L, as[nas - 1].area),
		    weighted(as[nas - 1].sum, as[nas - 1].weight), area_title(L, as[0].area),
		    weighted(as[0].sum, as[0].weight));
	if (unanswered > 0)
		app(buf, sizeof(buf), &pos, "%zu question%s went unanswered and counted as 0. ",
		    unanswered, unanswered == 1 ? "" : "s");
	if (nas > 0)
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

static const struct cx_ai_ops local_ops = {
	.name = "local",
	.free = local_free,
	.generate = local_generate,
	.evaluate = local_evaluate,
	.summarize = local_summarize,
};
