import Resonance

/// The master index schema on PostgreSQL (docs/format.md, "The master index on PostgreSQL").
///
/// The same tables and meaning as the SQLite ``IndexSchema``, in PostgreSQL types. Times
/// stay `double precision` Unix seconds (so both backends compare and return the very same
/// numbers); `started_at` is the same instant as a `timestamptz`, generated, for people and
/// SQL tools. Tags are a `text[]` with a GIN index; `extra`/`metadata` are JSONB with GIN
/// indexes; a trigram index serves sample-name substrings. The version lives in
/// `resonance_index_meta` (`application`, `schema_version`).
public enum PostgresIndexSchema {
    /// The version this tool writes and reads.
    public static let version = 1
    /// `resonance_index_meta.application`: marks a database as a Resonance master index.
    public static let application = "resonance-master-index"
    /// The tables of a master index; any other table in the schema makes it someone else's.
    static let tables: Set<String> = ["resonance_index_meta", "researchers", "beamtimes", "runs_index"]

    /// ASCII-only lower case, as SQLite's LIKE folds case (immutable, so it can be indexed).
    static let asciiLower = "translate(%@, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"

    static func lowered(_ column: String) -> String {
        asciiLower.replacingOccurrences(of: "%@", with: column)
    }

    /// Version 1, created in one transaction.
    static let createStatements: [String] = [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE resonance_index_meta (key text PRIMARY KEY, value text NOT NULL)",
        """
        CREATE TABLE researchers (
            id          bigserial PRIMARY KEY,
            name        text NOT NULL UNIQUE,
            email       text,
            orcid       text,
            affiliation text,
            root_path   text NOT NULL,
            extra       jsonb NOT NULL DEFAULT '{}'
        )
        """,
        """
        CREATE TABLE beamtimes (
            id            bigserial PRIMARY KEY,
            researcher_id bigint NOT NULL REFERENCES researchers(id) ON DELETE CASCADE,
            label         text NOT NULL,
            db_path       text NOT NULL UNIQUE,
            time_start    double precision,
            time_stop     double precision,
            description   text,
            extra         jsonb NOT NULL DEFAULT '{}'
        )
        """,
        "CREATE INDEX beamtimes_researcher ON beamtimes (researcher_id)",
        "CREATE INDEX beamtimes_tstart ON beamtimes (time_start)",
        """
        CREATE TABLE runs_index (
            id            bigserial NOT NULL,
            uid           text PRIMARY KEY,
            researcher_id bigint NOT NULL REFERENCES researchers(id) ON DELETE CASCADE,
            beamtime_id   bigint NOT NULL REFERENCES beamtimes(id) ON DELETE CASCADE,
            plan_name     text NOT NULL,
            sample_name   text,
            time_start    double precision NOT NULL,
            started_at    timestamptz GENERATED ALWAYS AS (to_timestamp(time_start)) STORED,
            tags          text[] NOT NULL DEFAULT '{}',
            metadata      jsonb NOT NULL DEFAULT '{}'
        )
        """,
        // Newest first with a limit: each equality filter walks its index in time order.
        "CREATE INDEX runs_index_tstart ON runs_index (time_start DESC, id DESC)",
        "CREATE INDEX runs_index_sample_tstart ON runs_index (sample_name, time_start DESC, id DESC)",
        "CREATE INDEX runs_index_plan_tstart ON runs_index (plan_name, time_start DESC, id DESC)",
        "CREATE INDEX runs_index_researcher_tstart ON runs_index (researcher_id, time_start DESC, id DESC)",
        "CREATE INDEX runs_index_beamtime ON runs_index (beamtime_id)",
        "CREATE INDEX runs_index_tags ON runs_index USING gin (tags)",
        "CREATE INDEX runs_index_metadata ON runs_index USING gin (metadata jsonb_path_ops)",
        "CREATE INDEX runs_index_sample_trgm ON runs_index USING gin (\(lowered("sample_name")) gin_trgm_ops)",
        "INSERT INTO resonance_index_meta (key, value) VALUES ('application', '\(application)'), ('schema_version', '\(version)')",
    ]

    /// Upgrades from each older version, in order (none yet: version 1 is the first).
    static let migrations: [(version: Int, statements: [String])] = []
}
