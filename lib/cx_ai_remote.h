/* cx_ai_remote: what the remote AI providers share — one JSON POST over libcurl (timeouts,
 * retries with backoff, a cap on the answer), the cache:ai:* entries in Redis, and the
 * table that tells one provider's wire format from another's. Internal to lib/cx_ai*. */
#ifndef CX_AI_REMOTE_H
#define CX_AI_REMOTE_H

#include <json-c/json.h>
#include <stddef.h>

struct cx_redis;

#define AI_REMOTE_MAX_BODY   (1024 * 1024)  /* bytes of a provider's answer we read */
#define AI_BACKOFF_BASE_MS   250            /* first retry waits about this long, then x2 */
#define AI_RETRY_AFTER_MAX   3              /* seconds of Retry-After we are willing to honour */
#define AI_MAX_WAIT_MS       5000           /* all waiting between attempts of one call */

/* One remote call. Strings are borrowed for the call. */
struct ai_http {
	const char *name;              /* provider name, for logs */
	const char *url;
	const char *const *headers;    /* "Name: value" lines, NULL-ended (may carry the key:
	                                  never logged) */
	int connect_timeout;           /* seconds */
	int timeout;                   /* seconds, per attempt */
	int max_retries;               /* extra attempts after a retryable failure */
};

/* What came back. body is the caller's (ai_reply_free). why is short, safe to show and
 * names no secret: "timeout", "connection failed", "HTTP 500", "response too large"... */
struct ai_reply {
	long status;                   /* last HTTP status, 0 when none arrived */
	char *body;                    /* last answer's body (NUL-terminated), or NULL */
	size_t len;
	int attempts;
	char why[64];
};

/* POST body (JSON) to h->url. Retries 429, 5xx, timeouts and connection failures up to
 * h->max_retries times, waiting AI_BACKOFF_BASE_MS * 2^n (with jitter) or a Retry-After of
 * at most AI_RETRY_AFTER_MAX seconds, never more than AI_MAX_WAIT_MS in all. Other 4xx,
 * an answer over AI_REMOTE_MAX_BODY, TLS failures: no retry. 0 when a 2xx answer arrived
 * (out->body set), -1 otherwise (out->why set). Free *out with ai_reply_free either way. */
int ai_http_post(const struct ai_http *h, const char *body, size_t len, struct ai_reply *out);
void ai_reply_free(struct ai_reply *r);

/* Process-wide libcurl setup; call before threads start (cx_ai_open does). 0 ok. */
int ai_http_global_init(void);

/* ---------------------------------------------------------------- cache */

#define AI_CACHE_KEY_SIZE (9 + 64 + 1)     /* "cache:ai:" + hex SHA-256 + NUL */

/* key = "cache:ai:" + hex SHA-256 of a canonical text of the request: a format version,
 * provider, model, operation and the exact request body sent. */
void ai_cache_key(const char *provider, const char *model, const char *op, const char *body,
    size_t len, char key[AI_CACHE_KEY_SIZE]);
/* The stored answer (caller frees, *len set) or NULL on a miss. r NULL = miss. Redis
 * failures are logged and read as a miss. */
char *ai_cache_get(struct cx_redis *r, const char *key, size_t *len);
/* Store with a TTL (seconds > 0). Failures are logged only. */
void ai_cache_put(struct cx_redis *r, const char *key, const char *value, size_t len,
    int ttl);

/* ---------------------------------------------------------------- wire formats */

/* One provider's API. Every function returns NULL / -1 on failure; strings returned are
 * the caller's. */
struct ai_wire {
	const char *name;              /* "openai" | "gemini" */
	/* The endpoint for model at base (base without trailing '/'). */
	char *(*url)(const char *base, const char *model);
	/* The header line that carries the key. */
	char *(*auth_header)(const char *key);
	/* The request body. schema (borrowed) is in OpenAI strict form (see
	 * schema/prompts/README.md); schema_name names it. */
	json_object *(*request)(const char *model, const char *system, const char *user,
	    const char *schema_name, json_object *schema, double temperature);
	/* The model's JSON text from a 2xx answer: 0 and *text, or -1 with why (short, no
	 * provider text). */
	int (*extract)(const char *body, size_t len, char **text, char *why, size_t whylen);
};

extern const struct ai_wire ai_wire_openai;
extern const struct ai_wire ai_wire_gemini;

/* a+b+c (NULL counts as ""), caller frees; NULL when out of memory. */
char *ai_strjoin(const char *a, const char *b, const char *c);

#endif
