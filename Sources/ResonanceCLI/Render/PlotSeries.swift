/// What a line plot needs to know of its data before drawing: counts, gaps and where
/// each axis starts, gathered batch by batch so a run of millions of events is never held
/// whole (the first of ``PlotSeries``'s two passes).
struct PlotSurvey {
    /// Events seen.
    private(set) var events = 0
    /// Events whose x and y are both finite: the points drawn.
    private(set) var finitePairs = 0
    /// Runs of consecutive finite points: each is drawn as one line.
    private(set) var pieces = 0
    /// The first finite x and y (the origin of a `time` axis).
    private(set) var firstX: Double?
    private(set) var firstY: Double?
    /// The smallest and largest finite x of a drawn point.
    private(set) var xLow = Double.infinity
    private(set) var xHigh = -Double.infinity
    private var inPiece = false

    mutating func add(x: [Double], y: [Double]) {
        events += x.count
        for (a, b) in zip(x, y) {
            if firstX == nil, a.isFinite { firstX = a }
            if firstY == nil, b.isFinite { firstY = b }
            guard a.isFinite && b.isFinite else {
                inPiece = false
                continue
            }
            if !inPiece { pieces += 1 }
            inPiece = true
            finitePairs += 1
            xLow = min(xLow, a)
            xHigh = max(xHigh, a)
        }
    }
}

/// The pieces of a line plot, gathered batch by batch and thinned to what can be seen.
///
/// Up to ``keepAllUpTo`` points every point is kept (so few points keep their markers).
/// Above that, x is cut into two buckets per pixel of the image's width, and
/// each stretch of consecutive points within one bucket keeps its first, lowest, highest
/// and last point, in the order they came (the "M4" reduction): the line drawn through
/// them covers the same pixels as the line through all points. Memory then follows the
/// plot's width, not the run's length, for x in event order (energy, time, seq_num); an x
/// that jumps back and forth between buckets keeps more.
struct PlotSeries {
    /// Points beyond which the series is thinned.
    static let keepAllUpTo = 10_000

    private let low: Double
    private let bucketWidth: Double?
    private(set) var pieces: [[(Double, Double)]] = []
    private var current: [(Double, Double)] = []
    private var group: Group?

    /// One bucket's stretch: its first, lowest, highest and last points with their order.
    private struct Group {
        var bucket: Int
        var first: (Double, Double)
        var lowest: (point: (Double, Double), order: Int)
        var highest: (point: (Double, Double), order: Int)
        var last: (point: (Double, Double), order: Int)
    }

    /// `width`: the image's width in pixels (the plot area is narrower, so two buckets per
    /// pixel of it are more than two per pixel of the plot). `xOrigin`: what the second
    /// pass subtracts from every x (a `time` axis's start).
    init(survey: PlotSurvey, width: Int, xOrigin: Double = 0) {
        low = survey.xLow - xOrigin
        let span = survey.xHigh - survey.xLow
        bucketWidth = survey.finitePairs > Self.keepAllUpTo && span > 0 && span.isFinite ? span / Double(2 * width) : nil
    }

    mutating func add(x: [Double], y: [Double]) {
        for (a, b) in zip(x, y) {
            if a.isFinite && b.isFinite { add((a, b)) } else { breakLine() }
        }
    }

    /// The pieces, each with at least one point.
    mutating func finish() -> [[(Double, Double)]] {
        breakLine()
        return pieces
    }

    private mutating func add(_ point: (Double, Double)) {
        guard let bucketWidth else { return current.append(point) }
        let bucket = Int(((point.0 - low) / bucketWidth).rounded(.down))
        guard var open = group, open.bucket == bucket else {
            closeGroup()
            group = Group(bucket: bucket, first: point, lowest: (point, 0), highest: (point, 0), last: (point, 0))
            return
        }
        let order = open.last.order + 1
        if point.1 < open.lowest.point.1 { open.lowest = (point, order) }
        if point.1 > open.highest.point.1 { open.highest = (point, order) }
        open.last = (point, order)
        group = open
    }

    private mutating func closeGroup() {
        guard let open = group else { return }
        group = nil
        current.append(open.first)
        var middle = [open.lowest, open.highest].filter { $0.order != 0 && $0.order != open.last.order }
        middle.sort { $0.order < $1.order }
        if middle.count == 2 && middle[0].order == middle[1].order { middle.removeLast() }
        for entry in middle { current.append(entry.point) }
        if open.last.order != 0 { current.append(open.last.point) }
    }

    private mutating func breakLine() {
        closeGroup()
        if !current.isEmpty { pieces.append(current) }
        current = []
    }
}
