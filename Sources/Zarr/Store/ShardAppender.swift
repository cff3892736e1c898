#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CFileSystem

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
/// 3. ``publish()`` writes the index entries of the chunks appended since, in place.
///
/// A reader that reads an entry therefore finds its bytes complete, and entries already
/// published are never rewritten (a torn write of the index at a crash can only hit entries
/// being published). A crash leaves at most unindexed bytes at the end of the file, which
/// the next appender skips. zarr-python reads such shards like any other.
///
/// ```swift
/// let shard = try ShardAppender(array: frames, shard: [0, 0, 0])
/// try shard.append(0, try frames.encodeInnerChunk(pixels)!)
/// try shard.syncData()
/// try shard.publish()        // now grow the array's shape to show the frame
/// shard.close()
/// ```
public final class ShardAppender {
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
    /// Entries appended and not yet published, by inner chunk number.
    private var pending: [(n: Int, offset: Int, length: Int)] = []
    /// Appended bytes not yet known to be on disk.
    private var unsynced = false
    /// Where writeback has been started up to: whole pages only. Starting it on the file's
    /// last, partly filled page would make the next append wait until that page is on disk
    /// (a page under writeback cannot be changed): with a page per frame, the writer ran
    /// at the disk's latency, a third of its speed.
    private var writebackStart = 0
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
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        if fd < 0 && errno == ENOENT {
            try FilesystemStore.makeDirectories(String(path[..<path.lastIndex(of: "/")!]), durable: false)
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
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
        if end < indexByteCount {
            do {
                guard ftruncate(fd, 0) == 0 else { throw FilesystemStore.failure(path, "truncate") }
                try write([UInt8](repeating: 0xFF, count: indexByteCount), at: 0)
            } catch {
                closeFile(fd)
                throw error
            }
            end = indexByteCount
            writebackStart = 0
        }
    }

    deinit { close() }

    /// Marks inner chunks `first...` missing at once (their entries rewritten in place),
    /// for a shard a crashed writer left: entries it wrote for chunks beyond what the array
    /// shows would otherwise point at bytes nobody vouches for.
    public func discard(from first: Int) throws {
        guard first < innerCount else { return }
        pending.removeAll { $0.n >= first }
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
        if wholePages > writebackStart {
            _ = cfs_start_writeback_range(fd, Int64(writebackStart), Int64(wholePages - writebackStart))
            writebackStart = wholePages
        }
        pending.append((n, start, bytes.count))
        unsynced = true
        return start..<end
    }

    /// Waits until every byte appended is on disk (`fdatasync`).
    public func syncData() throws {
        guard unsynced else { return }
        guard fdatasync(fd) == 0 else { throw FilesystemStore.failure(path, "fdatasync") }
        unsynced = false
    }

    /// Whether chunks were appended and not yet published.
    public var hasPending: Bool { !pending.isEmpty }

    /// Writes the index entries of the chunks appended since the last call, consecutive
    /// entries in one write. Call ``syncData()`` first, unless the bytes may be lost in a
    /// power cut while their entries survive.
    public func publish() throws {
        guard !pending.isEmpty else { return }
        precondition(!unsynced, "publish() before syncData()")
        pending.sort { $0.n < $1.n }
        var i = 0
        while i < pending.count {
            var j = i + 1
            while j < pending.count && pending[j].n == pending[j - 1].n + 1 { j += 1 }
            var entries: [UInt64] = []
            for p in pending[i..<j] { entries += [UInt64(p.offset).littleEndian, UInt64(p.length).littleEndian] }
            try entries.withUnsafeBytes { try write($0, at: pending[i].n * 16) }
            i = j
        }
        pending.removeAll()
    }

    /// Gives back the page cache of bytes `range` (`POSIX_FADV_DONTNEED`; pages still dirty stay).
    public func releaseCache(_ range: Range<Int>) {
        _ = posix_fadvise(fd, off_t(range.lowerBound), off_t(range.count), Int32(POSIX_FADV_DONTNEED))
    }

    /// Closes the file; entries not published are lost (their bytes stay, unindexed).
    public func close() {
        if fd >= 0 { closeFile(fd) }
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
