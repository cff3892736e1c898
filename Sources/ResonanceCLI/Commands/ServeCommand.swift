import ArgumentParser
import Dispatch
import Foundation
import Logging
import Resonance
import ResonancePostgres
import ResonanceServer

/// `resonance serve ROOT`: the beamtimes under ROOT over HTTP (docs/server.md).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the beamtimes under a folder over HTTP, live while they are written.",
        discussion: """
            Serves every beamtime (<label>.db with <label>.zarr beside it) under ROOT, found \
            at start and whenever new ones appear: JSON for runs and event tables, frames as \
            raw/npy/png, a live feed (Server-Sent Events), and POST of Bluesky documents. \
            The API is in docs/server.md. Writes always need a key (resonance keys add); \
            reads need one with --require-key. Listens on loopback unless --host says \
            otherwise. One log line per request on standard error. Ctrl-C or SIGTERM stops \
            it cleanly: live streams end, requests in progress finish, ingest commits.

            Examples:
              resonance serve /data/beamtimes
              resonance serve /data/beamtimes --port 8080 --index /data/index.db
              resonance serve /data/beamtimes --host 0.0.0.0 --require-key
              curl -s localhost:8000/api/beamtimes
              curl -sN localhost:8000/api/live
            """
    )

    @Argument(help: "The folder of beamtimes.")
    var root: String

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port: Int = 8000

    @Option(help: ArgumentHelp("A master index (file or postgres:// URL) for /api/search.", valueName: "index.db|url"))
    var index: String?

    @Flag(help: "Reads need a key too (writes always do).")
    var requireKey = false

    @Option(help: ArgumentHelp("Largest request body accepted, in MiB.", valueName: "MiB"))
    var maxBodyMib: Int = ServerConfiguration.defaultMaxBodyBytes >> 20

    @Option(help: ArgumentHelp("Close connections idle (or stalled mid-request) this long.", valueName: "seconds"))
    var idleTimeout: Int = 30

    @Option(help: ArgumentHelp("Memory for unchanging responses (finished runs, frames) kept for the next identical request, in MiB (0: none).", valueName: "MiB"))
    var responseCacheMib: Int = ServerConfiguration.defaultResponseCacheBytes >> 20

    @Flag(help: "Accept resource/stream_resource documents, which make the server read files they name.")
    var allowExternalFiles = false

    func validate() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("\(root): not a folder (give the folder that holds the beamtimes' .db files)")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535 (got \(port))") }
        guard maxBodyMib >= 1 else { throw ValidationError("--max-body-mib must be at least 1 (got \(maxBodyMib))") }
        guard (0...65536).contains(responseCacheMib) else { throw ValidationError("--response-cache-mib must be 0...65536 (got \(responseCacheMib))") }
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second (got \(idleTimeout))") }
    }

    func run() throws {
        var configuration = ServerConfiguration(root: root)
        configuration.host = host
        configuration.port = port
        configuration.requireKey = requireKey
        configuration.maxBodyBytes = maxBodyMib << 20
        configuration.idleTimeout = .seconds(idleTimeout)
        configuration.allowExternalFiles = allowExternalFiles
        configuration.responseCacheBytes = responseCacheMib << 20
        if let index {
            do {
                configuration.index = try MasterIndexes.reader(at: index).open()
            } catch {
                throw describeIndexError(error, indexPath: index)
            }
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        var server = ServerApplication(configuration: configuration, routeGroups: ServerRouteGroups.extra)
        let host = host, root = configuration.root
        server.onListening = { port in
            FileHandle.standardError.write(Data("resonance serve: \(root) on http://\(host):\(port)\n".utf8))
        }
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        let app = server
        Task {
            do { try await app.run() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw error }
    }
}

/// Route groups of other modules `resonance serve` adds (the web viewer, Tiled).
enum ServerRouteGroups {
    static var extra: [any ServerRouteGroup] { [ViewerRoutes(), TiledRoutes()] }
}

/// The server task's error, handed to the waiting main thread.
private final class ErrorBox: @unchecked Sendable {
    var error: (any Error)?
}
