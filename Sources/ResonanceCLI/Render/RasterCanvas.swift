import ResonanceFormats
/// Draws a ``Figure`` into an RGB pixel buffer: anti-aliased lines and discs by exact
/// coverage (distance to the shape), text with ``BitmapFont``.
struct RasterCanvas {
    let width: Int
    let height: Int
    /// Row after row, 3 bytes (r, g, b) per pixel.
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, background: Figure.RGB) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.r
            pixels[3 * i + 1] = background.g
            pixels[3 * i + 2] = background.b
        }
    }

    /// The figure rendered.
    static func render(_ figure: Figure) -> RasterCanvas {
        var canvas = RasterCanvas(width: figure.width, height: figure.height, background: figure.background)
        for shape in figure.shapes { canvas.draw(shape) }
        return canvas
    }

    /// The canvas as a PNG file.
    func png() throws -> [UInt8] {
        try PNGWriter.encode(width: width, height: height, color: .rgb, pixels: pixels)
    }

    mutating func draw(_ shape: Figure.Shape) {
        switch shape {
        case .rect(let x, let y, let w, let h, let fill, let stroke):
            if let fill {
                for py in y..<(y + h) { for px in x..<(x + w) { blend(px, py, fill, 1) } }
            }
            if let stroke {
                draw(.rule(x0: x, y0: y, x1: x + w - 1, y1: y, color: stroke))
                draw(.rule(x0: x, y0: y + h - 1, x1: x + w - 1, y1: y + h - 1, color: stroke))
                draw(.rule(x0: x, y0: y, x1: x, y1: y + h - 1, color: stroke))
                draw(.rule(x0: x + w - 1, y0: y, x1: x + w - 1, y1: y + h - 1, color: stroke))
            }
        case .rule(let x0, let y0, let x1, let y1, let color):
            for py in min(y0, y1)...max(y0, y1) {
                for px in min(x0, x1)...max(x0, x1) { blend(px, py, color, 1) }
            }
        case .polyline(let points, let color, let lineWidth):
            strokePolyline(points, color: color, width: lineWidth)
        case .disc(let center, let radius, let color):
            fillDisc(center, radius: radius, color: color)
        case .text(let text, let x, let y, let scale, let anchor, let vertical, let color):
            drawText(text, x: x, y: y, scale: scale, anchor: anchor, vertical: vertical, color: color)
        }
    }

    // MARK: Pixels

    /// Mixes `color` into pixel (x, y) with opacity `alpha` (0...1); outside the canvas nothing.
    private mutating func blend(_ x: Int, _ y: Int, _ color: Figure.RGB, _ alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let i = 3 * (y * width + x)
        let a = min(alpha, 1)
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 { UInt8((Double(old) * (1 - a) + Double(new) * a).rounded()) }
        pixels[i] = mix(pixels[i], color.r)
        pixels[i + 1] = mix(pixels[i + 1], color.g)
        pixels[i + 2] = mix(pixels[i + 2], color.b)
    }

    // MARK: Lines and discs

    /// Strokes the line through `points` with round joins. Coverage is collected per pixel as
    /// the maximum over segments, then blended once, so joints are not painted twice (darker).
    private mutating func strokePolyline(_ points: [Figure.Point], color: Figure.RGB, width lineWidth: Double) {
        guard let first = points.first else { return }
        let half = lineWidth / 2
        var coverage = [Float](repeating: 0, count: width * height)
        var touched: [Int] = []
        let segments = points.count == 1 ? [(first, first)] : Array(zip(points, points.dropFirst()))
        for (a, b) in segments {
            let xs = Self.pixelRange(min(a.x, b.x) - half - 1, max(a.x, b.x) + half + 1, limit: width)
            let ys = Self.pixelRange(min(a.y, b.y) - half - 1, max(a.y, b.y) + half + 1, limit: height)
            for py in ys {
                for px in xs {
                    // Pixel centers sit at +0.5.
                    let d = Self.distance(Figure.Point(x: Double(px) + 0.5, y: Double(py) + 0.5), a, b)
                    let c = Float(min(1, max(0, half + 0.5 - d)))
                    let i = py * width + px
                    if c > coverage[i] {
                        if coverage[i] == 0 { touched.append(i) }
                        coverage[i] = c
                    }
                }
            }
        }
        for i in touched { blend(i % width, i / width, color, Double(coverage[i])) }
    }

    /// The pixel indices from `low` to `high` (rounded outwards) that lie in `0..<limit`.
    static func pixelRange(_ low: Double, _ high: Double, limit: Int) -> Range<Int> {
        guard low.isFinite, high.isFinite else { return 0..<0 }
        let lo = max(0, Int(max(low.rounded(.down), -1))), hi = min(limit, Int(min(high.rounded(.up), Double(limit))) + 1)
        return lo < hi ? lo..<hi : 0..<0
    }

    private mutating func fillDisc(_ center: Figure.Point, radius: Double, color: Figure.RGB) {
        for py in Self.pixelRange(center.y - radius - 1, center.y + radius + 1, limit: height) {
            for px in Self.pixelRange(center.x - radius - 1, center.x + radius + 1, limit: width) {
                let dx = Double(px) + 0.5 - center.x, dy = Double(py) + 0.5 - center.y
                blend(px, py, color, min(1, max(0, radius + 0.5 - (dx * dx + dy * dy).squareRoot())))
            }
        }
    }

    /// Distance from `p` to the segment a-b.
    static func distance(_ p: Figure.Point, _ a: Figure.Point, _ b: Figure.Point) -> Double {
        let dx = b.x - a.x, dy = b.y - a.y
        let length2 = dx * dx + dy * dy
        var t = length2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2 : 0
        t = min(1, max(0, t))
        let ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y
        return (ex * ex + ey * ey).squareRoot()
    }

    // MARK: Text

    private mutating func drawText(
        _ text: String, x: Int, y: Int, scale: Int, anchor: Figure.Anchor, vertical: Bool, color: Figure.RGB
    ) {
        let length = BitmapFont.width(text, scale: scale)
        let shift: Int
        switch anchor {
        case .start: shift = 0
        case .middle: shift = length / 2
        case .end: shift = length
        }
        let top = BitmapFont.ascent * scale  // from the baseline up to the glyph cell's top
        for (k, scalar) in text.unicodeScalars.enumerated() {
            let along = k * BitmapFont.cellWidth * scale - shift  // reading direction offset
            for row in 0..<(BitmapFont.cellHeight - 1) {
                for column in 0..<5 where BitmapFont.isInk(scalar, column: column, row: row) {
                    for sy in 0..<scale {
                        for sx in 0..<scale {
                            let u = along + column * scale + sx  // along the text
                            let v = row * scale + sy - top       // across it, downwards
                            if vertical {
                                // Rotated 90 degrees counter-clockwise: reading upwards.
                                blend(x + v, y - u, color, 1)
                            } else {
                                blend(x + u, y + v, color, 1)
                            }
                        }
                    }
                }
            }
        }
    }
}
