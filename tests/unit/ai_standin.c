/* ai_standin: one HTTP/1.1 server thread that answers like OpenAI Chat Completions and
 * Gemini generateContent, following a script. One connection at a time, Connection: close. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ai_standin.h"

#define MAX_HEAD  (64 * 1024)
#define MAX_BODY  (8 * 1024 * 1024)
#define MAX_STEPS 16

struct standin {
	int fd, port, stop;
	pthread_t thread;
	pthread_mutex_t mu;
	char *key;
	struct standin_step steps[MAX_STEPS];
	size_t nsteps, next;
	int requests;
	struct standin_request last;
	int have_last;
};

/* ---------------------------------------------------------------- answers */

static char *
json_text(json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

static json_object *
jparse(const char *s)
{
	return json_tokener_parse(s);
}

static char *
openai_answer(const struct standin_step *st, const char *model)
{
	json_object *o = json_object_new_object(), *choices = json_object_new_array();
	json_object *c = json_object_new_object(), *m = json_object_new_object();
	const char *finish = st->kind == SI_TRUNCATED ? "length" : "stop";

	json_object_object_add(m, "role", json_object_new_string("assistant"));
	if (st->kind == SI_REFUSAL) {
		json_object_object_add(m, "content", NULL);
		json_object_object_add(m, "refusal", json_object_new_string(
		    "I'm sorry, I can't help with that request."));
	} else {
		json_object_object_add(m, "content", json_object_new_string(
		    st->text != NULL ? st->text : ""));
		json_object_object_add(m, "refusal", NULL);
	}
	json_object_object_add(c, "index", json_object_new_int(0));
	json_object_object_add(c, "message", m);
	json_object_object_add(c, "logprobs", NULL);
	json_object_object_add(c, "finish_reason", json_object_new_string(finish));
	json_object_array_add(choices, c);
	json_object_object_add(o, "id", json_object_new_string("chatcmpl-standin"));
	json_object_object_add(o, "object", json_object_new_string("chat.completion"));
	json_object_object_add(o, "created", json_object_new_int(1700000000));
	json_object_object_add(o, "model", json_object_new_string(model));
	json_object_object_add(o, "choices", choices);
	json_object_object_add(o, "usage", jparse("{\"prompt_tokens\":100,"
	    "\"completion_tokens\":50,\"total_tokens\":150}"));
	return json_text(o);
}

static char *
gemini_answer(const struct standin_step *st)
{
	json_object *o = json_object_new_object(), *cands, *c, *content, *parts, *p;

	json_object_object_add(o, "usageMetadata", jparse("{\"promptTokenCount\":100,"
	    "\"candidatesTokenCount\":50,\"totalTokenCount\":150}"));
	json_object_object_add(o, "modelVersion", json_object_new_string("gemini-standin"));
	if (st->kind == SI_BLOCKED) {
		json_object_object_add(o, "promptFeedback", jparse("{\"blockReason\":\"SAFETY\","
		    "\"safetyRatings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\","
		    "\"probability\":\"HIGH\"}]}"));
		return json_text(o);
	}
	cands = json_object_new_array();
	c = json_object_new_object();
	content = json_object_new_object();
	parts = json_object_new_array();
	p = json_object_new_object();
	json_object_object_add(p, "text", json_object_new_string(
	    st->kind == SI_REFUSAL ? "" : st->text != NULL ? st->text : ""));
	json_object_array_add(parts, p);
	json_object_object_add(content, "parts", parts);
	json_object_object_add(content, "role", json_object_new_string("model"));
	json_object_object_add(c, "content", content);
	json_object_object_add(c, "finishReason", json_object_new_string(
	    st->kind == SI_TRUNCATED ? "MAX_TOKENS" : st->kind == SI_REFUSAL ? "SAFETY" :
	    "STOP"));
	json_object_object_add(c, "index", json_object_new_int(0));
	json_object_array_add(cands, c);
	json_object_object_add(o, "candidates", cands);
	return json_text(o);
}

static char *
error_body(int gemini, int status)
{
	char buf[512];
	const char *msg = status == 429 ? "Rate limit reached for requests" :
	    status == 401 ? "Incorrect API key provided" : status >= 500 ?
	    "The server had an error while processing your request" : "Bad request";

	if (gemini)
		snprintf(buf, sizeof(buf), "{\"error\":{\"code\":%d,\"message\":\"%s\","
		    "\"status\":\"%s\"}}", status, msg, status == 429 ? "RESOURCE_EXHAUSTED" :
		    status == 401 ? "UNAUTHENTICATED" : status >= 500 ? "INTERNAL" :
		    "INVALID_ARGUMENT");
	else
		snprintf(buf, sizeof(buf), "{\"error\":{\"message\":\"%s\",\"type\":\"%s\","
		    "\"param\":null,\"code\":%s}}", msg, status == 429 ? "requests" :
		    status >= 500 ? "server_error" : "invalid_request_error",
		    status == 429 ? "\"rate_limit_exceeded\"" : status == 401 ?
		    "\"invalid_api_key\"" : "null");
	return strdup(buf);
}

/* ---------------------------------------------------------------- HTTP */

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
respond(int fd, int status, int retry_after, const char *body, size_t len)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n", status,
	    status == 200 ? "OK" : status == 429 ? "Too Many Requests" : status == 401 ?
	    "Unauthorized" : status >= 500 ? "Internal Server Error" : "Error", len);
	if (retry_after > 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Retry-After: %d\r\n",
		    retry_after);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (send_all(fd, head, (size_t)n) == 0)
		send_all(fd, body, len);
}

