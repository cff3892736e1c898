import Foundation
import Zarr

/// The writer's frames: the root group of the Zarr store, the frame arrays of the open run
/// and the next index of each. `writeFrame` checks a frame here, which gives it the next
/// index of its array and hands it to the ``FramePipeline`` (compression on all cores, in
/// order), which hands it to the ``FramePublisher`` (chunk files, `zarr.json`, image refs);
/// ``Writeback`` gives the written frames' page cache back and syncs them before their
/// refs are committed.
///
/// A frame that cannot be compressed or stored stops the pipeline: it and the frames
/// submitted after it are not stored (no reference either), and the next call
/// (``checkFailure()``, from writeFrame, writeEvent, flush, closeRun or close) throws
/// ``RunWriterError/framesNotWritten(field:firstIndex:count:cause:)`` once; the writer then
/// goes on appending after the last stored frame.
///
/// Used under the RunWriter's lock.
final class FrameStore {
    let path: String
    let store: FilesystemStore
    private let publisher: FramePublisher
    private let pipeline: FramePipeline

    /// The arrays written in the open run: metadata for checks and encoding, next index.
    private struct Field {
        var array: ZarrArray
        var nextIndex: Int
    }
    private var fields: [String: Field] = [:]

    /// `beforeShardSync` runs before each shard's `fdatasync` (tests: a slow or failing sync).
    init(path: String, maxQueuedFrames: Int? = nil, maxQueuedBytes: Int = 256 << 20,
         beforeShardSync: (@Sendable (String) throws -> Void)? = nil,
         enqueueRef: @escaping @Sendable (ImageRefRow) -> Void) throws {
        self.path = path
        store = try FilesystemStore(root: path, create: true)
        if try store.get("zarr.json") == nil {
            _ = try ZarrGroup.create(in: store, at: "")
        }
        publisher = FramePublisher(store: store, beforeShardSync: beforeShardSync, enqueueRef: enqueueRef)
        pipeline = FramePipeline(publisher: publisher, maxQueuedFrames: maxQueuedFrames, maxQueuedBytes: maxQueuedBytes)
    }

    /// Frames waiting for or in compression, or compressed and waiting to be stored.
    var maxQueuedFrames: Int { pipeline.maxQueuedFrames }

    // MARK: Submitting

    /// Checks a frame against the frames already written to `runs/<run>/<field>` (creating
    /// the array for the first), gives it the next index and queues it; waits while the
    /// pipeline is full. `encode` compresses the frame's pixels with the array it is given.
    func submit(run: String, field: String, rows: Int, columns: Int, dtype: FrameDType, byteCount: Int,
                codec: FrameCodec, layout: FrameLayout = .automatic, eventUID: String,
                encode: @escaping @Sendable (ZarrArray) throws -> [UInt8]?) throws {
        try checkFailure()
        // A store deleted under the writer would otherwise be re-created piecemeal by the
        // chunk writes: half a store without its groups.
        guard access(path + "/zarr.json", F_OK) == 0 else {
            throw DatabaseFileError(path: path, problem: .storeRemoved)
        }
        let key = "runs/\(run)/\(field)"
        var current: Field
        if let known = fields[key] {
            current = known
        } else {
            let array: ZarrArray
            if try store.get(key + "/zarr.json") != nil {
                array = try ZarrArray.open(in: store, at: key)
            } else {
                let metadata = try layout.metadata(rows: rows, columns: columns, dtype: dtype, codec: codec)
                array = try ZarrArray.create(in: store, at: key, metadata: metadata)
            }
            current = Field(array: array, nextIndex: array.shape.first ?? 0)
        }
        let shape = current.array.shape
        // One chunk per frame, alone in its file or an inner chunk of shards of whole frames.
        guard shape.count == 3, current.array.innerChunkShape == [1, shape[1], shape[2]],
              current.array.chunkShape.dropFirst().elementsEqual(shape.dropFirst()) else {
            throw RunWriterError.invalidFrame(field: field, reason: "the array at \(key) is not a frame stack (shape \(shape))")
        }
        guard shape[1] == rows, shape[2] == columns else {
            throw RunWriterError.invalidFrame(field: field, reason: "shape \(rows)x\(columns) differs from the \(shape[1])x\(shape[2]) frames already written")
        }
        guard current.array.dataType == dtype.zarrDataType else {
            throw RunWriterError.invalidFrame(field: field, reason: "dtype \(dtype.rawValue) differs from the \(current.array.dataType.name) frames already written")
        }
        let index = current.nextIndex
        let ref = ImageRefRow(eventUID: eventUID, field: field, zarrGroup: key, index: Int64(index),
                              rows: Int64(rows), columns: Int64(columns), dtype: dtype.rawValue, codec: codec.name)

        let job = FramePipeline.Job(seq: 0, key: key, array: current.array, index: index, byteCount: byteCount, ref: ref)
        guard pipeline.submit(job, encode: encode) else {
            try checkFailure()
            return
        }
        current.nextIndex += 1
        fields[key] = current
    }

    // MARK: Waiting and failures

    /// Waits until every submitted frame is stored (or dropped after a failure), then throws
    /// the failure, if any.
    func drain() throws {
        waitUntilStored()
        try checkFailure()
    }

    /// Waits until every submitted frame is stored or dropped (their image_refs rows are
    /// then queued); a failure stays for ``checkFailure()``.
    func waitUntilStored() {
        pipeline.waitUntilStored()
    }

    /// Throws, once, the failure of a frame written in the background. Waits for the
    /// frames still in the pipeline first (they are dropped), so the error counts them and
    /// the next frame of each array follows the last one stored.
    func checkFailure() throws {
        guard let f = pipeline.takeFailure() else { return }
        for key in fields.keys {
            fields[key]!.nextIndex = publisher.storedLength(of: key) ?? fields[key]!.array.shape[0]
        }
        throw RunWriterError.framesNotWritten(
            field: f.field, firstIndex: f.index, count: 1 + f.dropped, cause: UnderlyingError(f.error, context: f.key))
    }

    /// Whether a background failure waits to be reported (cheap; for writeEvent).
    var hasFailure: Bool { pipeline.hasFailure }

    /// Stores what is queued, then ends the worker threads (they start again should the
    /// writer go on: stop threw, the writer stays open).
    func stop() throws {
        defer { pipeline.stop() }
        try drain()
    }

    /// Forgets the run's arrays (their files stay). Call after ``drain()``.
    func closeRun(_ uid: String) {
        let prefix = "runs/\(uid)/"
        fields = fields.filter { !$0.key.hasPrefix(prefix) }
        publisher.forget(prefix: prefix)
    }
}
