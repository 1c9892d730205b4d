/* cx_revoke: the live revocation view (see the header for the protocol). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cx_log.h"
#include "cx_revoke.h"
#include "cx_time.h"

#define KEY_MAX 48
#define REOPEN_EVERY_MS 1000.0
#define LOAD_BATCH 256         /* keys per round trip when loading */

struct entry {
	char key[KEY_MAX];      /* "" = empty slot */
	int64_t value;          /* users: revoked before (epoch s) */
	int64_t expires;        /* epoch s after which the entry no longer matters */
};

/* Open addressing, linear probing; rebuilt (dropping expired entries) when half full. */
struct table {
	struct entry *slots;
	size_t cap, used;
};

struct cx_revoke_view {
	char *url;
	struct cx_redis *r;      /* borrowed: the worker's command connection */
	int max_ttl;
	redisContext *sub;       /* the subscription; NULL = broken */
	double last_attempt_ms;
	struct table jtis, users;
};

/* ---- table ------------------------------------------------------------------ */

static uint64_t
hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int table_put(struct table *t, const char *key, int64_t value, int64_t expires);

static int
table_grow(struct table *t)
{
	struct table bigger = { 0 };
	int64_t now = (int64_t)time(NULL);

	bigger.cap = t->cap ? t->cap * 2 : 64;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (bigger.slots == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key[0] != '\0' && t->slots[i].expires >= now)
			table_put(&bigger, t->slots[i].key, t->slots[i].value, t->slots[i].expires);
	free(t->slots);
	*t = bigger;
	return 0;
}

static int
table_put(struct table *t, const char *key, int64_t value, int64_t expires)
{
	size_t i;

	if (strlen(key) >= KEY_MAX || *key == '\0')
		return -1;
	if ((t->used + 1) * 2 > t->cap && table_grow(t) != 0)
		return -1;
	for (i = hash_key(key) % t->cap; t->slots[i].key[0] != '\0'; i = (i + 1) % t->cap) {
		if (strcmp(t->slots[i].key, key) == 0) {
			/* The later revocation wins for users; a jti stays revoked. */
			if (value > t->slots[i].value)
				t->slots[i].value = value;
			if (expires > t->slots[i].expires)
				t->slots[i].expires = expires;
			return 0;
		}
	}
	snprintf(t->slots[i].key, KEY_MAX, "%s", key);
	t->slots[i].value = value;
	t->slots[i].expires = expires;
	t->used++;
	return 0;
}

static const struct entry *
table_get(const struct table *t, const char *key)
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = hash_key(key) % t->cap; t->slots[i].key[0] != '\0'; i = (i + 1) % t->cap)
		if (strcmp(t->slots[i].key, key) == 0)
			return &t->slots[i];
	return NULL;
}

static void
table_clear(struct table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- messages ----------------------------------------------------------------- */

static int
apply_message(struct cx_revoke_view *v, const char *msg)
{
	char kind, key[KEY_MAX];
	long long a = 0, b = 0;
	int n = sscanf(msg, "%c %47s %lld %lld", &kind, key, &a, &b);

	if (kind == 'j' && n >= 3)
		return table_put(&v->jtis, key, 1, a);
	if (kind == 'u' && n == 4)
		return table_put(&v->users, key, a, b);
	cx_logf(CX_LOG_WARN, "revocations: ignored a malformed message");
	return 0;
}

/* Values and TTLs of a batch of keys in one round trip. */
static const char load_lua[] =
    "local out = {}\n"
    "for i, k in ipairs(KEYS) do\n"
    "  out[#out + 1] = redis.call('GET', k) or ''\n"
    "  out[#out + 1] = redis.call('TTL', k)\n"
    "end\n"
    "return out\n";

static int
load_batch(struct cx_revoke_view *v, redisReply **keys, size_t n, int users, int64_t now)
{
	const char *argv[LOAD_BATCH];
	struct cx_error err = { 0 };
	redisReply *reply;

	for (size_t i = 0; i < n; i++)
		argv[i] = keys[i]->str;
	reply = cx_redis_eval(v->r, &err, load_lua, (int)n, (int)n, argv);
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 * n) {
		freeReplyObject(reply);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *val = reply->element[2 * i], *ttl = reply->element[2 * i + 1];
		const char *id = strchr(keys[i]->str, ':');
		int64_t expires;

		if (id == NULL || val->type != REDIS_REPLY_STRING || val->len == 0 ||
		    ttl->type != REDIS_REPLY_INTEGER)
			continue;   /* expired between SCAN and now */
		expires = now + (ttl->integer > 0 ? ttl->integer : v->max_ttl);
		table_put(users ? &v->users : &v->jtis, id + 1,
		    users ? strtoll(val->str, NULL, 10) : 1, expires);
	}
	freeReplyObject(reply);
	return 0;
}

