/* test_ai: the local AI interviewer against the fixture bank in tests/unit/fixtures. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cx_ai.h"
#include "cx_ai_local.h"
#include "cx_json.h"

#define FIXTURES CX_TEST_SRCDIR "/tests/unit/fixtures"
#define QDIR FIXTURES "/questions"
#define SKILLS FIXTURES "/skills.json"

static struct cx_ai *
open_fixture(void)
{
	struct cx_ai *ai = NULL;
	struct cx_error err = { 0 };

	cr_assert_eq(cx_ai_open_local(QDIR, SKILLS, &ai, &err), CX_OK, "%s", err.message);
	return ai;
}

static json_object *
generate(struct cx_ai *ai, const char *mode, const char *level, int count, const char *seed,
    const char *jd, const char *resume)
{
	struct cx_ai_spec spec = { .mode = mode, .level = level, .question_count = count,
		.seed = seed, .job_title = "Software Engineer", .job_description = jd,
		.resume_text = resume };
	struct cx_error err = { 0 };
	json_object *out = NULL;

	cr_assert_eq(cx_ai_generate_questions(ai, &spec, &out, &err), CX_OK, "%s", err.message);
	cr_assert(json_object_is_type(out, json_type_array));
	return out;
}

static const char *
qs(json_object *arr, size_t i, const char *field)
{
	return cx_json_str(json_object_array_get_idx(arr, i), field);
}

static int
array_has(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ loading */

Test(ai_load, fixture_bank_loads)
{
	struct cx_ai *ai = open_fixture();

	cr_assert_str_eq(cx_ai_provider_name(ai), "local");
	cx_ai_free(ai);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
remove_dir(const char *dir, const char *const *names)
{
	char path[512];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
	rmdir(dir);
}

#define GOOD_Q "{\"id\":\"x-1\",\"levels\":[\"mid\"],\"type\":\"text\",\"competency\":null," \
	"\"skills\":[],\"content\":\"Why?\",\"key_points\":[\"a b\"],\"keywords\":[[\"a\"]]," \
	"\"follow_up\":null,\"time_minutes\":3}"

static const struct {
	const char *text;
	const char *reason;     /* part of the message besides the file name */
} bad_files[] = {
	{ "{\"area\":\"x\",\"mode\":\"technical\",\"questions\":[", "JSON" },
	{ "{\"mode\":\"technical\",\"questions\":[]}", "area" },
	{ "{\"area\":\"x\",\"mode\":\"funny\",\"questions\":[]}", "mode" },
	{ "{\"area\":\"x\",\"mode\":\"technical\",\"questions\":[{\"id\":\"x-1\","
	  "\"levels\":[\"expert\"],\"type\":\"text\",\"skills\":[],\"content\":\"c\","
	  "\"key_points\":[\"k\"],\"keywords\":[[\"k\"]]}]}", "levels" },
	{ "{\"area\":\"x\",\"mode\":\"technical\",\"questions\":[{\"id\":\"x-1\","
	  "\"levels\":[\"mid\"],\"type\":\"text\",\"skills\":[],\"content\":\"c\","
	  "\"key_points\":[\"k\",\"l\"],\"keywords\":[[\"k\"]]}]}", "keywords" },
	{ "{\"area\":\"x\",\"mode\":\"technical\",\"questions\":[" GOOD_Q "," GOOD_Q "]}",
	  "x-1 is also in" },
};

Test(ai_load, malformed_file_is_named)
{
	size_t i;

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		char dir[] = "/tmp/cx-ai-test-XXXXXX";
		const char *const names[] = { "good.json", "broken.json", NULL };
		struct cx_ai *ai = NULL;
		struct cx_error err = { 0 };
		int rc;

		cr_assert_not_null(mkdtemp(dir));
		write_file(dir, "good.json", "{\"area\":\"y\",\"mode\":\"behavioral\","
		    "\"questions\":[]}");
		write_file(dir, "broken.json", bad_files[i].text);
		rc = cx_ai_open_local(dir, SKILLS, &ai, &err);
		remove_dir(dir, names);
		cr_assert_eq(rc, CX_EVALIDATION, "case %zu: rc %d", i, rc);
		cr_assert_null(ai);
		cr_assert(strstr(err.message, "broken.json") != NULL, "case %zu: %s", i,
		    err.message);
		cr_assert(strstr(err.message, bad_files[i].reason) != NULL, "case %zu: %s", i,
		    err.message);
	}
}

Test(ai_load, missing_directory_and_bad_skills_are_named)
{
	struct cx_ai *ai = NULL;
	struct cx_error err = { 0 };
	char dir[] = "/tmp/cx-ai-test-XXXXXX";
	const char *const names[] = { "skills.json", NULL };

	cr_assert_neq(cx_ai_open_local("/nonexistent/questions", SKILLS, &ai, &err), CX_OK);
	cr_assert(strstr(err.message, "/nonexistent/questions") != NULL, "%s", err.message);
	cr_assert_null(ai);

	cr_assert_not_null(mkdtemp(dir));
	write_file(dir, "skills.json", "{\"skills\":[{\"id\":\"x\"}]}");
	cx_error_clear(&err);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/skills.json", dir);
		cr_assert_eq(cx_ai_open_local(QDIR, path, &ai, &err), CX_EVALIDATION);
	}
	remove_dir(dir, names);
	cr_assert(strstr(err.message, "skills.json") != NULL, "%s", err.message);
	cr_assert_null(ai);
}

/* ------------------------------------------------------------------ generate */

Test(ai_generate, deterministic_per_seed)
{
	struct cx_ai *ai = open_fixture();
	json_object *a = generate(ai, "behavioral", "mid", 4, "session-1", NULL, NULL);
	json_object *b = generate(ai, "behavioral", "mid", 4, "session-1", NULL, NULL);
	char first[4096];
	int distinct = 0, s;

	cr_assert_str_eq(cx_json_text(a, NULL), cx_json_text(b, NULL));
	snprintf(first, sizeof(first), "%s", cx_json_text(a, NULL));
	for (s = 0; s < 8; s++) {
		char seed[32];
		json_object *c;

		snprintf(seed, sizeof(seed), "other-%d", s);
		c = generate(ai, "behavioral", "mid", 4, seed, NULL, NULL);
		distinct += strcmp(first, cx_json_text(c, NULL)) != 0;
		json_object_put(c);
	}
	cr_assert_gt(distinct, 0, "different seeds should vary the interview");
	json_object_put(a);
	json_object_put(b);
	cx_ai_free(ai);
}

