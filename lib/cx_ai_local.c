/* cx_ai_local: the built-in interviewer — loading the curated question bank and choosing
 * questions for a session (scoring is in cx_ai_rubric.c). */
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
#include "cx_ai_local.h"
#include "cx_json.h"
#include "cx_log.h"


/* floor() for the non-negative values used here, without libm. */
double
ai_trunc0(double v)
{
	return v <= 0 ? 0 : (double)(long long)v;
}

/* ---------------------------------------------------------------- words */

#define PHRASE_MAX 256           /* bytes of a phrase that are read */

/* Per ASCII byte: its lowercase form when it belongs to a word (a letter, a digit, '+' or
 * '#'), 0 when it separates words. isalnum() and tolower() of the C locale, which our
 * programs run in (none sets another), as a table: one load per byte. */
static const unsigned char ascii_word[128] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, '#', 0, 0, 0, 0, 0, 0, 0, '+', 0, 0, 0, 0,
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
	0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
	0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
};

/* The byte as part of a word (bytes of UTF-8 sequences are kept as they are), or 0. */
static unsigned char
word_byte(unsigned char c)
{
	return c >= 0x80 ? c : ascii_word[c];
}

int
ai_ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Stems the word s of len bytes in place; returns the stem's length. */
static size_t
stem_inplace(char *s, size_t len)
{
	if (len > 4 && ai_ends_with(s, len, "ies")) {
		s[len - 3] = 'y';
		s[len - 2] = '\0';
		return len - 2;
	}
	if (len > 4 && (ai_ends_with(s, len, "sses") || ai_ends_with(s, len, "xes") ||
	    ai_ends_with(s, len, "ches") || ai_ends_with(s, len, "shes"))) {
		s[len - 2] = '\0';
		return len - 2;
	}
	if (len > 3 && s[len - 1] == 's' && s[len - 2] != 's' && s[len - 2] != 'u' &&
	    s[len - 2] != 'i') {
		s[len - 1] = '\0';
		return len - 1;
	}
	return len;
}

static uint64_t
mem_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

uint64_t
ai_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* How many words tokenize() will find in text[0..len). */
static size_t
count_words(const char *text, size_t len)
{
	size_t i, n = 0;
	int in_word = 0;

	for (i = 0; i < len; i++) {
		int w = word_byte((unsigned char)text[i]) != 0;

		n += w && !in_word;
		in_word = w;
	}
	return n;
}

/* Splits text[0..len) into words. raw gets the lowercase bytes with every other byte NUL,
 * so that each word is a string; stem the same with each word stemmed. r, s and h (room
 * for count_words() words, at most len / 2 + 1) get the words, their stems and the
 * stems' hashes. Returns the number of words. */
static size_t
tokenize(const char *text, size_t len, char *raw, char *stem, const char **r,
    const char **s, uint64_t *h)
{
	size_t i = 0, n = 0, start, slen;
	unsigned char c;

	while (i < len) {
		if (word_byte((unsigned char)text[i]) == 0) {
			raw[i] = stem[i] = '\0';
			i++;
			continue;
		}
		for (start = i; i < len && (c = word_byte((unsigned char)text[i])) != 0; i++)
			raw[i] = stem[i] = (char)c;
		raw[i] = stem[i] = '\0';
		r[n] = raw + start;
		s[n] = stem + start;
		slen = stem_inplace(stem + start, i - start);
		h[n++] = mem_hash(stem + start, slen);
	}
	raw[len] = stem[len] = '\0';
	return n;
}

void
ai_words_free(struct words *w)
{
	free(w->mem);
	memset(w, 0, sizeof(*w));
}

/* The index of a text: its distinct stems in an open-addressing table (each slot the
 * position of a stem's first word, plus one) and every word chained to the next word with
 * the same stem, so a phrase is found from its first word without scanning the text. */
