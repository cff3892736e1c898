import GRDB

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
