/// A picture as a list of shapes in pixel coordinates (origin top left, y down), drawn the
/// same way by ``RasterCanvas`` (PNG) and ``SVGWriter`` (SVG), so both outputs agree.
struct Figure {
    var width: Int
    var height: Int
    var background = RGB.white
    var shapes: [Shape] = []

    /// An sRGB color.
    struct RGB: Equatable {
        var r: UInt8, g: UInt8, b: UInt8
        static let white = RGB(r: 255, g: 255, b: 255)
        static let text = RGB(r: 34, g: 34, b: 34)
        static let muted = RGB(r: 110, g: 110, b: 110)
        static let axis = RGB(r: 60, g: 60, b: 60)
        static let grid = RGB(r: 228, g: 228, b: 228)
        static let series = RGB(r: 31, g: 119, b: 180)  // matplotlib's first color

        /// "#1f77b4".
        var hex: String {
            "#" + [r, g, b].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
    }

    /// Where a text's anchor point sits along its reading direction.
    enum Anchor { case start, middle, end }

    /// One thing to draw.
    enum Shape {
        /// A pixel-aligned rectangle, filled and/or outlined (1 px).
        case rect(x: Int, y: Int, width: Int, height: Int, fill: RGB?, stroke: RGB?)
        /// A crisp horizontal or vertical 1-px line from (x0, y0) to (x1, y1), ends included.
        case rule(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB)
        /// A connected line through `points` (no gaps), anti-aliased, `width` px wide.
        case polyline(points: [Point], color: RGB, width: Double)
        /// A filled, anti-aliased disc.
        case disc(center: Point, radius: Double, color: RGB)
        /// Text on a baseline through (x, y); `vertical` reads bottom to top, the baseline
        /// then being the vertical line x. `scale` multiplies the 5x7 bitmap font.
        case text(String, x: Int, y: Int, scale: Int, anchor: Anchor, vertical: Bool, color: RGB)
    }

    /// A point in pixels.
    struct Point: Equatable {
        var x: Double, y: Double
    }
}
