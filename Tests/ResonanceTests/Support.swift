import Foundation
import GRDB
@_exported import TestSupport

/// A read-only look into a database file, for assertions.
func inspect<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
    var config = Configuration()
    config.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: config)
    defer { try? queue.close() }
    return try queue.read(body)
}
