import Foundation

/// A fixed set of threads parked on a condition variable, woken for each job.
///
/// `run(body)` calls body(k) for every worker index k in 0..<size, with k = 0 on the
/// calling thread, and returns when all are done. Starting a thread per call would
/// cost tens of microseconds; a decode step calls this a few hundred times.
/// Not reentrant: body must not call `run` on the same pool.
final class WorkerPool {
    let size: Int
    private let condition = NSCondition()
    private var job: ((Int) -> Void)?
    private var generation = 0      // bumped once per job; workers wait for a change
    private var pending = 0         // workers still running the current job
    private var stopping = false
    private var exited = 0

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
            condition.lock()
            while generation == seen && !stopping { condition.wait() }
            if stopping {
                exited += 1
                condition.broadcast()
                condition.unlock()
                return
            }
            seen = generation
            let body = job!
            condition.unlock()

            body(index)

            condition.lock()
            pending -= 1
            if pending == 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    func run(_ body: (Int) -> Void) {
        if size == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            condition.lock()
            job = body
            pending = size - 1
            generation += 1
            condition.broadcast()
            condition.unlock()

            body(0)

            condition.lock()
            while pending > 0 { condition.wait() }
            job = nil   // the closure must not outlive this call
            condition.unlock()
        }
    }

    /// Ends the worker threads and waits for them to leave the loop.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while exited < size - 1 { condition.wait() }
        condition.unlock()
    }
}
