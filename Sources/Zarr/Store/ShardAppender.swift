#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CFileSystem
import Concurrency

/// Fills one shard of a sharded array in place, an inner chunk at a time, in an order that
/// survives crashes: no index entry ever points at bytes that are not on disk.
///
/// The shard's index must sit at its start (`index_location: "start"`) and have a fixed
/// layout with no checksum (`index_codecs` = little-endian `bytes` only), so one entry
/// (16 bytes: offset, length) can be rewritten without touching the others:
///
/// 1. ``append(_:_:)`` writes a chunk's bytes after everything already in the file (new
///    files start with an index that marks every chunk missing) and starts their writeback;
/// 2. ``syncData()`` waits until they are on disk (`fdatasync`);
/// 3. ``publish()`` writes the index entries of the chunks that sync covered, in place.
///
/// A reader that reads an entry therefore finds its bytes complete, and entries already
/// published are never rewritten (a torn write of the index at a crash can only hit entries
/// being published). A crash leaves at most unindexed bytes at the end of the file, which
/// the next appender skips. zarr-python reads such shards like any other.
///
/// One thread may append while another syncs and publishes (a writer keeps appending frames
/// while a journal commit runs): a sync covers the chunks appended before it began, and
/// ``publish()`` writes only the entries of chunks a finished sync covered, so a chunk
/// appended during a sync waits for the next one. Each side is one thread at a time, and
/// ``close()`` comes after both.
///
/// ```swift
/// let shard = try ShardAppender(array: frames, shard: [0, 0, 0])
/// try shard.append(0, try frames.encodeInnerChunk(pixels)!)
/// try shard.syncData()
/// try shard.publish()        // now grow the array's shape to show the frame
/// shard.close()
/// ```
public final class ShardAppender: @unchecked Sendable {
    /// The shard's store key and file.
    public let key: String
    public let path: String
    /// Inner chunks in the shard.
    public let innerCount: Int
    /// Bytes in the index at the start of the file.
    public let indexByteCount: Int
    /// Where the next chunk's bytes go: the file's end.
    public private(set) var end: Int
    private var fd: Int32
    /// Guards `pending`, `synced` and `appended`: the entries the appending thread adds and
    /// the syncing thread takes.
    private let lock = Lock()
    /// Entries appended and not yet known to be on disk, oldest first; `number` counts appends.
    private var pending: [(number: Int, n: Int, offset: Int, length: Int)] = []
    /// Entries a finished sync covered, not yet published.
    private var synced: [(number: Int, n: Int, offset: Int, length: Int)] = []
    /// Chunks appended so far.
    private var appended = 0
    /// Where writeback has been started up to: whole pages only. Starting it on the file's
    /// last, partly filled page would make the next append wait until that page is on disk
    /// (a page under writeback cannot be changed): with a page per frame, the writer ran
    /// at the disk's latency, a third of its speed.
    private var writebackStart = 0
    /// Writeback is started once this many bytes of whole pages wait, not at every append:
    /// with 14 KB frames (128x128) a `sync_file_range` per frame was 9% of the writer's CPU.
    /// Small next to the writer's rate, so the sync before publishing still finds little left.
    static let writebackBatch = 1 << 20
    /// Where the previous writeback batch began: pages before it have been on their way to
    /// disk for a batch's time, so handing them back finds them written.
    private var writebackDone = 0
    /// Bytes whose page cache the caller wants handed back, and how far that was done.
    private var releaseWanted = 0
    private var released = 0
    /// Folders whose entries for this shard (its file, or a folder made for it) may not be on
    /// disk yet, deepest first: the first ``syncData()`` syncs them, so no index entry (and so
    /// no shape that shows its frames) outlives a power cut that loses the file itself. Done
    /// there, on the syncing thread, rather than here on the appending one: a folder's
    /// `fsync` is a journal commit.
    private var foldersToSync: [String] = []
    private static let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// Opens (creating it and its folders if missing) the shard at chunk grid `shard` of
    /// `array`, whose store must be a ``FilesystemStore``. A file too short to hold its index
    /// (a new shard, or one a crash cut short) is started afresh.
    public init(array: ZarrArray, shard: [Int]) throws {
        guard let store = array.store as? FilesystemStore else {
            throw ZarrError.invalidCodecConfiguration(path: array.location, codec: "sharding_indexed",
                reason: "in-place shard writes need a file-system store")
        }
        guard let sharding = array.sharding, sharding.codec.indexLocation == .start,
              sharding.codec.indexCodecs.count == 1, case .bytes(let b) = sharding.codec.indexCodecs[0], b.endian != .big else {
            throw ZarrError.invalidCodecConfiguration(path: array.metadataLocation, codec: "sharding_indexed",
                reason: "in-place shard writes need index_location \"start\" and index_codecs [bytes little-endian] (no crc32c)")
        }
        try array.checkChunkIndices(shard, inGrid: false)
        key = array.chunkKey(at: shard)
        path = try store.filePath(key)
        innerCount = sharding.innerCount
        indexByteCount = sharding.indexByteCount
        let folder = String(path[..<path.lastIndex(of: "/")!])
        var fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 && errno == ENOENT {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            if fd < 0 && errno == ENOENT {
                let made = try FilesystemStore.makeDirectories(folder, durable: false)
                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
                // Each new folder's entry is in its parent: the deepest first, the store's own last.
                foldersToSync = made.reversed().map { String($0[..<$0.lastIndex(of: "/")!]) }
            }
            foldersToSync.insert(folder, at: 0)
        }
        if fd < 0 { throw FilesystemStore.failure(path, "create") }
        self.fd = fd
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            closeFile(fd)
            throw FilesystemStore.failure(path, "stat")
        }
        end = Int(info.st_size)
        writebackStart = end / Self.pageSize * Self.pageSize
        (writebackDone, releaseWanted, released) = (writebackStart, writebackStart, writebackStart)
        if end < indexByteCount {
            do {
                guard ftruncate(fd, 0) == 0 else { throw FilesystemStore.failure(path, "truncate") }
                try write([UInt8](repeating: 0xFF, count: indexByteCount), at: 0)
            } catch {
                closeFile(fd)
                throw error
            }
            end = indexByteCount
            (writebackStart, writebackDone, releaseWanted, released) = (0, 0, 0, 0)
        }
    }

    deinit { close() }

    /// Marks inner chunks `first...` missing at once (their entries rewritten in place),
    /// for a shard a crashed writer left: entries it wrote for chunks beyond what the array
    /// shows would otherwise point at bytes nobody vouches for.
    public func discard(from first: Int) throws {
        guard first < innerCount else { return }
        lock.withLock {
            pending.removeAll { $0.n >= first }
            synced.removeAll { $0.n >= first }
        }
        try write([UInt8](repeating: 0xFF, count: (innerCount - first) * 16), at: first * 16)
    }

    /// Writes inner chunk `n`'s encoded bytes at the end of the file and starts the writeback
    /// of the pages they filled; its index entry waits for ``syncData()`` and ``publish()``. Returns the
    /// byte range written.
    @discardableResult
    public func append(_ n: Int, _ bytes: [UInt8]) throws -> Range<Int> {
        precondition(n >= 0 && n < innerCount, "inner chunk \(n) of \(innerCount)")
        let start = end
        try bytes.withUnsafeBytes { try write($0, at: start) }
        end += bytes.count
        let wholePages = end / Self.pageSize * Self.pageSize
        if wholePages - writebackStart >= Self.writebackBatch {
            _ = cfs_start_writeback_range(fd, Int64(writebackStart), Int64(wholePages - writebackStart))
            writebackDone = writebackStart
            writebackStart = wholePages
            releaseCachedPages()
        }
        lock.withLock {
            pending.append((appended, n, start, bytes.count))
            appended += 1
        }
        return start..<end
    }

    /// Waits until every byte appended before the call is on disk (`fdatasync`); their
    /// entries are then ready for ``publish()``.
    ///
    /// A failed sync forgets the chunks it was to cover: after an `fdatasync` error the
    /// kernel may have dropped their pages, and a later sync that succeeds would not bring
    /// them back, so no entry may ever point at them.
    public func syncData() throws {
        let through = lock.withLock { pending.last?.number }
        guard let through else { return }
        var failure: (any Error)?
        if fdatasync(fd) != 0 { failure = FilesystemStore.failure(path, "fdatasync") }
        while failure == nil, let folder = foldersToSync.first {
            do {
                try FilesystemStore.syncDirectory(folder)
                foldersToSync.removeFirst()
            } catch {
                failure = error
            }
        }
        let ok = failure == nil
        lock.withLock {
            let covered = pending.prefix { $0.number <= through }
            if ok { synced += covered }
            pending.removeFirst(covered.count)
        }
        if let failure { throw failure }
    }

    /// Folders still to be synced before the shard's first entry is published (for tests).
    public var foldersAwaitingSync: Int { foldersToSync.count }

    /// Whether chunks were appended and not yet published.
    public var hasPending: Bool { lock.withLock { !pending.isEmpty || !synced.isEmpty } }

    /// Writes the index entries of the chunks the last ``syncData()`` covered, consecutive
    /// entries in one write. Chunks appended after that sync began wait for the next one: an
    /// entry written before its bytes are on disk could survive a power cut they do not.
    public func publish() throws {
        var ready = lock.withLock {
            defer { synced.removeAll() }
            return synced
        }
        guard !ready.isEmpty else { return }
        // By chunk, a chunk appended twice in append order: the later entry is written last.
        ready.sort { ($0.n, $0.number) < ($1.n, $1.number) }
        var i = 0
        while i < ready.count {
            var j = i + 1
            while j < ready.count && ready[j].n == ready[j - 1].n + 1 { j += 1 }
            var entries: [UInt64] = []
            for p in ready[i..<j] { entries += [UInt64(p.offset).littleEndian, UInt64(p.length).littleEndian] }
            try entries.withUnsafeBytes { try write($0, at: ready[i].n * 16) }
            i = j
        }
    }

    /// Gives back the page cache of bytes up to `range`'s end (`POSIX_FADV_DONTNEED`), once
    /// their writeback has had a batch's time: a page still dirty is not dropped but written
    /// (the kernel starts its writeback inside `fadvise`, a page at a time), which cost the
    /// 128x128 writer 8% of its CPU. Pages are handed back a MiB at a time.
    public func releaseCache(_ range: Range<Int>) {
        releaseWanted = max(releaseWanted, range.upperBound)
        releaseCachedPages()
    }

    private func releaseCachedPages() {
        let upTo = min(releaseWanted, writebackDone)
        guard upTo - released >= Self.writebackBatch else { return }
        _ = posix_fadvise(fd, off_t(released), off_t(upTo - released), Int32(POSIX_FADV_DONTNEED))
        released = upTo
    }

    /// Closes the file; entries not published are lost (their bytes stay, unindexed).
    public func close() {
        guard fd >= 0 else { return }
        if releaseWanted > released {  // the tail asked for, too small for a batch
            _ = posix_fadvise(fd, off_t(released), off_t(releaseWanted - released), Int32(POSIX_FADV_DONTNEED))
        }
        closeFile(fd)
        fd = -1
    }

    private func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    private func write(_ buffer: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FilesystemStore.failure(path, "write")
            }
            done += n
        }
    }
}

/// `close(2)` (inside ``ShardAppender`` the name is its own method's).
private func closeFile(_ fd: Int32) {
    _ = close(fd)
}
