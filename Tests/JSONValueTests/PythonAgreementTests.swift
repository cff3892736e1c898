import Foundation
import JSONValue
import Testing

/// Byte-for-byte agreement with Python 3's `json` module, checked by running `python3`.
@Suite struct PythonAgreementTests {
    /// Lines of JSON text -> for each line, what `json.dumps(json.loads(line))` gives.
    static let redump = """
        import json, sys
        with open(sys.argv[1], encoding="utf-8") as f:
            lines = f.read().split("\\n")[:-1]
        sys.stdout.write("".join(json.dumps(json.loads(line)) + "\\n" for line in lines))
        """

    @Test func swiftTextIsWhatPythonWrites() throws {
        var generator = ValueGenerator(seed: 2024)
        let values = (0..<600).map { _ in generator.value() }
        let texts = values.map(\.jsonText)
        for text in texts { #expect(!text.contains("\n")) }
        let output = try Python.run(Self.redump, input: texts.map { $0 + "\n" }.joined())
        let python = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        try #require(python.count == texts.count)
        var mismatches = 0
        for (swift, python) in zip(texts, python) where swift != python {
            mismatches += 1
            if mismatches <= 5 { Issue.record("Swift:  \(swift)\nPython: \(python)") }
        }
        #expect(mismatches == 0)
        // And what Swift writes, Swift reads back to an equal value.
        for (value, text) in zip(values, texts) {
            let back = try parse(text)
            #expect(back == value)
            #expect(back.jsonText == text)
        }
    }

    @Test func floatsFromRandomBitPatternsMatchRepr() throws {
        // repr(float) for many raw bit patterns and for the layout switch-overs; one array per line.
        var rng = SplitMix64(seed: 7)
        var lines: [String] = []
        for _ in 0..<20 {
            lines.append(JSONValue.array((0..<1000).map { _ in .double(Double(bitPattern: rng.next())) }).jsonText)
        }
        var edges: [JSONValue] = []
        for base in [1e-4, 1e-5, 1e15, 1e16, 1e17, 9007199254740992.0, 1.0, 0.1, .leastNonzeroMagnitude, 2.2250738585072014e-308] {
            var up = base, down = base
            for _ in 0..<50 {
                edges.append(.double(up)); edges.append(.double(-down))
                up = up.nextUp; down = down.nextDown
            }
        }
        for p in -330...310 { edges.append(.double(pow(10, Double(p)))); edges.append(.double(2.5 * pow(10, Double(p)))) }
        for p in -1074...1023 { edges.append(.double(Double(sign: .plus, exponent: p, significand: 1))) }
        lines.append(JSONValue.array(edges).jsonText)
        try expectPythonRedumpsUnchanged(lines)
    }

    @Test func floatsOfEverydayMagnitudesMatchRepr() throws {
        // Readings and timestamps: 1e-7 ... 1e18 with 1 to 17 significant digits, where the
        // writer copies Swift's plain text as is.
        var rng = SplitMix64(seed: 11)
        var lines: [String] = []
        for _ in 0..<20 {
            lines.append(JSONValue.array((0..<1000).map { _ -> JSONValue in
                let exponent = Double(Int(rng.next() % 26)) - 7
                let mantissa = 1 + Double(rng.next() % 1_000_000_000) / 1e9
                let digits = Double(Int(rng.next() % 17) + 1)
                let scale = pow(10, digits - 1)
                let value = (mantissa * scale).rounded() / scale * pow(10, exponent)
                return .double(rng.next() % 2 == 0 ? value : -value)
            }).jsonText)
        }
        try expectPythonRedumpsUnchanged(lines)
    }

    /// Each line, read by Python's json and written back with `json.dumps`, comes back as is;
    /// a difference is reported at its first differing comma-separated piece.
    func expectPythonRedumpsUnchanged(_ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let output = try Python.run(Self.redump, input: lines.map { $0 + "\n" }.joined())
        let python = output.split(separator: "\n").map(String.init)
        try #require(python.count == lines.count, sourceLocation: sourceLocation)
        for (swift, python) in zip(lines, python) where swift != python {
            let s = swift.split(separator: ","), p = python.split(separator: ",")
            let first = zip(s, p).first { $0 != $1 }
            Issue.record("first difference: Swift \(first?.0 ?? "?") Python \(first?.1 ?? "?")", sourceLocation: sourceLocation)
        }
    }

    /// Python makes random values (no lone surrogates, ints within 64 bits) and writes them.
    static let generate = """
        import json, math, random, struct, sys
        r = random.Random(int(sys.argv[2]))
        def rchar():
            k = r.random()
            if k < 0.35: c = r.randrange(0x20, 0x7f)
            elif k < 0.45: c = r.randrange(0, 0x20)
            elif k < 0.55: c = r.choice([0x22, 0x5c, 0x2f, 0x7f, 0x80, 0xa0, 0xfeff, 0xffff])
            elif k < 0.8: c = r.randrange(0x80, 0x10000)
            else: c = r.randrange(0x10000, 0x110000)
            if 0xd800 <= c < 0xe000: c = 0xfffd
            return chr(c)
        def rstr():
            if r.random() < 0.1: return r.choice(["", "NaN", "Infinity", "null", "\\u00e9", "\\U0001f600"])
            return "".join(rchar() for _ in range(r.randrange(0, 12)))
        def rfloat():
            k = r.random()
            if k < 0.35: return struct.unpack("<d", r.getrandbits(64).to_bytes(8, "little"))[0]
            if k < 0.45: return r.choice([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e16, 1e-5, 1e-4, 285.0, 1.7976931348623157e308])
            if k < 0.6: return float(r.randrange(-10**18, 10**18))
            if k < 0.8: return round(r.uniform(-1000, 1000), r.randrange(0, 8)) * 10.0 ** r.randrange(-30, 30)
            return r.uniform(-1e6, 1e6)
        def rint():
            k = r.random()
            if k < 0.2: return r.choice([0, -1, 1, 2**63 - 1, -2**63, 285])
            if k < 0.5: return r.randrange(-2**63, 2**63)
            return r.randrange(-10**6, 10**6)
        def rvalue(depth):
            k = r.randrange(0, 10 if depth < 4 else 7)
            if k == 0: return None
            if k == 1: return r.random() < 0.5
            if k in (2, 3): return rint()
            if k in (4, 5): return rfloat()
            if k == 6: return rstr()
            if k in (7, 8): return [rvalue(depth + 1) for _ in range(r.randrange(0, 6))]
            return {rstr(): rvalue(depth + 1) for _ in range(r.randrange(0, 6))}
        emit = json.dumps
        text = "".join(emit(rvalue(0)) + "\\n" for _ in range(int(sys.argv[3])))
        sys.stdout.buffer.write(text.encode("utf-8"))
        """

    @Test func pythonTextIsReadAndRewrittenIdentically() throws {
        let output = try Python.run(Self.generate, arguments: ["99", "600"])
        let lines = output.split(separator: "\n").map(String.init)
        try #require(lines.count == 600)
        var mismatches = 0
        for line in lines {
            let value = try parse(line)
            if value.jsonText != line {
                mismatches += 1
                if mismatches <= 5 { Issue.record("Python: \(line)\nSwift:  \(value.jsonText)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func pythonCompactAndRawUTF8TextIsRead() throws {
        // Each random value twice: as json.dumps writes it by default, and compact with raw
        // UTF-8 (ensure_ascii=False, separators=(",", ":")). Both read to the same value,
        // which Swift writes as the default text.
        let script = Self.generate.replacingOccurrences(
            of: "emit = json.dumps",
            with: #"emit = lambda v: json.dumps(v) + "\t" + json.dumps(v, ensure_ascii=False, separators=(",", ":"))"#)
        let output = try Python.run(script, arguments: ["5", "300"])
        let lines = output.utf8.split(separator: UInt8(ascii: "\n"))
        try #require(lines.count == 300)
        var nonASCII = 0
        for line in lines {
            let parts = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            try #require(parts.count == 2)
            let standard = String(decoding: parts[0], as: UTF8.self)
            let compact = try JSONValue(parsingUTF8: parts[1])
            #expect(compact.jsonText == standard)
            #expect(compact == (try parse(standard)))
            if parts[1].contains(where: { $0 >= 0x80 }) { nonASCII += 1 }
        }
        #expect(nonASCII > 30)
    }

    @Test func parserAcceptsAndRefusesWhatPythonDoes() throws {
        // Mutated JSON texts, judged by both: each must be refused by both, or read by both
        // and written back identically.
        var rng = SplitMix64(seed: 31337)
        var generator = ValueGenerator(seed: 1)
        var inputs: [[UInt8]] = []
        while inputs.count < 3000 {
            var bytes = Array(generator.value().jsonText.utf8)
            Fuzz.mutate(&bytes, using: &rng)
            inputs.append(bytes)
        }
        let script = """
            import json, sys
            out = []
            def representable(v):
                if isinstance(v, bool) or v is None or isinstance(v, float): return True
                if isinstance(v, int): return -2**63 <= v < 2**63
                if isinstance(v, str): return not any(0xd800 <= ord(c) < 0xe000 for c in v)
                if isinstance(v, list): return all(representable(x) for x in v)
                return all(representable(k) and representable(x) for k, x in v.items())
            for line in open(sys.argv[1]).read().split():
                try:
                    v = json.loads(bytes.fromhex(line[1:]).decode("utf-8"))
                except (ValueError, RecursionError):
                    out.append("ERROR")
                    continue
                out.append(json.dumps(v) if representable(v) else "SKIP")
            sys.stdout.write("\\n".join(out) + "\\n")
            """
        let hex = inputs.map { "h" + $0.map { String(format: "%02x", $0) }.joined() + "\n" }.joined()
        let output = try Python.run(script, input: hex)
        let verdicts = output.split(separator: "\n").map(String.init)
        try #require(verdicts.count == inputs.count)
        var accepted = 0, disagreements = 0
        for (bytes, python) in zip(inputs, verdicts) where python != "SKIP" {
            let swift: String
            do { swift = try JSONValue(parsingUTF8: bytes).jsonText; accepted += 1 } catch { swift = "ERROR" }
            if swift != python {
                disagreements += 1
                if disagreements <= 5 {
                    Issue.record("input \(String(decoding: bytes, as: UTF8.self).debugDescription)\nSwift:  \(swift)\nPython: \(python)")
                }
            }
        }
        #expect(disagreements == 0)
        #expect(accepted > 300)  // the mutations leave a fair share valid
    }
}
