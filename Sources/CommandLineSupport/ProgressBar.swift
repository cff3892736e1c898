import Foundation
import Synchronization

/// A progress bar with rate and ETA on stderr, drawn only when stderr is a terminal and
/// the work has taken more than a second (short tasks stay quiet).
/// Safe to update from several threads (a parallel export reports from each).
package final class ProgressBar: Sendable {
    private struct State {
        var total: Int
        var lastDraw = Date.distantPast
        var drawn = false
    }

    private let label: String
    private let unit: String
    private let start = Date()
    private let enabled: Bool
    private let state: Mutex<State>

    package init(total: Int, label: String, unit: String = "items") {
        self.state = Mutex(State(total: max(total, 1)))
        self.label = label
        self.unit = unit
        self.enabled = Output.stderrIsTerminal
    }

    /// Reports that `done` of `total` are finished, `total` changing as it becomes known.
    package func update(_ done: Int, of total: Int) {
        state.withLock { state in
            state.total = max(total, 1)
            draw(done, &state)
        }
    }

    /// Reports that `done` of `total` are finished.
    package func update(_ done: Int) {
        state.withLock { draw(done, &$0) }
    }

    private func draw(_ done: Int, _ state: inout State) {
        guard enabled else { return }
        let total = state.total
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed > 1, now.timeIntervalSince(state.lastDraw) > 0.1 || done >= total else { return }
        state.lastDraw = now
        state.drawn = true
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
    package func finish() {
        guard enabled, state.withLock({ $0.drawn }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
