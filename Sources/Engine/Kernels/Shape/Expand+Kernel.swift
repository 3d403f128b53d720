#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Expand: the input broadcast to a shape (NumPy rules, so a 1 in the target keeps the input's dimension).
struct ExpandKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "input")
        let target = try ShapeKernels.integers(try requiredInput(inputs, 1, "shape"), "shape")
        let rank = max(data.shape.count, target.count)
        let padded = Array(repeating: 1, count: rank - data.shape.count) + data.shape
        let wanted = Array(repeating: 1, count: rank - target.count) + target
        var dims: [Int] = []
        for (a, b) in zip(padded, wanted) {
            guard a == b || a == 1 || b == 1, b >= 0 else { throw ModelError(.invalidGraph, "cannot broadcast \(data.shape) to \(target)") }
            dims.append(a == 1 ? b : a)
        }
        if let repeated = try Self.repeating(data, padded: padded, dims: dims) { return [repeated] }
        let strides = Shape.strides(padded)
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { k in
            padded[k] == 1 ? Array(repeating: 0, count: dims[k]) : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }]
    }
}

extension ExpandKernel {
    /// The common case where the output is the whole input over and over
    /// (a scalar filled out, a bias row stacked): the input's dimensions
    /// are the output's last ones, after leading 1s. The copy doubles what
    /// is written so far, instead of gathering through an index per
    /// element. Nil for other cases, strings and sub-byte elements.
    static func repeating(_ data: EngineTensor, padded: [Int], dims: [Int]) throws(ModelError) -> EngineTensor? {
        let firstKept = padded.firstIndex { $0 != 1 } ?? padded.count
        guard data.strings == nil, let bits = data.dtype.bitsPerElement, bits % 8 == 0, data.count > 0,
              padded[firstKept...].elementsEqual(dims[firstKept...]) else { return nil }
        let output = try EngineTensor(dtype: data.dtype, shape: dims)
        let total = output.count * (bits / 8), chunk = data.count * (bits / 8)
        guard total > 0 else { return output }
        let base = output.buffer.base
        base.copyMemory(from: data.buffer.base, byteCount: chunk)
        var written = chunk
        while written < total {
            let step = min(written, total - written)
            (base + written).copyMemory(from: base, byteCount: step)
            written += step
        }
        return output
    }
}

/// Tile: the input repeated along every axis (`repeats`, input 1); opsets 1–5 take a `tiles` count and an `axis`.
struct TileKernel: Kernel {
    let legacy: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "input")
        let rank = data.shape.count
        var repeats = Array(repeating: 1, count: rank)
        if legacy {
            let tiles = try Self.wholeNumber(try requiredInput(inputs, 1, "tiles"), "tiles")
            let axis = try Self.wholeNumber(try requiredInput(inputs, 2, "axis"), "axis")
            repeats[try ShapeKernels.axis(axis, rank: rank)] = tiles
        } else {
            repeats = try ShapeKernels.integers(try requiredInput(inputs, 1, "repeats"), "repeats")
        }
        guard repeats.count == rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw ModelError(.invalidGraph, "repeats \(repeats) must give a non-negative count for each of the \(rank) axes")
        }
        let strides = Shape.strides(data.shape)
        var dims: [Int] = []
        for k in 0..<rank {
            let (size, overflow) = data.shape[k].multipliedReportingOverflow(by: repeats[k])
            guard !overflow else { throw ModelError(.invalidGraph, "tiling \(data.shape) by \(repeats) overflows") }
            dims.append(size)
        }
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { k in
            (0..<dims[k]).map { ($0 % data.shape[k]) * strides[k] }
        }]
    }

    /// The one whole number a scalar holds (opset 1 gives `tiles` and `axis` in the data's floating-point type).
    static func wholeNumber(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Int {
        let values = try ElementNumbers.doubles(tensor)
        guard values.count == 1, let value = Int(exactly: values[0]) else { throw ModelError(.invalidGraph, "\(what) must be one whole number") }
        return value
    }
}

extension Expand: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ExpandKernel() }
}

extension Tile: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TileKernel(legacy: setup.opset < 6) }
}
