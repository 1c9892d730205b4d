/* Unit tests of cx_audit against a SQLite store in a temporary folder. */
#include "config.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_audit.h"
#include "cx_json.h"
#include "cx_store.h"
#include "cx_time.h"

static char workdir[PATH_MAX];
static struct cx_store *store;

static void
setup(void)
{
	char tmpl[] = "/tmp/cx-audit-XXXXXX", url[PATH_MAX + 32];
	struct cx_error err = { 0 };

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(workdir, sizeof(workdir), "%s", tmpl);
	snprintf(url, sizeof(url), "sqlite:%s/audit.db", workdir);
	cr_assert_eq(cx_store_open(url, NULL, &store, &err), CX_OK, "%s", err.message);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	cx_store_close(store);
	store = NULL;
	if (strncmp(workdir, "/tmp/cx-audit-", 14) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
		(void)system(cmd);
	}
}

TestSuite(audit, .init = setup, .fini = teardown);

/* All audit_logs documents, oldest first (caller's array). */
static json_object *
all_entries(void)
{
	static const struct cx_sort by_time[] = { { "timestamp", 1 } };
	struct cx_error err = { 0 };
	json_object *arr = NULL;

	cr_assert_eq(cx_store_find(store, "audit_logs", NULL, by_time, 1, 0, 0, &arr, &err), CX_OK,
	    "%s", err.message);
	return arr;
}

Test(audit, write_then_read_back_every_field)
{
	struct cx_error err = { 0 };
	json_object *details = json_object_new_object(), *arr, *doc, *d;
	struct cx_audit_entry e = {
		.user_id = "65a1b2c3d4e5f60718293a4b",
		.action = "password_change",
		.resource = "user",
		.resource_id = "65a1b2c3d4e5f60718293a4b",
		.details = details,
		.ip_address = "203.0.113.9",
		.user_agent = "Mozilla/5.0 (X11; Linux x86_64)",
		.severity = CX_SEV_HIGH,
	};
	char before[CX_TIME_LEN], after[CX_TIME_LEN];
	int64_t ms;

	json_object_object_add(details, "sessions_revoked", json_object_new_int(3));
	cx_time_now(before);
	cr_assert_eq(cx_audit_write(store, &e, &err), CX_OK, "%s", err.message);
	cx_time_now(after);

	arr = all_entries();
	cr_assert_eq(json_object_array_length(arr), 1);
	doc = json_object_array_get_idx(arr, 0);
	cr_expect_eq(cx_oid_valid(cx_json_str(doc, "id")), 1);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "user_id")),
	    "65a1b2c3d4e5f60718293a4b");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "action")),
	    "password_change");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "resource")), "user");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "resource_id")),
	    "65a1b2c3d4e5f60718293a4b");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "ip_address")),
	    "203.0.113.9");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "user_agent")),
	    "Mozilla/5.0 (X11; Linux x86_64)");
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "severity")), "high");
	d = json_object_object_get(doc, "details");
	cr_assert(json_object_is_type(d, json_type_object));
	cr_expect_eq(json_object_get_int(json_object_object_get(d, "sessions_revoked")), 3);
	{
		const char *ts = json_object_get_string(json_object_object_get(doc, "timestamp"));
		cr_assert_not_null(ts);
		cr_expect_eq(cx_time_parse_ms(ts, &ms), 0, "timestamp %s", ts);
		cr_expect_geq(strcmp(ts, before), 0);
		cr_expect_leq(strcmp(ts, after), 0);
	}
	json_object_put(arr);
}

