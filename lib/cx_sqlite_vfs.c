/* The "cx-wal" VFS: the default VFS, except that a connection's writes to its WAL file
 * are gathered and handed on in writes of up to 64 KiB (BUF_MAX) instead of two per page.
 *
 * SQLite writes each WAL frame with two writes (its 24-byte header, then the page), and
 * a transaction's frames follow one another in the file, so the gathered writes are one
 * run of bytes: an append to that run is copied into the buffer; any other write, and
 * any other call on the WAL file, first writes the buffer out (one xWrite of the wrapped
 * file at the run's offset), which keeps the file's writes in SQLite's order.
 *
 * When the buffer must be in the file:
 *   - A transaction commits by writing a frame whose header (bytes 4..7) holds the new
 *     database size. The write of that frame's page writes the buffer out before it
 *     returns, with its error as the write's error; sqlite3WalFrames publishes the new
 *     wal-index header only after that, so a reader (or a recovery after a crash, which
 *     checks every frame's checksum) never meets a committed frame that is not written.
 *   - A commit header that does not extend the buffer is written out at once. That
 *     covers the commit header SQLite rewrites after the commit frame (walRewriteChecksums
 *     fixes the checksums of frames a spilling transaction overwrote): no page follows
 *     it, and it comes right after a read of the frame, which left the buffer empty.
 *   - The wal-index locks and barrier are calls on the database file, not on the WAL
 *     file, so the database file of each WAL (sqlite3_database_file_object) writes the
 *     WAL's buffer out before its xShmLock, xShmBarrier and xShmUnmap. A rolled-back
 *     transaction's spilled frames thus reach the file before the connection lets go of
 *     the write lock, never later over frames another writer put at the same offsets.
 *
 * A failed write-out drops the buffer: SQLite abandons a transaction whose write
 * failed, and writing those bytes later could land on frames of another writer. A
 * failure no caller can be told of (xShmBarrier returns nothing; an xShmLock on the
 * database file is about locks) is kept and returned by the WAL file's next call. */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <string.h>

#include "cx_sqlite_vfs.h"

#define FRAME_HDR_SIZE 24
/* The buffer's size, so the most one write hands on: SQLite's largest page, the most it
 * writes at once itself, so what every VFS takes. (The unix VFS cuts a write of 128 KiB
 * or more short: seekAndWriteFd keeps the low 17 bits of the length.) A transaction
 * longer than this is written in pieces of this size. */
#define BUF_MAX 65536

struct vfs_file {
	sqlite3_file base;             /* pMethods points at methods below */
	sqlite3_io_methods methods;    /* our methods, cut down to what real has */
	sqlite3_file *real;            /* the wrapped VFS's file, stored after this struct */
	struct vfs_file *wal;          /* database file: its pager's WAL file, if open */
	struct vfs_file *db;           /* WAL file: its pager's database file */
	unsigned char *buf;            /* WAL file: writes not handed on yet */
	sqlite3_int64 buf_off;         /* file offset of buf[0] */
	size_t buf_len;                /* at most BUF_MAX */
	int commit_hdr;                /* the last write was a commit frame's header */
	int deferred_rc;               /* a write-out error not returned yet */
};

/* Where the wrapped file starts: SQLite aligns its files to 8 bytes. */
#define REAL_OFFSET ((sizeof(struct vfs_file) + 7) & ~(size_t)7)

static sqlite3_vfs cx_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

static sqlite3_vfs *
real_vfs(sqlite3_vfs *vfs)
{
	return vfs->pAppData;
}

static sqlite3_file *
real_file(sqlite3_file *file)
{
	return ((struct vfs_file *)file)->real;
}

/* Forwarding methods: files other than WAL files use these (database files with the
 * few db_ ones below in place of theirs). */

static int
fwd_close(sqlite3_file *file)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xClose(r);
}

static int
fwd_read(sqlite3_file *file, void *data, int n, sqlite3_int64 off)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xRead(r, data, n, off);
}

static int
fwd_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xWrite(r, data, n, off);
}

static int
fwd_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xTruncate(r, size);
}

static int
fwd_sync(sqlite3_file *file, int flags)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xSync(r, flags);
}

static int
fwd_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xFileSize(r, size);
}

static int
fwd_lock(sqlite3_file *file, int level)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xLock(r, level);
}

static int
fwd_unlock(sqlite3_file *file, int level)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xUnlock(r, level);
}

static int
fwd_check_reserved_lock(sqlite3_file *file, int *out)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xCheckReservedLock(r, out);
}

static int
fwd_file_control(sqlite3_file *file, int op, void *arg)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xFileControl(r, op, arg);
}

static int
fwd_sector_size(sqlite3_file *file)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xSectorSize(r);
}

static int
fwd_device_characteristics(sqlite3_file *file)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xDeviceCharacteristics(r);
}

