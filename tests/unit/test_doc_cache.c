/* The interview worker's cache of parsed sessions (fcgi-apps/interview/cache.c): found by
 * id, evicted least recently used first, within its count of sessions and of documents. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "interview.h"

static json_object *
session(int n)
{
	char id[25];
	json_object *doc = json_object_new_object();

	snprintf(id, sizeof(id), "%024d", n);
	json_object_object_add(doc, "id", json_object_new_string(id));
	json_object_object_add(doc, "rev", json_object_new_int(n));
	return doc;
}

static json_object *
questions(int n)
{
	json_object *q = json_object_new_object();
	char id[16];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "q%d", i + 1);
		json_object_object_add(q, id, json_object_new_object());
	}
	return q;
}

/* Take session n out of the cache: 1 (its revision checked) or 0. */
static int
take(struct doc_cache *c, int n)
{
	struct cached_doc e;
	char id[25];

	snprintf(id, sizeof(id), "%024d", n);
	if (!doc_cache_take(c, id, &e))
		return 0;
	cr_assert_eq(e.rev, n);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(e.doc, "id")), id);
	json_object_put(e.doc);
	json_object_put(e.qdocs);
	return 1;
}

Test(doc_cache, finds_what_it_keeps_until_taken)
{
	struct doc_cache c;
	struct cx_error err = { 0 };

	cr_assert_eq(doc_cache_init(&c, 100, &err), CX_OK);
	for (int n = 1; n <= 100; n++)
		doc_cache_put(&c, session(n), NULL, NULL, 0, n);
	for (int n = 100; n >= 1; n--)
		cr_expect(take(&c, n), "session %d is not found", n);
	cr_expect_not(take(&c, 50), "a taken session is still there");
	cr_expect_eq(c.weight, 0);
	doc_cache_fini(&c);
}

Test(doc_cache, evicts_the_least_recently_used)
{
	struct doc_cache c;
	struct cx_error err = { 0 };

	cr_assert_eq(doc_cache_init(&c, 3, &err), CX_OK);
	doc_cache_put(&c, session(1), NULL, NULL, 0, 1);
	doc_cache_put(&c, session(2), NULL, NULL, 0, 2);
	doc_cache_put(&c, session(3), NULL, NULL, 0, 3);
	cr_assert(take(&c, 1));   /* used again: now the most recent */
	doc_cache_put(&c, session(1), NULL, NULL, 0, 1);
	doc_cache_put(&c, session(4), NULL, NULL, 0, 4);
	cr_expect_not(take(&c, 2), "session 2 was the least recently used");
	cr_expect(take(&c, 1));
	cr_expect(take(&c, 3));
	cr_expect(take(&c, 4));
	doc_cache_fini(&c);
}

Test(doc_cache, a_newer_copy_replaces_the_old_one)
{
	struct doc_cache c;
	struct cx_error err = { 0 };
	struct cached_doc e;
	json_object *doc = session(7);
	char id[25];

	cr_assert_eq(doc_cache_init(&c, 4, &err), CX_OK);
	doc_cache_put(&c, session(7), questions(2), NULL, 0, 7);
	json_object_object_add(doc, "rev", json_object_new_int(8));
	doc_cache_put(&c, doc, questions(3), NULL, 1, 8);
	cr_expect_eq(c.weight, 4);
	snprintf(id, sizeof(id), "%024d", 7);
	cr_assert(doc_cache_take(&c, id, &e));
	cr_expect_eq(e.rev, 8);
	cr_expect_eq(e.assembled, 1);
	cr_expect_eq(json_object_object_length(e.qdocs), 3);
	json_object_put(e.doc);
	json_object_put(e.qdocs);
	cr_expect_not(doc_cache_take(&c, id, &e), "two copies of one session");
	doc_cache_fini(&c);
}

/* Sessions read whole hold all their questions: they count against the document budget
 * (24 per session slot), so a few large ones push out older ones. */
Test(doc_cache, keeps_within_its_document_budget)
{
	struct doc_cache c;
	struct cx_error err = { 0 };
	int kept = 0;

	cr_assert_eq(doc_cache_init(&c, 4, &err), CX_OK);   /* 96 documents */
	doc_cache_put(&c, session(1), NULL, NULL, 0, 1);
	doc_cache_put(&c, session(2), questions(40), NULL, 1, 2);
	doc_cache_put(&c, session(3), questions(40), NULL, 1, 3);
	cr_expect_eq(c.weight, 83);
	doc_cache_put(&c, session(4), questions(20), NULL, 1, 4);
	cr_expect_leq(c.weight, c.max_weight);
	cr_expect(take(&c, 4), "the newest session was evicted");
	kept = take(&c, 1) + take(&c, 2) + take(&c, 3);
	cr_expect_eq(kept, 1, "%d older sessions kept beside 21 + 41 documents of 96", kept);
	/* one that can never fit is not kept (and not leaked) */
	doc_cache_put(&c, session(5), questions(100), NULL, 1, 5);
	cr_expect_not(take(&c, 5));
	doc_cache_fini(&c);
}

Test(doc_cache, size_zero_keeps_nothing)
{
	struct doc_cache c;
	struct cx_error err = { 0 };

	cr_assert_eq(doc_cache_init(&c, 0, &err), CX_OK);
	doc_cache_put(&c, session(1), questions(1), NULL, 0, 1);
	cr_expect_not(take(&c, 1));
	doc_cache_fini(&c);
}
