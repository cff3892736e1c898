import Foundation
import Zarr

/// How the writer compresses detector frames.
public enum FrameCodec: Sendable, Equatable {
    case zstd(level: Int32)
    public static let `default` = FrameCodec.zstd(level: 0)
}

/// The writer's side of the Zarr store: the root group, and the arrays of the open run.
final class FrameStore {
    let path: String

    init(path: String) throws {
        self.path = path
        let groupJSON = path + "/zarr.json"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: groupJSON) {
            try Data(#"{"attributes": {}, "zarr_format": 3, "node_type": "group"}"#.utf8).write(to: URL(fileURLWithPath: groupJSON), options: .atomic)
        }
    }

    func sync() throws {}
    func finish() throws {}
    func closeRun(_ uid: String) {}
}
