// Linux file-system calls that Swift's Glibc module does not import (GNU extensions).
// On other systems they report "not supported" so callers take their portable path.
#ifndef CFILESYSTEM_H
#define CFILESYSTEM_H

/// The `O_DIRECT` open flag, or 0 where there is none.
int cfs_direct_flag(void);

/// The file system type (`statfs` f_type) of the file open as `fd`, or -1.
long cfs_filesystem_type(int fd);

/// Starts writeback of every dirty page of `fd` without waiting (`sync_file_range`
/// with SYNC_FILE_RANGE_WRITE); 0 on success, -1 with errno set otherwise.
int cfs_start_writeback(int fd);

/// Flushes the whole file system holding `fd` to disk (`syncfs`, or `fsync` elsewhere);
/// 0 on success, -1 with errno set otherwise.
int cfs_syncfs(int fd);

#endif
