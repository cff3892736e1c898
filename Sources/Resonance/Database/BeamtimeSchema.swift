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
