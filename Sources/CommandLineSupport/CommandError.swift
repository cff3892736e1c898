/// The one error type of the command-line tools: a failure reported as one line on stderr
/// ("Error: ...") with exit status 1. Errors of the library (a file that is not a beamtime,
/// a run that is not there) are reported as they are; this is for what only a command knows.
///
/// ```swift
/// throw CommandError("\(path): cannot create the file (\(reason))")
/// ```
package struct CommandError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
