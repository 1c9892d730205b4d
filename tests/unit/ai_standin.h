/* ai_standin: a stand-in for the OpenAI and Gemini HTTP APIs on 127.0.0.1 (a random port,
 * served by a thread of the test), scripted per test and recording what it was sent. */
#ifndef AI_STANDIN_H
#define AI_STANDIN_H

#include <stddef.h>

/* What the next request gets. The answer is wrapped in the envelope of the API that was
 * called: POST .../chat/completions is OpenAI, POST .../models/M:generateContent Gemini. */
enum standin_kind {
	SI_CONTENT,     /* 200: the model's text `text` (OpenAI choices[0].message.content,
	                   Gemini candidates[0].content.parts[0].text) */
	SI_ERROR,       /* `status` with the API's error body; Retry-After when retry_after */
	SI_RAW,         /* `status` with `text` as the body, as it is (e.g. malformed JSON) */
	SI_REFUSAL,     /* OpenAI: 200 with message.refusal; Gemini: finishReason SAFETY */
	SI_TRUNCATED,   /* 200 with finish_reason "length" / finishReason MAX_TOKENS */
	SI_BLOCKED,     /* Gemini: 200 with promptFeedback.blockReason and no candidates */
	SI_HUGE,        /* 200 with a 2 MiB body */
};

struct standin_step {
	enum standin_kind kind;
	const char *text;           /* copied by standin_script */
	int status;
	int retry_after;            /* seconds; 0 = no header */
	int delay_ms;               /* wait before answering (given up when the client hangs up) */
};

struct standin;

/* Start serving; requests must carry key (Bearer for OpenAI, x-goog-api-key for Gemini)
 * or get 401. 0 ok. */
int standin_start(struct standin **out, const char *key);
void standin_stop(struct standin *s);          /* NULL is fine */
int standin_port(const struct standin *s);

/* Replace the script: steps are answered in order; after the last one, the last step is
 * repeated. No script: every request gets 500. */
void standin_script(struct standin *s, const struct standin_step *steps, size_t n);

int standin_requests(struct standin *s);        /* requests answered or being answered */

/* The last request received (caller frees with standin_request_free). */
struct standin_request {
	char method[16];
	char path[512];
	char *headers;              /* raw header lines, "\r\n" separated */
	char *body;
	size_t body_len;
};
int standin_last(struct standin *s, struct standin_request *out);   /* 0 when there was one */
void standin_request_free(struct standin_request *r);
/* The value of header name (case-insensitive), caller frees; NULL when absent. */
char *standin_header(const struct standin_request *r, const char *name);

#endif
