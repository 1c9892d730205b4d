/* cx-interview: the worker's cache of parsed sessions.
 *
 * Parsing a session and its question documents, and freeing them again, cost more than
 * the rest of a read; nginx sends every request of one session to the same worker (see
 * nginx/snippets/cx-upstreams.conf), so the worker that last served a session usually
 * still holds it. An entry is a session document with the question documents read with
 * it, reused while its revision is current (session.c asks the store). Entries are found
 * by id through a hash table and evicted least recently used first, within a count of
 * sessions and a count of documents (a session read whole holds all its questions). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cx_json.h"
#include "interview.h"

/* Document budget per session slot: a 20-question interview read whole (the precheck
 * reads every question) weighs 21 documents, 22 to 24 with its follow-ups, so a cache of
 * N sessions keeps N running interviews whole. (It was 8: a cache sized for N interviews
 * kept about a third of them, and the others were read again on their next answer.) */
#define DOCS_PER_SESSION 24
#define NIL (-1)

static uint32_t
hash_id(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

int
doc_cache_init(struct doc_cache *c, size_t sessions, struct cx_error *err)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->lru_head = c->lru_tail = c->free_head = NIL;
	if (sessions == 0)
		return CX_OK;
	for (c->nbuckets = 16; c->nbuckets < sessions * 2; c->nbuckets *= 2)
		;
	c->slots = calloc(sessions, sizeof(*c->slots));
	c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
	if (c->slots == NULL || c->buckets == NULL) {
		doc_cache_fini(c);
		return cx_error_internal(err, "out of memory for %zu cached sessions", sessions);
	}
	c->nslots = sessions;
	c->max_weight = sessions * DOCS_PER_SESSION;
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = NIL;
	for (i = 0; i < sessions; i++)
		c->slots[i].hnext = i + 1 < sessions ? (int32_t)(i + 1) : NIL;
	c->free_head = 0;
	return CX_OK;
}

void
doc_cache_fini(struct doc_cache *c)
{
	size_t i;

	for (i = 0; c->slots != NULL && i < c->nslots; i++)
		doc_cache_release(&c->slots[i]);
	free(c->slots);
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

static int32_t
find(const struct doc_cache *c, const char *id, int32_t **link)
{
	int32_t *l = &c->buckets[hash_id(id) & (c->nbuckets - 1)];

	for (; *l != NIL; l = &c->slots[*l].hnext)
		if (strcmp(c->slots[*l].id, id) == 0) {
			if (link != NULL)
				*link = l;
			return *l;
		}
	return NIL;
}

/* Unlink slot k (found through link) from its hash chain and the LRU list, and free it;
 * its documents go to e. */
static void
remove_slot(struct doc_cache *c, int32_t *link, struct cached_doc *e)
{
	int32_t k = *link;
	struct cached_doc *s = &c->slots[k];

	*link = s->hnext;
	if (s->prev != NIL)
		c->slots[s->prev].next = s->next;
	else
		c->lru_head = s->next;
	if (s->next != NIL)
		c->slots[s->next].prev = s->prev;
	else
		c->lru_tail = s->prev;
	c->weight -= s->weight;
	*e = *s;
	memset(s, 0, sizeof(*s));
	s->hnext = c->free_head;
	c->free_head = k;
}

int
doc_cache_take(struct doc_cache *c, const char *id, struct cached_doc *out)
{
	int32_t *link;

	if (c->nslots == 0 || find(c, id, &link) == NIL)
		return 0;
	remove_slot(c, link, out);
	return 1;
}

/* Release the documents of an entry taken out. */
void
doc_cache_release(struct cached_doc *e)
{
	json_object_put(e->doc);
	json_object_put(e->qdocs);
	json_object_put(e->log);
	e->doc = e->qdocs = e->log = NULL;
}

void
doc_cache_drop(struct doc_cache *c, const char *id)
{
	struct cached_doc e;

	if (doc_cache_take(c, id, &e))
		doc_cache_release(&e);
}

static void
evict_oldest(struct doc_cache *c)
{
	struct cached_doc e;
	int32_t *link;

	if (c->lru_tail == NIL || find(c, c->slots[c->lru_tail].id, &link) == NIL)
		return;
	remove_slot(c, link, &e);
	doc_cache_release(&e);
}

void
doc_cache_put(struct doc_cache *c, json_object *doc, json_object *qdocs, json_object *log,
    int assembled, int64_t rev)
{
	const char *id = cx_json_str(doc, "id");
	struct cached_doc old, *s;
	size_t weight = 1 + (qdocs != NULL ? (size_t)json_object_object_length(qdocs) : 0) +
	    (log != NULL ? 1 : 0);
	int32_t k;

	if (c->nslots == 0 || id == NULL || strlen(id) >= sizeof(s->id) ||
	    weight > c->max_weight) {
		json_object_put(doc);
		json_object_put(qdocs);
		json_object_put(log);
		return;
	}
	if (doc_cache_take(c, id, &old))   /* an older copy */
		doc_cache_release(&old);
	while ((c->free_head == NIL || c->weight + weight > c->max_weight) &&
	    c->lru_tail != NIL)
		evict_oldest(c);
	k = c->free_head;
	s = &c->slots[k];
	c->free_head = s->hnext;
	memcpy(s->id, id, strlen(id) + 1);
	s->rev = rev;
	s->doc = doc;
	s->qdocs = qdocs;
	s->log = log;
	s->assembled = assembled;
	s->weight = weight;
	s->hnext = c->buckets[hash_id(id) & (c->nbuckets - 1)];
	c->buckets[hash_id(id) & (c->nbuckets - 1)] = k;
	s->prev = NIL;
	s->next = c->lru_head;
	if (c->lru_head != NIL)
		c->slots[c->lru_head].prev = k;
	c->lru_head = k;
	if (c->lru_tail == NIL)
		c->lru_tail = k;
	c->weight += weight;
}
