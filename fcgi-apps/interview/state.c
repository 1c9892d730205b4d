/* cx-interview: what Redis holds of an interview (spec 2.2): the live state hash, the
 * event channel the push daemon relays, and the cached results (spec 5.2). The stored
 * session is the truth; Redis is a view of it, so a Redis failure is logged and the
 * request goes on. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_buf.h"
#include "cx_json.h"
#include "cx_log.h"
#include "cx_redis.h"
#include "cx_time.h"
#include "interview.h"

#define RESULTS_TTL_SECONDS (24 * 3600)
#define STATE_GRACE_SECONDS (24 * 3600)
#define QUIET_MS 5000   /* how long a worker leaves a failing Redis alone */

/* Redis is a view here: when it fails (down, or hung until the 2 s command timeout), a
 * worker stops asking for a few seconds instead of waiting on it after every request.
 * What is skipped is rebuilt by the next write after it comes back. */
static int
redis_quiet(struct interview_app *ia)
{
	return ia->redis_quiet_until > cx_time_now_ms();
}

static void
redis_failed(struct interview_app *ia)
{
	ia->redis_quiet_until = cx_time_now_ms() + QUIET_MS;
}

void
state_refresh(struct cx_request *req, json_object *doc, int64_t now_ms)
{
	struct interview_app *ia = req->app->data;

	json_object_put(ia->refresh_doc);
	ia->refresh_doc = json_object_get(doc);
	ia->refresh_ms = now_ms;
}

void
state_publish(struct cx_request *req, const char *session_id, const char *type,
    json_object *data)
{
	struct interview_app *ia = req->app->data;
	json_object *msg = json_object_new_object();
	struct cx_buf b = { 0 };
	char now[CX_TIME_LEN];
	const char *text;
	size_t len;

	cx_time_now(now);
	json_object_object_add(msg, "type", json_object_new_string(type));
	json_object_object_add(msg, "session_id", json_object_new_string(session_id));
	json_object_object_add(msg, "at", json_object_new_string(now));
	json_object_object_add(msg, "data", data);
	if (cx_json_write(&b, msg) == 0) {
		text = b.data;
		len = b.len;
	} else
		text = cx_json_text(msg, &len);
	if (ia->outbox == NULL)
		ia->outbox = json_object_new_array();
	json_object_array_add(ia->outbox, json_object_new_string_len(text, (int)len));
	cx_buf_free(&b);
	snprintf(ia->outbox_session, sizeof(ia->outbox_session), "%s", session_id);
	json_object_put(msg);
}

void
state_flush(struct cx_request *req)
{
	struct interview_app *ia = req->app->data;
	json_object *doc = ia->refresh_doc;
	struct session_time t;
	struct cx_error err = { 0 };
	char key[96], cache[96], channel[96], remaining[24], deadline[24], ttl[24];
	char now[CX_TIME_LEN];
	const char *id, *current = "", *hset[12], *expire[3], *del[2], ***argv = NULL;
	const char **pubs = NULL;   /* the PUBLISH commands, 3 strings each */
	size_t nmsg = ia->outbox != NULL ? json_object_array_length(ia->outbox) : 0, i, n = 0;
	int *argc = NULL;

	if (doc == NULL && nmsg == 0)
		return;
	if (session_hold_state(req))   /* sent once the writes it reports are stored */
		return;
	if (redis_quiet(ia))
		goto out;
	id = doc != NULL ? cx_json_str(doc, "id") : ia->outbox_session;
	if (id == NULL || (argv = calloc(3 + nmsg, sizeof(*argv))) == NULL ||
	    (argc = calloc(3 + nmsg, sizeof(*argc))) == NULL ||
	    (pubs = calloc(3 * nmsg + 1, sizeof(*pubs))) == NULL)
		goto out;
	snprintf(key, sizeof(key), "interview:%s:state", id);
	snprintf(cache, sizeof(cache), "cache:interview:%s:results", id);
	snprintf(channel, sizeof(channel), "interview:%s:events", id);
	if (doc != NULL) {
		session_time(doc, ia->refresh_ms, &t);
		if (session_is(doc, "active"))
			current = session_plan_id(doc, session_current(doc));
		snprintf(remaining, sizeof(remaining), "%lld",
		    (long long)((t.remaining_ms + 999) / 1000));
		deadline[0] = '\0';
		if (t.running)
			snprintf(deadline, sizeof(deadline), "%lld",
			    (long long)((ia->refresh_ms + t.remaining_ms) / 1000));
		/* Kept for a day after the interview could last no longer, or after it ended. */
		snprintf(ttl, sizeof(ttl), "%lld", (long long)STATE_GRACE_SECONDS +
		    (session_is(doc, "completed") || session_is(doc, "terminated") ? 0 :
		    (long long)(t.remaining_ms / 1000)));
		cx_time_format_ms(ia->refresh_ms, now);
		hset[0] = "HSET";
		hset[1] = key;
		hset[2] = "current_question";
		hset[3] = current != NULL ? current : "";
		hset[4] = "time_remaining";
		hset[5] = remaining;
		hset[6] = "status";
		hset[7] = session_status(doc);
		hset[8] = "last_activity";
		hset[9] = now;
		hset[10] = "deadline";
		hset[11] = deadline;
		expire[0] = "EXPIRE";
		expire[1] = key;
		expire[2] = ttl;
		del[0] = "DEL";
		del[1] = cache;
		argv[n] = hset;
		argc[n++] = 12;
		argv[n] = expire;
		argc[n++] = 3;
		/* only a finished interview has a summary to cache */
		if (session_is(doc, "completed") || session_is(doc, "terminated")) {
			argv[n] = del;
			argc[n++] = 2;
		}
	}
	for (i = 0; i < nmsg; i++) {
		const char **pub = pubs + 3 * i;

		pub[0] = "PUBLISH";
		pub[1] = channel;
		pub[2] = json_object_get_string(json_object_array_get_idx(ia->outbox, i));
		argv[n] = pub;
		argc[n++] = 3;
	}
	/* one round trip, applied as one (what a reader of the state sees matches the
	 * events published with it) */
	if (cx_redis_multi_nowait(req->app->redis, &err, n, argc, argv) != CX_OK) {
		cx_logf(CX_LOG_WARN, "interview %s: state and %zu event(s) not sent to Redis: %s",
		    id, nmsg, err.message);
		redis_failed(ia);
	}
out:
	free(pubs);
	free(argv);
	free(argc);
	json_object_put(ia->refresh_doc);
	ia->refresh_doc = NULL;
	json_object_put(ia->outbox);
	ia->outbox = NULL;
}

json_object *
state_cached_results(struct cx_request *req, const char *session_id)
{
	struct cx_error err = { 0 };
	json_object *out = NULL;
	redisReply *reply;
	char key[96];

	if (redis_quiet(req->app->data))
		return NULL;
	snprintf(key, sizeof(key), "cache:interview:%s:results", session_id);
	reply = cx_redis_cmd(req->app->redis, &err, "GET %s", key);
	if (reply == NULL) {
		redis_failed(req->app->data);
		return NULL;
	}
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

	if (redis_quiet(req->app->data))
		return;
	snprintf(key, sizeof(key), "cache:interview:%s:results", session_id);
	text = cx_json_text(summary, &len);
	reply = cx_redis_cmd(req->app->redis, &err, "SET %s %b EX %d", key, text, len,
	    RESULTS_TTL_SECONDS);
	if (reply != NULL)
		freeReplyObject(reply);
	else
		redis_failed(req->app->data);
}
