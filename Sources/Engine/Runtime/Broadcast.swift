import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore
internal import CKernels

/// Walks a broadcast result in row-major order together with the matching
/// elements of up to four operands. Adjacent axes are merged wherever every
/// operand allows, so the innermost run is as long as the layouts permit.
struct BroadcastWalk {
    /// The merged axes of the result (at least one).
    let dims: [Int]
    /// Per merged axis, each operand's element stride (0 where it is broadcast).
    let strides: [SIMD4<Int>]

    /// Operand shapes must broadcast to `shape` (checked by the caller).
    init(shape: [Int], operands: [[Int]]) {
        var dims: [Int] = [], strides: [SIMD4<Int>] = []
        var running = SIMD4<Int>(repeating: 1)
        for axis in shape.indices.reversed() {
            var step = SIMD4<Int>(repeating: 0)
            for (k, operand) in operands.prefix(4).enumerated() {
                let j = axis - (shape.count - operand.count)
                guard j >= 0 else { continue }
                if operand[j] != 1 { step[k] = running[k] }
                running[k] &*= operand[j]
            }
            if shape[axis] == 1 { continue }
            // Merge with the axis inside this one when every operand continues contiguously.
            // (Wrapping: only a shape without elements can overflow, and it is never walked.)
            if let inner = dims.last, let innerStep = strides.last, step == innerStep &* inner {
                dims[dims.count - 1] = inner &* shape[axis]
            } else {
                dims.append(shape[axis])
                strides.append(step)
            }
        }
        self.dims = dims.isEmpty ? [1] : dims.reversed()
        self.strides = strides.isEmpty ? [SIMD4<Int>(repeating: 0)] : strides.reversed()
    }

    /// Each operand's stride along the innermost run.
    var innerStrides: SIMD4<Int> { strides[strides.count - 1] }

    /// Calls `body(start, offsets, length)` for the runs of the innermost axis
    /// covering `range` of the result: `length` result elements from `start`,
    /// whose operands begin at `offsets`.
    func forEachRun(_ range: Range<Int>, _ body: (Int, SIMD4<Int>, Int) -> Void) {
        var cursor = Cursor(self, range)
        while let run = cursor.next() { body(run.start, run.offsets, run.length) }
    }

    /// The runs of a range of the result, one after another. Hot loops iterate
    /// a cursor rather than pass a closure to `forEachRun`, so that the element
    /// function they call is inlined instead of called through a nested closure.
    struct Cursor {
        let walk: BroadcastWalk
        let end: Int
        var position: Int
        var coordinates: [Int]
        var offsets = SIMD4<Int>(repeating: 0)

        init(_ walk: BroadcastWalk, _ range: Range<Int>) {
            self.walk = walk
            end = range.upperBound
            position = range.lowerBound
            coordinates = [Int](repeating: 0, count: walk.dims.count)
            guard !range.isEmpty else { return }
            var remaining = range.lowerBound
            for axis in walk.dims.indices.reversed() {
                coordinates[axis] = remaining % walk.dims[axis]
                remaining /= walk.dims[axis]
                offsets &+= walk.strides[axis] &* coordinates[axis]
            }
        }

        /// The next run, or nil at the end of the range.
        mutating func next() -> (start: Int, offsets: SIMD4<Int>, length: Int)? {
            guard position < end else { return nil }
            let (dims, strides) = (walk.dims, walk.strides)
            let last = dims.count - 1
            let run = (start: position, offsets: offsets, length: min(dims[last] - coordinates[last], end - position))
            position += run.length
            offsets &-= strides[last] &* coordinates[last]
            coordinates[last] = 0
            var axis = last - 1
            while axis >= 0 {
                coordinates[axis] += 1
                offsets &+= strides[axis]
                if coordinates[axis] < dims[axis] { break }
                offsets &-= strides[axis] &* dims[axis]
                coordinates[axis] = 0
                axis -= 1
            }
            return run
        }
    }
}

/// Elements per parallel chunk of a cheap elementwise loop.
let elementwiseGrain = 1 << 15

