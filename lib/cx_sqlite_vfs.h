/* cx_sqlite_vfs: a SQLite VFS that writes WAL frames in 64 KiB writes, not two a page. */
#ifndef CX_SQLITE_VFS_H
#define CX_SQLITE_VFS_H

/* The name to pass as sqlite3_open_v2's zVfs. */
#define CX_SQLITE_VFS "cx-wal"

/* Registers the "cx-wal" VFS (not as the default) over the default VFS of the moment,
 * once per process: thread-safe, and later calls return the first call's result.
 * Returns SQLITE_OK or a SQLite error code.
 *
 * Files of the "cx-wal" VFS behave as the wrapped VFS's do, except that consecutive
 * writes to a WAL file are gathered in memory (up to 64 KiB) and handed on as one write:
 * at the end of each committed transaction (inside the write of its commit frame),
 * before any other call on the WAL file, and before the connection's next lock change
 * or barrier on the wal-index, so no other connection reads a frame that is not in the
 * file, and a commit that returned is in the file. WAL files must be opened by SQLite's
 * pager (they always are). */
int cx_sqlite_vfs_register(void);

#endif
