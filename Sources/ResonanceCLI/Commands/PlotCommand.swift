import CommandLineSupport
import ArgumentParser
import Foundation
import Resonance

/// `resonance plot`: a line plot of two event columns, as PNG or SVG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot one event column against another (e.g. a NEXAFS spectrum) as PNG or SVG.",
        discussion: """
            Draws y against x in event order, with axes, ticks, axis titles (field names and \
            units from the stream's data_keys) and the run's plan, uid and sample as the title. \
            The line breaks where a value is NaN, infinite or missing. The column `time` is \
            plotted as seconds from the first event. Integer and float columns can be plotted; \
            `seq_num` too.

            The format follows the output's extension (.png or .svg). Without --output the \
            plot goes to <uid8>-<y>.png in the current folder. The path written is printed.

            Examples:
              resonance plot 2026-03-05.db 0193ab12cd --x energy --y normalized
              resonance plot 2026-03-05.db 0193ab12cd --x energy --y i0 --output i0.svg
              resonance plot 2026-03-05.db 0193ab12cd --stream baseline --x time --y ring_current
            """
    )

    @OptionGroup var target: RunArguments

    @Option(help: ArgumentHelp("The column for the horizontal axis.", valueName: "field"))
    var x: String

    @Option(help: ArgumentHelp("The column for the vertical axis.", valueName: "field"))
    var y: String

    @Option(help: ArgumentHelp("The stream the columns belong to.", valueName: "name"))
    var stream: String = "primary"

    @Option(help: ArgumentHelp("The file to write, .png or .svg (default: <uid8>-<y>.png).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Image width in pixels.", valueName: "px"))
    var width: Int = 960

    @Option(help: ArgumentHelp("Image height in pixels.", valueName: "px"))
    var height: Int = 600

    enum Kind { case png, svg }

    func validate() throws {
        guard (320...8000).contains(width), (240...8000).contains(height) else {
            throw ValidationError("--width must be 320...8000 and --height 240...8000 (got \(width)x\(height))")
        }
        if let output, Self.kind(of: output) == nil {
            throw ValidationError("--output must end in .png or .svg (got \(output.debugDescription))")
        }
    }

    static func kind(of path: String) -> Kind? {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": return .png
        case "svg": return .svg
        default: return nil
        }
    }

    func run() throws {
        let (catalog, run) = try target.lookUp()
        let streamInfo = try RunLookup.stream(stream, of: run)
        // Two passes over the events, a batch at a time: the first counts and finds the
        // x range, the second keeps the points that can be seen at that range.
        var survey = PlotSurvey()
        try run.forEachTableBatch(stream: stream) { batch in
            survey.add(x: try batch.doubles(x, missing: .nan), y: try batch.doubles(y, missing: .nan))
        }
        guard survey.finitePairs > 0 else {
            throw CommandError("nothing to plot: no event of stream \(stream.debugDescription) in run \(run.uid) has finite \(x) and \(y) values (\(survey.events) events)")
        }
        // Unix seconds make unreadable ticks; seconds since the first event do not.
        let xOrigin = x == "time" ? survey.firstX ?? 0 : 0
        let yOrigin = y == "time" ? survey.firstY ?? 0 : 0
        var series = PlotSeries(survey: survey, width: width, xOrigin: xOrigin)
        try run.forEachTableBatch(stream: stream) { batch in
            var xs = try batch.doubles(x, missing: .nan), ys = try batch.doubles(y, missing: .nan)
            if xOrigin != 0 { xs = xs.map { $0 - xOrigin } }
            if yOrigin != 0 { ys = ys.map { $0 - yOrigin } }
            series.add(x: xs, y: ys)
        }
        let path = output ?? Self.defaultName(uid: run.uid, y: y)

        let finite = survey.finitePairs, gaps = survey.pieces - 1
        var plot = LinePlot(x: axis(x, stream: streamInfo), y: axis(y, stream: streamInfo), pieces: series.finish(),
                            title: "", subtitle: "", width: width, height: height)
        plot.title = [run.planName, run.uid, run.sample?.name].compactMap { $0 }.joined(separator: "  ")
        plot.subtitle = "\((catalog.dbPath as NSString).lastPathComponent)  stream \(stream)  \(finite) point\(finite == 1 ? "" : "s")"
            + (finite < survey.events ? ", \(survey.events - finite) not finite" : "")
            + (gaps > 0 ? ", \(gaps) gap\(gaps == 1 ? "" : "s")" : "")
        let figure = plot.figure()

        let bytes: [UInt8]
        switch Self.kind(of: path) ?? .png {
        case .png: bytes = try RasterCanvas.render(figure).png()
        case .svg: bytes = Array(SVGWriter.render(figure).utf8)
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CommandError("\(path): cannot write the plot (\(error.localizedDescription))")
        }
        Output.print(path)
    }

    /// An axis titled with its column's units (`time`: seconds from the first event).
    func axis(_ name: String, stream: EventStream) -> LinePlot.Axis {
        name == "time"
            ? LinePlot.Axis(name: "time", units: "s from first event")
            : LinePlot.Axis(name: name, units: RunLookup.units(of: name, in: stream))
    }

    /// "<uid8>-<y>.png", the field name made safe for a file name.
    static func defaultName(uid: String, y: String) -> String {
        let safe = String(y.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "\(uid.prefix(8))-\(safe).png"
    }
}
