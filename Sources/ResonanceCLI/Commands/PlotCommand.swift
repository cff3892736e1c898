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
        let table = try run.table(stream: stream)
        let xAxis = try axis(x, table: table, stream: streamInfo)
        let yAxis = try axis(y, table: table, stream: streamInfo)
        let path = output ?? Self.defaultName(uid: run.uid, y: y)

        var plot = LinePlot(x: xAxis, y: yAxis, title: "", subtitle: "", width: width, height: height)
        let finite = plot.finitePairs
        guard finite > 0 else {
            throw CommandError("nothing to plot: no event of stream \(stream.debugDescription) in run \(run.uid) has finite \(x) and \(y) values (\(table.count) events)")
        }
        let gaps = plot.pieces().count - 1
        plot.title = [run.planName, run.uid, run.sample?.name].compactMap { $0 }.joined(separator: "  ")
        plot.subtitle = "\((catalog.dbPath as NSString).lastPathComponent)  stream \(stream)  \(finite) point\(finite == 1 ? "" : "s")"
            + (finite < table.count ? ", \(table.count - finite) not finite" : "")
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

    /// A column as doubles (NaN where missing), titled with its units.
    func axis(_ name: String, table: EventTable, stream: EventStream) throws -> LinePlot.Axis {
        var values = try table.doubles(name, missing: .nan)
        if name == "time" {
            // Unix seconds make unreadable ticks; seconds since the first event do not.
            let start = values.first { $0.isFinite } ?? 0
            values = values.map { $0 - start }
            return LinePlot.Axis(values: values, name: "time", units: "s from first event")
        }
        return LinePlot.Axis(values: values, name: name, units: RunLookup.units(of: name, in: stream))
    }

    /// "<uid8>-<y>.png", the field name made safe for a file name.
    static func defaultName(uid: String, y: String) -> String {
        let safe = String(y.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "\(uid.prefix(8))-\(safe).png"
    }
}
