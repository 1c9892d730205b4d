/* The API document and the programs' route tables must agree: every route a program
 * serves is documented (same method, path and permission) and every documented
 * operation is served by some program. */
#include "config.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *const programs[] = { "fcgi-apps/auth/cx-auth",
	"fcgi-apps/interview/cx-interview", NULL };
/* Operations nginx serves itself (static files), documented but in no route table. */
static const char *const static_ops[] = { "GET /api/openapi.json", NULL };

struct op {
	char key[256];        /* "GET /api/auth/me" */
	char permission[64];
	int seen;
};

static size_t
load_routes(struct op *ops, size_t max)
{
	size_t n = 0;

	for (size_t p = 0; programs[p] != NULL; p++) {
		char cmd[1024], line[1024];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "%s/%s --routes", CX_TEST_BUILDDIR, programs[p]);
		f = popen(cmd, "r");
		cr_assert_not_null(f, "cannot run %s", cmd);
		while (fgets(line, sizeof(line), f) != NULL && n < max) {
			json_object *r = json_tokener_parse(line);
			cr_assert_not_null(r, "bad --routes line: %s", line);
			snprintf(ops[n].key, sizeof(ops[n].key), "%s %s",
			    json_object_get_string(json_object_object_get(r, "method")),
			    json_object_get_string(json_object_object_get(r, "pattern")));
			snprintf(ops[n].permission, sizeof(ops[n].permission), "%s",
			    json_object_get_string(json_object_object_get(r, "permission")));
			n++;
			json_object_put(r);
		}
		cr_assert_eq(pclose(f), 0, "%s --routes failed", cmd);
	}
	return n;
}

Test(openapi, document_matches_route_tables)
{
	static struct op ops[256];
	char path[1024];
	json_object *doc, *paths;
	size_t n = load_routes(ops, 256);

	cr_assert_gt(n, 0, "no routes listed");
	snprintf(path, sizeof(path), "%s/schema/openapi.json", CX_TEST_SRCDIR);
	doc = json_object_from_file(path);
	cr_assert_not_null(doc, "cannot parse %s", path);
	cr_assert_eq(strncmp(json_object_get_string(json_object_object_get(doc, "openapi")), "3.1", 3),
	    0, "the document must be OpenAPI 3.1");
	paths = json_object_object_get(doc, "paths");
	cr_assert_not_null(paths);
	json_object_object_foreach(paths, p, item) {
		json_object_object_foreach(item, method, opobj) {
			char key[256], upper[16];
			size_t i, k;
			const char *perm;

			if (strcmp(method, "parameters") == 0 || strcmp(method, "summary") == 0 ||
			    strcmp(method, "description") == 0)
				continue;
			for (k = 0; method[k] != '\0' && k + 1 < sizeof(upper); k++)
				upper[k] = (char)(method[k] - 32 * (method[k] >= 'a' && method[k] <= 'z'));
			upper[k] = '\0';
			snprintf(key, sizeof(key), "%s %s", upper, p);
			for (i = 0; static_ops[i] != NULL; i++)
				if (strcmp(static_ops[i], key) == 0)
					break;
			if (static_ops[i] != NULL)
				continue;
			for (i = 0; i < n; i++)
				if (strcmp(ops[i].key, key) == 0)
					break;
			cr_expect_lt(i, n, "documented but served by no program: %s", key);
			if (i == n)
				continue;
			ops[i].seen = 1;
			perm = json_object_get_string(json_object_object_get(opobj, "x-permission"));
			cr_expect_not_null(perm, "%s has no x-permission", key);
			if (perm != NULL)
				cr_expect_str_eq(perm, ops[i].permission, "permission of %s", key);
			cr_expect_not_null(json_object_object_get(opobj, "operationId"),
			    "%s has no operationId", key);
		}
	}
	for (size_t i = 0; i < n; i++)
		cr_expect(ops[i].seen, "served but not documented in schema/openapi.json: %s",
		    ops[i].key);
	json_object_put(doc);
}