static const struct {
	const char *mode, *level;
	int count;
} shapes[] = {
	{ "technical", "mid", 10 },
	{ "technical", "senior", 5 },
	{ "technical", "junior", 5 },
	{ "behavioral", "mid", 5 },
	{ "behavioral", "senior", 3 },
	{ "technical", "mid", 1 },
};

Test(ai_generate, respects_mode_level_and_count)
{
	struct cx_ai *ai = open_fixture();
	size_t k, i;

	for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		json_object *arr = generate(ai, shapes[k].mode, shapes[k].level, shapes[k].count,
		    "seed", NULL, NULL);
		size_t n = json_object_array_length(arr), beh = 0;

		cr_assert_eq(n, (size_t)shapes[k].count, "case %zu", k);
		for (i = 0; i < n; i++) {
			cr_assert_str_eq(qs(arr, i, "level"), shapes[k].level, "case %zu", k);
			cr_assert_null(qs(arr, i, "level_note"));
			beh += strcmp(qs(arr, i, "mode"), "behavioral") == 0;
			if (strcmp(shapes[k].mode, "behavioral") == 0) {
				cr_assert_str_eq(qs(arr, i, "mode"), "behavioral");
				cr_assert_str_neq(qs(arr, i, "type"), "coding");
			}
		}
		if (strcmp(shapes[k].mode, "technical") == 0)
			cr_assert_leq(beh * 5, n, "case %zu: %zu behavioral of %zu", k, beh, n);
		json_object_put(arr);
	}
	cx_ai_free(ai);
}

Test(ai_generate, no_duplicates_and_sequential_ids)
{
	struct cx_ai *ai = open_fixture();
	json_object *arr = generate(ai, "technical", "mid", 16, "dups", NULL, NULL);
	size_t n = json_object_array_length(arr), i, j;

	cr_assert_eq(n, 16);
	for (i = 0; i < n; i++) {
		char id[8];

		snprintf(id, sizeof(id), "q%zu", i + 1);
		cr_assert_str_eq(qs(arr, i, "id"), id);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(qs(arr, i, "source_id"), qs(arr, j, "source_id"));
	}
	json_object_put(arr);
	cx_ai_free(ai);
}

Test(ai_generate, fills_from_adjacent_level_and_says_so)
{
	struct cx_ai *ai = open_fixture();
	/* The fixture has 4 junior behavioral questions. */
	json_object *arr = generate(ai, "behavioral", "junior", 6, "fill", NULL, NULL);
	size_t i, exact = 0, other = 0;

	cr_assert_eq(json_object_array_length(arr), 6);
	for (i = 0; i < 6; i++) {
		if (strcmp(qs(arr, i, "level"), "junior") == 0) {
			exact++;
			cr_assert_null(qs(arr, i, "level_note"));
		} else {
			other++;
			cr_assert_not_null(qs(arr, i, "level_note"));
			cr_assert(strstr(qs(arr, i, "level_note"), "junior") != NULL);
		}
	}
	cr_assert_eq(exact, 4);
	cr_assert_eq(other, 2);
	json_object_put(arr);
	cx_ai_free(ai);
}

static size_t
count_area(json_object *arr, const char *area)
{
	size_t i, n = 0;

	for (i = 0; i < json_object_array_length(arr); i++)
		n += strcmp(qs(arr, i, "area"), area) == 0;
	return n;
}

Test(ai_generate, prefers_job_description_skills)
{
	struct cx_ai *ai = open_fixture();
	const char *jd = "We run our platform on Kubernetes and store everything in Postgres. "
	    "You will tune PostgreSQL queries and operate our k8s clusters.";
	int s;

	for (s = 0; s < 5; s++) {
		char seed[16];
		json_object *arr, *plain;
		size_t i, fit, plain_fit;
		int pg = 0, k8s = 0;

		snprintf(seed, sizeof(seed), "jd-%d", s);
		arr = generate(ai, "technical", "mid", 4, seed, jd, NULL);
		plain = generate(ai, "technical", "mid", 4, seed, NULL, NULL);
		fit = count_area(arr, "databases") + count_area(arr, "devops");
		plain_fit = count_area(plain, "databases") + count_area(plain, "devops");
		cr_assert_geq(fit, 3, "seed %s: %s", seed, cx_json_text(arr, NULL));
		cr_assert_geq(count_area(arr, "databases"), 1);
		cr_assert_geq(count_area(arr, "devops"), 1);
		cr_assert_geq(fit, plain_fit);
		for (i = 0; i < json_object_array_length(arr); i++) {
			json_object *m = json_object_object_get(json_object_array_get_idx(arr, i),
			    "matched_skills");

			pg |= array_has(m, "postgresql");
			k8s |= array_has(m, "kubernetes");
		}
		cr_assert(pg && k8s, "matched_skills should name postgresql and kubernetes");
		json_object_put(arr);
		json_object_put(plain);
	}
	cx_ai_free(ai);
}

Test(ai_generate, resume_and_focus_areas_pull_questions)
{
	struct cx_ai *ai = open_fixture();
	const char *const focus[] = { "algorithms" };
	struct cx_ai_spec spec = { .mode = "technical", .level = "senior", .question_count = 3,
		.seed = "focus", .focus_areas = focus, .nfocus = 1 };
	struct cx_error err = { 0 };
	json_object *arr = NULL;

	cr_assert_eq(cx_ai_generate_questions(ai, &spec, &arr, &err), CX_OK);
	cr_assert_geq(count_area(arr, "algorithms"), 2, "%s", cx_json_text(arr, NULL));
	json_object_put(arr);
	arr = generate(ai, "technical", "senior", 3, "resume", NULL,
	    "Five years running Terraform on AWS, with Prometheus monitoring.");
	cr_assert_geq(count_area(arr, "devops"), 2, "%s", cx_json_text(arr, NULL));
	json_object_put(arr);
	cx_ai_free(ai);
}

