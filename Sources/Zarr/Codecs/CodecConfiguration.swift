import JSONValue

/// Reads a codec's `configuration` object member by member, so every codec reports
/// missing, mistyped and unknown members the same way.
struct CodecConfiguration {
    let codec: String
    let path: String
    private let members: JSONObject
    private var used: Set<String> = []

    init(codec: String, configuration: JSONObject?, path: String) {
        self.codec = codec
        self.path = path
        self.members = configuration ?? [:]
    }

    func error(_ reason: String) -> ZarrError {
        .invalidCodecConfiguration(path: path, codec: codec, reason: reason)
    }

    mutating func value(_ key: String) -> JSONValue? {
        used.insert(key)
        return members[key]
    }

    mutating func int(_ key: String, default fallback: Int? = nil, in range: ClosedRange<Int>? = nil) throws -> Int {
        guard let raw = value(key) else {
            if let fallback { return fallback }
            throw error("missing \"\(key)\"")
        }
        guard case .int(let i) = raw, let v = Int(exactly: i) else {
            throw error("\"\(key)\" must be an integer, not \(raw.jsonText)")
        }
        if let range, !range.contains(v) {
            throw error("\"\(key)\" must be in \(range.lowerBound)...\(range.upperBound), not \(v)")
        }
        return v
    }

    mutating func bool(_ key: String, default fallback: Bool? = nil) throws -> Bool {
        guard let raw = value(key) else {
            if let fallback { return fallback }
            throw error("missing \"\(key)\"")
        }
        guard case .bool(let b) = raw else { throw error("\"\(key)\" must be true or false, not \(raw.jsonText)") }
        return b
    }

    mutating func string(_ key: String, default fallback: String? = nil, oneOf allowed: [String]) throws -> String {
        guard let raw = value(key) else {
            if let fallback { return fallback }
            throw error("missing \"\(key)\"")
        }
        guard case .string(let s) = raw, allowed.contains(s) else {
            throw error("\"\(key)\" must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), not \(raw.jsonText)")
        }
        return s
    }

    mutating func intArray(_ key: String) throws -> [Int] {
        guard let raw = value(key) else { throw error("missing \"\(key)\"") }
        guard case .array(let items) = raw else { throw error("\"\(key)\" must be an array of integers, not \(raw.jsonText)") }
        return try items.map { item in
            guard case .int(let i) = item, let v = Int(exactly: i) else {
                throw error("\"\(key)\" must be an array of integers, not \(raw.jsonText)")
            }
            return v
        }
    }

    /// Throws if the configuration has members no reader asked for.
    func finish() throws {
        for key in members.keys where !used.contains(key) {
            throw error("unknown member \"\(key)\"")
        }
    }
}