char *
standin_header(const struct standin_request *r, const char *name)
{
	const char *p = r->headers;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t llen = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return strndup(v, llen - (size_t)(v - p));
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return NULL;
}

/* Read one request into r; -1 when it is not a whole HTTP request. */
static int
read_request(int fd, struct standin_request *r)
{
	char *buf = malloc(MAX_HEAD + 1), *end = NULL, *cl, *sp;
	size_t len = 0, head_len, want;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (buf == NULL)
		return -1;
	while (end == NULL && len < MAX_HEAD) {
		ssize_t n = recv(fd, buf + len, MAX_HEAD - len, 0);

		if (n <= 0)
			goto out;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (end == NULL)
		goto out;
	head_len = (size_t)(end - buf) + 4;
	*end = '\0';
	if (sscanf(buf, "%15s %511s", r->method, r->path) != 2)
		goto out;
	sp = strstr(buf, "\r\n");
	r->headers = strdup(sp != NULL ? sp + 2 : "");
	cl = standin_header(r, "Content-Length");
	want = cl != NULL ? strtoul(cl, NULL, 10) : 0;
	free(cl);
	if (want > MAX_BODY)
		goto out;
	r->body = malloc(want + 1);
	if (r->body == NULL)
		goto out;
	r->body_len = len - head_len < want ? len - head_len : want;
	memcpy(r->body, buf + head_len, r->body_len);
	while (r->body_len < want) {
		ssize_t n = recv(fd, r->body + r->body_len, want - r->body_len, 0);

		if (n <= 0)
			goto out;
		r->body_len += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	rc = 0;
out:
	free(buf);
	if (rc != 0)
		standin_request_free(r);
	return rc;
}

/* Wait ms unless the client hangs up first (a client that timed out). 0 = still there. */
static int
wait_or_hangup(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (ms <= 0)
		return 0;
	if (poll(&p, 1, ms) > 0 && recv(fd, &c, 1, MSG_PEEK) <= 0)
		return -1;
	return 0;
}

static void
serve(struct standin *s, int fd)
{
	struct standin_request r;
	struct standin_step st = { .kind = SI_ERROR, .status = 500 };
	json_object *req = NULL;
	char *body = NULL, *auth = NULL, *text = NULL;
	const char *model = "unknown";
	int gemini, openai, authorized;

	if (read_request(fd, &r) != 0)
		return;
	openai = strlen(r.path) > 17 && strcmp(r.path + strlen(r.path) - 17,
	    "/chat/completions") == 0;
	gemini = strstr(r.path, "/models/") != NULL &&
	    strstr(r.path, ":generateContent") != NULL;
	auth = standin_header(&r, gemini ? "x-goog-api-key" : "Authorization");
	if (gemini)
		authorized = auth != NULL && strcmp(auth, s->key) == 0;
	else
		authorized = auth != NULL && strncmp(auth, "Bearer ", 7) == 0 &&
		    strcmp(auth + 7, s->key) == 0;
	pthread_mutex_lock(&s->mu);
	s->requests++;
	standin_request_free(&s->last);
	s->last = r;
	s->have_last = 1;
	if (s->nsteps > 0) {
		st = s->steps[s->next];
		if (st.text != NULL)
			st.text = text = strdup(st.text);   /* ours while the script may change */
		if (s->next + 1 < s->nsteps)
			s->next++;
	}
	req = json_tokener_parse(s->last.body);
	pthread_mutex_unlock(&s->mu);
	if (json_object_is_type(json_object_object_get(req, "model"), json_type_string))
		model = json_object_get_string(json_object_object_get(req, "model"));
	if (strcmp(r.method, "POST") != 0 || (!openai && !gemini)) {
		body = strdup("{\"error\":{\"message\":\"not found\"}}");
		respond(fd, 404, 0, body, strlen(body));
		goto out;
	}
	if (!authorized) {
		body = error_body(gemini, 401);
		respond(fd, 401, 0, body, strlen(body));
		goto out;
	}
	if (wait_or_hangup(fd, st.delay_ms) != 0)
		goto out;
	switch (st.kind) {
	case SI_ERROR:
		body = error_body(gemini, st.status);
		respond(fd, st.status, st.retry_after, body, strlen(body));
		break;
	case SI_RAW:
		respond(fd, st.status > 0 ? st.status : 200, 0, st.text != NULL ? st.text : "",
		    st.text != NULL ? strlen(st.text) : 0);
		break;
	case SI_HUGE:
		body = malloc(2 * 1024 * 1024 + 64);
		if (body != NULL) {
			size_t n = 2 * 1024 * 1024;

			memcpy(body, "{\"pad\":\"", 8);
			memset(body + 8, 'x', n);
			memcpy(body + 8 + n, "\"}", 3);
			respond(fd, 200, 0, body, n + 10);
		}
		break;
	default:
		body = gemini ? gemini_answer(&st) : openai_answer(&st, model);
		respond(fd, 200, 0, body, strlen(body));
		break;
	}
out:
	json_object_put(req);
	free(body);
	free(auth);
	free(text);
}

static void *
run(void *arg)
{
	struct standin *s = arg;

	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int stop, c;

		pthread_mutex_lock(&s->mu);
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(s, c);
		close(c);
	}
	return NULL;
}

/* ---------------------------------------------------------------- control */

int
standin_start(struct standin **out, const char *key)
{
	struct standin *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1;

	if (s == NULL)
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	s->key = strdup(key);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s->key == NULL || s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->fd, 16) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0 ||
	    pthread_create(&s->thread, NULL, run, s) != 0) {
		if (s->fd >= 0)
			close(s->fd);
		free(s->key);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return -1;
	}
	s->port = ntohs(a.sin_port);
	*out = s;
	return 0;
}

