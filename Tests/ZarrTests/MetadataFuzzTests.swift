import Foundation
import JSONValue
import Testing
@testable import Zarr

/// Property-style checks: the metadata parser must never trap, whatever `zarr.json` holds.
/// Every input either parses (and then round-trips through its own output) or throws a
/// ``ZarrError``.
@Suite struct MetadataFuzzTests {
    static let seeds: [String] = [
        // zarr-python's default array, a sharded one, a group.
        String(decoding: try! ZarrArrayMetadata(shape: [5, 64, 64], dataType: .uint16, chunkShape: [1, 64, 64]).jsonBytes, as: UTF8.self),
        String(decoding: try! ZarrArrayMetadata(shape: [8, 8], dataType: .float64, chunkShape: [4, 4], fillValue: .float(.infinity),
            codecs: [.shardingIndexed(ShardingCodec(chunkShape: [2, 2], codecs: [.transpose(try! TransposeCodec(order: [1, 0])),
                .bytes(BytesCodec(endian: .big)), .blosc(BloscCodec(cname: .lz4, typesize: 8)), .crc32c(.init())]))],
            attributes: ["a": [1, 2.5, "x", nil, true]], dimensionNames: ["y", nil]).jsonBytes, as: UTF8.self),
        String(decoding: ZarrGroupMetadata(attributes: ["k": "v"]).jsonBytes, as: UTF8.self),
    ]

    /// Parses `bytes` every way the module can and checks the outcome is a value or a ZarrError.
    func exercise(_ bytes: [UInt8]) {
        do {
            let metadata = try ZarrArrayMetadata(parsing: bytes, path: "fuzz")
            let again = try ZarrArrayMetadata(parsing: metadata.jsonBytes, path: "fuzz-again")
            #expect(again == metadata, "round trip of \(String(decoding: bytes, as: UTF8.self))")
            _ = metadata.gridShape
        } catch is ZarrError {
        } catch {
            Issue.record("non-Zarr error \(error) for \(String(decoding: bytes, as: UTF8.self))")
        }
        do {
            let group = try ZarrGroupMetadata(parsing: bytes, path: "fuzz")
            #expect(try ZarrGroupMetadata(parsing: group.jsonBytes, path: "fuzz-again") == group)
        } catch is ZarrError {
        } catch {
            Issue.record("non-Zarr error \(error)")
        }
    }

    @Test func randomByteMutations() {
        var rng = SplitMix64(seed: 0x5EED)
        let alphabet = Array("{}[]:,\"0123456789-+.eE \ntruefalsnNaIiy\\u/x".utf8)
        for seed in Self.seeds {
            let original = Array(seed.utf8)
            for _ in 0..<1500 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    guard !bytes.isEmpty else { break }
                    let at = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: bytes[at] = alphabet.randomElement(using: &rng)!
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
                    case 3: bytes.removeSubrange(at...)
                    default: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                    }
                }
                exercise(bytes)
            }
        }
        for _ in 0..<500 {
            exercise((0..<Int.random(in: 0..<64, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        }
    }

    /// A random JSON value, biased to the kinds of values metadata holds.
    func randomValue(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let names: [JSONValue] = ["bytes", "zstd", "gzip", "blosc", "crc32c", "transpose", "sharding_indexed", "regular",
                                  "default", "v2", "uint16", "float16", "NaN", "0x7fc00000", "little", "big", "end", "/", "."]
        switch Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng) {
        case 0: return .int(Int64.random(in: -3...70, using: &rng))
        case 1: return .int([Int64.max, Int64.min, 1 << 40, 1 << 62, -1, 0].randomElement(using: &rng)!)
        case 2: return .double([Double.nan, .infinity, 1.5, -0.0, 1e300].randomElement(using: &rng)!)
        case 3: return names.randomElement(using: &rng)!
        case 4: return .bool(Bool.random(using: &rng))
        case 5: return .null
        case 6, 7:
            return .array((0..<Int.random(in: 0..<4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var object: JSONObject = [:]
            for _ in 0..<Int.random(in: 0..<4, using: &rng) {
                let key = ["name", "configuration", "must_understand", "chunk_shape", "codecs", "index_codecs", "endian",
                           "level", "order", "separator", "typesize", "cname", "shuffle", "clevel"].randomElement(using: &rng)!
                object[key] = randomValue(&rng, depth: depth + 1)
            }
            return .object(object)
        }
    }

    /// Replaces one randomly chosen node of `value` by `replacement`.
    func replacingRandomNode(_ value: JSONValue, with replacement: JSONValue, _ rng: inout SplitMix64) -> JSONValue {
        if Int.random(in: 0..<4, using: &rng) == 0 { return replacement }
        switch value {
        case .array(var items) where !items.isEmpty:
            let i = Int.random(in: 0..<items.count, using: &rng)
            items[i] = replacingRandomNode(items[i], with: replacement, &rng)
            return .array(items)
        case .object(var object) where !object.isEmpty:
            let key = object.keys[Int.random(in: 0..<object.count, using: &rng)]
            if Int.random(in: 0..<8, using: &rng) == 0 {
                object[key] = nil
            } else {
                object[key] = replacingRandomNode(object[key]!, with: replacement, &rng)
            }
            return .object(object)
        default:
            return replacement
        }
    }

    @Test func structuralMutations() throws {
        var rng = SplitMix64(seed: 42)
        for seed in Self.seeds {
            let original = try JSONValue(parsing: seed)
            for _ in 0..<3000 {
                var value = original
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    value = replacingRandomNode(value, with: randomValue(&rng), &rng)
                }
                exercise(Array(value.jsonText.utf8))
            }
        }
    }

    @Test func mutatedMetadataOpensOrFailsCleanly() throws {
        // Through the store too: opening builds the codec pipeline, which must not trap either.
        try withTemporaryStore { store, _ in
            var rng = SplitMix64(seed: 9)
            let original = try JSONValue(parsing: Self.seeds[1])
            for _ in 0..<400 {
                let value = replacingRandomNode(original, with: randomValue(&rng), &rng)
                try store.set("a/zarr.json", Array(value.jsonText.utf8))
                do {
                    _ = try ZarrArray.open(in: store, at: "a")
                    _ = try ZarrNode.open(in: store, at: "a")
                } catch is ZarrError {
                } catch {
                    Issue.record("non-Zarr error \(error)")
                }
            }
        }
    }
}
