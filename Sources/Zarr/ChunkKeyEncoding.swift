import JSONValue

/// How chunk grid indices become store keys.
///
/// ```swift
/// ZarrChunkKeyEncoding.default(separator: "/").key(for: [3, 0, 0])  // "c/3/0/0"
/// ZarrChunkKeyEncoding.default(separator: ".").key(for: [3, 0, 0])  // "c.3.0.0"
/// ZarrChunkKeyEncoding.v2(separator: ".").key(for: [3, 0, 0])       // "3.0.0"
/// ```
public enum ZarrChunkKeyEncoding: Sendable, Hashable {
    /// `c` followed by the indices, each after the separator (`"/"` or `"."`).
    case `default`(separator: Character)
    /// Zarr v2 style: the indices joined by the separator; `"0"` for zero-dimensional arrays.
    case v2(separator: Character)

    /// The encoding zarr-python writes by default: `default` with `/`.
    public static let standard = ZarrChunkKeyEncoding.default(separator: "/")

    /// The key, relative to the array's folder, of the chunk at `indices`.
    public func key(for indices: [Int]) -> String {
        switch self {
        case .default(let separator):
            var key = "c"
            for index in indices {
                key.append(separator)
                key += String(index)
            }
            return key
        case .v2(let separator):
            if indices.isEmpty { return "0" }
            return indices.map(String.init).joined(separator: String(separator))
        }
    }

    /// The chunk indices a relative key stands for, or nil if the key is not a chunk key of
    /// this encoding with `rank` dimensions.
    func indices(fromKey key: String, rank: Int) -> [Int]? {
        let parts: [Substring]
        switch self {
        case .default(let separator):
            let all = key.split(separator: separator, omittingEmptySubsequences: false)
            guard all.first == "c" else { return nil }
            parts = Array(all.dropFirst())
        case .v2(let separator):
            if rank == 0 { return key == "0" ? [] : nil }
            parts = key.split(separator: separator, omittingEmptySubsequences: false)
        }
        guard parts.count == rank else { return nil }
        var result: [Int] = []
        result.reserveCapacity(rank)
        for part in parts {
            guard !part.isEmpty, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                let value = Int(part)
            else { return nil }
            result.append(value)
        }
        return result
    }

    var separator: Character {
        switch self {
        case .default(let s), .v2(let s): return s
        }
    }

    var json: JSONValue {
        switch self {
        case .default(let separator):
            return ["name": "default", "configuration": ["separator": .string(String(separator))]]
        case .v2(let separator):
            return ["name": "v2", "configuration": ["separator": .string(String(separator))]]
        }
    }
}
