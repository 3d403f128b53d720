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