Test(audit, unknown_user_and_no_details_are_null_and_empty)
{
	struct cx_error err = { 0 };
	struct cx_audit_entry e = {
		.action = "login_failed", .resource = "auth", .ip_address = "127.0.0.1",
		.user_agent = "", .severity = CX_SEV_MEDIUM,
	};
	json_object *arr, *doc, *v;

	cr_assert_eq(cx_audit_write(store, &e, &err), CX_OK, "%s", err.message);
	arr = all_entries();
	cr_assert_eq(json_object_array_length(arr), 1);
	doc = json_object_array_get_idx(arr, 0);
	cr_expect(json_object_object_get_ex(doc, "user_id", &v) && v == NULL,
	    "user_id stored as null");
	cr_expect(json_object_object_get_ex(doc, "resource_id", &v) && v == NULL,
	    "resource_id stored as null");
	v = json_object_object_get(doc, "details");
	cr_expect(json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(doc, "severity")),
	    "medium");
	json_object_put(arr);
}

Test(audit, long_user_agent_is_truncated)
{
	struct cx_error err = { 0 };
	char ua[2000];
	struct cx_audit_entry e = {
		.action = "login", .resource = "auth", .ip_address = "::1", .user_agent = ua,
		.severity = CX_SEV_LOW,
	};
	json_object *arr;
	const char *got;

	/* 'a' then two-byte characters, so byte 512 falls inside a UTF-8 sequence. */
	ua[0] = 'a';
	for (size_t i = 1; i + 2 < sizeof(ua); i += 2) {
		ua[i] = (char)0xc3;
		ua[i + 1] = (char)0xa9;
	}
	ua[sizeof(ua) - 1] = '\0';
	ua[sizeof(ua) - 2] = 'z';
	cr_assert_eq(cx_audit_write(store, &e, &err), CX_OK, "%s", err.message);
	arr = all_entries();
	got = json_object_get_string(json_object_object_get(json_object_array_get_idx(arr, 0),
	    "user_agent"));
	cr_assert_not_null(got);
	cr_expect_leq(strlen(got), 512);
	cr_expect_geq(strlen(got), 510);
	cr_expect_eq(strncmp(got, ua, strlen(got)), 0);
	cr_expect_neq((unsigned char)got[strlen(got) - 1], 0xc3, "no half character at the end");
	json_object_put(arr);
}

Test(audit, severity_names)
{
	static const struct { enum cx_severity sev; const char *name; } want[] = {
		{ CX_SEV_LOW, "low" }, { CX_SEV_MEDIUM, "medium" },
		{ CX_SEV_HIGH, "high" }, { CX_SEV_CRITICAL, "critical" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_str_eq(cx_severity_name(want[i].sev), want[i].name);
}

Test(audit, several_entries_each_with_own_severity)
{
	static const enum cx_severity sevs[] = { CX_SEV_LOW, CX_SEV_CRITICAL, CX_SEV_MEDIUM };
	json_object *arr;
	int64_t n = 0;
	struct cx_filter *f;
	struct cx_error err = { 0 };

	for (size_t i = 0; i < sizeof(sevs) / sizeof(sevs[0]); i++) {
		struct cx_audit_entry e = {
			.user_id = "65a1b2c3d4e5f60718293a4b", .action = "login",
			.resource = "auth",
			.ip_address = "10.0.0.1", .user_agent = "t", .severity = sevs[i],
		};
		cr_assert_eq(cx_audit_write(store, &e, &err), CX_OK, "%s", err.message);
	}
	arr = all_entries();
	cr_expect_eq(json_object_array_length(arr), 3);
	json_object_put(arr);
	f = cx_filter_eq_str(cx_filter_new(), "severity", "critical");
	cr_assert_eq(cx_store_count(store, "audit_logs", f, &n, &err), CX_OK, "%s", err.message);
	cr_expect_eq(n, 1);
	cx_filter_free(f);
}

Test(audit, missing_action_is_internal_and_details_consumed)
{
	struct cx_error err = { 0 };
	struct cx_audit_entry e = {
		.resource = "auth", .details = json_object_new_object(), .severity = CX_SEV_LOW,
	};

	/* details is released even on failure (LeakSanitizer reports it otherwise). */
	cr_expect_eq(cx_audit_write(store, &e, &err), CX_EINTERNAL);
}
