/* cx_ai_prompt: the remote providers' prompt templates and answer schemas (the files of
 * schema/prompts), loaded once, and filling their {{placeholders}}. */
#ifndef CX_AI_PROMPT_H
#define CX_AI_PROMPT_H

#include <json-c/json.h>
#include <stddef.h>

#include "cx_error.h"

enum ai_op { AI_OP_GENERATE, AI_OP_EVALUATE, AI_OP_SUMMARIZE, AI_OP_N };

#define AI_PROMPT_MAX_FILE (256 * 1024)

/* Everything of schema/prompts, read-only after load. */
struct ai_prompts {
	char *system;                  /* system.txt: no placeholders, no candidate text */
	char *user[AI_OP_N];           /* generate.txt, evaluate.txt, summarize.txt */
	json_object *schema[AI_OP_N];  /* <op>.schema.json: the answer's JSON schema in
	                                  OpenAI strict form (every object closed, every
	                                  property required, null via anyOf) */
};

/* Load dir/system.txt, dir/<op>.txt and dir/<op>.schema.json. A missing, unreadable or
 * malformed file, or a placeholder the operation does not know, is an error whose message
 * names the file (INTERNAL_ERROR unreadable, VALIDATION_ERROR bad content). *out is the
 * caller's (ai_prompts_free), set only on success. */
int ai_prompts_load(const char *dir, struct ai_prompts **out, struct cx_error *err);
void ai_prompts_free(struct ai_prompts *p);    /* NULL is fine */

const char *ai_op_name(enum ai_op op);         /* "generate" | "evaluate" | "summarize" */

/* One placeholder's value for ai_prompt_fill. */
struct ai_var {
	const char *name;
	const char *value;             /* borrowed; NULL = "" */
	int quote;                     /* 1: inserted as a JSON string literal, so text from
	                                  outside (a resume, an answer) stays one delimited
	                                  value; 0: inserted as is (numbers, enums, JSON we
	                                  built) */
};

/* The user message of op with every {{name}} replaced (caller frees; NULL when out of
 * memory). A placeholder without a var is replaced by "". */
char *ai_prompt_fill(const struct ai_prompts *p, enum ai_op op, const struct ai_var *vars,
    size_t nvars);

/* Text from outside made safe to send: at most max bytes, cut at a character boundary,
 * invalid UTF-8 replaced by '?'. Caller frees; NULL when out of memory. s NULL = "". */
char *ai_text_clean(const char *s, size_t max);

#endif
