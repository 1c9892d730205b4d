/* Unit tests of cx_sqlite_vfs: what a connection through the "cx-wal" VFS commits is
 * what a plain connection (the default VFS) reads, through spills, rollbacks, a second
 * writer and crashes. Each test works in a fresh mkdtemp folder. */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cx_sqlite_vfs.h"

#define BODY_MAX 3072

static char dir[64];
static char db_path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cx-vfs-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp");
	snprintf(db_path, sizeof(db_path), "%s/test.db", dir);
	cr_assert_eq(cx_sqlite_vfs_register(), SQLITE_OK);
}

static void
teardown(void)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

TestSuite(sqlite_vfs, .init = setup, .fini = teardown);

static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The body of row id in generation gen: 1 to 3 KB of text, the same every time. */
static int
body_of(int64_t id, int gen, char *out)
{
	uint64_t x = ((uint64_t)id + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)gen << 40 | 1);
	int len, i;

	for (i = 0; i < 4; i++)
		next_random(&x);
	len = 1024 + (int)(next_random(&x) % (BODY_MAX - 1024 + 1));
	for (i = 0; i < len; i++)
		out[i] = (char)(' ' + next_random(&x) % 95);
	return len;
}

/* Child processes report failure by exit status: Criterion's asserts belong to the test
 * process. */
static int
try_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void
exec(sqlite3 *db, const char *sql)
{
	int rc = try_exec(db, sql);

	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
}

static int
try_open(const char *path, int shim, sqlite3 **out)
{
	sqlite3_vfs *vfs = NULL;
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    shim ? CX_SQLITE_VFS : NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 10000);
	if (rc == SQLITE_OK)
		rc = try_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
	if (rc == SQLITE_OK)
		rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs);
	if (rc == SQLITE_OK && (vfs == NULL ||
	    strcmp(vfs->zName, shim ? CX_SQLITE_VFS : sqlite3_vfs_find(NULL)->zName) != 0))
		rc = SQLITE_MISUSE;
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return SQLITE_OK;
}

static sqlite3 *
open_db(int shim)
{
	sqlite3 *db = NULL;
	int rc = try_open(db_path, shim, &db);

	cr_assert_eq(rc, SQLITE_OK, "open %s (%s): %s", db_path, shim ? "shim" : "plain",
	    sqlite3_errstr(rc));
	return db;
}

static void
close_db(sqlite3 *db)
{
	cr_assert_eq(sqlite3_close(db), SQLITE_OK, "close: %s", sqlite3_errmsg(db));
}