static void
index_build(struct words *w)
{
	size_t mask = w->slots - 1, i, j, p;

	memset(w->slot, 0, w->slots * sizeof(*w->slot));
	w->ndistinct = 0;
	for (i = w->n; i-- > 0;) {       /* backwards: every chain runs forwards */
		for (j = (size_t)w->h[i] & mask; w->slot[j] != 0; j = (j + 1) & mask) {
			p = w->slot[j] - 1;
			if (w->h[p] == w->h[i] && strcmp(w->s[p], w->s[i]) == 0)
				break;
		}
		w->ndistinct += w->slot[j] == 0;
		w->next[i] = w->slot[j] != 0 ? w->slot[j] - 1 : (uint32_t)w->n;
		w->slot[j] = (uint32_t)i + 1;
	}
}

/* Bytes for the arrays of up to cap words of a len-byte text (and its index of slots). */
static size_t
words_size(size_t cap, size_t len, size_t slots)
{
	return cap * (2 * sizeof(char *) + sizeof(uint64_t)) + 2 * (len + 1) +
	    (slots > 0 ? (cap + slots) * sizeof(uint32_t) : 0);
}

static size_t
slots_for(size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n)
		slots *= 2;
	return slots;
}

/* The words' arrays live in one block: buf (size bytes, 8-byte aligned) when they fit,
 * else an allocation. */
static int
words_init(struct words *w, const char *text, size_t max, int index, void *buf,
    size_t size)
{
	size_t len, cap, slots = 0;
	char *mem;

	memset(w, 0, sizeof(*w));
	if (text == NULL)
		text = "";
	len = strnlen(text, max);
	if (len >= UINT32_MAX / 8)     /* positions are 32-bit */
		return -1;
	cap = len / 2 + 1;             /* the most words len bytes can hold */
	if (index)
		slots = slots_for(cap);
	if (words_size(cap, len, slots) > size) {
		cap = count_words(text, len);    /* to allocate no more than needed */
		if (index)
			slots = slots_for(cap);
	}
	if (words_size(cap, len, slots) <= size) {
		mem = buf;
	} else {
		if ((mem = malloc(words_size(cap, len, slots))) == NULL)
			return -1;
		w->mem = mem;
	}
	w->r = (const char **)(void *)mem;
	w->s = w->r + cap;
	w->h = (uint64_t *)(void *)(w->s + cap);
	mem = (char *)(w->h + cap);
	if (index) {
		w->next = (uint32_t *)(void *)mem;
		w->slot = w->next + cap;
		mem = (char *)(w->slot + slots);
	}
	w->raw = mem;
	w->stem = mem + len + 1;
	w->n = tokenize(text, len, w->raw, w->stem, w->r, w->s, w->h);
	if (index) {
		w->slots = slots_for(w->n);      /* no more than were reserved */
		index_build(w);
	}
	return 0;
}

int
ai_words_init(struct words *w, const char *text, size_t max)
{
	return words_init(w, text, max, 1, NULL, 0);
}

int
ai_words_init_buf(struct words *w, const char *text, size_t max, void *buf, size_t size)
{
	return words_init(w, text, max, 1, buf, size);
}

int
ai_phrase_init(struct words *w, const char *phrase)
{
	return words_init(w, phrase, PHRASE_MAX, 0, NULL, 0);
}

/* 1 when words from..phrase->n - 1 of phrase occur in text at p + from on. */
static int
words_at(const struct words *text, size_t p, const struct words *phrase, size_t from)
{
	size_t j;

	for (j = from; j < phrase->n; j++)
		if (text->h[p + j] != phrase->h[j] || strcmp(text->s[p + j], phrase->s[j]) != 0)
			return 0;
	return 1;
}

/* Position of the first word of text with stem s (of hash h); text->n when none. */
static size_t
stem_first(const struct words *text, const char *s, uint64_t h)
{
	size_t mask = text->slots - 1, i, p;

	for (i = (size_t)h & mask; text->slot[i] != 0; i = (i + 1) & mask) {
		p = text->slot[i] - 1;
		if (text->h[p] == h && strcmp(text->s[p], s) == 0)
			return p;
	}
	return text->n;
}

static inline size_t
count_in(const struct words *text, const struct words *phrase, size_t limit)
{
	size_t m = phrase->n, p, count = 0;

	if (m == 0 || m > text->n)
		return 0;
	if (text->slot == NULL) {        /* not a text but a phrase: no index to use */
		for (p = 0; p + m <= text->n && count < limit; p++)
			count += (size_t)words_at(text, p, phrase, 0);
		return count;
	}
	/* the chain holds the words with the phrase's first stem, in order */
	for (p = stem_first(text, phrase->s[0], phrase->h[0]); p + m <= text->n &&
	    count < limit; p = text->next[p])
		count += (size_t)words_at(text, p, phrase, 1);
	return count;
}

