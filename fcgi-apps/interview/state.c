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
	struct cx_buf b = { 0 };
	char now[CX_TIME_LEN];
	struct cx_jw w;

	cx_time_now(now);
	cx_jw_open(&w, &b);
	cx_jw_str(&w, "type", type);
	cx_jw_str(&w, "session_id", session_id);
	cx_jw_str(&w, "at", now);
	cx_jw_json(&w, "data", data);
	cx_jw_close(&w);
	json_object_put(data);
	if (b.failed) {
		cx_buf_free(&b);
		cx_logf(CX_LOG_WARN, "no %s event for session %s: out of memory", type, session_id);
		return;
	}
	if (ia->outbox == NULL)
		ia->outbox = json_object_new_array();
	json_object_array_add(ia->outbox, json_object_new_string_len(b.data, (int)b.len));
	cx_buf_free(&b);
	snprintf(ia->outbox_session, sizeof(ia->outbox_session), "%s", session_id);
}

/* The commands one flush owes Redis, and the strings they point into. */
struct state_cmds {
	char key[96], cache[96], channel[96], remaining[24], deadline[24], ttl[24];
	char now[CX_TIME_LEN];
	const char *hset[12], *expire[3], *del[2];
	const char **pubs;   /* the PUBLISH commands, 3 strings each (owned) */
};

/* Append to argv/argc (room for 3 + the messages) the state of doc (NULL: none) at
 * refresh_ms and the PUBLISH of each message of outbox on session id's channel. The
 * strings stay in c, doc and outbox. Returns the commands added, or -1. */
static int
state_commands(struct state_cmds *c, const char *id, json_object *doc, int64_t refresh_ms,
    json_object *outbox, const char ***argv, int *argc)
{
	size_t nmsg = outbox != NULL ? json_object_array_length(outbox) : 0, i;
	struct session_time t;
	const char *current = "";
	int n = 0;

	if ((c->pubs = calloc(3 * nmsg + 1, sizeof(*c->pubs))) == NULL)
		return -1;
	snprintf(c->key, sizeof(c->key), "interview:%s:state", id);
	snprintf(c->cache, sizeof(c->cache), "cache:interview:%s:results", id);
	snprintf(c->channel, sizeof(c->channel), "interview:%s:events", id);
	if (doc != NULL) {
		session_time(doc, refresh_ms, &t);
		if (session_is(doc, "active"))
			current = session_plan_id(doc, session_current(doc));
		snprintf(c->remaining, sizeof(c->remaining), "%lld",
		    (long long)((t.remaining_ms + 999) / 1000));
		c->deadline[0] = '\0';
		if (t.running)
			snprintf(c->deadline, sizeof(c->deadline), "%lld",
			    (long long)((refresh_ms + t.remaining_ms) / 1000));
		/* Kept for a day after the interview could last no longer, or after it ended. */
		snprintf(c->ttl, sizeof(c->ttl), "%lld", (long long)STATE_GRACE_SECONDS +
		    (session_is(doc, "completed") || session_is(doc, "terminated") ? 0 :
		    (long long)(t.remaining_ms / 1000)));
		cx_time_format_ms(refresh_ms, c->now);
		c->hset[0] = "HSET";
		c->hset[1] = c->key;
		c->hset[2] = "current_question";
		c->hset[3] = current != NULL ? current : "";
		c->hset[4] = "time_remaining";
		c->hset[5] = c->remaining;
		c->hset[6] = "status";
		c->hset[7] = session_status(doc);
		c->hset[8] = "last_activity";
		c->hset[9] = c->now;
		c->hset[10] = "deadline";
		c->hset[11] = c->deadline;
		c->expire[0] = "EXPIRE";
		c->expire[1] = c->key;
		c->expire[2] = c->ttl;
		c->del[0] = "DEL";
		c->del[1] = c->cache;
		argv[n] = c->hset;
		argc[n++] = 12;
		argv[n] = c->expire;
		argc[n++] = 3;
		/* only a finished interview has a summary to cache */
		if (session_is(doc, "completed") || session_is(doc, "terminated")) {
			argv[n] = c->del;
			argc[n++] = 2;
		}
	}
	for (i = 0; i < nmsg; i++) {
		const char **pub = c->pubs + 3 * i;

		pub[0] = "PUBLISH";
		pub[1] = c->channel;
		pub[2] = json_object_get_string(json_object_array_get_idx(outbox, i));
		argv[n] = pub;
		argc[n++] = 3;
	}
	return n;
}

/* Send what each of due[0..n) owes Redis: one round trip, applied as one (what a reader
 * of a state sees matches the events published with it). */
void
state_send(struct cx_app *app, const struct state_due *due, size_t n)
{
	struct interview_app *ia = app->data;
	struct cx_error err = { 0 };
	struct state_cmds *cmds = NULL;
	const char ***argv = NULL;
	int *argc = NULL, k;
	size_t i, room = 0, ncmds = 0;

	if (n == 0 || redis_quiet(ia))
		return;
	for (i = 0; i < n; i++)
		room += 3 + (due[i].outbox != NULL ?
		    json_object_array_length(due[i].outbox) : 0);
	if ((cmds = calloc(n, sizeof(*cmds))) == NULL ||
	    (argv = calloc(room, sizeof(*argv))) == NULL ||
	    (argc = calloc(room, sizeof(*argc))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const char *id = due[i].doc != NULL ? cx_json_str(due[i].doc, "id") :
		    due[i].session;

		if (id == NULL || (due[i].doc == NULL && due[i].outbox == NULL))
			continue;
		if ((k = state_commands(&cmds[i], id, due[i].doc, due[i].refresh_ms,
		    due[i].outbox, argv + ncmds, argc + ncmds)) < 0)
			goto out;
		ncmds += (size_t)k;
	}
	if (ncmds > 0 && cx_redis_multi_nowait(app->redis, &err, ncmds, argc, argv) !=
	    CX_OK) {
		cx_logf(CX_LOG_WARN, "the state of %zu interview(s) and their events not sent to "
		    "Redis: %s", n, err.message);
		redis_failed(ia);
	}
out:
	for (i = 0; cmds != NULL && i < n; i++)
		free(cmds[i].pubs);
	free(cmds);
	free(argv);
	free(argc);
}

void
state_flush(struct cx_request *req)
{
	struct interview_app *ia = req->app->data;
	struct state_due due;

	if (ia->refresh_doc == NULL && ia->outbox == NULL)
		return;
	if (session_hold_state(req))   /* sent once the writes it reports are stored */
		return;
	due.doc = ia->refresh_doc;
	due.refresh_ms = ia->refresh_ms;
	due.outbox = ia->outbox;
	due.session = ia->outbox_session;
	state_send(req->app, &due, 1);
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