static void
clear_steps(struct standin *s)
{
	size_t i;

	for (i = 0; i < s->nsteps; i++)
		free((char *)s->steps[i].text);
	s->nsteps = s->next = 0;
}

void
standin_stop(struct standin *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	close(s->fd);
	clear_steps(s);
	standin_request_free(&s->last);
	free(s->key);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int
standin_port(const struct standin *s)
{
	return s->port;
}

void
standin_script(struct standin *s, const struct standin_step *steps, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->mu);
	clear_steps(s);
	for (i = 0; i < n && i < MAX_STEPS; i++) {
		s->steps[i] = steps[i];
		s->steps[i].text = steps[i].text != NULL ? strdup(steps[i].text) : NULL;
	}
	s->nsteps = i;
	pthread_mutex_unlock(&s->mu);
}

int
standin_requests(struct standin *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->requests;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int
standin_last(struct standin *s, struct standin_request *out)
{
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	if (s->have_last) {
		*out = s->last;
		out->headers = strdup(s->last.headers != NULL ? s->last.headers : "");
		out->body = malloc(s->last.body_len + 1);
		if (out->body != NULL) {
			memcpy(out->body, s->last.body, s->last.body_len);
			out->body[s->last.body_len] = '\0';
		}
		rc = out->headers != NULL && out->body != NULL ? 0 : -1;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
standin_request_free(struct standin_request *r)
{
	free(r->headers);
	free(r->body);
	r->headers = r->body = NULL;
	r->body_len = 0;
}
