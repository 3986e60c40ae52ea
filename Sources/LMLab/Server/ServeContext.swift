import Hummingbird
import NIOCore

/// The request context the server's routes get: Hummingbird's core context plus
/// the connection, so a long non-streamed generation can notice its client has gone.
struct ServeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// True once the client's connection is closed.
    var clientGone: @Sendable () -> Bool {
        let channel = channel
        return { !channel.isActive }
    }
}
