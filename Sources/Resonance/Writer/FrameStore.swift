import Foundation
import Zarr

/// The writer's side of the Zarr store: the root group, and the frame arrays of the open run.
///
/// Order of a frame's writes, so a crash at any moment leaves no reference to a frame that
/// is not there: the chunk file (written to a temporary name and renamed), then the
/// array's `zarr.json` with the new shape, then the `image_refs` row (queued after the
/// event it belongs to). Before a commit that holds image refs the committer syncs the
/// store's file system (``syncFileSystem(of:)``), so a power cut cannot keep a reference
/// and lose its frame either.
final class FrameStore {
    let path: String
    let store: FilesystemStore
    private var arrays: [String: ZarrArray] = [:]

    init(path: String) throws {
        self.path = path
        store = try FilesystemStore(root: path, create: true)
        if try store.get("zarr.json") == nil {
            _ = try ZarrGroup.create(in: store, at: "")
        }
    }

    /// Appends `frame` to `runs/<run>/<field>` and returns the row that references it.
    func append(run: String, field: String, rows: Int, columns: Int, dtype: FrameDType,
                pixels: UnsafeRawBufferPointer, codec: FrameCodec, eventUID: String) throws -> ImageRefRow {
        // A store deleted under the writer would otherwise be re-created piecemeal by the
        // chunk writes below: half a store without its groups.
        guard FileManager.default.fileExists(atPath: path + "/zarr.json") else {
            throw DatabaseFileError(path: path, problem: .unreadable(reason: "the Zarr store was removed while the writer had it open; frames cannot be stored"))
        }
        let arrayPath = "runs/\(run)/\(field)"
        var array: ZarrArray
        if let known = arrays[arrayPath] {
            array = known
        } else if try store.get(arrayPath + "/zarr.json") != nil {
            array = try ZarrArray.open(in: store, at: arrayPath)
        } else {
            let metadata = try ZarrArrayMetadata(
                shape: [0, rows, columns], dataType: dtype.zarrDataType, chunkShape: [1, rows, columns],
                fillValue: .zero(for: dtype.zarrDataType), codecs: codec.zarrCodecs(for: dtype))
            array = try ZarrArray.create(in: store, at: arrayPath, metadata: metadata)
        }
        let shape = array.shape
        guard shape.count == 3 else {
            throw RunWriterError.invalidFrame(field: field, reason: "the array at \(arrayPath) is not a frame stack (shape \(shape))")
        }
        guard shape[1] == rows, shape[2] == columns else {
            throw RunWriterError.invalidFrame(field: field, reason: "shape \(rows)x\(columns) differs from the \(shape[1])x\(shape[2]) frames already written")
        }
        guard array.dataType == dtype.zarrDataType else {
            throw RunWriterError.invalidFrame(field: field, reason: "dtype \(dtype.rawValue) differs from the \(array.dataType.name) frames already written")
        }
        let index = shape[0]
        let encoded = try array.encodeChunk(pixels)
        try array.storeEncodedChunk(at: [index, 0, 0], encoded)
        try array.resize(to: [index + 1, rows, columns])
        arrays[arrayPath] = array
        return ImageRefRow(eventUID: eventUID, field: field, zarrGroup: arrayPath, index: Int64(index),
                           rows: Int64(rows), columns: Int64(columns), dtype: dtype.rawValue, codec: codec.name)
    }

    /// Flushes everything written on the file system holding `path` to disk (`syncfs`):
    /// one call covers every chunk file and folder written since the last commit.
    static func syncFileSystem(of path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        // A store removed under the writer has nothing left to sync; its refs still commit.
        if fd < 0 && errno == ENOENT { return }
        guard fd >= 0 else { throw DatabaseFileError(path: path, problem: .unreadable(reason: String(cString: strerror(errno)))) }
        defer { close(fd) }
        guard linux_syncfs(fd) == 0 else { throw DatabaseFileError(path: path, problem: .unreadable(reason: "syncfs: " + String(cString: strerror(errno)))) }
    }

    /// Forgets the run's arrays (their files stay).
    func closeRun(_ uid: String) {
        arrays = arrays.filter { !$0.key.hasPrefix("runs/\(uid)/") }
    }
}

/// glibc's `syncfs` (a GNU extension the Swift Glibc module does not import).
@_silgen_name("syncfs")
private func linux_syncfs(_ fd: Int32) -> Int32
