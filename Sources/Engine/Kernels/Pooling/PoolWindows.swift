#if canImport(Glibc)
import Glibc
#endif
import ModelCore

/// MaxPool, AveragePool and LpPool over any number of spatial axes and any
/// numeric element type, with MaxPool's indices: each output visits the taps
/// of its window one by one. The float32 2-D (and 1-D) forms without indices
/// take `PoolKernel`'s vectorised path instead.
struct PoolWindows: NumberVisitor {
    enum Reduction {
        case max
        /// Divides by the taps inside the padded extent when `countingPadding`, else by those inside the input.
        case average(countingPadding: Bool)
        /// (Σ |x|^p)^(1/p); padding adds nothing.
        case lp(Double)
    }

    let x: EngineTensor
    let reduction: Reduction
    let window: Window
    /// Whether MaxPool's second output (flat indices of the maxima) is wanted.
    let withIndices: Bool
    /// `storage_order` 1: the indices count the spatial axes column-major.
    let columnMajor: Bool
    let context: ExecutionContext

    /// The most taps a window may have: each output visits them all.
    static let tapLimit = 1 << 24

    func visit<T: Number>(_ type: T.Type) throws(ModelError) -> [EngineTensor?] {
        let rank = window.kernel.count
        guard x.shape.count == rank + 2 else {
            throw ModelError(.invalidGraph, "a \(rank)-D pooling window needs a rank-\(rank + 2) input, got \(x.shape)")
        }
        guard let taps = Shape.product(window.kernel), taps <= Self.tapLimit else {
            throw ModelError(.limit, "pooling window \(window.kernel) has more than \(Self.tapLimit) taps")
        }
        let inSize = Array(x.shape.dropFirst(2))
        let outSize = window.outputSpatial(inSize.map(Dim.known)).compactMap(\.value)
        guard outSize.count == rank else { throw ModelError(.invalidGraph, "pooling output size unknown") }
        let pads = window.resolvedPads(input: inSize, output: outSize)
        let output = try EngineTensor(dtype: x.dtype, shape: Array(x.shape.prefix(2)) + outSize)
        let indices = withIndices ? try EngineTensor(dtype: .int64, shape: output.shape) : nil
        let plane = inSize.reduce(1, *), pixels = outSize.reduce(1, *), planes = x.shape[0] * x.shape[1]
        let shifts = ConvVolume.Lowering.tapShifts(window)
        // Element strides of the spatial axes in column-major order, for storage_order 1.
        var columnStrides = [Int](repeating: 1, count: rank)
        for a in stride(from: 1, to: rank, by: 1) { columnStrides[a] = columnStrides[a - 1] * inSize[a - 1] }
        let source = x.elements(T.self), target = output.elements(T.self)
        let found = indices?.elements(Int64.self)
        let (reduction, columnMajor, strides) = (self.reduction, self.columnMajor, window.strides)
        context.parallelRanges(planes) { range in
            var origin = [Int](repeating: 0, count: rank)
            for planeIndex in range {
                let from = planeIndex * plane
                for pixel in 0..<pixels {
                    var rest = pixel
                    for a in Swift.stride(from: rank - 1, through: 0, by: -1) {
                        origin[a] = rest % outSize[a] * strides[a] - pads[a]
                        rest /= outSize[a]
                    }
                    var best = T.lowest, bestIndex = -1, sum = 0.0, inside = 0, padded = 0
                    for shift in shifts {
                        var offset = 0, columnOffset = 0, inInput = true, inPadding = true
                        for a in 0..<rank {
                            let i = origin[a] + shift[a]
                            if i >= inSize[a] + pads[a + rank] { inPadding = false }
                            if i < 0 || i >= inSize[a] { inInput = false }
                            offset = offset * inSize[a] + i
                            columnOffset += i * columnStrides[a]
                        }
                        guard inPadding else { continue }
                        padded += 1
                        guard inInput else { continue }
                        inside += 1
                        let v = source[from + offset]
                        switch reduction {
                        case .max:
                            // NaN wins, as in NumPy's maximum.
                            if bestIndex < 0 || v > best || v != v {
                                best = v
                                bestIndex = columnMajor ? columnOffset : offset
                            }
                        case .average: sum += v.doubleValue
                        case .lp(let p): sum += pow(abs(v.doubleValue), p)
                        }
                    }
                    let at = planeIndex * pixels + pixel
                    switch reduction {
                    case .max:
                        target[at] = best
                        found?[at] = Int64(bestIndex < 0 ? -1 : from + bestIndex)
                    case .average(let countingPadding):
                        target[at] = T(double: sum / Double(max(1, countingPadding ? padded : inside)))
                    case .lp(let p):
                        target[at] = T(double: pow(sum, 1 / p))
                    }
                }
            }
        }
        return withIndices ? [output, indices] : [output]
    }
}
