/// Writes flat JSON objects (a beamline event's data and timestamps) over and over, byte
/// for byte what ``JSONObject/jsonText`` (Python's `json.dumps`) gives, at a fraction of the
/// cost: ``JSONWriter``'s fast front for a writer that formats one object per event.
///
/// ```swift
/// var buffer = JSONTextBuffer()
/// let data = buffer.object(["energy": 285.5, "i0": 1.0e-9])     // {"energy": 285.5, "i0": 1e-09}
/// let times = buffer.numbers(["energy": 1.7e9])                 // {"energy": 1700000000.0}
/// ```
///
/// It keeps one growing byte buffer for its life, formats plain floats and plain ASCII names
/// straight into it, and hands anything unusual (exponent-form floats, non-ASCII or escaped
/// strings, nested values) to ``JSONWriter``.
public struct JSONTextBuffer: ~Copyable {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    /// For values handed to JSONWriter.
    private var scratch: [UInt8] = []

    public init(capacity: Int = 1024) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// `{"field": value, ...}`: the object's text (any values; containers go through JSONWriter).
    public mutating func object(_ object: JSONObject) -> String {
        count = 0
        append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object {
            if !first { append(UInt8(ascii: ",")); append(UInt8(ascii: " ")) }
            first = false
            appendName(key)
            switch value {
            case .double(let d): appendDouble(d)
            default:
                scratch.removeAll(keepingCapacity: true)
                value.write(into: &scratch)
                scratch.withUnsafeBufferPointer { append($0) }
            }
        }
        append(UInt8(ascii: "}"))
        return text
    }

    /// `{"field": number, ...}` of name-number pairs (an event's timestamps).
    public mutating func numbers<Pairs: Sequence>(_ pairs: Pairs) -> String where Pairs.Element == (key: String, value: Double) {
        count = 0
        append(UInt8(ascii: "{"))
        var first = true
        for (key, t) in pairs {
            if !first { append(UInt8(ascii: ",")); append(UInt8(ascii: " ")) }
            first = false
            appendName(key)
            appendDouble(t)
        }
        append(UInt8(ascii: "}"))
        return text
    }

    private var text: String {
        String(decoding: UnsafeBufferPointer(start: storage, count: count), as: UTF8.self)
    }

    // MARK: Pieces

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + count).update(from: base, count: bytes.count)
        count += bytes.count
    }

    /// `"name": ` — printable ASCII without quote or backslash is copied as is.
    private mutating func appendName(_ name: String) {
        appendString(name)
        append(UInt8(ascii: ":"))
        append(UInt8(ascii: " "))
    }

    private mutating func appendString(_ string: String) {
        var string = string
        let plain = string.withUTF8 { bytes -> Bool in
            for b in bytes where b < 0x20 || b > 0x7E || b == 0x22 || b == 0x5C { return false }
            reserve(bytes.count + 2)
            storage[count] = UInt8(ascii: "\"")
            count += 1
            if let base = bytes.baseAddress { (storage + count).update(from: base, count: bytes.count) }
            count += bytes.count
            storage[count] = UInt8(ascii: "\"")
            count += 1
            return true
        }
        if !plain {
            scratch.removeAll(keepingCapacity: true)
            JSONWriter.writeString(string, into: &scratch)
            scratch.withUnsafeBufferPointer { append($0) }
        }
    }

    /// A float as `repr(float)`: Swift's shortest round-trip digits copied into the buffer;
    /// exponent forms (Python lays some of them out differently), zeros and non-finite values
    /// go through JSONWriter.
    private mutating func appendDouble(_ d: Double) {
        if d.isFinite && d != 0 {
            var text = d.magnitude.description
            let plain = text.withUTF8 { swift -> Bool in
                // Plain notation is the same in Swift and Python (JSONWriter.writeDouble explains).
                for c in swift where c == UInt8(ascii: "e") { return false }
                reserve(swift.count + 1)
                if d.sign == .minus {
                    storage[count] = UInt8(ascii: "-")
                    count += 1
                }
                (storage + count).update(from: swift.baseAddress!, count: swift.count)
                count += swift.count
                return true
            }
            if plain { return }
        }
        scratch.removeAll(keepingCapacity: true)
        JSONWriter.writeDouble(d, into: &scratch)
        scratch.withUnsafeBufferPointer { append($0) }
    }
}
