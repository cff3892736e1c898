import Foundation
import JSONValue

/// Times and numbers as people read them.
package enum Format {
    private static let dateFormatter: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f
    }()

    /// Local time, to the second; "-" for nil.
    package static func time(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        return dateFormatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// Today's local date as YYYY-MM-DD.
    package static func today() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date())
    }

    /// 1536 -> "1.5 KiB".
    package static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// Seconds with sensible precision.
    package static func seconds(_ s: Double) -> String {
        s < 10 ? String(format: "%.2f s", s) : String(format: "%.1f s", s)
    }

    /// A number the way Python prints it, for tables of event values.
    package static func number(_ d: Double) -> String { JSONValue.double(d).jsonText }
}
