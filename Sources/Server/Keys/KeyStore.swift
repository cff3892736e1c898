import Crypto
import Foundation
import JSONValue
import Synchronization

/// API keys of one served folder: `ROOT/.resonance-keys.json` holds each key's name and the
/// SHA-256 of the key, never the key itself.
///
/// A key is 32 random bytes (256 bits) as 64 hex digits after `rk_`; it is printed once by
/// ``add(name:)``. Such a key cannot be guessed, so one SHA-256 is enough (a slow password
/// hash protects weak secrets, and these are not). ``verify(_:)`` hashes the presented key
/// and compares it with every stored hash in constant time, without stopping at a match,
/// so the time taken says nothing about the key or which one matched.
///
/// The server reloads the file when it changes: `resonance keys add|remove` takes effect
/// without a restart.
public final class KeyStore: Sendable {
    /// One stored key.
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// 64 hex digits.
        public var sha256: String
        /// Unix seconds.
        public var created: Double
    }

    /// A problem with the key file or a key operation, naming it.
    public struct KeyError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static let fileName = ".resonance-keys.json"
    public static let prefix = "rk_"

    public let path: String
    private struct Cache {
        var entries: [Entry] = []
        var digests: [[UInt8]] = []
        var stamp: (mtime: Double, size: Int64)?
        var checked: ContinuousClock.Instant?
    }
    private let cache = Mutex(Cache())

    /// The keys of the folder `root` (the file need not exist yet).
    public init(root: String) {
        path = (root as NSString).appendingPathComponent(Self.fileName)
    }

    // MARK: Managing

    /// The stored keys, oldest first.
    public func list() throws -> [Entry] { try load() }

    /// Makes a new key named `name`, stores its hash and returns the key (shown once).
    public func add(name: String) throws -> String {
        guard !name.isEmpty, name.count <= 100, !name.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw KeyError(description: "key name \(name.debugDescription) is not allowed: give 1 to 100 characters on one line")
        }
        var entries = try load()
        if entries.contains(where: { $0.name == name }) {
            throw KeyError(description: "a key named \(name.debugDescription) exists already in \(path); remove it first or pick another name")
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for k in bytes.indices { bytes[k] = generator.next() }
        let key = Self.prefix + Self.hex(bytes)
        entries.append(Entry(name: name, sha256: Self.hex(Array(SHA256.hash(data: Array(key.utf8)))), created: Date().timeIntervalSince1970))
        try save(entries)
        return key
    }

    /// Removes the key named `name`; throws when there is none.
    public func remove(name: String) throws {
        var entries = try load()
        guard let index = entries.firstIndex(where: { $0.name == name }) else {
            throw KeyError(description: "no key named \(name.debugDescription) in \(path) (resonance keys list shows them)")
        }
        entries.remove(at: index)
        try save(entries)
    }

    // MARK: Checking

    /// The name of the key `presented` is, or nil. Constant time in the key's content.
    public func verify(_ presented: String) -> String? {
        let (entries, digests) = current()
        let digest = Array(SHA256.hash(data: Array(presented.utf8)))
        var match: Int? = nil
        for (k, stored) in digests.enumerated() {
            // Every byte of every stored digest is compared; no early exit on a mismatch or a match.
            var difference: UInt8 = 0
            for i in 0..<32 { difference |= stored[i] ^ digest[i] }
            if difference == 0 { match = k }
        }
        return match.map { entries[$0].name }
    }

    /// True when at least one key exists.
    public var hasKeys: Bool { !current().entries.isEmpty }

    /// The entries and decoded digests, reloaded when the file changed (checked at most
    /// once a second). An unreadable file keeps the last good keys and is logged by the caller.
    private func current() -> (entries: [Entry], digests: [[UInt8]]) {
        cache.withLock { c in
            let now = ContinuousClock.now
            if let checked = c.checked, now - checked < .seconds(1) { return (c.entries, c.digests) }
            c.checked = now
            let stamp = Self.stamp(path)
            if let stamp, let old = c.stamp, old == stamp { return (c.entries, c.digests) }
            if stamp == nil {
                c.entries = []
                c.digests = []
                c.stamp = nil
                return (c.entries, c.digests)
            }
            if let entries = try? load() {
                c.entries = entries
                c.digests = entries.map { Self.bytes(hex: $0.sha256) ?? [UInt8](repeating: 0, count: 32) }
                c.stamp = stamp
            }
            return (c.entries, c.digests)
        }
    }

    // MARK: File

    private func load() throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError(description: "\(path): cannot read the key file")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw KeyError(description: "\(path): not valid JSON (\(error)); fix or remove the file")
        }
        guard let array = value["keys"]?.arrayValue else {
            throw KeyError(description: "\(path): expected {\"keys\": [...]}")
        }
        return try array.enumerated().map { k, item in
            guard let name = item["name"]?.stringValue, let hash = item["sha256"]?.stringValue, Self.bytes(hex: hash) != nil else {
                throw KeyError(description: "\(path): key \(k) lacks a name or a 64-hex-digit sha256")
            }
            return Entry(name: name, sha256: hash, created: item["created"]?.doubleValue ?? 0)
        }
    }

    /// Writes the file whole (temporary file + rename), readable by its owner only.
    private func save(_ entries: [Entry]) throws {
        let value: JSONValue = ["keys": .array(entries.map { ["name": .string($0.name), "sha256": .string($0.sha256), "created": .double($0.created)] })]
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw KeyError(description: "\(temporary): cannot write (\(String(cString: strerror(errno))))") }
        let text = Array((value.jsonText + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == text.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw KeyError(description: "\(path): cannot write the key file (\(String(cString: strerror(errno))))")
        }
        cache.withLock { $0.checked = nil }
    }

    private static func stamp(_ path: String) -> (mtime: Double, size: Int64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) * 1e-9, Int64(info.st_size))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
