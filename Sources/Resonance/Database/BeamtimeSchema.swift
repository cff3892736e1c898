import GRDB

/// The per-beamtime database schema (docs/format.md, "The beamtime database") and its migrations.
///
/// A new file gets the latest schema in one step; an older file is brought up to date by
/// applying, in order and in one transaction, every ``SchemaMigration`` above its
/// `user_version`. Version 3 will be one more entry in ``migrations``.
public enum BeamtimeSchema {
    /// The `user_version` this program writes.
    public static let version = 2

    /// Tables a beamtime database must hold; a file without them is not a beamtime.
    static let requiredTables: Set<String> = ["samples", "runs", "streams", "events", "image_refs"]

    /// The latest schema. Every statement is idempotent (`IF NOT EXISTS`).
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS samples (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            name         TEXT NOT NULL,
            formula      TEXT,
            serial       TEXT,
            tags         TEXT,
            beamline_pos TEXT,
            extra        TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_samples_name ON samples(name);
        CREATE TABLE IF NOT EXISTS runs (
            uid          TEXT PRIMARY KEY,
            sample_id    INTEGER REFERENCES samples(id) ON DELETE SET NULL,
            plan_name    TEXT NOT NULL,
            time_start   REAL NOT NULL,
            time_stop    REAL,
            exit_status  TEXT,
            num_events   INTEGER DEFAULT 0,
            operator     TEXT,
            metadata     TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_runs_sample ON runs(sample_id);
        CREATE INDEX IF NOT EXISTS idx_runs_plan   ON runs(plan_name);
        CREATE INDEX IF NOT EXISTS idx_runs_tstart ON runs(time_start);
        CREATE TABLE IF NOT EXISTS streams (
            uid          TEXT PRIMARY KEY,
            run_uid      TEXT NOT NULL REFERENCES runs(uid) ON DELETE CASCADE,
            name         TEXT NOT NULL,
            data_keys    TEXT NOT NULL,
            time_created REAL NOT NULL
        );
        CREATE INDEX IF NOT EXISTS idx_streams_run ON streams(run_uid);
        CREATE UNIQUE INDEX IF NOT EXISTS idx_streams_run_name ON streams(run_uid, name);
        CREATE TABLE IF NOT EXISTS events (
            uid        TEXT PRIMARY KEY,
            stream_uid TEXT NOT NULL REFERENCES streams(uid) ON DELETE CASCADE,
            seq_num    INTEGER NOT NULL,
            time       REAL NOT NULL,
            data       TEXT NOT NULL,
            timestamps TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_events_stream ON events(stream_uid);
        CREATE UNIQUE INDEX IF NOT EXISTS idx_events_seq ON events(stream_uid, seq_num);
        CREATE TABLE IF NOT EXISTS image_refs (
            id                INTEGER PRIMARY KEY AUTOINCREMENT,
            event_uid         TEXT NOT NULL REFERENCES events(uid) ON DELETE CASCADE,
            field_name        TEXT NOT NULL,
            zarr_group        TEXT NOT NULL,
            index_in_stack    INTEGER NOT NULL,
            shape_x           INTEGER NOT NULL,
            shape_y           INTEGER NOT NULL,
            dtype             TEXT NOT NULL,
            compression_codec TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_image_refs_event ON image_refs(event_uid);
        """

    /// Every column of the latest schema, by table.
    static let columns: [String: [String]] = [
        "samples": ["id", "name", "formula", "serial", "tags", "beamline_pos", "extra"],
        "runs": ["uid", "sample_id", "plan_name", "time_start", "time_stop", "exit_status", "num_events", "operator", "metadata"],
        "streams": ["uid", "run_uid", "name", "data_keys", "time_created"],
        "events": ["uid", "stream_uid", "seq_num", "time", "data", "timestamps"],
        "image_refs": ["id", "event_uid", "field_name", "zarr_group", "index_in_stack", "shape_x", "shape_y", "dtype", "compression_codec"],
    ]

    /// The column version 2 added. The Python writer, opening a version-1 file, stamps
    /// version 2 without adding it; a writer adds it back, a reader does without it.
    static let compressionCodec = ColumnRepair(
        table: "image_refs", column: "compression_codec", addSQL: "ALTER TABLE image_refs ADD COLUMN compression_codec TEXT")

    static let repairableColumns = [compressionCodec]

    /// Upgrades, in order. Entry `k` takes a file from `version - 1` to `version`.
    public static let migrations: [SchemaMigration] = [
        // A version-1 file may already have the column if a lenient tool wrote it.
        SchemaMigration(version: 2, name: "image_refs.compression_codec") { db in try compressionCodec.apply(db) }
    ]
}

/// The master index schema (docs/format.md, "The master index").
public enum IndexSchema {
    /// The `user_version` this program writes.
    public static let version = 1

    static let requiredTables: Set<String> = ["researchers", "beamtimes", "runs_index"]

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS researchers (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            name        TEXT NOT NULL,
            email       TEXT,
            orcid       TEXT,
            affiliation TEXT,
            root_path   TEXT NOT NULL,
            extra       TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS idx_researchers_name ON researchers(name);
        CREATE TABLE IF NOT EXISTS beamtimes (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            researcher_id INTEGER NOT NULL REFERENCES researchers(id) ON DELETE CASCADE,
            label         TEXT NOT NULL,
            db_path       TEXT NOT NULL,
            time_start    REAL,
            time_stop     REAL,
            description   TEXT,
            extra         TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_beamtimes_researcher ON beamtimes(researcher_id);
        CREATE UNIQUE INDEX IF NOT EXISTS idx_beamtimes_db_path ON beamtimes(db_path);
        CREATE INDEX IF NOT EXISTS idx_beamtimes_tstart ON beamtimes(time_start);
        CREATE TABLE IF NOT EXISTS runs_index (
            uid           TEXT PRIMARY KEY,
            researcher_id INTEGER NOT NULL REFERENCES researchers(id) ON DELETE CASCADE,
            beamtime_id   INTEGER NOT NULL REFERENCES beamtimes(id) ON DELETE CASCADE,
            plan_name     TEXT NOT NULL,
            sample_name   TEXT,
            time_start    REAL NOT NULL,
            tags          TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_runs_index_researcher ON runs_index(researcher_id);
        CREATE INDEX IF NOT EXISTS idx_runs_index_beamtime ON runs_index(beamtime_id);
        CREATE INDEX IF NOT EXISTS idx_runs_index_plan ON runs_index(plan_name);
        CREATE INDEX IF NOT EXISTS idx_runs_index_sample ON runs_index(sample_name);
        CREATE INDEX IF NOT EXISTS idx_runs_index_tstart ON runs_index(time_start);
        -- Searches are newest first with a limit: with time_start second, an equality
        -- filter walks its index in time order and stops at the limit (no sort).
        CREATE INDEX IF NOT EXISTS idx_runs_index_sample_tstart ON runs_index(sample_name, time_start);
        CREATE INDEX IF NOT EXISTS idx_runs_index_plan_tstart ON runs_index(plan_name, time_start);
        CREATE INDEX IF NOT EXISTS idx_runs_index_researcher_tstart ON runs_index(researcher_id, time_start);
        """

    static let columns: [String: [String]] = [
        "researchers": ["id", "name", "email", "orcid", "affiliation", "root_path", "extra"],
        "beamtimes": ["id", "researcher_id", "label", "db_path", "time_start", "time_stop", "description", "extra"],
        "runs_index": ["uid", "researcher_id", "beamtime_id", "plan_name", "sample_name", "time_start", "tags"],
    ]

    static let repairableColumns: [ColumnRepair] = []

    /// Upgrades, in order (none yet: version 1 is the first).
    public static let migrations: [SchemaMigration] = []
}

/// One step of a schema upgrade, registered by name and applied in order.
public struct SchemaMigration: Sendable {
    /// The `user_version` the file has after this step.
    public let version: Int
    /// What the step changes, for logs and errors.
    public let name: String
    let apply: @Sendable (Database) throws -> Void

    public init(version: Int, name: String, apply: @escaping @Sendable (Database) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}
