import Synchronization
import Foundation

/// Run, stream and event uids: 32 lowercase hex digits, a UUID without dashes.
///
/// New uids are time-ordered UUIDv7 (RFC 9562, allowed by docs/format.md): rows arrive in key
/// order, so SQLite appends to its primary-key index instead of rewriting random pages.
public enum UID {
    /// The last uid's millisecond and counter, and the random words to draw from.
    private static let state = Mutex(State())

    private struct State {
        var millis: UInt64 = 0
        var counter: UInt64 = 0
        /// Random words from the system's generator, fetched 64 at a time: one getrandom
        /// call per 32 uids instead of two per uid (each call is a system call).
        var pool = [UInt64](repeating: 0, count: 64)
        var poolNext = 64

        mutating func randomWord() -> UInt64 {
            if poolNext == pool.count {
                #if os(Linux)
                let filled = pool.withUnsafeMutableBytes { linux_getrandom($0.baseAddress, $0.count, 0) }
                #else
                let filled = 0
                #endif
                if filled != pool.count * 8 {  // not expected for 512 bytes; then word by word
                    var rng = SystemRandomNumberGenerator()
                    for i in pool.indices { pool[i] = rng.next() }
                }
                poolNext = 0
            }
            defer { poolNext += 1 }
            return pool[poolNext]
        }
    }

    /// A new UUIDv7 as 32 hex digits. Monotonic within the process: a 12-bit counter in
    /// `rand_a` orders uids made within the same millisecond.
    public static func make() -> String {
        let nowMillis = UInt64(Date().timeIntervalSince1970 * 1000)
        let (millis, seq, randomLow) = state.withLock { state in
            let random = state.randomWord()
            let randomLow = state.randomWord()
            if nowMillis > state.millis {
                state.millis = nowMillis
                state.counter = random & 0x1FF  // random start leaves room to count up
            } else {
                state.counter += 1
                if state.counter > 0xFFF {  // more than ~3,500 uids in one millisecond: borrow the next
                    state.millis += 1
                    state.counter = 0
                }
            }
            return (state.millis, state.counter, randomLow)
        }
        let high = (millis << 16) | 0x7000 | seq  // 48-bit time, version 7, 12-bit counter
        let low = (randomLow & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        return String(unsafeUninitializedCapacity: 32) { bytes in
            for k in 0..<16 {
                bytes[k] = hexDigit(high >> UInt64(60 - 4 * k))
                bytes[16 + k] = hexDigit(low >> UInt64(60 - 4 * k))
            }
            return 32
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt64) -> UInt8 {
        let n = UInt8(truncatingIfNeeded: nibble & 0xF)
        return n < 10 ? 0x30 + n : 0x57 + n  // "0"... / "a"...
    }

    /// True when `uid` is 32 lowercase hex digits.
    public static func isValid(_ uid: String) -> Bool {
        uid.utf8.count == 32 && uid.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

#if os(Linux)
/// glibc's `getrandom` (the Swift Glibc module does not import it): the kernel's CSPRNG,
/// what SystemRandomNumberGenerator reads 8 bytes at a time.
@_silgen_name("getrandom")
private func linux_getrandom(_ buffer: UnsafeMutableRawPointer?, _ length: Int, _ flags: UInt32) -> Int
#endif
