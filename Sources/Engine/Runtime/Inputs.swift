import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore
internal import CKernels

// MARK: - Inputs, outputs and broadcasting

/// Input `index`, which must be present.
func requiredInput(_ inputs: [EngineTensor?], _ index: Int, _ what: String) throws(ModelError) -> EngineTensor {
    guard index < inputs.count, let tensor = inputs[index] else { throw ModelError(.invalidGraph, "\(what) is missing") }
    return tensor
}

/// Input `index`, or nil when it is omitted.
func optionalInput(_ inputs: [EngineTensor?], _ index: Int) -> EngineTensor? {
    index < inputs.count ? inputs[index] : nil
}

/// Checks that every tensor has the element type of the first.
func requireSameType(_ tensors: [EngineTensor], _ op: String) throws(ModelError) {
    guard let first = tensors.first else { return }
    for t in tensors.dropFirst() where t.dtype != first.dtype {
        throw ModelError(.invalidGraph, "\(op) inputs must share one element type, got \(first.dtype) and \(t.dtype)")
    }
}

/// The number of elements of `dims`, part of an existing tensor's shape.
/// Only a shape with a zero elsewhere can make the product overflow; it has
/// no elements, so 0 is the safe answer then.
func elementCount(_ dims: some Collection<Int>) -> Int {
    Shape.product(Array(dims)) ?? 0
}

/// A bool tensor of `shape` with every element true.
func allTrue(shape: [Int]) throws(ModelError) -> EngineTensor {
    let mask = try EngineTensor(dtype: .bool, shape: shape)
    mask.buffer.base.initializeMemory(as: UInt8.self, repeating: 1, count: mask.count)
    return mask
}

