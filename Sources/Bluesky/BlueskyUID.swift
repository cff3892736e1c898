/// Bluesky uids (usually UUID4 text, `"8a622c8a-f530-4c65-bc51-b2abb133850e"`) and the
/// format's 32-hex uids.
///
/// ```swift
/// BlueskyUID.formatUID("8A622C8A-f530-4c65-bc51-b2abb133850e")  // "8a622c8af5304c65bc51b2abb133850e"
/// BlueskyUID.dashed("8a622c8af5304c65bc51b2abb133850e")          // "8a622c8a-f530-4c65-bc51-b2abb133850e"
/// BlueskyUID.formatUID("run-7")                                  // a stable 32-hex hash of "run-7"
/// ```
public enum BlueskyUID {
    /// The 32-hex form: a UUID's digits without dashes, in lowercase; any other text
    /// becomes a stable 128-bit hash of it (FNV-1a, twice), so the same uid always maps alike.
    public static func formatUID(_ uid: String) -> String {
        if let key = key(uid) { return hex(key) }
        return hex(hash(uid))
    }

    /// The 128 bits of a UUID given as 32 hex digits, with or without the four dashes; nil otherwise.
    static func key(_ uid: String) -> UIDKey? {
        var hi: UInt64 = 0, lo: UInt64 = 0
        var digits = 0
        var dashes = 0
        for byte in uid.utf8 {
            let v: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = UInt64(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: "-"):
                guard [8, 12, 16, 20].contains(digits) else { return nil }
                dashes += 1
                continue
            default: return nil
            }
            if digits < 16 { hi = hi << 4 | v } else { lo = lo << 4 | v }
            digits += 1
            if digits > 32 { return nil }
        }
        guard digits == 32, dashes == 0 || dashes == 4 else { return nil }
        return UIDKey(hi: hi, lo: lo)
    }

    /// The key of a 32-hex uid, or of the hash of any other text (as ``formatUID(_:)``).
    static func anyKey(_ uid: String) -> UIDKey { key(uid) ?? hash(uid) }

    /// 8-4-4-4-12 lowercase text of a 32-hex uid (the form Bluesky writes); other text unchanged.
    public static func dashed(_ formatUID: String) -> String {
        guard formatUID.utf8.count == 32, !formatUID.contains("-") else { return formatUID }
        let s = Array(formatUID)
        return String(s[0..<8]) + "-" + String(s[8..<12]) + "-" + String(s[12..<16]) + "-" + String(s[16..<20]) + "-" + String(s[20..<32])
    }

    static func hex(_ key: UIDKey) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 32) { out in
            for k in 0..<16 {
                out[k] = digits[Int((key.hi >> UInt64(60 - 4 * k)) & 0xF)]
                out[16 + k] = digits[Int((key.lo >> UInt64(60 - 4 * k)) & 0xF)]
            }
            return 32
        }
    }

    static func hash(_ text: String) -> UIDKey {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 0x9e37_79b9
        }
        return UIDKey(hi: a, lo: b)
    }
}

/// A uid's 128 bits: what the ingestor keeps in memory per recorded event.
struct UIDKey: Hashable, Sendable {
    var hi: UInt64
    var lo: UInt64
}
