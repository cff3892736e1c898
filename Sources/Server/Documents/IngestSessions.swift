import Dispatch
import Foundation
import HTTPTypes
import JSONValue
import Logging
import Resonance
import ServiceLifecycle
import ResonanceBluesky
import Synchronization

/// The `DocumentIngestor` of each beamtime that documents are POSTed to: the same code as
/// `resonance ingest`, one writer per beamtime as always.
///
/// Each beamtime has one serial queue, so POSTs to it are ingested one after another (in
/// the order they arrive) and never on an event loop. The ingestor stays open between
/// POSTs while a run is open (a run's documents may come in several requests); when no run
/// is open after a request it is finished (committed, the writer closed), so other writers
/// may take the beamtime. A session left with an open run for ``idleLimit`` is finished too:
/// its run stays open, and sending its documents again (from its start) completes it —
/// ingest skips what is recorded, by uid.
public final class IngestSessions: Service, Sendable {
    public static let idleLimit: Duration = .seconds(120)

    /// What one POST did.
    public struct Outcome: Sendable {
        public var lines = 0
        public var runs = 0
        public var events = 0
        public var frames = 0
        public var skipped = 0
        /// (line number, what was wrong), at most ``maxReportedErrors``.
        public var errors: [(Int, String)] = []
        public var errorCount = 0
        /// Runs whose stop has not arrived yet (the session keeps them open).
        public var openRuns: [String] = []
    }

    static let maxReportedErrors = 100
    /// Documents that name files on the server: refused unless `allowExternalFiles`.
    static let externalDocuments: Set<DocumentName> = [.resource, .datum, .datumPage, .streamResource, .streamDatum]

    private final class Session: @unchecked Sendable {
        let queue: DispatchQueue
        // Touched only on `queue`.
        var ingestor: DocumentIngestor?
        var openRun: String?
        var lastUse = ContinuousClock.now
        init(label: String) { queue = DispatchQueue(label: "resonance.ingest.\(label)") }
    }

    private let registry: BeamtimeRegistry
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let sessions = Mutex<[String: Session]>([:])

    init(registry: BeamtimeRegistry, blocking: BlockingPool, configuration: ServerConfiguration, logger: Logger) {
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
    }

    /// Ingests the JSON lines in `body` into the beamtime at `dbPath` (labelled `label`).
    public func ingest(label: String, dbPath: String, body: [UInt8]) async throws -> Outcome {
        let session = sessions.withLock { s in
            if let existing = s[label] { return existing }
            let created = Session(label: label)
            s[label] = created
            return created
        }
        let allowExternal = configuration.allowExternalFiles
        return try await withCheckedThrowingContinuation { continuation in
            session.queue.async {
                continuation.resume(with: Result { try Self.run(session, label: label, dbPath: dbPath, body: body, allowExternal: allowExternal) })
            }
        }
    }

    /// Throws a 409 ``Problem`` when another writer holds the beamtime: then nothing more
    /// can be recorded, and the client should send the documents again once it is closed.
    private static func run(_ session: Session, label: String, dbPath: String, body: [UInt8], allowExternal: Bool) throws -> Outcome {
        session.lastUse = .now
        let ingestor = session.ingestor ?? DocumentIngestor(dbPath: dbPath)
        session.ingestor = ingestor
        let before = ingestor.summary
        var outcome = Outcome()
        var locked: IngestError?
        body.withUnsafeBufferPointer { all in
            var start = 0
            var number = 0
            while start < all.count {
                let end = all[start...].firstIndex(of: 0x0A) ?? all.count
                number += 1
                let line = UnsafeBufferPointer(rebasing: all[start..<end])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                outcome.lines += 1
                do {
                    let document = try BlueskyDocument(jsonLine: line, line: number)
                    if !allowExternal, externalDocuments.contains(document.name) {
                        throw IngestError(line: number, problem: .unrecordable(
                            name: document.name.rawValue,
                            reason: "documents that name files are refused over HTTP (the server reads no path a client gives); start the server with --allow-external-files to accept them"))
                    }
                    try ingestor.ingest(document, line: number)
                    if document.name == .start { session.openRun = document.body["uid"]?.stringValue }
                    if document.name == .stop { session.openRun = nil }
                } catch {
                    if let error = error as? IngestError, case .beamtimeLocked = error.problem {
                        locked = error
                        return
                    }
                    outcome.errorCount += 1
                    if outcome.errors.count < maxReportedErrors { outcome.errors.append((number, "\(error)")) }
                }
            }
        }
        if let locked {
            // The session starts afresh next time; what earlier lines recorded is committed.
            session.ingestor = nil
            session.openRun = nil
            _ = try? ingestor.finish()
            throw Problem(.conflict, "beamtime \(label.debugDescription) is open in another writer (one writer per beamtime), so line \(locked.line) and the lines after it were not recorded; send them again once it is closed (\(locked))")
        }
        let after = ingestor.summary
        outcome.runs = after.runs - before.runs
        outcome.events = after.events - before.events
        outcome.frames = after.frames - before.frames
        outcome.skipped = after.skipped - before.skipped
        if let open = session.openRun {
            outcome.openRuns = [open]
        } else {
            session.ingestor = nil
            try ingestor.finish()
        }
        return outcome
    }

    /// Every 10 s finishes idle sessions; on shutdown (after the HTTP server stopped, as
    /// services stop in reverse order) finishes them all.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(10))
                await self.closeIdle()
            }
        }
        await closeAll()
    }

    /// Finishes sessions idle for longer than ``idleLimit`` (their open runs stay open).
    func closeIdle() async {
        let idle = sessions.withLock { $0.values.map { $0 } }
        for session in idle {
            await withCheckedContinuation { continuation in
                session.queue.async {
                    if let ingestor = session.ingestor, ContinuousClock.now - session.lastUse > Self.idleLimit {
                        try? ingestor.finish()
                        session.ingestor = nil
                        session.openRun = nil
                    }
                    continuation.resume()
                }
            }
        }
    }

    /// Finishes every session (shutdown): what was ingested is committed.
    public func closeAll() async {
        let all = sessions.withLock { $0.values.map { $0 } }
        for session in all {
            await withCheckedContinuation { continuation in
                session.queue.async {
                    if let ingestor = session.ingestor {
                        do { try ingestor.finish() } catch { FileHandle.standardError.write(Data("ingest: finishing failed: \(error)\n".utf8)) }
                    }
                    session.ingestor = nil
                    continuation.resume()
                }
            }
        }
    }
}