Test(ai_generate, spreads_areas_and_types)
{
	struct cx_ai *ai = open_fixture();
	int s;

	for (s = 0; s < 5; s++) {
		char seed[16];
		json_object *arr;
		size_t i, voice = 0, text = 0;

		snprintf(seed, sizeof(seed), "spread-%d", s);
		arr = generate(ai, "technical", "mid", 6, seed, NULL, NULL);
		cr_assert_geq(count_area(arr, "databases"), 1);
		cr_assert_geq(count_area(arr, "devops"), 1);
		cr_assert_geq(count_area(arr, "algorithms"), 1);
		cr_assert_leq(count_area(arr, "databases"), 2);
		cr_assert_leq(count_area(arr, "devops"), 2);
		cr_assert_leq(count_area(arr, "algorithms"), 2);
		for (i = 0; i < 6; i++) {
			voice += strcmp(qs(arr, i, "type"), "voice") == 0;
			text += strcmp(qs(arr, i, "type"), "text") == 0;
		}
		cr_assert(voice > 0 && text > 0, "%s", cx_json_text(arr, NULL));
		json_object_put(arr);

		arr = generate(ai, "behavioral", "senior", 5, seed, NULL, NULL);
		for (i = 0, voice = 0; i < 5; i++)
			voice += strcmp(qs(arr, i, "type"), "voice") == 0;
		cr_assert(voice > 0 && voice < 5);
		for (i = 0; i < 5; i++) {
			size_t j;

			for (j = 0; j < i; j++)
				cr_assert_str_neq(qs(arr, i, "competency"), qs(arr, j, "competency"));
		}
		json_object_put(arr);
	}
	cx_ai_free(ai);
}

Test(ai_generate, rejects_bad_spec)
{
	struct cx_ai *ai = open_fixture();
	struct cx_ai_spec spec = { .mode = "technical", .level = "mid", .question_count = 31 };
	struct cx_error err = { 0 };
	json_object *arr = NULL;

	cr_assert_eq(cx_ai_generate_questions(ai, &spec, &arr, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "question_count");
	spec.question_count = 3;
	spec.level = "guru";
	cx_error_clear(&err);
	cr_assert_eq(cx_ai_generate_questions(ai, &spec, &arr, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "level");
	cr_assert_null(arr);
	cx_ai_free(ai);
}

/* ------------------------------------------------------------------ evaluate */

static json_object *
bank_question(const char *source_id, const char *mode)
{
	json_object *q = json_object_new_object();

	json_object_object_add(q, "id", json_object_new_string("q1"));
	json_object_object_add(q, "source_id", json_object_new_string(source_id));
	json_object_object_add(q, "mode", json_object_new_string(mode));
	return q;
}

static json_object *
evaluate(struct cx_ai *ai, json_object *q, const char *answer, const char *type, int fu)
{
	struct cx_error err = { 0 };
	json_object *out = NULL;

	cr_assert_eq(cx_ai_evaluate_answer(ai, q, answer, type, fu, &out, &err), CX_OK, "%s",
	    err.message);
	return out;
}

static int
score_of(json_object *fb)
{
	return json_object_get_int(json_object_object_get(fb, "score"));
}

static int
dim_of(json_object *fb, const char *dim)
{
	return json_object_get_int(json_object_object_get(json_object_object_get(
	    json_object_object_get(fb, "rubric"), dim), "score"));
}

static int
any_contains(json_object *arr, const char *needle)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		if (strcasestr(json_object_get_string(json_object_array_get_idx(arr, i)),
		    needle) != NULL)
			return 1;
	return 0;
}

#define STAR_BODY "At my previous company our team owned a billing service, and nightly " \
	"invoice jobs kept failing without anyone noticing until customers complained. " \
	"Nobody owned the job, so I decided to take it on. I built a small dashboard for " \
	"the job, wrote alerts that paged the on-call engineer, and I talked to finance " \
	"about which invoices mattered most so we could retry them first. "
#define STAR_RESULT "As a result, failed invoice runs dropped from 12 a month to 1, and we " \
	"saved about 20 hours of manual support work each month. I learned that unowned " \
	"jobs need an owner written down."

Test(ai_evaluate, star_result_beats_no_result_and_asks_for_it)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("beh-001", "behavioral");
	json_object *full = evaluate(ai, q, STAR_BODY STAR_RESULT, "text", 1);
	json_object *partial = evaluate(ai, q, STAR_BODY, "text", 1);
	json_object *fu = json_object_object_get(partial, "follow_up");

	cr_assert_geq(score_of(full), score_of(partial) + 15, "%d vs %d", score_of(full),
	    score_of(partial));
	cr_assert_geq(score_of(full), 75, "%s", cx_json_text(full, NULL));
	cr_assert_gt(dim_of(full, "structure"), dim_of(partial, "structure"));
	cr_assert_not_null(fu);
	cr_assert_str_eq(cx_json_str(fu, "gap"), "result");
	cr_assert(strstr(cx_json_str(fu, "content"), "result") != NULL);
	cr_assert(strstr(cx_json_str(partial, "explanation"), "result") != NULL);
	cr_assert(any_contains(json_object_object_get(partial, "improvements"), "result"));
	cr_assert(array_has(json_object_object_get(partial, "missing"),
	    "Shares a measurable result"));
	cr_assert_str_eq(cx_json_str(full, "provider"), "local");
	json_object_put(full);
	json_object_put(partial);
	json_object_put(q);
	cx_ai_free(ai);
}

/* The explanation names the part of STAR a story lacks, as the structure score counts it. */
Test(ai_evaluate, star_explanation_names_what_is_missing)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("beh-001", "behavioral");
	const char *act = "I added an index and a cache to the billing job, and the nightly "
	    "run went from 40 minutes to 6 minutes.";
	json_object *no_sit = evaluate(ai, q, act, "text", 0);
	json_object *full = evaluate(ai, q, "In my last job our invoices ran late every "
	    "night. I added an index and a cache to the billing job, and the nightly run went "
	    "from 40 minutes to 6 minutes.", "text", 0);

	cr_assert(strstr(cx_json_str(no_sit, "explanation"), "but not the situation it "
	    "started from") != NULL, "%s", cx_json_str(no_sit, "explanation"));
	cr_assert(any_contains(json_object_object_get(no_sit, "improvements"),
	    "Open with one or two sentences of context"));
	cr_assert(strstr(cx_json_str(full, "explanation"), "follows STAR through to a "
	    "measurable result") != NULL, "%s", cx_json_str(full, "explanation"));
	cr_assert_gt(dim_of(full, "structure"), dim_of(no_sit, "structure"));
	json_object_put(no_sit);
	json_object_put(full);
	json_object_put(q);
	cx_ai_free(ai);
}

