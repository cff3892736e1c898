import Foundation
import Resonance
import Testing

@Suite("resonance index")
struct IndexCLITests {
    let dir = TempDir()

    struct WrittenRun {
        var uid: String
        var plan: String
        var sample: String
        var researcher: String
        var label: String
        var dbPath: String
        var timeStart: Double
    }

    /// Three beamtimes of two researchers, written with RunWriter; the runs oldest first.
    func makeBeamtimes() throws -> [WrittenRun] {
        let ada = try dir.makeFolder("ada"), grace = try dir.makeFolder("grace/2026")
        let plan: [(String, String, SampleMetadata, [String])] = [
            (ada + "/2026-03-05.db", "Ada", SampleMetadata(name: "PS", tags: ["polymer"]), ["nexafs", "rsoxs"]),
            (ada + "/2026-03-05.db", "Ada", SampleMetadata(name: "P3HT:PCBM", tags: ["polymer", "blend"]), ["nexafs"]),
            (ada + "/2026-04-01.db", "Ada", SampleMetadata(name: "PS-b-PMMA", tags: ["copolymer"]), ["nexafs"]),
            (grace + "/2026-05-10.db", "Grace", SampleMetadata(name: "Au", tags: ["calibration"]), ["rsoxs"]),
            (grace + "/2026-05-10.db", "Grace", SampleMetadata(name: "PS", tags: ["polymer"]), ["nexafs"]),
        ]
        var runs: [WrittenRun] = []
        for (path, researcher, sample, plans) in plan {
            try RunWriter(dbPath: path, sample: sample).open { w in
                for name in plans {
                    let uid = try w.openRun(name)
                    try w.openStream("primary")
                    try w.writeEvent(["energy": 270.0])
                    try w.closeRun()
                    let label = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                    runs.append(WrittenRun(uid: uid, plan: name, sample: sample.name, researcher: researcher, label: label, dbPath: path, timeStart: 0))
                }
            }
        }
        for k in runs.indices {
            runs[k].timeStart = try Catalog(dbPath: runs[k].dbPath).run(runs[k].uid).timeStart
        }
        return runs
    }

