/* cx_ai_remote: one JSON POST to a remote AI provider with timeouts, retries and a size
 * cap, and the Redis cache of provider answers. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cx_ai_remote.h"
#include "cx_buf.h"
#include "cx_crypto.h"
#include "cx_log.h"
#include "cx_redis.h"

/* ---------------------------------------------------------------- libcurl */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void
curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
ai_http_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_rc == CURLE_OK ? 0 : -1;
}

struct sink {
	struct cx_buf b;
	int over;                  /* the answer passed AI_REMOTE_MAX_BODY */
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;

	if (n > AI_REMOTE_MAX_BODY - s->b.len) {
		s->over = 1;
		return 0;              /* curl stops with CURLE_WRITE_ERROR */
	}
	cx_buf_add(&s->b, data, n);
	return s->b.failed ? 0 : n;
}

void
ai_reply_free(struct ai_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* 1 when the failure of this attempt is worth another try. */
static int
classify(CURLcode cc, long status, const struct sink *s, char *why, size_t whylen)
{
	switch (cc) {
	case CURLE_OK:
		snprintf(why, whylen, "HTTP %ld", status);
		return status == 429 || (status >= 500 && status <= 599);
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(why, whylen, "timeout");
		return 1;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(why, whylen, "connection failed");
		return 1;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		snprintf(why, whylen, "connection lost");
		return 1;
	case CURLE_WRITE_ERROR:
		snprintf(why, whylen, s->over ? "response too large" : "out of memory");
		return 0;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		snprintf(why, whylen, "TLS failure");
		return 0;
	default:
		snprintf(why, whylen, "network error");
		return 0;
	}
}

/* Milliseconds to wait before attempt number `next` (1 = first retry). */
static long
backoff_ms(int next, long retry_after_s)
{
	uint16_t r = 0;
	long ms;

	if (retry_after_s > 0 && retry_after_s <= AI_RETRY_AFTER_MAX)
		return retry_after_s * 1000;
	if (retry_after_s > AI_RETRY_AFTER_MAX)
		return -1;             /* the provider asks for longer than we wait */
	ms = (long)AI_BACKOFF_BASE_MS << (next - 1 < 6 ? next - 1 : 6);
	if (cx_random_bytes(&r, sizeof(r)) == 0)
		ms += (long)(r % (unsigned)(ms / 4 + 1));   /* up to +25%: spread the herd */
	return ms;
}

static CURL *
easy_new(const struct ai_http *h, struct curl_slist *headers, const char *body, size_t len,
    struct sink *s, char *errbuf)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, h->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(h->connect_timeout > 0 ?
	    h->connect_timeout : 5));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(h->timeout > 0 ? h->timeout : 30));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");   /* gzip etc.; the cap counts
	                                                       decoded bytes */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "candidatex/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	return c;
}

int
ai_http_post(const struct ai_http *h, const char *body, size_t len, struct ai_reply *out)
{
	struct curl_slist *headers = NULL, *tmp;
	struct sink s = { 0 };
	char errbuf[CURL_ERROR_SIZE];
	const char *const *hp;
	long waited = 0;
	int attempt, rc = -1;

	memset(out, 0, sizeof(*out));
	snprintf(out->why, sizeof(out->why), "out of memory");
	if (ai_http_global_init() != 0) {
		snprintf(out->why, sizeof(out->why), "libcurl unavailable");
		return -1;
	}
	for (hp = h->headers; hp != NULL && *hp != NULL; hp++) {
		if ((tmp = curl_slist_append(headers, *hp)) == NULL)
			goto out;
		headers = tmp;
	}
	/* no "Expect: 100-continue" round trip before the body */
	if ((tmp = curl_slist_append(headers, "Expect:")) == NULL)
		goto out;
	headers = tmp;
	for (attempt = 0; attempt <= h->max_retries; attempt++) {
		CURL *c;
		CURLcode cc;
		curl_off_t retry_after = 0;
		long status = 0, wait;
		int again;

		cx_buf_free(&s.b);
		memset(&s, 0, sizeof(s));
		errbuf[0] = '\0';
		if ((c = easy_new(h, headers, body, len, &s, errbuf)) == NULL) {
			snprintf(out->why, sizeof(out->why), "libcurl unavailable");
			goto out;
		}
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after);
		curl_easy_cleanup(c);
		out->attempts = attempt + 1;
		out->status = status;
		if (cc == CURLE_OK && status >= 200 && status <= 299) {
			out->why[0] = '\0';
			rc = 0;
			break;
		}
		again = classify(cc, status, &s, out->why, sizeof(out->why));
		cx_logf(CX_LOG_WARN, "AI %s: attempt %d of %d failed: %s%s%s", h->name,
		    attempt + 1, h->max_retries + 1, cc == CURLE_OK ? out->why :
		    curl_easy_strerror(cc), errbuf[0] != '\0' ? ": " : "", errbuf);
		if (!again || attempt == h->max_retries)
			break;
		wait = backoff_ms(attempt + 1, status == 429 || status == 503 ?
		    (long)retry_after : 0);
		if (wait < 0 || waited + wait > AI_MAX_WAIT_MS) {
			cx_logf(CX_LOG_WARN, "AI %s: not retrying: waiting would exceed %d ms",
			    h->name, AI_MAX_WAIT_MS);
			break;
		}
		sleep_ms(wait);
		waited += wait;
	}
	out->len = s.b.len;
	out->body = s.b.data;      /* the last answer, also on failure (for the caller's log) */
	s.b.data = NULL;