Test(ai_evaluate, full_coverage_beats_one_point_and_names_the_gap)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("db-002", "technical");
	const char *all = "ACID means atomicity, consistency, isolation and durability: a "
	    "transaction is atomic and survives crashes. PostgreSQL offers read committed, "
	    "repeatable read and serializable isolation. Weaker levels allow anomalies such "
	    "as a dirty read, a phantom read or a lost update, because concurrent "
	    "transactions see each other's changes. The trade-off is concurrency: "
	    "serializable needs more locking or retries, so for example a busy checkout "
	    "service may choose read committed and handle conflicts itself.";
	const char *one = "ACID means atomicity, consistency, isolation and durability. A "
	    "transaction is atomic, so either all of its changes are applied or none of "
	    "them are, and once committed the data stays there even after a crash of the "
	    "database server, which makes it safe to use for money and orders in general.";
	json_object *a = evaluate(ai, q, all, "text", 1);
	json_object *b = evaluate(ai, q, one, "text", 1);
	json_object *fu = json_object_object_get(b, "follow_up");
	const char *gap = "Isolation levels: read committed, repeatable read, serializable";

	cr_assert_eq(json_object_array_length(json_object_object_get(a, "covered")), 4,
	    "%s", cx_json_text(a, NULL));
	cr_assert_eq(json_object_array_length(json_object_object_get(b, "covered")), 1,
	    "%s", cx_json_text(b, NULL));
	cr_assert_geq(score_of(a), score_of(b) + 25, "%d vs %d", score_of(a), score_of(b));
	cr_assert(strstr(cx_json_str(b, "explanation"), gap) != NULL, "%s",
	    cx_json_str(b, "explanation"));
	cr_assert_not_null(fu);
	cr_assert_str_eq(cx_json_str(fu, "gap"), gap);
	cr_assert_str_eq(cx_json_str(fu, "content"), "Your answer did not cover \"Isolation "
	    "levels: read committed, repeatable read, serializable\". Can you walk me through "
	    "it?");
	/* each missed point names the most specific terms that would have counted */
	cr_assert(any_contains(json_object_object_get(b, "improvements"), "Cover \"Isolation "
	    "levels: read committed, repeatable read, serializable\": for example, mention "
	    "\"repeatable read\" or \"read committed\"."), "%s", cx_json_text(b, NULL));
	cr_assert(any_contains(json_object_object_get(b, "improvements"), "mention \"lost "
	    "update\" or \"dirty read\"."), "%s", cx_json_text(b, NULL));
	json_object_put(a);
	json_object_put(b);
	json_object_put(q);
	cx_ai_free(ai);
}

/* A follow-up about a missed point quotes it as the bank words it, whatever its shape
 * ("How would you handle this: symptoms: growing memory, OOM kills?" asked before). */
Test(ai_evaluate, gap_question_quotes_the_point)
{
	char buf[400];

	ai_gap_question(buf, sizeof(buf), "Symptoms: growing memory, OOM kills");
	cr_assert_str_eq(buf, "Your answer did not cover \"Symptoms: growing memory, OOM "
	    "kills\". Can you walk me through it?");
	ai_gap_question(buf, sizeof(buf), "TCP is connection-oriented and reliable");
	cr_assert_str_eq(buf, "Your answer did not cover \"TCP is connection-oriented and "
	    "reliable\". Can you walk me through it?");
	ai_gap_question(buf, 30, "Isolation levels");   /* cut short: still a string */
	cr_assert_str_eq(buf, "Your answer did not cover \"Is");
}

Test(ai_evaluate, first_key_point_missing_uses_bank_follow_up)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("db-001", "technical");
	json_object *fb = evaluate(ai, q, "You add indexes on columns that appear in WHERE "
	    "clauses and JOIN conditions. They slow down every insert and take storage, so "
	    "check the query plan with EXPLAIN before and after adding one.", "text", 1);
	json_object *fu = json_object_object_get(fb, "follow_up");

	cr_assert_not_null(fu, "%s", cx_json_text(fb, NULL));
	cr_assert_str_eq(cx_json_str(fu, "content"),
	    "How would you confirm that the index is actually used?");
	json_object_put(fb);
	fb = evaluate(ai, q, "You add indexes on columns that appear in WHERE clauses.",
	    "text", 0);
	cr_assert(json_object_is_type(json_object_object_get(fb, "follow_up"),
	    json_type_null));
	json_object_put(fb);
	json_object_put(q);
	cx_ai_free(ai);
}

Test(ai_evaluate, filler_heavy_transcript_loses_clarity)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("ops-002", "technical");
	const char *clean = "Kubernetes keeps the desired state: a deployment owns a "
	    "replicaset that keeps the requested number of replicas running. When a node "
	    "fails the scheduler will reschedule its pods onto a healthy node. Liveness and "
	    "readiness probes restart broken containers and keep them out of rotation, and "
	    "a service only routes traffic to ready endpoints.";
	const char *filler = "Um so basically Kubernetes keeps the, like, desired state, you "
	    "know: a deployment owns a, um, replicaset that, uh, keeps the requested number "
	    "of replicas running. Like when a node fails the scheduler will, um, basically "
	    "reschedule its pods onto a healthy node, you know. Liveness and, uh, readiness "
	    "probes actually restart broken containers and, like, keep them out of "
	    "rotation, and a service, um, only routes traffic to ready endpoints, you know.";
	json_object *a = evaluate(ai, q, clean, "voice", 1);
	json_object *b = evaluate(ai, q, filler, "voice", 1);

	cr_assert_geq(dim_of(a, "clarity"), 90);
	cr_assert_leq(dim_of(b, "clarity"), dim_of(a, "clarity") - 40, "%d vs %d",
	    dim_of(b, "clarity"), dim_of(a, "clarity"));
	cr_assert_gt(score_of(a), score_of(b));
	cr_assert(any_contains(json_object_object_get(b, "improvements"), "filler"));
	cr_assert(strcasestr(cx_json_str(b, "explanation"), "filler") != NULL, "%s",
	    cx_json_str(b, "explanation"));
	cr_assert_eq(dim_of(a, "coverage"), dim_of(b, "coverage"));
	json_object_put(a);
	json_object_put(b);
	json_object_put(q);
	cx_ai_free(ai);
}

