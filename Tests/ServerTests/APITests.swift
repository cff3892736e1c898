import Foundation
import HTTPTypes
import HummingbirdTesting
import JSONValue
import NIOCore
import Resonance
import ResonanceServer
import TestSupport
import Testing

/// One fixture for the read-only tests of this file (written once, never changed).
let sharedFixture: Fixture = try! Fixture()

func json(_ response: TestResponse) throws -> JSONValue {
    try JSONValue(parsing: String(buffer: response.body))
}

/// Every read endpoint through Hummingbird's router test client (no socket).
@Suite struct APITests {
    let fixture = sharedFixture

    @Test func beamtimesListsEachBeamtimeAndPassesOverTheIndex() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let response = try await client.execute(uri: "/api/beamtimes", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let list = try json(response).arrayValue ?? []
            #expect(list.map { $0["label"]?.stringValue } == ["bt1", "bt2"])
            #expect(list[0]["path"]?.stringValue == "bt1.db")
            #expect(list[1]["path"]?.stringValue == "sub/bt2.db")
            #expect(list[0]["runs"]?.intValue == 2)
            #expect(list[0]["first_run"]?.doubleValue == 1_700_000_000)
            #expect(list[0]["last_run"]?.doubleValue == 1_700_100_000)
        }
    }

    @Test func runsAreNewestFirstAndFiltered() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let all = try json(try await client.execute(uri: "/api/beamtimes/bt1/runs", method: .get)).arrayValue ?? []
            #expect(all.map { $0["uid"]?.stringValue } == [fixture.rsoxsUID, fixture.nexafsUID])
            #expect(Set(all[0].objectValue?.keys.map { $0 } ?? []) == ["uid", "plan_name", "sample_name", "time_start", "time_stop", "exit_status", "num_events"])
            #expect(all[1]["num_events"]?.intValue == Int64(Fixture.eventCount))

            let failed = try json(try await client.execute(uri: "/api/beamtimes/bt1/runs?status=failed", method: .get)).arrayValue ?? []
            #expect(failed.map { $0["uid"]?.stringValue } == [fixture.rsoxsUID])
            let ps = try json(try await client.execute(uri: "/api/beamtimes/bt1/runs?sample=PS&plan=nexafs", method: .get)).arrayValue ?? []
            #expect(ps.map { $0["uid"]?.stringValue } == [fixture.nexafsUID])
            let since = try json(try await client.execute(uri: "/api/beamtimes/bt1/runs?since=1700050000", method: .get)).arrayValue ?? []
            #expect(since.map { $0["uid"]?.stringValue } == [fixture.rsoxsUID])
            let until = try json(try await client.execute(uri: "/api/beamtimes/bt1/runs?until=2023-11-14T23:00:00Z", method: .get)).arrayValue ?? []
            #expect(until.map { $0["uid"]?.stringValue } == [fixture.nexafsUID])
            let one = try json(try await client.execute(uri: "/api/beamtimes/bt1/runs?limit=1", method: .get)).arrayValue ?? []
            #expect(one.count == 1)

            let bad = try await client.execute(uri: "/api/beamtimes/bt1/runs?status=done", method: .get)
            #expect(bad.status == .badRequest)
            #expect(bad.headers[.contentType] == "application/problem+json")
            #expect(try json(bad)["detail"]?.stringValue?.contains("status=\"done\"") == true)
            let badDate = try await client.execute(uri: "/api/beamtimes/bt1/runs?since=yesterday", method: .get)
            #expect(badDate.status == .badRequest)
            let missing = try await client.execute(uri: "/api/beamtimes/nope/runs", method: .get)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["detail"]?.stringValue?.contains("\"nope\"") == true)
        }
    }

    @Test func runByUIDOrPrefixIsWhatShowJSONPrints() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let full = try json(try await client.execute(uri: "/api/runs/\(fixture.nexafsUID)", method: .get))
            let prefix = try json(try await client.execute(uri: "/api/runs/aaaa1111", method: .get))
            #expect(full == prefix)
            #expect(full["beamtime"]?.stringValue == "bt1")
            #expect(full["plan_name"]?.stringValue == "nexafs")
            #expect(full["metadata"]?["edge"]?.stringValue == "C K")
            #expect(full["sample"]?["formula"]?.stringValue == "C8H8")
            #expect(full["streams"]?.arrayValue?.first?["name"]?.stringValue == "primary")
            #expect(full["frame_fields"]?.arrayValue?.first?["field"]?.stringValue == "ccd")
            #expect(full["frame_fields"]?.arrayValue?.first?["dtype"]?.stringValue == "int32")
            let other = try json(try await client.execute(uri: "/api/runs/cccc3333", method: .get))
            #expect(other["beamtime"]?.stringValue == "bt2")

            #expect(try await client.execute(uri: "/api/runs/aaaa", method: .get).status == .badRequest)   // too short
            #expect(try await client.execute(uri: "/api/runs/dddd4444", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/runs/not-hex-at-all", method: .get).status == .badRequest)
        }
    }

    @Test func tableAsColumnarJSONWithFieldsAndAfterSeq() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let response = try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table", method: .get)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(text.hasPrefix("{\"seq_num\": [1,2,3,4,"))
            #expect(text.contains("NaN"))   // energy of event 4, as Python's json writes it
            let table = try json(response)
            #expect(table.objectValue?.keys.map { $0 } == ["seq_num", "time", "energy", "i0", "note"])
            #expect(table["energy"]?.arrayValue?.count == Fixture.eventCount)
            #expect(table["energy"]?.arrayValue?[1].doubleValue == 280.5)
            #expect(table["energy"]?.arrayValue?[3].doubleValue?.isNaN == true)

            let part = try json(try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?fields=i0&after_seq=22", method: .get))
            #expect(part.objectValue?.keys.map { $0 } == ["seq_num", "time", "i0"])
            #expect(part["seq_num"] == [23, 24, 25])
            #expect(part["i0"] == [220, 230, 240])
            let none = try json(try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?after_seq=25", method: .get))
            #expect(none["seq_num"] == [])
            // A live poll names its fields before new rows carry them: they come, empty.
            let noneYet = try json(try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?fields=energy&after_seq=25", method: .get))
            #expect(noneYet.objectValue?.keys.map { $0 } == ["seq_num", "time", "energy"])
            #expect(noneYet["energy"] == [])

            let csv = String(buffer: try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?format=csv&fields=energy,note", method: .get).body)
            let lines = csv.split(separator: "\n")
            #expect(lines.first == "seq_num,time,energy,note")
            #expect(lines[2] == "2,1700000001.0,280.5,\"odd, \"\"quoted\"\"\"")
            #expect(lines[4].hasPrefix("4,1700000003.0,NaN,"))

            let badField = try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?fields=nope", method: .get)
            #expect(badField.status == .badRequest)
            #expect(try json(badField)["detail"]?.stringValue?.contains("energy") == true)
            #expect(try await client.execute(uri: "/api/runs/aaaa1111/streams/baseline/table", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?format=xml", method: .get).status == .badRequest)
        }
    }

    /// The table route and `resonance table` write with the same `TableWriter`: the same
    /// bytes for the same format, and `after_seq` gives exactly the whole table's last lines.
    @Test func tableIsByteForByteWhatResonanceTablePrints() async throws {
        let db = fixture.root + "/bt1.db"
        let cliCSV = try resonance("table", db, "aaaa1111", "--format", "csv")
        #expect(cliCSV.status == 0, "\(cliCSV.stderr)")
        let cliColumns = try resonance("table", db, "aaaa1111", "--format", "columns")
        #expect(cliColumns.status == 0, "\(cliColumns.stderr)")
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let csv = try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?format=csv", method: .get)
            #expect(csv.status == .ok)
            #expect(String(buffer: csv.body) == cliCSV.stdout)
            let columns = try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table", method: .get)
            #expect(String(buffer: columns.body) == cliColumns.stdout)

            let lines = cliCSV.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == Fixture.eventCount + 2)   // header, rows, and the empty piece after the last "\n"
            let tail = try await client.execute(uri: "/api/runs/aaaa1111/streams/primary/table?format=csv&after_seq=20", method: .get)
            #expect(String(buffer: tail.body) == ([lines[0]] + lines[21...]).joined(separator: "\n"))
        }
    }

    @Test func framesDescribedAndReadRawNpyAndRegions() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let info = try json(try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd", method: .get))
            #expect(info["count"]?.intValue == Int64(Fixture.frameCount))
            #expect(info["shape"] == [3, 4, 5])
            #expect(info["dtype"]?.stringValue == "int32")
            #expect(info["seq_nums"] == [1, 2, 3])
            #expect(info["codec"] != nil)

            let raw = try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd/1", method: .get)
            #expect(raw.status == .ok)
            #expect(raw.headers[HTTPField.Name("X-Shape")!] == "4,5")
            #expect(raw.headers[HTTPField.Name("X-Dtype")!] == "int32")
            let pixels = Array(raw.body.readableBytesView).withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
            #expect(pixels == (0..<20).map { Int32(100 + $0) })

            let last = try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd/-1?rows=1:3&cols=2:", method: .get)
            #expect(last.headers[HTTPField.Name("X-Shape")!] == "2,3")
            let region = Array(last.body.readableBytesView).withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
            #expect(region == [207, 208, 209, 212, 213, 214])

            let npy = Array(try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd/0?format=npy", method: .get).body.readableBytesView)
            #expect(Array(npy.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
            let headerLength = Int(npy[8]) | Int(npy[9]) << 8
            let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
            #expect(header.contains("'descr': '<i4'") && header.contains("'shape': (4, 5)"))
            #expect((10 + headerLength) % 64 == 0)
            #expect(npy.count == 10 + headerLength + 80)

            #expect(try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd/3", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd/x", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/api/runs/aaaa1111/frames/ccd/0?rows=3:9", method: .get).status == .badRequest)
            let noField = try await client.execute(uri: "/api/runs/aaaa1111/frames/pilatus", method: .get)
            #expect(noField.status == .notFound)
            #expect(try json(noField)["detail"]?.stringValue?.contains("ccd") == true)
        }
    }

    @Test func searchReadsTheMasterIndex() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let hits = try json(try await client.execute(uri: "/api/search?plan=nexafs", method: .get)).arrayValue ?? []
            #expect(hits.map { $0["uid"]?.stringValue } == [fixture.nexafsUID])
            #expect(hits.first?["researcher"]?.stringValue == "Ada")
            #expect(hits.first?["beamtime_label"]?.stringValue == "bt1")
            let none = try json(try await client.execute(uri: "/api/search?sample=nobody", method: .get)).arrayValue
            #expect(none == [])
            #expect(try await client.execute(uri: "/api/search?sample=a&sample_contains=b", method: .get).status == .badRequest)
        }
        var config = try fixture.configuration()
        config.index = nil
        try await ServerApplication(configuration: config).makeApplication().test(.router) { client async throws in
            let response = try await client.execute(uri: "/api/search", method: .get)
            #expect(response.status == .notFound)
            #expect(try json(response)["detail"]?.stringValue?.contains("--index") == true)
        }
    }

    @Test func searchMatchesMetadataWithWhere() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            func uids(_ uri: String) async throws -> [String?] {
                try json(try await client.execute(uri: uri, method: .get)).arrayValue?.map { $0["uid"]?.stringValue } ?? []
            }
            #expect(try await uids("/api/search?where=edge%3DC%20K") == [fixture.nexafsUID])
            #expect(try await uids("/api/search?where=edge=C%20K&plan=nexafs") == [fixture.nexafsUID])
            #expect(try await uids("/api/search?where=edge=C%20K&where=edge=N%20K").isEmpty)  // the last of one key counts, as --where
            #expect(try await uids("/api/search?where=edge=N%20K").isEmpty)
            for bad in ["/api/search?where=edge", "/api/search?where=edge=%5B1%5D", "/api/search?where=x=NaN"] {
                let response = try await client.execute(uri: bad, method: .get)
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func unknownRoutesAreProblemJSON() async throws {
        let app = try fixture.server().makeApplication()
        try await app.test(.router) { client async throws in
            let response = try await client.execute(uri: "/api/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(try json(response)["status"]?.intValue == 404)
        }
    }
}
