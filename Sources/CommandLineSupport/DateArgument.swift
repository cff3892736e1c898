import ArgumentParser
import ResonanceFormats

/// `--since` / `--until` values: ResonanceFormats' `DateText`, the parser the server's
/// query parameters use too.
extension DateText: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }

    public static var defaultCompletionKind: CompletionKind { .default }
}
