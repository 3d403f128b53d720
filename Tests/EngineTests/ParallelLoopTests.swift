@testable import Engine
import Testing

/// `ExecutionContext.parallel` runs on a persistent pool of workers: every
/// index must run exactly once, whether the pool is free, busy with another
/// caller's loop, or asked again from inside one of its own iterations.
struct ParallelLoopTests {
    /// Runs `parallel(count)` and returns how often each index was called.
    private func calls(_ count: Int, threads: Int, nested: Int = 0) -> [Int] {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: count * max(nested, 1))
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        let context = ExecutionContext(threads: threads)
        context.parallel(count) { i in
            if nested == 0 {
                counts[i] += 1
            } else {
                context.parallel(nested) { j in counts[i * nested + j] += 1 }
            }
        }
        return Array(counts)
    }

    @Test(arguments: [(2, 2), (3, 2), (1000, 2), (1000, 4), (7, 16), (5000, 3)])
    func everyIndexRunsOnce(count: Int, threads: Int) {
        #expect(calls(count, threads: threads) == Array(repeating: 1, count: count))
    }

    /// A loop on two threads, so that the pool has a worker.
    func everyIndexRunsOnceForTheForkTest() -> Bool {
        calls(100, threads: 2) == Array(repeating: 1, count: 100)
    }

    @Test func aLoopInsideAnIterationRunsEveryIndexOnce() {
        #expect(calls(64, threads: 2, nested: 33) == Array(repeating: 1, count: 64 * 33))
    }

    @Test func loopsFromSeveralThreadsAtOnceEachRunEveryIndexOnce() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for caller in 0..<8 {
                group.addTask { (0..<50).allSatisfy { round in
                    let count = 100 + caller * 17 + round
                    return calls(count, threads: 2 + caller % 3) == Array(repeating: 1, count: count)
                } }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

#if canImport(Glibc)
internal import CKernels
import Glibc

/// A child made by fork has none of its parent's workers: its first parallel
/// loop must start its own, not wait for threads that do not exist.
struct ParallelLoopForkTests {
    @Test func aForkedChildRunsParallelLoops() throws {
        // The parent's pool has a worker before the fork.
        #expect(ParallelLoopTests().everyIndexRunsOnceForTheForkTest())
        let pid = fork()
        if pid == 0 {
            // The child: only C calls, then _exit with 0 if every index ran once.
            let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
            counts.initialize(repeating: 0, count: 64)
            ck_parallel(64, 2, { context, index in
                context!.assumingMemoryBound(to: Int32.self)[index] += 1
            }, counts)
            _exit((0..<64).allSatisfy { counts[$0] == 1 } ? 0 : 1)
        }
        try #require(pid > 0)
        var status: Int32 = 0, reaped: pid_t = 0
        // Up to 10 s: a child waiting for its parent's workers would never end.
        for _ in 0..<1000 {
            reaped = waitpid(pid, &status, WNOHANG)
            if reaped != 0 { break }
            usleep(10_000)
        }
        if reaped == 0 {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            Issue.record("the forked child's parallel loop hung")
            return
        }
        #expect(reaped == pid)
        // Exited normally (no signal) with status 0.
        #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 0, "child status \(status)")
    }
}
#endif
