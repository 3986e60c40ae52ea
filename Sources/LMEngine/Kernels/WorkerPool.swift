import Foundation
import Synchronization

/// A fixed set of threads that wait for jobs, so a kernel call costs a wake-up,
/// not a thread start.
///
/// `run(body)` calls body(k) for every worker index k in 0..<size, with k = 0 on the
/// calling thread, and returns when all are done. A decode step calls this a few
/// hundred times, each job lasting tens of microseconds, so waiting matters:
/// workers first spin briefly on an atomic job counter (a wake-up through the
/// condition variable alone costs about as much as a small matvec), then park on
/// the condition variable so an idle model does not burn CPU.
/// Not reentrant: body must not call `run` on the same pool.
final class WorkerPool {
    let size: Int
    /// Spin iterations before parking (roughly 20–50 µs).
    private let spinLimit = 20_000

    private let condition = NSCondition()
    private let generation = Atomic<Int>(0)   // bumped once per job; workers wait for a change
    private let pending = Atomic<Int>(0)      // workers still running the current job
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Int>(0)
    // Written by run() before `generation` is bumped (release), read by workers after
    // they see the bump (acquire).
    private nonisolated(unsafe) var job: ((Int) -> Void)?

    init(size: Int) {
        self.size = max(1, size)
        for k in 1..<self.size {
            let thread = Thread { [self] in self.workerLoop(index: k) }
            thread.name = "lmengine-worker-\(k)"
            thread.start()
        }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) && spins < spinLimit {
                spins += 1
            }
            if generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                condition.lock()
                while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) { condition.wait() }
                condition.unlock()
            }
            if stopping.load(ordering: .acquiring) {
                exited.add(1, ordering: .releasing)
                condition.lock(); condition.broadcast(); condition.unlock()
                return
            }
            seen = generation.load(ordering: .acquiring)
            do {
                // Our reference to the closure must be gone before we report done:
                // run() checks that the non-escaping body was not kept.
                let body = job!
                body(index)
            }
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                condition.lock(); condition.broadcast(); condition.unlock()
            }
        }
    }

    func run(_ body: (Int) -> Void) {
        if size == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            job = body
            pending.store(size - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            // Wake parked workers; cheap when nobody waits.
            condition.lock(); condition.broadcast(); condition.unlock()

            body(0)

            var spins = 0
            while pending.load(ordering: .acquiring) > 0 && spins < spinLimit { spins += 1 }
            if pending.load(ordering: .acquiring) > 0 {
                condition.lock()
                while pending.load(ordering: .acquiring) > 0 { condition.wait() }
                condition.unlock()
            }
            job = nil   // the closure must not outlive this call
        }
    }

    /// Ends the worker threads and waits for them to leave their loop.
    func stop() {
        stopping.store(true, ordering: .releasing)
        condition.lock(); condition.broadcast(); condition.unlock()
        while exited.load(ordering: .acquiring) < size - 1 {
            condition.lock(); condition.broadcast(); condition.unlock()
            usleep(50)
        }
    }
}
