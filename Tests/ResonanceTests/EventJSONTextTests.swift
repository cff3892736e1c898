import Foundation
import GRDB
import Resonance
import Testing

/// The writer formats event data and timestamps with its own fast path; what it stores must
/// be exactly `JSONValue.object(...).jsonText` (Python's json.dumps), whatever the values.
@Suite("Event text")
struct EventTextTests {
    let dir = TempDir()

    @Test func storedTextIsJSONTextForEveryKindOfValue() throws {
        var rng = SeededGenerator(seed: 99)
        let specials: [Double] = [
            0.0, -0.0, .nan, .infinity, -.infinity, 1e-5, 0.0001, 0.00030000000000000003, 1e15, 1e16, 1e22,
            9007199254740994.0, 1234567890123456.8, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 285.0, -1.5e-10, 0.1 + 0.2,
        ]
        // Field names may hold any printable text, which JSON escapes.
        let names = ["energy", "i0", "naïve", "quote\"d", "back\\slash", "sp ace/slash", "emoji😀", "\u{2028}sep"]
        func randomDouble() -> Double {
            switch rng.next() % 4 {
            case 0: return specials[Int(rng.next() % UInt64(specials.count))]
            case 1: return Double(bitPattern: rng.next())
            case 2: return (rng.uniform() - 0.5) * pow(10, Double(Int(rng.next() % 40)) - 20)
            default: return 270 + rng.uniform() * 50
            }
        }
        var events: [(JSONObject, Timestamps)] = []
        for i in 0..<3000 {
            var data = JSONObject()
            var timestamps = Timestamps()
            let count = Int(rng.next() % 6)
            for k in 0..<count {
                let name = i % 7 == 0 ? names[(k + i) % names.count] : ["energy", "i0", "diode", "theta", "mode", "ok"][k]
                switch rng.next() % 6 {
                case 0: data[name] = .int(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64))
                case 1: data[name] = .string(["", "C K", "naïve \"q\" \\ \n\t", "😀", "\u{1}"][Int(rng.next() % 5)])
                case 2: data[name] = .bool(rng.next() % 2 == 0)
                case 3: data[name] = .null
                default: data[name] = .double(randomDouble())
                }
                var t = randomDouble()
                if !t.isFinite { t = 1.7e9 }
                timestamps[name] = t
            }
            events.append((data, timestamps))
        }
        let db = dir.file("text.db")
        let writer = RunWriter(dbPath: db, sample: SampleMetadata(name: "PS"))
        let run = try writer.open { w in
            let run = try w.openRun("text")
            try w.openStream("primary")
            for (data, timestamps) in events { try w.writeEvent(data, timestamps: timestamps) }
            return run
        }
        let rows = try inspect(db) { db in
            try Row.fetchAll(db, sql: "SELECT e.data, e.timestamps FROM events e JOIN streams s ON s.uid = e.stream_uid WHERE s.run_uid = ? ORDER BY e.seq_num", arguments: [run])
        }
        try #require(rows.count == events.count)
        var mismatches = 0
        for (row, (data, timestamps)) in zip(rows, events) {
            var object = JSONObject()
            for (k, t) in timestamps { object[k] = .double(t) }
            let wantData = JSONValue.object(data).jsonText
            let wantTimestamps = JSONValue.object(object).jsonText
            if row["data"] as String != wantData || row["timestamps"] as String != wantTimestamps {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("stored \(row["data"] as String) \(row["timestamps"] as String)\nwanted \(wantData) \(wantTimestamps)")
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func changedFieldNamesAreCheckedAgain() throws {
        let writer = RunWriter(dbPath: dir.file("names.db"), sample: SampleMetadata(name: "PS"))
        try writer.open()
        try writer.openRun("names")
        try writer.openStream("primary")
        try writer.writeEvent(["energy": 1.0, "i0": 2.0])
        try writer.writeEvent(["energy": 1.0, "i0": 2.0])
        #expect(throws: RunWriterError.self) { try writer.writeEvent(["energy": 1.0, "bad\u{0}name": 2.0]) }
        #expect(throws: RunWriterError.self) { try writer.writeEvent(["": 1.0]) }
        try writer.writeEvent(["energy": 1.0, "i0": 2.0])
        try writer.closeRun()
        try writer.close()
    }
}
