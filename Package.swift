// swift-tools-version: 6.1
import PackageDescription

// Linux only: the durability promise rests on Linux calls (syncfs, sync_file_range,
// posix_fadvise) that other systems lack or implement with weaker guarantees.
#if !os(Linux)
#error("Resonance supports Linux only (see README): its crash-safety relies on syncfs and sync_file_range")
#endif

let package = Package(
    name: "Resonance",
    products: [
        .library(name: "Resonance", targets: ["Resonance"]),
        .library(name: "Zarr", targets: ["Zarr"]),
        .library(name: "JSONValue", targets: ["JSONValue"]),
        .library(name: "ResonanceFormats", targets: ["ResonanceFormats"]),
        .library(name: "ResonanceBluesky", targets: ["ResonanceBluesky"]),
        .library(name: "ResonancePostgres", targets: ["ResonancePostgres"]),
        .library(name: "ResonanceServer", targets: ["ResonanceServer"]),
        .executable(name: "resonance", targets: ["ResonanceCLI"]),
        .executable(name: "resonance-bench", targets: ["ResonanceBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        // The PostgreSQL master index (ResonancePostgres only; the core has no server dependency).
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // `resonance serve` (ResonanceServer only). No traits: swift-configuration is not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // SHA-256 of API keys; already built for postgres-nio.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBlosc", pkgConfig: "blosc", providers: [.apt(["libblosc-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Linux file-system calls the Swift Glibc module leaves out (O_DIRECT, syncfs, ...).
        .target(name: "CFileSystem"),

        // The concurrency helpers every module shares: the batch worker, locks, first-error,
        // per-index slots, parallel-for, and the bridge for async callers. Not a product.
        .target(name: "Concurrency"),

        // JSON text as Python's json module writes it (NaN, Infinity, ints vs floats).
        .target(
            name: "JSONValue",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]
        ),
        // Zarr v3: knows nothing of beamtimes.
        .target(name: "Zarr", dependencies: ["Concurrency", "JSONValue", "CZstd", "CBlosc", "CZlib", "CFileSystem"]),
        // The beamtime layer: writer, reader, master index.
        .target(
            name: "Resonance",
            dependencies: [
                "Concurrency", "JSONValue", "Zarr", "CFileSystem",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // Beamtime data as files and text for people and other programs: run descriptions
        // as JSON, event tables as CSV/JSON, frames as NPY/TIFF/PNG, dates as people type them.
        // Shared by the CLI and the server.
        .target(
            name: "ResonanceFormats",
            dependencies: ["Resonance", "JSONValue", "CZlib"],
            path: "Sources/Formats"
        ),
        // Bluesky's event-model documents in and out of a beamtime.
        .target(
            name: "ResonanceBluesky",
            dependencies: [
                "Resonance", "JSONValue", "Zarr",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            path: "Sources/Bluesky"
        ),
        // The master index on a PostgreSQL server (docs/format.md, "The master index on PostgreSQL").
        .target(
            name: "ResonancePostgres",
            dependencies: [
                "Concurrency", "Resonance", "JSONValue",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What both command-line tools share: output to the terminal, tables, progress bars,
        // dates as arguments, the one error type.
        .target(
            name: "CommandLineSupport",
            dependencies: ["JSONValue", "ResonanceFormats", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // `resonance serve`: the HTTP API over a folder of beamtimes (docs/server.md). The core has
        // no server dependency; only the CLI links this.
        .target(
            name: "ResonanceServer",
            dependencies: [
                "Resonance", "ResonanceFormats", "ResonanceBluesky", "JSONValue", "Zarr",
                .product(name: "GRDB", package: "GRDB.swift"),  // the live feed's own read connections
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Sources/Server",
            // The web viewer's files, compiled into the binary (why: Viewer/ViewerRoutes.swift).
            resources: [
                .embedInCode("Viewer/index.html"), .embedInCode("Viewer/viewer.js"), .embedInCode("Viewer/viewer.css"),
            ]
        ),
        // `resonance`: the user's tool.
        .executableTarget(
            name: "ResonanceCLI",
            dependencies: [
                "Concurrency", "Resonance", "ResonanceFormats", "ResonanceBluesky", "ResonancePostgres", "ResonanceServer", "JSONValue",
                "CommandLineSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `resonance-bench`: the developers' benchmarks, with their raw-SQLite and disk-only baselines.
        .executableTarget(
            name: "ResonanceBench",
            dependencies: [
                "Concurrency", "Resonance", "ResonanceFormats", "ResonanceBluesky", "ResonancePostgres", "Zarr", "JSONValue", "CFileSystem",
                "CommandLineSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Sources/Bench"
        ),

        // A writer for tests to SIGKILL (Tests/FaultWriter); not a product.
        .executableTarget(name: "ResonanceFaultWriter", dependencies: ["Resonance"], path: "Tests/FaultWriter"),

        // What the test targets share: temp folders, running executables and Python, fixtures.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        .testTarget(name: "ConcurrencyTests", dependencies: ["Concurrency"]),
        .testTarget(
            name: "JSONValueTests",
            dependencies: ["JSONValue", "TestSupport", .product(name: "OrderedCollections", package: "swift-collections")]
        ),
        .testTarget(name: "ZarrTests", dependencies: ["Zarr", "TestSupport"], resources: [.copy("Golden")]),
        .testTarget(
            name: "ResonanceTests",
            dependencies: [
                "Resonance", "Zarr", "JSONValue", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "ResonancePostgresTests", dependencies: ["Resonance", "ResonancePostgres", "TestSupport"]),
        .testTarget(
            name: "BlueskyTests",
            dependencies: ["ResonanceBluesky", "Resonance", "JSONValue", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["python"]
        ),
        // The web viewer (`GET /` of `resonance serve`) in headless Chromium.
        .testTarget(name: "ViewerTests", dependencies: ["TestSupport"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "ResonanceServer", "Resonance", "ResonanceBluesky", "JSONValue", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Tiled's Python client against `resonance serve` (python/ drives the client).
        .testTarget(
            name: "TiledTests",
            dependencies: ["Resonance", "JSONValue", "TestSupport"],
            exclude: ["python"]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["Resonance", "JSONValue", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
