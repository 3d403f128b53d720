internal import CKernels
import Dispatch
import ModelCore

/// What this machine does at best with the engine's own kernels, measured
/// rather than looked up: the SGEMM's FLOP/s on a cache-friendly product
/// and the memory bandwidth of a copy far larger than the caches, both on
/// the context's threads. A profile compares each node against these.
public struct MachinePeaks: Sendable, Codable, Equatable {
    /// FLOP/s of a 512 × 512 × 512 float32 product, best of several.
    public let gemmFlopsPerSecond: Double
    /// Bytes per second read and written by a 64 MiB copy, best of several.
    public let memoryBytesPerSecond: Double

    /// FLOPs per byte at which a node's work takes as long as its memory
    /// traffic: above it a node is compute-bound, below it memory-bound.
    public var balance: Double { gemmFlopsPerSecond / memoryBytesPerSecond }

    public init(gemmFlopsPerSecond: Double, memoryBytesPerSecond: Double) {
        self.gemmFlopsPerSecond = gemmFlopsPerSecond
        self.memoryBytesPerSecond = memoryBytesPerSecond
    }

    /// Measures both peaks (about 0.2 s).
    /// - Throws: `ModelError` (`.limit`) when the engine's memory limit
    ///   leaves no room for the 129 MiB the measurement uses.
    public static func measure(_ context: ExecutionContext) throws(ModelError) -> MachinePeaks {
        MachinePeaks(gemmFlopsPerSecond: try gemm(context), memoryBytesPerSecond: try copy(context))
    }

    static func bestSeconds(of repeats: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    static func gemm(_ context: ExecutionContext) throws(ModelError) -> Double {
        let n = 512
        let a = try EngineTensor(dtype: .float, shape: [n, n]), b = try EngineTensor(dtype: .float, shape: [n, n])
        let c = try EngineTensor(dtype: .float, shape: [n, n])
        for tensor in [a, b] {
            let values = tensor.floats
            for i in values.indices { values[i] = Float(i % 7) - 3 }
        }
        let (aBase, bBase, cBase) = (a.floats.baseAddress!, b.floats.baseAddress!, c.floats.baseAddress!)
        let seconds = bestSeconds(of: 8) {
            context.splitProduct(rows: n, columns: n) { rows, columns in
                ck_sgemm(0, 0, rows.count, columns.count, n, 1, aBase + rows.lowerBound * n, n, bBase + columns.lowerBound, n,
                         0, cBase + rows.lowerBound * n + columns.lowerBound, n)
            }
        }
        return 2 * Double(n * n * n) / seconds
    }

    static func copy(_ context: ExecutionContext) throws(ModelError) -> Double {
        let count = 16 << 20
        let source = try EngineTensor(dtype: .float, shape: [count]), target = try EngineTensor(dtype: .float, shape: [count])
        source.floats.update(repeating: 1)
        target.floats.update(repeating: 0)
        let (from, to) = (source.floats.baseAddress!, target.floats.baseAddress!)
        let seconds = bestSeconds(of: 4) {
            context.parallelRanges(count, grain: 1 << 16) { range in
                (to + range.lowerBound).update(from: from + range.lowerBound, count: range.count)
            }
        }
        return 2 * Double(count * MemoryLayout<Float>.size) / seconds
    }
}
