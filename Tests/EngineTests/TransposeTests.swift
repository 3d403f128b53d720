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
}
