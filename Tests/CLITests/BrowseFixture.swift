import Foundation
import JSONValue
import Resonance

/// A small beamtime with the awkward cases the browsing commands must get right, written
/// through RunWriter:
///
/// - run ``scanUID`` ("nexafs", sample "PS"): stream "primary" with floats (NaN, inf, -inf,
///   0.30000000000000004, 1e-300), integers, bools and strings (comma, quote, line break,
///   empty) and missing values; stream "baseline";
/// - run ``alignUID`` ("align", sample "PMMA"), started later: its uid shares 31 digits with
///   the first, so "0193ab12" is an ambiguous prefix;
/// - run ``imagesUID`` ("rsoxs", sample "PS"), newest: image fields "det" (uint16, 3 frames of
///   4x5, with saturated pixels) and "flt" (float32, 2 frames of 3x3, with NaN and inf).
enum BrowseFixture {
    static let scanUID = "0193ab12cd0000000000000000000001"
    static let alignUID = "0193ab12cd0000000000000000000002"
    static let imagesUID = "7f3e9a0b1c2d4e5f8a9b0c1d2e3f4a5b"

    /// Event times of the scan's primary stream.
    static let times: [Double] = (0..<6).map { 1_772_700_000.25 + Double($0) * 1.5 }

    static let labels: [String?] = ["plain", "a,b", "say \"hi\"", "two\nlines", "", nil]
    static let signals: [Double] = [1.5, .nan, .infinity, -.infinity, 0.1 + 0.2, 1e-300]
    static let flags: [Bool?] = [true, false, true, nil, false, true]

    /// Pixels of frame k of "det": 0, 1, 2, ... plus 100 k, with pixel 7 saturated in every frame
    /// and pixels 8-9 too in the last.
    static func detPixels(_ k: Int) -> [UInt16] {
        (0..<20).map { i in i == 7 || (k == 2 && (i == 8 || i == 9)) ? UInt16.max : UInt16(i + 100 * k) }
    }

    /// Pixels of frame k of "flt".
    static func fltPixels(_ k: Int) -> [Float] {
        var pixels = (0..<9).map { Float($0) * 0.5 - 1 + Float(k) }
        pixels[4] = .nan
        if k == 1 { pixels[8] = .infinity }
        return pixels
    }

    /// Writes the beamtime to `path` (and the Zarr store beside it).
    static func write(to path: String) throws {
        let ps = SampleMetadata(name: "PS", formula: "C8H8", serial: "S-7", tags: ["polymer", "reference"],
                                beamlinePos: "bar2/slot5", extra: ["thickness_nm": 80.0, "supplier": "Acme"])
        try RunWriter(dbPath: path, sample: ps).open { w in
            try w.openRun("nexafs", metadata: ["edge": "C K", "scan": ["points": 6]], operator: "tester", uid: scanUID)
            try w.openStream("primary", dataKeys: [
                "energy": ["dtype": "number", "units": "eV", "source": "mono"],
                "signal": ["dtype": "number", "units": "counts"],
                "label": ["dtype": "string"], "count": ["dtype": "integer"], "flag": ["dtype": "boolean"],
            ])
            for k in 0..<6 {
                var data: JSONObject = ["energy": .double(270 + Double(k)), "signal": .double(signals[k]), "count": .int(Int64(k + 1))]
                if let label = labels[k] { data["label"] = .string(label) }
                if let flag = flags[k] { data["flag"] = .bool(flag) }
                try w.writeEvent(data, time: times[k])
            }
            try w.openStream("baseline", dataKeys: ["ring_current": ["dtype": "number", "units": "mA"]])
            try w.writeEvent(["ring_current": 500.25], time: times[0] - 1)
            try w.writeEvent(["ring_current": 499.75], time: times[5] + 1)
            try w.closeRun(exitStatus: .success)
        }
        try RunWriter(dbPath: path, sample: SampleMetadata(name: "PMMA")).open { w in
            try w.openRun("align", uid: alignUID)
            try w.openStream("primary")
            for k in 1...3 { try w.writeEvent(["x": .int(Int64(k))]) }
            try w.closeRun(exitStatus: .aborted)
        }
        try RunWriter(dbPath: path, sample: ps).open { w in
            try w.openRun("rsoxs", uid: imagesUID)
            try w.openStream("primary", dataKeys: ["energy": ["dtype": "number", "units": "eV"]])
            for k in 0..<3 {
                let event = try w.writeEvent(["energy": .double(280 + Double(k))])
                try w.writeFrame(eventUID: event, field: "det", frame: Frame(rows: 4, columns: 5, pixels: detPixels(k)))
                if k < 2 {
                    try w.writeFrame(eventUID: event, field: "flt", frame: Frame(rows: 3, columns: 3, pixels: fltPixels(k)))
                }
            }
            try w.closeRun(exitStatus: .success)
        }
    }
}