static const char *const hopeless[] = {
	"", "   \n\t  ", "asdf qwer zxcv", "lorem lorem lorem lorem lorem lorem lorem lorem",
	"idk", "xkcd brrr pfft hmm grr tsk shh", NULL,
};

Test(ai_evaluate, empty_and_nonsense_score_low)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("beh-005", "behavioral");
	size_t i;

	for (i = 0; hopeless[i] != NULL; i++) {
		json_object *fb = evaluate(ai, q, hopeless[i], "text", 1);

		cr_assert_lt(score_of(fb), 15, "'%s' scored %d", hopeless[i], score_of(fb));
		cr_assert_gt(strlen(cx_json_str(fb, "explanation")), 40);
		cr_assert(strstr(cx_json_str(fb, "explanation"), "Owns the mistake") != NULL,
		    "%s", cx_json_str(fb, "explanation"));
		cr_assert(json_object_is_type(json_object_object_get(fb, "follow_up"),
		    json_type_null));
		json_object_put(fb);
	}
	json_object_put(q);
	cx_ai_free(ai);
}

Test(ai_evaluate, vague_claims_lower_specificity)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("beh-006", "behavioral");
	json_object *vague = evaluate(ai, q, "I always put the customer first because I am a "
	    "hard worker and a team player. I think customers deserve the best and I do "
	    "everything I can for everyone, always, no matter what.", "text", 1);
	json_object *concrete = evaluate(ai, q, "At my previous job a customer with 300 "
	    "users could not export invoices from our Postgres-backed app. I decided to "
	    "build a CSV export for them over a weekend and called them on Monday. As a "
	    "result they renewed a 40000 dollar contract.", "text", 1);

	cr_assert_lt(dim_of(vague, "specificity"), dim_of(concrete, "specificity") - 30);
	cr_assert(any_contains(json_object_object_get(vague, "improvements"), "always"));
	cr_assert_gt(score_of(concrete), score_of(vague));
	json_object_put(vague);
	json_object_put(concrete);
	json_object_put(q);
	cx_ai_free(ai);
}

Test(ai_evaluate, coding_answer_needs_code_complexity_and_edges)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("alg-001", "technical");
	const char *code = "I use a hash map from value to index and make a single pass: for "
	    "each number I look up its complement (target minus the number).\n"
	    "def two_sum(nums, target):\n"
	    "    seen = {}\n"
	    "    for i, x in enumerate(nums):\n"
	    "        if target - x in seen:\n"
	    "            return [seen[target - x], i]\n"
	    "        seen[x] = i\n"
	    "    return None  # no solution\n"
	    "This is O(n) time and O(n) space. Edge cases: an empty list or no solution "
	    "returns None, and duplicates work because we check before storing.";
	const char *prose = "I would loop over the numbers twice and check every pair until "
	    "I find two that add up to the target, then return their positions.";
	json_object *a = evaluate(ai, q, code, "code", 1);
	json_object *b = evaluate(ai, q, prose, "code", 1);

	cr_assert_geq(score_of(a), 80, "%s", cx_json_text(a, NULL));
	cr_assert_geq(score_of(a), score_of(b) + 40, "%d vs %d", score_of(a), score_of(b));
	cr_assert(any_contains(json_object_object_get(b, "improvements"), "complexity"));
	cr_assert(any_contains(json_object_object_get(b, "improvements"), "code itself"));
	json_object_put(a);
	json_object_put(b);
	json_object_put(q);
	cx_ai_free(ai);
}

Test(ai_evaluate, off_topic_answer_is_capped)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("ops-002", "technical");
	json_object *fb = evaluate(ai, q, "I would add an index on the column because it "
	    "depends on the workload; for example, in PostgreSQL you first check the query "
	    "plan, then decide. However, indexes slow down writes, so it is a trade-off.",
	    "text", 1);

	cr_assert_leq(score_of(fb), 25, "%s", cx_json_text(fb, NULL));
	cr_assert_eq(json_object_array_length(json_object_object_get(fb, "covered")), 0);
	cr_assert(strstr(cx_json_str(fb, "explanation"), "did not touch any key point") != NULL);
	json_object_put(fb);
	json_object_put(q);
	cx_ai_free(ai);
}

Test(ai_evaluate, rejects_bad_arguments)
{
	struct cx_ai *ai = open_fixture();
	json_object *q = bank_question("beh-001", "behavioral"), *out = NULL;
	json_object *unknown = bank_question("nope-1", "technical");
	struct cx_error err = { 0 };

	cr_assert_eq(cx_ai_evaluate_answer(ai, q, "x", "video", 1, &out, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "answer_type");
	cx_error_clear(&err);
	cr_assert_eq(cx_ai_evaluate_answer(ai, unknown, "x", "text", 1, &out, &err),
	    CX_EVALIDATION);
	cr_assert_null(out);
	json_object_put(q);
	json_object_put(unknown);
	cx_ai_free(ai);
}

/* ------------------------------------------------------------------ summarize */

static const struct {
	const char *source_id, *area, *mode;
	int minutes, score;     /* score -1: unanswered */
	double cov, str, spec, len, cla;
} interview[] = {
	{ "beh-001", "behavioral", "behavioral", 4, 82, 80, 90, 70, 100, 100 },
	{ "db-002", "databases", "technical", 5, 64, 50, 70, 60, 100, 90 },
	{ "ops-003", "devops", "technical", 5, 31, 25, 55, 40, 60, 90 },
	{ "alg-003", "algorithms", "technical", 3, -1, 0, 0, 0, 0, 0 },
};

static void
build_interview(size_t n, json_object **questions, json_object **feedbacks)
{
	size_t i;

	*questions = json_object_new_array();
	*feedbacks = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *q = bank_question(interview[i].source_id, interview[i].mode);
		json_object *fb, *rubric, *missing;
		const char *dims[] = { "coverage", "structure", "specificity", "length",
			"clarity" };
		double vals[] = { interview[i].cov, interview[i].str, interview[i].spec,
			interview[i].len, interview[i].cla };
		size_t d;

		json_object_object_add(q, "area", json_object_new_string(interview[i].area));
		json_object_object_add(q, "time_minutes",
		    json_object_new_int(interview[i].minutes));
		json_object_array_add(*questions, q);
		if (interview[i].score < 0) {
			json_object_array_add(*feedbacks, NULL);
			continue;
		}
		fb = json_object_new_object();
		rubric = json_object_new_object();
		for (d = 0; d < 5; d++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "score", json_object_new_int((int)vals[d]));
			json_object_object_add(rubric, dims[d], o);
		}
		missing = json_object_new_array();
		if (strcmp(interview[i].area, "devops") == 0)
			json_object_array_add(missing, json_object_new_string(
			    "Rollback and safe release strategy"));
		json_object_object_add(fb, "score", json_object_new_int(interview[i].score));
		json_object_object_add(fb, "rubric", rubric);
		json_object_object_add(fb, "missing", missing);
		json_object_array_add(*feedbacks, fb);
	}
}

