import Foundation

/// Run, stream and event uids: 32 lowercase hex digits, a UUID without dashes.
///
/// New uids are time-ordered UUIDv7 (RFC 9562, allowed by SPEC.md): rows arrive in key
/// order, so SQLite appends to its primary-key index instead of rewriting random pages.
public enum UID {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
    private static let state = NSLock()
    nonisolated(unsafe) private static var lastMillis: UInt64 = 0
    nonisolated(unsafe) private static var counter: UInt64 = 0

    /// A new UUIDv7 as 32 hex digits. Monotonic within the process: a 12-bit counter in
    /// `rand_a` orders uids made within the same millisecond.
    public static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let random = rng.next() as UInt64
        let nowMillis = UInt64(Date().timeIntervalSince1970 * 1000)
        state.lock()
        if nowMillis > lastMillis {
            lastMillis = nowMillis
            counter = random & 0x1FF  // random start leaves room to count up
        } else {
            counter += 1
            if counter > 0xFFF {  // more than ~3,500 uids in one millisecond: borrow the next
                lastMillis += 1
                counter = 0
            }
        }
        let millis = lastMillis
        let seq = counter
        state.unlock()
        let high = (millis << 16) | 0x7000 | seq  // 48-bit time, version 7, 12-bit counter
        let low = ((rng.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        var bytes = [UInt8](repeating: 0, count: 32)
        for k in 0..<16 {
            bytes[k] = hex[Int((high >> UInt64(60 - 4 * k)) & 0xF)]
            bytes[16 + k] = hex[Int((low >> UInt64(60 - 4 * k)) & 0xF)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when `uid` is 32 lowercase hex digits.
    public static func isValid(_ uid: String) -> Bool {
        uid.utf8.count == 32 && uid.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
