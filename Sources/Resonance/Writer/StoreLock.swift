import Foundation

/// The one-writer-per-beamtime lock: an exclusive `flock` on the Zarr store's folder.
///
/// The folder, not the .db file, carries the lock: a second descriptor on the database
/// file would drop SQLite's own POSIX locks when closed. The kernel releases the lock
/// when the process dies, so a killed writer never leaves a stale lock behind.
final class StoreLock {
    private let descriptor: Int32

    init(storePath: String, dbPath: String) throws {
        descriptor = Foundation.open(storePath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DatabaseFileError(path: storePath, problem: .storeUnusable(operation: "open", errno: errno))
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            Foundation.close(descriptor)
            if code == EWOULDBLOCK {
                throw DatabaseFileError(path: dbPath, problem: .lockedByAnotherWriter)
            }
            throw DatabaseFileError(path: storePath, problem: .lockFailed(errno: code))
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        Foundation.close(descriptor)
    }
}
