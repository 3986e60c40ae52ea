import Foundation
import Synchronization

/// Work the pool can run: `run(worker:workers:)` is called once for each worker index
/// k in 0..<workers, concurrently, and does its share (usually a contiguous chunk).
///
/// A task is a class instance that lives as long as its ComputeContext and is refilled
/// for each call, rather than a closure: handing a closure to other threads goes through
/// `withoutActuallyEscaping`, which boxes it on the heap every time, and the token loop
/// must not allocate (checked with heaptrack).
protocol PoolTask: AnyObject {
    func run(worker: Int, workers: Int)
}

/// A fixed set of threads that wait for tasks, so a kernel call costs a wake-up,
/// not a thread start.
///
/// `run(task, workers:)` runs the task on worker indices 0..<workers, index 0 on the
/// calling thread, and returns when all are done. A decode step does this a few hundred
/// times, each lasting tens of microseconds, so waiting matters: workers spin on an
/// atomic job counter for a few milliseconds (`spinNanoseconds`: longer than the serial
/// stretches of a forward pass between two kernels), then park on the condition variable
/// so an idle model does not burn CPU. A wake-up through the condition variable costs
/// 20–60 µs on a virtual machine (the hypervisor has to resume a halted vCPU), more than
/// half a SmolLM2 matvec: with a 40 µs spin a 2-thread decode ran at 62 tok/s, with
/// a 5 ms spin at 105 (BENCHMARKS.md, kernel notes).
/// Not reentrant: a task must not start another task on the same pool.
final class WorkerPool {
    let size: Int
    /// How long a waiting thread spins before it parks.
    private let spinNanoseconds: UInt64 = 5_000_000

    /// The pool that started a task last, process-wide. A worker of any other pool parks
    /// at once instead of spinning: two models used in turn (a speculative draft and its
    /// target, a cascade's tiers) each have a pool, and an idle one's spinners would take
    /// cores from the one at work.
    private static let active = Atomic<Int>(0)
    private static let lastID = Atomic<Int>(0)
    private let id = WorkerPool.lastID.add(1, ordering: .relaxed).newValue

    private let condition = NSCondition()
    private let generation = Atomic<Int>(0)   // bumped once per task; workers wait for a change
    private let pending = Atomic<Int>(0)      // workers still running the current task
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Int>(0)
    // Written by run() before `generation` is bumped (release), read by workers after
    // they see the bump (acquire).
    private nonisolated(unsafe) var task: PoolTask?
    private nonisolated(unsafe) var workers = 1

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
            spin {
                generation.load(ordering: .acquiring) != seen || stopping.load(ordering: .relaxed)
                    || WorkerPool.active.load(ordering: .relaxed) != id
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
            if index < workers { task!.run(worker: index, workers: workers) }
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                condition.lock(); condition.broadcast(); condition.unlock()
            }
        }
    }

    /// Runs `task` on worker indices 0..<workers (at most `size`) and waits for all.
    func run(_ task: PoolTask, workers wanted: Int) {
        let workers = min(max(1, wanted), size)
        if workers == 1 { task.run(worker: 0, workers: 1); return }
        WorkerPool.active.store(id, ordering: .relaxed)
        self.task = task
        self.workers = workers
        pending.store(size - 1, ordering: .relaxed)   // every thread reports, idle ones at once
        generation.add(1, ordering: .releasing)
        // Wake parked workers; cheap when nobody waits.
        condition.lock(); condition.broadcast(); condition.unlock()

        task.run(worker: 0, workers: workers)

        spin { pending.load(ordering: .acquiring) == 0 }
        if pending.load(ordering: .acquiring) > 0 {
            condition.lock()
            while pending.load(ordering: .acquiring) > 0 { condition.wait() }
            condition.unlock()
        }
        self.task = nil
    }

    /// Returns when `done()` holds or `spinNanoseconds` have passed, whichever is first.
    /// The clock is read once every 64 checks (a read costs ~20 ns).
    @inline(__always)
    private func spin(until done: () -> Bool) {
        var deadline: UInt64 = 0
        while !done() {
            for _ in 0..<64 where done() { return }
            let now = DispatchTime.now().uptimeNanoseconds
            if deadline == 0 { deadline = now + spinNanoseconds } else if now >= deadline { return }
        }
    }

    /// Ends the worker threads and waits for them to leave their loop.
    func stop() {
        stopping.store(true, ordering: .releasing)
        while exited.load(ordering: .acquiring) < size - 1 {
            condition.lock(); condition.broadcast(); condition.unlock()
            usleep(50)
        }
    }
}

/// The closure form, for `parallelFor` and other occasional work: allocates a small
/// box per call (see PoolTask), so the kernels use their own task classes instead.
final class ClosureTask: PoolTask {
    var body: ((Range<Int>, Int) -> Void)?
    var count = 0

    func run(worker: Int, workers: Int) {
        let start = count * worker / workers, end = count * (worker + 1) / workers
        if start < end { body!(start..<end, worker) }
    }
}