static int
rounded(double sum, double weight)
{
	return (int)(sum / weight + 0.5);
}

Test(ai_summarize, weighted_scores_and_recommendations)
{
	struct cx_ai *ai = open_fixture();
	json_object *questions, *feedbacks, *out = NULL, *recs;
	struct cx_error err = { 0 };
	double tot = 0, totw = 0, bs = 0, bw = 0, ts = 0, tw = 0;
	size_t i, n = sizeof(interview) / sizeof(interview[0]);

	build_interview(n, &questions, &feedbacks);
	for (i = 0; i < n; i++) {
		double s = interview[i].score < 0 ? 0 : interview[i].score;
		double w = interview[i].minutes;

		tot += s * w;
		totw += w;
		if (strcmp(interview[i].mode, "behavioral") == 0) {
			bs += s * w;
			bw += w;
		} else {
			ts += s * w;
			tw += w;
		}
	}
	cr_assert_eq(cx_ai_summarize(ai, questions, feedbacks, &out, &err), CX_OK, "%s",
	    err.message);
	cr_assert_eq(json_object_get_int(json_object_object_get(out, "total_score")),
	    rounded(tot, totw));
	cr_assert_eq(json_object_get_int(json_object_object_get(out, "behavioral_score")),
	    rounded(bs, bw));
	cr_assert_eq(json_object_get_int(json_object_object_get(out, "technical_score")),
	    rounded(ts, tw));
	recs = json_object_object_get(out, "recommendations");
	/* Weakest first: the unanswered algorithms question, then DevOps with its gap. */
	cr_assert(strstr(json_object_get_string(json_object_array_get_idx(recs, 0)),
	    "Algorithms") != NULL, "%s", cx_json_text(out, NULL));
	cr_assert(any_contains(recs, "DevOps"), "%s", cx_json_text(recs, NULL));
	cr_assert(any_contains(recs, "Rollback and safe release strategy"));
	cr_assert(any_contains(recs, "Answer every question"));
	cr_assert(any_contains(json_object_object_get(out, "weaknesses"), "unanswered"));
	cr_assert(any_contains(json_object_object_get(out, "strengths"), "Behavioral"));
	cr_assert(strstr(cx_json_str(out, "feedback"), "Algorithms") != NULL);
	cr_assert_str_eq(cx_json_str(out, "provider"), "local");
	json_object_put(out);
	json_object_put(questions);
	json_object_put(feedbacks);
	cx_ai_free(ai);
}

/* Append one answered question of the bank (area, 5 minutes) and its feedback (score, no
 * rubric); returns the question and the feedback's "missing" array, for the caller to add
 * to. */
static json_object *
add_answered(json_object *questions, json_object *feedbacks, const char *source_id,
    const char *area, int score, json_object **missing)
{
	json_object *q = bank_question(source_id, "technical");
	json_object *fb = json_object_new_object();

	json_object_object_add(q, "area", json_object_new_string(area));
	json_object_object_add(q, "time_minutes", json_object_new_int(5));
	json_object_array_add(questions, q);
	*missing = json_object_new_array();
	json_object_object_add(fb, "score", json_object_new_int(score));
	json_object_object_add(fb, "rubric", json_object_new_object());
	json_object_object_add(fb, "missing", *missing);
	json_object_array_add(feedbacks, fb);
	return q;
}

/* Two areas with the same score: neither is called the strongest nor the weakest. */
Test(ai_summarize, areas_that_score_alike_are_not_ranked)
{
	struct cx_ai *ai = open_fixture();
	json_object *questions = json_object_new_array(), *feedbacks = json_object_new_array();
	json_object *out = NULL, *miss;
	struct cx_error err = { 0 };
	const char *text;

	add_answered(questions, feedbacks, "db-002", "databases", 25, &miss);
	add_answered(questions, feedbacks, "ops-003", "devops", 25, &miss);
	cr_assert_eq(cx_ai_summarize(ai, questions, feedbacks, &out, &err), CX_OK, "%s",
	    err.message);
	text = cx_json_str(out, "feedback");
	cr_assert(strstr(text, "Both areas, ") != NULL && strstr(text, " scored 25.") != NULL,
	    "%s", text);
	cr_assert_null(strstr(text, "strongest"), "%s", text);
	cr_assert_null(strstr(text, "Focus your preparation on"), "%s", text);
	json_object_put(out);
	json_object_put(questions);
	json_object_put(feedbacks);
	cx_ai_free(ai);
}

