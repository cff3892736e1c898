import Foundation

/// Writes a ``Figure`` as SVG 1.1 with real text. Text uses a monospace font at 10 px per
/// bitmap-font scale step, whose advance (about 0.6 em = 6 px) matches ``BitmapFont``'s
/// cell, so labels take the room the layout measured for them.
enum SVGWriter {
    static func render(_ figure: Figure) -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(figure.width)" height="\(figure.height)" \
            viewBox="0 0 \(figure.width) \(figure.height)">
            <rect x="0" y="0" width="\(figure.width)" height="\(figure.height)" fill="\(figure.background.hex)"/>

            """
        for shape in figure.shapes { out += element(shape) + "\n" }
        out += "</svg>\n"
        return out
    }

    private static func element(_ shape: Figure.Shape) -> String {
        switch shape {
        case .rect(let x, let y, let w, let h, let fill, let stroke):
            // A 1-px stroke centered on the pixel edges' midline, as the raster draws it.
            let fillText = fill.map { "fill=\"\($0.hex)\"" } ?? "fill=\"none\""
            let strokeText = stroke.map { " stroke=\"\($0.hex)\" stroke-width=\"1\"" } ?? ""
            return "<rect x=\"\(Double(x) + 0.5)\" y=\"\(Double(y) + 0.5)\" width=\(q(w - 1)) height=\(q(h - 1)) \(fillText)\(strokeText)/>"
        case .rule(let x0, let y0, let x1, let y1, let color):
            return "<line x1=\(q(Double(x0) + 0.5)) y1=\(q(Double(y0) + 0.5)) x2=\(q(Double(x1) + 0.5)) y2=\(q(Double(y1) + 0.5)) "
                + "stroke=\"\(color.hex)\" stroke-width=\"1\" stroke-linecap=\"square\"/>"
        case .polyline(let points, let color, let width):
            let coordinates = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
            if points.count == 1 {
                return "<circle cx=\(q(points[0].x)) cy=\(q(points[0].y)) r=\(q(width / 2)) fill=\"\(color.hex)\"/>"
            }
            return "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\(q(width)) "
                + "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>"
        case .disc(let center, let radius, let color):
            return "<circle cx=\(q(center.x)) cy=\(q(center.y)) r=\(q(radius)) fill=\"\(color.hex)\"/>"
        case .text(let text, let x, let y, let scale, let anchor, let vertical, let color):
            let anchorName = anchor == .start ? "start" : anchor == .middle ? "middle" : "end"
            let rotate = vertical ? " transform=\"rotate(-90 \(x) \(y))\"" : ""
            return "<text x=\"\(x)\" y=\"\(y)\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" "
                + "font-size=\"\(10 * scale)\" text-anchor=\"\(anchorName)\" xml:space=\"preserve\" fill=\"\(color.hex)\"\(rotate)>\(escape(text))</text>"
        }
    }

    /// A quoted attribute value.
    private static func q(_ value: Int) -> String { "\"\(value)\"" }
    private static func q(_ value: Double) -> String { "\"\(n(value))\"" }

    /// Coordinates to 0.01 px: plenty for a screen, and short.
    private static func n(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let whole = abs(hundredths) / 100, fraction = abs(hundredths) % 100
        if fraction == 0 { return sign + String(whole) }
        return sign + String(whole) + (fraction % 10 == 0 ? ".\(fraction / 10)" : String(format: ".%02d", fraction))
    }

    /// Text escaped for XML character data.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 forbids most control characters even escaped.
                if c.value < 0x20 && c != "\t" && c != "\n" { out += "?" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
