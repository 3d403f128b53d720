internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// An input shape split at one axis: `outer` blocks of `length` × `inner` elements.
struct AxisSplit {
    let outer: Int, length: Int, inner: Int

    init(_ shape: [Int], axis: Int) {
        outer = elementCount(shape.prefix(axis))
        length = shape[axis]
        inner = elementCount(shape.dropFirst(axis + 1))
    }

    /// The flat index of element `j` along the axis in line `line` (of `outer × inner` lines).
    @inline(__always)
    func index(line: Int, _ j: Int) -> Int { (line / inner) * length * inner + line % inner + j * inner }
}

/// Which input elements meet in which output element when `axes` are
/// reduced: the input shape, and the kept shape with reduced axes as 1.
struct ReductionLayout {
    let input: [Int]
    let kept: [Int]
    let inputCount: Int
    let outputCount: Int
    /// Input elements per output element.
    let reducedCount: Int
    /// Whether only trailing axes are reduced, so each output element owns a contiguous run of inputs.
    let contiguous: Bool

    init(shape: [Int], axes: Set<Int>) {
        input = shape
        kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        inputCount = elementCount(shape)
        outputCount = elementCount(kept)
        reducedCount = elementCount(shape.enumerated().filter { axes.contains($0.offset) }.map(\.element))
        let lastKept = shape.indices.last { !axes.contains($0) && shape[$0] != 1 } ?? -1
        let firstReduced = shape.indices.first { axes.contains($0) && shape[$0] != 1 } ?? shape.count
        contiguous = lastKept < firstReduced
    }

    /// Calls `combine(output, input)` for every input element; in parallel
    /// over output elements when they own contiguous runs, else in order.
    @inline(__always)
    func forEachPair(_ context: ExecutionContext, _ combine: (Int, Int) -> Void) {
        if contiguous {
            let n = reducedCount
            context.parallelRanges(outputCount, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { range in
                for o in range {
                    for j in 0..<n { combine(o, o * n + j) }
                }
            }
        } else {
            let walk = BroadcastWalk(shape: input, operands: [input, kept])
            let step = walk.innerStrides[1]
            walk.forEachRun(0..<inputCount) { start, offsets, length in
                for j in 0..<length { combine(offsets[1] + j * step, start + j) }
            }
        }
    }
}

/// Zero-initialised float64 scratch of `count` values, freed by the caller.
func doubleScratch(_ count: Int, _ value: Double = 0) -> UnsafeMutableBufferPointer<Double> {
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(count, 1))
    buffer.initialize(repeating: value)
    return buffer
}

/// target[r] = the mean of the `length` floats from source + r · length, for
/// r < rows, in vectors and on the context's threads: GlobalAveragePool, and
/// ReduceMean over trailing axes.
func rowMeans(_ source: UnsafePointer<Float>, rows: Int, length: Int, into target: UnsafeMutablePointer<Float>,
              _ context: ExecutionContext) {
    context.parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(length, 1))) { range in
        ck_row_means(source + range.lowerBound * length, range.count, length, target + range.lowerBound)
    }
}