static int
fwd_shm_map(sqlite3_file *file, int page, int page_size, int extend, void volatile **out)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xShmMap(r, page, page_size, extend, out);
}

static int
fwd_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xShmLock(r, offset, n, flags);
}

static void
fwd_shm_barrier(sqlite3_file *file)
{
	sqlite3_file *r = real_file(file);

	r->pMethods->xShmBarrier(r);
}

static int
fwd_shm_unmap(sqlite3_file *file, int delete_flag)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xShmUnmap(r, delete_flag);
}

static int
fwd_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xFetch(r, off, n, out);
}

static int
fwd_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	sqlite3_file *r = real_file(file);

	return r->pMethods->xUnfetch(r, off, p);
}

/* The WAL file's buffer. */

/* Hands the buffer on in one write; returns its error, or an earlier one kept back. */
static int
wal_flush(struct vfs_file *w)
{
	int rc = w->deferred_rc;
	int wrc;

	w->deferred_rc = SQLITE_OK;
	w->commit_hdr = 0;
	if (w->buf_len == 0)
		return rc;
	wrc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->buf_len, w->buf_off);
	w->buf_len = 0;   /* dropped on failure too: see the top of the file */
	return rc != SQLITE_OK ? rc : wrc;
}

/* The same, for callers that cannot return the error: the next WAL call will. */
static void
wal_flush_deferred(struct vfs_file *w)
{
	int rc;

	if (w->buf_len == 0)
		return;
	rc = wal_flush(w);
	if (rc != SQLITE_OK)
		w->deferred_rc = rc;
}

/* Room for n more bytes; 0 when there is none (then the caller writes through). */
static int
wal_reserve(struct vfs_file *w, size_t n)
{
	if (w->buf == NULL && (w->buf = sqlite3_malloc64(BUF_MAX)) == NULL)
		return 0;
	return w->buf_len + n <= BUF_MAX;
}

/* A frame header whose database-size field is set ends a transaction. */
static int
is_commit_header(const unsigned char *p, int n)
{
	return n == FRAME_HDR_SIZE && (p[4] | p[5] | p[6] | p[7]) != 0;
}

static int
wal_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
	struct vfs_file *w = (struct vfs_file *)file;
	int after_commit_hdr = w->commit_hdr;
	int extends;
	int rc;

	w->commit_hdr = 0;
	if (w->deferred_rc != SQLITE_OK || (w->buf_len > 0 &&
	    (off != w->buf_off + (sqlite3_int64)w->buf_len ||
	    w->buf_len + (size_t)n > BUF_MAX))) {
		rc = wal_flush(w);
		if (rc != SQLITE_OK)
			return rc;
	}
	extends = w->buf_len > 0;
	if (n <= 0 || !wal_reserve(w, (size_t)n)) {
		rc = wal_flush(w);
		if (rc != SQLITE_OK)
			return rc;
		return w->real->pMethods->xWrite(w->real, data, n, off);
	}
	if (w->buf_len == 0)
		w->buf_off = off;
	memcpy(w->buf + w->buf_len, data, (size_t)n);
	w->buf_len += (size_t)n;
	if (after_commit_hdr)
		return wal_flush(w);
	if (is_commit_header(data, n)) {
		if (!extends)
			return wal_flush(w);
		w->commit_hdr = 1;
	}
	return SQLITE_OK;
}

static int
wal_close(sqlite3_file *file)
{
	struct vfs_file *w = (struct vfs_file *)file;
	int rc = wal_flush(w);
	int crc = w->real->pMethods->xClose(w->real);

	if (w->db != NULL)
		w->db->wal = NULL;
	w->db = NULL;
	sqlite3_free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : crc;
}

static int
wal_read(sqlite3_file *file, void *data, int n, sqlite3_int64 off)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_read(file, data, n, off);
}

static int
wal_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_truncate(file, size);
}

static int
wal_sync(sqlite3_file *file, int flags)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_sync(file, flags);
}

static int
wal_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_file_size(file, size);
}

static int
wal_lock(sqlite3_file *file, int level)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_lock(file, level);
}

static int
wal_unlock(sqlite3_file *file, int level)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_unlock(file, level);
}

static int
wal_check_reserved_lock(sqlite3_file *file, int *out)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_check_reserved_lock(file, out);
}

static int
wal_file_control(sqlite3_file *file, int op, void *arg)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_file_control(file, op, arg);
}

/* xSectorSize and xDeviceCharacteristics describe the device, not the bytes in the
 * file, and have no way to return an error: they are forwarded without a write-out. */

static int
wal_shm_map(sqlite3_file *file, int page, int page_size, int extend, void volatile **out)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_shm_map(file, page, page_size, extend, out);
}

