// The web viewer (`GET /` of `resonance serve`) in a real browser: Debian's chromium,
// headless, driven over the DevTools protocol (Chromium.swift). The built `resonance`
// serves a temporary ROOT on 127.0.0.1; a `resonance demo` in another process writes a
// run while the page is open. Every wait is bounded; the browser and both processes are
// ended whatever happens.
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite("The web viewer in headless Chromium", .serialized)
struct ViewerTests {
    /// The reference fixture's runs (Tests/Fixtures/reference-beamtime/expected.json).
    static let nexafs = "79c8c2926b9445b5b49882321e35049e"
    static let rsoxs = "24b99aa4e6004110a26a6c288814f4bf"
    /// Where the screenshots go (looked at by people, never compared).
    static let screenshotDir = ProcessInfo.processInfo.environment["RESONANCE_SCREENSHOTS"] ?? NSTemporaryDirectory()

    @Test("GET / lists the fixture's runs, shows metadata, plot and frames, and follows a writer in another process",
          .timeLimit(.minutes(4)))
    func pageFollowsALiveWriter() throws {
        guard let executable = Chromium.executable() else {
            Issue.record("chromium is not installed: apt-get install chromium (scripts/setup.sh does), or set RESONANCE_CHROMIUM")
            return
        }
        let clock = Date()
        func seconds(since start: Date = clock) -> String { String(format: "%.2f s", Date().timeIntervalSince(start)) }

        let root = TempDir()
        let db = try copyReferenceBeamtime(to: root)
        // A second beamtime, so the page lists two. (Not the drifted fixture: it holds the
        // same run uids as the reference one.)
        let nightShift = try resonance("demo", "--out", root.path, "--label", "night-shift", "--points", "20", "--frames", "2", "--size", "32")
        #expect(nightShift.status == 0, "resonance demo: \(nightShift.stderr)")
        let port = try freeLoopbackPort()
        let server = try startCommand(builtExecutable("resonance"), ["serve", root.path, "--host", "127.0.0.1", "--port", String(port)])
        defer { Self.stop(server, "resonance serve") }
        try Self.waitUntil(timeout: 60, "resonance serve to listen on 127.0.0.1:\(port)") {
            loopbackAccepts(port: port) || !server.process.isRunning
        }
        guard server.process.isRunning else {
            Issue.record("resonance serve exited: \(server.wait().stderr)")
            return
        }
        let listening = seconds()

        let profile = TempDir()
        let browser = try Chromium(executable: executable, profile: profile.path)
        defer { browser.close() }
        try browser.open("http://127.0.0.1:\(port)/")

        // The fixture's runs are listed, under their beamtimes.
        let listed = try browser.waitFor("""
            document.querySelectorAll('section[data-label="ref_beamtime"] li[data-uid]').length === 2 &&
            document.querySelectorAll('section[data-label="night-shift"] li[data-uid]').length === 2
            """, timeout: 20, "the fixture's runs in the list")
        let uids = try browser.evaluate("[...document.querySelectorAll('section[data-label=\"ref_beamtime\"] li[data-uid]')].map(li => li.dataset.uid)") as? [String]
        #expect(uids == [Self.rsoxs, Self.nexafs], "newest first")
        try browser.waitFor("document.body.dataset.live === 'open'", timeout: 10, "the live feed to connect")

        // A run's metadata and its plot: Energy against I0, all 50 events; the NaN of
        // sample_current (seq_num 26) is a gap, not an error.
        try click(browser, Self.nexafs)
        try browser.waitFor("document.querySelector('#plot').dataset.run === '\(Self.nexafs)' && document.querySelector('#plot').dataset.points === '50'",
                            timeout: 10, "the nexafs plot with 50 points")
        #expect(try browser.evaluate("document.querySelector('#plot').dataset.x") as? String == "Energy")
        #expect(try browser.evaluate("document.querySelector('#run-facts').textContent.includes('PS')") as? Bool == true)
        _ = try browser.evaluate("(() => { const y = document.querySelector('#yfield'); y.value = 'sample_current'; y.dispatchEvent(new Event('change')); })()")
        try browser.waitFor("document.querySelector('#plot').dataset.points === '49'", timeout: 5, "49 finite points of sample_current")

        // Frames: the slider, keyboard steps, and each frame's energy from its event.
        try click(browser, Self.rsoxs)
        try browser.waitFor("document.querySelector('#frame').dataset.index === '0' && document.querySelector('#finfo b')",
                            timeout: 10, "frame 0 of the rsoxs run with its energy")
        _ = try browser.evaluate("document.activeElement.blur()")
        try browser.press("ArrowRight", code: "ArrowRight", keyCode: 39)
        try browser.waitFor("document.querySelector('#frame').dataset.index === '1'", timeout: 5, "ArrowRight to show frame 1")
        let info = try browser.evaluate("document.querySelector('#finfo').textContent") as? String ?? ""
        #expect(info.contains("frame 2 / 5") && info.contains("Energy"), "frame info: \(info)")
        // Not a blank canvas: the frame has many grey levels.
        let levels = try browser.evaluate("""
            (() => { const c = document.querySelector('#frame'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                     const seen = new Set(); for (let i = 0; i < d.length; i += 4) seen.add(d[i]); return seen.size; })()
            """) as? Int ?? 0
        #expect(levels > 20, "grey levels in the frame: \(levels)")

        // A writer in another process: its run appears by itself, and its plot grows.
        let writerStart = Date()
        let writer = try startCommand(builtExecutable("resonance"),
                                      ["demo", "--db", db, "--points", "300", "--rate", "25", "--frames", "6", "--size", "64"])
        defer { Self.stop(writer, "resonance demo") }
        try browser.waitFor("document.querySelectorAll('section[data-label=\"ref_beamtime\"] li[data-uid]').length >= 3",
                            timeout: 15, "the writer's new run in the list")
        let appeared = seconds(since: writerStart)
        let newUID = try browser.evaluate("document.querySelector('section[data-label=\"ref_beamtime\"] li[data-uid]').dataset.uid") as? String ?? ""
        #expect(![Self.nexafs, Self.rsoxs].contains(newUID))
        try click(browser, newUID)
        try browser.waitFor("document.querySelector('#plot').dataset.run === '\(newUID)' && +document.querySelector('#plot').dataset.points > 0",
                            timeout: 10, "the new run's first points")
        let first = try points(browser)
        let growStart = Date()
        try browser.waitFor("+document.querySelector('#plot').dataset.points > \(first)", timeout: 10, "the plot to grow past \(first) points")
        let grew = seconds(since: growStart)
        let second = try points(browser)
        try browser.waitFor("+document.querySelector('#plot').dataset.points > \(second)", timeout: 10, "the plot to grow past \(second) points")
        let third = try points(browser)
        let live = Self.screenshotDir + "/resonance-viewer-live.png"
        try browser.screenshot(live)
        #expect(first < second && second < third, "points seen: \(first), \(second), \(third)")

        // The writer finishes: the run closes as success with all 300 points, and its
        // frame run (six 64x64 frames) arrives too.
        try Self.waitUntil(timeout: 60, "resonance demo to finish") { !writer.process.isRunning }
        let demo = writer.wait()
        #expect(demo.status == 0, "resonance demo: \(demo.stderr)")
        try browser.waitFor("document.querySelector('li[data-uid=\"\(newUID)\"]')?.dataset.status === 'success' && document.querySelector('#plot').dataset.points === '300' && document.querySelector('#plot').dataset.x === 'energy'",
                            timeout: 15, "the closed run with all 300 points")
        try browser.waitFor("document.querySelectorAll('section[data-label=\"ref_beamtime\"] li[data-uid]').length === 4",
                            timeout: 15, "the writer's second run")
        // Keyboard: k moves up to the newest run (the frames run), which opens.
        _ = try browser.evaluate("document.querySelector('li[data-uid=\"\(newUID)\"] button').focus()")
        try browser.press("k")
        try browser.waitFor("document.querySelector('#fslider').max === '5' && document.querySelector('#frame').dataset.index !== '-1'",
                            timeout: 10, "the frames run, opened with the k key")
        try browser.setColorScheme("light")
        _ = try browser.evaluate("(() => { const m = document.querySelector('#fcmap'); m.value = 'magma'; m.dispatchEvent(new Event('input')); })()")
        let frames = Self.screenshotDir + "/resonance-viewer-frames.png"
        try browser.screenshot(frames)

        // Nothing threw, and everything the page loaded came from the server.
        #expect(try browser.evaluate("window.viewerErrors.join('\\n')") as? String == "")
        #expect(try browser.evaluate("performance.getEntriesByType('resource').every(e => e.name.startsWith(location.origin))") as? Bool == true)

        print("""
            viewer test: server listening after \(listening); fixture runs listed in \(String(format: "%.2f s", listed)) \
            after navigation; new run listed \(appeared) after the writer started; plot grew \(first) -> \(second) points \
            in \(grew) (then \(third)); total \(seconds())
            screenshots: \(live) \(frames)
            """)
    }

    // MARK: helpers

    private func click(_ browser: Chromium, _ uid: String) throws {
        try browser.waitFor("document.querySelector('li[data-uid=\"\(uid)\"] button')", timeout: 10, "run \(uid) in the list")
        _ = try browser.evaluate("document.querySelector('li[data-uid=\"\(uid)\"] button').click()")
    }

    private func points(_ browser: Chromium) throws -> Int {
        Int(try browser.evaluate("document.querySelector('#plot').dataset.points") as? String ?? "") ?? -1
    }

    static func waitUntil(timeout: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw BrowserError(description: "timed out after \(timeout) s waiting for \(what)") }
            usleep(50_000)
        }
    }

    /// SIGTERM, up to 10 s to exit, then SIGKILL.
    static func stop(_ command: RunningCommand, _ name: String) {
        guard command.process.isRunning else { return }
        command.process.terminate()
        if (try? waitUntil(timeout: 10, name) { !command.process.isRunning }) == nil {
            kill(command.process.processIdentifier, SIGKILL)
        }
        _ = command.wait()
    }
}
