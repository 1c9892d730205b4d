/* cx_ai_gemini: the Gemini generateContent wire format (JSON response with a schema). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_ai_remote.h"
#include "cx_json.h"

static char *
gemini_url(const char *base, const char *model)
{
	char *path = ai_strjoin("/models/", model, ":generateContent"), *url;

	if (path == NULL)
		return NULL;
	url = ai_strjoin(base, path, NULL);
	free(path);
	return url;
}

static char *
gemini_auth_header(const char *key)
{
	return ai_strjoin("x-goog-api-key: ", key, NULL);
}

static json_object *to_gemini(json_object *s);

/* anyOf [X, {type: null}] becomes X with nullable: true (NULL for any other anyOf). */
static json_object *
any_of_null(json_object *any)
{
	json_object *other = NULL, *g;
	size_t i, nnull = 0;

	if (json_object_array_length(any) != 2)
		return NULL;
	for (i = 0; i < 2; i++) {
		json_object *b = json_object_array_get_idx(any, i);
		const char *t = cx_json_str(b, "type");

		if (t != NULL && strcmp(t, "null") == 0)
			nnull++;
		else
			other = b;
	}
	if (nnull != 1 || other == NULL)
		return NULL;
	g = to_gemini(other);
	if (g != NULL)
		json_object_object_add(g, "nullable", json_object_new_boolean(1));
	return g;
}

/* The non-null member of a type union ["X", "null"], borrowed; NULL otherwise. */
static json_object *
union_type(json_object *type)
{
	json_object *other = NULL;
	size_t i, nnull = 0;

	if (json_object_array_length(type) != 2)
		return NULL;
	for (i = 0; i < 2; i++) {
		json_object *t = json_object_array_get_idx(type, i);

		if (strcmp(json_object_get_string(t), "null") == 0)
			nnull++;
		else
			other = t;
	}
	return nnull == 1 ? other : NULL;
}

/* Gemini's Type enum: "STRING", "OBJECT"... */
static json_object *
gemini_type(json_object *t)
{
	char up[16];
	const char *s = json_object_get_string(t);
	size_t i;

	if (!json_object_is_type(t, json_type_string) || strlen(s) >= sizeof(up))
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	up[i] = '\0';
	return json_object_new_string(up);
}

/* Gemini's responseSchema is an OpenAPI subset: upper-case types, no additionalProperties,
 * no type unions (nullable instead), string enums marked format "enum". NULL when s uses
 * something that has no Gemini form. */
static json_object *
to_gemini(json_object *s)
{
	json_object *out, *any = json_object_object_get(s, "anyOf");
	int ok = 1;

	if (!json_object_is_type(s, json_type_object))
		return NULL;
	if (json_object_is_type(any, json_type_array))
		return any_of_null(any);
	out = json_object_new_object();
	if (out == NULL)
		return NULL;
	json_object_object_foreach(s, key, val) {
		json_object *g = NULL;

		if (strcmp(key, "additionalProperties") == 0)
			continue;
		if (strcmp(key, "type") == 0 && json_object_is_type(val, json_type_array)) {
			g = gemini_type(union_type(val));
			if (g != NULL)
				json_object_object_add(out, "nullable",
				    json_object_new_boolean(1));
		} else if (strcmp(key, "type") == 0) {
			g = gemini_type(val);
		} else if (strcmp(key, "enum") == 0) {
			json_object_object_add(out, "format", json_object_new_string("enum"));
			if (json_object_deep_copy(val, &g, NULL) != 0)
				g = NULL;
		} else if (strcmp(key, "properties") == 0 &&
		    json_object_is_type(val, json_type_object)) {
			g = json_object_new_object();
			json_object_object_foreach(val, pname, pval) {
				json_object *pg = to_gemini(pval);

				if (pg == NULL)
					ok = 0;
				json_object_object_add(g, pname, pg);
			}
		} else if (strcmp(key, "items") == 0) {
			g = to_gemini(val);
		} else if (json_object_deep_copy(val, &g, NULL) != 0) {
			g = NULL;
		}
		if (g == NULL)
			ok = 0;
		json_object_object_add(out, key, g);
	}
	if (!ok) {
		json_object_put(out);
		return NULL;
	}
	return out;
}