static int
wal_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_shm_lock(file, offset, n, flags);
}

static void
wal_shm_barrier(sqlite3_file *file)
{
	wal_flush_deferred((struct vfs_file *)file);
	fwd_shm_barrier(file);
}

static int
wal_shm_unmap(sqlite3_file *file, int delete_flag)
{
	int rc = wal_flush((struct vfs_file *)file);

	return rc != SQLITE_OK ? rc : fwd_shm_unmap(file, delete_flag);
}

static int
wal_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
	int rc = wal_flush((struct vfs_file *)file);

	if (rc != SQLITE_OK) {
		*out = NULL;
		return rc;
	}
	return fwd_fetch(file, off, n, out);
}

static int
wal_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	int rc = wal_flush((struct vfs_file *)file);
	int urc = fwd_unfetch(file, off, p);   /* a mapping is released whatever happens */

	return rc != SQLITE_OK ? rc : urc;
}

/* The database file: the wal-index calls go through it, so it writes its WAL's buffer
 * out before each of them. */

static int
db_close(sqlite3_file *file)
{
	struct vfs_file *f = (struct vfs_file *)file;

	if (f->wal != NULL)
		f->wal->db = NULL;
	f->wal = NULL;
	return fwd_close(file);
}

static int
db_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct vfs_file *f = (struct vfs_file *)file;

	if (f->wal != NULL)
		wal_flush_deferred(f->wal);
	return fwd_shm_lock(file, offset, n, flags);
}

static void
db_shm_barrier(sqlite3_file *file)
{
	struct vfs_file *f = (struct vfs_file *)file;

	if (f->wal != NULL)
		wal_flush_deferred(f->wal);
	fwd_shm_barrier(file);
}

static int
db_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct vfs_file *f = (struct vfs_file *)file;

	if (f->wal != NULL)
		wal_flush_deferred(f->wal);
	return fwd_shm_unmap(file, delete_flag);
}

static const sqlite3_io_methods plain_methods = {
	3, fwd_close, fwd_read, fwd_write, fwd_truncate, fwd_sync, fwd_file_size,
	fwd_lock, fwd_unlock, fwd_check_reserved_lock, fwd_file_control, fwd_sector_size,
	fwd_device_characteristics, fwd_shm_map, fwd_shm_lock, fwd_shm_barrier,
	fwd_shm_unmap, fwd_fetch, fwd_unfetch,
};

static const sqlite3_io_methods db_methods = {
	3, db_close, fwd_read, fwd_write, fwd_truncate, fwd_sync, fwd_file_size,
	fwd_lock, fwd_unlock, fwd_check_reserved_lock, fwd_file_control, fwd_sector_size,
	fwd_device_characteristics, fwd_shm_map, db_shm_lock, db_shm_barrier,
	db_shm_unmap, fwd_fetch, fwd_unfetch,
};

static const sqlite3_io_methods wal_methods = {
	3, wal_close, wal_read, wal_write, wal_truncate, wal_sync, wal_file_size,
	wal_lock, wal_unlock, wal_check_reserved_lock, wal_file_control, fwd_sector_size,
	fwd_device_characteristics, wal_shm_map, wal_shm_lock, wal_shm_barrier,
	wal_shm_unmap, wal_fetch, wal_unfetch,
};

/* Our methods for a file whose wrapped methods are real: the same version, and no
 * method the wrapped file lacks, so SQLite asks of us only what it could ask of it
 * (it decides, for one, whether WAL is possible from xShmMap being there). */
static void
set_methods(struct vfs_file *f, const sqlite3_io_methods *ours,
    const sqlite3_io_methods *real)
{
	f->methods = *ours;
	f->methods.iVersion = real->iVersion < 3 ? real->iVersion : 3;
	if (real->iVersion < 2 || real->xShmMap == NULL) {
		f->methods.xShmMap = NULL;
		f->methods.xShmLock = NULL;
		f->methods.xShmBarrier = NULL;
		f->methods.xShmUnmap = NULL;
	}
	if (real->iVersion < 3 || real->xFetch == NULL) {
		f->methods.xFetch = NULL;
		f->methods.xUnfetch = NULL;
	}
	f->base.pMethods = &f->methods;
}

/* Pairs a WAL file with its pager's database file, the one the wal-index calls go to.
 * Only a pager opens WAL files, with a name sqlite3_database_file_object reads. */
