/* cx_ai_local: internals shared by the local provider's files: the loaded bank, words
 * of a text, and the entry points the provider table names. Not a public interface. */
#ifndef CX_AI_LOCAL_H
#define CX_AI_LOCAL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "cx_ai.h"
#include "cx_error.h"

#define BANK_MAX_FILE      (4 * 1024 * 1024)
#define BANK_MAX_FILES     128
#define BANK_MAX_QUESTIONS 10000
#define BANK_MAX_KEYPOINTS 12

enum { LV_JUNIOR = 1, LV_MID = 2, LV_SENIOR = 4 };

struct alias_ent;

struct skill {
	const char *id, *area;
	json_object *aliases;        /* array of strings, borrowed from the skills file */
	const struct alias_ent *alias;   /* its aliases (or id) tokenized, in L->alias_ents */
	size_t nalias;
};

struct area {
	const char *id, *title, *mode;
};

/* A list of phrases, each tokenized once (ai_phrase_init), in the order given. */
struct ai_phrases {
	struct words *w;
	size_t n;
};

struct bq {                      /* one bank question; strings borrowed from its file */
	const char *id, *area, *mode, *type, *competency, *content, *follow_up;
	json_object *skills, *key_points, *keywords;
	struct ai_phrases *syn;      /* per key point: its keywords, tokenized */
	size_t nsyn;
	unsigned levels;
	int time_minutes;
	size_t area_idx, file_idx;
};

struct ai_rubric;

struct local {
	struct ai_rubric *rubric;      /* the rubric's own word lists, tokenized */
	struct alias_ent *alias_ents;  /* nalias entries */
	size_t nalias;
	struct alias_ent **alias_buckets;
	size_t alias_cap;              /* a power of two */
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

/* Text as lowercase words (letters, digits, '+', '#', UTF-8 bytes) with a light stem that
 * makes plurals match their singular. Every comparison of the local provider goes through it.
 * A text (ai_words_init) is indexed to be searched; a phrase (ai_phrase_init) is not. */
struct words {
	char *raw, *stem;
	const char **r, **s;   /* n words and their stems */
	uint64_t *h;           /* hash of each stem */
	size_t n;
	uint32_t *next;        /* a text's index: per word, the next word with its stem (or n) */
	uint32_t *slot;        /* `slots` entries: 1 + position of a distinct stem's 1st word */
	size_t slots;          /* a power of two; 0 for a phrase */
	size_t ndistinct;      /* distinct stems (a text's) */
	void *mem;             /* the allocation behind all of the above, if any */
};

/* Every skill alias (or id, for a skill without aliases) tokenized, chained by the hash of
 * its first stem: a text is matched against all skills in one pass over its words. */
struct alias_ent {
	struct words w;
	size_t skill;
	struct alias_ent *next;
};

double ai_trunc0(double v);
int ai_ends_with(const char *s, size_t len, const char *suffix);
/* The hash of a string that words keep for their stems (64-bit FNV-1a). */
uint64_t ai_hash(const char *s);
void ai_words_free(struct words *w);
/* The words of the first max bytes of text (NULL: none), indexed. -1: out of memory. */
int ai_words_init(struct words *w, const char *text, size_t max);
/* The same in buf (size bytes, 8-byte aligned) when they fit: no allocation. */
int ai_words_init_buf(struct words *w, const char *text, size_t max, void *buf, size_t size);
/* The words of the first 256 bytes of phrase, to be looked for with ai_words_count. */
int ai_phrase_init(struct words *w, const char *phrase);
/* How often phrase occurs in text as whole words (stems compared); at most limit. */
size_t ai_words_count(const struct words *text, const struct words *phrase, size_t limit);
/* How many different stems the first limit words of text have. */
size_t ai_words_distinct(const struct words *text, size_t limit);
/* 1 when phrase occurs in text (the phrase tokenized on the stack: no allocation). */
int ai_phrase_in(const struct words *text, const char *phrase);
/* The phrases of a NULL-ended list, or of a JSON array of strings. -1: out of memory. */
int ai_phrases_init(struct ai_phrases *l, const char *const *list);
int ai_phrases_init_json(struct ai_phrases *l, json_object *list);
void ai_phrases_free(struct ai_phrases *l);
/* 1 when any phrase of l occurs in text; the occurrences of them all. */
int ai_any_in(const struct words *text, const struct ai_phrases *l);
size_t ai_count_all(const struct words *text, const struct ai_phrases *l);
int ai_is_number_word(const char *w);
int ai_is_string_array(json_object *a, size_t min);
const struct bq *ai_bank_find(const struct local *L, const char *id);
const struct area *ai_area_find(const struct local *L, const char *id);
int ai_skill_named(const struct skill *k, const struct words *text);
/* hit[i] = 1 for every skill i that text names (as ai_skill_named), others untouched. */
void ai_skills_named(const struct local *L, const struct words *text, unsigned char *hit);
/* The rubric's lists, tokenized for a bank (cx_ai_rubric.c). -1: out of memory. */
int ai_rubric_new(struct ai_rubric **out);
void ai_rubric_free(struct ai_rubric *r);     /* NULL is fine */
int ai_local_evaluate(void *impl, json_object *question, const char *answer,
    const char *answer_type, int allow_follow_up, json_object **out, struct cx_error *err);
int ai_local_summarize(void *impl, json_object *questions, json_object *feedbacks,
    json_object **out, struct cx_error *err);

/* Phrases that say a story reached a result, NULL-ended (cx_ai_rubric.c). */
extern const char *const ai_result_phrases[];
/* The bank of a local provider (borrowed), NULL when ai is not the local provider. */
struct local *ai_local_impl(struct cx_ai *ai);
/* cx_ai_follow_up_question for the local provider (cx_ai_followup.c); follow_up is the
 * feedback's {content, gap}, already checked. */
int ai_local_follow_up(struct cx_ai *ai, json_object *parent, json_object *follow_up,
    json_object **out, struct cx_error *err);
/* The follow-up that asks about a missed key point, the point quoted as the bank words it
 * (a statement, a noun phrase or a rubric line: "Symptoms: growing memory, OOM kills"). */
void ai_gap_question(char *buf, size_t size, const char *point);

#endif
