/* The local interviewer's question bank (the JSON files in schema/questions) and skills taxonomy
 * (schema/skills.json) keep the format the provider reads and the counts the product
 * promises: every violation is reported with its file and question id. */
#include "config.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIN_TOTAL        320
#define MIN_TECHNICAL    24
#define MIN_PER_LEVEL    5
#define MIN_CODING       2
#define MIN_BEHAVIORAL   60
#define MIN_COMPETENCY   5
#define MIN_SKILLS       150
#define MAX_FILES        64

static const char *const levels[] = { "junior", "mid", "senior" };
#define NLEVELS 3
static const char *const types[] = { "text", "voice", "coding" };
#define NTYPES 3
static const char *const competencies[] = {
	"leadership", "teamwork", "conflict", "ownership", "communication",
	"adaptability", "failure", "customer-focus", "prioritization", "mentoring",
};
#define NCOMPETENCIES 10
static const char *const required_areas[] = {
	"algorithms", "system-design", "databases", "networking", "security",
	"frontend", "backend", "devops", "data", "ml", NULL,
};
static const char *const coding_areas[] = { "algorithms", "backend", "frontend", "data", NULL };
static const char *const question_keys[] = {
	"id", "levels", "type", "competency", "skills", "content", "key_points",
	"keywords", "follow_up", "time_minutes", NULL,
};

/* What one file holds, for the count rules and the summary line. */
struct counts {
	char area[64];
	int behavioral;
	int total;
	int level[NLEVELS];
	int type[NTYPES];
	int competency[NCOMPETENCIES];
};

/* Checker state across files: the known skills, the ids and contents seen so far and
 * the violations found (all printed, the first ones kept for the assertion message). */
struct check {
	json_object *skills;    /* skill id -> area */
	json_object *ids;       /* question id -> file */
	json_object *contents;  /* lowercased content -> question id */
	char prefix[16];        /* id prefix of the file being checked */
	int quiet;              /* do not print (the checker's own tests) */
	int nerr;
	char errs[4096];
	size_t errlen;
};

static void
check_init(struct check *c)
{
	memset(c, 0, sizeof(*c));
	c->skills = json_object_new_object();
	c->ids = json_object_new_object();
	c->contents = json_object_new_object();
}

static void
check_free(struct check *c)
{
	json_object_put(c->skills);
	json_object_put(c->ids);
	json_object_put(c->contents);
}

__attribute__((format(printf, 4, 5)))
static void
fail(struct check *c, const char *file, const char *id, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->quiet)
		fprintf(stderr, "%s: %s: %s\n", file, id != NULL ? id : "-", msg);
	c->nerr++;
	if (c->errlen < sizeof(c->errs) - 1) {
		n = snprintf(c->errs + c->errlen, sizeof(c->errs) - c->errlen, "%s: %s: %s\n",
		    file, id != NULL ? id : "-", msg);
		if (n > 0)
			c->errlen += (size_t)n;
		if (c->errlen > sizeof(c->errs) - 1)
			c->errlen = sizeof(c->errs) - 1;
	}
}

static int
index_of(const char *const *list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

static int
in_null_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* A string field that is present, non-empty, without surrounding blanks and at most
 * max bytes long; returns it or NULL after reporting why not. */
static const char *
trimmed_string(struct check *c, const char *file, const char *id, json_object *v,
    const char *what, size_t min, size_t max)
{
	const char *s;
	size_t len;

	if (v == NULL || !json_object_is_type(v, json_type_string)) {
		fail(c, file, id, "%s is missing or not a string", what);
		return NULL;
	}
	s = json_object_get_string(v);
	len = strlen(s);
	if (len == 0) {
		fail(c, file, id, "%s is empty", what);
		return NULL;
	}
	if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1])) {
		fail(c, file, id, "%s is not trimmed: \"%s\"", what, s);
		return NULL;
	}
	if (len < min || len > max) {
		fail(c, file, id, "%s has %zu characters, expected %zu..%zu", what, len, min, max);
		return NULL;
	}
	return s;
}

static int
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (isupper((unsigned char)*s))
			return 1;
	return 0;
}

