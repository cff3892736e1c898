import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance
import ResonancePostgres

/// `resonance index add INDEX.db|URL --researcher NAME [--root DIR] BEAMTIME.db...`
struct IndexAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add beamtimes to a master index, or refresh them.",
        discussion: """
            Each beamtime's runs are indexed as the file holds them now: new runs are added,
            changed ones updated, deleted ones removed. Adding the same file again is safe.
            A folder means every .db file beneath it (recursively); files in it that are not
            beamtimes, and the index itself, are skipped. The index file is created if needed.
            The index may be a PostgreSQL database instead of a file: give its URL,
            postgres://user@host:port/database (the password from PGPASSWORD or ~/.pgpass);
            its schema is created if the database is empty.

            Examples:
              resonance index add index.db --researcher "Ada" --root /data/ada /data/ada
              resonance index add index.db --researcher "Ada" /data/ada/2026-03-05.db
              resonance index add index.db --researcher "Grace" --label "May run" grace/beamtime.db
              resonance index add postgres://indexer@db.example.org/resonance --researcher "Ada" /data/ada
            """
    )

    @Argument(help: ArgumentHelp("The master index file (created if absent), or a postgres:// URL.", valueName: "index.db|url"))
    var indexPath: String

    @Option(help: ArgumentHelp("The researcher the beamtimes belong to (registered if new).", valueName: "name"))
    var researcher: String

    @Option(help: ArgumentHelp(
        "The folder under which the researcher's beamtimes live. Default for a new researcher: the first folder given, else the first beamtime's folder.",
        valueName: "dir"))
    var root: String?

    @Option(help: ArgumentHelp("Label of the beamtime (one beamtime file only). Default: the file name without .db.", valueName: "label"))
    var label: String?

    @Argument(help: ArgumentHelp("Beamtime .db files, or folders to search for them.", valueName: "beamtime.db|dir"))
    var beamtimes: [String]

    func validate() throws {
        if beamtimes.isEmpty { throw ValidationError("Give at least one beamtime .db file or folder.") }
        if label != nil, beamtimes.count != 1 || isDirectory(beamtimes[0]) {
            throw ValidationError("--label names one beamtime: give exactly one .db file with it.")
        }
    }

    func run() throws {
        let location = IndexLocation(indexPath)
        let indexAbsolute = if case .file(let path) = location { MasterIndexWriter.standardizedPath(path) } else { "" }
        // Find the files first, so a typo in the last argument fails before anything is written.
        var files: [(path: String, fromFolder: Bool)] = []
        for argument in beamtimes {
            if isDirectory(argument) {
                let found = databaseFiles(under: argument).filter { MasterIndexWriter.standardizedPath($0) != indexAbsolute }
                if found.isEmpty { Output.message("warning: no .db files under \(argument)") }
                files += found.map { ($0, true) }
            } else if FileManager.default.fileExists(atPath: argument) {
                files.append((argument, false))
            } else {
                throw CommandError("\(argument): no such file or folder")
            }
        }
        if files.isEmpty { throw CommandError("no beamtime files to index") }

        let writer: any MasterIndexWriting
        let researcherID: Int64
        do {
            writer = try MasterIndexes.writer(at: indexPath).open()
            try writer.open()
            let known = try MasterIndexes.reader(at: indexPath).open().researchers().contains { $0.name == researcher }
            // A bare file name lives in the current folder.
            let folder = (files[0].path as NSString).deletingLastPathComponent
            let defaultRoot = beamtimes.first(where: isDirectory) ?? (folder.isEmpty ? "." : folder)
            researcherID = try writer.registerResearcher(
                name: researcher, rootPath: root ?? (known ? nil : defaultRoot), email: nil, orcid: nil, affiliation: nil)
        } catch {
            throw describeIndexError(error, indexPath: indexPath)
        }
        defer { try? writer.close() }

        var indexed = 0, runs = 0, failures = 0
        for (path, fromFolder) in files {
            do {
                let result = try writer.indexBeamtime(dbPath: path, researcherID: researcherID, label: label)
                indexed += 1
                runs += result.runCount
                var changes: [String] = []
                if result.added > 0 { changes.append("\(result.added) new") }
                if result.removed > 0 { changes.append("\(result.removed) removed") }
                let note = changes.isEmpty ? "" : " (\(changes.joined(separator: ", ")))"
                Output.print("\(result.beamtime.label): \(result.runCount) run\(result.runCount == 1 ? "" : "s")\(note)  \(result.beamtime.dbPath)")
                if result.reassigned > 0 {
                    Output.message("warning: \(result.reassigned) runs of \(path) were indexed under another beamtime file (a copy of this one?); they now point here")
                }
            } catch let error as DatabaseFileError where fromFolder && isForeign(error) {
                Output.message("skipped \(path): not a beamtime database")
            } catch {
                failures += 1
                Output.message("error: \(error)")
            }
        }
        Output.print("indexed \(indexed) beamtime\(indexed == 1 ? "" : "s"), \(runs) run\(runs == 1 ? "" : "s") for \(researcher) in \(location.redacted)")
        if failures > 0 {
            throw CommandError("\(failures) beamtime\(failures == 1 ? "" : "s") could not be indexed (see above)")
        }
    }

    private func isForeign(_ error: DatabaseFileError) -> Bool {
        switch error.problem {
        case .foreignDatabase, .notSQLite, .empty: return true
        default: return false
        }
    }
}

func isDirectory(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

/// Every `*.db` file beneath `folder`, sorted; Zarr stores are not descended into.
func databaseFiles(under folder: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    var found: [String] = []
    while let relative = enumerator.nextObject() as? String {
        let path = (folder as NSString).appendingPathComponent(relative)
        if relative.hasSuffix(".zarr") {
            enumerator.skipDescendants()  // thousands of chunk files, never a .db
        } else if relative.hasSuffix(".db"), !isDirectory(path) {
            found.append(path)
        }
    }
    return found.sorted()
}
