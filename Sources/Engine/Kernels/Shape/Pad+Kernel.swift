#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Pad: elements added (or, for negative pads, removed) at both ends of
/// axes, filled with a constant or taken from the input by reflection, the
/// edge element or wrapping around.
struct PadKernel: Kernel {
    let mode: String
    let padsAttribute: [Int]?
    /// The fill of opsets 1–10 (the `value` attribute); later opsets take input 2.
    let valueAttribute: Float

    init(_ schema: Pad, _ setup: KernelSetup) throws(ModelError) {
        mode = schema.mode
        padsAttribute = schema.padsAttribute
        valueAttribute = schema.valueAttribute
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data")
        let rank = data.shape.count
        var pads = padsAttribute ?? []
        if padsAttribute == nil { pads = try ShapeKernels.integers(try requiredInput(inputs, 1, "pads"), "pads") }
        let axes = try optionalInput(inputs, 3).map { t throws(ModelError) in
            try ShapeKernels.axes(try ShapeKernels.integers(t, "axes"), rank: rank)
        } ?? Array(0..<rank)
        guard pads.count == 2 * axes.count else { throw ModelError(.invalidGraph, "pads has \(pads.count) elements for \(axes.count) axes") }
        var fill = try FillElement(zeroOf: data.dtype)
        if let value = optionalInput(inputs, 2), value.count > 0 {
            guard value.dtype == data.dtype else { throw ModelError(.invalidGraph, "constant_value is \(value.dtype), the data \(data.dtype)") }
            fill = try FillElement(value, at: 0)
        } else if padsAttribute != nil {
            fill = try ElementNumbers.element(Double(valueAttribute), dtype: data.dtype)
        }
        var before = Array(repeating: 0, count: rank), after = Array(repeating: 0, count: rank)
        for (k, a) in axes.enumerated() {
            before[a] = pads[k]
            after[a] = pads[k + axes.count]
        }
        // Pads come from data: bounded so that the sizes below cannot overflow.
        guard pads.allSatisfy({ $0 >= -Int(Int32.max) && $0 <= Int(Int32.max) }) else { throw ModelError(.invalidGraph, "pads \(pads) are out of range") }
        let strides = Shape.strides(data.shape)
        var regions: [(low: Int, kept: Int, before: Int)] = [], dims: [Int] = []
        for a in 0..<rank {
            // Negative pads crop first; the kept region is then padded by the mode.
            let low = max(0, -before[a]), high = data.shape[a] - max(0, -after[a])
            let kept = high - low, padBefore = max(0, before[a]), padAfter = max(0, after[a])
            guard kept >= 0 else { throw ModelError(.invalidGraph, "pads remove more than axis \(a) holds") }
            let size = kept + padBefore + padAfter
            if kept == 0 && size > 0 && mode != "constant" {
                throw ModelError(.invalidGraph, "\(mode) padding needs a non-empty axis \(a)")
            }
            regions.append((low, kept, padBefore))
            dims.append(size)
        }
        let mode = self.mode
        return [try ShapeKernels.tableCopy(data, dims: dims, fill: fill, context: context) { a in
            let region = regions[a]
            return (0..<dims[a]).map { i in
                guard let source = Self.source(i - region.before, size: region.kept, mode: mode) else { return -1 }
                return (source + region.low) * strides[a]
            }
        }]
    }

    /// The index within an axis of `size` that position `i` (relative to the axis start) takes; `nil` for the constant.
    static func source(_ i: Int, size: Int, mode: String) -> Int? {
        if i >= 0 && i < size { return i }
        switch mode {
        case "edge":
            return min(max(i, 0), size - 1)
        case "reflect":
            guard size > 1 else { return 0 }
            let period = 2 * (size - 1)
            var r = i % period
            if r < 0 { r += period }
            return r < size ? r : period - r
        case "wrap":
            let r = i % size
            return r < 0 ? r + size : r
        default:
            return nil
        }
    }
}

/// CenterCropPad: each listed axis cut or zero-padded to its target size,
/// centred; an odd difference leaves the extra element at the end.
struct CenterCropPadKernel: Kernel {
    let axes: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "CenterCropPad input")
        let sizes = try ShapeKernels.integers(try requiredInput(inputs, 1, "CenterCropPad shape"), "CenterCropPad shape")
        let rank = data.shape.count
        let resized = try axes.map { a throws(ModelError) in try ShapeKernels.axes(a, rank: rank) } ?? Array(0..<rank)
        guard sizes.count == resized.count else {
            throw ModelError(.invalidGraph, "CenterCropPad shape has \(sizes.count) elements for \(resized.count) axes")
        }
        var dims = data.shape
        for (axis, size) in zip(resized, sizes) {
            guard size >= 0 else { throw ModelError(.invalidGraph, "CenterCropPad size \(size) for axis \(axis) is negative") }
            dims[axis] = size
        }
        let strides = Shape.strides(data.shape), input = data.shape
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { a in
            // Output element i reads input element i + shift: a crop shifts forwards, a pad backwards.
            let shift = (input[a] - dims[a]) / 2
            return (0..<dims[a]).map { i in
                let source = i + shift
                return source >= 0 && source < input[a] ? source * strides[a] : -1
            }
        }]
    }
}

extension Pad: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try PadKernel(self, setup) }
}

extension CenterCropPad: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { CenterCropPadKernel(axes: axes) }
}
