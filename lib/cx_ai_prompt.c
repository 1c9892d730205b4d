/* cx_ai_prompt: loading schema/prompts and filling the templates. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cx_ai_prompt.h"
#include "cx_buf.h"
#include "cx_json.h"
#include "cx_log.h"

static const char *const op_names[AI_OP_N] = { "generate", "evaluate", "summarize" };

/* The placeholders each template may use (the C side fills exactly these). */
static const char *const generate_vars[] = { "mode", "level", "question_count",
	"duration_minutes", "job_title", "job_description", "resume", "focus_areas", "seed", NULL };
static const char *const evaluate_vars[] = { "mode", "area", "question", "question_type",
	"competency", "key_points", "answer", "answer_type", "allow_follow_up", NULL };
static const char *const summarize_vars[] = { "interview", "total_score", "behavioral_score",
	"technical_score", NULL };
static const char *const *const op_vars[AI_OP_N] = { generate_vars, evaluate_vars,
	summarize_vars };

const char *
ai_op_name(enum ai_op op)
{
	return op >= 0 && op < AI_OP_N ? op_names[op] : "unknown";
}

/* ---------------------------------------------------------------- text */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid or cut. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

char *
ai_text_clean(const char *s, size_t max)
{
	size_t len = s != NULL ? strnlen(s, max) : 0, i = 0, o = 0;
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(len + 1);

	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t n = utf8_seq(u + i, len - i);

		if (n == 0) {
			/* a sequence cut by max is dropped; a broken one becomes '?' */
			if (len == max && len - i < 4 && u[i] >= 0xc2 && u[i] <= 0xf4)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, u + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

/* ---------------------------------------------------------------- loading */

static int
read_file(const char *path, char **out, size_t *outlen, struct cx_error *err)
{
	FILE *fp;
	struct stat st;
	char *buf = NULL;
	const char *base = strrchr(path, '/');
	int rc = CX_OK;

	base = base != NULL ? base + 1 : path;
	fp = fopen(path, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		cx_logf(CX_LOG_ERROR, "AI prompts: cannot open %s: %s", path, strerror(errno));
		rc = cx_error_set(err, CX_EINTERNAL, "Cannot read prompt file %s", path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > AI_PROMPT_MAX_FILE) {
		rc = cx_error_set(err, CX_EVALIDATION, "Prompt file %s: size must be 1..%d bytes",
		    base, AI_PROMPT_MAX_FILE);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = cx_error_internal(err, "out of memory reading %s", path);
		goto out;
	}
	if (fread(buf, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		rc = cx_error_set(err, CX_EINTERNAL, "Cannot read prompt file %s", path);
		goto out;
	}
	buf[st.st_size] = '\0';
	if (strlen(buf) != (size_t)st.st_size) {
		rc = cx_error_set(err, CX_EVALIDATION, "Prompt file %s: contains a NUL byte", base);
		goto out;
	}
	*out = buf;
	*outlen = (size_t)st.st_size;
	buf = NULL;
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return rc;
}

static int
var_known(const char *const *vars, const char *name, size_t len)
{
	for (; vars != NULL && *vars != NULL; vars++)
		if (strlen(*vars) == len && memcmp(*vars, name, len) == 0)
			return 1;
	return 0;
}

/* Every {{name}} of tmpl is in vars (NULL: no placeholder allowed). */
static int
check_placeholders(const char *tmpl, const char *const *vars, const char *file,
    struct cx_error *err)
{
	const char *p = tmpl, *end;

	while ((p = strstr(p, "{{")) != NULL) {
		end = strstr(p + 2, "}}");
		if (end == NULL)
			return cx_error_set(err, CX_EVALIDATION,
			    "Prompt file %s: \"{{\" without \"}}\"", file);
		if (!var_known(vars, p + 2, (size_t)(end - p - 2)))
			return cx_error_set(err, CX_EVALIDATION,
			    "Prompt file %s: unknown placeholder {{%.*s}}", file,
			    (int)(end - p - 2 < 40 ? end - p - 2 : 40), p + 2);
		p = end + 2;
	}
	return CX_OK;
}

static int
load_text(const char *dir, const char *file, const char *const *vars, char **out,
    struct cx_error *err)
{
	char path[4096];
	size_t len;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return cx_error_set(err, CX_EINTERNAL, "Prompt file %s: path too long", file);
	rc = read_file(path, out, &len, err);
	if (rc == CX_OK)
		rc = check_placeholders(*out, vars, file, err);
	return rc;
}

static json_object *
prop(json_object *schema, const char *name)
{
	return json_object_object_get(json_object_object_get(schema, "properties"), name);
}

/* The properties the C side fills per request must be where it looks for them. */
static int
check_schema(enum ai_op op, json_object *s, const char *file, struct cx_error *err)
{
	json_object *fu, *any;

	if (!json_object_is_type(s, json_type_object) || cx_json_str(s, "type") == NULL ||
	    strcmp(cx_json_str(s, "type"), "object") != 0 ||
	    !json_object_is_type(json_object_object_get(s, "properties"), json_type_object))
		return cx_error_set(err, CX_EVALIDATION,
		    "Prompt file %s: must be a JSON schema of type object", file);
	if (op != AI_OP_EVALUATE)
		return CX_OK;
	fu = prop(s, "follow_up");
	any = json_object_object_get(fu, "anyOf");
	if (!json_object_is_type(json_object_object_get(prop(s, "covered"), "items"),
	    json_type_object) || !json_object_is_type(any, json_type_array) ||
	    !json_object_is_type(prop(json_object_array_get_idx(any, 0), "gap"),
	    json_type_object))
		return cx_error_set(err, CX_EVALIDATION, "Prompt file %s: needs properties "
		    "covered.items and follow_up.anyOf[0].properties.gap", file);
	return CX_OK;
}

static int
load_schema(const char *dir, enum ai_op op, json_object **out, struct cx_error *err)
{
	char path[4096], file[64];
	char *text = NULL;
	size_t len = 0;
	struct cx_error perr = { 0 };
	int rc;

	snprintf(file, sizeof(file), "%s.schema.json", op_names[op]);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return cx_error_set(err, CX_EINTERNAL, "Prompt file %s: path too long", file);
	rc = read_file(path, &text, &len, err);
	if (rc != CX_OK)
		return rc;
	if (cx_json_parse(text, len, out, &perr) != CX_OK)
		rc = cx_error_set(err, CX_EVALIDATION, "Prompt file %s: not valid JSON", file);
	else if ((rc = check_schema(op, *out, file, err)) != CX_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	free(text);
	return rc;
}

void
ai_prompts_free(struct ai_prompts *p)
{
	int i;

	if (p == NULL)
		return;
	free(p->system);
	for (i = 0; i < AI_OP_N; i++) {
		free(p->user[i]);
		json_object_put(p->schema[i]);
	}
	free(p);
}

int
ai_prompts_load(const char *dir, struct ai_prompts **out, struct cx_error *err)
{
	struct ai_prompts *p;
	char file[64];
	int i, rc;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return cx_error_internal(err, "out of memory loading prompts");
	rc = load_text(dir, "system.txt", NULL, &p->system, err);
	for (i = 0; i < AI_OP_N && rc == CX_OK; i++) {
		snprintf(file, sizeof(file), "%s.txt", op_names[i]);
		rc = load_text(dir, file, op_vars[i], &p->user[i], err);
		if (rc == CX_OK)
			rc = load_schema(dir, (enum ai_op)i, &p->schema[i], err);
	}
	if (rc != CX_OK) {
		ai_prompts_free(p);
		return rc;
	}
	*out = p;
	return CX_OK;
}

/* ---------------------------------------------------------------- filling */

static void
add_value(struct cx_buf *b, const struct ai_var *v)
{
	const char *value = v->value != NULL ? v->value : "";
	json_object *s;
	const char *lit;

	if (!v->quote) {
		cx_buf_add(b, value, strlen(value));
		return;
	}
	s = json_object_new_string(value);
	lit = s != NULL ? json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (lit == NULL)
		b->failed = 1;
	else
		cx_buf_add(b, lit, strlen(lit));
	json_object_put(s);
}

char *
ai_prompt_fill(const struct ai_prompts *p, enum ai_op op, const struct ai_var *vars,
    size_t nvars)
{
	struct cx_buf b = { 0 };
	const char *t = p->user[op], *open, *close;
	size_t i;

	while ((open = strstr(t, "{{")) != NULL && (close = strstr(open + 2, "}}")) != NULL) {
		size_t nlen = (size_t)(close - open - 2);

		cx_buf_add(&b, t, (size_t)(open - t));
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == nlen &&
			    memcmp(vars[i].name, open + 2, nlen) == 0) {
				add_value(&b, &vars[i]);
				break;
			}
		t = close + 2;
	}
	cx_buf_add(&b, t, strlen(t));
	return cx_buf_take(&b);
}