static json_object *
text_parts(const char *text)
{
	json_object *o = json_object_new_object(), *parts = json_object_new_array();
	json_object *part = json_object_new_object();

	json_object_object_add(part, "text", json_object_new_string(text));
	json_object_array_add(parts, part);
	json_object_object_add(o, "parts", parts);
	return o;
}

/* {systemInstruction, contents [{role user, parts [{text}]}], generationConfig
 * {responseMimeType, responseSchema, temperature}} */
static json_object *
gemini_request(const char *model, const char *system, const char *user,
    const char *schema_name, json_object *schema, double temperature)
{
	json_object *req = json_object_new_object(), *contents = json_object_new_array();
	json_object *gen = json_object_new_object(), *user_msg = text_parts(user);
	json_object *gschema = to_gemini(schema);
	char t[16];

	(void)model;               /* the model is in the URL */
	(void)schema_name;
	if (req == NULL || contents == NULL || gen == NULL || user_msg == NULL ||
	    gschema == NULL) {
		json_object_put(req);
		json_object_put(contents);
		json_object_put(gen);
		json_object_put(user_msg);
		json_object_put(gschema);
		return NULL;
	}
	json_object_object_add(user_msg, "role", json_object_new_string("user"));
	json_object_array_add(contents, user_msg);
	json_object_object_add(gen, "responseMimeType", json_object_new_string(
	    "application/json"));
	json_object_object_add(gen, "responseSchema", gschema);
	snprintf(t, sizeof(t), "%.1f", temperature);
	json_object_object_add(gen, "temperature", json_object_new_double_s(temperature, t));
	json_object_object_add(req, "systemInstruction", text_parts(system));
	json_object_object_add(req, "contents", contents);
	json_object_object_add(req, "generationConfig", gen);
	return req;
}

/* candidates[0].content.parts[*].text; a blocked prompt, no candidate or a candidate that
 * did not finish normally are failures. */
static int
gemini_extract(const char *body, size_t len, char **text, char *why, size_t whylen)
{
	struct cx_error perr = { 0 };
	json_object *root = NULL, *cand, *parts;
	const char *finish;
	size_t i, total = 0, n;
	char *out = NULL;
	int rc = -1;

	if (cx_json_parse(body, len, &root, &perr) != CX_OK ||
	    !json_object_is_type(root, json_type_object)) {
		snprintf(why, whylen, "malformed response");
		goto out;
	}
	if (cx_json_str(json_object_object_get(root, "promptFeedback"), "blockReason") != NULL) {
		snprintf(why, whylen, "blocked");
		goto out;
	}
	cand = json_object_array_get_idx(json_object_object_get(root, "candidates"), 0);
	if (!json_object_is_type(json_object_object_get(root, "candidates"), json_type_array) ||
	    !json_object_is_type(cand, json_type_object)) {
		snprintf(why, whylen, "no candidates in response");
		goto out;
	}
	finish = cx_json_str(cand, "finishReason");
	if (finish != NULL && strcmp(finish, "MAX_TOKENS") == 0) {
		snprintf(why, whylen, "truncated");
		goto out;
	}
	if (finish != NULL && strcmp(finish, "STOP") != 0) {
		snprintf(why, whylen, "blocked");
		goto out;
	}
	parts = json_object_object_get(json_object_object_get(cand, "content"), "parts");
	n = json_object_is_type(parts, json_type_array) ? json_object_array_length(parts) : 0;
	for (i = 0; i < n; i++) {
		json_object *t = json_object_object_get(json_object_array_get_idx(parts, i),
		    "text");

		if (json_object_is_type(t, json_type_string))
			total += (size_t)json_object_get_string_len(t);
	}
	if (total == 0) {
		snprintf(why, whylen, "no content in response");
		goto out;
	}
	out = malloc(total + 1);
	if (out == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (i = 0, total = 0; i < n; i++) {
		json_object *t = json_object_object_get(json_object_array_get_idx(parts, i),
		    "text");

		if (!json_object_is_type(t, json_type_string))
			continue;
		memcpy(out + total, json_object_get_string(t),
		    (size_t)json_object_get_string_len(t));
		total += (size_t)json_object_get_string_len(t);
	}
	out[total] = '\0';
	*text = out;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

const struct ai_wire ai_wire_gemini = {
	.name = "gemini",
	.url = gemini_url,
	.auth_header = gemini_auth_header,
	.request = gemini_request,
	.extract = gemini_extract,
};