/// out[i] = f(x[i]) over a contiguous tensor, on the context's threads.
@inline(__always)
func mapUnary<A, R>(_ x: EngineTensor, _ output: EngineTensor, _ context: ExecutionContext, _ f: (A) -> R) {
    let from = x.buffer.base.assumingMemoryBound(to: A.self)
    let to = output.buffer.base.assumingMemoryBound(to: R.self)
    context.parallelRanges(output.count, grain: elementwiseGrain) { range in
        for i in range { to[i] = f(from[i]) }
    }
}

/// out = f(a, b) with NumPy broadcasting; `output` has the broadcast shape.
@inline(__always)
func mapBinary<A, B, R>(_ a: EngineTensor, _ b: EngineTensor, _ output: EngineTensor, _ context: ExecutionContext,
                        _ f: (A, B) -> R) {
    let x = a.buffer.base.assumingMemoryBound(to: A.self)
    let y = b.buffer.base.assumingMemoryBound(to: B.self)
    let z = output.buffer.base.assumingMemoryBound(to: R.self)
    let walk = BroadcastWalk(shape: output.shape, operands: [a.shape, b.shape])
    let step = walk.innerStrides
    context.parallelRanges(output.count, grain: elementwiseGrain) { range in
        var cursor = BroadcastWalk.Cursor(walk, range)
        while let run = cursor.next() {
            let (xs, ys, zs, length) = (x + run.offsets[0], y + run.offsets[1], z + run.start, run.length)
            switch (step[0], step[1]) {
            case (1, 1): for j in 0..<length { zs[j] = f(xs[j], ys[j]) }
            case (1, 0): let v = ys[0]; for j in 0..<length { zs[j] = f(xs[j], v) }
            case (0, 1): let u = xs[0]; for j in 0..<length { zs[j] = f(u, ys[j]) }
            default: for j in 0..<length { zs[j] = f(xs[j * step[0]], ys[j * step[1]]) }
            }
        }
    }
}

/// A new tensor of `dtype` holding f(a, b) broadcast.
@inline(__always)
func broadcastBinary<A, B, R>(_ a: EngineTensor, _ b: EngineTensor, _ dtype: DType, _ context: ExecutionContext,
                              _ f: (A, B) -> R) throws(ModelError) -> EngineTensor {
    let output = try EngineTensor(dtype: dtype, shape: try broadcastShape(a.shape, b.shape))
    mapBinary(a, b, output, context, f)
    return output
}

/// NumPy broadcasting of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int]) throws(ModelError) -> [Int] {
    let rank = max(a.count, b.count)
    let x = Array(repeating: 1, count: rank - a.count) + a, y = Array(repeating: 1, count: rank - b.count) + b
    var result: [Int] = []
    for (p, q) in zip(x, y) {
        guard p == q || p == 1 || q == 1 else { throw ModelError(.invalidGraph, "cannot broadcast shapes \(a) and \(b)") }
        result.append(p == 1 ? q : p)
    }
    return result
}

/// Fills `target` (float32) with `source` broadcast to its shape, run by
/// run: a row copied, or one value repeated (a Gemm's bias C).
func broadcastInto(_ target: EngineTensor, from source: EngineTensor) throws(ModelError) {
    guard try broadcastShape(source.shape, target.shape) == target.shape else {
        throw ModelError(.invalidGraph, "shape \(source.shape) does not broadcast to \(target.shape)")
    }
    let (from, to) = (source.floats.baseAddress!, target.floats.baseAddress!)
    let walk = BroadcastWalk(shape: target.shape, operands: [source.shape])
    let step = walk.innerStrides[0]
    walk.forEachRun(0..<target.count) { start, offsets, length in
        let (xs, zs) = (from + offsets[0], to + start)
        if step == 1 {
            zs.update(from: xs, count: length)
        } else if step == 0 {
            zs.update(repeating: xs[0], count: length)
        } else {
            for j in 0..<length { zs[j] = xs[j * step] }
        }
    }
}