/* A follow-up probes a point its parent missed; missed again, it is studied once. */
Test(ai_summarize, a_point_missed_twice_is_recommended_once)
{
	struct cx_ai *ai = open_fixture();
	json_object *questions = json_object_new_array(), *feedbacks = json_object_new_array();
	json_object *out = NULL, *recs, *miss, *fu;
	struct cx_error err = { 0 };
	const char *point = "Rollback and safe release strategy", *rec = NULL, *first;
	size_t i;

	add_answered(questions, feedbacks, "ops-003", "devops", 30, &miss);
	json_object_array_add(miss, json_object_new_string(point));
	json_object_array_add(miss, json_object_new_string("Health checks before traffic"));
	fu = add_answered(questions, feedbacks, "ops-003", "devops", 30, &miss);
	json_object_object_add(fu, "gap", json_object_new_string(point));
	json_object_array_add(miss, json_object_new_string(point));
	cr_assert_eq(cx_ai_summarize(ai, questions, feedbacks, &out, &err), CX_OK, "%s",
	    err.message);
	recs = json_object_object_get(out, "recommendations");
	for (i = 0; i < json_object_array_length(recs); i++)
		if (strstr(json_object_get_string(json_object_array_get_idx(recs, i)),
		    "DevOps") != NULL)
			rec = json_object_get_string(json_object_array_get_idx(recs, i));
	cr_assert_not_null(rec, "%s", cx_json_text(recs, NULL));
	cr_assert_not_null(first = strstr(rec, point), "%s", rec);
	cr_assert_null(strstr(first + 1, point), "%s", rec);
	cr_assert(strstr(rec, "Health checks before traffic") != NULL, "%s", rec);
	json_object_put(out);
	json_object_put(questions);
	json_object_put(feedbacks);
	cx_ai_free(ai);
}

Test(ai_summarize, behavioral_only_has_null_technical_score)
{
	struct cx_ai *ai = open_fixture();
	json_object *questions, *feedbacks, *out = NULL;
	struct cx_error err = { 0 };

	build_interview(1, &questions, &feedbacks);
	cr_assert_eq(cx_ai_summarize(ai, questions, feedbacks, &out, &err), CX_OK);
	cr_assert(json_object_is_type(json_object_object_get(out, "technical_score"),
	    json_type_null));
	cr_assert_eq(json_object_get_int(json_object_object_get(out, "behavioral_score")),
	    interview[0].score);
	json_object_put(out);
	json_object_array_add(feedbacks, NULL);   /* lengths now differ */
	cx_error_clear(&err);
	out = NULL;
	cr_assert_eq(cx_ai_summarize(ai, questions, feedbacks, &out, &err), CX_EVALIDATION);
	cr_assert_null(out);
	json_object_put(questions);
	json_object_put(feedbacks);
	cx_ai_free(ai);
}

Test(ai_end_to_end, generated_questions_evaluate_and_summarize)
{
	struct cx_ai *ai = open_fixture();
	json_object *arr = generate(ai, "technical", "senior", 5, "e2e",
	    "Backend engineer: PostgreSQL, Kubernetes, Terraform.", NULL);
	json_object *fbs = json_object_new_array(), *out = NULL;
	struct cx_error err = { 0 };
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		json_object_array_add(fbs, evaluate(ai, json_object_array_get_idx(arr, i),
		    "I am not sure, I would look it up in the documentation.", "text", 1));
	cr_assert_eq(cx_ai_summarize(ai, arr, fbs, &out, &err), CX_OK, "%s", err.message);
	cr_assert_lt(json_object_get_int(json_object_object_get(out, "total_score")), 40);
	cr_assert_gt(json_object_array_length(json_object_object_get(out,
	    "recommendations")), 0);
	json_object_put(out);
	json_object_put(fbs);
	json_object_put(arr);
	cx_ai_free(ai);
}

/* The shipped bank (schema/) loads in the local provider and gives an interview that fits
 * a job description: the bank and the provider agree on the format. */
Test(shipped_bank, loads_and_fits_a_job)
{
	struct cx_ai *real = NULL;
	struct cx_error err = { 0 };
	json_object *qs = NULL;
	const char *focus[] = { "databases" };
	struct cx_ai_spec spec = { .mode = "technical", .level = "senior", .question_count = 8,
		.job_title = "Senior Backend Engineer",
		.job_description = "We run PostgreSQL and Redis behind Go services on Kubernetes.",
		.focus_areas = focus, .nfocus = 1, .seed = "session-1" };
	int matched = 0;

	cr_assert_eq(cx_ai_open_local(CX_TEST_SRCDIR "/schema/questions",
	    CX_TEST_SRCDIR "/schema/skills.json", &real, &err), CX_OK, "%s", err.message);
	cr_assert_eq(cx_ai_generate_questions(real, &spec, &qs, &err), CX_OK, "%s", err.message);
	cr_assert_eq(json_object_array_length(qs), 8);
	for (size_t i = 0; i < json_object_array_length(qs); i++) {
		json_object *m = json_object_object_get(json_object_array_get_idx(qs, i),
		    "matched_skills");
		if (m != NULL && json_object_array_length(m) > 0)
			matched++;
	}
	cr_expect_geq(matched, 4, "only %d of 8 questions fit the job description", matched);
	json_object_put(qs);
	cx_ai_free(real);
}

/* A short interview gets questions that fit in it: the 25-minute coding tasks of the bank
 * stay out of a 30-minute, three-question technical interview, and come back when the
 * duration allows them. */
Test(generate, questions_fit_the_duration)
{
	struct cx_ai *real = NULL;
	struct cx_error err = { 0 };
	char seed[16];
	int s, fits = 0, long_ok = 0, unlimited_over = 0;

	cr_assert_eq(cx_ai_open_local(CX_TEST_SRCDIR "/schema/questions",
	    CX_TEST_SRCDIR "/schema/skills.json", &real, &err), CX_OK, "%s", err.message);
	for (s = 0; s < 20; s++) {
		int minutes[] = { 30, 180 }, m;

		snprintf(seed, sizeof(seed), "seed-%d", s);
		for (m = 0; m < 2; m++) {
			struct cx_ai_spec spec = { .mode = "technical", .level = "mid",
				.question_count = 3, .duration_minutes = minutes[m], .seed = seed,
				.job_title = "Backend Engineer",
				.job_description = "Go, PostgreSQL, Kubernetes, REST APIs" };
			json_object *out = NULL;
			int total = 0;
			size_t i;

			cr_assert_eq(cx_ai_generate_questions(real, &spec, &out, &err), CX_OK, "%s",
			    err.message);
			cr_assert_eq(json_object_array_length(out), 3);
			for (i = 0; i < 3; i++)
				total += json_object_get_int(json_object_object_get(
				    json_object_array_get_idx(out, i), "time_minutes"));
			if (m == 0)
				fits += total <= 30;
			else
				long_ok += total <= 180;
			json_object_put(out);
		}
		/* without a duration, this job's plans often run past half an hour */
		{
			struct cx_ai_spec spec = { .mode = "technical", .level = "mid",
				.question_count = 3, .seed = seed, .job_title = "Backend Engineer",
				.job_description = "Go, PostgreSQL, Kubernetes, REST APIs" };
			json_object *out = NULL;
			int total = 0;
			size_t i;

			cr_assert_eq(cx_ai_generate_questions(real, &spec, &out, &err), CX_OK);
			for (i = 0; i < json_object_array_length(out); i++)
				total += json_object_get_int(json_object_object_get(
				    json_object_array_get_idx(out, i), "time_minutes"));
			unlimited_over += total > 30;
			json_object_put(out);
		}
	}
	cr_expect_eq(fits, 20, "%d of 20 thirty-minute plans fit in 30 minutes", fits);
	cr_expect_eq(long_ok, 20);
	cr_expect_gt(unlimited_over, 0, "the bank no longer has long questions for this job: "
	    "the test shows nothing");
	cx_ai_free(real);
}

