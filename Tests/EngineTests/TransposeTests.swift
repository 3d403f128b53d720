@testable import Engine
import ModelInfo
import Testing

/// Transpose's blocked path (a permutation that swaps two groups of
/// trailing axes, for 4-byte elements) against the element-by-element table
/// copy that every other permutation takes.
@Suite struct TransposeTests {
    @Test(arguments: [
        ([2, 3, 4, 5], [0, 2, 3, 1]), ([2, 3, 4, 5], [0, 3, 1, 2]), ([2, 3, 4, 5], [0, 1, 3, 2]), ([7, 33], [1, 0]),
        ([1, 96, 17, 19], [0, 2, 3, 1]), ([3, 40, 50], [2, 0, 1]), ([2, 3, 4, 5], [0, 2, 1, 3]), ([5], [0]),
    ])
    func blockedTransposeMatchesTheTableCopy(dims: [Int], perm: [Int]) throws {
        for dtype in [DType.float, .int32, .int64] {
            let x = try EngineTensor(dtype: dtype, shape: dims)
            let bytes = x.buffer.base.assumingMemoryBound(to: UInt8.self)
            for i in 0..<x.buffer.byteCount { bytes[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
            for threads in [1, 2] {
                let context = ExecutionContext(threads: threads)
                let fast = try ShapeKernels.permuted(x, dims: dims, perm: perm, context: context)
                let strides = Shape.strides(dims)
                let slow = try ShapeKernels.tableCopy(x, dims: perm.map { dims[$0] }, context: context) { k in
                    ShapeKernels.wholeAxis(dims[perm[k]], stride: strides[perm[k]])
                }
                #expect(fast.shape == slow.shape)
                #expect(Array(UnsafeRawBufferPointer(start: fast.buffer.base, count: fast.buffer.byteCount))
                        == Array(UnsafeRawBufferPointer(start: slow.buffer.base, count: slow.buffer.byteCount)), "\(dtype) \(dims) \(perm)")
            }
        }
        // Which permutations take the blocked path.
        #expect(ShapeKernels.swappedBlocks([2, 3, 4, 5], [0, 2, 3, 1])! == (2, 3, 20))
        #expect(ShapeKernels.swappedBlocks([2, 3, 4, 5], [0, 2, 1, 3]) == nil)
    }

    /// Table copies whose trailing tables continue a contiguous run are copied
    /// as longer runs; against every element placed one at a time. The cases:
    /// a channel shuffle's transpose, a slice of whole trailing axes, and a
    /// padded outer axis (a fill entry in an outer table).
    @Test(arguments: [
        ([2, 6, 4, 5], [[0, 120], [0, 20, 40], [0, 5, 10, 15], [0, 1, 2, 3, 4]]),
        ([2, 6, 4, 5], [[0, 120], [60, 80, 100], [0, 5, 10, 15], [0, 1, 2, 3, 4]]),
        ([2, 6, 4, 5], [[-1, 0, 120, -1], [0, 20], [0, 5, 10, 15], [0, 1, 2, 3, 4]]),
        ([3, 4], [[0, 4, 8], [1, 2, 3, 0]]),
    ] as [([Int], [[Int]])])
    func runsJoinAcrossTrailingTables(dims: [Int], tables: [[Int]]) throws {
        let x = try EngineTensor(dtype: .float, shape: dims)
        for i in 0..<x.count { x.floats[i] = Float(i) }
        for threads in [1, 2] {
            let y = try ShapeKernels.tableCopy(x, dims: tables.map(\.count), context: ExecutionContext(threads: threads)) { k in tables[k] }
            var index = [Int](repeating: 0, count: tables.count)
            for i in 0..<y.count {
                let entries = tables.indices.map { tables[$0][index[$0]] }
                let expected: Float = entries.contains { $0 < 0 } ? 0 : x.floats[entries.reduce(0, +)]
                #expect(y.floats[i] == expected, "element \(i), tables \(tables)")
                Shape.advance(&index, in: tables.map(\.count))
            }
        }
    }
}
