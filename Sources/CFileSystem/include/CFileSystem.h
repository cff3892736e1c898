// Linux file-system calls that Swift's Glibc module does not import (GNU extensions),
// with a portable fallback or a "not supported" error elsewhere.
#ifndef CFILESYSTEM_H
#define CFILESYSTEM_H

/// Starts writeback of every dirty page of `fd` without waiting (`sync_file_range`
/// with SYNC_FILE_RANGE_WRITE); 0 on success, -1 with errno set otherwise.
int cfs_start_writeback(int fd);

/// Starts writeback of the dirty pages of bytes `offset..<offset+length` of `fd` without
/// waiting (`sync_file_range` with SYNC_FILE_RANGE_WRITE); 0 on success, -1 with errno set.
int cfs_start_writeback_range(int fd, long long offset, long long length);

/// Flushes the whole file system holding `fd` to disk (`syncfs`, or `fsync` elsewhere);
/// 0 on success, -1 with errno set otherwise.
int cfs_syncfs(int fd);

#endif
