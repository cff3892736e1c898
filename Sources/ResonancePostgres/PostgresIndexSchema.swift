import Resonance

/// The master index schema on PostgreSQL (docs/format.md, "The master index on PostgreSQL").
///
/// The same tables and meaning as the SQLite ``IndexSchema``, in PostgreSQL types. Times
/// stay `double precision` Unix seconds (so both backends compare and return the very same
/// numbers); `started_at` is the same instant as a `timestamptz`, generated, for people and
/// SQL tools. Tags are a `text[]` with a GIN index; `extra`/`metadata` are JSONB with GIN
/// indexes; a trigram index on the distinct sample names serves substrings. The version lives in
/// `resonance_index_meta` (`application`, `schema_version`). Version 2 added `sample_names`; version 3 dropped the runs' foreign key to `researchers`.
public enum PostgresIndexSchema {
    /// The version this tool writes and reads.
    public static let version = 3
    /// `resonance_index_meta.application`: marks a database as a Resonance master index.
    public static let application = "resonance-master-index"

    /// The tables a master index of `version` has (a database claiming the version without
    /// them is someone else's).
    static func tables(ofVersion version: Int) -> Set<String> {
        let first: Set<String> = ["resonance_index_meta", "researchers", "beamtimes", "runs_index"]
        return version >= 2 ? first.union(["sample_names"]) : first
    }

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
            researcher_id bigint NOT NULL,
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
    ] + version2Statements + version3Statements + [
        "INSERT INTO resonance_index_meta (key, value) VALUES ('application', '\(application)'), ('schema_version', '\(version)')",
    ]

    /// Version 2: every sample name any run has had, so that a substring search matches
    /// names first (a few thousand, by trigram) and then walks the runs of those names.
    /// Version 1's trigram index on the runs goes: it read the posting lists of a pattern's
    /// common trigrams (`amp`, `ple` in "sample"), i.e. most of the index, on every search
    /// (50-70 ms at a million runs), and its ~10 entries per run were the costliest part of
    /// indexing. Above 1,000 matching names (a common substring) the search filters runs
    /// newest first instead, which finds its hits at once. Names of runs since removed stay:
    /// they only match no run.
    static let version2Statements: [String] = [
        "CREATE TABLE sample_names (name text PRIMARY KEY)",
        "CREATE INDEX sample_names_trgm ON sample_names USING gin (\(lowered("name")) gin_trgm_ops)",
        "INSERT INTO sample_names (name) SELECT DISTINCT sample_name FROM runs_index WHERE sample_name IS NOT NULL",
        "DROP INDEX IF EXISTS runs_index_sample_trgm",
    ]

    /// Version 3: a run's researcher is its beamtime's (the writer keeps the copy in step,
    /// in the same transaction that changes a beamtime's owner), and the beamtime's own
    /// foreign key already removes its runs with it, directly or through its researcher.
    /// A second foreign key on `runs_index.researcher_id` checked each inserted run against
    /// `researchers` and locked that row: a quarter of the server's time in bulk indexing.
    static let version3Statements: [String] = [
        "ALTER TABLE runs_index DROP CONSTRAINT IF EXISTS runs_index_researcher_id_fkey",
    ]

    /// Upgrades from each older version, in order: entry `k` takes a database to `version`.
    static let migrations: [(version: Int, statements: [String])] = [(2, version2Statements), (3, version3Statements)]
}