/* "<prefix>-<3 digits>", the prefix the same for every question of a file. */
static void
check_id(struct check *c, const char *file, const char *id)
{
	const char *dash = strchr(id, '-');
	size_t plen = dash != NULL ? (size_t)(dash - id) : 0;
	int ok = dash != NULL && plen > 0 && plen < sizeof(c->prefix) && strlen(dash + 1) == 3;

	for (size_t i = 0; ok && i < plen; i++)
		ok = islower((unsigned char)id[i]);
	for (size_t i = 1; ok && i <= 3; i++)
		ok = isdigit((unsigned char)dash[i]);
	if (!ok) {
		fail(c, file, id, "id is not <prefix>-<3 digits>");
		return;
	}
	if (c->prefix[0] == '\0')
		snprintf(c->prefix, sizeof(c->prefix), "%.*s", (int)plen, id);
	else if (strncmp(c->prefix, id, plen) != 0 || c->prefix[plen] != '\0')
		fail(c, file, id, "id prefix differs from the file's prefix \"%s\"", c->prefix);
	if (json_object_object_get_ex(c->ids, id, NULL))
		fail(c, file, id, "duplicate id (also in %s)",
		    json_object_get_string(json_object_object_get(c->ids, id)));
	else
		json_object_object_add(c->ids, id, json_object_new_string(file));
}

static void
check_levels(struct check *c, const char *file, const char *id, json_object *v,
    struct counts *cnt)
{
	int seen[NLEVELS] = { 0 };
	size_t n;

	if (v == NULL || !json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0) {
		fail(c, file, id, "levels is not a non-empty array");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *l = json_object_array_get_idx(v, i);
		int k = json_object_is_type(l, json_type_string) ?
		    index_of(levels, NLEVELS, json_object_get_string(l)) : -1;

		if (k < 0)
			fail(c, file, id, "unknown level %s", json_object_to_json_string(l));
		else if (seen[k]++)
			fail(c, file, id, "level %s listed twice", levels[k]);
		else
			cnt->level[k]++;
	}
}

static void
check_competency(struct check *c, const char *file, const char *id, json_object *v,
    struct counts *cnt)
{
	int k;

	if (!cnt->behavioral) {
		if (v != NULL)
			fail(c, file, id, "competency must be null in a technical file");
		return;
	}
	k = v != NULL && json_object_is_type(v, json_type_string) ?
	    index_of(competencies, NCOMPETENCIES, json_object_get_string(v)) : -1;
	if (k < 0)
		fail(c, file, id, "competency %s is not one of the ten competencies",
		    v != NULL ? json_object_to_json_string(v) : "null");
	else
		cnt->competency[k]++;
}

static void
check_skills(struct check *c, const char *file, const char *id, json_object *v,
    int behavioral)
{
	size_t n;

	if (v == NULL || !json_object_is_type(v, json_type_array)) {
		fail(c, file, id, "skills is not an array");
		return;
	}
	n = json_object_array_length(v);
	if (n == 0 && !behavioral)
		fail(c, file, id, "a technical question needs at least one skill");
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(v, i);

		if (!json_object_is_type(s, json_type_string) ||
		    !json_object_object_get_ex(c->skills, json_object_get_string(s), NULL))
			fail(c, file, id, "skill %s is not in skills.json",
			    json_object_to_json_string(s));
	}
}

