/* cx_ai_local: internals shared by the local provider's files: the loaded bank, words
 * of a text, and the entry points the provider table names. Not a public interface. */
#ifndef CX_AI_LOCAL_H
#define CX_AI_LOCAL_H

#include <json-c/json.h>
#include <stddef.h>

#include "cx_ai.h"
#include "cx_error.h"

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

struct alias_ent;

struct local {
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
 * makes plurals match their singular. Every comparison of the local provider goes through it. */
struct words {
	char *raw, *stem;
	const char **r, **s;
	size_t n;
	const char **set;      /* texts of 8+ words: the stems in an open-addressing hash set */
	size_t set_cap;        /* slots in set (a power of two), 0 when there is no set */
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
void ai_words_free(struct words *w);
int ai_words_init(struct words *w, const char *text, size_t max);
int ai_phrase_in(const struct words *text, const char *phrase);
int ai_any_in(const struct words *text, const char *const *phrases);
size_t ai_count_all(const struct words *text, const char *const *phrases);
int ai_is_number_word(const char *w);
int ai_is_string_array(json_object *a, size_t min);
const struct bq *ai_bank_find(const struct local *L, const char *id);
const struct area *ai_area_find(const struct local *L, const char *id);
int ai_skill_named(const struct skill *k, const struct words *text);
/* hit[i] = 1 for every skill i that text names (as ai_skill_named), others untouched. */
void ai_skills_named(const struct local *L, const struct words *text, unsigned char *hit);
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

#endif