/* Inserts rows first..first+n-1 of generation gen inside the caller's transaction. */
static int
try_insert(sqlite3 *db, int64_t first, int64_t n, int gen)
{
	sqlite3_stmt *st = NULL;
	char body[BODY_MAX];
	int64_t id;
	int rc;

	rc = sqlite3_prepare_v2(db, "INSERT INTO t(id, body) VALUES (?, ?)", -1, &st, NULL);
	for (id = first; rc == SQLITE_OK && id < first + n; id++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, body, body_of(id, gen, body), SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static void
insert(sqlite3 *db, int64_t first, int64_t n, int gen)
{
	int rc = try_insert(db, first, n, gen);

	cr_assert_eq(rc, SQLITE_OK, "insert: %s", sqlite3_errmsg(db));
}

static void
commit_rows(sqlite3 *db, int64_t first, int64_t n, int gen)
{
	exec(db, "BEGIN IMMEDIATE");
	insert(db, first, n, gen);
	exec(db, "COMMIT");
}

static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	cr_assert_eq(rc, SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The table holds exactly rows 0..n-1 of generation gen. */
static void
check_rows(sqlite3 *db, int64_t n, int gen)
{
	sqlite3_stmt *st = NULL;
	char body[BODY_MAX];
	int64_t want = 0;
	int rc, len;

	rc = sqlite3_prepare_v2(db, "SELECT id, body FROM t ORDER BY id", -1, &st, NULL);
	cr_assert_eq(rc, SQLITE_OK, "select: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cr_assert_eq(sqlite3_column_int64(st, 0), want, "row ids: %lld where %lld belongs",
		    (long long)sqlite3_column_int64(st, 0), (long long)want);
		len = body_of(want, gen, body);
		cr_assert_eq(sqlite3_column_bytes(st, 1), len, "row %lld: length", (long long)want);
		cr_assert(memcmp(sqlite3_column_text(st, 1), body, (size_t)len) == 0,
		    "row %lld: body differs", (long long)want);
		want++;
	}
	cr_assert_eq(rc, SQLITE_DONE, "select: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	cr_assert_eq(want, n, "%lld rows, %lld expected", (long long)want, (long long)n);
}

static void
check_integrity(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	cr_assert_eq(rc, SQLITE_OK, "integrity_check: %s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "integrity_check: %s", sqlite3_errmsg(db));
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

Test(sqlite_vfs, registers_once_and_not_as_default)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(CX_SQLITE_VFS);

	cr_assert_not_null(vfs);
	cr_assert_eq(cx_sqlite_vfs_register(), SQLITE_OK);
	cr_assert_eq(sqlite3_vfs_find(CX_SQLITE_VFS), vfs);
	cr_assert_neq(sqlite3_vfs_find(NULL), vfs);
}

Test(sqlite_vfs, failed_open_is_reported)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2("/nonexistent-cx-dir/x.db", &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, CX_SQLITE_VFS);
	cr_assert_eq(rc, SQLITE_CANTOPEN);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

/* Transactions that spill write many frames; a plain reader holding a snapshot keeps
 * it while they commit, then reads every row back. */
Test(sqlite_vfs, plain_connection_reads_every_committed_row)
{
	sqlite3 *w = open_db(1), *r = open_db(0);
	int64_t n = 0;
	int round;

	exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
	for (round = 0; round < 4; round++) {
		exec(r, "BEGIN");
		cr_assert_eq(query_int(r, "SELECT count(*) FROM t"), n);
		commit_rows(w, n, 2000, 0);
		cr_assert_eq(query_int(r, "SELECT count(*) FROM t"), n, "snapshot moved");
		exec(r, "COMMIT");
		n += 2000;
		check_rows(r, n, 0);
	}
	check_rows(w, n, 0);
	check_integrity(r);
	check_integrity(w);
	close_db(w);
	close_db(r);
}

/* A transaction that spilled frames into the log and rolled back leaves no trace. */
Test(sqlite_vfs, rolled_back_spill_is_not_seen)
{
	sqlite3 *w = open_db(1), *r = open_db(0);

	exec(w, "PRAGMA cache_size=10");
	exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
	commit_rows(w, 0, 100, 0);
	exec(w, "BEGIN IMMEDIATE");
	insert(w, 100, 1000, 1);
	cr_assert_eq(query_int(w, "SELECT count(*) FROM t"), 1100);
	cr_assert_eq(query_int(w, "SELECT count(*) FROM t WHERE id >= 100 AND "
	    "length(body) BETWEEN 1024 AND 3072"), 1000);
	check_rows(r, 100, 0);
	exec(w, "ROLLBACK");
	commit_rows(w, 100, 300, 0);
	check_rows(r, 400, 0);
	check_rows(w, 400, 0);
	check_integrity(r);
	check_integrity(w);
	close_db(w);
	close_db(r);
}

/* After a rollback the next writer (here a plain connection) puts its frames where the
 * rolled-back ones were: nothing the shim held back may land on them later. The log
 * starts empty, so the rollback reads nothing back from it (a read would write out what
 * is held back). */
Test(sqlite_vfs, rollback_leaves_nothing_for_later)
{
	sqlite3 *w = open_db(1), *p = open_db(0), *fresh;

	exec(w, "PRAGMA cache_size=10");
	exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
	commit_rows(w, 0, 50, 0);
	exec(w, "PRAGMA wal_checkpoint(TRUNCATE)");
	exec(w, "BEGIN IMMEDIATE");
	insert(w, 50, 500, 1);
	exec(w, "ROLLBACK");
	commit_rows(p, 50, 500, 0);
	check_rows(w, 550, 0);
	commit_rows(w, 550, 200, 0);
	fresh = open_db(0);
	check_rows(fresh, 750, 0);
	check_integrity(fresh);
	close_db(fresh);
	close_db(w);
	close_db(p);
}

/* A spilling transaction that changes pages it already wrote to the log: SQLite
 * overwrites those frames and, after the commit frame, rewrites the checksums up to
 * and including the commit frame's header. The process dies right after COMMIT, so a
 * recovery (which checks every checksum) rebuilds the index from the file alone. */
static void
rewrite_and_die(void)
{
	sqlite3_stmt *st = NULL;
	char body[BODY_MAX];
	sqlite3 *db = NULL;
	int64_t id;
	int rc;

	rc = try_open(db_path, 1, &db);
	if (rc == SQLITE_OK)
		rc = try_exec(db, "PRAGMA cache_size=10; "
		    "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL); BEGIN");
	if (rc == SQLITE_OK)
		rc = try_insert(db, 0, 300, 1);
	if (rc == SQLITE_OK)
		rc = try_exec(db, "COMMIT; BEGIN");
	if (rc == SQLITE_OK)
		rc = try_insert(db, 300, 300, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "UPDATE t SET body = ? WHERE id = ?", -1, &st, NULL);
	for (id = 0; rc == SQLITE_OK && id < 600; id++) {
		sqlite3_bind_text(st, 1, body, body_of(id, 2, body), SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = try_exec(db, "COMMIT");
	if (rc == SQLITE_OK)
		kill(getpid(), SIGKILL);
	_exit(rc == SQLITE_OK ? 0 : 10 + (rc & 0xff));
}

Test(sqlite_vfs, commit_survives_a_crash_right_after_it)
{
	sqlite3 *db;
	pid_t pid;
	int status;

	pid = fork();
	cr_assert_neq(pid, -1, "fork");
	if (pid == 0)
		rewrite_and_die();
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child ended with status %d", status);
	db = open_db(0);
	check_integrity(db);
	check_rows(db, 600, 2);
	close_db(db);
}

/* Commits transactions until killed: each adds rows n..n+k-1 and sets counter.n to n+k,
 * then reports n+k on fd. Gives up (exit status) on any error. */
static void
commit_until_killed(int fd, int cache_pages, unsigned seed)
{
	sqlite3_stmt *st = NULL;
	char sql[64];
	sqlite3 *db = NULL;
	int64_t n = 0;
	uint64_t x = seed | 1;
	int rc;

	rc = try_open(db_path, 1, &db);
	if (rc == SQLITE_OK && cache_pages > 0) {
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=%d", cache_pages);
		rc = try_exec(db, sql);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT n FROM counter", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	while (rc == SQLITE_OK) {
		int64_t k = 1 + (int64_t)(next_random(&x) % 60);

		rc = try_exec(db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = try_insert(db, n, k, 3);
		snprintf(sql, sizeof(sql), "UPDATE counter SET n = %lld", (long long)(n + k));
		if (rc == SQLITE_OK)
			rc = try_exec(db, sql);
		if (rc == SQLITE_OK)
			rc = try_exec(db, "COMMIT");
		if (rc == SQLITE_OK) {
			n += k;
			if (write(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
				_exit(3);
		}
	}
	_exit(10 + (rc & 0xff));
}

Test(sqlite_vfs, killed_writer_leaves_whole_transactions)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int64_t reported = 0, got, counter;
	sqlite3 *db;
	int round;

	db = open_db(0);
	exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL); "
	    "CREATE TABLE counter(n INTEGER NOT NULL); INSERT INTO counter VALUES (0)");
	close_db(db);
	srand(seed);
	for (round = 0; round < 8; round++) {
		long delay_ms = 5 + round * 15 + rand() % 40;
		struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
		int fds[2], status;
		pid_t pid;

		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert_neq(pid, -1, "fork");
		if (pid == 0) {
			close(fds[0]);
			commit_until_killed(fds[1], round % 2 ? 10 : 0, seed + (unsigned)round);
		}
		close(fds[1]);
		/* Most rounds start the clock at the first commit, so that a slow start (as
		 * under valgrind) still leaves time to commit; the others may kill the
		 * writer before it has done anything. */
		if (round % 3 != 0 && read(fds[0], &got, sizeof(got)) == (ssize_t)sizeof(got))
			reported = got;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "seed %u round %d: writer gave up with status %d",
		    seed, round, WIFEXITED(status) ? WEXITSTATUS(status) : status);
		while (read(fds[0], &got, sizeof(got)) == (ssize_t)sizeof(got))
			reported = got;
		close(fds[0]);

		db = open_db(0);
		check_integrity(db);
		counter = query_int(db, "SELECT n FROM counter");
		cr_assert_geq(counter, reported, "seed %u round %d: a committed transaction "
		    "was lost (%lld < %lld)", seed, round, (long long)counter, (long long)reported);
		check_rows(db, counter, 3);
		close_db(db);
	}
	cr_assert_gt(reported, 0, "seed %u: the writer never committed", seed);
}