static void
check_content(struct check *c, const char *file, const char *id, json_object *v)
{
	const char *s = trimmed_string(c, file, id, v, "content", 20, 600);
	char lower[640];
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; s[i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	lower[i] = '\0';
	if (json_object_object_get_ex(c->contents, lower, NULL))
		fail(c, file, id, "same content as %s",
		    json_object_get_string(json_object_object_get(c->contents, lower)));
	else
		json_object_object_add(c->contents, lower, json_object_new_string(id));
}

/* key_points: 3..6 short phrases; keywords: one non-empty list of lowercase synonyms
 * per key point, in the same order. */
static void
check_rubric(struct check *c, const char *file, const char *id, json_object *kp,
    json_object *kw)
{
	size_t n, m;

	if (kp == NULL || !json_object_is_type(kp, json_type_array)) {
		fail(c, file, id, "key_points is not an array");
		return;
	}
	n = json_object_array_length(kp);
	if (n < 3 || n > 6)
		fail(c, file, id, "%zu key_points, expected 3..6", n);
	for (size_t i = 0; i < n; i++)
		trimmed_string(c, file, id, json_object_array_get_idx(kp, i), "key point", 3, 120);
	if (kw == NULL || !json_object_is_type(kw, json_type_array)) {
		fail(c, file, id, "keywords is not an array");
		return;
	}
	m = json_object_array_length(kw);
	if (m != n)
		fail(c, file, id, "%zu keyword lists for %zu key_points", m, n);
	for (size_t i = 0; i < m; i++) {
		json_object *list = json_object_array_get_idx(kw, i);
		size_t k;

		if (!json_object_is_type(list, json_type_array) ||
		    (k = json_object_array_length(list)) == 0) {
			fail(c, file, id, "keyword list %zu is not a non-empty array", i + 1);
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			const char *w = trimmed_string(c, file, id,
			    json_object_array_get_idx(list, j), "keyword", 1, 60);

			if (w != NULL && has_upper(w))
				fail(c, file, id, "keyword \"%s\" is not lowercase", w);
		}
	}
}

static void
check_question(struct check *c, const char *file, json_object *q, struct counts *cnt)
{
	json_object *v;
	const char *id, *s;
	int k;

	if (!json_object_is_type(q, json_type_object)) {
		fail(c, file, NULL, "a question is not an object");
		return;
	}
	id = trimmed_string(c, file, "?", json_object_object_get(q, "id"), "id", 5, 20);
	if (id == NULL)
		id = "?";
	else
		check_id(c, file, id);
	json_object_object_foreach(q, key, val) {
		(void)val;
		if (!in_null_list(question_keys, key))
			fail(c, file, id, "unknown field \"%s\"", key);
	}
	for (size_t i = 0; question_keys[i] != NULL; i++)
		if (!json_object_object_get_ex(q, question_keys[i], NULL))
			fail(c, file, id, "missing field \"%s\"", question_keys[i]);
	cnt->total++;
	check_levels(c, file, id, json_object_object_get(q, "levels"), cnt);
	s = trimmed_string(c, file, id, json_object_object_get(q, "type"), "type", 4, 6);
	if (s != NULL && (k = index_of(types, NTYPES, s)) >= 0)
		cnt->type[k]++;
	else if (s != NULL)
		fail(c, file, id, "type \"%s\" is not text, voice or coding", s);
	check_competency(c, file, id, json_object_object_get(q, "competency"), cnt);
	check_skills(c, file, id, json_object_object_get(q, "skills"), cnt->behavioral);
	check_content(c, file, id, json_object_object_get(q, "content"));
	check_rubric(c, file, id, json_object_object_get(q, "key_points"),
	    json_object_object_get(q, "keywords"));
	s = trimmed_string(c, file, id, json_object_object_get(q, "follow_up"), "follow_up",
	    10, 400);
	if (s != NULL && s[strlen(s) - 1] != '?')
		fail(c, file, id, "follow_up does not end with \"?\"");
	v = json_object_object_get(q, "time_minutes");
	if (v == NULL || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) < 1 || json_object_get_int(v) > 30)
		fail(c, file, id, "time_minutes is not an integer 1..30");
}

/* The count rules of one file (checked once the whole file is read). */
static void
check_counts(struct check *c, const char *file, const struct counts *cnt)
{
	if (cnt->type[0] == 0 || cnt->type[1] == 0)
		fail(c, file, NULL, "needs both text and voice questions (text %d, voice %d)",
		    cnt->type[0], cnt->type[1]);
	if (cnt->behavioral) {
		if (cnt->total < MIN_BEHAVIORAL)
			fail(c, file, NULL, "%d questions, expected at least %d", cnt->total,
			    MIN_BEHAVIORAL);
		for (int i = 0; i < NCOMPETENCIES; i++)
			if (cnt->competency[i] < MIN_COMPETENCY)
				fail(c, file, NULL, "competency %s has %d questions, expected %d",
				    competencies[i], cnt->competency[i], MIN_COMPETENCY);
		for (int i = 0; i < NLEVELS; i++)
			if (cnt->level[i] == 0)
				fail(c, file, NULL, "no question for level %s", levels[i]);
		return;
	}
	if (cnt->total < MIN_TECHNICAL)
		fail(c, file, NULL, "%d questions, expected at least %d", cnt->total,
		    MIN_TECHNICAL);
	for (int i = 0; i < NLEVELS; i++)
		if (cnt->level[i] < MIN_PER_LEVEL)
			fail(c, file, NULL, "level %s has %d questions, expected at least %d",
			    levels[i], cnt->level[i], MIN_PER_LEVEL);
	if (in_null_list(coding_areas, cnt->area) && cnt->type[2] < MIN_CODING)
		fail(c, file, NULL, "%d coding questions, expected at least %d", cnt->type[2],
		    MIN_CODING);
}

