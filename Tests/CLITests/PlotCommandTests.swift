import Foundation
import JSONValue
import Resonance
import Testing

@Suite("resonance plot")
struct PlotCommandTests {
    let dir = TempDir()
    var db: String { dir.file("bt.db") }

    init() throws { try BrowseFixture.write(to: dir.file("bt.db")) }

    @Test func defaultPNGInTheCurrentFolder() throws {
        let result = try resonance("plot", db, "0193ab12cd0000000000000000000001", "--x", "energy", "--y", "signal", in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0193ab12-signal.png\n")
        let out = try runPython(FrameChecks.python + """

            import sys
            mode, w, h, px = read_png(sys.argv[1])
            pixels = [px[i:i + 3] for i in range(0, len(px), 3)]
            blue = sum(1 for p in pixels if p == bytes([31, 119, 180]))
            dark_title = sum(1 for y in range(0, 40) for x in range(0, w) if px[3 * (y * w + x)] < 80)
            print(mode, w, h, blue > 30, dark_title > 100)
            """, [dir.file("0193ab12-signal.png")])
        #expect(out == "RGB 960 600 True True\n")
    }

    @Test func svgHasRealTextAxisTitlesWithUnitsAndGaps() throws {
        let svg = dir.file("signal.svg")
        let result = try resonance("plot", db, BrowseFixture.scanUID, "--x", "energy", "--y", "signal", "--output", svg)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == svg + "\n")
        let out = try runPython("""
            import sys, json
            import xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            ns = "{http://www.w3.org/2000/svg}"
            texts = [t.text for t in root.iter(ns + "text")]
            print(json.dumps({"texts": texts, "polylines": len(list(root.iter(ns + "polyline"))),
                              "circles": len(list(root.iter(ns + "circle")))}))
            """, [svg])
        let json = try JSONValue(parsing: out)
        let texts = json["texts"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(texts.contains("energy (eV)"))
        #expect(texts.contains("signal (counts)"))
        #expect(texts.contains { $0.contains(BrowseFixture.scanUID) && $0.hasPrefix("nexafs") && $0.contains("PS") })
        // Finite signal at events 1, 5, 6 (NaN, inf, -inf between): one line (5-6) and the lone point 1.
        #expect(texts.contains { $0.contains("3 points, 3 not finite, 1 gap") })
        #expect(json["polylines"] == 1)
        #expect(json["circles"] == 3)  // a marker on every point (few points)
        #expect(texts.contains("270") && texts.contains("275"))
    }

    @Test func timeIsPlottedFromTheFirstEvent() throws {
        let svg = dir.file("t.svg")
        #expect(try resonance("plot", db, BrowseFixture.scanUID, "--stream", "baseline", "--x", "time", "--y", "ring_current", "--output", svg).status == 0)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.contains(">time (s from first event)<"))
        #expect(text.contains(">ring_current (mA)<"))
        #expect(text.contains(">0<"))
    }

    @Test func errorsNameTheValue() throws {
        let column = try resonance("plot", db, BrowseFixture.scanUID, "--x", "energy", "--y", "nope")
        #expect(column.status == 1)
        #expect(column.stderr.contains("no column \"nope\"; the table has seq_num, time, energy, signal, count, label, flag"))

        let strings = try resonance("plot", db, BrowseFixture.scanUID, "--x", "energy", "--y", "label")
        #expect(strings.status == 1)
        #expect(strings.stderr.contains("\"label\" holds string values"))

        let ext = try resonance("plot", db, BrowseFixture.scanUID, "--x", "energy", "--y", "signal", "--output", "plot.jpg")
        #expect(ext.status == 64)
        #expect(ext.stderr.contains("--output must end in .png or .svg"))

        let stream = try resonance("plot", db, BrowseFixture.scanUID, "--stream", "dark", "--x", "a", "--y", "b")
        #expect(stream.status == 1)
        #expect(stream.stderr.contains("no stream \"dark\""))

        let unknown = try resonance("plot", db, "abcdef0123", "--x", "a", "--y", "b")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no run with uid \"abcdef0123\""))

        let missing = try resonance("plot", dir.file("nope.db"), "abcdef0123", "--x", "a", "--y", "b")
        #expect(missing.stderr.contains("nope.db: no such file"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("abcdef01-b.png")))
    }

    /// A long run is thinned to what the plot can show: the SVG holds a bounded number of
    /// points, yet a single-event spike and the line's ends survive.
    @Test func aLongRunKeepsWhatCanBeSeen() throws {
        let long = dir.file("long.db")
        let events = 120_000, spike = 77_777
        var uid = ""
        try RunWriter(dbPath: long, sample: .init(name: "noise")).open { writer in
            uid = try writer.openRun("count")
            try writer.openStream("primary")
            for k in 0..<events {
                // A wave with pseudo-random noise in 0...1; one event far above the rest.
                let noise = Double((k &* 2_654_435_761) % 1_000) / 1_000
                let value = k == spike ? 50.0 : 0.5 + 0.3 * sin(Double(k) / 5_000) + 0.2 * noise
                try writer.writeEvent(["x": .double(Double(k) * 0.01), "y": .double(value)])
            }
            try writer.closeRun()
        }
        let svg = dir.file("long.svg")
        let result = try resonance("plot", long, uid, "--x", "x", "--y", "y", "--output", svg)
        #expect(result.status == 0, "\(result.stderr)")
        let out = try runPython("""
            import sys, json
            import xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            ns = "{http://www.w3.org/2000/svg}"
            lines = list(root.iter(ns + "polyline"))
            pts = [tuple(map(float, p.split(","))) for l in lines for p in l.get("points").split()]
            texts = [t.text for t in root.iter(ns + "text")]
            print(json.dumps({"lines": len(lines), "points": len(pts), "ys": sorted(y for _, y in pts)[:3],
                              "first_x": pts[0][0], "last_x": pts[-1][0],
                              "subtitle": [t for t in texts if "points" in t]}))
            """, [svg])
        let json = try JSONValue(parsing: out)
        #expect(json["lines"] == 1)
        let points = try #require(json["points"]?.intValue)
        // At most first, lowest, highest and last of each of 2 x 960 buckets (+ the last x's own).
        #expect(points > 1_000 && points <= 4 * 2 * 960 + 1, "\(points) points drawn")
        // The spike is the one point near the top; every other point lies far below it.
        let ys = json["ys"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        #expect(ys.count == 3 && ys[1] - ys[0] > 100, "\(ys)")
        #expect((json["first_x"]?.doubleValue ?? 0) < (json["last_x"]?.doubleValue ?? 0))
        #expect(json["subtitle"]?.arrayValue?.first?.stringValue?.contains("120000 points") == true)
    }
}
