import Dispatch
import Foundation
import GRDB
import Zarr

/// The detector frames of one field of a run, read lazily from the Zarr store.
///
/// Frames are found through the run's `image_refs` rows (`zarr_group`, `index_in_stack`),
/// in the order they were written. Nothing is decoded until a frame is asked for; a range
/// of frames is decoded on all cores straight into one contiguous result, so memory holds
/// the result plus one compressed chunk per core. A frame whose chunk file is absent (an
/// all-zero frame, which zarr-python does not store) reads as the fill value, 0.
///
/// ```swift
/// let ccd = try run.frames(field: "ccd")
/// print(ccd.count, ccd.shape, ccd.dtype?.rawValue ?? "-")   // 5 [5, 64, 64] uint16
/// let last = try ccd.frame(-1, as: UInt16.self)          // Frame<UInt16>
/// let stack = try ccd.frames(0..<3, as: UInt16.self)     // FrameStack<UInt16>, 3 frames
/// let block = try ccd.frames(...)                        // FrameBlock: every frame, element type from the file
/// let energies = try ccd.eventDoubles("energy")          // [Double?]: the energy of each frame's event
/// print(ccd.seqNums)                                     // [1, 2, 3, 4, 5]: each frame's event
/// ```
///
/// An unknown field gives an empty sequence (``count`` 0, ``dtype`` nil).
public struct FrameSequence: Sendable {
    /// The detector field, e.g. "ccd".
    public let field: String
    /// Number of frames.
    public let count: Int
    /// Rows of each frame (numpy `shape[1]` of the stack).
    public let rows: Int
    /// Columns of each frame.
    public let columns: Int
    /// The pixel type, from the Zarr array; nil for an empty sequence.
    public let dtype: FrameDType?
    /// The codecs of the (first) Zarr array, as named in its `zarr.json`, e.g. `["bytes", "zstd"]`.
    public let codecs: [String]

    /// One frame's place: which array, which index along its first axis, and its event.
    struct Location: Sendable {
        var array: Int
        var index: Int
        var event: FrameEvent
        var streamUID: String
    }

    let arrays: [ZarrArray]
    let locations: [Location]
    /// Where the events are read from (nil for an empty sequence).
    let catalog: Catalog?

    /// The event each frame belongs to, in frame order.
    public var events: [FrameEvent] { locations.map(\.event) }

    /// The seq_num of each frame's event, in frame order.
    public var seqNums: [Int64] { locations.map(\.event.seqNum) }

    /// The value of event field `name` for each frame, from the event the frame belongs to:
    /// the energy (or any other reading) each frame was taken at. nil where that event has
    /// no such field.
    public func eventValues(_ name: String) throws -> [JSONValue?] {
        guard let catalog else { return [] }
        // One table per stream the frames' events are in (usually just "primary").
        var tables: [String: (table: EventTable, rowOfSeq: [Int64: Int])] = [:]
        for location in locations where tables[location.streamUID] == nil {
            let table = try catalog.read { db in
                try EventTableLoader.load(db: db, stream: location.event.stream, streamUID: location.streamUID)
            }
            var rowOfSeq: [Int64: Int] = [:]
            for (row, seq) in table.seqNums.enumerated() { rowOfSeq[seq] = row }
            tables[location.streamUID] = (table, rowOfSeq)
        }
        return locations.map { location in
            let (table, rowOfSeq) = tables[location.streamUID]!
            guard let row = rowOfSeq[location.event.seqNum], let column = table.column(name) else { return nil }
            return column[row]
        }
    }

    /// ``eventValues(_:)`` as numbers (ints widened); nil where missing or not a number.
    public func eventDoubles(_ name: String) throws -> [Double?] {
        try eventValues(name).map { $0?.doubleValue }
    }

    /// (frames, rows, columns), as numpy gives `stack.shape`.
    public var shape: [Int] { [count, rows, columns] }

    /// True when there are no frames.
    public var isEmpty: Bool { count == 0 }

    /// Bytes of one decoded frame.
    public var frameByteCount: Int { rows * columns * (dtype?.size ?? 0) }

    static func empty(field: String) -> FrameSequence {
        FrameSequence(field: field, count: 0, rows: 0, columns: 0, dtype: nil, codecs: [], arrays: [], locations: [], catalog: nil)
    }

    // MARK: Reading

    /// Frame `index`; a negative index counts from the end (-1 is the last frame).
    /// The result holds one frame of the stored element type.
    public func frame(_ index: Int) throws -> FrameBlock {
        let k = try position(of: index)
        return try frames(k..<(k + 1))
    }

    /// Frame `index` as pixels of type `T`, which must be the stored type (`UInt16` for uint16).
    public func frame<T: FrameElement>(_ index: Int, as type: T.Type) throws -> Frame<T> {
        let k = try position(of: index)
        let stack = try frames(k..<(k + 1), as: T.self)
        return Frame(rows: rows, columns: columns, pixels: stack.pixels)
    }