/* One area file: its header, every question, its counts. */
static void
check_document(struct check *c, const char *file, json_object *doc, struct counts *cnt)
{
	char area[64];
	const char *s, *dot = strrchr(file, '.');
	json_object *qs;
	size_t n;

	snprintf(area, sizeof(area), "%.*s", dot != NULL ? (int)(dot - file) : (int)strlen(file),
	    file);
	memset(cnt, 0, sizeof(*cnt));
	snprintf(cnt->area, sizeof(cnt->area), "%s", area);
	c->prefix[0] = '\0';
	if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
		fail(c, file, NULL, "not a JSON object");
		return;
	}
	s = trimmed_string(c, file, NULL, json_object_object_get(doc, "area"), "area", 1, 63);
	if (s != NULL && strcmp(s, area) != 0)
		fail(c, file, NULL, "area \"%s\" is not the file name \"%s\"", s, area);
	cnt->behavioral = strcmp(area, "behavioral") == 0;
	s = trimmed_string(c, file, NULL, json_object_object_get(doc, "mode"), "mode", 1, 20);
	if (s != NULL && strcmp(s, cnt->behavioral ? "behavioral" : "technical") != 0)
		fail(c, file, NULL, "mode \"%s\", expected \"%s\"", s,
		    cnt->behavioral ? "behavioral" : "technical");
	trimmed_string(c, file, NULL, json_object_object_get(doc, "title"), "title", 1, 80);
	qs = json_object_object_get(doc, "questions");
	if (qs == NULL || !json_object_is_type(qs, json_type_array)) {
		fail(c, file, NULL, "questions is not an array");
		return;
	}
	n = json_object_array_length(qs);
	for (size_t i = 0; i < n; i++)
		check_question(c, file, json_object_array_get_idx(qs, i), cnt);
	check_counts(c, file, cnt);
}

