import Foundation
import JSONValue
import Testing

@Suite("resonance show")
struct ShowCommandTests {
    let dir = TempDir()
    var db: String { dir.file("bt.db") }

    init() throws { try BrowseFixture.write(to: dir.file("bt.db")) }

    @Test func textShowsSampleMetadataStreamsAndFields() throws {
        let result = try resonance("show", db, BrowseFixture.scanUID)
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        for expected in [
            "Run \(BrowseFixture.scanUID)", "nexafs", "success", "tester",
            "name          PS", "formula       C8H8", "serial        S-7", "tags          polymer, reference",
            "beamline_pos  bar2/slot5", "thickness_nm  80.0", "supplier      Acme",
            "edge  C K", "scan  {\"points\": 6}",
            "primary  6 events", "baseline  2 events",
            "Image fields  none",
        ] {
            #expect(text.contains(expected), "missing \(expected.debugDescription) in:\n\(text)")
        }
        // data_keys: one line per field, with dtype, units and source.
        let energy = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("energy ") })
        #expect(energy.split(separator: " ", omittingEmptySubsequences: true) == ["energy", "number", "-", "eV", "mono"])
        #expect(!text.split(separator: "\n").contains { $0.hasSuffix(" ") }, "no trailing spaces")
    }

    @Test func frameFieldsWithFrameCountsShapeDtypeAndCodec() throws {
        let result = try resonance("show", db, "7f3e9a0b")
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ") }
        let det = try #require(rows.first { $0.first == "det" })
        #expect(det.prefix(5) == ["det", "primary", "3", "4x5", "uint16"])
        #expect(det.last == "runs/\(BrowseFixture.imagesUID)/det")
        let flt = try #require(rows.first { $0.first == "flt" })
        #expect(flt.prefix(5) == ["flt", "primary", "2", "3x3", "float32"])

        let json = try JSONValue(parsing: try resonance("show", db, "7f3e9a0b", "--json").stdout)
        let fields = try #require(json["frame_fields"]?.arrayValue)
        #expect(fields.map { $0["field"] } == ["det", "flt"])
        #expect(fields[0]["num_frames"] == 3)
        #expect(fields[0]["shape"] == [4, 5])
        #expect(fields[0]["dtype"] == "uint16")
        #expect(fields[0]["codec"]?.stringValue?.isEmpty == false)
    }

    @Test func jsonHasEverything() throws {
        let result = try resonance("show", db, BrowseFixture.scanUID, "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue(parsing: result.stdout)
        #expect(json["uid"] == .string(BrowseFixture.scanUID))
        #expect(json["operator"] == "tester")
        #expect(json["metadata"] == ["edge": "C K", "scan": ["points": 6]])
        #expect(json["sample"]?["tags"] == ["polymer", "reference"])
        #expect(json["sample"]?["extra"]?["thickness_nm"] == 80.0)
        #expect(json["sample"]?["beamline_pos"] == "bar2/slot5")
        let streams = try #require(json["streams"]?.arrayValue)
        #expect(streams.map { $0["name"] } == ["primary", "baseline"])
        #expect(streams.map { $0["num_events"] } == [6, 2])
        #expect(streams[0]["data_keys"]?["energy"]?["units"] == "eV")
    }

    @Test func uidPrefixesFullAmbiguousShortAndUnknown() throws {
        // A unique prefix of 8+ digits, and the full uid with dashes, find the run.
        #expect(try resonance("show", db, "7f3e9a0b1c").stdout.hasPrefix("Run \(BrowseFixture.imagesUID)"))
        let dashed = "7f3e9a0b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
        #expect(try resonance("show", db, dashed).status == 0)

        let ambiguous = try resonance("show", db, "0193ab12")
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("\"0193ab12\" matches several runs"))
        #expect(ambiguous.stderr.contains(BrowseFixture.scanUID) && ambiguous.stderr.contains(BrowseFixture.alignUID))
        #expect(ambiguous.stdout.isEmpty)

        let short = try resonance("show", db, "0193ab")
        #expect(short.status == 1)
        #expect(short.stderr.contains("\"0193ab\" is not a run uid"))

        let unknown = try resonance("show", db, "deadbeef00")
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "Error: \(db): no run with uid \"deadbeef00\" in this beamtime\n")
    }

    @Test func badFilesFailWithOneClearLine() throws {
        let missing = try resonance("show", dir.file("nope.db"), BrowseFixture.scanUID)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.db: no such file"))
        try Data(repeating: 7, count: 200).write(to: URL(fileURLWithPath: dir.file("junk.db")))
        let junk = try resonance("show", dir.file("junk.db"), BrowseFixture.scanUID)
        #expect(junk.status == 1)
        #expect(junk.stderr.contains("junk.db: not an SQLite database"))
    }
}
