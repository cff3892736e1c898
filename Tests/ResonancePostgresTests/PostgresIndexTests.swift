import Foundation
import Resonance
import ResonancePostgres
import TestSupport
import Testing

@Suite("PostgreSQL master index", .enabled(if: TestServer.enabled))
struct PostgresIndexTests {
    let dir = TempDir()

    @Test func theSchemaIsCreatedVersionedAndCheckedAgain() throws {
        let db = try TestDatabase("schema")
        let writer = try PostgresIndexWriter(url: db.url).open()
        try writer.open()
        try writer.close()
        #expect(try db.strings("SELECT value FROM resonance_index_meta WHERE key = 'schema_version'") == [String(PostgresIndexSchema.version)])
        #expect(try db.strings("SELECT value FROM resonance_index_meta WHERE key = 'application'") == ["resonance-master-index"])
        let indexes = try db.strings("SELECT indexname::text FROM pg_indexes WHERE tablename = 'runs_index' ORDER BY 1")
        #expect(indexes.contains("runs_index_tags"))
        #expect(!indexes.contains("runs_index_sample_trgm"))  // version 2 matches sample_names instead
        #expect(try db.strings("SELECT indexname::text FROM pg_indexes WHERE tablename = 'sample_names' ORDER BY 1") == ["sample_names_pkey", "sample_names_trgm"])
        #expect(try db.strings("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'runs_index'::regclass AND attname IN ('tags', 'metadata', 'started_at') ORDER BY attname")
            == ["jsonb", "timestamp with time zone", "text[]"])
        // Version 3: a run refers to its beamtime only; its researcher is the beamtime's.
        #expect(try db.strings("SELECT conname::text FROM pg_constraint WHERE conrelid = 'runs_index'::regclass AND contype = 'f'")
            == ["runs_index_beamtime_id_fkey"])
        // A second writer (another machine) finds the schema and changes nothing.
        try PostgresIndexWriter(url: db.url).open()
        #expect(try db.strings("SELECT count(*)::text FROM resonance_index_meta") == ["2"])
        #expect(try PostgresIndex(url: db.url).open().researchers().isEmpty)
    }

    @Test func registrationIsIdempotentAsInSQLite() throws {
        let db = try TestDatabase("register")
        let writer = try PostgresIndexWriter(url: db.url).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: "/data/ada", email: "ada@example.org")
        #expect(try writer.registerResearcher(name: "Ada", orcid: "0000-0002-1825-0097") == ada)
        let info = try PostgresIndex(url: db.url).open().researchers()
        #expect(info == [ResearcherInfo(id: ada, name: "Ada", rootPath: "/data/ada", email: "ada@example.org", orcid: "0000-0002-1825-0097")])
        #expect(throws: IndexError.rootPathRequired(researcher: "Grace")) { try writer.registerResearcher(name: "Grace") }
        let beamtime = try writer.registerBeamtime(researcherID: ada, dbPath: "/data/ada/../ada/2026-03-05.db")
        #expect(try writer.registerBeamtime(researcherID: ada, label: "March", dbPath: "/data/ada/2026-03-05.db") == beamtime)
        #expect(throws: IndexError.unknownResearcher(id: 999)) { try writer.registerBeamtime(researcherID: 999, dbPath: "/x.db") }
        #expect(throws: IndexError.unknownBeamtime(id: 999)) {
            try writer.indexRun(uid: "u1", researcherID: ada, beamtimeID: 999, planName: "nexafs", timeStart: 1)
        }
        #expect(throws: IndexError.invalidValue(kind: "plan name", value: "", reason: "must not be empty")) {
            try writer.indexRun(uid: "u1", researcherID: ada, beamtimeID: beamtime, planName: "", timeStart: 1)
        }
        let beamtimes = try PostgresIndex(url: db.url).open().beamtimes(researcher: "Ada")
        #expect(beamtimes.map(\.label) == ["March"])
        #expect(throws: IndexError.unknownResearcherName("Bob", known: ["Ada"])) { try PostgresIndex(url: db.url).open().search(researcher: "Bob") }
    }

    /// Whole beamtime files, on both backends: the same results and the same hits.
    @Test func beamtimeFilesGiveTheSameAnswersAsSQLite() throws {
        let db = try TestDatabase("beamtimes")
        let march = dir.file("ada/2026-03-05.db"), april = dir.file("ada/2026-04-01.db")
        try dir.makeFolder("ada")
        try makeBeamtime(march, samples: [("PS", ["polymer", "reference"]), ("P3HT", [])])
        try makeBeamtime(april, samples: [("gold_100%", ["calibration"])], runsPerSample: 3)
        let writers: [any MasterIndexWriting] = [try MasterIndexWriter(indexDBPath: dir.file("index.db")).open(), try PostgresIndexWriter(url: db.url).open()]
        var results: [[BeamtimeIndexing]] = []
        for writer in writers {
            let ada = try writer.registerResearcher(name: "Ada", rootPath: dir.path, email: nil, orcid: nil, affiliation: nil)
            var done = [try writer.indexBeamtime(dbPath: march, researcherID: ada, label: nil)]
            done.append(try writer.indexBeamtime(dbPath: april, researcherID: ada, label: "April"))
            done.append(try writer.indexBeamtime(dbPath: march, researcherID: ada, label: nil))  // again: no change
            results.append(done)
            try writer.close()
        }
        #expect(results[0] == results[1])
        #expect(results[1].map(\.added) == [4, 3, 0])
        let readers: [any MasterIndexReading] = [try MasterIndex(path: dir.file("index.db")).open(), try PostgresIndex(url: db.url).open()]
        for query in [IndexQuery(), IndexQuery(tag: "polymer"), IndexQuery(sample: .containing("%")), IndexQuery(plan: "rsoxs", limit: 2)] {
            #expect(try readers[0].search(query) == readers[1].search(query))
        }
        #expect(try readers[0].beamtimes(researcher: nil) == readers[1].beamtimes(researcher: nil))
        #expect(try readers[1].search(IndexQuery(tag: "polymer")).count == 2)
    }

    // MARK: Bad input: a clear error naming the URL without its password, nothing changed

    @Test func anUnreachableServerIsNamed() throws {
        let url = "postgres://ada:s3cret@127.0.0.1:1/index"
        #expect {
            try PostgresIndex(url: url).open()
        } throws: { error in
            let text = "\(error)"
            return text.contains("postgres://ada@127.0.0.1:1/index") && text.contains("cannot reach") && !text.contains("s3cret")
        }
        #expect(throws: PostgresIndexError.self) { try PostgresIndexWriter(url: url).open() }
    }

    @Test func wrongCredentialsAreNamedWithoutThePassword() throws {
        let db = try TestDatabase("credentials")
        let server = try PostgresURL(db.url)
        let url = "postgres://\(server.user):wrong-s3cret@\(server.host ?? "127.0.0.1"):\(server.port)/\(db.name)"
        #expect {
            try PostgresIndexWriter(url: url).open()
        } throws: { error in
            guard let error = error as? PostgresIndexError, case .authenticationFailed = error.problem else { return false }
            return error.description.contains("postgres://\(server.user)@") && !error.description.contains("wrong-s3cret")
        }
        #expect(try db.strings("SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public'") == ["0"])
    }

    @Test func anotherApplicationsDatabaseIsRefusedUntouched() throws {
        let db = try TestDatabase("foreign")
        try db.execute("CREATE TABLE orders (id int PRIMARY KEY, total numeric)")
        try db.execute("INSERT INTO orders VALUES (1, 9.5)")
        for attempt: () throws -> Void in [{ _ = try PostgresIndexWriter(url: db.url).open() }, { _ = try PostgresIndex(url: db.url).open() }] {
            #expect {
                try attempt()
            } throws: { error in
                guard let error = error as? PostgresIndexError, case .foreignDatabase(let tables) = error.problem else { return false }
                return tables == ["orders"] && error.description.contains(db.name)
            }
        }
        #expect(try db.strings("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'") == ["orders"])
        #expect(try db.strings("SELECT count(*)::text FROM pg_extension WHERE extname = 'pg_trgm'") == ["0"])
    }

    @Test func aNewerSchemaIsRefusedUntouched() throws {
        let db = try TestDatabase("newer")
        let writer = try PostgresIndexWriter(url: db.url).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: "/data/ada")
        try writer.close()
        try db.execute("UPDATE resonance_index_meta SET value = '99' WHERE key = 'schema_version'")
        let expected = PostgresIndexError(location: db.url, problem: .newerSchema(found: 99, supported: PostgresIndexSchema.version))
        #expect(throws: expected) { try PostgresIndexWriter(url: db.url).open().registerResearcher(name: "Grace", rootPath: "/g") }
        #expect(throws: expected) { try PostgresIndex(url: db.url).open() }
        #expect(try db.strings("SELECT id::text || ' ' || name FROM researchers") == ["\(ada) Ada"])
    }

    /// A version-1 database (before `sample_names`) is read as it is, and upgraded by a
    /// writer, with the same answers before and after.
    @Test func aVersion1DatabaseIsReadAndUpgraded() throws {
        let db = try TestDatabase("version1")
        let writer = try PostgresIndexWriter(url: db.url).open()
        let ada = try writer.registerResearcher(name: "Ada", rootPath: "/data/ada")
        let beamtime = try writer.registerBeamtime(researcherID: ada, dbPath: "/data/ada/bt.db")
        for (k, sample) in ["PS", "P3HT:PCBM", "ps-b-PMMA", "gold"].enumerated() {
            try writer.indexRun(
                uid: "run\(k)", researcherID: ada, beamtimeID: beamtime, planName: "nexafs", sampleName: sample, timeStart: Double(k),
                metadata: ["edge": "C K"])
        }
        try writer.close()
        // Version 1 is version 3 without the table, with a trigram index on the runs and a
        // foreign key from the runs to the researchers.
        try db.execute("DROP TABLE sample_names")
        try db.execute(
            "CREATE INDEX runs_index_sample_trgm ON runs_index USING gin (translate(sample_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') gin_trgm_ops)")
        try db.execute(
            "ALTER TABLE runs_index ADD CONSTRAINT runs_index_researcher_id_fkey FOREIGN KEY (researcher_id) REFERENCES researchers(id) ON DELETE CASCADE")
        try db.execute("UPDATE resonance_index_meta SET value = '1' WHERE key = 'schema_version'")

        let queries = [IndexQuery(sample: .containing("ps")), IndexQuery(sample: .containing("PCBM"), metadata: ["edge": "C K"])]
        let reader = try PostgresIndex(url: db.url).open()
        let before = try queries.map { try reader.search($0).map(\.uid) }
        #expect(before == [["run2", "run0"], ["run1"]])
        #expect(try db.strings("SELECT count(*)::text FROM pg_tables WHERE tablename = 'sample_names'") == ["0"])  // the reader changed nothing

        try PostgresIndexWriter(url: db.url).open().close()
        #expect(try db.strings("SELECT value FROM resonance_index_meta WHERE key = 'schema_version'") == [String(PostgresIndexSchema.version)])
        #expect(try db.strings("SELECT count(*)::text FROM pg_indexes WHERE indexname = 'runs_index_sample_trgm'") == ["0"])
        #expect(try db.strings("SELECT count(*)::text FROM pg_constraint WHERE conname = 'runs_index_researcher_id_fkey'") == ["0"])
        #expect(try db.strings("SELECT name FROM sample_names ORDER BY name COLLATE \"C\"") == ["P3HT:PCBM", "PS", "gold", "ps-b-PMMA"])
        #expect(try queries.map { try PostgresIndex(url: db.url).open().search($0).map(\.uid) } == before)
        // Without the runs' own key, a researcher removed in SQL still takes their runs along (through the beamtimes).
        try db.execute("DELETE FROM researchers")
        #expect(try db.strings("SELECT count(*)::text FROM runs_index") == ["0"])
    }

    @Test func anEmptyDatabaseIsNotAnIndexToRead() throws {
        let db = try TestDatabase("empty")
        #expect(throws: PostgresIndexError(location: db.url, problem: .notAnIndex)) { try PostgresIndex(url: db.url).open() }
        let missing = try TestServer.server().url(ofDatabase: "rt_no_such_database")
        #expect(throws: PostgresIndexError(location: missing, problem: .noSuchDatabase("rt_no_such_database"))) {
            try PostgresIndexWriter(url: missing).open()
        }
    }
}
