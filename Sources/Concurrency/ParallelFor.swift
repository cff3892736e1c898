import Dispatch

/// Runs `body(0..<count)` on all cores (`DispatchQueue.concurrentPerform`) and rethrows the
/// first error; once an iteration failed, the iterations not yet started are skipped. A
/// single iteration runs on the calling thread.
///
/// `body` need not be `@Sendable`: its iterations may write disjoint parts of shared
/// buffers, which Sendable checking cannot express; the caller vouches for it.
package func parallelFor(_ count: Int, _ body: (Int) throws -> Void) throws {
    if count <= 0 { return }
    if count == 1 {
        try body(0)
        return
    }
    let failure = FirstError()
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            if failure.isSet { return }
            do {
                try work.value(i)
            } catch {
                failure.record(error)
            }
        }
    }
    try failure.rethrow()
}
