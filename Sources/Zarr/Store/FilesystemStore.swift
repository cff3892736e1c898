import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CFileSystem
import Foundation

/// A Zarr store in a folder of the local file system: key `a/b/zarr.json` is the file
/// `<root>/a/b/zarr.json`.
///
/// Every value is written to a temporary file in the same folder and renamed into place,
/// so readers and crashes never see half a file. With ``Durability-swift.enum/fsync`` the
/// file is also flushed to disk before the rename, and its folder after it, for callers
/// that must survive power loss.
///
/// ```swift
/// let store = try FilesystemStore(root: "/data/beamtime.zarr", create: true)
/// let durable = try FilesystemStore(root: "/data/beamtime.zarr", durability: .fsync)
/// ```
public struct FilesystemStore: ZarrStore {
    /// How hard writes try to reach the disk.
    public enum Durability: Sendable, Hashable {
        /// Atomic rename only: safe against crashes of the process, not against power loss.
        case standard
        /// Also fsync each file before its rename and the folder after it.
        case fsync
    }

    /// Absolute path of the store's folder, without a trailing `/`.
    public let root: String
    /// Whether writes are fsynced.
    public let durability: Durability

    /// Opens the store at `root`. With `create`, the folder (and missing parents) is made;
    /// without it, a missing folder is an error.
    public init(root: String, create: Bool = false, durability: Durability = .standard) throws {
        var path = URL(fileURLWithPath: root).standardizedFileURL.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.root = path
        self.durability = durability
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ZarrError.io(path: path, operation: "open store", errno: ENOTDIR, reason: "not a directory")
            }
        } else if create {
            try Self.makeDirectories(path, durable: durability == .fsync)
        } else {
            throw ZarrError.io(path: path, operation: "open store", errno: ENOENT, reason: "no such directory")
        }
    }

    /// Opens the store at a file URL; see ``init(root:create:durability:)``.
    public init(url: URL, create: Bool = false, durability: Durability = .standard) throws {
        try self.init(root: url.path, create: create, durability: durability)
    }

    /// The file path of `key`.
    public func describe(_ key: String) -> String { key.isEmpty ? root : root + "/" + key }

    /// The file path of `key`, refusing keys that could leave the root.
    func filePath(_ key: String) throws -> String {
        if key.isEmpty { return root }
        for part in key.split(separator: "/", omittingEmptySubsequences: false) {
            if part.isEmpty || part == "." || part == ".." {
                throw ZarrError.invalidKey(key: key, reason: "empty, \".\" or \"..\" path component")
            }
            // Byte by byte: a substring search would cost more than the write it guards.
            if part.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "\\") }) {
                throw ZarrError.invalidKey(key: key, reason: "NUL or backslash in a path component")
            }
        }
        return root + "/" + key
    }

    /// The errno beneath a Foundation file error, when it has one.
    static func posixCode(of error: any Error) -> Int32? {
        if let error = error as? POSIXError { return error.code.rawValue }
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        return underlying?.domain == NSPOSIXErrorDomain ? Int32(underlying!.code) : nil
    }

    static func failure(_ path: String, _ operation: String, _ code: Int32 = errno) -> ZarrError {
        .io(path: path, operation: operation, errno: code, reason: String(cString: strerror(code)))
    }

    // MARK: Reading

    /// The contents of the file for `key`; nil when there is no such file.
    public func get(_ key: String) throws -> [UInt8]? {
        try read(key) { size in 0..<size }
    }

    /// Bytes `range` of the file for `key` (fewer when the file ends inside it); nil when
    /// there is no such file. One `pread`, not the whole file.
    public func get(_ key: String, range: Range<Int>) throws -> [UInt8]? {
        try read(key) { size in min(range.lowerBound, size)..<min(range.upperBound, size) }
    }

    /// The last `suffix` bytes of the file for `key`; nil when there is no such file.
    public func get(_ key: String, suffix: Int) throws -> [UInt8]? {
        try read(key) { size in max(0, size - suffix)..<size }
    }

    /// Opens the file for `key` and reads the byte range `part` picks from its size.
    private func read(_ key: String, part: (Int) -> Range<Int>) throws -> [UInt8]? {
        let path = try filePath(key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.failure(path, "open")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.failure(path, "stat") }
        if (info.st_mode & S_IFMT) == S_IFDIR { return nil }
        let range = part(Int(info.st_size))
        return try [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            var done = 0
            while done < range.count {
                let n = pread(fd, buffer.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure(path, "read")
                }
                if n == 0 { break }  // the file shrank while we read it
                done += n
            }
            initialized = done
        }
    }

    // MARK: Writing

    /// Writes `<folder>/.<name>.<random>.tmp`, optionally fsyncs it, renames it over the
    /// file for `key` and (with fsync) syncs the folder. Missing folders are created.
    public func set(_ key: String, _ bytes: [UInt8]) throws {
        let path = try filePath(key)
        let slash = path.lastIndex(of: "/")!
        let folder = String(path[..<slash])
        let name = path[path.index(after: slash)...]
        let temporary = folder + "/." + name + "." + TemporaryName.next() + ".tmp"
        try writeFile(temporary, in: folder, bytes, flags: O_EXCL, startWriteback: false)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw Self.failure(path, "rename", code)
        }
        if durability == .fsync { try Self.syncDirectory(folder) }
    }

    /// Writes as `mode` says: ``StoreWriteMode/atomic`` is ``set(_:_:)``;
    /// ``StoreWriteMode/unpublished`` writes the file in place (no temporary file, no
    /// rename: two system calls and a directory update fewer) and starts its writeback at
    /// once, so a later sync finds little left to do. A failed write removes the file.
    public func set(_ key: String, _ bytes: [UInt8], mode: StoreWriteMode) throws {
        guard mode == .unpublished else { return try set(key, bytes) }
        let path = try filePath(key)
        let folder = String(path[..<path.lastIndex(of: "/")!])
        try writeFile(path, in: folder, bytes, flags: O_TRUNC, startWriteback: true)
        if durability == .fsync { try Self.syncDirectory(folder) }
    }

    /// Creates `path` (with `flags` besides O_WRONLY|O_CREAT; its folder made if missing),
    /// writes `bytes`, fsyncs it with ``Durability-swift.enum/fsync`` or else, if asked,
    /// starts its writeback, and closes it. On any failure the file is removed.
    private func writeFile(_ path: String, in folder: String, _ bytes: [UInt8], flags: Int32, startWriteback: Bool) throws {
        let durable = durability == .fsync
        var fd = open(path, O_WRONLY | O_CREAT | flags | O_CLOEXEC, 0o666)
        if fd < 0 && errno == ENOENT {
            try Self.makeDirectories(folder, durable: durable)
            fd = open(path, O_WRONLY | O_CREAT | flags | O_CLOEXEC, 0o666)
        }
        if fd < 0 { throw Self.failure(path, "create") }
        var closed = false
        defer { if !closed { close(fd); unlink(path) } }
        try Self.writeAll(bytes, to: fd, path: path)
        if durable {
            if fsync(fd) != 0 { throw Self.failure(path, "fsync") }
        } else if startWriteback {
            _ = cfs_start_writeback(fd)  // written once, read later: to the disk now
        }
        closed = true
        if close(fd) != 0 {
            let code = errno
            unlink(path)
            throw Self.failure(path, "close", code)
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure(path, "write")
                }
                done += n
            }
        }
    }

    /// Unlinks the file for `key` if it exists.
    public func delete(_ key: String) throws {
        let path = try filePath(key)
        if unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR {
            throw Self.failure(path, "delete")
        }
        if durability == .fsync, let slash = path.lastIndex(of: "/") {
            try? Self.syncDirectory(String(path[..<slash]))
        }
    }

    /// Removes the folder for `prefix` and everything in it (symbolic links are removed,
    /// not followed). The store root itself is never removed.
    public func deletePrefix(_ prefix: String) throws {
        let path = try filePath(prefix)
        guard path != root else {
            throw ZarrError.invalidKey(key: prefix, reason: "refusing to delete the whole store")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw ZarrError.io(path: path, operation: "delete", errno: Self.posixCode(of: error), reason: error.localizedDescription)
        }
    }

    // MARK: Listing

    /// Regular files and folders directly in the folder for `prefix`, sorted by name.
    public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
        let path = try filePath(prefix)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            var info = stat()
            if lstat(path, &info) != 0 { return ([], []) }
            throw ZarrError.io(path: path, operation: "list", errno: Self.posixCode(of: error), reason: error.localizedDescription)
        }
        var keys: [String] = [], prefixes: [String] = []
        for name in names.sorted() {
            var info = stat()
            guard lstat(path + "/" + name, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            let full = prefix.isEmpty ? name : prefix + "/" + name
            if kind == S_IFDIR { prefixes.append(full) } else if kind == S_IFREG { keys.append(full) }
        }
        return (keys, prefixes)
    }

    /// Every regular file below the folder for `prefix`, relative to it, sorted.
    public func listKeys(under prefix: String) throws -> [String] {
        var result: [String] = []
        var pending = [prefix]
        while let next = pending.popLast() {
            let (keys, prefixes) = try listDirectory(next)
            result.append(contentsOf: keys)
            pending.append(contentsOf: prefixes)
        }
        let cut = prefix.isEmpty ? 0 : prefix.count + 1
        return result.map { String($0.dropFirst(cut)) }.sorted()
    }

    // MARK: Folders

    /// `mkdir -p`; with `durable`, each new folder's parent is fsynced so the entry survives
    /// power loss. Returns the folders it made, top down.
    ///
    /// Starts at the deepest folder and goes up only as far as folders are missing: a new
    /// chunk folder under existing ones costs one or two `mkdir` calls, not one per level.
    @discardableResult
    static func makeDirectories(_ path: String, durable: Bool) throws -> [String] {
        var missing: [String] = []  // deepest first
        var made: [String] = []
        var current = path
        while current.count > 1 {
            if mkdir(current, 0o777) == 0 {
                if durable { try syncParent(of: current) }
                made.append(current)
                break
            }
            let code = errno
            if code == EEXIST {
                var info = stat()
                guard stat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw failure(current, "create directory", ENOTDIR)
                }
                break
            }
            guard code == ENOENT, let slash = current.lastIndex(of: "/") else {
                throw failure(current, "create directory", code)
            }
            missing.append(current)
            current = slash == current.startIndex ? "/" : String(current[..<slash])
        }
        // The parents exist now: make the missing folders top down.
        for folder in missing.reversed() {
            if mkdir(folder, 0o777) == 0 {
                if durable { try syncParent(of: folder) }
                made.append(folder)
            } else if errno != EEXIST {
                throw failure(folder, "create directory")
            }
        }
        return made
    }

    private static func syncParent(of folder: String) throws {
        guard let slash = folder.lastIndex(of: "/") else { return }
        try syncDirectory(slash == folder.startIndex ? "/" : String(folder[..<slash]))
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw failure(path, "open directory") }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw failure(path, "fsync directory") }
    }
}

/// Names for temporary files: unique within the process (a counter) and across processes
/// (the pid and a random salt drawn once), without a system call per name.
enum TemporaryName {
    private static let counter = Atomic<UInt64>(0)
    private static let prefix = String(getpid(), radix: 36) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36) + "-"

    static func next() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + String(n, radix: 36)
    }
}
