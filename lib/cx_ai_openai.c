/* cx_ai_openai: the OpenAI Chat Completions wire format (JSON-schema structured output). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai_remote.h"
#include "cx_json.h"

static char *
openai_url(const char *base, const char *model)
{
	(void)model;               /* the model goes in the body */
	return ai_strjoin(base, "/chat/completions", NULL);
}

static char *
openai_auth_header(const char *key)
{
	return ai_strjoin("Authorization: Bearer ", key, NULL);
}

static json_object *
message(const char *role, const char *content)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", json_object_new_string(content));
	return m;
}

/* {model, messages [system, user], response_format {type json_schema, json_schema {name,
 * strict, schema}}, temperature} */
static json_object *
openai_request(const char *model, const char *system, const char *user,
    const char *schema_name, json_object *schema, double temperature)
{
	json_object *req = json_object_new_object(), *msgs = json_object_new_array();
	json_object *fmt = json_object_new_object(), *js = json_object_new_object();
	json_object *copy = NULL;
	char t[16];

	if (req == NULL || msgs == NULL || fmt == NULL || js == NULL ||
	    json_object_deep_copy(schema, &copy, NULL) != 0) {
		json_object_put(req);
		json_object_put(msgs);
		json_object_put(fmt);
		json_object_put(js);
		return NULL;
	}
	json_object_array_add(msgs, message("system", system));
	json_object_array_add(msgs, message("user", user));
	json_object_object_add(js, "name", json_object_new_string(schema_name));
	json_object_object_add(js, "strict", json_object_new_boolean(1));
	json_object_object_add(js, "schema", copy);
	json_object_object_add(fmt, "type", json_object_new_string("json_schema"));
	json_object_object_add(fmt, "json_schema", js);
	snprintf(t, sizeof(t), "%.1f", temperature);
	json_object_object_add(req, "model", json_object_new_string(model));
	json_object_object_add(req, "messages", msgs);
	json_object_object_add(req, "response_format", fmt);
	json_object_object_add(req, "temperature", json_object_new_double_s(temperature, t));
	return req;
}

/* choices[0].message.content; a refusal, a cut answer ("length") or a filtered one are
 * failures. */
static int
openai_extract(const char *body, size_t len, char **text, char *why, size_t whylen)
{
	struct cx_error perr = { 0 };
	json_object *root = NULL, *choice, *msg, *refusal, *content;
	const char *finish;
	int rc = -1;

	if (cx_json_parse(body, len, &root, &perr) != CX_OK ||
	    !json_object_is_type(root, json_type_object)) {
		snprintf(why, whylen, "malformed response");
		goto out;
	}
	choice = json_object_array_get_idx(json_object_object_get(root, "choices"), 0);
	if (!json_object_is_type(json_object_object_get(root, "choices"), json_type_array) ||
	    !json_object_is_type(choice, json_type_object)) {
		snprintf(why, whylen, "no choices in response");
		goto out;
	}
	msg = json_object_object_get(choice, "message");
	refusal = json_object_object_get(msg, "refusal");
	finish = cx_json_str(choice, "finish_reason");
	content = json_object_object_get(msg, "content");
	if (json_object_is_type(refusal, json_type_string)) {
		snprintf(why, whylen, "refused");
		goto out;
	}
	if (finish != NULL && strcmp(finish, "length") == 0) {
		snprintf(why, whylen, "truncated");
		goto out;
	}
	if (finish != NULL && strcmp(finish, "content_filter") == 0) {
		snprintf(why, whylen, "blocked");
		goto out;
	}
	if (!json_object_is_type(content, json_type_string) ||
	    json_object_get_string_len(content) == 0) {
		snprintf(why, whylen, "no content in response");
		goto out;
	}
	*text = strdup(json_object_get_string(content));
	if (*text == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

const struct ai_wire ai_wire_openai = {
	.name = "openai",
	.url = openai_url,
	.auth_header = openai_auth_header,
	.request = openai_request,
	.extract = openai_extract,
};
