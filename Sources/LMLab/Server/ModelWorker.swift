import Foundation
import LMEngine
import Synchronization

/// One served model and the one thread that runs it. The engine is single-threaded
/// per model (one KV cache), so requests for a model run one at a time, in order;
/// at most `capacity` are held (the one running plus those waiting) and the next is
/// refused (503 with Retry-After) rather than queued without bound.
final class ModelWorker: @unchecked Sendable {
    let name: String
    let loaded: LoadedModel
    let capacity: Int
    /// The lab's Ctrl-C: stops whatever is generating when the server stops.
    let interrupt: Interrupt
    private let queue: DispatchQueue
    /// Requests held: running + waiting.
    private let held = Mutex(0)

    init(loaded: LoadedModel, capacity: Int, interrupt: Interrupt) {
        self.name = loaded.name
        self.loaded = loaded
        self.capacity = capacity
        self.interrupt = interrupt
        queue = DispatchQueue(label: "lmlab.serve.\(loaded.name)")
    }

    var depth: Int { held.withLock { $0 } }

    /// Queues a generation. Returns its events as they come and the queue depth it
    /// joined at (1 = it runs at once), or throws 503 when the queue is full.
    /// Dropping the stream (the client left) stops the generation at the next token.
    func generate(_ job: GenerationJob, clientGone: @escaping @Sendable () -> Bool)
        throws -> (events: AsyncThrowingStream<GenerationEvent, Error>, depth: Int, cancel: CancelFlag) {
        let depth: Int? = held.withLock { count in
            guard count < capacity else { return nil }
            count += 1
            return count
        }
        guard let depth else { throw APIError.busy(model: name, depth: capacity) }
        let flag = CancelFlag()
        let stream = AsyncThrowingStream<GenerationEvent, Error>(bufferingPolicy: .unbounded) { continuation in
            continuation.onTermination = { termination in
                if case .cancelled = termination { flag.set() }
            }
            queue.async { [self] in
                defer { held.withLock { $0 -= 1 } }
                if flag.isSet { continuation.finish(); return }   // left while waiting
                do {
                    try ServedGeneration.run(job, model: loaded.model,
                                             shouldStop: { flag.isSet || clientGone() || self.interrupt.isSet }) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
        return (stream, depth, flag)
    }

    /// Cancels a generation whose client is gone.
    final class CancelFlag: @unchecked Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }
}
