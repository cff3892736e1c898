import CFileSystem
import Dispatch
import Foundation
import Synchronization
import Zarr

/// How long a frame just written keeps its pages in the page cache before ``Writeback``
/// gives them back: readers of a live run (`resonance serve`, the web viewer, a Tiled
/// client) ask for the latest frames, and a frame whose pages were given back is read from
/// disk (issue #18: a random 2048x2048 frame 3.5 ms against 2.9 ms decode-only).
///
/// A frame keeps its pages while it is one of the last ``frames`` frames written, or while
/// it was written less than ``seconds`` ago *and* it and the frames after it hold at most
/// ``bytes`` bytes. Time, because a live reader sees a frame only once its image ref is
/// committed: the publishing thread's hand-off (up to 0.25 s for shards), the committer's
/// interval (1 s) and the sync before it put the latest frame a reader can see about a
/// second behind the writer, which is 32 frames at any speed above 30 frames/s. Bytes,
/// because a detector writes far more than memory holds: the pages kept are bounded
/// whatever the frame rate, and pages given back are reused for the next frames
/// (docs/benchmarks.md, "Figures behind the writer's constants").
package struct PageCacheWindow: Sendable, Equatable, CustomStringConvertible {
    /// Frames always kept, whatever their age and size: by the time a frame is this many
    /// frames old its writeback, started when it was written, is done, so giving back its
    /// pages drops them (dirty pages stay).
    package var frames: Int
    /// Age below which a frame keeps its pages (within ``bytes``).
    package var seconds: Double
    /// Most bytes of frames kept for their age (the last ``frames`` frames may hold more).
    package var bytes: Int

    package init(frames: Int, seconds: Double, bytes: Int) {
        self.frames = frames
        self.seconds = seconds
        self.bytes = bytes
    }

    /// The writer's window: the frames of the last 2 s, at most 512 MiB.
    package static let standard = PageCacheWindow(frames: 32, seconds: 2, bytes: 512 << 20)
    /// The window before 2026-12-02: the last 32 frames only (the live-reading benchmark's baseline).
    package static let lastFrames = PageCacheWindow(frames: 32, seconds: 0, bytes: 0)

    /// The window of the writers opened from now on: ``standard`` unless the live-reading
    /// benchmark sets another to compare them. Process-wide rather than a writer option, so
    /// that it stays out of the public ``RunWriter/Options``.
    package static var current: PageCacheWindow {
        get { currentWindow.withLock { $0 } }
        set { currentWindow.withLock { $0 = newValue } }
    }

    package var description: String {
        seconds == 0 && bytes == 0 ? "last \(frames) frames" : "last \(frames) frames, or \(seconds) s up to \(bytes >> 20) MiB"
    }
}

private let currentWindow = Mutex(PageCacheWindow.standard)

/// What happens to frame files after they are written: their page cache is given back once
/// they leave the ``PageCacheWindow``, and their file system is synced before the image refs
/// that point at them are committed.
///
/// Used by the one thread that stores frames (``FramePublisher``); ``syncFileSystem(of:)``
/// by the committer's sync thread.
final class Writeback {
    /// A frame whose page cache is given back once it leaves the window: a chunk file, or a
    /// byte range of a shard.
    enum CachedFrame {
        case file(String)
        case shard(ShardAppender, Range<Int>)
    }

    private struct Entry {
        var frame: CachedFrame
        var bytes: Int
        var written: UInt64
    }

    let window: PageCacheWindow
    /// Nanoseconds on a monotonic clock (tests pass their own).
    private let clock: () -> UInt64
    /// Gives back a frame's pages (tests pass their own to see which and when).
    private let handBack: (CachedFrame) -> Void

    /// Frames written whose pages are still to be given back (oldest first, from ``head``).
    private var cached: [Entry] = []
    private var head = 0
    /// Bytes of the frames from ``head`` on.
    private var cachedBytes = 0

    init(window: PageCacheWindow = .current,
         clock: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
         handBack: @escaping (CachedFrame) -> Void = Writeback.giveBack) {
        self.window = window
        self.clock = clock
        self.handBack = handBack
    }

    /// Frames whose pages are kept now.
    var cachedFrames: Int { cached.count - head }

    /// Remembers a frame just written (`bytes` long) and gives back the page cache of the
    /// frames that left the window (`POSIX_FADV_DONTNEED`; pages still dirty stay). A
    /// detector writes far more than memory holds, so its frames would push everything else
    /// out of the cache; and pages handed back are reused at once for the next frames, which
    /// is cheaper than filling fresh ones (docs/benchmarks.md, "Figures behind the writer's
    /// constants"). A reader asking for a frame after that reads it from disk.
    func release(_ frame: CachedFrame, bytes: Int) {
        let now = clock()
        cached.append(Entry(frame: frame, bytes: bytes, written: now))
        cachedBytes += bytes
        let maxAge = UInt64(max(0, window.seconds) * 1e9)
        while cached.count - head > window.frames {
            let oldest = cached[head]
            guard cachedBytes > window.bytes || now &- oldest.written >= maxAge else { break }
            head += 1
            cachedBytes -= oldest.bytes
            handBack(oldest.frame)
        }
        if head >= 64 && head * 2 >= cached.count {
            cached.removeFirst(head)
            head = 0
        }
    }

    /// `POSIX_FADV_DONTNEED` on a frame's bytes.
    static func giveBack(_ frame: CachedFrame) {
        switch frame {
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