size_t
ai_words_count(const struct words *text, const struct words *phrase, size_t limit)
{
	return count_in(text, phrase, limit);
}

size_t
ai_words_distinct(const struct words *w, size_t limit)
{
	size_t i, n = 0;

	if (limit >= w->n)
		return w->ndistinct;
	for (i = 0; i < w->slots; i++)
		n += w->slot[i] != 0 && w->slot[i] - 1 < limit;
	return n;
}

/* A phrase from elsewhere is tokenized on the stack: no allocation, nothing kept. */
static size_t
phrase_count(const struct words *text, const char *phrase, size_t limit)
{
	char raw[PHRASE_MAX + 1], stem[PHRASE_MAX + 1];
	const char *r[PHRASE_MAX / 2 + 1], *s[PHRASE_MAX / 2 + 1];
	uint64_t h[PHRASE_MAX / 2 + 1];
	struct words p = { .raw = raw, .stem = stem, .r = r, .s = s, .h = h };

	if (phrase == NULL)
		return 0;
	p.n = tokenize(phrase, strnlen(phrase, PHRASE_MAX), raw, stem, r, s, h);
	return count_in(text, &p, limit);
}

int
ai_phrase_in(const struct words *text, const char *phrase)
{
	return phrase_count(text, phrase, 1) > 0;
}

static int
phrases_alloc(struct ai_phrases *l, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->w = calloc(n + 1, sizeof(*l->w));
	l->n = n;
	return l->w != NULL ? 0 : -1;
}

void
ai_phrases_free(struct ai_phrases *l)
{
	size_t i;

	for (i = 0; l->w != NULL && i < l->n; i++)
		ai_words_free(&l->w[i]);
	free(l->w);
	memset(l, 0, sizeof(*l));
}

