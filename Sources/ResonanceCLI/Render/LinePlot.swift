/// Lays out a line plot of y against x as a ``Figure``: a title, a framed plot area with
/// grid lines, ticks and labels, axis titles, and the data as a line that breaks wherever
/// x or y is not finite (NaN, a missing value, an infinity). Few points also get markers.
/// It draws the points it is given; ``PlotSeries`` chooses them.
struct LinePlot {
    /// One axis's title parts.
    struct Axis {
        /// The field name, e.g. "energy".
        var name: String
        /// Units from the stream's data_keys, e.g. "eV".
        var units: String?
    }

    var x: Axis
    var y: Axis
    /// Runs of consecutive finite (x, y) points, each drawn as one line (``PlotSeries``).
    var pieces: [[(Double, Double)]]
    /// First line at the top, e.g. "nexafs  0193ab12cd  PS-b-PMMA".
    var title: String
    /// Second, grey line, e.g. "stream primary, 200 points, 1 gap".
    var subtitle: String
    var width = 960
    var height = 600

    /// Text size: the 5x7 font doubled, readable on screen.
    private let scale = 2
    /// At most this many points get a marker each.
    static let markerLimit = 150

    /// The figure; needs at least one finite (x, y) pair.
    func figure() -> Figure {
        let points = pieces.flatMap { $0 }
        precondition(!points.isEmpty, "a plot needs at least one finite point")
        let (xLow, xHigh) = Self.range(points.map(\.0))
        let (yLow, yHigh) = Self.range(points.map(\.1))
        let line = BitmapFont.cellHeight * scale  // 20 px per text line
        let ascent = BitmapFont.ascent * scale

        var figure = Figure(width: width, height: height)
        // Title block.
        let titleBaseline = 12 + ascent
        figure.shapes.append(.text(fit(title), x: 16, y: titleBaseline, scale: scale, anchor: .start, vertical: false, color: .text))
        figure.shapes.append(.text(fit(subtitle), x: 16, y: titleBaseline + line + 2, scale: scale, anchor: .start, vertical: false, color: .muted))

        // Plot area: room for tick labels and axis titles around it.
        let top = titleBaseline + 2 * line + 10
        let bottom = height - (8 + line + 8 + line + 6)
        let yTicks = Ticks(low: yLow, high: yHigh, target: max(2, (bottom - top) / 70))
        let yLabelWidth = yTicks.labels.map { BitmapFont.width($0, scale: scale) }.max() ?? 0
        let left = 12 + ascent + 2 * scale + 14 + yLabelWidth + 10
        let right = width - 28
        let xTicks = Self.xTicks(low: xLow, high: xHigh, pixels: right - left, scale: scale)
        let plotWidth = Double(right - left), plotHeight = Double(bottom - top)
        func px(_ v: Double) -> Double { Double(left) + (v - xLow) / (xHigh - xLow) * plotWidth }
        func py(_ v: Double) -> Double { Double(bottom) - (v - yLow) / (yHigh - yLow) * plotHeight }

        // Grid, frame, ticks and tick labels.
        for (v, label) in zip(xTicks.values, xTicks.labels) {
            let p = Int(px(v).rounded(.down))
            figure.shapes.append(.rule(x0: p, y0: top + 1, x1: p, y1: bottom - 1, color: .grid))
            figure.shapes.append(.rule(x0: p, y0: bottom, x1: p, y1: bottom + 5, color: .axis))
            figure.shapes.append(.text(label, x: p + 1, y: bottom + 8 + ascent, scale: scale, anchor: .middle, vertical: false, color: .text))
        }
        for (v, label) in zip(yTicks.values, yTicks.labels) {
            let p = Int(py(v).rounded(.down))
            figure.shapes.append(.rule(x0: left + 1, y0: p, x1: right - 1, y1: p, color: .grid))
            figure.shapes.append(.rule(x0: left - 5, y0: p, x1: left, y1: p, color: .axis))
            figure.shapes.append(.text(label, x: left - 9, y: p + ascent / 2, scale: scale, anchor: .end, vertical: false, color: .text))
        }
        figure.shapes.append(.rect(x: left, y: top, width: right - left + 1, height: bottom - top + 1, fill: nil, stroke: .axis))

        // Axis titles.
        figure.shapes.append(.text(Self.axisTitle(x, exponent: xTicks.exponent), x: (left + right) / 2,
                                   y: bottom + 8 + line + 8 + ascent, scale: scale, anchor: .middle, vertical: false, color: .text))
        figure.shapes.append(.text(Self.axisTitle(y, exponent: yTicks.exponent), x: 12 + ascent, y: (top + bottom) / 2,
                                   scale: scale, anchor: .middle, vertical: true, color: .text))

        // The data.
        let markers = points.count <= Self.markerLimit
        for piece in pieces {
            let path = piece.map { Figure.Point(x: px($0.0), y: py($0.1)) }
            if path.count > 1 { figure.shapes.append(.polyline(points: path, color: .series, width: 2)) }
            if markers || path.count == 1 {
                for p in path { figure.shapes.append(.disc(center: p, radius: 3, color: .series)) }
            }
        }
        return figure
    }

    /// `text` shortened with "..." to fit the figure's width.
    func fit(_ text: String) -> String {
        let room = (width - 32) / (BitmapFont.cellWidth * scale)
        return text.count <= room ? text : String(text.prefix(max(room - 3, 0))) + "..."
    }

    /// "energy (eV)", "i0 (1e-9 A)", "counts (x1e6)", "seq_num".
    static func axisTitle(_ axis: Axis, exponent: Int) -> String {
        let power = exponent == 0 ? nil : "1e\(exponent)"
        switch (power, axis.units) {
        case (nil, nil): return axis.name
        case (nil, let units?): return "\(axis.name) (\(units))"
        case (let power?, nil): return "\(axis.name) (x\(power))"
        case (let power?, let units?): return "\(axis.name) (\(power) \(units))"
        }
    }

    /// The data range with 4% room on each side; a single value gets a range around it.
    static func range(_ values: [Double]) -> (Double, Double) {
        var low = values.min()!, high = values.max()!
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.05
            return (low - pad, high + pad)
        }
        let pad = (high - low) * 0.04
        low -= pad
        high += pad
        return (low, high)
    }

    /// As many x ticks as fit without their labels touching.
    static func xTicks(low: Double, high: Double, pixels: Int, scale: Int) -> Ticks {
        var target = max(2, pixels / 90)
        while true {
            let ticks = Ticks(low: low, high: high, target: target)
            let widest = ticks.labels.map { BitmapFont.width($0, scale: scale) }.max() ?? 0
            let spacing = ticks.values.count > 1 ? Double(pixels) * (ticks.values[1] - ticks.values[0]) / (high - low) : .infinity
            if Double(widest + 3 * BitmapFont.cellWidth * scale) <= spacing || target <= 2 { return ticks }
            target -= 1
        }
    }
}