    /// Frames in `range` (e.g. `0..<10`, `5...`, `...`) in one contiguous block of the stored type.
    public func frames(_ range: some RangeExpression<Int>) throws -> FrameBlock {
        let range = try bounded(range)
        switch dtype ?? .uint8 {  // an empty sequence gives an empty uint8 block
        case .uint8: return .uint8(try frames(range, as: UInt8.self))
        case .int8: return .int8(try frames(range, as: Int8.self))
        case .uint16: return .uint16(try frames(range, as: UInt16.self))
        case .int16: return .int16(try frames(range, as: Int16.self))
        case .uint32: return .uint32(try frames(range, as: UInt32.self))
        case .int32: return .int32(try frames(range, as: Int32.self))
        case .uint64: return .uint64(try frames(range, as: UInt64.self))
        case .int64: return .int64(try frames(range, as: Int64.self))
        case .float32: return .float32(try frames(range, as: Float.self))
        case .float64: return .float64(try frames(range, as: Double.self))
        }
    }

    /// Every frame, in one contiguous block of the stored type: `frames(...)`.
    public func frames(_ all: UnboundedRange) throws -> FrameBlock {
        try frames(0..<count)
    }

    /// Frames in `range` as pixels of type `T`, which must be the stored type.
    ///
    /// ```swift
    /// let stack = try ccd.frames(0..<100, as: UInt16.self)   // stack.pixels: 100 * rows * columns values
    /// ```
    public func frames<T: FrameElement>(_ range: some RangeExpression<Int>, as type: T.Type) throws -> FrameStack<T> {
        let range = try bounded(range)
        if let dtype, dtype != T.frameDType {
            throw CatalogError.frameTypeMismatch(field: field, stored: dtype.rawValue, requested: "\(T.self)")
        }
        let total = range.count * rows * columns
        let pixels = try [T](unsafeUninitializedCapacity: total) { buffer, initialized in
            try read(range, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = total
        }
        return FrameStack(count: range.count, rows: rows, columns: columns, pixels: pixels)
    }

    /// Calls `body` with each frame in order, decoding `batchSize` frames at a time in
    /// parallel: memory holds one batch, however long the sequence is.
    ///
    /// ```swift
    /// try ccd.forEach(as: UInt16.self) { k, frame in sums.append(frame.pixels.reduce(0) { $0 + Int($1) }) }
    /// ```
    public func forEach<T: FrameElement>(
        as type: T.Type, batchSize: Int = 16, _ body: (_ index: Int, _ frame: Frame<T>) throws -> Void
    ) throws {
        var start = 0
        while start < count {
            let end = min(start + max(batchSize, 1), count)
            let batch = try frames(start..<end, as: T.self)
            for k in 0..<batch.count { try body(start + k, batch.frame(k)) }
            start = end
        }
    }

    /// Decodes frames in `range` into `buffer`, which must hold exactly `range.count *`
    /// ``frameByteCount`` bytes: C order, native byte order, the stored element type.
    public func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
        let range = try bounded(range)
        let frameBytes = frameByteCount
        guard buffer.count == range.count * frameBytes else {
            throw CatalogError.unreadableFrames(
                field: field, reason: "a buffer of \(buffer.count) bytes cannot hold \(range.count) frames of \(frameBytes) bytes")
        }
        if range.isEmpty { return }
        let target = UncheckedBuffer(buffer: buffer)
        let failure = FirstFailure()
        let work: @Sendable (Int) -> Void = { k in
            if failure.isSet { return }
            let slice = UnsafeMutableRawBufferPointer(rebasing: target.buffer[(k * frameBytes)..<((k + 1) * frameBytes)])
            do {
                try readFrame(self.locations[range.lowerBound + k], into: slice)
            } catch {
                failure.record(error)
            }
        }
        // One frame per iteration: each worker holds one compressed chunk at a time and
        // decodes it straight into its place in the result.
        if range.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: range.count, execute: work) }
        if let error = failure.error {
            if let error = error as? CatalogError { throw error }
            throw CatalogError.unreadableFrames(field: field, reason: "\(error)")
        }
    }

    /// Decodes one frame into `slice` (``frameByteCount`` bytes).
    func readFrame(_ location: Location, into slice: UnsafeMutableRawBufferPointer) throws {
        let array = arrays[location.array]
        let k = location.index
        if array.innerChunkShape == [1, rows, columns] {
            // One chunk per frame, alone in its file or in a shard (then only the shard's
            // index and the frame's bytes are read). Beyond the shape zarr.json records: a
            // writer stored the chunk (and its image_refs row) but died before it rewrote
            // zarr.json; a chunk that is not there reads as zeros.
            try array.readInnerChunk(at: [k, 0, 0], into: slice)
        } else {
            // Another writer's chunking (several frames per chunk): read the box.
            guard k < array.shape[0] else {
                throw CatalogError.unreadableFrames(
                    field: field, reason: "frame \(k) lies beyond the shape \(array.shape) of \(array.path.key)")
            }
            try array.read(ZarrRegion(start: [k, 0, 0], shape: [1, rows, columns]), into: slice)
        }
    }

    /// The position of `index` (negative counts from the end), or an out-of-range error.
    func position(of index: Int) throws -> Int {
        let k = index < 0 ? index + count : index
        guard k >= 0, k < count else { throw CatalogError.frameIndexOutOfRange(field: field, index: index, count: count) }
        return k
    }

    func bounded(_ range: some RangeExpression<Int>) throws -> Range<Int> {
        let r = range.relative(to: 0..<count)
        guard r.lowerBound >= 0, r.upperBound <= count, r.lowerBound <= r.upperBound else {
            throw CatalogError.frameRangeOutOfBounds(field: field, range: r, count: count)
        }
        return r
    }

    // MARK: Loading

    /// The frames of `field` in run `runUID`: image_refs rows, then the Zarr arrays they name.
    static func load(field: String, runUID: String, catalog: Catalog) throws -> FrameSequence {
        let refs = try catalog.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.zarr_group, i.index_in_stack, e.uid, e.seq_num, st.uid AS stream_uid, st.name AS stream
                FROM image_refs i
                JOIN events e ON e.uid = i.event_uid JOIN streams st ON st.uid = e.stream_uid
                WHERE st.run_uid = ? AND i.field_name = ? ORDER BY i.id
                """, arguments: [runUID, field])
        }
        guard !refs.isEmpty else { return .empty(field: field) }

        // Arrays in the order their first frame was written; frames by index within each.
        var groups: [String] = []
        var groupIndex: [String: Int] = [:]
        var locations: [Location] = []
        for ref in refs {
            let group: String = ref["zarr_group"]
            if groupIndex[group] == nil {
                groupIndex[group] = groups.count
                groups.append(group)
            }
            locations.append(Location(
                array: groupIndex[group]!, index: ref["index_in_stack"],
                event: FrameEvent(uid: ref["uid"], stream: ref["stream"], seqNum: ref["seq_num"]), streamUID: ref["stream_uid"]))
        }
        locations.sort { ($0.array, $0.index) < ($1.array, $1.index) }

        func failure(_ reason: String) -> CatalogError { .unreadableFrames(field: field, reason: reason) }
        let store: FilesystemStore
        do {
            store = try FilesystemStore(root: catalog.zarrPath)
        } catch {
            throw failure("the Zarr store \(catalog.zarrPath) cannot be opened: \(error)")
        }
        var arrays: [ZarrArray] = []
        for group in groups {
            do {
                arrays.append(try ZarrArray.open(in: store, at: group))
            } catch {
                throw failure("the Zarr array \(group.debugDescription) cannot be opened: \(error)")
            }
        }
        let first = arrays[0]
        guard first.shape.count == 3 else {
            throw failure("the Zarr array \(groups[0]) has shape \(first.shape), not (frames, rows, columns)")
        }
        guard let dtype = FrameDType(rawValue: first.dataType.name) else {
            throw failure("the Zarr array \(groups[0]) holds \(first.dataType.name), not a frame pixel type")
        }
        for (k, array) in arrays.enumerated().dropFirst()
        where array.shape.count != 3 || array.shape[1...] != first.shape[1...] || array.dataType != first.dataType {
            throw failure("the Zarr arrays \(groups[0]) (\(first.dataType.name) \(first.shape)) and \(groups[k]) (\(array.dataType.name) \(array.shape)) do not stack")
        }
        return FrameSequence(
            field: field, count: locations.count, rows: first.shape[1], columns: first.shape[2], dtype: dtype,
            codecs: first.metadata.codecs.map(\.name), arrays: arrays, locations: locations, catalog: catalog)
    }
}

/// The event a frame belongs to: the `image_refs` row's event.
public struct FrameEvent: Sendable, Equatable {
    /// The event's uid (32 hex digits).
    public let uid: String
    /// The stream the event is in, e.g. "primary".
    public let stream: String
    /// The event's seq_num in its stream.
    public let seqNum: Int64
}

extension Run {
    /// The field the beamline names its camera, and the Python reader's `Run.images()` default.
    public static let defaultFrameField = "detector_image"

    /// The frames of detector field `field` (by default `detector_image`, as in Python);
    /// empty for a field without frames.
    public func frames(field: String = Run.defaultFrameField) throws -> FrameSequence {
        try FrameSequence.load(field: field, runUID: uid, catalog: catalog)
    }
}

/// Frames of one element type in one contiguous buffer, C order: (frames, rows, columns).
public struct FrameStack<Element: FrameElement>: Sendable {
    /// Number of frames.
    public let count: Int
    /// Rows of each frame.
    public let rows: Int
    /// Columns of each frame.
    public let columns: Int
    /// Every pixel, frame after frame, row after row.
    public let pixels: [Element]

    /// (frames, rows, columns).
    public var shape: [Int] { [count, rows, columns] }

    /// The pixels of frame `k` (0-based within the stack), without copying.
    public subscript(k: Int) -> ArraySlice<Element> {
        pixels[(k * rows * columns)..<((k + 1) * rows * columns)]
    }

    /// Frame `k` as a ``Frame`` (copies its pixels).
    public func frame(_ k: Int) -> Frame<Element> {
        Frame(rows: rows, columns: columns, pixels: Array(self[k]))
    }
}

/// A ``FrameStack`` whose element type is known only when the file is read.
///
/// ```swift
/// switch try ccd.frames(0..<10) {
/// case .uint16(let stack): use(stack.pixels)
/// case let other: print("unexpected", other.dtype)
/// }
/// ```
public enum FrameBlock: Sendable {
    case uint8(FrameStack<UInt8>)
    case int8(FrameStack<Int8>)
    case uint16(FrameStack<UInt16>)
    case int16(FrameStack<Int16>)
    case uint32(FrameStack<UInt32>)
    case int32(FrameStack<Int32>)
    case uint64(FrameStack<UInt64>)
    case int64(FrameStack<Int64>)
    case float32(FrameStack<Float>)
    case float64(FrameStack<Double>)

    /// The pixel type.
    public var dtype: FrameDType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        }
    }

    /// (frames, rows, columns).
    public var shape: [Int] { visit { $0.shape } }
    /// Number of frames.
    public var count: Int { visit { $0.count } }

    /// The stack as pixels of type `T`, or nil when `T` is not the stored type.
    public func stack<T: FrameElement>(as type: T.Type) -> FrameStack<T>? {
        visit { $0 as? FrameStack<T> }
    }

    /// The raw pixels: C order, native byte order.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .uint8(let s): try s.pixels.withUnsafeBytes(body)
        case .int8(let s): try s.pixels.withUnsafeBytes(body)
        case .uint16(let s): try s.pixels.withUnsafeBytes(body)
        case .int16(let s): try s.pixels.withUnsafeBytes(body)
        case .uint32(let s): try s.pixels.withUnsafeBytes(body)
        case .int32(let s): try s.pixels.withUnsafeBytes(body)
        case .uint64(let s): try s.pixels.withUnsafeBytes(body)
        case .int64(let s): try s.pixels.withUnsafeBytes(body)
        case .float32(let s): try s.pixels.withUnsafeBytes(body)
        case .float64(let s): try s.pixels.withUnsafeBytes(body)
        }
    }

    /// The pixels of frame `k` converted to Double (64-bit integers above 2^53 round).
    public func doubles(frame k: Int) -> [Double] {
        switch self {
        case .uint8(let s): s[k].map(Double.init)
        case .int8(let s): s[k].map(Double.init)
        case .uint16(let s): s[k].map(Double.init)
        case .int16(let s): s[k].map(Double.init)
        case .uint32(let s): s[k].map(Double.init)
        case .int32(let s): s[k].map(Double.init)
        case .uint64(let s): s[k].map(Double.init)
        case .int64(let s): s[k].map(Double.init)
        case .float32(let s): s[k].map(Double.init)
        case .float64(let s): Array(s[k])
        }
    }

    private func visit<R>(_ body: (any FrameStackProtocol) -> R) -> R {
        switch self {
        case .uint8(let s): body(s)
        case .int8(let s): body(s)
        case .uint16(let s): body(s)
        case .int16(let s): body(s)
        case .uint32(let s): body(s)
        case .int32(let s): body(s)
        case .uint64(let s): body(s)
        case .int64(let s): body(s)
        case .float32(let s): body(s)
        case .float64(let s): body(s)
        }
    }
}

/// What ``FrameBlock`` reads from any of its stacks.
protocol FrameStackProtocol {
    var shape: [Int] { get }
    var count: Int { get }
}

extension FrameStack: FrameStackProtocol {}

/// The caller's buffer, shared by the decoding workers; each writes only its own frame's bytes.
private struct UncheckedBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
}

/// The first error of any worker; later workers see it and skip their frame.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    func record(_ error: any Error) {
        lock.withLock { if stored == nil { stored = error } }
    }

    var isSet: Bool { lock.withLock { stored != nil } }
    var error: (any Error)? { lock.withLock { stored } }
}
