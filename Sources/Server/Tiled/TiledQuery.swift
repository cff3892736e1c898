import Foundation
import Hummingbird

/// A request's query string as Tiled's client writes it: repeated names (one
/// `filter[eq][condition][key]` per `Key(...) == ...`), JSON-encoded values, brackets in names.
struct TiledQuery: Sendable {
    /// Every (name, value) pair in order, percent-decoded.
    let pairs: [(name: String, value: String)]

    /// Read from the raw query string as a form decodes it (`+` is a space: httpx writes
    /// spaces so), names and values percent-decoded.
    init(_ request: Request) {
        self.init(raw: request.uri.query ?? "")
    }

    init(raw: String) {
        func decode(_ part: Substring) -> String {
            let spaced = part.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        pairs = raw.split(separator: "&").map { item -> (name: String, value: String) in
            guard let eq = item.firstIndex(of: "=") else { return (decode(item), "") }
            return (decode(item[..<eq]), decode(item[item.index(after: eq)...]))
        }
    }

    init(pairs: [(name: String, value: String)]) { self.pairs = pairs }

    /// The first value of `name`.
    func first(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// Whether `name` appears at all (`fields=` with an empty value counts).
    func has(_ name: String) -> Bool { pairs.contains { $0.name == name } }

    /// A non-negative integer parameter; 400 naming it when it is something else.
    func int(_ name: String) throws -> Int? {
        guard let text = first(name) else { return nil }
        guard let value = Int(text), value >= 0 else { throw TiledError.badRequest("\(name)=\(text.debugDescription) is not a non-negative integer") }
        return value
    }
}
