import Hummingbird
import Logging
import NIOCore

/// The request context of every route: Hummingbird's core storage plus what the
/// middleware learned about the request.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The name of the API key the request presented, once ``KeyAuthMiddleware`` accepted it.
    public var keyName: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.keyName = nil
    }
}