int
ai_phrases_init(struct ai_phrases *l, const char *const *list)
{
	size_t n = 0, i;

	while (list[n] != NULL)
		n++;
	if (phrases_alloc(l, n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (ai_phrase_init(&l->w[i], list[i]) != 0) {
			ai_phrases_free(l);
			return -1;
		}
	return 0;
}

int
ai_phrases_init_json(struct ai_phrases *l, json_object *list)
{
	size_t i;

	if (phrases_alloc(l, json_object_array_length(list)) != 0)
		return -1;
	for (i = 0; i < l->n; i++)
		if (ai_phrase_init(&l->w[i], json_object_get_string(
		    json_object_array_get_idx(list, i))) != 0) {
			ai_phrases_free(l);
			return -1;
		}
	return 0;
}

int
ai_any_in(const struct words *text, const struct ai_phrases *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (count_in(text, &l->w[i], 1) > 0)
			return 1;
	return 0;
}

size_t
ai_count_all(const struct words *text, const struct ai_phrases *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += count_in(text, &l->w[i], SIZE_MAX);
	return n;
}

int
ai_is_number_word(const char *w)
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

int
ai_is_string_array(json_object *a, size_t min)
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
	if (!ai_is_string_array(levels, 1))
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
	if (!ai_is_string_array(b->skills, 0))
		return -5;
	b->content = cx_json_str(q, "content");
	if (b->content == NULL || *b->content == '\0')
		return -6;
	b->key_points = json_object_object_get(q, "key_points");
	if (!ai_is_string_array(b->key_points, 1) ||
	    json_object_array_length(b->key_points) > BANK_MAX_KEYPOINTS)
		return -7;
	nkp = json_object_array_length(b->key_points);
	b->keywords = json_object_object_get(q, "keywords");
	if (!json_object_is_type(b->keywords, json_type_array) ||
	    json_object_array_length(b->keywords) != nkp)
		return -8;
	for (i = 0; i < nkp; i++)
		if (!ai_is_string_array(json_object_array_get_idx(b->keywords, i), 1))
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
index_aliases(struct local *L, struct cx_error *err)
{
	size_t i, j, n = 0, cap = 64;

	for (i = 0; i < L->nskills; i++) {
		size_t na = json_object_array_length(L->skills[i].aliases);

		n += na > 0 ? na : 1;
	}
	while (cap < 2 * n)
		cap *= 2;
	L->alias_ents = calloc(n + 1, sizeof(*L->alias_ents));
	L->alias_buckets = calloc(cap, sizeof(*L->alias_buckets));
	if (L->alias_ents == NULL || L->alias_buckets == NULL)
		return cx_error_internal(err, "out of memory indexing skills");
	L->alias_cap = cap;
	for (i = 0; i < L->nskills; i++) {
		struct skill *k = &L->skills[i];
		size_t na = json_object_array_length(k->aliases);

		k->alias = &L->alias_ents[L->nalias];
		k->nalias = na > 0 ? na : 1;
		for (j = 0; j < (na > 0 ? na : 1); j++) {
			struct alias_ent *e = &L->alias_ents[L->nalias];
			const char *phrase = na > 0 ? json_object_get_string(
			    json_object_array_get_idx(k->aliases, j)) : k->id;
			size_t b;

			if (ai_phrase_init(&e->w, phrase) != 0)
				return cx_error_internal(err, "out of memory indexing skills");
			L->nalias++;
			if (e->w.n == 0)
				continue;
			e->skill = i;
			b = (size_t)e->w.h[0] & (cap - 1);
			e->next = L->alias_buckets[b];
			L->alias_buckets[b] = e;
		}
	}
	return CX_OK;
}

/* Every bank keyword tokenized once: answers are matched against them all day. */
static int
index_keywords(struct local *L, struct cx_error *err)
{
	size_t i, k;

	for (i = 0; i < L->nqs; i++) {
		struct bq *b = &L->qs[i];

		b->nsyn = json_object_array_length(b->keywords);
		if ((b->syn = calloc(b->nsyn + 1, sizeof(*b->syn))) == NULL)
			return cx_error_internal(err, "out of memory indexing keywords");
		for (k = 0; k < b->nsyn; k++)
			if (ai_phrases_init_json(&b->syn[k], json_object_array_get_idx(
			    b->keywords, k)) != 0)
				return cx_error_internal(err, "out of memory indexing keywords");
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
		    !ai_is_string_array(k->aliases, 0))
			return bank_bad(err, path, "skill %zu needs id, area and aliases[]",
			    i + 1);
	}
	L->nskills = n;
	return index_aliases(L, err);
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
	size_t i, k;

	if (L == NULL)
		return;
	ai_rubric_free(L->rubric);
	for (i = 0; L->qs != NULL && i < L->nqs; i++) {
		for (k = 0; L->qs[i].syn != NULL && k < L->qs[i].nsyn; k++)
			ai_phrases_free(&L->qs[i].syn[k]);
		free(L->qs[i].syn);
	}
	for (i = 0; i < L->nfiles; i++)
		json_object_put(L->files[i]);
	for (i = 0; i < BANK_MAX_FILES; i++)
		free(L->names[i]);
	json_object_put(L->skills_json);
	for (i = 0; i < L->nalias; i++)
		ai_words_free(&L->alias_ents[i].w);
	free(L->alias_ents);
	free(L->alias_buckets);
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
	rc = index_keywords(L, err);
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
	if (rc == CX_OK && ai_rubric_new(&L->rubric) != 0)
		rc = cx_error_internal(err, "out of memory preparing the rubric");
	if (rc != CX_OK) {
		local_free(L);
		return rc;
	}
	cx_logf(CX_LOG_INFO, "AI local provider: %zu questions in %zu areas, %zu skills",
	    L->nqs, L->nareas, L->nskills);
	return cx_ai_new(&local_ops, L, out, err);
}

struct local *
ai_local_impl(struct cx_ai *ai)
{
	return ai != NULL && ai->ops == &local_ops ? ai->impl : NULL;
}

const struct bq *
ai_bank_find(const struct local *L, const char *id)
{
	struct bq key;

	if (id == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.id = id;
	return bsearch(&key, L->qs, L->nqs, sizeof(*L->qs), bq_id_cmp);
}

const struct area *
ai_area_find(const struct local *L, const char *id)
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
		if (L->skills[i].id[0] == id[0] && strcmp(L->skills[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* 1 when text names skill k: any alias as whole words, or its id when it has no aliases
 * (the aliases decide, so an id like "go" does not match the verb). */
int
ai_skill_named(const struct skill *k, const struct words *text)
{
	size_t i;

	for (i = 0; i < k->nalias; i++)
		if (count_in(text, &k->alias[i].w, 1) > 0)
			return 1;
	return 0;
}

void
ai_skills_named(const struct local *L, const struct words *text, unsigned char *hit)
{
	size_t i;

	if (L->alias_cap == 0)
		return;
	for (i = 0; i < text->n; i++) {
		const struct alias_ent *e;

		for (e = L->alias_buckets[(size_t)text->h[i] & (L->alias_cap - 1)]; e != NULL;
		    e = e->next)
			if (!hit[e->skill] && e->w.n <= text->n - i &&
			    words_at(text, i, &e->w, 0))
				hit[e->skill] = 1;
	}
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
	unsigned char *in_job = NULL, *in_resume;
	size_t i, j;
	int rc = -1;

	job = join_context(sp->job_title, sp->job_description, sp->focus_areas, sp->nfocus);
	if (job == NULL || ai_words_init(&g->job, job, 3 * CX_AI_MAX_CONTEXT) != 0 ||
	    ai_words_init(&g->resume, sp->resume_text, CX_AI_MAX_CONTEXT) != 0)
		goto out;
	if ((in_job = calloc(L->nskills + 1, 2)) == NULL)
		goto out;
	in_resume = in_job + L->nskills + 1;
	ai_skills_named(L, &g->job, in_job);
	ai_skills_named(L, &g->resume, in_resume);
	for (i = 0; i < L->nskills; i++) {
		if (in_job[i])
			g->skill_weight[i] = 2;
		else if (in_resume[i])
			g->skill_weight[i] = 1;
	}
	for (j = 0; j < sp->nfocus; j++) {
		struct words f;

		for (i = 0; i < L->nareas; i++)
			if (strcasecmp(sp->focus_areas[j], L->areas[i].id) == 0 ||
			    strcasecmp(sp->focus_areas[j], L->areas[i].title) == 0)
				g->area_focus[i] = 1;
		if (ai_words_init(&f, sp->focus_areas[j], 100) != 0)
			goto out;
		for (i = 0; i < L->nskills; i++)
			if (f.n > 0 && ai_skill_named(&L->skills[i], &f))
				g->skill_weight[i] = 3;
		ai_words_free(&f);
	}
	for (i = 0; i < L->nskills; i++) {
		const struct area *a = ai_area_find(L, L->skills[i].area);

		if (g->skill_weight[i] > 0 && a != NULL)
			g->area_rel[a - L->areas] = 1;
	}
	rc = 0;
out:
	free(in_job);
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

		if (k < 0 && (ai_phrase_in(&g->job, sid) || ai_phrase_in(&g->resume, sid)))
			w = ai_phrase_in(&g->job, sid) ? 2 : 1;
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
	int left = g->spec->duration_minutes;   /* minutes not yet planned (0: no limit) */

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
			/* A question longer than its share of the time that is left crowds out
			 * the others: 25-minute coding tasks do not belong in a 30-minute, three
			 * question interview while shorter ones fit. */
			if (g->spec->duration_minutes > 0) {
				double share = (double)left / (double)(count - nchosen);

				if ((double)b->time_minutes > share)
					v -= 6.0 * ((double)b->time_minutes - share);
			}
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
		left -= L->qs[best].time_minutes;
		if (left < 0)
			left = 0;
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
	ai_words_free(&g.job);
	ai_words_free(&g.resume);
	free(g.skill_weight);
	free(g.area_focus);
	free(g.area_rel);
	free(fit);
	free(dist);
	free(used);
	return rc;
}

static const struct cx_ai_ops local_ops = {
	.name = "local",
	.free = local_free,
	.generate = local_generate,
	.evaluate = ai_local_evaluate,
	.summarize = ai_local_summarize,
};