/* Load what is already stored: keys written before we subscribed. */
static int
load_pattern(struct cx_revoke_view *v, const char *pattern, int users)
{
	struct cx_error err = { 0 };
	char cursor[32] = "0";
	int64_t now = (int64_t)time(NULL);

	do {
		redisReply *scan = cx_redis_cmd(v->r, &err, "SCAN %s MATCH %s COUNT 500", cursor,
		    pattern);
		if (scan == NULL || scan->type != REDIS_REPLY_ARRAY || scan->elements != 2) {
			freeReplyObject(scan);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", scan->element[0]->str);
		for (size_t i = 0; i < scan->element[1]->elements; i += LOAD_BATCH) {
			size_t n = scan->element[1]->elements - i;
			if (n > LOAD_BATCH)
				n = LOAD_BATCH;
			if (load_batch(v, scan->element[1]->element + i, n, users, now) != 0) {
				freeReplyObject(scan);
				return -1;
			}
		}
		freeReplyObject(scan);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

static void
drop_subscription(struct cx_revoke_view *v)
{
	if (v->sub != NULL)
		redisFree(v->sub);
	v->sub = NULL;
}

/* Subscribe, then (re)load the stored revocations. Subscribing first means nothing
 * published in between is lost (a duplicate is harmless). */
static int
subscribe_and_load(struct cx_revoke_view *v)
{
	struct cx_redis_url u;
	struct timeval tv = { 1, 0 };
	redisReply *reply = NULL;
	redisContext *c;

	v->last_attempt_ms = cx_time_mono_ms();
	if (cx_redis_parse_url(v->url, &u, NULL) != CX_OK)
		return -1;
	c = u.is_unix ? redisConnectUnixWithTimeout(u.path, tv)
	              : redisConnectWithTimeout(u.host, u.port, tv);
	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	if (u.password[0] != '\0') {
		reply = u.user[0] ? redisCommand(c, "AUTH %s %s", u.user, u.password)
		                  : redisCommand(c, "AUTH %s", u.password);
		if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
			freeReplyObject(reply);
			redisFree(c);
			return -1;
		}
		freeReplyObject(reply);
	}
	reply = redisCommand(c, "SUBSCRIBE %s", CX_REVOKE_CHANNEL);
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(reply);
		redisFree(c);
		return -1;
	}
	freeReplyObject(reply);
	/* From now on the socket is read without blocking (cx_revoke_view_sync). */
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	drop_subscription(v);
	v->sub = c;
	table_clear(&v->jtis);
	table_clear(&v->users);
	if (load_pattern(v, "revoked_jti:*", 0) != 0 ||
	    load_pattern(v, "user_revoked_before:*", 1) != 0) {
		drop_subscription(v);
		return -1;
	}
	return 0;
}

int
cx_revoke_view_open(const char *redis_url, struct cx_redis *r, int max_ttl_seconds,
    struct cx_revoke_view **out, struct cx_error *err)
{
	struct cx_revoke_view *v = calloc(1, sizeof(*v));

	if (v == NULL || (v->url = strdup(redis_url)) == NULL) {
		free(v);
		return cx_error_internal(err, "out of memory");
	}
	v->r = r;
	v->max_ttl = max_ttl_seconds > 0 ? max_ttl_seconds : 3600;
	if (subscribe_and_load(v) != 0)
		cx_logf(CX_LOG_WARN, "revocations: no live view yet; checking Redis per request");
	*out = v;
	return CX_OK;
}

void
cx_revoke_view_free(struct cx_revoke_view *v)
{
	if (v == NULL)
		return;
	drop_subscription(v);
	table_clear(&v->jtis);
	table_clear(&v->users);
	free(v->url);
	free(v);
}

int
cx_revoke_view_sync(struct cx_revoke_view *v)
{
	char buf[16384];

	if (v == NULL)
		return 0;
	if (v->sub == NULL) {
		if (cx_time_mono_ms() - v->last_attempt_ms < REOPEN_EVERY_MS ||
		    subscribe_and_load(v) != 0)
			return 0;
	}
	for (;;) {
		ssize_t n = read(v->sub->fd, buf, sizeof(buf));
		void *reply = NULL;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			cx_logf(CX_LOG_WARN, "revocations: subscription lost; checking Redis per request");
			drop_subscription(v);
			return 0;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;   /* nothing more to read: the view is current */
		}
		if (redisReaderFeed(v->sub->reader, buf, (size_t)n) != REDIS_OK) {
			drop_subscription(v);
			return 0;
		}
		while (redisReaderGetReply(v->sub->reader, &reply) == REDIS_OK && reply != NULL) {
			redisReply *m = reply;
			if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
			    m->element[0]->type == REDIS_REPLY_STRING &&
			    strcmp(m->element[0]->str, "message") == 0 &&
			    m->element[2]->type == REDIS_REPLY_STRING &&
			    apply_message(v, m->element[2]->str) != 0) {
				/* Out of memory: this view can no longer be trusted. */
				freeReplyObject(reply);
				drop_subscription(v);
				return 0;
			}
			freeReplyObject(reply);
			reply = NULL;
		}
	}
	return 1;
}

int
cx_revoke_view_is_revoked(const struct cx_revoke_view *v, const char *jti,
    const char *user_id, int64_t iat)
{
	const struct entry *e;

	if (table_get(&v->jtis, jti) != NULL)
		return 1;
	e = table_get(&v->users, user_id);
	return e != NULL && iat < e->value;
}
