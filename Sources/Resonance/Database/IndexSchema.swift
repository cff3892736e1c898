/// The master index schema (docs/format.md, "The master index").
public enum IndexSchema {
    /// The `user_version` this program writes.
    public static let version = 2

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
            tags          TEXT,
            metadata      TEXT
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
        "runs_index": ["uid", "researcher_id", "beamtime_id", "plan_name", "sample_name", "time_start", "tags", "metadata"],
    ]

    /// The column version 2 added: the run's searchable metadata (a JSON object of its
    /// top-level scalar members, see ``MasterIndexWriter/RunEntry/indexedMetadata``).
    /// Repairable, so a reader opens a version-1 file without migrating it (its runs have
    /// no metadata to match).
    static let runsMetadata = ColumnRepair(
        table: "runs_index", column: "metadata", addSQL: "ALTER TABLE runs_index ADD COLUMN metadata TEXT")

    static let repairableColumns = [runsMetadata]

    /// Upgrades, in order. Entry `k` takes a file from `version - 1` to `version`.
    public static let migrations: [SchemaMigration] = [
        // Runs indexed before have NULL metadata (no metadata search matches them) until
        // their beamtime is indexed again: the index does not open beamtime files itself.
        SchemaMigration(version: 2, name: "runs_index.metadata") { db in try runsMetadata.apply(db) }
    ]
}