/* skills.json: unique ids, a known area, lowercase aliases no two skills share. */
static void
load_skills(struct check *c, const char *srcdir)
{
	char path[1024], area_path[1200];
	json_object *doc, *list, *aliases = json_object_new_object();
	struct stat st;
	size_t n;

	snprintf(path, sizeof(path), "%s/schema/skills.json", srcdir);
	doc = json_object_from_file(path);
	if (doc == NULL || !json_object_object_get_ex(doc, "skills", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		fail(c, "skills.json", NULL, "cannot read a \"skills\" array from %s", path);
		goto out;
	}
	n = json_object_array_length(list);
	if (n < MIN_SKILLS)
		fail(c, "skills.json", NULL, "%zu skills, expected at least %d", n, MIN_SKILLS);
	for (size_t i = 0; i < n; i++) {
		json_object *sk = json_object_array_get_idx(list, i), *al;
		const char *id = trimmed_string(c, "skills.json", "?",
		    json_object_object_get(sk, "id"), "skill id", 1, 40);
		const char *area;

		if (id == NULL)
			continue;
		if (has_upper(id) || strchr(id, ' ') != NULL)
			fail(c, "skills.json", id, "skill id is not lowercase without spaces");
		if (json_object_object_get_ex(c->skills, id, NULL))
			fail(c, "skills.json", id, "duplicate skill id");
		area = trimmed_string(c, "skills.json", id, json_object_object_get(sk, "area"),
		    "area", 1, 40);
		if (area != NULL) {
			snprintf(area_path, sizeof(area_path), "%s/schema/questions/%s.json",
			    srcdir, area);
			if (strcmp(area, "behavioral") == 0 || stat(area_path, &st) != 0)
				fail(c, "skills.json", id, "area \"%s\" has no question file", area);
		}
		json_object_object_add(c->skills, id, json_object_new_string(area ? area : ""));
		al = json_object_object_get(sk, "aliases");
		if (al == NULL || !json_object_is_type(al, json_type_array) ||
		    json_object_array_length(al) == 0) {
			fail(c, "skills.json", id, "aliases is not a non-empty array");
			continue;
		}
		for (size_t j = 0; j < json_object_array_length(al); j++) {
			const char *a = trimmed_string(c, "skills.json", id,
			    json_object_array_get_idx(al, j), "alias", 1, 40);

			if (a == NULL)
				continue;
			if (has_upper(a))
				fail(c, "skills.json", id, "alias \"%s\" is not lowercase", a);
			if (json_object_object_get_ex(aliases, a, NULL))
				fail(c, "skills.json", id, "alias \"%s\" also belongs to %s", a,
				    json_object_get_string(json_object_object_get(aliases, a)));
			else
				json_object_object_add(aliases, a, json_object_new_string(id));
		}
	}
out:
	json_object_put(doc);
	json_object_put(aliases);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
list_files(const char *dir, char **names, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, len;

	cr_assert_not_null(d, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL && n < max) {
		len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	return n;
}

Test(questions, bank_follows_format_and_counts)
{
	static struct counts cnt[MAX_FILES];
	char dir[1024], path[1400];
	char *names[MAX_FILES];
	struct check c;
	size_t n;
	int total = 0;

	check_init(&c);
	load_skills(&c, CX_TEST_SRCDIR);
	snprintf(dir, sizeof(dir), "%s/schema/questions", CX_TEST_SRCDIR);
	n = list_files(dir, names, MAX_FILES);
	for (size_t i = 0; i < n; i++) {
		json_object *doc;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		doc = json_object_from_file(path);
		if (doc == NULL)
			fail(&c, names[i], NULL, "not valid JSON: %s", json_util_get_last_err());
		check_document(&c, names[i], doc, &cnt[i]);
		json_object_put(doc);
		total += cnt[i].total;
	}
	for (size_t i = 0; required_areas[i] != NULL; i++) {
		int found = 0;

		for (size_t j = 0; j < n; j++)
			found |= strcmp(cnt[j].area, required_areas[i]) == 0;
		if (!found)
			fail(&c, required_areas[i], NULL, "required area file is missing");
	}
	if (total < MIN_TOTAL)
		fail(&c, "schema/questions", NULL, "%d questions in all, expected at least %d",
		    total, MIN_TOTAL);

	printf("questions: %d in %zu files, %d skills;", total, n,
	    json_object_object_length(c.skills));
	for (size_t i = 0; i < n; i++)
		printf(" %s %d (j%d m%d s%d; text %d voice %d coding %d)%s", cnt[i].area,
		    cnt[i].total, cnt[i].level[0], cnt[i].level[1], cnt[i].level[2],
		    cnt[i].type[0], cnt[i].type[1], cnt[i].type[2], i + 1 < n ? "," : "");
	printf("\n");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	check_free(&c);
	cr_assert_eq(c.nerr, 0, "%d violations in the question bank, first ones:\n%s", c.nerr,
	    c.errs);
}

/* The checker itself: a valid question passes, and each kind of mistake is reported
 * with the file and question id. */
static const char valid_question[] =
    "{\"id\":\"db-001\",\"levels\":[\"mid\"],\"type\":\"text\",\"competency\":null,"
    "\"skills\":[\"sql\"],\"content\":\"How would you find the slow queries of a service?\","
    "\"key_points\":[\"slow query log\",\"explain plan\",\"indexes\"],"
    "\"keywords\":[[\"slow query log\"],[\"explain\"],[\"index\"]],"
    "\"follow_up\":\"What would you look at in the plan?\",\"time_minutes\":4}";

static const struct {
	const char *field;
	const char *value;    /* JSON; NULL removes the field */
	const char *expect;   /* part of the reported violation */
} mistakes[] = {
	{ "id", "\"db-01\"", "<prefix>-<3 digits>" },
	{ "id", "\"net-002\"", "prefix differs" },
	{ "levels", "[]", "levels is not a non-empty array" },
	{ "levels", "[\"staff\"]", "unknown level" },
	{ "levels", "[\"mid\",\"mid\"]", "listed twice" },
	{ "type", "\"essay\"", "is not text, voice or coding" },
	{ "competency", "\"teamwork\"", "must be null" },
	{ "skills", "[\"cobol-85\"]", "not in skills.json" },
	{ "skills", "[]", "at least one skill" },
	{ "content", "\"Too short?\"", "content has 10 characters" },
	{ "content", "\" How would you find the slow queries of a service?\"", "not trimmed" },
	{ "key_points", "[\"a point\",\"another\"]", "2 key_points" },
	{ "keywords", "[[\"slow query log\"],[\"explain\"]]", "2 keyword lists for 3" },
	{ "keywords", "[[\"slow query log\"],[],[\"index\"]]", "keyword list 2" },
	{ "keywords", "[[\"Slow\"],[\"explain\"],[\"index\"]]", "not lowercase" },
	{ "follow_up", "\"Tell me more.\"", "does not end with" },
	{ "follow_up", NULL, "missing field \"follow_up\"" },
	{ "time_minutes", "45", "not an integer 1..30" },
	{ "time_minutes", "\"4\"", "not an integer 1..30" },
	{ "hint", "\"x\"", "unknown field \"hint\"" },
};

static void
check_one(struct check *c, struct counts *cnt, json_object *q)
{
	memset(cnt, 0, sizeof(*cnt));
	snprintf(cnt->area, sizeof(cnt->area), "databases");
	snprintf(c->prefix, sizeof(c->prefix), "db");
	check_question(c, "databases.json", q, cnt);
}

Test(questions, checker_reports_each_mistake)
{
	for (size_t i = 0; i < sizeof(mistakes) / sizeof(mistakes[0]); i++) {
		json_object *q = json_tokener_parse(valid_question);
		struct counts cnt;
		struct check c;

		check_init(&c);
		c.quiet = 1;
		json_object_object_add(c.skills, "sql", json_object_new_string("databases"));
		if (mistakes[i].value == NULL)
			json_object_object_del(q, mistakes[i].field);
		else
			json_object_object_add(q, mistakes[i].field,
			    json_tokener_parse(mistakes[i].value));
		check_one(&c, &cnt, q);
		cr_expect_gt(c.nerr, 0, "mistake %zu (%s) not reported", i, mistakes[i].field);
		cr_expect_not_null(strstr(c.errs, mistakes[i].expect),
		    "mistake %zu (%s): expected \"%s\" in:\n%s", i, mistakes[i].field,
		    mistakes[i].expect, c.errs);
		cr_expect_not_null(strstr(c.errs, "databases.json: "),
		    "violation does not name the file:\n%s", c.errs);
		json_object_put(q);
		check_free(&c);
	}
}

Test(questions, checker_accepts_valid_and_rejects_duplicates)
{
	json_object *q = json_tokener_parse(valid_question);
	struct counts cnt;
	struct check c;

	check_init(&c);
	c.quiet = 1;
	json_object_object_add(c.skills, "sql", json_object_new_string("databases"));
	check_one(&c, &cnt, q);
	cr_assert_eq(c.nerr, 0, "a valid question was rejected:\n%s", c.errs);
	cr_assert_eq(cnt.level[1], 1);
	cr_assert_eq(cnt.type[0], 1);
	/* Same id and same content (in another case) again. */
	json_object_object_add(q, "content",
	    json_object_new_string("HOW WOULD YOU FIND THE SLOW QUERIES OF A SERVICE?"));
	check_one(&c, &cnt, q);
	cr_assert_not_null(strstr(c.errs, "databases.json: db-001: duplicate id"), "%s", c.errs);
	cr_assert_not_null(strstr(c.errs, "same content as db-001"), "%s", c.errs);
	json_object_put(q);
	check_free(&c);
}

Test(questions, checker_enforces_file_counts)
{
	struct counts cnt = { .area = "algorithms", .total = 30, .level = { 10, 10, 4 },
		.type = { 10, 0, 1 } };
	struct check c;

	check_init(&c);
	c.quiet = 1;
	check_counts(&c, "algorithms.json", &cnt);
	cr_assert_not_null(strstr(c.errs, "needs both text and voice"), "%s", c.errs);
	cr_assert_not_null(strstr(c.errs, "level senior has 4"), "%s", c.errs);
	cr_assert_not_null(strstr(c.errs, "1 coding questions"), "%s", c.errs);
	check_free(&c);

	memset(&cnt, 0, sizeof(cnt));
	snprintf(cnt.area, sizeof(cnt.area), "behavioral");
	cnt.behavioral = 1;
	cnt.total = 60;
	cnt.level[0] = cnt.level[1] = cnt.level[2] = 20;
	cnt.type[0] = cnt.type[1] = 30;
	for (int i = 0; i < NCOMPETENCIES; i++)
		cnt.competency[i] = 6;
	cnt.competency[9] = 4;
	check_init(&c);
	c.quiet = 1;
	check_counts(&c, "behavioral.json", &cnt);
	cr_assert_eq(c.nerr, 1, "%s", c.errs);
	cr_assert_not_null(strstr(c.errs, "competency mentoring has 4"), "%s", c.errs);
	check_free(&c);
}