Test(generate, duration_is_checked)
{
	struct cx_ai *ai = open_fixture();
	struct cx_ai_spec spec = { .mode = "technical", .level = "mid", .question_count = 2,
		.duration_minutes = -1, .seed = "x", .job_title = "Engineer" };
	struct cx_error err = { 0 };
	json_object *out = NULL;

	cr_assert_eq(cx_ai_generate_questions(ai, &spec, &out, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "duration_minutes");
	cr_assert_null(out);
	cx_ai_free(ai);
}

/* ------------------------------------------------------------------ words */

/* Occurrences of phrase in text by comparing stems at every position: what the index a
 * text is searched through must find. */
static size_t
scan_count(const struct words *text, const struct words *phrase)
{
	size_t i, j, n = 0;

	for (i = 0; phrase->n > 0 && i + phrase->n <= text->n; i++) {
		for (j = 0; j < phrase->n && strcmp(text->s[i + j], phrase->s[j]) == 0; j++)
			;
		n += j == phrase->n;
	}
	return n;
}

Test(ai_words, phrases_are_found_as_a_scan_of_stems_finds_them)
{
	static const struct {
		const char *text, *phrase;
		size_t count;
	} cases[] = {
		{ "We added indexes; the index helped. INDEXES!", "index", 3 },
		{ "We added indexes; the index helped. INDEXES!", "indexes", 3 },
		{ "the the the", "the the", 2 },             /* overlapping occurrences */
		{ "Policies, a policy and the policy's owner", "policies", 3 },
		{ "a lot of stuff, A LOT", "a lot", 2 },
		{ "as a result we shipped; as a, result; as a result", "as a result", 3 },
		{ "result", "as a result", 0 },                /* longer than the text */
		{ "C++ and C# and c", "c++", 1 },
		{ "boxes and a box, classes and a class", "box", 2 },
		{ "bus buses", "bus", 1 },                      /* "buses" stems to "buse" */
		{ "o(n) time, O(log n) space: o n", "o n", 2 },
		{ "naïve café, NAÏVE", "naïve", 1 },          /* only ASCII is lowercased */
		{ "", "anything", 0 },
		{ "some words", "...", 0 },                     /* a phrase without words */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct words text, phrase;

		cr_assert_eq(ai_words_init(&text, cases[i].text, 1000), 0);
		cr_assert_eq(ai_phrase_init(&phrase, cases[i].phrase), 0);
		cr_expect_eq(ai_words_count(&text, &phrase, SIZE_MAX), cases[i].count,
		    "\"%s\" in \"%s\"", cases[i].phrase, cases[i].text);
		cr_expect_eq(scan_count(&text, &phrase), cases[i].count, "case %zu", i);
		cr_expect_eq(ai_words_count(&text, &phrase, 1), cases[i].count > 0);
		cr_expect_eq(ai_phrase_in(&text, cases[i].phrase), cases[i].count > 0);
		ai_words_free(&text);
		ai_words_free(&phrase);
	}
}

/* A long text (many index slots, chains of repeated stems) and phrases cut at 256 bytes. */
Test(ai_words, long_texts_and_long_phrases)
{
	char text[16384], phrase[400], tail[300];
	struct words t, p;
	size_t i, pos = 0;
	static const char *const vocab[] = { "cache", "caches", "index", "the", "result",
		"led", "to", "latency", "dropped", "as", "a" };

	for (i = 0; i < 600; i++)       /* under 20 bytes each */
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "%s%s w%zu ",
		    vocab[(i * 7) % 11], i % 5 == 0 ? "" : " the", i % 13);
	cr_assert_eq(ai_words_init(&t, text, sizeof(text)), 0);
	cr_expect_eq(ai_words_distinct(&t, SIZE_MAX), ai_words_distinct(&t, t.n));
	cr_expect_lt(ai_words_distinct(&t, 3), 4);
	for (i = 0; i < 11; i++) {
		const char *const pair[] = { vocab[i], vocab[(i + 1) % 11] };
		char two[64];

		snprintf(two, sizeof(two), "%s the", pair[0]);
		cr_assert_eq(ai_phrase_init(&p, two), 0);
		cr_expect_eq(ai_words_count(&t, &p, SIZE_MAX), scan_count(&t, &p), "%s", two);
		ai_words_free(&p);
		cr_assert_eq(ai_phrase_init(&p, pair[0]), 0);
		cr_expect_eq(ai_words_count(&t, &p, SIZE_MAX), scan_count(&t, &p), "%s", pair[0]);
		cr_expect_eq(ai_words_count(&t, &p, 3), scan_count(&t, &p) < 3 ?
		    scan_count(&t, &p) : 3);
		ai_words_free(&p);
	}
	ai_words_free(&t);

	/* Only the first 256 bytes of a phrase count: the word cut there is a word. */
	memset(tail, 'x', 250);
	tail[250] = '\0';
	snprintf(phrase, sizeof(phrase), "%s alphabet", tail);
	snprintf(text, sizeof(text), "%s alpha", tail);     /* 256 bytes end in "alpha" */
	cr_assert_eq(ai_words_init(&t, text, sizeof(text)), 0);
	cr_expect(ai_phrase_in(&t, phrase));
	ai_words_free(&t);
	snprintf(text, sizeof(text), "%s alphabet", tail);
	cr_assert_eq(ai_words_init(&t, text, sizeof(text)), 0);
	cr_expect(!ai_phrase_in(&t, phrase));
	ai_words_free(&t);
}
