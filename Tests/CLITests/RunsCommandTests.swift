import Foundation
import JSONValue
import Resonance
import Testing

@Suite("resonance runs")
struct RunsCommandTests {
    let dir = TempDir()
    var db: String { dir.file("bt.db") }

    init() throws { try BrowseFixture.write(to: dir.file("bt.db")) }

    @Test func jsonListsEveryRunNewestFirstWithTheContractKeys() throws {
        let result = try resonance("runs", db, "--json")
        #expect(result.status == 0, "\(result.stderr)")
        let runs = try #require(try JSONValue(parsing: result.stdout).arrayValue)
        #expect(runs.map { $0["uid"]?.stringValue } == [BrowseFixture.imagesUID, BrowseFixture.alignUID, BrowseFixture.scanUID])
        for run in runs {
            #expect(run.objectValue?.keys.sorted() == ["exit_status", "num_events", "plan_name", "sample_name", "time_start", "time_stop", "uid"])
        }
        let scan = try #require(runs.last)
        #expect(scan["plan_name"] == "nexafs")
        #expect(scan["sample_name"] == "PS")
        #expect(scan["exit_status"] == "success")
        #expect(scan["num_events"] == 8)  // 6 primary + 2 baseline
        #expect((scan["time_start"]?.doubleValue ?? 0) <= (scan["time_stop"]?.doubleValue ?? 0))
        #expect(runs[1]["exit_status"] == "aborted")
        #expect(runs[1]["sample_name"] == "PMMA")
    }

    @Test func filtersAndLimit() throws {
        func uids(_ args: String...) throws -> [String?] {
            let result = try runCommand(builtExecutable("resonance"), ["runs", db, "--json"] + args)
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONValue(parsing: result.stdout).arrayValue?.map { $0["uid"]?.stringValue } ?? []
        }
        #expect(try uids("--sample", "PS") == [BrowseFixture.imagesUID, BrowseFixture.scanUID])
        #expect(try uids("--plan", "align") == [BrowseFixture.alignUID])
        #expect(try uids("--sample", "PS", "--plan", "nexafs") == [BrowseFixture.scanUID])
        #expect(try uids("--limit", "1") == [BrowseFixture.imagesUID])
        #expect(try uids("--sample", "nobody") == [])
        #expect(try uids("--status", "aborted") == [BrowseFixture.alignUID])
        #expect(try uids("--status", "open") == [])
        #expect(try uids("--where", "edge=C K") == [BrowseFixture.scanUID])
        #expect(try uids("--where", "edge=N K") == [])
        #expect(try uids("--since", "2000-01-01", "--until", "2999-12-31") == [BrowseFixture.imagesUID, BrowseFixture.alignUID, BrowseFixture.scanUID])
        #expect(try uids("--until", "2000-01-01") == [])
        let bad = try resonance("runs", db, "--since", "2026-02-30")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("The value '2026-02-30' is invalid for '--since <date>'"))
        let object = try resonance("runs", db, "--where", #"scan={"points": 6}"#)
        #expect(object.status != 0)
        #expect(object.stderr.contains(#"metadata "scan" = {"points": 6}: only strings, numbers, booleans and null can be matched"#))
    }

    @Test func tableShowsUniquePrefixesAndAligns() throws {
        let result = try resonance("runs", db)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)  // header, rule, 3 runs
        #expect(lines[0].hasPrefix("uid"))
        // The two runs share 31 digits, so each needs all 32 to be told apart.
        #expect(lines[3].hasPrefix(BrowseFixture.alignUID + "  "))
        #expect(lines[4].hasPrefix(BrowseFixture.scanUID + "  "))
        #expect(lines[2].hasPrefix("7f3e9a0b "))
        #expect(lines[4].contains("nexafs") && lines[4].contains("PS") && lines[4].contains("success"))
        #expect(lines[3].contains("aborted"))
        // Columns line up: every row is as long as the rule (the last column is left-aligned).
        let widths = Set(lines.dropFirst(2).map { $0.firstRange(of: "  20")?.lowerBound.utf16Offset(in: $0) })
        #expect(widths.count == 1)
    }

    @Test func badFilesFailWithOneClearLine() throws {
        let missing = try resonance("runs", dir.file("nope.db"))
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error: \(dir.file("nope.db")): no such file\n")
        #expect(missing.stdout.isEmpty)

        try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: dir.file("text.db")))
        let text = try resonance("runs", dir.file("text.db"))
        #expect(text.status == 1)
        #expect(text.stderr.hasPrefix("Error: \(dir.file("text.db")): not an SQLite database"))
        #expect(text.stderr.split(separator: "\n").count == 1)

        let negative = try resonance("runs", db, "--limit=-1")
        #expect(negative.status == 64)
        #expect(negative.stderr.contains("--limit must not be negative"))
    }

    @Test func emptyBeamtimeSaysSo() throws {
        let empty = dir.file("empty.db")
        try RunWriter(dbPath: empty, sample: .init(name: "x")).open { _ in }
        let result = try resonance("runs", empty)
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("no runs yet"))
        #expect(try resonance("runs", empty, "--json").stdout == "[]\n")
    }
}
