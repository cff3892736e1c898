import CFileSystem
import Foundation
import Zarr

/// What happens to frame files after they are written: their page cache is given back, and
/// their file system is synced before the image refs that point at them are committed.
///
/// Used by the one thread that stores frames (``FramePublisher``); ``syncFileSystem(of:)``
/// by the committer's sync thread.
final class Writeback {
    /// A frame whose page cache is given back ``cachedFrames`` frames later: a chunk file,
    /// or a byte range of a shard.
    enum CachedFrame {
        case file(String)
        case shard(ShardAppender, Range<Int>)
    }

    /// Frames a chunk file's pages stay cached after it is written: by then its writeback,
    /// started when it was written, is long done.
    static let cachedFrames = 32

    /// Frames written whose page-cache pages are still to be given back (oldest first).
    private var cached: [CachedFrame] = []
    private var cachedHead = 0

    /// Remembers a frame just written and gives back the page cache of the one written
    /// ``cachedFrames`` before (`POSIX_FADV_DONTNEED`; pages still dirty stay). A detector
    /// writes far more than memory holds, so its frames would push everything else out of
    /// the cache; and pages handed back are reused at once for the next frames, which is
    /// cheaper than filling fresh ones (docs/benchmarks.md, "Figures behind the writer's constants"). A reader asking
    /// for these frames later reads them from disk.
    func release(_ frame: CachedFrame) {
        cached.append(frame)
        guard cached.count - cachedHead > Self.cachedFrames else { return }
        let old = cached[cachedHead]
        cachedHead += 1
        if cachedHead >= 64 {
            cached.removeFirst(cachedHead)
            cachedHead = 0
        }
        switch old {
        case .shard(let shard, let range):
            shard.releaseCache(range)
        case .file(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
            close(fd)
        }
    }

    /// Flushes everything written on the file system holding `path` to disk (`syncfs`):
    /// one call covers every chunk file and folder written since the last commit.
    static func syncFileSystem(of path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        // A store removed under the writer has nothing left to sync; its refs still commit.
        if fd < 0 && errno == ENOENT { return }
        guard fd >= 0 else { throw DatabaseFileError(path: path, problem: .storeUnusable(operation: "open", errno: errno)) }
        defer { close(fd) }
        guard cfs_syncfs(fd) == 0 else { throw DatabaseFileError(path: path, problem: .storeUnusable(operation: "syncfs", errno: errno)) }
    }
}
