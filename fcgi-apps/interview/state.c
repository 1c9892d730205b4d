/* cx-interview: what Redis holds of an interview (spec 2.2): the live state hash, the
 * event channel the push daemon relays, and the cached results (spec 5.2). The stored
 * session is the truth; Redis is a view of it, so a Redis failure is logged and the
 * request goes on. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cx_json.h"
#include "cx_log.h"
#include "cx_redis.h"
#include "cx_time.h"
#include "interview.h"

#define RESULTS_TTL_SECONDS (24 * 3600)
#define STATE_GRACE_SECONDS (24 * 3600)

/* KEYS: state hash, results cache. ARGV: current_question, time_remaining, status,
 * last_activity, deadline, ttl. One round trip for every write of a session. */
static const char state_script[] =
	"redis.call('HSET', KEYS[1], 'current_question', ARGV[1], 'time_remaining', ARGV[2],"
	" 'status', ARGV[3], 'last_activity', ARGV[4], 'deadline', ARGV[5])\n"
	"redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))\n"
	"redis.call('DEL', KEYS[2])\n"
	"return 1\n";

void
state_refresh(struct cx_request *req, json_object *doc, int64_t now_ms)
{
	const char *id = cx_json_str(doc, "id"), *argv[8];
	json_object *qs = session_questions(doc);
	struct session_time t;
	struct cx_error err = { 0 };
	char key[96], cache[96], remaining[24], deadline[24], ttl[24], now[CX_TIME_LEN];
	const char *current = "";
	int cur = session_current(doc);
	redisReply *reply;

	if (id == NULL)
		return;
	session_time(doc, now_ms, &t);
	if (session_is(doc, "active") && qs != NULL && cur >= 0 &&
	    (size_t)cur < json_object_array_length(qs))
		current = cx_json_str(json_object_array_get_idx(qs, (size_t)cur), "id");
	snprintf(key, sizeof(key), "interview:%s:state", id);
	snprintf(cache, sizeof(cache), "cache:interview:%s:results", id);
	snprintf(remaining, sizeof(remaining), "%lld", (long long)((t.remaining_ms + 999) / 1000));
	if (t.running)
		snprintf(deadline, sizeof(deadline), "%lld",
		    (long long)((now_ms + t.remaining_ms) / 1000));
	else
		deadline[0] = '\0';
	/* Kept for a day after the interview could last no longer, or after it ended. */
	snprintf(ttl, sizeof(ttl), "%lld", (long long)STATE_GRACE_SECONDS +
	    (session_is(doc, "completed") || session_is(doc, "terminated") ? 0 :
	    (long long)(t.remaining_ms / 1000)));
	cx_time_format_ms(now_ms, now);
	argv[0] = key;
	argv[1] = cache;
	argv[2] = current != NULL ? current : "";
	argv[3] = remaining;
	argv[4] = session_status(doc);
	argv[5] = now;
	argv[6] = deadline;
	argv[7] = ttl;
	reply = cx_redis_eval(req->app->redis, &err, state_script, 2, 8, argv);
	if (reply == NULL)
		cx_logf(CX_LOG_WARN, "interview %s: state not written to Redis: %s", id,
		    err.message);
	else
		freeReplyObject(reply);
}

void
state_publish(struct cx_request *req, const char *session_id, const char *type,
    json_object *data)
{
	json_object *msg = json_object_new_object();
	struct cx_error err = { 0 };
	char channel[96], now[CX_TIME_LEN];
	redisReply *reply;
	const char *text;
	size_t len;

	cx_time_now(now);
	json_object_object_add(msg, "type", json_object_new_string(type));
	json_object_object_add(msg, "session_id", json_object_new_string(session_id));
	json_object_object_add(msg, "at", json_object_new_string(now));
	json_object_object_add(msg, "data", data);
	snprintf(channel, sizeof(channel), "interview:%s:events", session_id);
	text = cx_json_text(msg, &len);
	reply = cx_redis_cmd(req->app->redis, &err, "PUBLISH %s %b", channel, text, len);
	if (reply == NULL)
		cx_logf(CX_LOG_WARN, "interview %s: %s event not published: %s", session_id, type,
		    err.message);
	else
		freeReplyObject(reply);
	json_object_put(msg);
}

json_object *
state_cached_results(struct cx_request *req, const char *session_id)
{
	struct cx_error err = { 0 };
	json_object *out = NULL;
	redisReply *reply;
	char key[96];

	snprintf(key, sizeof(key), "cache:interview:%s:results", session_id);
	reply = cx_redis_cmd(req->app->redis, &err, "GET %s", key);
	if (reply == NULL)
		return NULL;
	if (reply->type == REDIS_REPLY_STRING &&
	    cx_json_parse(reply->str, reply->len, &out, NULL) != CX_OK)
		out = NULL;
	freeReplyObject(reply);
	if (out != NULL && !json_object_is_type(out, json_type_object)) {
		json_object_put(out);
		out = NULL;
	}
	return out;
}

void
state_cache_results(struct cx_request *req, const char *session_id, json_object *summary)
{
	struct cx_error err = { 0 };
	redisReply *reply;
	const char *text;
	size_t len;
	char key[96];

	snprintf(key, sizeof(key), "cache:interview:%s:results", session_id);
	text = cx_json_text(summary, &len);
	reply = cx_redis_cmd(req->app->redis, &err, "SET %s %b EX %d", key, text, len,
	    RESULTS_TTL_SECONDS);
	if (reply != NULL)
		freeReplyObject(reply);
}
