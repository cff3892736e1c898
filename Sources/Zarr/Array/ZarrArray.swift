import JSONValue

/// A Zarr v3 array in a store: its metadata plus chunk, region, resize and append operations.
///
/// ```swift
/// let store = try FilesystemStore(root: "/data/beamtime.zarr", create: true)
/// // (frames, rows, cols) uint16, one chunk per frame, default bytes + zstd codecs
/// var ccd = try ZarrArray.create(in: store, at: "runs/abc/ccd",
///     metadata: ZarrArrayMetadata(shape: [0, 512, 512], dataType: .uint16, chunkShape: [1, 512, 512]))
/// try ccd.append(frame)                                  // frame: [UInt16], 512 * 512 values
/// let first: [UInt16] = try ccd.read(ZarrRegion(start: [0, 0, 0], shape: [1, 512, 512]))
/// ```
///
/// `ZarrArray` is a value: ``resize(to:)`` and ``append(_:)-(UnsafeRawBufferPointer)`` update
/// this copy's metadata and `zarr.json`; other copies keep the shape they had (``reload()``
/// re-reads it). Chunk encoding and decoding of multi-chunk reads and writes run on all cores.
public struct ZarrArray: Sendable {
    /// The store holding the array.
    public let store: any ZarrStore
    /// The array's node path.
    public let path: ZarrNodePath
    /// The array's metadata as last read or written.
    public internal(set) var metadata: ZarrArrayMetadata
    /// Store chunks even when every element equals the fill value. The default (false)
    /// matches zarr-python: such chunks are not written, and an existing file is deleted.
    public var storeEmptyChunks = false

    let pipeline: CodecPipeline
    let fillPattern: [UInt8]
    let fillIsNaN: Bool

    init(store: any ZarrStore, path: ZarrNodePath, metadata: ZarrArrayMetadata) throws {
        self.store = store
        self.path = path
        self.metadata = metadata
        let metadataPath = store.describe(path.key(of: "zarr.json"))
        pipeline = try CodecPipeline(codecs: metadata.codecs, shape: metadata.chunkShape, dataType: metadata.dataType,
            fill: metadata.fillValue, path: metadataPath)
        guard let pattern = metadata.fillValue.elementBytes(for: metadata.dataType) else {
            throw ZarrError.invalidFillValue(path: metadataPath, value: metadata.fillValue.description, dataType: metadata.dataType.name)
        }
        fillPattern = pattern
        fillIsNaN = metadata.fillValue.isNaN
    }

    // MARK: Opening and creating

    /// Opens the array at `path` (e.g. `"runs/abc/ccd"`).
    public static func open(in store: any ZarrStore, at path: String) throws -> ZarrArray {
        try open(in: store, at: try ZarrNodePath(path))
    }

    /// Opens the array at `path`.
    public static func open(in store: any ZarrStore, at path: ZarrNodePath) throws -> ZarrArray {
        let key = path.key(of: "zarr.json")
        guard let bytes = try store.get(key) else { throw ZarrError.nodeNotFound(path: store.describe(path.key)) }
        let metadata = try ZarrArrayMetadata(parsing: bytes, path: store.describe(key))
        return try ZarrArray(store: store, path: path, metadata: metadata)
    }

    /// Creates an array at `path`, writing its `zarr.json` and a group `zarr.json` for every
    /// missing parent. An existing node at `path` is an error unless `overwrite` is true, in
    /// which case it is deleted first (with all its chunks).
    public static func create(in store: any ZarrStore, at path: String, metadata: ZarrArrayMetadata,
                              overwrite: Bool = false) throws -> ZarrArray {
        try create(in: store, at: try ZarrNodePath(path), metadata: metadata, overwrite: overwrite)
    }

    /// Creates an array at `path`; see ``create(in:at:metadata:overwrite:)-(_,String,_,_)``.
    public static func create(in store: any ZarrStore, at path: ZarrNodePath, metadata: ZarrArrayMetadata,
                              overwrite: Bool = false) throws -> ZarrArray {
        let array = try ZarrArray(store: store, path: path, metadata: metadata)
        try Hierarchy.prepareNewNode(in: store, at: path, overwrite: overwrite)
        try array.writeMetadata()
        return array
    }

    /// Re-reads `zarr.json`, e.g. after another process appended to the array.
    public mutating func reload() throws {
        let fresh = try ZarrArray.open(in: store, at: path)
        let keep = storeEmptyChunks
        self = fresh
        storeEmptyChunks = keep
    }

    // MARK: Properties

    /// Length of each dimension.
    public var shape: [Int] { metadata.shape }
    /// Element type.
    public var dataType: ZarrDataType { metadata.dataType }
    /// Shape of every chunk.
    public var chunkShape: [Int] { metadata.chunkShape }
    /// Number of chunks along each dimension.
    public var gridShape: [Int] { metadata.gridShape }
    /// User attributes.
    public var attributes: JSONObject { metadata.attributes }
    /// Bytes in one decoded chunk (chunk elements × element size).
    public var chunkByteCount: Int { pipeline.decodedByteCount }

    /// Where `zarr.json` lives, for messages.
    var metadataLocation: String { store.describe(path.key(of: "zarr.json")) }
    /// Where the array lives, for messages.
    var location: String { store.describe(path.key) }

    /// The store key of the chunk at `indices` (e.g. `"runs/abc/ccd/c/3/0/0"`).
    public func chunkKey(at indices: [Int]) -> String {
        path.key(of: metadata.chunkKeyEncoding.key(for: indices))
    }

    // MARK: Metadata updates

    func writeMetadata() throws {
        try store.set(path.key(of: "zarr.json"), metadata.jsonBytes)
    }

    /// Replaces the user attributes and rewrites `zarr.json`.
    public mutating func setAttributes(_ attributes: JSONObject) throws {
        metadata.attributes = attributes
        try writeMetadata()
    }
}
