/// A read the ``Catalog`` could not do, naming the value it was asked for.
///
/// Files that cannot be opened at all are reported as ``DatabaseFileError`` instead.
public enum CatalogError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No run has this uid (or uid prefix).
    case runNotFound(uid: String)
    /// A uid prefix that several runs share; the matching uids are listed (at most 10).
    case ambiguousRunUID(prefix: String, matches: [String])
    /// Neither a uid (32 hex digits, dashes allowed) nor a prefix of at least 8 hex digits.
    case invalidRunUID(String)
    /// The catalog was not opened yet (see ``Catalog/open()``).
    case notOpen
    /// The catalog was closed.
    case closed
    /// A stored JSON text could not be read: where it is and why.
    case malformedJSON(location: String, reason: String)
    /// A table column that does not exist; the table's columns are listed.
    case noSuchColumn(name: String, available: [String])
    /// A column read as a type it cannot be converted to.
    case columnTypeMismatch(name: String, kind: EventColumn.Kind, requested: String)
    /// A frame index outside `-count..<count`.
    case frameIndexOutOfRange(field: String, index: Int, count: Int)
    /// A frame range outside `0...count`.
    case frameRangeOutOfBounds(field: String, range: Range<Int>, count: Int)
    /// Frames read as an element type other than the stored one.
    case frameTypeMismatch(field: String, stored: String, requested: String)
    /// The image_refs rows or the Zarr array of a field cannot be read as one stack of
    /// frames; `cause` keeps the error beneath, when there is one (e.g. a file's errno).
    case unreadableFrames(field: String, reason: String, cause: UnderlyingError? = nil)

    public var description: String {
        switch self {
        case .runNotFound(let uid): return "no run with uid \(uid.debugDescription) in this beamtime"
        case .ambiguousRunUID(let prefix, let matches):
            return "uid prefix \(prefix.debugDescription) matches several runs (\(matches.joined(separator: ", "))); give more digits"
        case .invalidRunUID(let uid):
            return "\(uid.debugDescription) is not a run uid: give 32 hex digits, or a unique prefix of at least 8"
        case .notOpen: return "the catalog is not open: call open() first"
        case .closed: return "the catalog is closed"
        case .malformedJSON(let location, let reason): return "\(location): invalid JSON text (\(reason))"
        case .noSuchColumn(let name, let available):
            return "no column \(name.debugDescription); the table has \(available.joined(separator: ", "))"
        case .columnTypeMismatch(let name, let kind, let requested):
            return "column \(name.debugDescription) holds \(kind.rawValue) values and cannot be read as \(requested)"
        case .frameIndexOutOfRange(let field, let index, let count):
            return "frame \(index) of \(field.debugDescription) is out of range: it has \(count) frame\(count == 1 ? "" : "s") (valid: \(-count)..<\(count))"
        case .frameRangeOutOfBounds(let field, let range, let count):
            return "frames \(range.lowerBound)..<\(range.upperBound) of \(field.debugDescription) are out of range: it has \(count) frame\(count == 1 ? "" : "s")"
        case .frameTypeMismatch(let field, let stored, let requested):
            return "frames of \(field.debugDescription) are \(stored), not \(requested)"
        case .unreadableFrames(let field, let reason, _):
            return "frames of \(field.debugDescription) cannot be read: \(reason)"
        }
    }
}