out:
	cx_buf_free(&s.b);
	curl_slist_free_all(headers);
	return rc;
}

char *
ai_strjoin(const char *a, const char *b, const char *c)
{
	size_t la = a != NULL ? strlen(a) : 0, lb = b != NULL ? strlen(b) : 0;
	size_t lc = c != NULL ? strlen(c) : 0;
	char *s = malloc(la + lb + lc + 1);

	if (s == NULL)
		return NULL;
	if (la > 0)
		memcpy(s, a, la);
	if (lb > 0)
		memcpy(s + la, b, lb);
	if (lc > 0)
		memcpy(s + la + lb, c, lc);
	s[la + lb + lc] = '\0';
	return s;
}

/* ---------------------------------------------------------------- cache */

#define AI_CACHE_FORMAT "cx-ai-cache-1"   /* bump when what is stored changes meaning */

void
ai_cache_key(const char *provider, const char *model, const char *op, const char *body,
    size_t len, char key[AI_CACHE_KEY_SIZE])
{
	char head[512], hex[65];
	size_t hlen;
	char *canon;

	/* Lengths first, so no two different requests give the same text. */
	hlen = (size_t)snprintf(head, sizeof(head), "%s\n%zu:%s\n%zu:%s\n%zu:%s\n%zu\n",
	    AI_CACHE_FORMAT, strlen(provider), provider, strlen(model), model, strlen(op), op,
	    len);
	if (hlen >= sizeof(head))
		hlen = sizeof(head) - 1;
	canon = malloc(hlen + len + 1);
	if (canon == NULL) {
		/* still a stable key: hash the parts one after the other */
		uint8_t d[32];

		cx_sha256(body, len, d);
		cx_hex_encode(d, sizeof(d), hex);
		snprintf(head + hlen, sizeof(head) - hlen, "%s", hex);
		cx_sha256_hex(head, strlen(head), hex);
	} else {
		memcpy(canon, head, hlen);
		memcpy(canon + hlen, body, len);
		cx_sha256_hex(canon, hlen + len, hex);
		free(canon);
	}
	snprintf(key, AI_CACHE_KEY_SIZE, "cache:ai:%s", hex);
}

char *
ai_cache_get(struct cx_redis *r, const char *key, size_t *len)
{
	struct cx_error err = { 0 };
	redisReply *reply;
	char *v = NULL;

	if (r == NULL)
		return NULL;
	reply = cx_redis_cmd(r, &err, "GET %s", key);
	if (reply == NULL) {
		cx_logf(CX_LOG_WARN, "AI cache: read failed (%s); calling the provider",
		    err.message);
		return NULL;
	}
	if (reply->type == REDIS_REPLY_STRING && reply->len > 0 &&
	    (size_t)reply->len <= AI_REMOTE_MAX_BODY) {
		v = malloc((size_t)reply->len + 1);
		if (v != NULL) {
			memcpy(v, reply->str, (size_t)reply->len);
			v[reply->len] = '\0';
			*len = (size_t)reply->len;
		}
	}
	freeReplyObject(reply);
	return v;
}

void
ai_cache_put(struct cx_redis *r, const char *key, const char *value, size_t len, int ttl)
{
	struct cx_error err = { 0 };
	redisReply *reply;

	if (r == NULL || ttl <= 0)
		return;
	reply = cx_redis_cmd(r, &err, "SET %s %b EX %d", key, value, len, ttl);
	if (reply == NULL)
		cx_logf(CX_LOG_WARN, "AI cache: write failed (%s)", err.message);
	else
		freeReplyObject(reply);
}