/// The single value of a numeric tensor, as a Double.
func scalarDouble(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Double {
    guard tensor.count == 1 else { throw ModelError(.invalidGraph, "\(what) must hold one value, got shape \(tensor.shape)") }
    return try ElementTypes.visit(tensor.dtype, FirstElement(tensor: tensor), "\(what)")
}

/// Reads element 0 of a tensor as a Double.
struct FirstElement: NumberVisitor {
    let tensor: EngineTensor

    func visit<T: Number>(_ type: T.Type) throws(ModelError) -> Double { tensor.elements(T.self)[0].doubleValue }
}

// Kernels beyond the common inference path: linear (de)quantisation, the
// classification losses of training graphs, ConvTranspose and Einsum.

// MARK: - Shared helpers

/// The elements of any numeric tensor as float64.
func realValues(_ tensor: EngineTensor) throws(ModelError) -> [Double] {
    let read = try castReader(tensor)
    var values = [Double](repeating: 0, count: tensor.count)
    for i in 0..<tensor.count { values[i] = realValue(read(i)) }
    return values
}

/// The elements of an integer tensor as Int (indices, class labels).
func integerValues(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> [Int] {
    guard tensor.dtype.kind == .signedInteger || tensor.dtype.kind == .unsignedInteger else {
        throw ModelError(.invalidGraph, "\(what) must be an integer tensor, got \(tensor.dtype)")
    }
    let read = try castReader(tensor)
    var values = [Int](repeating: 0, count: tensor.count)
    for i in 0..<tensor.count {
        switch read(i) {
        case .signed(let v): values[i] = Int(v)
        case .unsigned(let v): values[i] = v > UInt64(Int.max) ? Int.max : Int(v)
        case .real(let v): values[i] = v.isFinite ? Int(v) : 0
        }
    }
    return values
}

/// A new tensor of `dtype` holding `values`, converted as Cast converts float64.
func tensorFromReals(_ values: [Double], dtype: DType, shape: [Int], saturate: Bool = true) throws(ModelError) -> EngineTensor {
    let output = try EngineTensor(dtype: dtype, shape: shape)
    guard output.count == values.count else { throw ModelError(.internal, "internal: \(values.count) values for shape \(shape)") }
    if dtype == .float {
        let p = output.floats
        for i in 0..<values.count { p[i] = Float(values[i]) }
        return output
    }
    if dtype == .double {
        let p = output.elements(Double.self)
        for i in 0..<values.count { p[i] = values[i] }
        return output
    }
    try castWriter(output, saturate: saturate, roundMode: .up)({ .real(values[$0]) }, values.count)
    return output
}

// Kernels of the convolutional-network path: Conv, Gemm, MatMul, pooling,
// BatchNormalization and the fused-friendly activations, all float32.

/// Checks that an input is present and float32.
func floatInput(_ inputs: [EngineTensor?], _ index: Int, _ what: String) throws(ModelError) -> EngineTensor {
    guard index < inputs.count, let tensor = inputs[index] else { throw ModelError(.invalidGraph, "\(what) is missing") }
    guard tensor.dtype == .float else { throw ModelError(.unsupported(op: nil, dtype: tensor.dtype), "\(what) is \(tensor.dtype); this kernel runs float32") }
    return tensor
}

/// Index, axis and shape helpers of the kernels that move, select or
/// generate elements (views, copies along index tables, scatters,
/// generators, Resize). Copies run on every element type of whole bytes and
/// on string tensors; the kernels that compute go through `ElementNumbers`.
enum ShapeKernels {}

// MARK: - Inputs, axes and shapes

extension ShapeKernels {
    /// The elements of an integer tensor (shapes, axes and indices are int64 or int32).
    static func integers(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> [Int] {
        guard tensor.dtype.kind == .signedInteger || tensor.dtype.kind == .unsignedInteger else {
            throw ModelError(.invalidGraph, "\(what) must hold integers, it is \(tensor.dtype)")
        }
        return try ElementNumbers.integers(tensor)
    }

    /// The single integer of a scalar or one-element tensor.
    static func scalarInteger(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Int {
        let values = try integers(tensor, what)
        guard values.count == 1 else { throw ModelError(.invalidGraph, "\(what) must hold one element, it holds \(values.count)") }
        return values[0]
    }

    /// `axis` counted from the front (negative axes count from the end).
    static func axis(_ axis: Int, rank: Int) throws(ModelError) -> Int {
        let normalised = axis < 0 ? axis + rank : axis
        guard normalised >= 0 && normalised < rank else { throw ModelError(.invalidGraph, "axis \(axis) is out of range for rank \(rank)") }
        return normalised
    }

    /// Normalised axes, each at most once.
    static func axes(_ axes: [Int], rank: Int) throws(ModelError) -> [Int] {
        var result: [Int] = []
        for a in axes {
            let normalised = try axis(a, rank: rank)
            guard !result.contains(normalised) else { throw ModelError(.invalidGraph, "axis \(a) is repeated") }
            result.append(normalised)
        }
        return result
    }

    /// The element count of `dims`, or an error when it overflows or a dimension is negative.
    static func count(_ dims: [Int]) throws(ModelError) -> Int {
        guard let count = Shape.product(dims) else { throw ModelError(.invalidGraph, "the shape \(dims) is invalid or too large") }
        return count
    }

    /// `index` within `0..<size`, with negative indices counting from the end; throws when outside `-size..<size`.
    static func index(_ index: Int, size: Int) throws(ModelError) -> Int {
        guard index >= -size && index < size else { throw ModelError(.invalidGraph, "index \(index) is out of range for an axis of size \(size)") }
        return index < 0 ? index + size : index
    }

    /// A view of `tensor` under `dims`, which must hold as many elements.
    static func view(_ tensor: EngineTensor, _ dims: [Int]) throws(ModelError) -> EngineTensor {
        guard Shape.product(dims) == tensor.count else {
            throw ModelError(.invalidGraph, "cannot view \(tensor.count) elements as shape \(dims)")
        }
        return tensor.reshaped(dims)
    }

    /// An int64 tensor holding `values`.
    static func int64Tensor(_ values: [Int], shape: [Int]) throws(ModelError) -> EngineTensor {
        let tensor = try EngineTensor(dtype: .int64, shape: shape)
        let target = tensor.elements(Int64.self)
        for (i, v) in values.enumerated() { target[i] = Int64(v) }
        return tensor
    }

    /// The string elements of a string tensor.
    static func strings(of tensor: EngineTensor) -> [[UInt8]] {
        tensor.strings ?? Array(repeating: [], count: tensor.count)
    }

    /// Bytes per element of a whole-byte element type.
    static func width(of dtype: DType) throws(ModelError) -> Int {
        guard let bits = dtype.bitsPerElement, bits % 8 == 0 else {
            throw ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs this operator on strings and whole-byte element types, not \(dtype)")
        }
        return bits / 8
    }

    /// Checks that every part has the element type of the first.
    static func sameType(_ tensors: [EngineTensor], _ what: String) throws(ModelError) {
        guard let first = tensors.first else { return }
        for t in tensors where t.dtype != first.dtype {
            throw ModelError(.invalidGraph, "\(what) mixes \(first.dtype) and \(t.dtype)")
        }
    }

    /// The multi-index of flat position `flat` in `dims`.
    static func multiIndex(_ flat: Int, _ dims: [Int]) -> [Int] {
        var index = Array(repeating: 0, count: dims.count)
        var rest = flat
        for axis in stride(from: dims.count - 1, through: 0, by: -1) where dims[axis] > 0 {
            index[axis] = rest % dims[axis]
            rest /= dims[axis]
        }
        return index
    }

    /// The table of an axis taken whole: `0, stride, 2·stride, …`.
    static func wholeAxis(_ size: Int, stride: Int) -> [Int] {
        (0..<size).map { $0 * stride }
    }
}