    func utc(_ t: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: t))
    }

    /// The --json output parsed: one dictionary of the keys' values per hit.
    func parseJSON(_ text: String) throws -> [[String: JSONValue]] {
        let array = try #require(try JSONValue(parsing: text).arrayValue)
        return try array.map { try #require($0.objectValue).reduce(into: [:]) { $0[$1.key] = $1.value } }
    }

    @Test func addThenSearchThreeBeamtimesOfTwoResearchers() throws {
        let runs = try makeBeamtimes()
        let newestFirst = Array(runs.reversed())

        let addAda = try resonance(["index", "add", "index.db", "--researcher", "Ada", "--root", "ada", "ada"], in: dir.path)
        #expect(addAda.status == 0, "\(addAda.stderr)")
        #expect(addAda.stdout.contains("2026-03-05: 3 runs (3 new)  \(dir.file("ada/2026-03-05.db"))"))
        #expect(addAda.stdout.contains("2026-04-01: 1 run (1 new)"))
        #expect(addAda.stdout.contains("indexed 2 beamtimes, 4 runs for Ada in index.db"))
        let addGrace = try resonance(["index", "add", "index.db", "--researcher", "Grace", "grace/2026/2026-05-10.db"], in: dir.path)
        #expect(addGrace.status == 0, "\(addGrace.stderr)")
        #expect(addGrace.stdout.contains("indexed 1 beamtime, 2 runs for Grace"))

        // The table: a header, one aligned row per run, newest first, times in UTC (TZ).
        let table = try resonance(["index", "search", "index.db"], in: dir.path)
        #expect(table.status == 0)
        #expect(table.stderr.isEmpty)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == runs.count + 1)
        let header = lines[0]
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["UID", "PLAN", "SAMPLE", "START", "RESEARCHER", "BEAMTIME"])
        let columnStarts = ["PLAN", "SAMPLE", "START", "RESEARCHER", "BEAMTIME"].map { header.range(of: $0)!.lowerBound.utf16Offset(in: header) }
        for (line, run) in zip(lines.dropFirst(), newestFirst) {
            let cells = [run.plan, run.sample, utc(run.timeStart), run.researcher, run.label]
            #expect(line.hasPrefix(run.uid + " "))
            for (start, cell) in zip(columnStarts, cells) {
                let offset = line.utf16.index(line.utf16.startIndex, offsetBy: start)
                #expect(line[offset...].hasPrefix(cell), "\(line) column at \(start) should be \(cell)")
            }
        }

        // --json: every hit with exactly the documented keys.
        let json = try resonance(["index", "search", "index.db", "--json"], in: dir.path)
        #expect(json.status == 0)
        let objects = try parseJSON(json.stdout)
        #expect(objects.count == runs.count)
        for (object, run) in zip(objects, newestFirst) {
            #expect(Set(object.keys) == ["uid", "plan_name", "sample_name", "time_start", "researcher", "beamtime_label", "db_path"])
            #expect(object["uid"]?.stringValue == run.uid)
            #expect(object["plan_name"]?.stringValue == run.plan)
            #expect(object["sample_name"]?.stringValue == run.sample)
            #expect(object["time_start"]?.doubleValue == run.timeStart)
            #expect(object["researcher"]?.stringValue == run.researcher)
            #expect(object["beamtime_label"]?.stringValue == run.label)
            #expect(object["db_path"]?.stringValue == run.dbPath)
        }

        // Each filter, through the executable.
        func uids(_ filters: [String]) throws -> [String] {
            let result = try resonance(["index", "search", "index.db", "--json"] + filters, in: dir.path)
            #expect(result.status == 0, "\(filters): \(result.stderr)")
            return try parseJSON(result.stdout).map { $0["uid"]?.stringValue ?? "" }
        }
        func expected(_ include: (WrittenRun) -> Bool) -> [String] { newestFirst.filter(include).map(\.uid) }
        #expect(try uids(["--sample", "PS"]) == expected { $0.sample == "PS" })
        #expect(try uids(["--sample-contains", "ps"]) == expected { $0.sample.contains("PS") })
        #expect(try uids(["--plan", "rsoxs"]) == expected { $0.plan == "rsoxs" })
        #expect(try uids(["--researcher", "Grace"]) == expected { $0.researcher == "Grace" })
        #expect(try uids(["--tag", "polymer"]) == expected { ["PS", "P3HT:PCBM"].contains($0.sample) })
        #expect(try uids(["--tag", "polymer", "--researcher", "Ada", "--plan", "nexafs"]) == expected {
            ["PS", "P3HT:PCBM"].contains($0.sample) && $0.researcher == "Ada" && $0.plan == "nexafs"
        })
        #expect(try uids(["--limit", "2"]) == Array(expected { _ in true }.prefix(2)))
        let today = utc(Date().timeIntervalSince1970).prefix(10)
        #expect(try uids(["--since", String(today), "--until", String(today)]).count == runs.count)  // a bare --until includes its day
        #expect(try uids(["--since", "2999-01-01"]).isEmpty)
        #expect(try uids(["--until", "2000-01-01T00:00:00Z"]).isEmpty)
        // A whole second: DateFormatter rounds to milliseconds first, so a start at x.9996 s
        // would print as the next second (it failed CI once that way).
        let cut = runs[2].timeStart.rounded(.down)
        let middle = utc(cut).replacingOccurrences(of: " ", with: "T") + "Z"
        #expect(try uids(["--until", middle]) == expected { $0.timeStart < cut })
        #expect(try resonance(["index", "search", "index.db", "--since", "2999-01-01", "--json"], in: dir.path).stdout == "[]\n")

        // Adding again changes nothing.
        let again = try resonance(["index", "add", "index.db", "--researcher", "Ada", "ada"], in: dir.path)
        #expect(again.status == 0)
        #expect(again.stdout.contains("2026-03-05: 3 runs  "))
        #expect(try resonance(["index", "search", "index.db", "--json"], in: dir.path).stdout == json.stdout)
    }

    @Test func errorsGoToStandardErrorWithANonZeroExit() throws {
        _ = try makeBeamtimes()
        #expect(try resonance(["index", "add", "index.db", "--researcher", "Ada", "ada"], in: dir.path).status == 0)

        let missing = try resonance(["index", "search", "nope.db"], in: dir.path)
        #expect(missing.status != 0)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("nope.db: no such file"))

        try Data("just some notes".utf8).write(to: URL(fileURLWithPath: dir.file("notes.db")))
        let notADatabase = try resonance(["index", "search", "notes.db"], in: dir.path)
        #expect(notADatabase.status != 0)
        #expect(notADatabase.stderr.contains("notes.db: not an SQLite database"))

        let swapped = try resonance(["index", "add", "ada/2026-03-05.db", "--researcher", "Ada", "index.db"], in: dir.path)
        #expect(swapped.status != 0)
        #expect(swapped.stderr.contains("ada/2026-03-05.db: a beamtime database, not a master index"))

        let unknown = try resonance(["index", "search", "index.db", "--researcher", "Linus"], in: dir.path)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains(#"no researcher named "Linus" in the index (known: Ada)"#))

        let badDate = try resonance(["index", "search", "index.db", "--since", "2026-02-30"], in: dir.path)
        #expect(badDate.status != 0)
        #expect(badDate.stderr.contains("The value '2026-02-30' is invalid for '--since <date>'"))

        let noFile = try resonance(["index", "add", "index.db", "--researcher", "Ada", "ada/missing.db"], in: dir.path)
        #expect(noFile.status != 0)
        #expect(noFile.stderr.contains("ada/missing.db: no such file or folder"))

        // A bad file among good ones: the good ones are indexed, the bad one named, exit non-zero.
        let mixed = try resonance(["index", "add", "index.db", "--researcher", "Ada", "notes.db", "ada/2026-04-01.db"], in: dir.path)
        #expect(mixed.status != 0)
        #expect(mixed.stdout.contains("2026-04-01: 1 run"))
        #expect(mixed.stderr.contains("notes.db: not an SQLite database"))

        // In a folder, files that are not beamtimes are skipped, and so is the index itself.
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("ada/cache.db")))
        let folder = try resonance(["index", "add", "ada/../index.db", "--researcher", "Ada", "."], in: dir.path)
        #expect(folder.status == 0, "\(folder.stderr)")
        #expect(folder.stderr.contains("skipped ./ada/cache.db: not a beamtime database"))
        #expect(!folder.stderr.contains("index.db"))
        #expect(folder.stdout.contains("indexed 3 beamtimes, 6 runs"))

        let noArgs = try resonance(["index", "add", "index.db", "--researcher", "Ada"], in: dir.path)
        #expect(noArgs.status != 0)
    }

    @Test func helpHasExamples() throws {
        for command in [["index", "--help"], ["index", "add", "--help"], ["index", "search", "--help"]] {
            let help = try resonance(command, in: dir.path)
            #expect(help.status == 0)
            #expect(help.stdout.contains("Examples:"))
            #expect(help.stdout.contains("resonance index "))
        }
        #expect(try resonance(["index", "search", "--help"], in: dir.path).stdout.contains("local time"))
    }

    @Test func theReferenceBeamtimeIsIndexedAndFound() throws {
        let reference = TempDir()
        let folder = reference.path
        _ = try copyReferenceBeamtime(to: reference)
        let expected = try JSONValue(parsing: String(contentsOfFile: fixturesDir + "/reference-beamtime/expected.json", encoding: .utf8))
        let runs = try #require(expected["runs"]?.objectValue)

        let add = try resonance(["index", "add", "index.db", "--researcher", "Ada", folder], in: dir.path)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("ref_beamtime: \(runs.count) runs (\(runs.count) new)"))
        for (plan, run) in runs {
            let result = try resonance(["index", "search", "index.db", "--plan", plan, "--sample", "PS", "--json"], in: dir.path)
            let hits = try parseJSON(result.stdout)
            #expect(hits.map { $0["uid"]?.stringValue } == [run["uid"]?.stringValue])
            #expect(hits.first?["db_path"]?.stringValue == folder + "/ref_beamtime.db")
            #expect(hits.first?["beamtime_label"]?.stringValue == "ref_beamtime")
        }
    }
}
