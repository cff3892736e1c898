import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The request context of every route: Hummingbird's core storage plus what the
/// middleware learned about the request.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The name of the API key the request presented, once ``KeyAuthMiddleware`` accepted it.
    ///
    /// Kept in a box that every copy of the context shares: middleware passes the context on
    /// by value, and the request log (the outermost middleware) must see what the key check
    /// (an inner one) learnt; a stored property set on the inner copy never reached it.
    public var keyName: String? {
        get { key.name.withLock { $0 } }
        nonmutating set { key.name.withLock { $0 = newValue } }
    }
    private let key = PresentedKey()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// The accepted key's name, shared by a request's context copies.
final class PresentedKey: Sendable {
    let name = Mutex<String?>(nil)
}
