import Foundation
import JSONValue
import Testing

@Suite("resonance demo, interrupted")
struct DemoInterruptTests {
    @Test func ctrlCClosesTheOpenRunAsAborted() throws {
        let dir = TempDir()
        let demo = try startCommand(builtExecutable("resonance"), ["demo", "--out", dir.path, "--label", "x", "--rate", "50"])
        Thread.sleep(forTimeInterval: 1.5)
        kill(demo.process.processIdentifier, SIGINT)
        let result = demo.wait()
        #expect(result.status == 130)
        #expect(result.stderr.contains("closed as aborted"))
        let runs = try JSONValue(parsing: try resonance("runs", dir.file("x.db"), "--json").stdout)
        let run = try #require(runs.arrayValue?.first)
        #expect(run["exit_status"] == "aborted")
        #expect((run["num_events"]?.intValue ?? 0) > 10)
        #expect(try resonance("check", dir.file("x.db")).status == 0)
    }
}