static void
link_database(struct vfs_file *w, sqlite3_filename name)
{
	sqlite3_file *file = sqlite3_database_file_object(name);
	struct vfs_file *db;

	if (file == NULL || file->pMethods == NULL || file->pMethods->xClose != db_close)
		return;
	db = (struct vfs_file *)file;
	if (db->wal != NULL)
		return;
	db->wal = w;
	w->db = db;
}

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
    int *out_flags)
{
	sqlite3_vfs *real = real_vfs(vfs);
	struct vfs_file *f = (struct vfs_file *)file;
	const sqlite3_io_methods *ours;
	int rc;

	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)f + REAL_OFFSET);
	rc = real->xOpen(real, name, f->real, flags, out_flags);
	if (f->real->pMethods == NULL)
		return rc;   /* f->base.pMethods stays NULL: nothing to close */
	if (flags & SQLITE_OPEN_WAL)
		ours = &wal_methods;
	else if (flags & SQLITE_OPEN_MAIN_DB)
		ours = &db_methods;
	else
		ours = &plain_methods;
	set_methods(f, ours, f->real->pMethods);
	if (rc == SQLITE_OK && ours == &wal_methods && name != NULL)
		link_database(f, name);
	return rc;
}

/* The VFS's other methods are the wrapped VFS's. */

static int
vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}

static int
vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}

static int
vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}

static void *
vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return real_vfs(vfs)->xDlOpen(real_vfs(vfs), name);
}

static void
vfs_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	real_vfs(vfs)->xDlError(real_vfs(vfs), n, out);
}

typedef void (*dl_symbol)(void);

static dl_symbol
vfs_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol)
{
	return real_vfs(vfs)->xDlSym(real_vfs(vfs), handle, symbol);
}

static void
vfs_dl_close(sqlite3_vfs *vfs, void *handle)
{
	real_vfs(vfs)->xDlClose(real_vfs(vfs), handle);
}

static int
vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
}

static int
vfs_sleep(sqlite3_vfs *vfs, int microseconds)
{
	return real_vfs(vfs)->xSleep(real_vfs(vfs), microseconds);
}

static int
vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
}

static int
vfs_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out);
}

static int
vfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
}

static int
vfs_set_system_call(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr call)
{
	return real_vfs(vfs)->xSetSystemCall(real_vfs(vfs), name, call);
}

static sqlite3_syscall_ptr
vfs_get_system_call(sqlite3_vfs *vfs, const char *name)
{
	return real_vfs(vfs)->xGetSystemCall(real_vfs(vfs), name);
}

static const char *
vfs_next_system_call(sqlite3_vfs *vfs, const char *name)
{
	return real_vfs(vfs)->xNextSystemCall(real_vfs(vfs), name);
}

static void
register_vfs(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	if (real == NULL)
		return;   /* register_rc stays SQLITE_ERROR */
	cx_vfs.iVersion = real->iVersion < 3 ? real->iVersion : 3;
	cx_vfs.szOsFile = (int)REAL_OFFSET + real->szOsFile;
	cx_vfs.mxPathname = real->mxPathname;
	cx_vfs.zName = CX_SQLITE_VFS;
	cx_vfs.pAppData = real;
	/* A method the wrapped VFS lacks stays NULL here too, for SQLite checks for that. */
	cx_vfs.xOpen = vfs_open;
	cx_vfs.xDelete = real->xDelete ? vfs_delete : NULL;
	cx_vfs.xAccess = real->xAccess ? vfs_access : NULL;
	cx_vfs.xFullPathname = real->xFullPathname ? vfs_full_pathname : NULL;
	cx_vfs.xDlOpen = real->xDlOpen ? vfs_dl_open : NULL;
	cx_vfs.xDlError = real->xDlError ? vfs_dl_error : NULL;
	cx_vfs.xDlSym = real->xDlSym ? vfs_dl_sym : NULL;
	cx_vfs.xDlClose = real->xDlClose ? vfs_dl_close : NULL;
	cx_vfs.xRandomness = real->xRandomness ? vfs_randomness : NULL;
	cx_vfs.xSleep = real->xSleep ? vfs_sleep : NULL;
	cx_vfs.xCurrentTime = real->xCurrentTime ? vfs_current_time : NULL;
	cx_vfs.xGetLastError = real->xGetLastError ? vfs_get_last_error : NULL;
	if (real->iVersion >= 2 && real->xCurrentTimeInt64 != NULL)
		cx_vfs.xCurrentTimeInt64 = vfs_current_time_int64;
	if (real->iVersion >= 3 && real->xSetSystemCall != NULL)
		cx_vfs.xSetSystemCall = vfs_set_system_call;
	if (real->iVersion >= 3 && real->xGetSystemCall != NULL)
		cx_vfs.xGetSystemCall = vfs_get_system_call;
	if (real->iVersion >= 3 && real->xNextSystemCall != NULL)
		cx_vfs.xNextSystemCall = vfs_next_system_call;
	register_rc = sqlite3_vfs_register(&cx_vfs, 0);
}

int
cx_sqlite_vfs_register(void)
{
	if (pthread_once(&register_once, register_vfs) != 0)
		return SQLITE_ERROR;
	return register_rc;
}
