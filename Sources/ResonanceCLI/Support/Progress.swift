import Foundation

/// A progress bar with rate and ETA on stderr, drawn only when stderr is a terminal and
/// the work has taken more than a second (short tasks stay quiet).
final class ProgressBar {
    private var total: Int
    private let label: String
    private let unit: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let enabled: Bool

    init(total: Int, label: String, unit: String = "items") {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
        self.enabled = Output.stderrIsTerminal
    }

    /// Reports that `done` of `total` are finished, `total` changing as it becomes known.
    func update(_ done: Int, of total: Int) {
        lock.lock()
        defer { lock.unlock() }
        self.total = max(total, 1)
        draw(done)
    }

    /// Reports that `done` of `total` are finished.
    func update(_ done: Int) {
        lock.lock()
        defer { lock.unlock() }
        draw(done)
    }

    private let lock = NSLock()

    private func draw(_ done: Int) {
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > 1, now.timeIntervalSince(lastDraw) > 0.1 || done >= total else { return }
        lastDraw = now
        drawn = true
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let text = String(format: "\r%@ %@ %3.0f%% %d/%d %@ %.1f/s ETA %@ ", label, bar, fraction * 100, done, total, unit, rate, Format.seconds(eta))
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Clears the bar's line.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
