import Foundation
import JSONValue
import Testing
@testable import ResonanceBluesky

/// The pieces of the mapping that need no RunEngine: uids, file templates, file readers,
/// document lines.
@Suite struct MappingUnitTests {
    @Test func uidsBecome32HexAndBack() {
        #expect(BlueskyUID.formatUID("8A622C8A-f530-4c65-bc51-b2abb133850e") == "8a622c8af5304c65bc51b2abb133850e")
        #expect(BlueskyUID.formatUID("8a622c8af5304c65bc51b2abb133850e") == "8a622c8af5304c65bc51b2abb133850e")
        #expect(BlueskyUID.dashed("8a622c8af5304c65bc51b2abb133850e") == "8a622c8a-f530-4c65-bc51-b2abb133850e")
        // Not a UUID: a stable hash, 32 hex digits, different for different text.
        let a = BlueskyUID.formatUID("run-7"), b = BlueskyUID.formatUID("run-8")
        #expect(a.count == 32 && a.allSatisfy(\.isHexDigit) && a == BlueskyUID.formatUID("run-7") && a != b)
        #expect(BlueskyUID.key("8a622c8a-f530-4c65-bc51-b2abb133850") == nil)      // 31 digits
        #expect(BlueskyUID.key("8a622c8af-530-4c65-bc51-b2abb133850e") == nil)     // a dash out of place
    }

    @Test func fileTemplatesFormatAsPythonDoes() {
        #expect(ExternalFrames.percentFormat("%s%s_%6.6d.tiff", [.string("/d/"), .string("img"), .int(42)]) == "/d/img_000042.tiff")
        #expect(ExternalFrames.percentFormat("%s_%d.npy", [.string("/d/x"), .int(3)]) == "/d/x_3.npy")
        #expect(ExternalFrames.percentFormat("%05d|%5d|%-3d|%%", [.int(7), .int(7), .int(7)]) == "00007|    7|7  |%")
        #expect(ExternalFrames.braceFormat("img_{:06d}.tiff", 12) == "img_000012.tiff")
        #expect(ExternalFrames.braceFormat("{:05}.tif", 3) == "00003.tif")
        #expect(ExternalFrames.filePath(uri: "file://localhost/data/a%20b.zarr") == "/data/a b.zarr")
        #expect(ExternalFrames.filePath(uri: "file:///data/x") == "/data/x")
    }

    @Test func npyAndTIFFReadBothByteOrders() throws {
        let dir = TempDir()
        // .npy, big-endian uint16 2x3, written by hand as numpy does.
        var header = "{'descr': '>u2', 'fortran_order': False, 'shape': (2, 3), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        npy += Array(header.utf8)
        for v: UInt16 in [1, 2, 3, 400, 500, 65535] { npy += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        try Data(npy).write(to: URL(fileURLWithPath: dir.file("a.npy")))
        let frames = try RawFrame.readNPY(path: dir.file("a.npy"))
        #expect(frames.count == 1 && frames[0].rows == 2 && frames[0].columns == 3 && frames[0].dtype == .uint16)
        #expect(frames[0].bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) } == [1, 2, 3, 400, 500, 65535])

        // TIFF, big-endian ("MM"), float32 2x2, one strip.
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let pixels: [Float] = [1.5, -2, 0, 1e30]
        var tiff: [UInt8] = Array("MM".utf8) + be16(42) + be32(8)
        let entries: [(Int, Int, Int)] = [(256, 3, 2), (257, 3, 2), (258, 3, 32), (259, 3, 1), (273, 4, 8 + 2 + 12 * 7 + 4),
                                          (277, 3, 1), (339, 3, 3)]
        var ifd = be16(entries.count + 1)
        for (tag, type, value) in entries {
            ifd += be16(tag) + be16(type) + be32(1) + (type == 3 ? be16(value) + [0, 0] : be32(value))
        }
        ifd += be16(279) + be16(4) + be32(1) + be32(16)
        ifd += be32(0)
        tiff += ifd
        let stripOffset = tiff.count
        for p in pixels { tiff += be32(Int(p.bitPattern)) }
        // Point the strip offset at the pixels.
        let offsetEntry = 8 + 2 + 12 * 4 + 8
        tiff.replaceSubrange(offsetEntry..<(offsetEntry + 4), with: be32(stripOffset))
        try Data(tiff).write(to: URL(fileURLWithPath: dir.file("a.tiff")))
        let t = try RawFrame.readTIFF(path: dir.file("a.tiff"))
        #expect(t.count == 1 && t[0].rows == 2 && t[0].columns == 2 && t[0].dtype == .float32)
        #expect(t[0].bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } == pixels)

        #expect(throws: RawFrame.ReadError.self) { try RawFrame.readNPY(path: dir.file("a.tiff")) }
        #expect(throws: RawFrame.ReadError.self) { try RawFrame.readTIFF(path: dir.file("missing.tiff")) }
    }

    @Test func arraysInEventsBecomeFramesOnlyWhenExact() throws {
        let ints = try JSONValue(parsing: "[[1, 2], [3, 4]]")
        #expect(RawFrame.fromJSON(ints, dtypeNumpy: nil)?.dtype == .int64)
        #expect(RawFrame.fromJSON(ints, dtypeNumpy: "<u2")?.dtype == .uint16)
        let floats = try JSONValue(parsing: "[[1.5, 2], [3, 4]]")
        // A declared integer type that cannot hold 1.5 is not used.
        #expect(RawFrame.fromJSON(floats, dtypeNumpy: "<u2")?.dtype == .float64)
        #expect(RawFrame.fromJSON(try JSONValue(parsing: "[[1, 2], [3]]"), dtypeNumpy: nil) == nil)   // ragged
        #expect(RawFrame.fromJSON(try JSONValue(parsing: "[1, 2]"), dtypeNumpy: nil) == nil)           // 1-D
    }

    @Test func documentLinesInBothShapes() throws {
        let pair = try BlueskyDocument(jsonLine: #"["stop", {"uid": "u", "exit_status": "success"}]"#, line: 3)
        let object = try BlueskyDocument(jsonLine: #"{"name": "stop", "doc": {"uid": "u", "exit_status": "success"}}"#, line: 3)
        #expect(pair.name == .stop && object.name == .stop && pair.body == object.body)
        #expect(throws: IngestError(line: 4, problem: .unknownDocumentName("bogus"))) {
            try BlueskyDocument(jsonLine: #"["bogus", {}]"#, line: 4)
        }
        #expect(throws: IngestError.self) { try BlueskyDocument(jsonLine: #"["start"]"#, line: 5) }
    }

    @Test func linesAreSplitAcrossReadsAndTheLastNeedsNoNewline() throws {
        let dir = TempDir()
        let text = "a\n\nbb\n" + String(repeating: "c", count: 3000) + "\nlast"
        try text.write(toFile: dir.file("in.txt"), atomically: true, encoding: .utf8)
        let fd = open(dir.file("in.txt"), O_RDONLY)
        defer { close(fd) }
        var reader = JSONLinesReader(fd: fd)
        reader.chunkSize = 16   // lines longer than the buffer, newlines across reads
        var lines: [(String, Int)] = []
        try reader.forEachLine { bytes, n in lines.append((String(decoding: bytes, as: UTF8.self), n)) }
        #expect(lines.map(\.0) == ["a", "", "bb", String(repeating: "c", count: 3000), "last"])
        #expect(lines.map(\.1) == [1, 2, 3, 4, 5])
    }
}
